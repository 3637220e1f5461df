"""`localex serve --workers 2` on PostgreSQL with --redis, as real processes: private pushes once
and in commit order on every socket whichever worker holds it; kill -9 of the leader worker — a
new leader, no fill doubled or lost. Needs PostgreSQL (tests/stores.py) and Redis
(tests/redis_support.py): skipped locally without them, failed on CI."""

from __future__ import annotations

import asyncio
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

from localex.engine import Engine
from localex.engine.model import OrderStatus, Side
from localex.store import open_store
from redis_support import REDIS_URL, drop_prefix, need_redis
from scale_support import login_frame, wait_for
from serving_support import printed_url, serve_command, stop, wait_healthy
from stores import require_pg
from wire_signing import signed_headers

KEY = "bitget:spot:BTCUSDT"


class Served:
    """`localex serve --workers N --redis ...` on a free port."""

    def __init__(self, tmp: Path, db: str, prefix: str, *args: str) -> None:
        self.log = tmp / "serve.out"
        env = {k: v for k, v in os.environ.items() if k != "LOCALEX_ADMIN_TOKEN"}
        env["LOCALEX_REDIS_PREFIX"] = prefix
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                serve_command("--db", db, "--port", "0", "--quiet", "--redis", REDIS_URL,
                              "--write-credentials", "creds.json", "--no-rate-limits", *args),
                stdout=out, stderr=subprocess.STDOUT, cwd=tmp, env=env)
        self.url = wait_healthy(self.proc, lambda: printed_url(self.log), self.log.read_text)[0]
        self.creds = next(a for a in json.loads((tmp / "creds.json").read_text())["bitget"]
                          if a["name"] == "demo")

    def health(self) -> dict:
        """Asked on a new connection each time: any worker may answer."""
        return httpx.get(self.url + "/localex/health", timeout=5).json()["cluster"]

    def leader(self, timeout: float = 20) -> dict:
        return wait_for(lambda: (lambda h: h if h["leader"] else None)(self.health()), timeout,
                        "a worker that leads", step=0.02)

    def signed(self, method: str, path: str, body: dict | None = None):
        raw = orjson.dumps(body) if body is not None else b""
        c = self.creds
        headers = signed_headers(c["apiKey"], c["secretKey"], c["passphrase"], method, path, "", raw)
        return httpx.request(method, self.url + path, content=raw or None, headers=headers, timeout=10)

    def stop(self) -> None:
        stop(self.proc)


@pytest.fixture
def served(tmp_path):
    need_redis()
    db = require_pg()
    from stores import pg_store

    pg_store().close()  # an empty world for this test
    prefix = f"localex-test-{os.urandom(6).hex()}"
    started = []

    def start(*args: str) -> Served:
        server = Served(tmp_path, db, prefix, *args)
        started.append(server)
        return server

    start.db = db
    yield start
    for server in started:
        server.stop()
    drop_prefix(prefix)


async def _watch(url: str, creds: dict, ready: asyncio.Event, frames: list, done: asyncio.Event):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url.replace("http", "ws") + "/v2/ws/private") as ws:
            await ws.send_str(login_frame(creds))
            await ws.send_str(orjson.dumps({"op": "subscribe", "args": [
                {"instType": "SPOT", "channel": "orders", "instId": "default"}]}).decode())
            while not done.is_set():
                try:
                    msg = await ws.receive(timeout=0.2)
                except asyncio.TimeoutError:
                    continue
                frame = orjson.loads(msg.data)
                if frame.get("event") == "subscribe":
                    ready.set()
                elif frame.get("arg", {}).get("channel") == "orders" and "data" in frame:
                    frames.extend(frame["data"])


def test_pushes_once_and_in_order_on_sockets_at_every_worker(served):
    server = served("--workers", "2")
    server.leader()
    creds, n, sockets = server.creds, 10, 4

    async def scenario():
        frames = [[] for _ in range(sockets)]
        ready = [asyncio.Event() for _ in range(sockets)]
        done = asyncio.Event()
        tasks = [asyncio.create_task(_watch(server.url, creds, ready[i], frames[i], done))
                 for i in range(sockets)]  # the kernel hands each connection to some worker
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), 30)
        expected = []

        def place_and_cancel():
            ids = []
            for i in range(n):  # each request on a new connection: any worker answers it
                r = server.signed("POST", "/api/v2/spot/trade/place-order", {
                    "symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
                    "price": str(1000 + i), "size": "0.001"})
                assert r.json()["code"] == "00000", r.text
                ids.append(r.json()["data"]["orderId"])
                expected.append((ids[-1], "live"))
            for order_id in ids:
                r = server.signed("POST", "/api/v2/spot/trade/cancel-order",
                                  {"symbol": "BTCUSDT", "orderId": order_id})
                assert r.json()["code"] == "00000", r.text
                expected.append((order_id, "cancelled"))

        await asyncio.get_running_loop().run_in_executor(None, place_and_cancel)
        deadline = time.monotonic() + 20
        while any(len(f) < len(expected) for f in frames) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # anything doubled would arrive by now
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        return expected, frames

    expected, frames = asyncio.run(scenario())
    for seen in frames:
        assert [(f["orderId"], f["status"]) for f in seen] == expected


def _straddle(server: Served, pairs: int) -> list[str]:
    ids = []
    for k in range(1, pairs + 1):
        mark = Decimal(httpx.get(server.url + "/localex/prices", timeout=5).json()[KEY])
        for side, price in (("buy", mark - Decimal("0.5") * k), ("sell", mark + Decimal("0.5") * k)):
            r = server.signed("POST", "/api/v2/spot/trade/place-order", {
                "symbol": "BTCUSDT", "side": side, "orderType": "limit", "force": "gtc",
                "price": str(price.quantize(Decimal("0.01"))), "size": "0.0001"})
            assert r.json()["code"] == "00000", r.text
            ids.append(r.json()["data"]["orderId"])
    return ids


def _fills(server: Served) -> list:
    return httpx.get(server.url + "/localex/fills", params={"uid": server.creds["uid"]}, timeout=5).json()


def test_kill_9_of_the_leader_worker_a_new_leader_no_fill_doubled_or_lost(served):
    server = served("--workers", "2", "--price-path", "random")
    first = server.leader()
    placed = _straddle(server, 6)
    wait_for(lambda: _fills(server), 20, "a fill by the first leader")
    os.kill(first["pid"], signal.SIGKILL)
    killed_at, killed_ms = time.monotonic(), int(time.time() * 1000)
    second = wait_for(lambda: (lambda h: h if h["leader"] and h["pid"] != first["pid"] else None)(
        server.health()), 20, "another worker leads", step=0.02)
    print(f"failover after kill -9 of the leader worker: {time.monotonic() - killed_at:.2f} s "
          f"(worker {first['worker']} -> {second['worker']})")
    placed += _straddle(server, 6)
    wait_for(lambda: any(int(f["createdMs"]) > killed_ms for f in _fills(server)), 20,
             "a fill by the new leader")
    server.stop()

    engine = Engine(open_store(served.db))
    try:
        uid = server.creds["uid"]
        orders = {str(o.order_id): o for o in engine.spot_orders(uid)}
        fills = engine.spot_fills(uid)
        assert len({f.trade_id for f in fills}) == len(fills)
        for order_id in placed:
            order = orders[order_id]
            mine = [f for f in fills if str(f.order_id) == order_id]
            assert sum((f.size for f in mine), Decimal(0)) == order.filled_size <= order.size
            assert len(mine) <= 1
        mark = engine.mark(engine.instrument("bitget", "spot", "BTCUSDT"))
        for order_id in placed:
            order = orders[order_id]
            if order.status is OrderStatus.LIVE:
                assert (order.price < mark) if order.side is Side.BUY else (order.price > mark)
        assert any(f.created_ms > killed_ms for f in fills) and any(f.created_ms < killed_ms for f in fills)
    finally:
        engine.store.close()
