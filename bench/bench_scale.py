"""Scale-out figures side by side in one run: orderInfo and place-order over HTTP with one and
two workers on PostgreSQL (and two sharing Redis) against one process on SQLite, how busy the
world lock is, and the 50 x 200 copy-trading close on PostgreSQL against SQLite.

    .venv/bin/python bench/bench_scale.py                  # 3 rounds x 3 s per target, 50 x 200
    .venv/bin/python bench/bench_scale.py --quick          # 1 round x 1 s, 10 x 20
    .venv/bin/python bench/bench_scale.py --pg postgresql://postgres@127.0.0.1:5432/postgres

Every server is `localex serve` in its own process (rate limits off, the demo world, --quiet);
each PostgreSQL target gets a database of its own, created for the run and dropped after it.
Targets are measured in rotating order, round after round, with bench/run.py's load generator
(keep-alive loopback connections, freshly signed requests); the server's CPU per request is
the localex processes' plus their PostgreSQL backends' CPU time over the window, from /proc.
The world lock's busy share is sampled from pg_locks every few milliseconds during the
two-worker place-order windows. See bench/README.md, "Scale-out".
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
    """The share of samples in which some transaction holds the world lock of a database."""

    def __init__(self, admin: str, db: str) -> None:
        import psycopg

        self.conn = psycopg.connect(_plain(admin), autocommit=True)
        self.datname = db.rsplit("/", 1)[1]
        self.samples = self.held = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        sql = ("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
               "WHERE l.locktype = 'advisory' AND l.granted AND d.datname = %s AND l.classid = %s "
               "AND l.objid = %s")
        args = (self.datname, WORLD_LOCK_KEY >> 32, WORLD_LOCK_KEY & 0xFFFFFFFF)
        while not self._stop.is_set():
            self.samples += 1
            self.held += self.conn.execute(sql, args).fetchone()[0] > 0
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


def measure(server: Server, build, seconds: float, admin_conn) -> dict:
    httpbench.measure(server.port, server.proc.pid, build, CONCURRENCY, 0.0, 0.3)  # warm every worker
    pids = server.pids() + server.backend_pids(admin_conn)
    c0 = _cpu(pids)
    m = httpbench.measure(server.port, server.proc.pid, build, CONCURRENCY, 0.0, seconds)
    cpu = _cpu(pids) - c0
    return {"rps": m["rps"], "p50_ms": m["p50_ms"], "p99_ms": m["p99_ms"], "errors": m["errors"],
            "requests": m["requests"], "server_cpu_us": cpu / m["requests"] * 1e6 if m["requests"] else None,
            "other_busy_cores": m.get("other_cores")}


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
    names = {key: f"localex_bench_{key.replace('-', '_')}_{run_id}" for key in ("pg-1", "pg-2", "pg-2-redis", "close", "writes")}
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
            if args.redis:
                env = {**os.environ, "LOCALEX_REDIS_PREFIX": f"localex-bench-{run_id}"}
                servers["pg-2-redis"] = Server("pg-2-redis", _database(args.pg, names["pg-2-redis"]), 2, tmp,
                                               "--redis", args.redis, env=env)
            targets = [(f"{kind}:{key}", key, kind) for kind in ("orderInfo", "place") for key in servers]
            rows: dict[str, list[dict]] = {t[0]: [] for t in targets}
            lock_share: dict[str, list[float]] = {key: [] for key in servers if key.startswith("pg")}
            for rnd in range(args.rounds):
                shift = rnd % len(targets)
                for name, key, kind in targets[shift:] + targets[:shift]:
                    server = servers[key]
                    if kind == "orderInfo":
                        build = httpbench.signed_request_builder(server.port, ORDER_INFO,
                                                                 f"orderId={server.order_id}", server.signer)
                    else:
                        build = httpbench.signed_post_builder(server.port, PLACE, PLACE_BODY, server.signer)
                    if kind == "place" and key.startswith("pg"):
                        with LockSampler(args.pg, server.db) as sampler:
                            row = measure(server, build, args.seconds, admin)
                        row["world_lock_busy"] = sampler.share()
                        lock_share[key].append(sampler.share())
                        sampler.conn.close()
                    else:
                        row = measure(server, build, args.seconds, admin)
                    rows[name].append(row)
                    print(f"  round {rnd + 1} {name:<20} {row['rps']:8.0f} req/s  p50 {row['p50_ms']:6.2f} ms  "
                          f"p99 {row['p99_ms']:7.2f} ms  {row['server_cpu_us'] or 0:6.0f} µs CPU/req"
                          + (f"  lock busy {row['world_lock_busy']:.0%}" if "world_lock_busy" in row else "")
                          + (f"  ERRORS {row['errors']}" if row["errors"] else ""), flush=True)
            for server in servers.values():
                server.stop()
            summary = {}
            for name, _key, _kind in targets:
                summary[name] = {f: statistics.median(r[f] for r in rows[name]) for f in
                                 ("rps", "p50_ms", "p99_ms", "server_cpu_us")}
                summary[name]["errors"] = sum(r["errors"] for r in rows[name])
            for name in summary:
                kind = name.split(":")[0]
                base = summary[f"{kind}:sqlite-1"]
                summary[name]["rps_vs_sqlite"] = summary[name]["rps"] / base["rps"]
                summary[name]["cpu_vs_sqlite"] = summary[name]["server_cpu_us"] / base["server_cpu_us"]
            for key, shares in lock_share.items():
                if shares:
                    summary[f"place:{key}"]["world_lock_busy"] = statistics.median(shares)
            results["rounds_raw"] = rows
            results["summary"] = summary
            print("\nmedians (ratios against one process on SQLite, same request, same run):")
            for name, s in summary.items():
                print(f"  {name:<20} {s['rps']:8.0f} req/s ({s['rps_vs_sqlite']:.2f}x)  "
                      f"{s['server_cpu_us']:6.0f} µs CPU/req ({s['cpu_vs_sqlite']:.2f}x)  p99 {s['p99_ms']:.1f} ms"
                      + (f"  world lock busy {s['world_lock_busy']:.0%}" if "world_lock_busy" in s else ""))
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
