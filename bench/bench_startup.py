"""`localex serve` start to first answer, and stop on a signal.

    .venv/bin/python bench/bench_startup.py [--runs 5]

Start: the wall time from starting the process to the first 200 from GET /localex/health (and
the server's CPU time by then), on an in-memory store and on a SQLite file already at the head
revision (a restart), median of --runs; in the environment as given, and once more with a
bytecode cache (a fresh PYTHONPYCACHEPREFIX, filled by a first start, PYTHONDONTWRITEBYTECODE
unset), so that a machine that forbids .pyc files (every start compiles localex's modules) can be
told from the start-up's own cost.

Stop: the wall time from sending a signal to the process having exited, idle (SIGTERM) and in
the middle of long market work (SIGINT while a year's advance of a manual clock with a random
walk on every demo instrument runs on a SQLite file), with the exit status and the advance's
answer (503 "stopping" when it was cut short).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import httpx

HOST = "127.0.0.1"
YEAR_MS = 365 * 86_400_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:  # the server's own CPU time so far
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(args: list[str], env: dict | None = None, timeout_s: float = 30.0):
    """(process, url, wall seconds, CPU seconds) once `localex serve ARGS` first answers."""
    port = free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "localex")
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe, "serve", "--port", str(port), "--no-credentials-file", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://{HOST}:{port}"
    try:
        while time.perf_counter() - t0 < timeout_s:
            try:
                if httpx.get(url + "/localex/health", timeout=1.0).status_code == 200:
                    return proc, url, time.perf_counter() - t0, _cpu_s(proc.pid)
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.005)
        raise RuntimeError("no answer")
    except BaseException:
        proc.kill()
        proc.wait(10)
        raise


def start_to_answer(db: str, env: dict | None = None) -> tuple[float, float]:
    proc, _url, wall, cpu = start(["--db", db], env)
    proc.terminate()
    proc.wait(10)
    return wall, cpu


def stop_after(proc, signum: int) -> tuple[float, int, str]:
    """(wall seconds from the signal to the exit, exit status, stderr)."""
    t0 = time.perf_counter()
    proc.send_signal(signum)
    try:
        status = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise RuntimeError("the server did not stop within 30 s of the signal") from None
    return time.perf_counter() - t0, status, proc.stderr.read().decode()


def stop_idle() -> dict:
    proc, _url, _wall, _cpu = start(["--db", ":memory:"])
    seconds, status, err = stop_after(proc, signal.SIGTERM)
    return {"s": seconds, "status": status, "traceback": "Traceback" in err}


def stop_during_advance(db: str) -> dict:
    proc, url, _wall, _cpu = start(["--db", db, "--clock", "manual", "--start", "1767225600000",
                                    "--price-path", "random"])
    before = httpx.get(url + "/localex/clock").json()["now"]
    answer: dict = {}

    def advance() -> None:
        try:
            response = httpx.post(url + "/localex/clock", json={"advance": YEAR_MS}, timeout=120)
            answer.update(status=response.status_code, code=response.json().get("error", {}).get("code"))
        except httpx.HTTPError as err:
            answer.update(status=None, code=type(err).__name__)

    worker = threading.Thread(target=advance, daemon=True)
    worker.start()
    deadline = time.perf_counter() + 20
    while time.perf_counter() < deadline:  # until the walk is under way (requests get in between)
        if httpx.get(url + "/localex/clock").json()["now"] > before:
            break
        time.sleep(0.01)
    time.sleep(0.2)
    seconds, status, err = stop_after(proc, signal.SIGINT)
    worker.join(30)
    return {"s": seconds, "status": status, "traceback": "Traceback" in err,
            "advance_status": answer.get("status"), "advance_code": answer.get("code")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "start.db")
        start_to_answer(path)  # create and migrate the file once
        memory = [start_to_answer(":memory:") for _ in range(args.runs)]
        restart = [start_to_answer(path) for _ in range(args.runs)]
        cached_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        cached_env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        start_to_answer(":memory:", cached_env)  # fills the cache
        cached = [start_to_answer(":memory:", cached_env) for _ in range(args.runs)]
        idle = [stop_idle() for _ in range(args.runs)]
        busy = [stop_during_advance(os.path.join(tmp, f"stop{i}.db")) for i in range(args.runs)]
    result = {"memory_s": round(statistics.median(w for w, _ in memory), 3),
              "memory_cpu_s": round(statistics.median(c for _, c in memory), 3),
              "file_restart_s": round(statistics.median(w for w, _ in restart), 3),
              "file_restart_cpu_s": round(statistics.median(c for _, c in restart), 3),
              "bytecode_writes_off": bool(os.environ.get("PYTHONDONTWRITEBYTECODE")),
              "memory_pyc_s": round(statistics.median(w for w, _ in cached), 3),
              "memory_pyc_cpu_s": round(statistics.median(c for _, c in cached), 3),
              "stop_idle_s": round(statistics.median(r["s"] for r in idle), 3),
              "stop_idle_status": sorted({r["status"] for r in idle}),
              "stop_during_advance_s": round(statistics.median(r["s"] for r in busy), 3),
              "stop_during_advance_max_s": round(max(r["s"] for r in busy), 3),
              "stop_during_advance_status": sorted({r["status"] for r in busy}),
              "stop_during_advance_answers": sorted({f"{r['advance_status']} {r['advance_code']}" for r in busy}),
              "stop_tracebacks": sum(r["traceback"] for r in idle + busy)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
