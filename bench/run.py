"""Throughput and latency of localex against a bare ASGI app, side by side in one run.

    .venv/bin/python bench/run.py            # 5 rounds x 5 s per target
    .venv/bin/python bench/run.py --quick    # smoke run: 1 round x 1 s per target

Each target is served by uvicorn in its own process (bench/serve.py, identical settings); this
process drives the load over keep-alive loopback connections, target after target in rounds, and
reports the median per target and the ratio to the bare app. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from localex import __version__ as LOCALEX_VERSION
from localex.client import BitgetClient

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
SERVE = BENCH_DIR / "serve.py"
DEFAULT_OUT = BENCH_DIR / "results" / "latest.json"

ORDER_INFO_PATH = "/api/v2/spot/trade/orderInfo"
TIME_PATH = "/api/v2/public/time"
OK_PREFIX = b'{"code":"00000"'  # every successful Bitget envelope starts so (orjson keeps key order)

SERVER_START_TIMEOUT_S = 60.0
MAX_REQUESTS_PER_CONNECTION = 5_000_000  # per window; the window's deadline ends a loop first
MAX_CHUNKS = 10_000  # per response
WINDOW_GRACE_S = 15.0  # a window that runs this much past its end is aborted


# ---- targets ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    key: str
    description: str
    server: str  # which server process answers
    path: str
    signed: bool
    method: str = "GET"


PLACE_PATH = "/api/v2/spot/trade/place-order"
# a resting limit sell far above the market: 0.00001 BTC at 200000 (2 USDT), the demo account's
# 1 BTC lasts 100,000 of them
PLACE_BODY = '{"symbol":"BTCUSDT","side":"sell","orderType":"limit","force":"gtc","price":"200000","size":"0.00001"}'

TARGETS = [
    Target("bare", "bare ASGI app, fixed orderInfo-shaped answer, signed request", "bare",
           ORDER_INFO_PATH, True),
    Target("orderinfo-mem", "localex orderInfo, SQLite in memory", "localex-mem",
           ORDER_INFO_PATH, True),
    Target("orderinfo-file", "localex orderInfo, SQLite file (WAL)", "localex-file",
           ORDER_INFO_PATH, True),
    Target("time", "localex public/time: unsigned, no DB", "localex-mem", TIME_PATH, False),
    Target("place-mem", "localex spot place-order (a resting limit), SQLite in memory", "localex-mem",
           PLACE_PATH, True, "POST"),
]
TARGET_KEYS = [t.key for t in TARGETS]
BASELINE = "bare"


# ---- server processes ------------------------------------------------------------------------

def _die_with_parent() -> None:
    """In the child: be sent SIGTERM when the benchmark process dies (Linux; best effort)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far, from /proc (None where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine in clock ticks, from /proc/stat."""
    try:
        with open("/proc/stat") as fh:
            ticks = [int(v) for v in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + ticks[4]  # idle, iowait
    return sum(ticks) - idle, sum(ticks)


class ServerProcess:
    def __init__(self, name: str, args: list[str]) -> None:
        self.name = name
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.credentials: dict = {}

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> "ServerProcess":
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        self.proc = subprocess.Popen([sys.executable, str(SERVE), *self.args], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, preexec_fn=preexec)
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], SERVER_START_TIMEOUT_S)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stop()
            raise RuntimeError(f"server {self.name} did not start (exit code {self.proc.returncode})")
        hello = json.loads(line)
        self.port, self.credentials = hello["port"], hello["credentials"]
        # The socket listens already; the first answer says uvicorn is serving.
        with httpx.Client(timeout=SERVER_START_TIMEOUT_S) as http:
            http.get(self.url + TIME_PATH)
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


# ---- requests --------------------------------------------------------------------------------

def signed_request_builder(port: int, path: str, query: str, signer: BitgetClient):
    """A function making one freshly signed GET, every header a Bitget client sends."""
    head = f"GET {path}?{query} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
    tail = ("Content-Type: application/json\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
            "User-Agent: localex-bench\r\n\r\n")
    key = f"ACCESS-KEY: {signer.api_key}\r\nACCESS-PASSPHRASE: {signer.passphrase}\r\n"
    sign = signer.sign

    def build() -> bytes:
        timestamp = str(int(time.time() * 1000))
        signature = sign(timestamp, "GET", path, query, "")
        return (f"{head}{key}ACCESS-TIMESTAMP: {timestamp}\r\nACCESS-SIGN: {signature}\r\n{tail}"
                .encode())

    return build


def signed_post_builder(port: int, path: str, body: str, signer: BitgetClient):
    """A function making one freshly signed POST with a JSON body."""
    head = f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
    tail = ("Content-Type: application/json\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\n"
            f"User-Agent: localex-bench\r\nContent-Length: {len(body.encode())}\r\n\r\n{body}")
    key = f"ACCESS-KEY: {signer.api_key}\r\nACCESS-PASSPHRASE: {signer.passphrase}\r\n"
    sign = signer.sign

    def build() -> bytes:
        timestamp = str(int(time.time() * 1000))
        signature = sign(timestamp, "POST", path, "", body)
        return (f"{head}{key}ACCESS-TIMESTAMP: {timestamp}\r\nACCESS-SIGN: {signature}\r\n{tail}"
                .encode())

    return build


def unsigned_request_builder(port: int, path: str):
    data = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: */*\r\n"
            "Accept-Encoding: gzip, deflate\r\nUser-Agent: localex-bench\r\n\r\n").encode()
    return lambda: data


class ProtocolError(ValueError):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 response: (status, body). Content-Length and chunked bodies."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = head.index(b"\r\n", at + 2)
        return status, await reader.readexactly(int(head[at + 17:end]))
    if b"\r\ntransfer-encoding: chunked\r\n" not in lower:
        raise ProtocolError("a response with neither content-length nor chunked encoding")
    parts = []
    for _ in range(MAX_CHUNKS):
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            for _ in range(MAX_CHUNKS):  # trailers, then the empty line
                if await reader.readuntil(b"\r\n") == b"\r\n":
                    return status, b"".join(parts)
            break
        parts.append((await reader.readexactly(size + 2))[:-2])
    raise ProtocolError("too many chunks")


# ---- one measurement window --------------------------------------------------------------------

@dataclass
class Window:
    latencies_ns: list[int] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    body_bytes: int = 0
    server_cpu_s: float | None = None
    client_cpu_s: float = 0.0
    machine_busy_cores: float | None = None
    seconds: float = 0.0


async def _connection(port: int, build, t_start: float, t_end: float, out: Window) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    clock = time.perf_counter
    clock_ns = time.perf_counter_ns
    try:
        for _ in range(MAX_REQUESTS_PER_CONNECTION):
            if clock() >= t_end:
                break
            data = build()
            sent = clock_ns()
            writer.write(data)
            status, body = await read_response(reader)
            took = clock_ns() - sent
            now = clock()
            if now < t_start:
                continue  # warm-up
            if now >= t_end:
                break
            out.latencies_ns.append(took)
            if status != 200 or not body.startswith(OK_PREFIX):
                out.errors += 1
                if not out.first_error:
                    out.first_error = f"HTTP {status} {body[:200]!r}"
            elif not out.body_bytes:
                out.body_bytes = len(body)
    finally:
        writer.close()


async def _meter(pid: int, t_start: float, t_end: float, out: Window) -> None:
    """Server and client CPU time over exactly the measured part of the window."""
    await asyncio.sleep(max(0.0, t_start - time.perf_counter()))
    m0, s0, c0, w0 = machine_cpu(), cpu_seconds(pid), time.process_time(), time.perf_counter()
    await asyncio.sleep(max(0.0, t_end - time.perf_counter()))
    m1, s1, c1, w1 = machine_cpu(), cpu_seconds(pid), time.process_time(), time.perf_counter()
    out.server_cpu_s = None if s0 is None or s1 is None else s1 - s0
    if m0 is not None and m1 is not None and m1[1] > m0[1]:
        out.machine_busy_cores = (m1[0] - m0[0]) / (m1[1] - m0[1]) * (os.cpu_count() or 1)
    out.client_cpu_s = c1 - c0
    out.seconds = w1 - w0


async def _window(port: int, pid: int, build, concurrency: int, warmup: float, duration: float) -> Window:
    out = Window()
    t_start = time.perf_counter() + warmup
    t_end = t_start + duration
    tasks = [asyncio.ensure_future(_meter(pid, t_start, t_end, out))]
    tasks += [asyncio.ensure_future(_connection(port, build, t_start, t_end, out)) for _ in range(concurrency)]
    try:
        done, pending = await asyncio.wait(tasks, timeout=warmup + duration + WINDOW_GRACE_S,
                                           return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()  # the first failure, if any
        if pending:
            raise asyncio.TimeoutError(f"a window ran {WINDOW_GRACE_S:g} s past its end")
    finally:  # on a failure or an interrupt, end every connection before leaving
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return out


def _event_loop_factory():
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def measure(port: int, pid: int, build, concurrency: int, warmup: float, duration: float) -> dict:
    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        w = runner.run(_window(port, pid, build, concurrency, warmup, duration))
    lat = sorted(w.latencies_ns)
    n = len(lat)
    seconds = w.seconds or duration

    def pct(q: float) -> float | None:  # nearest rank
        return lat[min(n - 1, max(0, math.ceil(q * n) - 1))] / 1e6 if n else None

    return {
        "requests": n,
        "seconds": round(seconds, 4),
        "rps": n / seconds,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": (sum(lat) / n / 1e6) if n else None,
        "max_ms": lat[-1] / 1e6 if n else None,
        "errors": w.errors,
        "first_error": w.first_error,
        "body_bytes": w.body_bytes,
        "server_cpu_util": None if w.server_cpu_s is None else w.server_cpu_s / seconds,
        "server_cpu_us_per_req": (w.server_cpu_s / n * 1e6) if (w.server_cpu_s is not None and n) else None,
        "client_cpu_util": w.client_cpu_s / seconds,
        # everything else the machine did meanwhile, in CPUs (other processes, kernel)
        "other_cpu": (None if w.machine_busy_cores is None or w.server_cpu_s is None else
                      max(0.0, w.machine_busy_cores - (w.server_cpu_s + w.client_cpu_s) / seconds)),
    }


# ---- set-up ----------------------------------------------------------------------------------

def place_order(server: ServerProcess) -> str:
    """One resting limit order of the demo account; checks that orderInfo finds it."""
    c = server.credentials
    client = BitgetClient(server.url, c["apiKey"], c["secretKey"], c["passphrase"])
    try:
        ref = client.place_spot_order("BTCUSDT", "buy", "limit", size="0.001", price="90000")
        order = client.spot_order(order_id=ref.order_id)
        if order is None or order.order_id != ref.order_id:
            raise RuntimeError(f"orderInfo on {server.name} does not find order {ref.order_id}")
        return ref.order_id
    finally:
        client.close()


def pick_server_impl() -> tuple[str, str]:
    """The loop and HTTP implementation both servers use (what uvicorn's "auto" picks)."""
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    try:
        import httptools  # noqa: F401

        http = "httptools"
    except ImportError:
        http = "h11"
    return loop, http


def git_state() -> dict | None:
    """The commit measured, and whether the work tree differed from it."""
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=BENCH_DIR, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()

        return {"commit": git("rev-parse", "HEAD"),
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return None


# ---- summary and report ------------------------------------------------------------------------

def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise(rounds: list[dict]) -> dict:
    keys = ["rps", "p50_ms", "p99_ms", "mean_ms", "server_cpu_us_per_req", "server_cpu_util",
            "client_cpu_util", "other_cpu"]
    out = {k: _median(r[k] for r in rounds) for k in keys}
    out["errors"] = sum(r["errors"] for r in rounds)
    out["requests"] = sum(r["requests"] for r in rounds)
    out["body_bytes"] = max(r["body_bytes"] for r in rounds)
    return out


def ratios(results: dict, key: str) -> dict:
    """Per round, target / baseline (the rounds pair them in time); then median, min and max."""
    out = {}
    for metric, name in (("rps", "throughput"), ("server_cpu_us_per_req", "server_cpu_per_request")):
        per_round = []
        for mine, base in zip(results[key]["rounds"], results[BASELINE]["rounds"]):
            if mine[metric] and base[metric]:
                per_round.append(mine[metric] / base[metric])
        if per_round:
            out[name] = {"median": statistics.median(per_round), "min": min(per_round),
                         "max": max(per_round), "per_round": per_round}
    return out


def _fmt(value, spec: str, scale: float = 1.0) -> str:
    return "-" if value is None else format(value * scale, spec)


def print_report(doc: dict) -> None:
    out = sys.stdout
    s = doc["settings"]
    out.write(f"\nlocalex {doc['environment']['localex']}, uvicorn {doc['environment']['uvicorn']} "
              f"({s['server_loop']}/{s['server_http']}), {s['rounds']} round(s) x {s['duration_s']:g} s, "
              f"concurrency {s['concurrency']}, median of rounds\n\n")
    header = (f"{'target':<15} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'srv us/req':>11} "
              f"{'srv CPU':>8} {'load CPU':>9} {'other':>6} {'body B':>7} {'errors':>7}  what\n")
    out.write(header)
    out.write("-" * (len(header) + 30) + "\n")
    for key, t in doc["targets"].items():
        m = t["summary"]
        out.write(f"{key:<15} {_fmt(m['rps'], ',.0f'):>9} {_fmt(m['p50_ms'], '.2f'):>8} "
                  f"{_fmt(m['p99_ms'], '.2f'):>8} {_fmt(m['server_cpu_us_per_req'], '.0f'):>11} "
                  f"{_fmt(m['server_cpu_util'], '.0%'):>8} {_fmt(m['client_cpu_util'], '.0%'):>9} "
                  f"{_fmt(m['other_cpu'], '.0%'):>6} "
                  f"{m['body_bytes']:>7} {m['errors']:>7}  {t['description']}\n")
    out.write("\n")
    for key, r in doc["ratios"].items():
        label = {"orderinfo-mem": "orderInfo (SQLite in memory)", "orderinfo-file": "orderInfo (SQLite file)",
                 "time": "public/time", "place-mem": "place-order (SQLite in memory)"}.get(key, key)
        tp = r.get("throughput")
        cpu = r.get("server_cpu_per_request")
        line = f"{label}: "
        line += f"{tp['median']:.2f}x of bare ASGI throughput" if tp else "no throughput ratio"
        if tp and len(tp["per_round"]) > 1:
            line += f" (rounds {tp['min']:.2f}-{tp['max']:.2f})"
        if cpu:
            line += f"; {cpu['median']:.1f}x its server CPU per request"
        out.write(line + "\n")
    for warning in doc["warnings"]:
        out.write(f"warning: {warning}\n")
    out.flush()


# ---- main --------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="localex vs a bare ASGI app under the same uvicorn settings.")
    p.add_argument("--quick", action="store_true", help="smoke run: 1 round of 1 s per target")
    p.add_argument("--rounds", type=int, default=5, help="rounds; each measures every target once (5)")
    p.add_argument("--duration", type=float, default=5.0, help="measured seconds per target and round (5)")
    p.add_argument("--warmup", type=float, default=1.0,
                   help="unmeasured seconds before each window, on the same connections (1)")
    p.add_argument("--concurrency", type=int, default=32, help="keep-alive connections, one request in "
                   "flight on each (32)")
    p.add_argument("--targets", default=",".join(TARGET_KEYS),
                   help=f"comma-separated subset of {','.join(TARGET_KEYS)} (bare is always included)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    p.add_argument("--no-figures", action="store_true",
                   help="HTTP targets only (skip the engine, copy-trading, start-up and in-process figures)")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.duration, args.warmup = 1, 1.0, 0.3
    if not 1 <= args.rounds <= 100 or not 0.1 <= args.duration <= 600 or not 0 <= args.warmup <= 60:
        p.error("rounds must be 1-100, duration 0.1-600 s, warmup 0-60 s")
    if not 1 <= args.concurrency <= 1024:
        p.error("concurrency must be 1-1024")
    wanted = [k.strip() for k in args.targets.split(",") if k.strip()]
    unknown = sorted(set(wanted) - set(TARGET_KEYS))
    if unknown:
        p.error(f"unknown target(s): {', '.join(unknown)}")
    args.targets = [t for t in TARGETS if t.key in wanted or t.key == BASELINE]
    return args


def run(args: argparse.Namespace) -> dict:
    import uvicorn

    loop, http = pick_server_impl()
    impl = ["--loop", loop, "--http", http]
    started = dt.datetime.now(dt.timezone.utc)
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    needed = {t.server for t in args.targets} | {"localex-mem"}  # the bare target signs for localex-mem

    with tempfile.TemporaryDirectory(prefix="localex-bench-") as tmp:
        specs = {
            "bare": ["bare"],
            "localex-mem": ["localex", "--db", ":memory:"],
            "localex-file": ["localex", "--db", str(Path(tmp) / "bench.db")],
        }
        servers: dict[str, ServerProcess] = {}
        try:
            for name in specs:
                if name in needed:
                    servers[name] = ServerProcess(name, specs[name] + impl).start()
            order_ids = {name: place_order(s) for name, s in servers.items() if name.startswith("localex")}

            builders = {}
            signers = []
            for t in args.targets:
                server = servers[t.server]
                if not t.signed:
                    builders[t.key] = unsigned_request_builder(server.port, t.path)
                    continue
                # the bare app receives exactly what localex-mem receives: its key, its order
                account = "localex-mem" if t.server == "bare" else t.server
                c = servers[account].credentials
                signer = BitgetClient(servers[account].url, c["apiKey"], c["secretKey"], c["passphrase"])
                signers.append(signer)
                if t.method == "POST":
                    builders[t.key] = signed_post_builder(server.port, t.path, PLACE_BODY, signer)
                    continue
                builders[t.key] = signed_request_builder(server.port, t.path,
                                                         f"orderId={order_ids[account]}", signer)

            per_target: dict[str, list[dict]] = {t.key: [] for t in args.targets}
            for rnd in range(args.rounds):
                shift = rnd % len(args.targets)  # rotate, so no target always comes first
                for t in args.targets[shift:] + args.targets[:shift]:
                    server = servers[t.server]
                    result = measure(server.port, server.pid, builders[t.key], args.concurrency,
                                     args.warmup, args.duration)
                    result["round"] = rnd + 1
                    per_target[t.key].append(result)
                    sys.stderr.write(f"  round {rnd + 1}/{args.rounds}  {t.key:<15} "
                                     f"{result['rps']:>9,.0f} req/s  p50 {_fmt(result['p50_ms'], '.2f')} ms  "
                                     f"p99 {_fmt(result['p99_ms'], '.2f')} ms  errors {result['errors']}\n")
                    sys.stderr.flush()
            for signer in signers:
                signer.close()
        finally:
            for server in servers.values():
                server.stop()

    targets = {}
    for t in args.targets:
        targets[t.key] = {
            "description": t.description,
            "server": t.server,
            "path": t.path,
            "signed": t.signed,
            "db": {"localex-mem": ":memory:", "localex-file": "file (WAL)"}.get(t.server),
            "summary": summarise(per_target[t.key]),
            "rounds": per_target[t.key],
        }
    doc = {
        "schema": 1,
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "settings": {
            "rounds": args.rounds, "duration_s": args.duration, "warmup_s": args.warmup,
            "concurrency": args.concurrency, "host": HOST, "workers": 1, "server_loop": loop,
            "server_http": http, "access_log": False, "log_level": "warning", "rate_limits": False,
            "client": "asyncio streams, HTTP/1.1 keep-alive, one request in flight per connection",
        },
        "environment": {
            "localex": LOCALEX_VERSION, "uvicorn": uvicorn.__version__, "python": platform.python_version(),
            "git": git_state(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
        "targets": targets,
        "ratios": {key: ratios(targets, key) for key in targets if key != BASELINE},
        "warnings": [],
    }
    base = targets[BASELINE]["summary"]
    if base["server_cpu_util"] is not None and base["server_cpu_util"] < 0.85:
        doc["warnings"].append(
            f"the bare server was busy only {base['server_cpu_util']:.0%} of the time (load generator "
            f"{base['client_cpu_util']:.0%}, other work on this machine {_fmt(base['other_cpu'], '.0%')} "
            f"of a CPU, {os.cpu_count()} CPUs): something besides the server limited its throughput, so "
            "the throughput ratios understate the gap; the server-CPU-per-request ratios do not depend "
            "on it")
    for key, t in targets.items():
        if t["summary"]["errors"]:
            first = next(r["first_error"] for r in t["rounds"] if r["first_error"])
            doc["warnings"].append(f"{key}: {t['summary']['errors']} failed requests, first: {first}")
        if not t["summary"]["requests"]:
            doc["warnings"].append(f"{key}: no request completed")
    return doc


# ---- the engine's figures (each script in its own process, in this same run) -----------------

def _script_json(args: list[str], timeout_s: float) -> dict:
    """Run a bench script; the JSON object its last output line holds."""
    done = subprocess.run([sys.executable, *args], cwd=BENCH_DIR.parent, capture_output=True, text=True,
                          timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def engine_figures(quick: bool, warnings: list) -> dict:
    """Each script in turn; one that fails leaves a warning and its figures out."""
    q = ["--quick"] if quick else []
    scripts = {
        "engine": [str(BENCH_DIR / "bench_engine.py")] + q,
        "close_all": [str(BENCH_DIR / "bench_copy.py"), "--close-only"] + q,
        "startup": [str(BENCH_DIR / "bench_startup.py"), "--runs", "1" if quick else "5"],
        "inprocess": [str(BENCH_DIR / "bench_inprocess.py"), "--count", "200" if quick else "2000",
                      "--seconds", "10" if quick else "30"],
    }
    out: dict = {}
    for name, args in scripts.items():
        sys.stderr.write(f"  figures: {' '.join(Path(a).name for a in args)}\n")
        try:
            found = _script_json(args, 900)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as err:
            warnings.append(f"figures {name}: {err}")
            continue
        out[name] = found["close_all"] if name == "close_all" else found
    return out


def goals(doc: dict) -> list[tuple[str, str, str, bool | None]]:
    """(figure, goal, measured, met) for every figure of the speed goals (bench/README.md)."""
    out = []
    r = doc["ratios"]
    t = doc["targets"]
    if "orderinfo-mem" in r and r["orderinfo-mem"].get("throughput"):
        tp = r["orderinfo-mem"]["throughput"]["median"]
        p99 = t["orderinfo-mem"]["summary"]["p99_ms"]
        out.append(("orderInfo over HTTP vs bare ASGI", ">= 0.30x, p99 <= 10 ms",
                    f"{tp:.2f}x, p99 {p99:.1f} ms", tp >= 0.30 and p99 is not None and p99 <= 10))
    if "place-mem" in r and r["place-mem"].get("throughput"):
        tp = r["place-mem"]["throughput"]["median"]
        out.append(("place-order (resting limit) vs bare ASGI", ">= 0.15x", f"{tp:.2f}x", tp >= 0.15))
    f = doc.get("figures")
    if f:
        e = f.get("engine", {})
        fill = e.get("fill")
        if fill:
            out.append(("one fill (a move reaching one resting order), CPU", "<= 100 us",
                        f"{fill['cpu_us']:.0f} us", fill["cpu_us"] <= 100))
        c = f.get("close_all")
        if c:
            out.append((f"order-close-positions, {c['tracking_orders']} x {c['followers']} ({c['closes']:,} closes)",
                        "< 2 s" if c["closes"] >= 10_000 else "(quick)", f"{c['close_all_s']:.2f} s",
                        c["close_all_s"] < 2 if c["closes"] >= 10_000 else None))
        h = e.get("coinw_order_history")
        if h:
            out.append(("CoinW GET /v1/perpum/order, history vs none", "<= 1.5x", f"{h['ratio']:.2f}x",
                        h["ratio"] <= 1.5))
        a = e.get("advance")
        if a:
            out.append((f"advance a manual clock {a['hours']} h, random walk everywhere", "< 1 s",
                        f"{a['seconds']:.2f} s", a["seconds"] < 1 if a["hours"] >= 24 else None))
        w = e.get("waits")
        if w:
            out.append(("a request during a long advance waits", "<= 250 ms", f"{w['max_wait_ms']:.0f} ms",
                        w["max_wait_ms"] <= 250))
        i = f.get("inprocess", {})
        for lib in ("httpx", "requests"):
            inside, loop = i.get(f"in-process|{lib}"), i.get(f"loopback, server process|{lib}")
            if inside and loop:
                out.append((f"one request in-process vs loopback ({lib})", "<= 1/3 (0.33)",
                            f"{inside / loop:.2f} ({inside:.0f} / {loop:.0f} us)", inside / loop <= 1 / 3))
        s = f.get("startup")
        if s:
            out.append(("localex serve, start to first answer (memory)", "< 1 s",
                        f"{s['memory_s']:.2f} s wall, {s['memory_cpu_s']:.2f} s CPU", s["memory_s"] < 1))
            if "stop_during_advance_s" in s:
                clean = (s["stop_during_advance_status"] == [0] and s["stop_idle_status"] == [0]
                         and not s["stop_tracebacks"])
                out.append(("SIGINT during a long advance: signal to exit", "< 1 s, status 0",
                            f"{s['stop_during_advance_s']:.2f} s (max {s['stop_during_advance_max_s']:.2f}), "
                            f"status {s['stop_during_advance_status']}",
                            s["stop_during_advance_max_s"] < 1 and clean))
    return out


def print_goals(doc: dict) -> None:
    rows = goals(doc)
    if not rows:
        return
    out = sys.stdout
    out.write("\ngoals (bench/README.md)\n")
    for name, goal, measured, met in rows:
        mark = "-" if met is None else ("met" if met else "MISSED")
        out.write(f"  {name:<58} goal {goal:<22} measured {measured:<34} {mark}\n")


def _interrupt_on_sigterm(signum, frame) -> None:
    # Handled as Ctrl-C: the servers are stopped and the temporary database removed.
    signal.raise_signal(signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    try:
        doc = run(args)
    except KeyboardInterrupt:
        sys.stderr.write("bench: interrupted\n")
        return 130
    except (RuntimeError, OSError, EOFError, ValueError, asyncio.TimeoutError, asyncio.LimitOverrunError,
            httpx.HTTPError) as err:  # a server that failed, died or answered garbage
        sys.stderr.write(f"bench: {type(err).__name__}: {err}\n")
        return 2
    if not args.no_figures:
        doc["figures"] = engine_figures(args.quick, doc["warnings"])
    doc["goals"] = [dict(zip(("figure", "goal", "measured", "met"), row)) for row in goals(doc)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print_report(doc)
    print_goals(doc)
    sys.stdout.write(f"\nresults written to {args.out}\n")
    failed = any(t["summary"]["errors"] or not t["summary"]["requests"] for t in doc["targets"].values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
