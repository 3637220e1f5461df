"""A subscribe snapshot across workers (`--redis`): the events it already shows are not pushed
again after it, and every change after it is pushed once, as in one process. Real worker
processes, raw frames; the leader (whose relay carries the events) is paused with SIGSTOP
while the change commits through the other worker and the socket there subscribes, so the
snapshot is read before the worker has heard the change."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import orjson

from redis_support import redis_prefix  # noqa: F401 (fixture)
from scale_support import cluster, demo_credentials, login_frame, wait_for  # noqa: F401 (fixture)
from serving_support import START_WAIT_S

START = "2026-01-01T00:00:00Z"
MANUAL = ("--clock", "manual", "--start", START, "--no-rate-limits")


def _place(worker, creds, price: str):
    r = worker.signed(creds, "POST", "/api/v2/spot/trade/place-order", {
        "symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc", "price": price,
        "size": "0.01"})
    assert r.json()["code"] == "00000", r.text
    return r.json()["data"]["orderId"]


async def _frames(ws, until, quiet_s: float = 1.0) -> list:
    """Frames until `until(frames)` holds and then nothing more for quiet_s (anything doubled
    would have come by then)."""
    frames = []
    while True:
        try:
            msg = await ws.receive(timeout=quiet_s if until(frames) else START_WAIT_S)
        except asyncio.TimeoutError:
            return frames
        frames.append(orjson.loads(msg.data))


def test_a_bitget_snapshot_is_not_followed_by_the_changes_it_shows(cluster):
    a = cluster("a", *MANUAL)
    wait_for(a.leads, 10, "a leads")
    b = cluster("b", *MANUAL)
    creds = demo_credentials(a.out_path.parent)

    async def scenario():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(b.url + "/v2/ws/private") as ws:
                await ws.send_str(login_frame(creds))
                assert orjson.loads((await ws.receive(timeout=START_WAIT_S)).data)["event"] == "login"
                a.proc.send_signal(signal.SIGSTOP)  # nothing is relayed: b hears nothing new
                try:
                    first = _place(b, creds, "1000")  # committed: USDT frozen, the order live
                    await ws.send_str(orjson.dumps({"op": "subscribe", "args": [
                        {"instType": "SPOT", "channel": "account", "coin": "USDT"},
                        {"instType": "SPOT", "channel": "orders", "instId": "default"}]}).decode())
                    acks = await _frames(ws, lambda f: len(f) >= 3, quiet_s=0.3)
                finally:
                    a.proc.send_signal(signal.SIGCONT)
                snapshot = next(f for f in acks if f.get("arg", {}).get("channel") == "account" and "data" in f)
                frozen = snapshot["data"][0]["frozen"]
                assert float(frozen) == 10.0  # the snapshot shows the first order's frozen USDT
                wait_for(lambda: a.health()["cluster"]["relayed"] >= 1, 10, "the first order relayed")
                second = _place(a, creds, "1001")  # after the subscription: pushed once

                def both(frames):
                    return sum(1 for f in frames if f.get("arg", {}).get("channel") == "orders") >= 1 and \
                        sum(1 for f in frames if f.get("arg", {}).get("channel") == "account") >= 1
                return first, second, acks, await _frames(ws, both)

    first, second, acks, pushes = asyncio.run(scenario())
    accounts = [f["data"][0]["frozen"] for f in pushes if f.get("arg", {}).get("channel") == "account"]
    orders = [(o["orderId"], o["status"]) for f in pushes if f.get("arg", {}).get("channel") == "orders"
              for o in f["data"]]
    assert [float(x) for x in accounts] == [20.01]  # the second order's change only, once
    assert orders == [(second, "live")]  # the first order committed before the subscription
    assert not any(f.get("arg", {}).get("channel") == "orders" and "data" in f for f in acks)


def test_a_coinw_snapshot_is_not_followed_by_the_move_it_shows(cluster):
    a = cluster("a", *MANUAL)
    wait_for(a.leads, 10, "a leads")
    b = cluster("b", *MANUAL)

    def move(worker, price: str) -> None:
        r = worker.http.post("/localex/prices", json={"venue": "coinw", "market": "futures",
                                                     "symbol": "BTC", "price": price})
        assert r.status_code == 200, r.text

    async def scenario():
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(b.url + "/perpum") as ws:
                a.proc.send_signal(signal.SIGSTOP)
                try:
                    move(b, "91000")
                    await ws.send_str(orjson.dumps({"event": "sub", "params": {
                        "biz": "futures", "type": "mark_price", "pairCode": "BTC"}}).decode())
                    acks = await _frames(ws, lambda f: len(f) >= 2, quiet_s=0.3)
                finally:
                    a.proc.send_signal(signal.SIGCONT)
                wait_for(lambda: a.health()["cluster"]["relayed"] >= 1, 10, "the move relayed")
                move(a, "92000")
                return acks, await _frames(ws, lambda f: len(f) >= 1)

    acks, pushes = asyncio.run(scenario())
    assert [str(f["data"]["p"]) for f in acks if f.get("channel") != "subscribe"] == ["91000"]  # the snapshot
    assert [str(f["data"]["p"]) for f in pushes] == ["92000"]  # the later move only
