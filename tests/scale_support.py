"""Real `localex serve` processes over one database (with or without Redis), for the scale-out
tests: a named worker (`Worker`), a server of several workers (`Served`), and the market
leader's checks (resting orders around the mark, no fill doubled or lost)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import httpx
import orjson
import pytest

from redis_support import REDIS_URL, redis_prefix  # noqa: F401 (the cluster fixture's)
from serving_support import START_WAIT_S, free_port, printed_url, serve_command, stop, wait_healthy
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
        self.http = httpx.Client(base_url=self.url, timeout=START_WAIT_S)

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


class Served:
    """`localex serve --db <db> --workers N ...` on a free port, with `--redis` when given a key
    prefix; the first of a world writes the demo credentials (`name`.json), later ones find the
    demo accounts in the database."""

    def __init__(self, tmp: Path, db: str, prefix: str | None, *args: str, name: str = "serve",
                 first: bool = True) -> None:
        self.log = tmp / f"{name}.out"
        env = {k: v for k, v in os.environ.items() if k != "LOCALEX_ADMIN_TOKEN"}
        redis: tuple[str, ...] = ()
        if prefix is not None:
            env["LOCALEX_REDIS_PREFIX"] = prefix
            redis = ("--redis", REDIS_URL)
        env["LOCALEX_WORKER"] = name
        creds = ("--write-credentials", "creds.json") if first else ("--no-credentials-file",)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                serve_command("--db", db, "--port", "0", "--quiet", *redis, *creds, "--no-rate-limits", *args),
                stdout=out, stderr=subprocess.STDOUT, cwd=tmp, env=env)
        self.url = wait_healthy(self.proc, lambda: printed_url(self.log), self.log.read_text)[0]
        self.creds = next(a for a in json.loads((tmp / "creds.json").read_text())["bitget"]
                          if a["name"] == "demo")

    def health(self) -> dict:
        """Asked on a new connection each time: any worker may answer."""
        return httpx.get(self.url + "/localex/health", timeout=START_WAIT_S).json()["cluster"]

    def leader(self, timeout: float = 20) -> dict:
        return wait_for(lambda: (lambda h: h if h["leader"] else None)(self.health()), timeout,
                        "a worker that leads", step=0.02)

    def signed(self, method: str, path: str, body: dict | None = None):
        raw = orjson.dumps(body) if body is not None else b""
        c = self.creds
        headers = signed_headers(c["apiKey"], c["secretKey"], c["passphrase"], method, path, "", raw)
        return httpx.request(method, self.url + path, content=raw or None, headers=headers,
                             timeout=START_WAIT_S)

    def fills(self) -> list:
        return httpx.get(self.url + "/localex/fills", params={"uid": self.creds["uid"]},
                         timeout=START_WAIT_S).json()

    def stop(self) -> None:
        stop(self.proc)


SPOT_KEY = "bitget:spot:BTCUSDT"


def straddle(url: str, signed, pairs: int) -> list[str]:
    """Resting orders just around the mark, on both sides (placed with `signed(method, path,
    body)` at the server at `url`): the walk's next steps cross some."""
    ids = []
    for k in range(1, pairs + 1):
        mark = Decimal(httpx.get(url + "/localex/prices", timeout=START_WAIT_S).json()[SPOT_KEY])
        for side, price in (("buy", mark - Decimal("0.5") * k), ("sell", mark + Decimal("0.5") * k)):
            r = signed("POST", "/api/v2/spot/trade/place-order", {
                "symbol": "BTCUSDT", "side": side, "orderType": "limit", "force": "gtc",
                "price": str(price.quantize(Decimal("0.01"))), "size": "0.0001"})
            assert r.json()["code"] == "00000", r.text
            ids.append(r.json()["data"]["orderId"])
    return ids


def check_fills_once(db: str, uid: str, placed: list[str], killed_ms: int) -> None:
    """After a leader was killed at `killed_ms` and the servers stopped: no fill twice, each
    placed order's fills adding up to its filled size, none left open that the final mark has
    reached, and fills both before and after the kill."""
    from localex.engine import Engine
    from localex.engine.model import OrderStatus, Side
    from localex.store import open_store

    engine = Engine(open_store(db))
    try:
        orders = {str(o.order_id): o for o in engine.spot_orders(uid)}
        fills = engine.spot_fills(uid)
        assert set(placed) <= set(orders)
        assert len({f.trade_id for f in fills}) == len(fills)  # no fill twice
        for order_id in placed:
            order = orders[order_id]
            mine = [f for f in fills if str(f.order_id) == order_id]
            assert sum((f.size for f in mine), Decimal(0)) == order.filled_size <= order.size
            assert len(mine) <= 1  # a resting order of this size fills whole, once
        mark = engine.mark(engine.instrument("bitget", "spot", "BTCUSDT"))
        for order_id in placed:  # nothing the market reached was left unfilled
            order = orders[order_id]
            if order.status is OrderStatus.LIVE:
                assert (order.price < mark) if order.side is Side.BUY else (order.price > mark)
        assert any(f.created_ms > killed_ms for f in fills)
        assert any(f.created_ms < killed_ms for f in fills)
    finally:
        engine.store.close()


@pytest.fixture
def pg_hosts(tmp_path):
    """start(name, *args): a `localex serve` of this test's world on the session's PostgreSQL
    database (emptied first), without Redis, as on a host of its own; the first writes the
    credentials. start.db is the database."""
    from stores import pg_store, require_pg

    db = require_pg()
    pg_store().close()  # an empty world for this test
    started: list[Served] = []

    def start(name: str, *args: str) -> Served:
        server = Served(tmp_path, db, None, *args, name=name, first=not started)
        started.append(server)
        return server

    start.db = db
    yield start
    for server in started:
        server.stop()
