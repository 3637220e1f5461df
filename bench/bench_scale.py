"""Scale-out figures side by side in one run: orderInfo and place-order over HTTP with one, two
and three workers on PostgreSQL (and two sharing Redis) against one process on SQLite, how busy
the world lock is and how long a write holds it and waits for it, where a write's time under the
lock goes, and the 50 x 200 copy-trading close on PostgreSQL against SQLite.

    .venv/bin/python bench/bench_scale.py                  # 3 rounds x 3 s per target, 50 x 200
    .venv/bin/python bench/bench_scale.py --quick          # 1 round x 1 s, 10 x 20
    .venv/bin/python bench/bench_scale.py --pg postgresql://postgres@127.0.0.1:5432/postgres

Every server is `localex serve` in its own process (rate limits off, the demo world, --quiet);
each PostgreSQL target gets a database of its own, created for the run and dropped after it.
Targets are measured in rotating order, round after round, with bench/run.py's load generator
(keep-alive loopback connections, freshly signed requests); the server's CPU per request is
the localex processes' plus their PostgreSQL backends' CPU time over the window, from /proc.
During every PostgreSQL place-order window pg_locks is sampled every few milliseconds: the
share of samples in which a transaction holds the world lock and how many wait for it, hence
(Little's law) the mean hold and wait per write. One more window places from a single client
on one worker: there the lock's busy share is the share of a write request's time under the
lock. Throughput ratios against one worker on PostgreSQL are given round by round too (the
targets of a round run one after another, minutes apart at most). In-process, every statement
of a place-order and a cancel is timed (lock_anatomy). See bench/README.md, "Several workers on
PostgreSQL".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import run as httpbench  # noqa: E402  bench/run.py: the load generator and request builders

from localex.client import BitgetClient  # noqa: E402
from localex.store.sql import WORLD_LOCK_KEY  # noqa: E402

ORDER_INFO = "/api/v2/spot/trade/orderInfo"
PLACE = "/api/v2/spot/trade/place-order"
PLACE_BODY = httpbench.PLACE_BODY
CONCURRENCY = 16


def _plain(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def _database(admin: str, name: str) -> str:
    base = admin.split("://", 1)[1].split("/", 1)[0]
    return f"postgresql://{base}/{name}"


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


class Server:
    def __init__(self, key: str, db: str, workers: int, tmp: Path, *extra: str, env=None) -> None:
        self.key, self.db, self.workers = key, db, workers
        self.creds = tmp / f"{key}.json"
        self.log = tmp / f"{key}.out"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "localex", "serve", "--db", db, "--port", "0", "--quiet",
                 "--no-rate-limits", "--workers", str(workers), "--write-credentials", str(self.creds),
                 *extra], stdout=out, stderr=subprocess.STDOUT, cwd=tmp, env=env)
        deadline = time.monotonic() + 90
        self.port = 0
        while time.monotonic() < deadline and self.proc.poll() is None:
            found = re.search(r"on http://127\.0\.0\.1:(\d+)", self.log.read_text())
            if found and self.creds.exists():
                try:
                    httpx.get(f"http://127.0.0.1:{found.group(1)}/localex/health", timeout=2)
                    self.port = int(found.group(1))
                    break
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        if not self.port:
            raise RuntimeError(f"{key} did not start:\n{self.log.read_text()}")
        while len(self.pids()) < workers + (1 if workers > 1 else 0):
            time.sleep(0.05)
        account = json.loads(self.creds.read_text())["bitget"][0]
        self.signer = BitgetClient(self.url, account["apiKey"], account["secretKey"], account["passphrase"])
        placed = self.signer.request("POST", PLACE, json.loads(PLACE_BODY))
        self.order_id = placed["orderId"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        return [self.proc.pid] + _children(self.proc.pid)

    def backend_pids(self, conn) -> list[int]:
        if conn is None or not self.db.startswith("postgres"):
            return []
        name = self.db.rsplit("/", 1)[1]
        return [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,))]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _cpu(pids: list[int]) -> float:
    return sum(httpbench.cpu_seconds(pid) or 0.0 for pid in pids)


class LockSampler:
    """Samples pg_locks every few milliseconds: the share of samples in which some transaction
    holds the world lock of a database, and how many wait for it. By Little's law the mean wait
    per write is the mean number waiting times the window over the writes, and the mean hold per
    write the busy share times the window over the writes (writes(): bench figures)."""

    def __init__(self, admin: str, db: str) -> None:
        import psycopg

        self.conn = psycopg.connect(_plain(admin), autocommit=True)
        self.datname = db.rsplit("/", 1)[1]
        self.samples = self.held = self.waiting = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        sql = ("SELECT count(*) FILTER (WHERE l.granted), count(*) FILTER (WHERE NOT l.granted) "
               "FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
               "WHERE l.locktype = 'advisory' AND d.datname = %s AND l.classid = %s AND l.objid = %s")
        args = (self.datname, WORLD_LOCK_KEY >> 32, WORLD_LOCK_KEY & 0xFFFFFFFF)
        while not self._stop.is_set():
            held, waiting = self.conn.execute(sql, args).fetchone()
            self.samples += 1
            self.held += held > 0
            self.waiting += waiting
            time.sleep(0.003)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._stop.clear()

    def share(self) -> float | None:
        return self.held / self.samples if self.samples else None

    def per_write(self, row: dict) -> dict:
        """The mean hold and wait per write (ms) over a measured window (Little's law)."""
        if not self.samples or not row["requests"]:
            return {}
        window_ms = row["seconds"] * 1000
        return {"hold_ms": self.held / self.samples * window_ms / row["requests"],
                "wait_ms": self.waiting / self.samples * window_ms / row["requests"],
                "waiting": self.waiting / self.samples}


def measure(server: Server, build, seconds: float, admin_conn, concurrency: int = CONCURRENCY) -> dict:
    httpbench.measure(server.port, server.proc.pid, build, concurrency, 0.0, 0.3)  # warm every worker
    pids = server.pids() + server.backend_pids(admin_conn)
    c0 = _cpu(pids)
    m = httpbench.measure(server.port, server.proc.pid, build, concurrency, 0.0, seconds)
    cpu = _cpu(pids) - c0
    return {"rps": m["rps"], "p50_ms": m["p50_ms"], "p99_ms": m["p99_ms"], "mean_ms": m["mean_ms"],
            "errors": m["errors"], "requests": m["requests"], "seconds": m["seconds"],
            "server_cpu_us": cpu / m["requests"] * 1e6 if m["requests"] else None,
            "other_busy_cores": m.get("other_cpu")}


def in_process_writes(db: str, rounds: int, n: int) -> dict:
    """One engine on PostgreSQL placing resting limit orders, psycopg's pipeline mode on and
    off in alternate rounds (SqlStore.pipeline): wall and CPU time per order, and the share of
    that time the world lock is held (the unit of work from its lock to its commit)."""
    from decimal import Decimal as D

    from localex.demo import install_market
    from localex.engine import Engine
    from localex.engine.model import OrderType, Side
    from localex.store import open_store

    engine = Engine(open_store(db), seed=1)
    install_market(engine)
    uid = engine.create_user("bitget", name="writer").uid
    engine.fund(uid, "BTC", D("10"))
    store = engine.store
    out: dict[str, list] = {"pipeline": [], "one round trip per statement": []}
    for rnd in range(rounds * 2):
        label = "pipeline" if rnd % 2 == 0 else "one round trip per statement"
        store.pipeline = label == "pipeline"
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            engine.place_spot_order(uid, "BTCUSDT", Side.SELL, OrderType.LIMIT, D("0.00001"), D("200000"))
        out[label].append(((time.perf_counter() - t0) / n * 1e6, (time.process_time() - c0) / n * 1e6))
    store.close()
    return {label: {"wall_us": statistics.median(w for w, _c in rows),
                    "cpu_us": statistics.median(c for _w, c in rows)} for label, rows in out.items()}


class _Tap:
    """A cursor that notes each statement it runs: (sql, started, ended)."""

    def __init__(self, cur, log: list) -> None:
        self._cur, self._log = cur, log

    def execute(self, sql, *args, **kwargs):
        t0 = time.perf_counter()
        out = self._cur.execute(sql, *args, **kwargs)
        self._log.append((sql, t0, time.perf_counter()))
        return out

    def executemany(self, sql, *args, **kwargs):
        t0 = time.perf_counter()
        out = self._cur.executemany(sql, *args, **kwargs)
        self._log.append((sql, t0, time.perf_counter()))
        return out

    def __getattr__(self, name):
        return getattr(self._cur, name)


_WRITE_RE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM)\s+\"?(\w+)", re.I)


def lock_anatomy(db: str, n: int) -> dict:
    """One engine on PostgreSQL, every statement timed: for a resting place-order, a place-order
    that fills at once and a cancel, the engine call's wall time, the part from the world lock
    granted to the commit (the hold), the statements under it, the tables each writes, and the
    tail of the hold from its first write to the commit (what a row lock on a row every write
    writes — the event sequence, the outbox, the house account — would still serialise)."""
    from decimal import Decimal as D

    from localex.demo import install_market
    from localex.engine import Engine
    from localex.engine.model import OrderType, Side
    from localex.store import open_store
    from localex.store.sql import WORLD_LOCK_SQL

    engine = Engine(open_store(db), seed=1)
    install_market(engine)
    uid = engine.create_user("bitget", name="anatomy").uid
    engine.fund(uid, "BTC", D("10"))
    engine.fund(uid, "USDT", D("1000000"))
    store = engine.store
    log: list = []
    store._cur = _Tap(store._cur, log)
    end = store._end

    def timed_end(commit: bool) -> None:
        t0 = time.perf_counter()
        end(commit)
        log.append(("COMMIT" if commit else "ROLLBACK", t0, time.perf_counter()))

    store._end = timed_end
    resting: list[int] = []

    def place_resting():
        resting.append(engine.place_spot_order(uid, "BTCUSDT", Side.SELL, OrderType.LIMIT, D("0.00001"),
                                               D("200000")).order_id)

    def place_filled():
        engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.MARKET, D("10"), None)

    def cancel():
        engine.cancel_spot_order(uid, "BTCUSDT", order_id=resting.pop())

    out = {}
    for label, op in (("place-order, resting", place_resting), ("place-order, filled", place_filled),
                      ("cancel-order", cancel)):
        for _ in range(5):  # warm
            op()
        calls, holds, tails, waits, under = [], [], [], [], []
        written: dict[str, int] = {}
        statements = 0
        for _ in range(n):
            log.clear()
            t0 = time.perf_counter()
            op()
            t1 = time.perf_counter()
            calls.append(t1 - t0)
            locks = [i for i, (sql, _a, _b) in enumerate(log) if sql == WORLD_LOCK_SQL]
            commit = max(i for i, (sql, _a, _b) in enumerate(log) if sql == "COMMIT")
            first = locks[0]
            waits.append(log[first][2] - log[first][1])
            holds.append(log[commit][2] - log[first][2])
            writes = [i for i in range(first, commit) if _WRITE_RE.match(log[i][0])]
            tails.append(log[commit][2] - log[writes[0]][1] if writes else 0.0)
            under.append(commit - first - 1)
            statements += len(log)
            for i in writes:
                table = _WRITE_RE.match(log[i][0]).group(2)
                written[table] = written.get(table, 0) + 1
        ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
        out[label] = {"call_ms": ms(calls), "hold_ms": ms(holds), "lock_wait_ms": ms(waits),
                      "tail_ms": ms(tails), "hold_share": statistics.median(h / c for h, c in zip(holds, calls)),
                      "statements": statements / n, "under_lock": statistics.median(under),
                      "writes": {k: v / n for k, v in sorted(written.items())}}
    store._cur = store._cur._cur
    store._end = end
    store.close()
    return out


def close_all(db: str, tracking: int, followers: int) -> dict:
    """bench_copy's close of every tracking order of a trader, in its own process."""
    out = subprocess.run([sys.executable, "-c", (
        "import json, sys; sys.path.insert(0, %r); import bench_copy; "
        "print(json.dumps(bench_copy.bench_close_all(%r, %d, %d)))") % (str(BENCH_DIR), db, tracking, followers)],
        capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("LOCALEX_TEST_PG",
                                                       "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server (its database used to create the run's own)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0",
                        help="a Redis for the two-worker target with --redis ('' to leave it out)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s; a 10 x 20 close")
    parser.add_argument("--no-close", action="store_true", help="skip the 50 x 200 close")
    parser.add_argument("--no-three", action="store_true", help="leave out the three-worker target")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "scale.json")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 1, 1.0
    if args.redis:
        from localex.scale import redis_available

        why = redis_available(args.redis)
        if why is not None:
            print(f"no Redis at {args.redis} ({why}): the --redis target is left out")
            args.redis = ""
    tracking, followers = (10, 20) if args.quick else (50, 200)
    import psycopg

    admin = psycopg.connect(_plain(args.pg), autocommit=True)
    run_id = secrets.token_hex(3)
    names = {key: f"localex_bench_{key.replace('-', '_')}_{run_id}"
             for key in ("pg-1", "pg-2", "pg-3", "pg-2-redis", "close", "writes", "anatomy")}
    for name in names.values():
        admin.execute(f'CREATE DATABASE "{name}"')
    servers: dict[str, Server] = {}
    results: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "rounds": args.rounds,
                     "seconds": args.seconds, "concurrency": CONCURRENCY, "cpus": os.cpu_count()}
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            servers["sqlite-1"] = Server("sqlite-1", str(tmp / "scale.db"), 1, tmp)
            servers["pg-1"] = Server("pg-1", _database(args.pg, names["pg-1"]), 1, tmp)
            servers["pg-2"] = Server("pg-2", _database(args.pg, names["pg-2"]), 2, tmp)
            if not args.no_three:
                servers["pg-3"] = Server("pg-3", _database(args.pg, names["pg-3"]), 3, tmp)
            if args.redis:
                env = {**os.environ, "LOCALEX_REDIS_PREFIX": f"localex-bench-{run_id}"}
                servers["pg-2-redis"] = Server("pg-2-redis", _database(args.pg, names["pg-2-redis"]), 2, tmp,
                                               "--redis", args.redis, env=env)
            targets = [(f"{kind}:{key}", key, kind) for kind in ("orderInfo", "place") for key in servers]
            # one client placing after another: the lock's busy share is the share of a write
            # request's time (as its client sees it) spent holding the world lock
            targets.append(("place-1-client:pg-1", "pg-1", "place-1-client"))
            rows: dict[str, list[dict]] = {t[0]: [] for t in targets}
            for rnd in range(args.rounds):
                shift = rnd % len(targets)
                for name, key, kind in targets[shift:] + targets[:shift]:
                    server = servers[key]
                    concurrency = 1 if kind == "place-1-client" else CONCURRENCY
                    if kind == "orderInfo":
                        build = httpbench.signed_request_builder(server.port, ORDER_INFO,
                                                                 f"orderId={server.order_id}", server.signer)
                    else:
                        build = httpbench.signed_post_builder(server.port, PLACE, PLACE_BODY, server.signer)
                    if kind.startswith("place") and key.startswith("pg"):
                        with LockSampler(args.pg, server.db) as sampler:
                            row = measure(server, build, args.seconds, admin, concurrency)
                        row["world_lock_busy"] = sampler.share()
                        row.update(sampler.per_write(row))
                        sampler.conn.close()
                    else:
                        row = measure(server, build, args.seconds, admin, concurrency)
                    rows[name].append(row)
                    print(f"  round {rnd + 1} {name:<20} {row['rps']:8.0f} req/s  p50 {row['p50_ms']:6.2f} ms  "
                          f"p99 {row['p99_ms']:7.2f} ms  {row['server_cpu_us'] or 0:6.0f} µs CPU/req"
                          + (f"  lock busy {row['world_lock_busy']:.0%}, hold {row.get('hold_ms', 0):.2f} ms, "
                             f"wait {row.get('wait_ms', 0):.2f} ms per write" if "world_lock_busy" in row else "")
                          + (f"  ERRORS {row['errors']}" if row["errors"] else ""), flush=True)
            for server in servers.values():
                server.stop()
            summary = {}
            for name, _key, _kind in targets:
                summary[name] = {f: statistics.median(r[f] for r in rows[name]) for f in
                                 ("rps", "p50_ms", "p99_ms", "mean_ms", "server_cpu_us",
                                  "world_lock_busy", "hold_ms", "wait_ms", "waiting")
                                 if all(r.get(f) is not None for r in rows[name])}
                summary[name]["errors"] = sum(r["errors"] for r in rows[name])
            for name in summary:
                kind, key = name.split(":")
                base = summary.get(f"{kind}:sqlite-1")
                if base is not None:
                    summary[name]["rps_vs_sqlite"] = summary[name]["rps"] / base["rps"]
                    summary[name]["cpu_vs_sqlite"] = summary[name]["server_cpu_us"] / base["server_cpu_us"]
                one = summary.get(f"{kind}:pg-1")
                if key.startswith("pg-") and one is not None:
                    summary[name]["rps_vs_pg_1"] = summary[name]["rps"] / one["rps"]
                    # the same ratio round by round (targets measured side by side in each round)
                    summary[name]["rps_vs_pg_1_rounds"] = [
                        r["rps"] / o["rps"] for r, o in zip(rows[name], rows[f"{kind}:pg-1"])]
            results["rounds_raw"] = rows
            results["summary"] = summary
            print("\nmedians (ratios against one process on SQLite and against one worker on PostgreSQL, "
                  "same request, same run):")
            for name, s in summary.items():
                print(f"  {name:<22} {s['rps']:8.0f} req/s"
                      + (f" ({s['rps_vs_sqlite']:.2f}x SQLite)" if "rps_vs_sqlite" in s else "")
                      + (f" ({s['rps_vs_pg_1']:.2f}x 1 worker; rounds "
                         + " ".join(f"{x:.2f}" for x in s["rps_vs_pg_1_rounds"]) + ")" if "rps_vs_pg_1" in s else "")
                      + f"  {s['server_cpu_us']:6.0f} µs CPU/req  p99 {s['p99_ms']:.1f} ms"
                      + (f"  world lock busy {s['world_lock_busy']:.0%}, hold {s['hold_ms']:.2f} ms, "
                         f"wait {s['wait_ms']:.2f} ms per write" if "world_lock_busy" in s else ""))
            print("\nin-process on PostgreSQL, every statement timed (medians per call):")
            anatomy = lock_anatomy(_database(args.pg, names["anatomy"]), 100 if args.quick else 300)
            results["lock_anatomy"] = anatomy
            for label, row in anatomy.items():
                print(f"  {label:<22} call {row['call_ms']:.2f} ms, world lock held {row['hold_ms']:.2f} ms "
                      f"({row['hold_share']:.0%}), from its first write to the commit {row['tail_ms']:.2f} ms; "
                      f"{row['statements']:.0f} statements, {row['under_lock']:.0f} under the lock; writes "
                      + ", ".join(f"{k} {v:g}" for k, v in row["writes"].items()))
            print("\nin-process place-order on PostgreSQL, pipeline mode on / off in alternate rounds:")
            writes = in_process_writes(_database(args.pg, names["writes"]), args.rounds, 100 if args.quick else 300)
            results["in_process_writes"] = writes
            for label, row in writes.items():
                print(f"  {label:<30} {row['wall_us']:7.0f} µs wall  {row['cpu_us']:6.0f} µs CPU per order")
            if not args.no_close:
                print(f"\nclose of {tracking} tracking orders x {followers} followers, one transaction:")
                sqlite = close_all(str(tmp / "close.db"), tracking, followers)
                pg = close_all(_database(args.pg, names["close"]), tracking, followers)
                results["close"] = {"sqlite": sqlite, "postgresql": pg,
                                    "pg_vs_sqlite": pg["close_all_s"] / sqlite["close_all_s"],
                                    "pg_cpu_vs_sqlite": pg["close_all_cpu_s"] / sqlite["close_all_cpu_s"]}
                print(f"  SQLite file   {sqlite['close_all_s']:7.2f} s ({sqlite['close_all_cpu_s']:.2f} s CPU, "
                      f"{sqlite['statements']} statements)")
                print(f"  PostgreSQL    {pg['close_all_s']:7.2f} s ({pg['close_all_cpu_s']:.2f} s CPU in localex, "
                      f"{pg['statements']} statements): {results['close']['pg_vs_sqlite']:.2f}x the time")
    finally:
        for server in servers.values():
            server.stop()
        for name in names.values():
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
        if args.redis:
            import redis

            client = redis.Redis.from_url(args.redis)
            keys = list(client.scan_iter(match=f"localex-bench-{run_id}:*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
