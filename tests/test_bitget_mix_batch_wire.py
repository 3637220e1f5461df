"""Bitget V2 futures (mix) batches and kill switches on the wire: batch-place-order,
batch-cancel-orders, cancel-all-orders, close-positions (flash close).

Each answer is checked byte for byte (field names and order, strings), mixed successes and
failures carry each item's own code and message, and every whole-request refusal leaves the
state exactly as it was.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from test_bitget_mix_wire import (  # noqa: F401  (fixtures)
    PT,
    USDT_M,
    Unchanged,
    alice,
    error,
    futures_trader,
    hedger,
    ok,
    place,
    set_mark,
    usdt,
    wire,
)

from localex.engine.copy import FollowerSetting
from localex.engine.model import FuturesStatus, OrderKind, Permission, PositionMode

BATCH_PLACE = "/api/v2/mix/order/batch-place-order"
BATCH_CANCEL = "/api/v2/mix/order/batch-cancel-orders"
CANCEL_ALL = "/api/v2/mix/order/cancel-all-orders"
CLOSE_POSITIONS = "/api/v2/mix/order/close-positions"
PLACE_PLAN = "/api/v2/mix/order/place-plan-order"

TOP = {"symbol": "BTCUSDT", "productType": PT, "marginMode": "crossed", "marginCoin": "USDT"}


def batch(*items, **top) -> dict:
    return {**TOP, **top, "orderList": list(items)}


def limit(price: str, size: str = "0.01", side: str = "buy", **extra) -> dict:
    return {"size": size, "side": side, "orderType": "limit", "price": price, **extra}


def open_orders(world, trader, kinds=(OrderKind.REGULAR,)):
    return world.engine.futures_orders(trader.uid, open_only=True, kinds=list(kinds))


# ---- batch-place-order -----------------------------------------------------------------------

def test_batch_place_mixed_successes_and_failures(world, wire, alice):
    data = ok(world, wire.post(alice, BATCH_PLACE, batch(
        limit("90000", clientOid="a1"),
        limit("90000", size="0.00001", clientOid="bad-scale"),
        limit("90000", size="5", clientOid="too-big"),
        limit("90000", clientOid="a1"),  # the first item took this client id
        {"size": "0.01", "side": "buy", "orderType": "market"},
        limit("90000", side="up", clientOid="bad-side"),
    )))
    assert list(data) == ["successList", "failureList"]
    first, market = data["successList"]
    assert list(first) == ["orderId", "clientOid"] and first["clientOid"] == "a1"
    assert data["failureList"] == [
        {"orderId": "", "clientOid": "bad-scale", "errorMsg":
            "Parameter verification exception size checkBDScale error value=0.00001 checkScale=4",
         "errorCode": "40808"},
        {"orderId": "", "clientOid": "too-big", "errorMsg": "The order amount exceeds the balance",
         "errorCode": "40762"},
        {"orderId": "", "clientOid": "a1", "errorMsg": "clientOrderId duplicate", "errorCode": "43118"},
        {"orderId": "", "clientOid": "bad-side", "errorMsg": "Parameter side error", "errorCode": "40020"},
    ]
    resting = world.engine.futures_order(alice.uid, int(first["orderId"]))
    assert (resting.status, resting.price, resting.size) == (FuturesStatus.LIVE, D("90000"), D("0.01"))
    filled = world.engine.futures_order(alice.uid, int(market["orderId"]))
    assert filled.status is FuturesStatus.FILLED
    # only what was placed holds money: the resting order's margin and fee, the position's margin
    frozen = D("90000") * D("0.01") / 20 + D("90000") * D("0.01") * D("0.0006")
    assert usdt(world, alice)[1] == frozen
    assert [p.size for p in world.engine.positions(alice.uid)] == [D("0.01")]
    # an order id grows with each success, in the order asked
    assert int(first["orderId"]) < int(market["orderId"])


def test_batch_place_whole_request_refusals_change_nothing(world, wire, alice):
    with Unchanged(world):
        error(world, wire.post(alice, BATCH_PLACE, {**TOP}), "40019", "Parameter orderList cannot be empty")
        error(world, wire.post(alice, BATCH_PLACE, batch()), "40019", "Parameter orderList cannot be empty")
        error(world, wire.post(alice, BATCH_PLACE, {**TOP, "orderList": "x"}), "40020",
              "Parameter orderList error")
        error(world, wire.post(alice, BATCH_PLACE, {**TOP, "orderList": [1]}), "40020",
              "Parameter orderList error")
        error(world, wire.post(alice, BATCH_PLACE, batch(*[limit("90000")] * 51)), "40058",
              "Parameter orderList Only a maximum of 50 is allowed")
        error(world, wire.post(alice, BATCH_PLACE, batch(limit("90000"), marginMode=None)), "40019",
              "Parameter marginMode cannot be empty")
        error(world, wire.post(alice, BATCH_PLACE, batch(limit("90000"), marginCoin="BTC")), "40778",
              "Coin pair BTCUSDT does not support BTC currency as margin")
        error(world, wire.post(alice, BATCH_PLACE, batch(limit("90000"), symbol="NOPEUSDT")), "40034",
              "Parameter NOPEUSDT does not exist")
    no_trade = futures_trader(world, "reader", permissions=frozenset({Permission.READ}))
    error(world, wire.post(no_trade, BATCH_PLACE, batch(limit("90000"))), "40014",
          "Incorrect permissions, need contract trade permissions")


def test_batch_place_fifty_in_hedge_mode_and_the_request_wide_symbol_wins(world, wire, hedger):
    items = [limit(str(80000 + i), tradeSide="open", symbol="ETHUSDT") for i in range(50)]
    data = ok(world, wire.post(hedger, BATCH_PLACE, batch(*items)))
    assert len(data["successList"]) == 50 and data["failureList"] == []
    orders = open_orders(world, hedger)
    assert {o.symbol for o in orders} == {"BTCUSDT"} and len(orders) == 50
    # hedge mode wants a tradeSide on every item
    data = ok(world, wire.post(hedger, BATCH_PLACE, batch(limit("80000"))))
    assert data == {"successList": [], "failureList": [{
        "orderId": "", "clientOid": "", "errorMsg":
            "The order type for unilateral position must also be the unilateral position type.",
        "errorCode": "40774"}]}


def test_elite_trader_batch_orders_become_tracking_orders(world, wire):
    lead = futures_trader(world, "lead", usdt="100000",
                          permissions=frozenset({Permission.READ, Permission.FUTURES_TRADE, Permission.COPY_TRADE}))
    world.engine.copy.make_trader(lead.uid, [(USDT_M, "BTCUSDT")])
    fan = futures_trader(world, "fan", usdt="10000")
    world.engine.copy.follow(fan.uid, lead.uid, [FollowerSetting(
        "", "", USDT_M, "BTCUSDT", trace_type="fixed_size", trace_value=D("0.01"))])
    market = {"size": "0.02", "side": "buy", "tradeSide": "open", "orderType": "market"}
    data = ok(world, wire.post(lead, BATCH_PLACE, batch(market, dict(market, side="sell"))))
    assert len(data["successList"]) == 2
    tracking = world.engine.copy.tracking_orders(lead.uid, USDT_M)
    assert sorted(t.open_order_id for t in tracking) == sorted(int(s["orderId"]) for s in data["successList"])
    assert sorted(p.side.value for p in world.engine.positions(fan.uid)) == ["long", "short"]
    # the trader's flash close of tracked positions is refused by the copy rules, each alone
    with Unchanged(world):
        data = ok(world, wire.post(lead, CLOSE_POSITIONS, {"productType": PT, "symbol": "BTCUSDT"}))
    assert data["successList"] == []
    assert [f["errorCode"] for f in data["failureList"]] == ["40866", "40866"]
    assert data["failureList"][0] == {
        "orderId": "", "clientOid": "", "symbol": "BTCUSDT",
        "errorMsg": "You are currently a trader, please close the position under the current order",
        "errorCode": "40866"}


# ---- batch-cancel-orders and cancel-all-orders -----------------------------------------------

def test_batch_cancel_by_list_with_mixed_results(world, wire, alice):
    a = place(world, wire, alice, order_type="limit", price="90000", clientOid="keep-a")
    b = place(world, wire, alice, order_type="limit", price="90001", clientOid="by-client")
    filled = place(world, wire, alice)  # market: filled at once
    data = ok(world, wire.post(alice, BATCH_CANCEL, {"symbol": "BTCUSDT", "productType": PT, "orderIdList": [
        {"orderId": a["orderId"]}, {"clientOid": "by-client"}, {"orderId": filled["orderId"]},
        {"orderId": "123"}, {}, {"orderId": "x1"}]}))
    assert data == {
        "successList": [{"orderId": a["orderId"], "clientOid": "keep-a"},
                        {"orderId": b["orderId"], "clientOid": "by-client"}],
        "failureList": [
            {"orderId": filled["orderId"], "clientOid": "", "errorMsg": "notExistend", "errorCode": "43001"},
            {"orderId": "123", "clientOid": "", "errorMsg": "notExistend", "errorCode": "43001"},
            {"orderId": "", "clientOid": "", "errorMsg": "orderId and clientOid must have one",
             "errorCode": "40924"},
            {"orderId": "", "clientOid": "", "errorMsg": "orderId or clientOId format error",
             "errorCode": "40402"}]}
    assert open_orders(world, alice) == []
    assert usdt(world, alice)[1] == 0


def test_batch_cancel_without_a_list_cancels_the_symbol_and_refusals(world, wire, alice):
    place(world, wire, alice, order_type="limit", price="90000")
    eth = place(world, wire, alice, symbol="ETHUSDT", order_type="limit", price="3000", size="0.1")
    data = ok(world, wire.post(alice, BATCH_CANCEL, {"symbol": "BTCUSDT", "productType": PT}))
    assert len(data["successList"]) == 1 and data["failureList"] == []
    assert [str(o.order_id) for o in open_orders(world, alice)] == [eth["orderId"]]
    with Unchanged(world):
        error(world, wire.post(alice, BATCH_CANCEL, {"productType": PT, "orderIdList": [{"orderId": "1"}]}),
              "40019", "Parameter symbol cannot be empty")
        error(world, wire.post(alice, BATCH_CANCEL, {"symbol": "BTCUSDT", "productType": PT,
                                                     "orderIdList": [{"orderId": "1"}] * 51}),
              "40058", "Parameter orderIdList Only a maximum of 50 is allowed")
        error(world, wire.post(alice, BATCH_CANCEL, {"symbol": "BTCUSDT"}), "40019",
              "Parameter productType cannot be empty")
        error(world, wire.post(alice, BATCH_CANCEL, {"symbol": "BTCUSDT", "productType": PT,
                                                     "marginCoin": "BTC"}),
              "40778", "Coin pair BTCUSDT does not support BTC currency as margin")
    # without a symbol: every open order of the product type
    data = ok(world, wire.post(alice, BATCH_CANCEL, {"productType": PT}))
    assert data == {"successList": [{"orderId": eth["orderId"], "clientOid": data["successList"][0]["clientOid"]}],
                    "failureList": []}


def test_cancel_all_orders_leaves_trigger_orders_and_other_product_types(world, wire, alice):
    place(world, wire, alice, order_type="limit", price="90000")
    place(world, wire, alice, symbol="ETHUSDT", order_type="limit", price="3000", size="0.1")
    plan = ok(world, wire.post(alice, PLACE_PLAN, {**TOP, "planType": "normal_plan", "size": "0.01",
                                                   "side": "buy", "orderType": "market",
                                                   "triggerPrice": "99000", "triggerType": "mark_price"}))
    inverse = ok(world, wire.post(alice, "/api/v2/mix/order/place-order", {
        "symbol": "BTCUSD", "productType": "COIN-FUTURES", "marginMode": "crossed", "marginCoin": "BTC",
        "size": "0.01", "side": "buy", "orderType": "limit", "price": "90000"}))
    with Unchanged(world):
        error(world, wire.post(alice, CANCEL_ALL, {}), "40019", "Parameter productType cannot be empty")
        error(world, wire.post(alice, CANCEL_ALL, {"productType": "X"}), "40019", "Parameter X cannot be empty")
    data = ok(world, wire.post(alice, CANCEL_ALL, {"productType": "usdt-futures", "marginCoin": "USDT"}))
    assert len(data["successList"]) == 2 and data["failureList"] == []
    left = world.engine.futures_orders(alice.uid, open_only=True)
    assert sorted(str(o.order_id) for o in left) == sorted([plan["orderId"], inverse["orderId"]])
    # what stays frozen is the trigger order's own margin and fee
    assert usdt(world, alice)[1] == world.engine.futures_order(alice.uid, int(plan["orderId"])).frozen > 0
    # nothing left to cancel: two empty lists
    assert ok(world, wire.post(alice, CANCEL_ALL, {"productType": PT})) == {"successList": [], "failureList": []}


# ---- close-positions -------------------------------------------------------------------------

def test_flash_close_by_side_and_all_in_hedge_mode(world, wire, hedger):
    place(world, wire, hedger, side="buy", trade_side="open")
    place(world, wire, hedger, side="sell", trade_side="open", size="0.02")
    place(world, wire, hedger, symbol="ETHUSDT", side="buy", trade_side="open", size="0.1")
    # a resting close on the long is cancelled so that the whole long closes
    rest = place(world, wire, hedger, side="buy", trade_side="close", order_type="limit", price="99000",
                 size="0.005")
    set_mark(world, "96000")
    data = ok(world, wire.post(hedger, CLOSE_POSITIONS, {"symbol": "BTCUSDT", "productType": PT,
                                                         "holdSide": "long"}))
    (closed,) = data["successList"]
    assert list(closed) == ["orderId", "clientOid", "symbol"] and closed["symbol"] == "BTCUSDT"
    assert data["failureList"] == []
    order = world.engine.futures_order(hedger.uid, int(closed["orderId"]))
    assert (order.status, order.size, order.avg_price, order.source) == (
        FuturesStatus.FILLED, D("0.01"), D("96000"), "api")
    assert world.engine.futures_order(hedger.uid, int(rest["orderId"])).status is FuturesStatus.CANCELLED
    assert sorted((p.symbol, p.side.value) for p in world.engine.positions(hedger.uid)) == [
        ("BTCUSDT", "short"), ("ETHUSDT", "long")]
    # without a symbol or side: everything of the product type, in one request
    data = ok(world, wire.post(hedger, CLOSE_POSITIONS, {"productType": PT}))
    assert sorted(s["symbol"] for s in data["successList"]) == ["BTCUSDT", "ETHUSDT"]
    assert world.engine.positions(hedger.uid) == []
    with Unchanged(world):
        error(world, wire.post(hedger, CLOSE_POSITIONS, {"productType": PT}), "22002", "No position to close")
        error(world, wire.post(hedger, CLOSE_POSITIONS, {"productType": PT, "holdSide": "up"}), "40020",
              "Parameter holdSide error")
        error(world, wire.post(hedger, CLOSE_POSITIONS, {}), "40019", "Parameter productType cannot be empty")


def test_flash_close_one_way_ignores_hold_side_and_is_one_a_second(world, wire, alice):
    place(world, wire, alice, side="sell")
    data = ok(world, wire.post(alice, CLOSE_POSITIONS, {"symbol": "BTCUSDT", "productType": PT,
                                                        "holdSide": "long"}))
    assert len(data["successList"]) == 1 and world.engine.positions(alice.uid) == []
    before = usdt(world, alice)
    assert world.engine.futures_account(alice.uid, USDT_M).position_mode is PositionMode.ONE_WAY
    place(world, wire, alice, side="sell")
    wire.post(alice, CLOSE_POSITIONS, {"productType": PT})
    resp = wire.post(alice, CLOSE_POSITIONS, {"productType": PT}, reset=False)
    error(world, resp, "429", "Too Many Requests", status=429)
    assert before[0] > 0


@pytest.mark.parametrize("path", [BATCH_PLACE, BATCH_CANCEL, CANCEL_ALL, CLOSE_POSITIONS])
def test_each_batch_is_one_write_transaction(world, wire, hedger, monkeypatch, path):
    ids = [place(world, wire, hedger, order_type="limit", price=str(90000 + i), trade_side="open")["orderId"]
           for i in range(5)]
    place(world, wire, hedger, trade_side="open")
    place(world, wire, hedger, side="sell", trade_side="open")
    body = {
        BATCH_PLACE: batch(*[limit(str(80000 + i), tradeSide="open") for i in range(5)]),
        BATCH_CANCEL: {"symbol": "BTCUSDT", "productType": PT, "orderIdList": [{"orderId": i} for i in ids]},
        CANCEL_ALL: {"productType": PT},
        CLOSE_POSITIONS: {"productType": PT},
    }[path]
    writes = []
    real = world.engine.tx

    def counting(read_only: bool = False):
        if not read_only:
            writes.append(path)
        return real(read_only)

    monkeypatch.setattr(world.engine, "tx", counting)
    data = ok(world, wire.post(hedger, path, body))
    assert len(data["successList"]) in (2, 5) and data["failureList"] == []
    assert writes == [path]
