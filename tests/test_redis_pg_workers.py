"""`localex serve --workers 2` on PostgreSQL with --redis, as real processes: private pushes once
and in commit order on every socket whichever worker holds it; kill -9 of the leader worker — a
new leader, no fill doubled or lost. Needs PostgreSQL (tests/stores.py) and Redis
(tests/redis_support.py): skipped locally without them, failed on CI."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import orjson
import pytest

from redis_support import drop_prefix, need_redis
from scale_support import Served, check_fills_once, login_frame, straddle, wait_for
from stores import require_pg


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


def test_kill_9_of_the_leader_worker_a_new_leader_no_fill_doubled_or_lost(served):
    server = served("--workers", "2", "--price-path", "random")
    first = server.leader()
    placed = straddle(server.url, server.signed, 6)
    wait_for(server.fills, 20, "a fill by the first leader")
    os.kill(first["pid"], signal.SIGKILL)
    killed_at, killed_ms = time.monotonic(), int(time.time() * 1000)
    second = wait_for(lambda: (lambda h: h if h["leader"] and h["pid"] != first["pid"] else None)(
        server.health()), 20, "another worker leads", step=0.02)
    print(f"failover after kill -9 of the leader worker: {time.monotonic() - killed_at:.2f} s "
          f"(worker {first['worker']} -> {second['worker']})")
    placed += straddle(server.url, server.signed, 6)
    wait_for(lambda: any(int(f["createdMs"]) > killed_ms for f in server.fills()), 20,
             "a fill by the new leader")
    server.stop()
    check_fills_once(served.db, server.creds["uid"], placed, killed_ms)
