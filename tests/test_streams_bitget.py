"""Bitget V2 WebSocket streams: raw frames (login, subscribe, errors, ping / pong, limits) through
the `websockets` library in-process, and ccxt pro unchanged, in-process and over a real server.

No timing assertions: every wait is for a frame or a condition, bounded by a generous timeout.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from decimal import Decimal

import ccxt.pro as ccxtpro
import orjson
import pytest
import websockets

from localex.engine.model import OrderType, Side
from localex.testing import mock_exchanges

WAIT = 20  # seconds: a bound on a wait, never an expectation

PUBLIC = "wss://ws.bitget.com/v2/ws/public"
PRIVATE = "wss://ws.bitget.com/v2/ws/private"
_MARKETS: list = []


def login_frame(creds, timestamp=None, secret=None, passphrase=None, sign=None) -> str:
    ts = str(int(time.time())) if timestamp is None else timestamp
    mac = hmac.new((secret or creds.secret_key).encode(), f"{ts}GET/user/verify".encode(), hashlib.sha256)
    return orjson.dumps({"op": "login", "args": [{
        "apiKey": creds.api_key, "passphrase": passphrase or creds.passphrase, "timestamp": ts,
        "sign": sign or base64.b64encode(mac.digest()).decode()}]}).decode()


def sub(channel, inst_type="SPOT", inst_id="BTCUSDT", op="subscribe", key="instId") -> str:
    return orjson.dumps({"op": op, "args": [{"instType": inst_type, "channel": channel, key: inst_id}]}).decode()


async def recv(ws, pred=lambda f: True):
    """The next frame (JSON decoded unless it is plain text) that satisfies pred."""
    while True:
        raw = await asyncio.wait_for(ws.recv(), WAIT)
        frame = raw if not raw.startswith(("{", "[")) else orjson.loads(raw)
        if pred(frame):
            return frame


async def until(condition, timeout=WAIT):
    """Wait for a condition to hold (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


def subscribed(emulator, *channels):
    streams = emulator.app.venue("bitget").streams
    return lambda: set(channels) <= {topic[1] for topic in streams.subs.topics()}


def run(coro):
    return asyncio.run(coro)


def pro(creds=None, url: str | None = None) -> ccxtpro.bitget:
    exchange = ccxtpro.bitget(creds.ccxt if creds is not None else {})
    if url is not None:  # a server: REST and both stream URLs point at it, the ws dict kept
        ws_url = url.replace("http://", "ws://")
        api = exchange.urls["api"]
        for name in list(api):
            if isinstance(api[name], str):
                api[name] = url
        api["ws"] = {"public": ws_url + "/v2/ws/public", "private": ws_url + "/v2/ws/private",
                     "utaPublic": ws_url + "/v3/ws/public", "utaPrivate": ws_url + "/v3/ws/private"}
    return exchange


async def load(exchange):
    if not _MARKETS:
        await exchange.load_markets()
        _MARKETS.append((exchange.markets, exchange.currencies))
    else:
        exchange.set_markets(list(_MARKETS[0][0].values()), _MARKETS[0][1])


# raw frames ---------------------------------------------------------------------------------
def test_ping_login_subscribe_and_their_acks(localex):
    creds = localex.create_user()

    async def scenario():
        async with websockets.connect(PRIVATE) as ws:
            await ws.send("ping")
            assert await ws.recv() == "pong"
            await ws.send(sub("orders", inst_id="default"))
            refused = await recv(ws)
            assert refused == {"event": "error", "arg": {"instType": "SPOT", "channel": "orders",
                                                         "instId": "default"},
                               "code": 30004, "msg": "User not logged in/User must be logged in"}
            await ws.send(login_frame(creds))
            ack = await recv(ws)
            assert ack == {"event": "login", "code": 0, "msg": ""} and type(ack["code"]) is int
            await ws.send(sub("orders", inst_id="default"))
            assert await recv(ws) == {"event": "subscribe", "arg": {"instType": "SPOT", "channel": "orders",
                                                                     "instId": "default"}}
            await ws.send(sub("orders", inst_id="default", op="unsubscribe"))
            assert (await recv(ws))["event"] == "unsubscribe"

    run(scenario())


@pytest.mark.parametrize("change, code, msg", [
    (dict(sign="AAAA"), 30015, "Invalid sign"),
    (dict(passphrase="wrong"), 30012, "Invalid ACCESS_PASSPHRASE"),
    (dict(timestamp="1600000000"), 30014, "Request timestamp expired"),
    (dict(timestamp="soon"), 30013, "Invalid ACCESS_TIMESTAMP"),
])
def test_a_bad_login_is_refused_with_a_numeric_code_and_the_socket_stays_open(localex, change, code, msg):
    creds = localex.create_user()

    async def scenario():
        async with websockets.connect(PRIVATE) as ws:
            await ws.send(login_frame(creds, **change))
            assert await recv(ws) == {"event": "error", "code": code, "msg": msg}
            await ws.send(sub("account", inst_id="default", key="coin"))
            assert (await recv(ws))["code"] == 30004  # still not logged in, still connected
            await ws.send(login_frame(creds, timestamp=str(int(time.time() * 1000))))  # ms works too
            assert (await recv(ws))["event"] == "login"

    run(scenario())


def test_an_unknown_key_channel_instrument_or_op_gets_bitgets_codes(localex):
    creds = localex.create_user()
    other = localex.create_user()

    async def scenario():
        async with websockets.connect(PUBLIC) as ws:
            await ws.send(login_frame(creds, secret=other.secret_key).replace(creds.api_key, "bg_nokey"))
            assert await recv(ws) == {"event": "error", "code": 30011, "msg": "Invalid ACCESS_KEY"}
            await ws.send(sub("candle3H"))
            frame = await recv(ws)
            assert frame["code"] == 30001 and frame["msg"] == "instType:SPOT,channel:candle3H,instId:BTCUSDT doesn't exist"
            await ws.send(sub("ticker", inst_id="NOPEUSDT"))
            assert (await recv(ws))["code"] == 30001
            await ws.send(sub("ticker", inst_type="MARGINX"))
            assert (await recv(ws))["code"] == 30001
            await ws.send('{"op":"trade","args":[]}')
            assert await recv(ws) == {"event": "error", "code": 30003, "msg": "invalid op"}
            await ws.send("not json")
            assert (await recv(ws))["code"] == 30002
            await ws.send('{"op":"subscribe","args":[]}')
            assert (await recv(ws))["code"] == 30016

    run(scenario())


def test_more_than_ten_frames_a_second_closes_the_connection_with_30007(localex):
    async def scenario():
        async with websockets.connect(PUBLIC) as ws:
            for _ in range(30):  # far more than 10 within any second on any machine
                await ws.send("ping")
            frames = []
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    frames.append(await asyncio.wait_for(ws.recv(), WAIT))
            assert frames[-1] == '{"event":"error","code":30007,"msg":"request over limit,connection close"}'
            assert frames[:-1] == ["pong"] * (len(frames) - 1) and len(frames) - 1 <= 10
            assert ws.close_code == 1008

    run(scenario())


def test_a_connection_without_pings_is_closed_after_the_idle_timeout(localex):
    streams = localex.app.venue("bitget").streams
    streams.idle_timeout_s = 0.2  # Bitget's is two minutes

    async def scenario():
        async with websockets.connect(PUBLIC) as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), WAIT)

    run(scenario())


def test_the_journal_records_frames_with_the_login_secrets_redacted(localex):
    creds = localex.create_user()

    async def scenario():
        async with websockets.connect(PRIVATE) as ws:
            await ws.send(login_frame(creds))
            await recv(ws)

    run(scenario())
    entries = localex.app.journal.entries(venue="bitget", path="/v2/ws/*")
    sent = [e for e in entries if e.method == "WS-IN"]
    assert len(sent) == 1 and creds.passphrase not in sent[0].body
    args = orjson.loads(sent[0].body)["args"][0]
    assert args["sign"] == "<redacted>" and args["passphrase"] == "<redacted>" and args["apiKey"] == creds.api_key
    answered = [e for e in entries if e.method == "WS-OUT"]
    assert orjson.loads(answered[0].body)["event"] == "login" and answered[0].api_key == creds.api_key


def test_a_burst_of_a_thousand_order_changes_arrives_once_each_in_order(localex):
    creds = localex.create_user(funds={"USDT": "10000000"})
    engine = localex.engine

    async def scenario():
        async with websockets.connect(PRIVATE) as ws:
            await ws.send(login_frame(creds))
            await recv(ws)
            await ws.send(sub("orders", inst_id="default"))
            await recv(ws)
            expected = []
            for i in range(500):
                order = engine.place_spot_order(creds.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT,
                                                Decimal("0.001"), Decimal("50000"))
                expected.append((str(order.order_id), "live"))
            for order_id, _ in list(expected):
                engine.cancel_spot_order(creds.uid, "BTCUSDT", order_id=int(order_id))
                expected.append((order_id, "cancelled"))
            seen = []
            while len(seen) < len(expected):
                frame = await recv(ws)
                assert frame["action"] == "snapshot" and frame["arg"]["channel"] == "orders"
                seen += [(row["orderId"], row["status"]) for row in frame["data"]]
            assert seen == expected
            await ws.send("ping")
            assert await recv(ws) == "pong"  # nothing more was queued before it

    run(scenario())


def test_account_and_positions_send_a_snapshot_on_subscribing(localex):
    creds = localex.create_user(funds={"USDT": "250"})

    async def scenario():
        async with websockets.connect(PRIVATE) as ws:
            await ws.send(login_frame(creds))
            await recv(ws)
            await ws.send(sub("account", inst_id="default", key="coin"))
            await recv(ws)
            snap = await recv(ws)
            assert snap["action"] == "snapshot" and snap["arg"] == {"instType": "SPOT", "channel": "account", "coin": "default"}
            assert snap["data"] == [{"coin": "USDT", "available": "250.00000000", "frozen": "0.00000000",
                                     "locked": "0.00000000", "limitAvailable": "0", "uTime": snap["data"][0]["uTime"]}]
            assert type(snap["ts"]) is int
            await ws.send(sub("positions", inst_type="USDT-FUTURES", inst_id="default"))
            await recv(ws)
            assert (await recv(ws))["data"] == []
            await ws.send(sub("positions", inst_type="USDT-FUTURES", inst_id="BTCUSDT"))
            assert (await recv(ws))["code"] == 30001  # positions take instId default only

    run(scenario())


def test_the_books_channel_updates_with_bitgets_checksum(localex):
    async def scenario():
        async with websockets.connect(PUBLIC) as ws:
            await ws.send(sub("books"))
            await recv(ws)
            snap = (await recv(ws))["data"][0]
            bids = {p: s for p, s in snap["bids"]}
            asks = {p: s for p, s in snap["asks"]}
            localex.set_price("BTCUSDT", "95001.37")
            frame = await recv(ws)
            assert frame["action"] == "update"
            update = frame["data"][0]
            for side, book in (("bids", bids), ("asks", asks)):
                for p, s in update[side]:
                    if Decimal(s) == 0:
                        book.pop(p)
                    else:
                        book[p] = s
            top_bids = sorted(bids.items(), key=lambda kv: -Decimal(kv[0]))[:25]
            top_asks = sorted(asks.items(), key=lambda kv: Decimal(kv[0]))[:25]
            parts = []
            for i in range(25):
                parts += list(top_bids[i]) + list(top_asks[i])
            import zlib
            crc = zlib.crc32(":".join(parts).encode())
            assert update["checksum"] == (crc - (1 << 32) if crc >= 1 << 31 else crc)
            assert top_bids[0][0] == "95001.37" and update["seq"] == snap["seq"] + 1

    run(scenario())


# ccxt pro, unchanged, in-process ---------------------------------------------------------------
def test_ccxt_pro_spot_streams_in_process(localex):
    creds = localex.create_user()

    async def scenario():
        exchange = pro(creds)
        try:
            await load(exchange)
            ticker = await asyncio.wait_for(exchange.watch_ticker("BTC/USDT"), WAIT)
            assert ticker["symbol"] == "BTC/USDT" and ticker["last"] == float(localex.price("BTCUSDT"))
            book = await asyncio.wait_for(exchange.watch_order_book("BTC/USDT"), WAIT)
            assert book["asks"][0][0] == ticker["last"]
            ohlcv = await asyncio.wait_for(exchange.watch_ohlcv("BTC/USDT", "1m"), WAIT)
            assert ohlcv[-1][4] == ticker["last"]
            orders = asyncio.ensure_future(exchange.watch_orders("BTC/USDT"))
            trades = asyncio.ensure_future(exchange.watch_my_trades("BTC/USDT"))
            balance = asyncio.ensure_future(exchange.watch_balance())
            public_trades = asyncio.ensure_future(exchange.watch_trades("BTC/USDT"))
            await until(subscribed(localex, "orders", "fill", "account", "trade"))
            placed = await exchange.create_order("BTC/USDT", "market", "sell", 0.01)
            seen = await asyncio.wait_for(orders, WAIT)
            assert seen[-1]["id"] == placed["id"]
            mine = await asyncio.wait_for(trades, WAIT)
            assert mine[-1]["order"] == placed["id"] and mine[-1]["amount"] == 0.01
            bal = await asyncio.wait_for(balance, WAIT)
            assert "USDT" in bal or "BTC" in bal
            await asyncio.wait_for(public_trades, WAIT)  # the recent prints, then the new one
            tape = lambda: [tr for tr in exchange.trades.get("BTC/USDT", []) if tr["id"] == mine[-1]["id"]]
            await until(lambda: tape())
            ours = tape()
            assert len(ours) == 1 and ours[0]["amount"] == 0.01 and ours[0]["side"] == "sell"
            localex.set_price("BTCUSDT", "96000")
            book = await asyncio.wait_for(exchange.watch_order_book("BTC/USDT"), WAIT)
            assert book["bids"][0][0] == 96000.0  # the update passed ccxt's checksum
        finally:
            await exchange.close()

    run(scenario())


def test_ccxt_pro_swap_streams_in_process(localex):
    creds = localex.create_user(funds={})
    localex.engine.fund(creds.uid, "USDT", Decimal("10000"), account="usdt-futures")
    swap = "BTC/USDT:USDT"

    async def scenario():
        exchange = pro(creds)
        try:
            await load(exchange)
            positions = asyncio.ensure_future(exchange.watch_positions([swap]))
            orders = asyncio.ensure_future(exchange.watch_orders(swap))
            trades = asyncio.ensure_future(exchange.watch_my_trades(swap))
            balance = asyncio.ensure_future(exchange.watch_balance({"type": "swap"}))
            ticker = await asyncio.wait_for(exchange.watch_ticker(swap), WAIT)
            assert ticker["symbol"] == swap and ticker["info"]["markPrice"] == ticker["info"]["lastPr"]
            first = await asyncio.wait_for(balance, WAIT)  # the account snapshot
            assert first["USDT"]["free"] == 10000.0
            await until(subscribed(localex, "orders", "fill", "account", "positions"))
            assert await asyncio.wait_for(positions, WAIT) == []  # the snapshot: none open
            positions = asyncio.ensure_future(exchange.watch_positions([swap]))
            balance = asyncio.ensure_future(exchange.watch_balance({"type": "swap"}))
            placed = await exchange.create_order(swap, "market", "buy", 0.01)
            seen = await asyncio.wait_for(orders, WAIT)
            assert seen[-1]["id"] == placed["id"] and seen[-1]["symbol"] == swap
            mine = await asyncio.wait_for(trades, WAIT)
            assert mine[-1]["order"] == placed["id"] and mine[-1]["symbol"] == swap
            opened = await asyncio.wait_for(positions, WAIT)
            assert [(p["symbol"], p["side"], p["contracts"]) for p in opened] == [(swap, "long", 0.01)]
            bal = await asyncio.wait_for(balance, WAIT)
            assert bal["USDT"]["free"] < 10000.0  # margin and fee went out
            rest = await exchange.fetch_positions([swap])
            assert rest[0]["contracts"] == opened[0]["contracts"]
            assert rest[0]["entryPrice"] == opened[0]["entryPrice"]
        finally:
            await exchange.close()

    run(scenario())


def test_a_dropped_stream_reconnects_and_resubscribes(localex):
    creds = localex.create_user()

    async def scenario():
        exchange = pro(creds)
        try:
            await load(exchange)
            watch = asyncio.ensure_future(exchange.watch_orders("BTC/USDT"))
            await until(subscribed(localex, "orders"))
            localex.app.faults.add("drop", venue="bitget", path="/v2/ws/private", count=1)
            await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)
            with pytest.raises(ccxtpro.NetworkError):
                await asyncio.wait_for(watch, WAIT)  # the push never came: the socket closed
            watch = asyncio.ensure_future(exchange.watch_orders("BTC/USDT"))  # ccxt reconnects
            await until(subscribed(localex, "orders"))
            again = await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 50001)
            seen = await asyncio.wait_for(watch, WAIT)
            assert seen[-1]["id"] == again["id"]
        finally:
            await exchange.close()

    run(scenario())
    assert localex.app.faults.list() == []  # used once


def test_a_refused_login_and_delayed_pushes_are_injected(localex):
    creds = localex.create_user()
    faults = localex.app.faults

    async def scenario():
        async with websockets.connect(PRIVATE) as ws:
            faults.add("error", venue="bitget", path="/v2/ws/*", code="30005", count=1)
            await ws.send(login_frame(creds))
            assert await recv(ws) == {"event": "error", "code": 30005, "msg": "login failed"}
            await ws.send(login_frame(creds))
            assert (await recv(ws))["event"] == "login"
            await ws.send(sub("orders", inst_id="default"))
            await recv(ws)
            faults.add("latency", venue="bitget", path="/v2/ws/*", latency_ms=50, count=1)
            order = localex.engine.place_spot_order(creds.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT,
                                                    Decimal("0.001"), Decimal("50000"))
            frame = await recv(ws)
            assert frame["data"][0]["orderId"] == str(order.order_id)

    run(scenario())


# over a real server -------------------------------------------------------------------------
def test_ccxt_pro_over_a_server_and_a_push_after_the_rest_answer(localex_server):
    creds = localex_server.create_user()
    url = localex_server.url

    async def scenario():
        exchange = pro(creds, url)
        try:
            await load(exchange)
            ticker = await asyncio.wait_for(exchange.watch_ticker("BTC/USDT"), WAIT)
            assert ticker["last"] == float(localex_server.price("BTCUSDT"))
            async with websockets.connect(url.replace("http", "ws") + "/v2/ws/private") as ws:
                await ws.send(login_frame(creds))
                assert (await recv(ws))["code"] == 0
                await ws.send(sub("orders", inst_id="default"))
                await recv(ws)
                placed = await exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 50000)
                frame = await recv(ws)  # after the answer: queued for us, not lost
                assert frame["data"][0]["orderId"] == placed["id"] and frame["data"][0]["status"] == "live"
            journal = localex_server.app.journal.entries(venue="bitget")
            answered = [e.seq for e in journal if e.path == "/api/v2/spot/trade/place-order"]
            pushed = [e.seq for e in journal if e.method == "WS-OUT" and placed["id"] in e.body]
            assert answered and pushed and answered[0] < pushed[0]  # the answer went out first
            watch = asyncio.ensure_future(exchange.watch_orders("BTC/USDT"))
            streams = localex_server.app.venue("bitget").streams
            await until(lambda: any(t[1] == "orders" for t in streams.subs.topics()))
            await exchange.cancel_order(placed["id"], "BTC/USDT")
            seen = await asyncio.wait_for(watch, WAIT)
            assert seen[-1]["id"] == placed["id"] and seen[-1]["status"] == "canceled"
        finally:
            await exchange.close()

    run(scenario())


def test_spot_trigger_orders_reach_orders_algo(localex):
    creds = localex.create_user()

    async def scenario():
        async with websockets.connect(PRIVATE) as ws:
            await ws.send(login_frame(creds))
            await recv(ws)
            await ws.send(sub("orders-algo", inst_id="default"))
            await recv(ws)
            plan = localex.engine.place_spot_plan(creds.uid, "BTCUSDT", Side.BUY, OrderType.MARKET,
                                                  Decimal("90000"), None, Decimal("10"))
            frame = await recv(ws)
            assert frame["arg"] == {"instType": "SPOT", "channel": "orders-algo", "instId": "default"}
            assert frame["data"][0]["orderId"] == str(plan.order_id) and frame["data"][0]["instId"] == "BTCUSDT"

    run(scenario())


@pytest.mark.localex(strict=True)
def test_strict_mode_refuses_other_stream_hosts_and_unknown_paths(localex):
    import aiohttp

    from localex.testing.mock import UnmockedRequestError
    from localex.testing.streams import HandshakeRefused

    async def scenario():
        async with aiohttp.ClientSession() as session:
            with pytest.raises(UnmockedRequestError):
                await session.ws_connect("wss://stream.example.com/ws")
            with pytest.raises(HandshakeRefused):
                await session.ws_connect("wss://ws.bitget.com/v1/stream")
            async with session.ws_connect(PUBLIC) as ws:  # aiohttp's own API, served in memory
                await ws.send_str("ping")
                assert (await ws.receive_str(timeout=WAIT)) == "pong"

    run(scenario())


def test_an_order_push_carries_the_fill_it_came_with(localex):
    creds = localex.create_user()

    async def scenario():
        async with websockets.connect(PRIVATE) as ws:
            await ws.send(login_frame(creds))
            await recv(ws)
            await ws.send(sub("orders", inst_id="BTCUSDT"))
            await recv(ws)
            order = localex.engine.place_spot_order(creds.uid, "BTCUSDT", Side.SELL, OrderType.MARKET,
                                                    Decimal("0.01"))
            fill = localex.engine.spot_fills(creds.uid)[0]
            rows = []
            while not rows or rows[-1]["status"] != "filled":
                rows += (await recv(ws))["data"]
            assert {r["orderId"] for r in rows} == {str(order.order_id)}
            last = rows[-1]
            assert (last["tradeId"], last["fillPrice"], last["baseVolume"], last["tradeScope"]) == \
                (str(fill.trade_id), "95000", "0.01", "T")
            assert Decimal(last["fillFee"]) == -fill.fee and last["fillFeeCoin"] == fill.fee_asset

    run(scenario())
