"""Bitget V2 spot cancel-replace-order, batch-cancel-replace-order and preset TP/SL on spot
orders, on the wire."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_bitget_spot_wire import (  # noqa: F401  (fixtures)
    PLACE,
    UNFILLED,
    Unchanged,
    alice,
    balances,
    error,
    limit_buy,
    ok,
    one_order,
    order_id_ok,
    place,
    wire,
)

REPLACE = "/api/v2/spot/trade/cancel-replace-order"
BATCH_REPLACE = "/api/v2/spot/trade/batch-cancel-replace-order"
D = Decimal


def test_cancel_replace_cancels_and_places_the_new_order(world, wire, alice):
    old = place(world, wire, alice, limit_buy(price="90000", size="0.01", force="post_only", clientOid="r1"))
    data = ok(world, wire.post(alice, REPLACE, {"symbol": "BTCUSDT", "clientOid": "r1", "price": "91000",
                                                  "size": "0.02", "newClientOid": "r2"}), strings=False)
    assert list(data) == ["orderId", "clientOid", "success", "msg"]
    assert data["clientOid"] == "r2" and data["success"] == "success" and data["msg"] is None
    order_id_ok(data["orderId"])
    assert one_order(world, wire, alice, old["orderId"])["status"] == "cancelled"
    new = world.engine.spot_order(alice.uid, int(data["orderId"]))
    assert (new.side.value, new.price, new.size, new.force.value, new.client_oid) == (
        "buy", D("91000"), D("0.02"), "post_only", "r2")
    assert balances(world, alice.uid)["USDT"] == (D("10000") - D("1820"), D("1820"))


def test_a_refused_replacement_leaves_the_old_order_cancelled(world, wire, alice):
    old = place(world, wire, alice, limit_buy())
    data = ok(world, wire.post(alice, REPLACE, {"symbol": "BTCUSDT", "orderId": old["orderId"],
                                                  "price": "91000", "size": "1"}), strings=False)
    assert data == {"orderId": "", "clientOid": None, "success": "failure", "msg": "Insufficient balance"}
    assert one_order(world, wire, alice, old["orderId"])["status"] == "cancelled"
    assert balances(world, alice.uid)["USDT"] == (D("10000"), D("0"))


@pytest.mark.parametrize("body, code, msg", [
    ({"orderId": "1767225600000000001"}, "43001", "The order does not exist"),
    ({"orderId": None}, "40924", "orderId and clientOid must have one"),
    ({"price": None}, "40019", "Parameter price cannot be empty"),
    ({"size": None}, "40019", "Parameter size cannot be empty"),
    ({"symbol": None}, "40019", "Parameter symbol cannot be empty"),
    ({"symbol": "ETHUSDT"}, "43001", "The order does not exist"),
    ({"orderType": "market"}, "40020", "Parameter orderType error"),
    ({"price": "91000.001"}, None, None),  # the cancellation stands, the new order is refused
])
def test_cancel_replace_refusals(world, wire, alice, body, code, msg):
    old = place(world, wire, alice, limit_buy())
    request = {k: v for k, v in {"symbol": "BTCUSDT", "orderId": old["orderId"], "price": "91000",
                                 "size": "0.01", **body}.items() if v is not None}
    if code is None:
        data = ok(world, wire.post(alice, REPLACE, request), strings=False)
        assert data["success"] == "failure" and data["msg"].startswith("Parameter verification exception price")
        return
    with Unchanged(world):
        error(world, wire.post(alice, REPLACE, request), code, msg)


def test_batch_cancel_replace_answers_each_entry(world, wire, alice):
    a = place(world, wire, alice, limit_buy(price="90000"))
    b = place(world, wire, alice, limit_buy(price="89000"))
    data = ok(world, wire.post(alice, BATCH_REPLACE, {"orderList": [
        {"symbol": "BTCUSDT", "orderId": a["orderId"], "price": "90500", "size": "0.01", "newClientOid": "n1"},
        {"symbol": "BTCUSDT", "orderId": a["orderId"], "price": "90600", "size": "0.01"},  # gone already
        {"symbol": "BTCUSDT", "orderId": b["orderId"], "price": "89500", "size": "0.01"},
        {"symbol": "BTCUSDT", "orderId": b["orderId"], "size": "0.01", "newClientOid": "n4"},
    ]}), strings=False)
    assert [(r["clientOid"], r["success"], r["msg"]) for r in data] == [
        ("n1", "success", None), (None, "failure", "The order does not exist"),
        (data[2]["clientOid"], "success", None), ("n4", "failure", "Parameter price cannot be empty")]
    assert data[1]["orderId"] == "" and data[2]["orderId"] != ""
    prices = sorted(o.price for o in world.engine.spot_orders(alice.uid, open_only=True))
    assert prices == [D("89500"), D("90500")]
    with Unchanged(world):
        error(world, wire.post(alice, BATCH_REPLACE, {"orderList": [{}] * 51}), "40058",
              "Parameter orderList Only a maximum of 50 is allowed")


# ---- preset take-profit / stop-loss ---------------------------------------------------------

def test_presets_show_on_the_resting_order_then_become_tpsl_orders_when_it_fills(world, wire, alice):
    placed = place(world, wire, alice, limit_buy(price="94000", size="0.01", presetTakeProfitPrice="99000",
                                                 presetStopLossPrice="90000", executeStopLossPrice="89900"))
    row = ok(world, wire.get(alice, UNFILLED, {"symbol": "BTCUSDT"}))[0]
    assert (row["presetTakeProfitPrice"], row["executeTakeProfitPrice"], row["presetStopLossPrice"],
            row["executeStopLossPrice"]) == ("99000", "", "90000", "89900")
    assert ok(world, wire.get(alice, UNFILLED, {"tpslType": "tpsl"})) == []
    world.engine.set_mark("bitget", "spot", "BTCUSDT", D("94000"))  # it fills (maker fee 0.1% in BTC)
    assert one_order(world, wire, alice, placed["orderId"])["status"] == "filled"
    tpsl = ok(world, wire.get(alice, UNFILLED, {"tpslType": "tpsl"}), strings=False)
    assert [(r["side"], r["orderType"], r["triggerPrice"], r["priceAvg"], r["size"], r["tpslType"])
            for r in sorted(tpsl, key=lambda r: r["triggerPrice"])] == [
        ("sell", "limit", "90000", "89900", "0.00999", "tpsl"), ("sell", "market", "99000", "0", "0.00999", "tpsl")]
    world.engine.set_mark("bitget", "spot", "BTCUSDT", D("99500"))  # take profit; the stop is cancelled
    assert ok(world, wire.get(alice, UNFILLED, {"tpslType": "tpsl"})) == []
    sold = [o for o in world.engine.spot_orders(alice.uid) if o.side.value == "sell"]
    assert [(o.status.value, o.filled_size, o.avg_price) for o in sold] == [("filled", D("0.00999"), D("99000"))]
    plans = {p.kind.value: p.status.value for p in world.engine.spot_plans(alice.uid)}
    assert plans == {"tp": "executed", "sl": "cancelled"}
    # both are history now: the take-profit filled at 99000, its stop-loss twin cancelled
    history = ok(world, wire.get(alice, "/api/v2/spot/trade/history-orders", {"tpslType": "tpsl"}))
    assert sorted((r["triggerPrice"], r["status"], r["priceAvg"], r["tpslType"]) for r in history) == [
        ("90000", "cancelled", "0", "tpsl"), ("99000", "filled", "99000.0000000000000000", "tpsl")]


@pytest.mark.parametrize("extra, field", [
    ({"presetTakeProfitPrice": "89000"}, "presetTakeProfitPrice"),  # below a buy's price
    ({"presetStopLossPrice": "91000"}, "presetStopLossPrice"),  # above it
    ({"presetStopLossPrice": "-1"}, "presetStopLossPrice"),
    ({"presetTakeProfitPrice": "x"}, "presetTakeProfitPrice"),
])
def test_presets_on_the_wrong_side_are_refused(world, wire, alice, extra, field):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, limit_buy(price="90000", **extra)), "40020", f"Parameter {field} error")


def test_presets_of_a_market_sell_are_checked_against_the_mark_and_buy_back(world, wire, alice):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, {"symbol": "BTCUSDT", "side": "sell", "orderType": "market",
                                              "size": "0.01", "presetStopLossPrice": "94000"}),
              "40020", "Parameter presetStopLossPrice error")
    place(world, wire, alice, {"symbol": "BTCUSDT", "side": "sell", "orderType": "market", "size": "0.01",
                               "presetStopLossPrice": "97000"})
    world.engine.set_mark("bitget", "spot", "BTCUSDT", D("97500"))
    bought = [o for o in world.engine.spot_orders(alice.uid) if o.side.value == "buy"]
    assert [(o.order_type.value, o.size, o.filled_quote) for o in bought] == [("market", D("970"), D("970"))]


# ---- TP/SL orders placed as such (tpslType=tpsl) ---------------------------------------------

CANCEL = "/api/v2/spot/trade/cancel-order"


def tpsl(trigger="94000", price="93900", **extra) -> dict:
    body = {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit", "force": "gtc", "price": price,
            "size": "0.01", "tpslType": "tpsl", "triggerPrice": trigger, **extra}
    return {k: v for k, v in body.items() if v is not None}


def test_a_tpsl_order_waits_lists_and_fires(world, wire, alice):
    placed = place(world, wire, alice, tpsl())
    rows = ok(world, wire.get(alice, UNFILLED, {"tpslType": "tpsl"}))
    assert [(r["orderId"], r["triggerPrice"], r["priceAvg"], r["side"], r["tpslType"]) for r in rows] == [
        (placed["orderId"], "94000", "93900", "sell", "tpsl")]
    assert ok(world, wire.get(alice, UNFILLED)) == []  # not in the book
    assert balances(world, alice.uid)["BTC"] == (D("1"), D("0"))  # nothing frozen while it waits
    world.engine.set_mark("bitget", "spot", "BTCUSDT", D("93000"))
    assert ok(world, wire.get(alice, UNFILLED, {"tpslType": "tpsl"})) == []
    sold = [o for o in world.engine.spot_orders(alice.uid) if o.side.value == "sell"]
    # placed at 94000 as a limit sell at 93900: marketable, it fills there as taker
    assert [(o.status.value, o.price, o.avg_price) for o in sold] == [("filled", D("93900"), D("94000"))]


def test_a_tpsl_order_is_cancelled_with_tpsl_type(world, wire, alice):
    placed = place(world, wire, alice, tpsl(orderType="market", price=None, force=None))
    with Unchanged(world):
        error(world, wire.post(alice, CANCEL, {"tpslType": "tpsl"}), "40019", "Parameter orderId cannot be empty")
        error(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": placed["orderId"]}), "43001",
              "The order does not exist")  # it is not a normal order
    data = ok(world, wire.post(alice, CANCEL, {"tpslType": "tpsl", "orderId": placed["orderId"]}))
    assert data == {"orderId": placed["orderId"], "clientOid": placed["clientOid"]}
    assert ok(world, wire.get(alice, UNFILLED, {"tpslType": "tpsl"})) == []
    with Unchanged(world):
        error(world, wire.post(alice, CANCEL, {"tpslType": "tpsl", "orderId": placed["orderId"]}), "43025",
              "Plan order does not exist")


@pytest.mark.parametrize("change, code, msg", [
    ({"triggerPrice": None}, "40019", "Parameter triggerPrice cannot be empty"),
    ({"price": None}, "40019", "Parameter price cannot be empty"),
    ({"triggerPrice": "94000.001"}, "40808",
     "Parameter verification exception price checkBDScale error value=94000.001 checkScale=2"),
    ({"presetStopLossPrice": "90000"}, "40020", "Parameter tpslType error"),
    ({"tpslType": "both"}, "40020", "Parameter tpslType error"),
])
def test_tpsl_order_refusals(world, wire, alice, change, code, msg):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, tpsl(**change)), code, msg)


def test_a_batch_entry_cannot_be_a_tpsl_order(world, wire, alice):
    body = tpsl()
    body.pop("symbol")
    data = ok(world, wire.post(alice, "/api/v2/spot/trade/batch-orders", {"symbol": "BTCUSDT", "orderList": [body]}))
    assert data["failureList"][0]["errorMsg"] == "Parameter tpslType error"


HISTORY_ORDERS = "/api/v2/spot/trade/history-orders"
HISTORY_ROW_KEYS = ["userId", "symbol", "orderId", "clientOid", "price", "size", "orderType", "side", "status",
                    "priceAvg", "baseVolume", "quoteVolume", "enterPointSource", "feeDetail", "orderSource",
                    "cTime", "uTime", "tpslType", "cancelReason", "triggerPrice"]


def test_finished_tpsl_orders_are_in_history_orders_with_tpsl_type(world, wire, alice):
    """history-orders tpslType=tpsl lists the TP/SL orders that are done: a fired one with the
    status, fills and fee of the order it placed; a cancelled one, and a preset's twin cancelled
    when the other fired, `cancelled` with nothing filled. Waiting ones are not history."""
    fired = place(world, wire, alice, tpsl(trigger="94000", price="93900"))
    dropped = place(world, wire, alice, tpsl(trigger="93000", price="92900"))
    waiting = place(world, wire, alice, tpsl(trigger="80000", price="79900"))
    ok(world, wire.post(alice, CANCEL, {"tpslType": "tpsl", "orderId": dropped["orderId"]}))
    [row] = ok(world, wire.get(alice, HISTORY_ORDERS, {"tpslType": "tpsl"}))
    assert row == dict(zip(HISTORY_ROW_KEYS, [
        alice.uid, "BTCUSDT", dropped["orderId"], dropped["clientOid"], "92900.0000000000000000",
        "0.0100000000000000", "limit", "sell", "cancelled", "0", "0.0000000000000000", "0.0000000000000000",
        "API", "", "normal", row["cTime"], row["uTime"], "tpsl", "", "93000"]))
    world.engine.set_mark("bitget", "spot", "BTCUSDT", D("93500"))  # fires the one at 94000 only
    rows = ok(world, wire.get(alice, HISTORY_ORDERS, {"tpslType": "tpsl"}))
    assert all(list(r) == HISTORY_ROW_KEYS for r in rows)
    assert [(r["orderId"], r["status"], r["priceAvg"], r["baseVolume"], r["triggerPrice"]) for r in rows] == [
        (dropped["orderId"], "cancelled", "0", "0.0000000000000000", "93000"),
        (fired["orderId"], "filled", "94000.0000000000000000", "0.0100000000000000", "94000"),
    ]
    [sold] = [o for o in world.engine.spot_orders(alice.uid) if o.side.value == "sell"]
    assert rows[1]["quoteVolume"] == "940.0000000000000000" and rows[1]["feeDetail"].startswith('{"USDT":')
    assert waiting["orderId"] not in {r["orderId"] for r in rows}
    # the normal history is the orders themselves: the sell the TP/SL placed, not the TP/SL
    normal = ok(world, wire.get(alice, HISTORY_ORDERS))
    assert [(r["orderId"], r["tpslType"]) for r in normal] == [(str(sold.order_id), "normal")]
