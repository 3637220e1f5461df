"""What sharing a world through Redis costs a request: orderInfo through LocalexApp.handle with
the in-memory rate limiter (one process) and with a Cluster (the Redis limiter plus the cache
version read before every request), side by side, interleaved in rounds in one run; the same
cluster with the version GET and the limiter's EVALSHA sent through redis-py's pooled client as
they were before each had a connection of its own ("redis_pooled", the before of the change);
the version check alone, each way; and a CoinW request's three rate-limit windows, one script
each (as before) against one script for all three.

The journal: the same orderInfo on a worker of a cluster with each worker's own journal
("cluster_own_journal") and with the journal shared in Redis (the cluster's own, "redis"), in
the same interleaved rounds; and one entry recorded alone, CPU µs per call, by: the one-process
journal (memory), the shared journal (one EVAL sent, its reply read later), the same EVAL
waited for (a round trip), and a row inserted into a store table in a transaction of its own
(SQLite file; PostgreSQL with --pg).

    .venv/bin/python bench/bench_redis.py [--n 2000] [--rounds 5] [--redis redis://127.0.0.1:6379/0]
        [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Prints JSON: per configuration the median wall and CPU µs per request (this process's CPU;
Redis's own work shows in the wall time only) and the Redis round trips per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import bitget_request, new_engine  # noqa: E402

from decimal import Decimal as D  # noqa: E402

from localex.engine.model import OrderType, Side  # noqa: E402
from localex.scale import Cluster  # noqa: E402
from localex.scale.journal import SharedJournal  # noqa: E402
from localex.server.app import LocalexApp  # noqa: E402
from localex.server.journal import Journal  # noqa: E402


def _setup(cluster):
    engine = new_engine()
    app = LocalexApp(engine, rate_limits=True, cluster=cluster)
    user = engine.create_user("bitget", name="bench")
    engine.fund(user.uid, "USDT", D("100000000"))
    key = engine.create_api_key(user.uid)
    order = engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"), D("90000"))
    query = urlencode({"orderId": str(order.order_id)})
    return app, lambda: bitget_request(key, "GET", "/api/v2/spot/trade/orderInfo", query)


def _round(app, make, n: int, cluster) -> dict:
    wall, cpu = [], []
    calls = 0
    if cluster is not None:
        before = _commands(cluster)
    for i in range(n):
        request = make()
        if i % 9 == 0:
            app.limiter.reset()  # stay under the limit (10 a second for orderInfo)
        t0, c0 = time.perf_counter(), time.process_time()
        response = app.handle(request)
        wall.append((time.perf_counter() - t0) * 1e6)
        cpu.append((time.process_time() - c0) * 1e6)
        assert response.status == 200, response.body
    if cluster is not None:
        calls = (_commands(cluster) - before) / n
    return {"wall_us": statistics.median(wall), "cpu_us": statistics.median(cpu), "redis_calls": calls}


def _commands(cluster) -> int:
    """Commands this process has sent to Redis."""
    return cluster.sync.sent


def _count_commands(cluster) -> None:
    """Count every command sent: through the pooled client and on the own connections of the
    limiter and the version check (wire/redisconn.py)."""
    client = cluster.sync
    client.sent = 0
    execute = client.execute_command

    def counted(*args, **kwargs):
        client.sent += 1
        return execute(*args, **kwargs)
    client.execute_command = counted
    for conn in (cluster.limiter._conn, cluster.invalidation._conn):
        call = conn.call

        def counted_call(packed, call=call):
            client.sent += 1
            return call(packed)
        conn.call = counted_call


def _pooled(cluster, on: bool) -> None:
    """on: the version GET and the limiter's EVALSHA go through redis-py's pooled client, as
    they did before each had a connection of its own (the "before" of the side-by-side run)."""
    inv, limiter = cluster.invalidation, cluster.limiter
    if not on:
        inv.__dict__.pop("changed", None)
        limiter.__dict__.pop("_run", None)
        return
    client = cluster.sync

    def changed():
        version = client.get(inv.key)
        if version == inv.seen:
            return False
        inv.seen = version
        return True

    def run(key, limit, window_ms, now_ms, count):
        allowed, left = client.evalsha(limiter._sha, 1, limiter.prefix + key, limit, window_ms, now_ms,
                                       limiter.server_time, count)
        return allowed == 1, left
    inv.changed = changed
    limiter._run = run


def _windows(limiter, args) -> dict:
    """A CoinW request's three windows (the endpoint's, the UID's, the market group's), CPU µs:
    three scripts (one round trip each, as before) against one script for all three."""
    checks = [("bench|endpoint", 10**9, 1000), ("bench|uid", 10**9, 1000), ("bench|market", 10**9, 1000)]
    times = {"one_by_one": [], "one_call": []}
    for _ in range(args.rounds):
        for name in times:
            c0 = time.process_time()
            for i in range(args.n):
                now = 1_700_000_000_000 + i
                if name == "one_call":
                    limiter.hit_all(checks, now)
                else:
                    for key, limit, window in checks:
                        limiter.hit(key, limit, window, now)
            times[name].append((time.process_time() - c0) / args.n * 1e6)
            limiter.reset()
    return {name: round(statistics.median(t), 1) for name, t in times.items()}


def _journal_records(app, make, cluster, args) -> dict:
    """One journal entry recorded alone, CPU µs per call (median of rounds), each way."""
    request = make()
    response = app.handle(request)
    shared = SharedJournal(cluster.sync, cluster.prefix + "-j", "bench")
    waited = SharedJournal(cluster.sync, cluster.prefix + "-w", "bench")
    waited_flush = waited._keep

    def keep_and_wait(entry):
        waited_flush(entry)
        waited.flush()  # the reply waited for: one round trip per entry
    waited._keep = keep_and_wait
    ways = {"memory": Journal(), "redis_reply_later": shared, "redis_round_trip": waited}
    tables = {"sqlite_table": _table_journal("sqlite:///" + str(Path(args.tmp) / "journal.db"))}
    if args.pg:
        tables["postgresql_table"] = _table_journal(args.pg)
    results: dict[str, list[float]] = {name: [] for name in [*ways, *tables]}
    n = max(args.n // 4, 200)
    for _ in range(args.rounds):
        for name, journal in ways.items():
            c0 = time.process_time()
            for _ in range(n):
                journal.record("bitget", "access-key", 0, request, response, 0.1)
            results[name].append((time.process_time() - c0) / n * 1e6)
            journal.clear()
        for name, insert in tables.items():
            c0 = time.process_time()
            for _ in range(n):
                insert(request, response)
            results[name].append((time.process_time() - c0) / n * 1e6)
    shared.clear()
    waited.clear()
    shared.close()
    waited.close()
    return {name: round(statistics.median(r), 1) for name, r in results.items()}


def _table_journal(url: str):
    """A journal row per request in a table of a store's database, each its own transaction
    (what a journal kept in the store would cost at the least): a temporary table."""
    import orjson
    from sqlalchemy import create_engine, text

    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    engine = create_engine(url)
    conn = engine.connect()
    conn.execute(text("CREATE TEMPORARY TABLE journal_bench (seq INTEGER PRIMARY KEY, meta TEXT, "
                      "body BYTEA, answer BYTEA)".replace("BYTEA", "BLOB" if url.startswith("sqlite") else "BYTEA")))
    conn.commit()
    insert = text("INSERT INTO journal_bench (seq, meta, body, answer) VALUES (:seq, :meta, :body, :answer)")
    seq = [0]

    def record(request, response) -> None:
        seq[0] += 1
        meta = orjson.dumps([request.method, request.path, request.raw_query, request.headers]).decode()
        conn.execute(insert, {"seq": seq[0], "meta": meta, "body": request.body, "answer": response.body})
        conn.commit()
    return record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--pg", default=None, help="also time a journal row in a PostgreSQL table")
    args = parser.parse_args()
    import tempfile

    args.tmp = tempfile.mkdtemp(prefix="localex-bench-")
    prefix = f"localex-bench-{uuid.uuid4().hex[:8]}"
    cluster = Cluster(args.redis, prefix=prefix, worker="bench")
    memory_app, memory_make = _setup(None)
    redis_app, redis_make = _setup(cluster)
    _count_commands(cluster)
    rounds = {"memory": [], "redis": [], "redis_pooled": [], "cluster_own_journal": []}
    shared_journal, own_journal = redis_app.journal, Journal()
    for _ in range(args.rounds):
        rounds["memory"].append(_round(memory_app, memory_make, args.n, None))
        redis_app.journal = shared_journal
        rounds["redis"].append(_round(redis_app, redis_make, args.n, cluster))
        _pooled(cluster, True)
        rounds["redis_pooled"].append(_round(redis_app, redis_make, args.n, cluster))
        _pooled(cluster, False)
        redis_app.journal = own_journal
        rounds["cluster_own_journal"].append(_round(redis_app, redis_make, args.n, cluster))
        own_journal.clear()
        shared_journal.clear()
    redis_app.journal = shared_journal
    checks = {"version_check": [], "version_check_pooled": []}
    for _ in range(args.rounds):
        for name in checks:
            _pooled(cluster, name.endswith("pooled"))
            c0 = time.process_time()
            for _ in range(args.n):
                cluster.before_request()
            checks[name].append((time.process_time() - c0) / args.n * 1e6)
    _pooled(cluster, False)
    windows = _windows(cluster.limiter, args)
    out = {name: {k: round(statistics.median(r[k] for r in rs), 1) for k in rs[0]} for name, rs in rounds.items()}
    for name in ("redis", "redis_pooled", "cluster_own_journal"):  # less the bench's own resets
        out[name]["redis_calls"] = round(out[name]["redis_calls"] - 2 / 9, 2)
    for name, times in checks.items():
        out[name + "_cpu_us"] = round(statistics.median(times), 1)
    out["ratio_wall"] = round(out["redis"]["wall_us"] / out["memory"]["wall_us"], 2)
    out["ratio_cpu"] = round(out["redis"]["cpu_us"] / out["memory"]["cpu_us"], 2)
    out["ratio_cpu_own_to_pooled"] = round(out["redis"]["cpu_us"] / out["redis_pooled"]["cpu_us"], 3)
    out["ratio_journal_cpu"] = round(out["redis"]["cpu_us"] / out["cluster_own_journal"]["cpu_us"], 3)
    out["coinw_three_windows_cpu_us"] = windows
    out["journal_record_cpu_us"] = _journal_records(redis_app, redis_make, cluster, args)
    out["rounds"] = rounds
    cluster.limiter.reset()
    for key in cluster.sync.scan_iter(match=prefix + "*"):
        cluster.sync.delete(key)
    import shutil

    shutil.rmtree(args.tmp, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
