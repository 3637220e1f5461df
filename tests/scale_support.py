"""Real `localex serve --redis` worker processes over one database, for the scale-out tests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import orjson
import pytest

from redis_support import REDIS_URL, redis_prefix  # noqa: F401 (the cluster fixture's)
from serving_support import START_WAIT_S, free_port, serve_command, stop, wait_healthy
from wire_signing import signed_headers


class Worker:
    """One `localex serve` process, a worker named `name` of the world under `prefix`."""

    def __init__(self, workdir: Path, name: str, prefix: str, db: str, *args: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.out_path = workdir / f"{name}.out"
        self.err_path = workdir / f"{name}.err"
        env = {k: v for k, v in os.environ.items() if k != "LOCALEX_ADMIN_TOKEN"}
        env.update(LOCALEX_REDIS_PREFIX=prefix, LOCALEX_WORKER=name)
        with open(self.out_path, "ab") as out, open(self.err_path, "ab") as err:
            self.proc = subprocess.Popen(
                serve_command("--port", str(self.port), "--db", db, "--redis", REDIS_URL, "-q", *args),
                stdout=out, stderr=err, cwd=workdir, env=env)
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def wait_healthy(self) -> dict:
        return wait_healthy(self.proc, self.url, lambda: f"worker {self.name}:\n{self.err_path.read_text()}")[1]

    def health(self) -> dict:
        return self.http.get("/localex/health").json()

    def leads(self) -> bool:
        return self.health()["cluster"]["leader"]

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        self.http.close()
        stop(self.proc)

    # requests --------------------------------------------------------------------------------
    def signed(self, creds: dict, method: str, path: str, body: dict | None = None, query: str = ""):
        raw = orjson.dumps(body) if body is not None else b""
        headers = signed_headers(creds["apiKey"], creds["secretKey"], creds["passphrase"], method, path,
                                 query, raw)
        return self.http.request(method, path + ("?" + query if query else ""), content=raw or None,
                                 headers=headers)


class Workers:
    """The worker processes of one test's world: one SQLite file in `workdir`, one Redis prefix;
    the first worker started builds the world and writes the credentials (creds.json), the
    others find them; `common` goes to every worker."""

    def __init__(self, workdir: Path, prefix: str, *common: str) -> None:
        self.workdir, self.prefix, self.common = workdir, prefix, common
        self.db = str(workdir / "world.db")
        self.started: list[Worker] = []

    def start(self, name: str, *args: str) -> Worker:
        extra = ("--write-credentials", "creds.json") if not self.started else ("--no-credentials-file",)
        worker = Worker(self.workdir, name, self.prefix, self.db, *extra, *self.common, *args)
        self.started.append(worker)
        worker.wait_healthy()
        return worker

    def stop(self) -> None:
        for worker in self.started:
            worker.stop()


@pytest.fixture
def cluster(tmp_path, redis_prefix):  # noqa: F811
    """start(name, *args): a worker of this test's world (Workers)."""
    workers = Workers(tmp_path, redis_prefix)
    yield workers.start
    workers.stop()


def wait_for(condition, timeout: float, what: str, step: float = 0.05):
    """Poll `condition` until it gives a true value. `timeout` is how soon that happens on a quiet
    machine; the wait goes on up to START_WAIT_S, because a loaded machine is slower, not wrong:
    only a process that hangs fails it."""
    deadline = time.monotonic() + max(timeout, START_WAIT_S)
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what}: not within {max(timeout, START_WAIT_S)}s")


def demo_credentials(workdir: Path, file: str = "creds.json") -> dict:
    """The demo Bitget account's credentials, as the first worker wrote them."""
    accounts = json.loads((workdir / file).read_text())
    return next(acc for acc in accounts["bitget"] if acc["name"] == "demo")


def login_frame(creds: dict) -> str:
    ts = str(int(time.time()))
    mac = hmac.new(creds["secretKey"].encode(), f"{ts}GET/user/verify".encode(), hashlib.sha256)
    return orjson.dumps({"op": "login", "args": [{
        "apiKey": creds["apiKey"], "passphrase": creds["passphrase"], "timestamp": ts,
        "sign": base64.b64encode(mac.digest()).decode()}]}).decode()
