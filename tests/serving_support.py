"""`localex serve` as a real child process, for every test that needs one: one way to pick a
port, to wait until the server answers, and to stop it.

The start-up wait is a bound on a server that hangs, not a speed check: a server that fails to
start exits, and that is seen (and its output shown) at once. On a starved machine a healthy
start has been seen to take ~20 s of wall time, so the bound is far above that."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import httpx

START_WAIT_S = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "localex", "serve", *args]


def printed_url(log: Path) -> str | None:
    """The address a server started with `--port 0` printed, once it has."""
    found = re.search(r"on (http://127\.0\.0\.1:\d+)", log.read_text())
    return found.group(1) if found else None


def wait_healthy(proc: subprocess.Popen, url: str | Callable[[], str | None],
                 output: Callable[[], str], timeout: float = START_WAIT_S) -> tuple[str, dict]:
    """Wait until `proc` answers /localex/health with 200; its address and that answer.
    `url` is the address, or a function that finds it (None until known)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"localex exited with {proc.returncode}:\n{output()}")
        at = url() if callable(url) else url
        if at:
            try:
                response = httpx.get(at + "/localex/health", timeout=2)
                if response.status_code == 200:
                    return at, response.json()
            except httpx.TransportError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"localex did not answer in {timeout}s:\n{output()}")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not gone in 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
