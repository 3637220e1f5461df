"""ccxt's own `bitget` class on swap markets, unchanged but for its URLs (and, in-process, not even
those): the order-management surface a bot's kill switch and risk orders use — create_orders,
cancel_orders, cancel_all_orders, close_position, close_all_positions, ...
"""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest
from test_ccxt_bitget_futures import SWAP, USDT_M, connect, d, futures_trader

from localex.engine.model import FuturesStatus, OrderKind, PositionMode

ETH_SWAP = "ETH/USDT:USDT"


def open_regular(world, uid):
    return world.engine.futures_orders(uid, open_only=True, kinds=[OrderKind.REGULAR])


def test_create_orders_with_a_refusal_among_them(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    exchange.enableLastJsonResponse = True
    orders = exchange.create_orders([
        {"symbol": SWAP, "type": "limit", "side": "buy", "amount": 0.01, "price": 90000},
        {"symbol": SWAP, "type": "limit", "side": "buy", "amount": 5, "price": 90000},  # too big for the balance
        {"symbol": SWAP, "type": "market", "side": "sell", "amount": 0.02,
         "params": {"clientOrderId": "mine-1"}},
    ])
    # ccxt keeps the successes (it drops a failure, which names no symbol); the answer has both
    placed, sold = orders
    assert placed["id"] and sold["clientOrderId"] == "mine-1"
    answer = exchange.last_json_response["data"]
    assert [s["orderId"] for s in answer["successList"]] == [placed["id"], sold["id"]]
    assert [(f["errorCode"], f["errorMsg"]) for f in answer["failureList"]] == [
        ("40762", "The order amount exceeds the balance")]
    assert [o["id"] for o in exchange.fetch_open_orders(SWAP)] == [placed["id"]]
    (position,) = exchange.fetch_positions([SWAP])
    assert (position["side"], d(position["contracts"])) == ("short", Decimal("0.02"))


def test_cancel_orders_and_cancel_all_orders(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    ids = [exchange.create_order(SWAP, "limit", "buy", 0.01, 90000 + i)["id"] for i in range(3)]
    eth = exchange.create_order(ETH_SWAP, "limit", "buy", 0.1, 3000)["id"]
    cancelled = exchange.cancel_orders(ids[:2], SWAP)
    assert [o["id"] for o in cancelled] == ids[:2]
    assert {o["id"] for o in exchange.fetch_open_orders(SWAP)} == {ids[2]}
    assert exchange.fetch_order(ids[0], SWAP)["status"] == "canceled"
    everything = exchange.cancel_all_orders(SWAP)
    assert [o["id"] for o in everything] == [ids[2]]
    assert exchange.fetch_open_orders(SWAP) == []
    assert [o["id"] for o in exchange.fetch_open_orders(ETH_SWAP)] == [eth]
    # trigger orders: their own cancel-all
    exchange.create_order(SWAP, "market", "buy", 0.01, None, {"triggerPrice": 99000})
    assert len(exchange.fetch_open_orders(SWAP, params={"trigger": True})) == 1
    exchange.cancel_all_orders(SWAP, {"trigger": True})
    assert exchange.fetch_open_orders(SWAP, params={"trigger": True}) == []


def test_close_position_and_close_all_positions(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    exchange.set_position_mode(True, SWAP)
    exchange.create_order(SWAP, "market", "buy", 0.01, None, {"hedged": True})
    exchange.create_order(SWAP, "market", "sell", 0.03, None, {"hedged": True})
    exchange.create_order(ETH_SWAP, "market", "buy", 0.1, None, {"hedged": True})
    world.engine.set_mark("bitget", USDT_M, "BTCUSDT", Decimal("95500"))
    order = exchange.close_position(SWAP, "long")
    assert order["symbol"] == SWAP
    closed = world.engine.futures_order(alice.uid, int(order["id"]))
    assert (closed.status, closed.size, closed.avg_price) == (FuturesStatus.FILLED, Decimal("0.01"), Decimal("95500"))
    assert sorted((p["symbol"], p["side"]) for p in exchange.fetch_positions()) == [
        (SWAP, "short"), (ETH_SWAP, "long")]
    world.app.limiter.reset()  # flash close is one request a second
    closed_all = exchange.close_all_positions({"productType": "USDT-FUTURES"})
    assert sorted(p["symbol"] for p in closed_all) == [SWAP, ETH_SWAP]
    assert exchange.fetch_positions() == []
    world.app.limiter.reset()
    with pytest.raises(ccxt.ExchangeError, match="22002"):
        exchange.close_position(SWAP)
    assert world.engine.futures_account(alice.uid, USDT_M).position_mode is PositionMode.HEDGE


def test_in_process_kill_switch(localex):
    """The same calls with nothing changed at all: ccxt talks to api.bitget.com."""
    creds = localex.create_user(funds={})
    localex.fund(creds.uid, "USDT", "10000", account=USDT_M)
    exchange = ccxt.bitget(creds.ccxt)
    exchange.load_markets()
    placed = exchange.create_orders([
        {"symbol": SWAP, "type": "limit", "side": "buy", "amount": 0.01, "price": 90000},
        {"symbol": SWAP, "type": "market", "side": "buy", "amount": 0.01},
    ])
    assert len(placed) == 2 and all(o["id"] for o in placed)
    assert [o["id"] for o in exchange.cancel_all_orders(SWAP)] == [placed[0]["id"]]
    order = exchange.close_position(SWAP)
    assert order["id"] and localex.engine.positions(creds.uid) == []
    assert all(r.host == "api.bitget.com" for r in localex.requests)
