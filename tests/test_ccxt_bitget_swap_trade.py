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
    # risk orders and edits in-process as well
    stop = exchange.create_stop_loss_order(SWAP, "market", "sell", 0.01, None, 90000)
    assert exchange.edit_order(stop["id"], SWAP, "market", "sell", 0.01, None, {"stopLossPrice": 91000})["id"] == stop["id"]
    assert localex.engine.positions(creds.uid)[0].sl_price == Decimal("91000")
    limit = exchange.create_order(SWAP, "limit", "buy", 0.01, 90000)
    assert exchange.edit_order(limit["id"], SWAP, "limit", "buy", 0.01, 90100)["id"] != limit["id"]
    order = exchange.close_position(SWAP)
    assert order["id"] and localex.engine.positions(creds.uid) == []
    assert {e["info"]["businessType"] for e in exchange.fetch_ledger("USDT", None, None, {"type": "swap"})} == {
        "open_long", "close_long"}
    assert all(r.host == "api.bitget.com" for r in localex.requests)


def test_in_process_batches_risk_orders_and_flash_close(localex):
    """In-process, the rest of the swap surface: cancel_orders, create_take_profit_order,
    create_order with stopLossPrice / takeProfitPrice / trailingPercent, trigger orders listed
    and cancelled, close_all_positions."""
    creds = localex.create_user(funds={})
    localex.fund(creds.uid, "USDT", "10000", account=USDT_M)
    exchange = ccxt.bitget(creds.ccxt)
    exchange.load_markets()
    ids = [exchange.create_order(SWAP, "limit", "buy", 0.01, 90000 + i)["id"] for i in range(2)]
    assert [o["id"] for o in exchange.cancel_orders(ids, SWAP)] == ids
    assert exchange.fetch_open_orders(SWAP) == []
    exchange.create_order(SWAP, "market", "buy", 0.02)
    exchange.create_order(ETH_SWAP, "market", "buy", 0.1)
    take = exchange.create_take_profit_order(SWAP, "limit", "sell", 0.02, 99100, 99000)
    stop = exchange.create_order(SWAP, "market", "sell", 0.02, None, {"stopLossPrice": 90000})
    eth_take = exchange.create_order(ETH_SWAP, "market", "sell", 0.1, None, {"takeProfitPrice": 3500})
    trailing = exchange.create_order(SWAP, "market", "sell", 0.01, 96000, {"trailingPercent": 1, "reduceOnly": True})
    trigger = exchange.create_order(SWAP, "market", "buy", 0.01, None, {"triggerPrice": 99000})
    pos = [p for p in localex.engine.positions(creds.uid) if p.symbol == "BTCUSDT"][0]
    assert (pos.tp_price, pos.tp_execute, pos.sl_price) == (Decimal("99000"), Decimal("99100"), Decimal("90000"))
    assert (str(pos.tp_id), str(pos.sl_id)) == (take["id"], stop["id"])
    assert sorted(o["id"] for o in exchange.fetch_open_orders(SWAP, params={"planType": "profit_loss"})) == sorted(
        [take["id"], stop["id"]])
    assert [o["id"] for o in exchange.fetch_open_orders(ETH_SWAP, params={"planType": "profit_loss"})] == [
        eth_take["id"]]
    assert [o["id"] for o in exchange.fetch_open_orders(SWAP, params={"trailing": True})] == [trailing["id"]]
    assert [o["id"] for o in exchange.fetch_open_orders(SWAP, params={"trigger": True})] == [trigger["id"]]
    exchange.cancel_order(trigger["id"], SWAP, {"trigger": True})
    closed = exchange.close_all_positions({"productType": "USDT-FUTURES"})
    assert sorted(p["symbol"] for p in closed) == [SWAP, ETH_SWAP]
    assert localex.engine.positions(creds.uid) == []
    # the stops and the trailing stop went with the positions
    assert exchange.fetch_open_orders(SWAP, params={"planType": "profit_loss"}) == []
    assert exchange.fetch_open_orders(SWAP, params={"trailing": True}) == []
    assert all(r.host == "api.bitget.com" for r in localex.requests)


def test_stop_loss_and_take_profit_orders(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    exchange.create_order(SWAP, "market", "buy", 0.02)
    stop = exchange.create_stop_loss_order(SWAP, "market", "sell", 0.02, None, 90000)
    take = exchange.create_take_profit_order(SWAP, "limit", "sell", 0.02, 99100, 99000)
    pos = world.engine.positions(alice.uid)[0]
    assert (pos.sl_price, pos.sl_execute, pos.tp_price, pos.tp_execute) == (
        Decimal("90000"), None, Decimal("99000"), Decimal("99100"))
    assert (str(pos.sl_id), str(pos.tp_id)) == (stop["id"], take["id"])
    listed = exchange.fetch_open_orders(SWAP, params={"planType": "profit_loss"})
    assert sorted(o["id"] for o in listed) == sorted([stop["id"], take["id"]])
    by_id = {o["id"]: o for o in listed}
    assert (d(by_id[stop["id"]]["triggerPrice"]), by_id[stop["id"]]["type"]) == (Decimal("90000"), "market")
    assert (d(by_id[take["id"]]["price"]), by_id[take["id"]]["type"]) == (Decimal("99100"), "limit")
    # editing the stop-loss: modify-tpsl-order, same id
    edited = exchange.edit_order(stop["id"], SWAP, "market", "sell", 0.02, None, {"stopLossPrice": 91000})
    assert edited["id"] == stop["id"] and world.engine.positions(alice.uid)[0].sl_price == Decimal("91000")
    # a stop-loss with a price executes at that limit (create_order with stopLossPrice): a sell
    # limit above the trigger rests once triggered, until the mark comes back to it
    world.engine.set_mark("bitget", USDT_M, "BTCUSDT", Decimal("92000"))
    exchange.cancel_order(stop["id"], SWAP, {"trigger": True, "planType": "pos_loss"})
    assert world.engine.positions(alice.uid)[0].sl_price is None
    exchange.create_order(SWAP, "limit", "sell", 0.02, 91200, {"stopLossPrice": 91000})
    world.engine.set_mark("bitget", USDT_M, "BTCUSDT", Decimal("90800"))  # triggered; rests at 91200
    assert world.engine.positions(alice.uid)[0].size == Decimal("0.02")
    (resting,) = exchange.fetch_open_orders(SWAP)
    assert (d(resting["price"]), resting["info"]["orderSource"]) == (Decimal("91200"), "pos_loss_limit")
    world.engine.set_mark("bitget", USDT_M, "BTCUSDT", Decimal("91300"))
    assert world.engine.positions(alice.uid) == []
    (trade,) = [t for t in exchange.fetch_my_trades(SWAP) if t["side"] == "sell"]
    assert d(trade["price"]) == Decimal("91200")
    # the take-profit went with the position
    assert exchange.fetch_open_orders(SWAP, params={"planType": "profit_loss"}) == []


def test_presets_with_limit_prices_and_trailing_orders(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    opened = exchange.create_order(SWAP, "market", "buy", 0.01, None, {
        "takeProfit": {"triggerPrice": 97000, "price": 97100}, "stopLoss": {"triggerPrice": 93000}})
    info = exchange.fetch_order(opened["id"], SWAP)["info"]
    assert (info["presetStopSurplusPrice"], info["presetStopSurplusExecutePrice"],
            info["presetStopLossPrice"], info["presetStopLossExecutePrice"]) == ("97000", "97100", "93000", "")
    # a trailing order: ccxt's trailingPercent is Bitget's callbackRatio, the price its activation
    trailing = exchange.create_order(SWAP, "market", "sell", 0.01, 96000, {"trailingPercent": 1, "reduceOnly": True})
    order = world.engine.futures_order(alice.uid, int(trailing["id"]))
    assert (order.kind, order.callback_rate, order.trigger_price, order.reduce_only) == (
        OrderKind.TRAILING, Decimal("0.01"), Decimal("96000"), True)
    listed = exchange.fetch_open_orders(SWAP, params={"trailing": True})
    assert [o["id"] for o in listed] == [trailing["id"]]
    exchange.edit_order(trailing["id"], SWAP, "market", "sell", 0.01, 96500, {"trailingPercent": 2})
    order = world.engine.futures_order(alice.uid, int(trailing["id"]))
    assert (order.callback_rate, order.trigger_price) == (Decimal("0.02"), Decimal("96500"))
    for price in ("96600", "96800", "94864"):  # activated at 96500; best 96800; 2% below: 94864
        world.engine.set_mark("bitget", USDT_M, "BTCUSDT", Decimal(price))
    assert exchange.fetch_positions([SWAP]) == []
    closed = exchange.fetch_closed_orders(SWAP, params={"trailing": True})
    assert [(o["id"], o["status"]) for o in closed] == [(trailing["id"], "closed")]


def test_edit_order_plain_and_trigger(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    limit = exchange.create_order(SWAP, "limit", "buy", 0.01, 90000)
    edited = exchange.edit_order(limit["id"], SWAP, "limit", "buy", 0.02, 90500)
    assert edited["id"] != limit["id"]
    assert exchange.fetch_order(limit["id"], SWAP)["status"] == "canceled"
    new = exchange.fetch_order(edited["id"], SWAP)
    assert (new["status"], d(new["amount"]), d(new["price"])) == ("open", Decimal("0.02"), Decimal("90500"))
    trigger = exchange.create_order(SWAP, "limit", "buy", 0.01, 96900, {"triggerPrice": 97000})
    moved = exchange.edit_order(trigger["id"], SWAP, "limit", "buy", 0.02, 97050, {"triggerPrice": 97100})
    assert moved["id"] == trigger["id"]
    (row,) = exchange.fetch_open_orders(SWAP, params={"trigger": True})
    assert (d(row["amount"]), d(row["price"]), d(row["triggerPrice"])) == (
        Decimal("0.02"), Decimal("97050"), Decimal("97100"))
    exchange.cancel_order(trigger["id"], SWAP, {"trigger": True})
    history = exchange.fetch_canceled_orders(SWAP, params={"trigger": True})
    assert [o["id"] for o in history] == [trigger["id"]] and history[0]["status"] == "canceled"
