"""CoinW futures WebSocket (/perpum): ping / pong, login, subscribe acks, public and private
pushes, in-process (websockets) and over a real server. Waits are bounded; nothing is timed."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import orjson
import websockets

from localex.engine.model import OrderType, PositionSide, TradeSide

WAIT = 20
URL = "wss://ws.futurescw.com/perpum"


def frame(event, **params) -> str:
    return orjson.dumps({"event": event, "params": params}).decode()


async def recv(ws, pred=lambda f: True):
    while True:
        got = orjson.loads(await asyncio.wait_for(ws.recv(), WAIT))
        if pred(got):
            return got


def login(creds, secret=None) -> str:
    return frame("login", api_key=creds.api_key, passphrase=secret or creds.secret_key)


def test_ping_login_and_subscribe_acks(localex):
    creds = localex.create_user("coinw")

    async def scenario():
        async with websockets.connect(URL) as ws:
            await ws.send('{"event":"ping"}')
            assert await recv(ws) == {"event": "pong"}
            await ws.send(frame("sub", biz="futures", type="order"))
            assert await recv(ws) == {"biz": "futures", "data": {"result": False, "errorMsg": "please login first"},
                                      "channel": "subscribe", "type": "order"}
            await ws.send(login(creds, secret="not-the-secret"))
            refused = await recv(ws)
            assert refused["channel"] == "login" and refused["data"]["result"] is False
            await ws.send(login(creds))
            assert await recv(ws) == {"data": {"result": True}, "channel": "login"}
            await ws.send(frame("sub", biz="futures", type="depth", pairCode="BTC"))
            assert await recv(ws) == {"biz": "futures", "pairCode": "BTC", "data": {"result": True},
                                      "channel": "subscribe", "type": "depth"}
            book = await recv(ws)
            assert book["type"] == "depth" and book["pairCode"] == "BTC" and len(book["data"]["asks"]) == 100
            assert isinstance(book["data"]["asks"][0]["p"], (int, float))
            await ws.send(frame("sub", biz="futures", type="candles_swap", pairCode="BTC", interval="2"))
            assert (await recv(ws))["data"] == {"result": False, "errorMsg": "invalid interval"}
            await ws.send(frame("sub", biz="futures", type="ticker_swap", pairCode="NOPE"))
            assert (await recv(ws))["data"]["result"] is False
            await ws.send(frame("unsub", biz="futures", type="depth", pairCode="BTC"))
            assert (await recv(ws))["channel"] == "unsubscribe"

    asyncio.run(scenario())


def test_an_order_pushes_order_position_assets_and_public_fills_once_each(localex):
    creds = localex.create_user("coinw")

    async def scenario():
        async with websockets.connect(URL) as ws:
            await ws.send(login(creds))
            await recv(ws)
            for kind in ("order", "position", "assets"):
                await ws.send(frame("sub", biz="futures", type=kind))
                assert (await recv(ws))["data"]["result"] is True
            await ws.send(frame("sub", biz="futures", type="mark_price", pairCode="btc"))
            await recv(ws, lambda f: f.get("channel") == "subscribe")
            assert (await recv(ws))["data"]["n"] == "btc"
            order = localex.engine.place_futures_order(
                creds.uid, "futures", "BTC", pos_side=PositionSide.LONG, trade_side=TradeSide.OPEN,
                order_type=OrderType.MARKET, size=Decimal("0.01"))
            seen = {}
            while not {"order", "position", "assets"} <= set(seen):
                got = await recv(ws)
                seen.setdefault(got["type"], []).append(got)
            rows = [r for f in seen["order"] for r in f["data"]]
            assert {str(r["id"]) for r in rows} == {str(order.order_id)}
            assert seen["position"][0]["data"][0]["direction"] == "long" and "pairCode" not in seen["position"][0]
            assets = seen["assets"][-1]["data"][0]
            assert assets["currency"] == "usdt" and assets["available"] < 100000
            localex.set_price("BTC", "96000", venue="coinw", market="futures")
            mark = await recv(ws, lambda f: f.get("type") == "mark_price" and f["data"]["p"] != 95000)
            assert mark == {"biz": "futures", "pairCode": "btc", "data": {"p": 96000, "n": "btc"}, "type": "mark_price"}

    asyncio.run(scenario())


def test_coinw_stream_over_a_real_server(localex_server):
    creds = localex_server.create_user("coinw")
    url = localex_server.url.replace("http://", "ws://") + "/perpum"

    async def scenario():
        async with websockets.connect(url) as ws:
            pong = await ws.ping()  # protocol-level ping frames are answered too
            await asyncio.wait_for(pong, WAIT)
            await ws.send(login(creds))
            assert (await recv(ws))["data"]["result"] is True

    asyncio.run(scenario())
