"""Several worker processes sharing one port: `localex serve --workers N`.

A small pre-fork supervisor. The parent binds the port and builds the world (migrations, the
demo accounts) before any worker exists, then forks N workers; each opens its own store (its own
database connection) and runs its own uvicorn server on the inherited listening socket, and the
kernel hands each new connection to one of them. A worker that dies (even by kill -9) is started
again under the same number. SIGINT or SIGTERM to the parent stops every worker: they get
SIGTERM (uvicorn's half second of graceful shutdown), and whatever still runs after
STOP_WITHIN_S is killed, so the whole server is gone within a second.

Which worker runs the market's time-driven work is decided among them (and the workers of other
hosts on the same database): a PostgreSQL session advisory lock (scale/pglease.py), or the Redis
lease with --redis (scale/leader.py); a worker that dies frees it for another, which takes that
work over from the stored state.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from typing import Callable

STOP_WITHIN_S = 0.9  # from the stop signal to the last worker gone
RESTART_DELAY_S = 0.2
MAX_QUICK_DEATHS = 5  # a worker dying this many times in a row within a second of starting: give up


class _Stop(Exception):
    pass


def run_workers(count: int, serve_worker: Callable[[int], None], *, log=sys.stderr) -> int:
    """Fork `count` workers, worker i running serve_worker(i) (which returns when the worker
    is told to stop); keep them running until SIGINT / SIGTERM. Returns the exit status."""
    children: dict[int, tuple[int, float]] = {}  # pid -> (index, started at)
    quick_deaths = [0] * count

    def spawn(index: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            status = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                serve_worker(index)
            except BaseException:  # noqa: BLE001  said, then the worker ends
                traceback.print_exc()
                status = 1
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(status)
        children[pid] = (index, time.monotonic())

    def stop(_signum, _frame):
        raise _Stop

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        for index in range(count):
            spawn(index)
        while True:
            pid, code = os.waitpid(-1, 0)
            if pid not in children:
                continue
            index, started = children.pop(pid)
            how = _how(code)
            if time.monotonic() - started < 1.0:
                quick_deaths[index] += 1
                if quick_deaths[index] >= MAX_QUICK_DEATHS:
                    log.write(f"localex: worker {index + 1} keeps failing to start ({how}); stopping\n")
                    status = 1
                    break
            else:
                quick_deaths[index] = 0
            log.write(f"localex: worker {index + 1} (pid {pid}) {how}; starting it again\n")
            log.flush()
            time.sleep(RESTART_DELAY_S)
            spawn(index)
    except _Stop:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if sig == signal.SIGINT else handler)
        _stop_all(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


def _how(code: int) -> str:
    if os.WIFSIGNALED(code):
        return f"was killed by signal {os.WTERMSIG(code)}"
    return f"exited with status {os.WEXITSTATUS(code)}"


def _stop_all(children: dict[int, tuple[int, float]]) -> None:
    for pid in children:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WITHIN_S
    while children and time.monotonic() < deadline:
        for pid in list(children):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                children.pop(pid, None)
        time.sleep(0.01)
    for pid in list(children):
        _signal(pid, signal.SIGKILL)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        children.pop(pid, None)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
