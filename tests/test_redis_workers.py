"""Several real worker processes over one database and one Redis: a rate limit counted once,
private pushes exactly once and in commit order whichever worker made the change and whichever
holds the socket, a snapshot taken through one worker restored for all."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import orjson
import pytest

from redis_support import redis_prefix  # noqa: F401 (fixture)
from scale_support import cluster, demo_credentials, login_frame, wait_for  # noqa: F401 (fixture)
from serving_support import START_WAIT_S

START = "2026-01-01T00:00:00Z"


def test_a_rate_limit_is_counted_once_across_two_workers(cluster):
    # market time frozen and used as the wall clock: the window cannot slide during the test
    args = ("--clock", "manual", "--start", START, "--sign-with-market-clock")
    a = cluster("a", *args)
    b = cluster("b", *args)
    codes, remains = [], []
    for i in range(24):  # /api/v2/public/time: 20 a second per IP
        response = (a, b)[i % 2].http.get("/api/v2/public/time")
        codes.append(response.status_code)
        remains.append(int(response.headers["x-mbx-used-remain-limit"]))
    assert codes == [200] * 20 + [429] * 4
    assert remains == list(range(19, -1, -1)) + [0] * 4
    assert orjson.loads(a.http.get("/api/v2/public/time").content)["code"] == "429"


async def _watch(url: str, creds: dict, ready: asyncio.Event, frames: list, done: asyncio.Event):
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url + "/v2/ws/private") as ws:
            await ws.send_str(login_frame(creds))
            await ws.send_str(orjson.dumps({"op": "subscribe", "args": [
                {"instType": "SPOT", "channel": "orders", "instId": "default"}]}).decode())
            while True:
                msg = await ws.receive(timeout=START_WAIT_S)
                frame = orjson.loads(msg.data)
                if frame.get("event") == "subscribe":
                    ready.set()
                elif frame.get("arg", {}).get("channel") == "orders" and "data" in frame:
                    frames.extend(frame["data"])
                if done.is_set():
                    return


def test_private_pushes_reach_each_socket_once_in_commit_order(cluster):
    a = cluster("a", "--clock", "manual", "--start", START, "--no-rate-limits")
    b = cluster("b", "--clock", "manual", "--start", START, "--no-rate-limits")
    creds = demo_credentials(a.out_path.parent)
    wait_for(lambda: a.leads() or b.leads(), 10, "a leader")
    n = 12

    async def scenario():
        frames_a, frames_b = [], []
        ready_a, ready_b, done = asyncio.Event(), asyncio.Event(), asyncio.Event()
        tasks = [asyncio.create_task(_watch(b.url, creds, ready_b, frames_b, done)),
                 asyncio.create_task(_watch(a.url, creds, ready_a, frames_a, done))]
        await asyncio.wait_for(asyncio.gather(ready_a.wait(), ready_b.wait()), START_WAIT_S)
        expected = []

        def place_and_cancel():
            ids = []
            for i in range(n):  # placed through both workers in turn
                worker = (a, b)[i % 2]
                r = worker.signed(creds, "POST", "/api/v2/spot/trade/place-order", {
                    "symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
                    "price": str(1000 + i), "size": "0.001"})
                assert r.json()["code"] == "00000", r.text
                ids.append(r.json()["data"]["orderId"])
                expected.append((ids[-1], "live"))
            for i, order_id in enumerate(ids):  # and cancelled through the other one
                worker = (b, a)[i % 2]
                r = worker.signed(creds, "POST", "/api/v2/spot/trade/cancel-order",
                                  {"symbol": "BTCUSDT", "orderId": order_id})
                assert r.json()["code"] == "00000", r.text
                expected.append((order_id, "cancelled"))

        await asyncio.get_running_loop().run_in_executor(None, place_and_cancel)
        for frames in (frames_a, frames_b):
            deadline = time.monotonic() + 20
            while len(frames) < len(expected) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # anything doubled would arrive by now
        done.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return expected, frames_a, frames_b

    expected, frames_a, frames_b = asyncio.run(scenario())
    for frames in (frames_a, frames_b):
        assert [(f["orderId"], f["status"]) for f in frames] == expected


def test_a_snapshot_taken_through_one_worker_restores_for_all(cluster):
    a = cluster("a", "--clock", "manual", "--start", START)
    b = cluster("b", "--clock", "manual", "--start", START)
    creds = demo_credentials(a.out_path.parent)
    snapshot = a.http.get("/localex/snapshot").json()

    def assets(worker):
        r = worker.signed(creds, "GET", "/api/v2/spot/account/assets", query="coin=USDT")
        return r.json()["data"]

    before = assets(a)
    r = b.signed(creds, "POST", "/api/v2/spot/trade/place-order", {
        "symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc", "price": "1000",
        "size": "0.01"})
    assert r.json()["code"] == "00000"
    assert assets(a) != before and assets(b) == assets(a)  # the frozen USDT is seen by both
    restored = b.http.post("/localex/snapshot", content=orjson.dumps(snapshot),
                           headers={"content-type": "application/json"})
    assert restored.status_code == 200, restored.text
    assert assets(a) == before and assets(b) == before
    uid = creds["uid"]
    assert a.http.get("/localex/orders", params={"uid": uid}).json() == []
    assert b.http.get("/localex/orders", params={"uid": uid}).json() == []


def _pro(creds: dict, url: str):
    import ccxt.pro as ccxtpro

    exchange = ccxtpro.bitget({"apiKey": creds["apiKey"], "secret": creds["secretKey"],
                               "password": creds["passphrase"]})
    ws_url = url.replace("http://", "ws://")
    api = exchange.urls["api"]
    for name in list(api):
        if isinstance(api[name], str):
            api[name] = url
    api["ws"] = {"public": ws_url + "/v2/ws/public", "private": ws_url + "/v2/ws/private",
                 "utaPublic": ws_url + "/v3/ws/public", "utaPrivate": ws_url + "/v3/ws/private"}
    return exchange


def test_ccxt_pro_on_one_worker_hears_orders_placed_through_another(cluster):
    a = cluster("a", "--clock", "manual", "--start", START, "--no-rate-limits")
    b = cluster("b", "--clock", "manual", "--start", START, "--no-rate-limits")
    creds = demo_credentials(a.out_path.parent)
    wait_for(lambda: a.leads() or b.leads(), 10, "a leader")

    async def scenario():
        watcher, trader = _pro(creds, b.url), _pro(creds, a.url)  # the socket on b, orders to a
        try:
            await watcher.load_markets()
            trader.set_markets(list(watcher.markets.values()), watcher.currencies)
            watching = asyncio.ensure_future(watcher.watch_orders("BTC/USDT"))
            probes = []
            deadline = time.monotonic() + START_WAIT_S  # bounds a hung worker only
            while not watching.done():  # until the subscription is live: a probe order is heard
                probes.append((await trader.create_order("BTC/USDT", "limit", "buy", 0.002, 900))["id"])
                await asyncio.wait([watching], timeout=1)
                assert time.monotonic() < deadline, "the subscription never went live"
            placed = [await trader.create_order("BTC/USDT", "limit", "buy", 0.001, 1000 + i)
                      for i in range(5)]
            deadline = time.monotonic() + START_WAIT_S
            while time.monotonic() < deadline:
                if len([o for o in watcher.orders if o["id"] not in probes]) >= len(placed):
                    break
                await asyncio.wait_for(watcher.watch_orders("BTC/USDT"), START_WAIT_S)
            rest = [(o["id"], o["status"], o["price"]) for o in watcher.orders if o["id"] not in probes]
            return [p["id"] for p in placed], rest
        finally:
            await watcher.close()
            await trader.close()

    placed, seen = asyncio.run(scenario())
    assert [s[0] for s in seen] == placed  # each once, in the order they were placed
    assert [s[1] for s in seen] == ["open"] * 5 and [s[2] for s in seen] == [1000.0 + i for i in range(5)]


def test_a_restarted_worker_resumes_the_stream_where_it_stopped(cluster):
    a = cluster("a", "--clock", "manual", "--start", START, "--no-rate-limits")
    b = cluster("b", "--clock", "manual", "--start", START, "--no-rate-limits")
    creds = demo_credentials(a.out_path.parent)
    wait_for(lambda: a.leads(), 10, "a leads")
    b.stop()  # b saved its position on the way out
    for i in range(3):  # committed and relayed while b is down
        r = a.signed(creds, "POST", "/api/v2/spot/trade/place-order", {
            "symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
            "price": str(1000 + i), "size": "0.001"})
        assert r.json()["code"] == "00000"
    relayed = wait_for(lambda: a.health()["cluster"]["relayed"] or None, 10, "relayed")
    again = cluster("b", "--clock", "manual", "--start", START, "--no-rate-limits")  # same name
    fresh = cluster("c", "--clock", "manual", "--start", START, "--no-rate-limits")  # a new one
    # b delivers what it missed (the orders and balances of the three placements); c starts at
    # the stream's end and has nothing to deliver until something new commits
    assert wait_for(lambda: again.health()["cluster"]["delivered"], 10, "b catches up") >= 6
    assert fresh.health()["cluster"]["delivered"] == 0
    assert relayed >= 6


def test_an_order_held_by_a_latency_model_arrives_through_the_leader(cluster):
    """Placed through the follower, held back by a latency fill model set through the leader:
    the leader lets it in when it is due (the follower never does)."""
    a = cluster("a", "--no-rate-limits")
    wait_for(a.leads, 10, "a leads")
    b = cluster("b", "--no-rate-limits")
    creds = demo_credentials(a.out_path.parent)
    r = a.http.post("/localex/fill-models", json={"scope": "bitget", "kind": "latency", "params": {"ms": 1500}})
    assert r.status_code == 200, r.text
    r = b.signed(creds, "POST", "/api/v2/spot/trade/place-order", {
        "symbol": "BTCUSDT", "side": "buy", "orderType": "market", "force": "gtc", "size": "10"})
    assert r.json()["code"] == "00000", r.text
    order_id = r.json()["data"]["orderId"]

    def status():
        rows = b.http.get("/localex/orders", params={"uid": creds["uid"]}).json()
        return next(o["status"] for o in rows if o["orderId"] == order_id)

    assert status() == "live"  # held back
    assert wait_for(lambda: status() == "filled", 10, "the order arrives")
