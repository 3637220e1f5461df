"""`localex serve` start to first answer: the wall time from starting the process to the first
200 from GET /localex/health (and the server's CPU time by then), on an in-memory store and on a SQLite file already at the head
revision (a restart), median of --runs.

    .venv/bin/python bench/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import httpx

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_to_answer(db: str, timeout_s: float = 30.0) -> tuple[float, float]:
    """(wall seconds, server CPU seconds) from the start of `localex serve` to its first answer."""
    port = free_port()
    exe = os.path.join(os.path.dirname(sys.executable), "localex")
    t0 = time.perf_counter()
    proc = subprocess.Popen([exe, "serve", "--db", db, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t0 < timeout_s:
            try:
                if httpx.get(f"http://{HOST}:{port}/localex/health", timeout=1.0).status_code == 200:
                    wall = time.perf_counter() - t0
                    with open(f"/proc/{proc.pid}/stat") as fh:  # the server's own CPU time so far
                        fields = fh.read().rsplit(")", 1)[1].split()
                    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                    return wall, cpu
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                raise RuntimeError("the server exited")
            time.sleep(0.005)
        raise RuntimeError("no answer")
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "start.db")
        start_to_answer(path)  # create and migrate the file once
        memory = [start_to_answer(":memory:") for _ in range(args.runs)]
        restart = [start_to_answer(path) for _ in range(args.runs)]
    result = {"memory_s": round(statistics.median(w for w, _ in memory), 3),
              "memory_cpu_s": round(statistics.median(c for _, c in memory), 3),
              "file_restart_s": round(statistics.median(w for w, _ in restart), 3),
              "file_restart_cpu_s": round(statistics.median(c for _, c in restart), 3)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
