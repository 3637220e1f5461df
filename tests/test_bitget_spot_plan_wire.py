"""Bitget V2 spot trigger (plan) orders on the wire: place, modify, cancel, current, history,
sub-order, batch cancel; and how they fire when the mark price moves, in price order together
with the resting limit orders the same move reaches."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_bitget_spot_wire import (  # noqa: F401  (fixtures)
    Unchanged,
    alice,
    balances,
    bob,
    error,
    limit_buy,
    ok,
    one_order,
    order_id_ok,
    place,
    wire,
)

PLACE_PLAN = "/api/v2/spot/trade/place-plan-order"
MODIFY_PLAN = "/api/v2/spot/trade/modify-plan-order"
CANCEL_PLAN = "/api/v2/spot/trade/cancel-plan-order"
CURRENT = "/api/v2/spot/trade/current-plan-order"
HISTORY = "/api/v2/spot/trade/history-plan-order"
SUB = "/api/v2/spot/trade/plan-sub-order"
BATCH_CANCEL_PLAN = "/api/v2/spot/trade/batch-cancel-plan-order"
PLAN_KEYS = ["orderId", "clientOid", "symbol", "size", "executePrice", "triggerPrice", "status",
             "orderType", "side", "planType", "triggerType", "enterPointSource", "uTime", "cTime"]
D = Decimal


def plan(trigger="96000", side="buy", order_type="limit", execute="96100", size="0.01", **extra) -> dict:
    body = {"symbol": "BTCUSDT", "side": side, "triggerPrice": trigger, "orderType": order_type,
            "size": size, "triggerType": "mark_price", **extra}
    if execute is not None:
        body["executePrice"] = execute
    return body


def place_plan(world, wire, trader, body: dict) -> dict:
    data = ok(world, wire.post(trader, PLACE_PLAN, body))
    assert list(data) == ["orderId", "clientOid"]
    order_id_ok(data["orderId"])
    return data


def current(world, wire, trader, **params) -> dict:
    data = ok(world, wire.get(trader, CURRENT, {"symbol": "BTCUSDT", **params}), strings=False)
    assert list(data) == ["nextFlag", "idLessThan", "orderList"]
    return data


def mark(world, price: str) -> None:
    world.engine.set_mark("bitget", "spot", "BTCUSDT", D(price))


def test_place_plan_lists_it_and_freezes_nothing(world, wire, alice):
    before = balances(world, alice.uid)
    placed = place_plan(world, wire, alice, plan(clientOid="p1"))
    assert placed["clientOid"] == "p1"
    data = current(world, wire, alice)
    now = str(world.engine.now_ms())
    assert data == {"nextFlag": False, "idLessThan": placed["orderId"], "orderList": [{
        "orderId": placed["orderId"], "clientOid": "p1", "symbol": "BTCUSDT", "size": "0.01",
        "executePrice": "96100", "triggerPrice": "96000", "status": "live", "orderType": "limit",
        "side": "buy", "planType": "amount", "triggerType": "mark_price", "enterPointSource": "API",
        "uTime": now, "cTime": now}]}
    assert list(data["orderList"][0]) == PLAN_KEYS
    assert balances(world, alice.uid) == before
    assert world.engine.spot_orders(alice.uid) == []  # nothing in the book yet
    assert ok(world, wire.get(alice, SUB, {"planOrderId": placed["orderId"]})) == []


def test_a_rising_mark_fires_a_buy_stop_and_its_limit_order_rests_or_fills(world, wire, alice):
    stop = place_plan(world, wire, alice, plan(trigger="96000", execute="95500"))
    mark(world, "95900")  # not yet
    assert current(world, wire, alice)["orderList"][0]["status"] == "live"
    mark(world, "96500")
    assert current(world, wire, alice)["orderList"] == []
    sub = ok(world, wire.get(alice, SUB, {"planOrderId": stop["orderId"]}))
    assert len(sub) == 1 and list(sub[0]) == ["orderId", "price", "type", "status"]
    assert sub[0]["price"] == "95500" and sub[0]["type"] == "limit" and sub[0]["status"] == "success"
    order = one_order(world, wire, alice, sub[0]["orderId"])
    # placed at the trigger price 96000, its 95500 limit is not marketable: it rests
    assert (order["status"], order["side"], order["size"]) == ("live", "buy", "0.0100000000000000")
    assert balances(world, alice.uid)["USDT"][1] == D("955")
    mark(world, "95500")
    assert one_order(world, wire, alice, sub[0]["orderId"])["status"] == "filled"
    start, end = world.engine.now_ms() - 1000, world.engine.now_ms() + 1000
    hist = ok(world, wire.get(alice, HISTORY, {"symbol": "BTCUSDT", "startTime": start, "endTime": end}),
              strings=False)
    assert [(r["orderId"], r["status"]) for r in hist["orderList"]] == [(stop["orderId"], "executed")]


def test_market_trigger_sizes_amount_and_total(world, wire, alice):
    # a market sell of 0.01 BTC when the price falls to 94000; a market buy of 500 USDT when it
    # rises to 96000 (planType total)
    sell = place_plan(world, wire, alice, plan(trigger="94000", side="sell", order_type="market", execute=None))
    buy = place_plan(world, wire, alice, plan(trigger="96000", order_type="market", execute=None,
                                              size="500", planType="total"))
    rows = {r["orderId"]: r for r in current(world, wire, alice)["orderList"]}
    assert rows[buy["orderId"]]["planType"] == "total" and rows[buy["orderId"]]["executePrice"] == "0"
    mark(world, "93000")
    sub = ok(world, wire.get(alice, SUB, {"planOrderId": sell["orderId"]}))[0]
    assert (sub["type"], sub["price"], sub["status"]) == ("market", "0", "success")
    sold = one_order(world, wire, alice, sub["orderId"])
    # it fired where the path met its trigger: at 94000, not at 93000
    assert (sold["status"], sold["priceAvg"], sold["baseVolume"]) == (
        "filled", "94000.0000000000000000", "0.0100000000000000")
    mark(world, "97000")
    bought = one_order(world, wire, alice, ok(world, wire.get(alice, SUB, {"planOrderId": buy["orderId"]}))[0]["orderId"])
    assert (bought["size"], bought["priceAvg"]) == ("500.0000000000000000", "96000.0000000000000000")


def test_triggers_and_resting_orders_fire_in_price_order(world, wire, alice, bob):
    """One move 95000 -> 99000 meets, in price order: alice's resting sell at 96000, bob's stop
    (a market buy of 0.05 BTC) at 97000, then at 98000 bob's second stop (a trigger goes before a
    resting order at one price), which fails: 0.06 BTC at 98000 is more than bob has left; and
    alice's resting sell at 98000."""
    s1 = place(world, wire, alice, {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit", "force": "gtc",
                                    "price": "96000", "size": "0.1"})
    s2 = place(world, wire, alice, {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit", "force": "gtc",
                                    "price": "98000", "size": "0.1"})
    first = place_plan(world, wire, bob, plan(trigger="97000", order_type="market", execute=None,
                                              size="0.05"))
    second = place_plan(world, wire, bob, plan(trigger="98000", order_type="market", execute=None,
                                               size="0.06"))  # 5880 USDT: more than bob has left
    mark(world, "99000")
    fills = world.engine.spot_fills(alice.uid) + world.engine.spot_fills(bob.uid)
    by_time = sorted(fills, key=lambda f: f.trade_id)
    assert [(f.uid == alice.uid, f.price, f.side.value) for f in by_time] == [
        (True, D("96000"), "sell"), (False, D("97000"), "buy"), (True, D("98000"), "sell")]
    assert one_order(world, wire, alice, s1["orderId"])["status"] == "filled"
    assert one_order(world, wire, alice, s2["orderId"])["status"] == "filled"
    start, end = world.engine.now_ms() - 1000, world.engine.now_ms() + 1000
    hist = ok(world, wire.get(bob, HISTORY, {"symbol": "BTCUSDT", "startTime": start, "endTime": end}),
              strings=False)["orderList"]
    assert {r["orderId"]: r["status"] for r in hist} == {first["orderId"]: "executed",
                                                         second["orderId"]: "fail_execute"}
    assert ok(world, wire.get(bob, SUB, {"planOrderId": second["orderId"]})) == [
        {"orderId": "", "price": "0", "type": "market", "status": "fail"}]
    # bob paid 0.05 * 97000 plus nothing for the failed one
    assert balances(world, bob.uid)["USDT"] == (D("10000") - D("4850"), D("0"))


def test_modify_plan_order_moves_trigger_and_execution(world, wire, alice):
    placed = place_plan(world, wire, alice, plan(clientOid="m1"))
    data = ok(world, wire.post(alice, MODIFY_PLAN, {"clientOid": "m1", "triggerPrice": "94000",
                                                      "orderType": "market", "size": "0.02"}))
    assert data == {"orderId": placed["orderId"], "clientOid": "m1"}
    row = current(world, wire, alice)["orderList"][0]
    assert (row["triggerPrice"], row["orderType"], row["executePrice"], row["size"]) == (
        "94000", "market", "0", "0.02")
    mark(world, "96500")  # the old trigger: nothing fires any more
    assert current(world, wire, alice)["orderList"][0]["status"] == "live"
    mark(world, "94000")  # the new one, now below the mark: fires falling
    assert current(world, wire, alice)["orderList"] == []


def test_cancel_plan_and_batch_cancel(world, wire, alice, bob):
    a = place_plan(world, wire, alice, plan(clientOid="x1"))
    b = place_plan(world, wire, alice, plan(trigger="97000", clientOid="x2"))
    e = place_plan(world, wire, alice, {**plan(trigger="3300", execute="3300", size="0.1"), "symbol": "ETHUSDT"})
    theirs = place_plan(world, wire, bob, plan())
    assert ok(world, wire.post(alice, CANCEL_PLAN, {"orderId": a["orderId"]})) == {"result": "success"}
    with Unchanged(world):
        error(world, wire.post(alice, CANCEL_PLAN, {"orderId": a["orderId"]}), "43025", "Plan order does not exist")
        error(world, wire.post(alice, CANCEL_PLAN, {"orderId": theirs["orderId"]}), "43025",
              "Plan order does not exist")
        error(world, wire.post(alice, CANCEL_PLAN, {}), "40924", "orderId and clientOid must have one")
    data = ok(world, wire.post(alice, BATCH_CANCEL_PLAN, {"symbolList": ["btcusdt"]}))
    assert data == {"successList": [{"orderId": b["orderId"], "clientOid": "x2"}], "failureList": []}
    assert current(world, wire, alice, symbol="ETHUSDT")["orderList"][0]["orderId"] == e["orderId"]
    data = ok(world, wire.post(alice, BATCH_CANCEL_PLAN, {}))
    assert data["successList"] == [{"orderId": e["orderId"], "clientOid": e["clientOid"]}]
    assert current(world, wire, bob)["orderList"][0]["orderId"] == theirs["orderId"]
    start, end = world.engine.now_ms() - 1000, world.engine.now_ms() + 1000
    hist = ok(world, wire.get(alice, HISTORY, {"symbol": "BTCUSDT", "startTime": start, "endTime": end}),
              strings=False)["orderList"]
    assert [(r["orderId"], r["status"]) for r in hist] == [(b["orderId"], "cancelled"), (a["orderId"], "cancelled")]
    assert ok(world, wire.get(alice, SUB, {"planOrderId": a["orderId"]})) == []


def test_current_plan_order_pages_by_id(world, wire, alice):
    ids = [place_plan(world, wire, alice, plan(trigger=str(96000 + i)))["orderId"] for i in range(3)]
    first = current(world, wire, alice, limit="2")
    assert [r["orderId"] for r in first["orderList"]] == ids[:0:-1]
    assert first["nextFlag"] is True and first["idLessThan"] == ids[1]
    rest = current(world, wire, alice, limit="2", idLessThan=first["idLessThan"])
    assert [r["orderId"] for r in rest["orderList"]] == [ids[0]] and rest["nextFlag"] is False
    empty = current(world, wire, alice, symbol="ETHUSDT")
    assert empty == {"nextFlag": False, "idLessThan": None, "orderList": []}


@pytest.mark.parametrize("change, code, msg", [
    ({"symbol": None}, "40019", "Parameter symbol cannot be empty"),
    ({"triggerPrice": None}, "40019", "Parameter triggerPrice cannot be empty"),
    ({"triggerType": None}, "40019", "Parameter triggerType cannot be empty"),
    ({"triggerType": "index_price"}, "40020", "Parameter triggerType error"),
    ({"executePrice": None}, "40019", "Parameter executePrice cannot be empty"),
    ({"planType": "both"}, "40020", "Parameter planType error"),
    ({"orderType": "stop"}, "40020", "Parameter orderType error"),
    ({"side": "hold"}, "40020", "Parameter side error"),
    ({"stpMode": "cancel_all"}, "40020", "Parameter stpMode error"),
    ({"triggerPrice": "-1"}, "40020", "Parameter triggerPrice error"),
    ({"triggerPrice": "96000.001"}, "40808",
     "Parameter verification exception price checkBDScale error value=96000.001 checkScale=2"),
    ({"size": "0.00001"}, "45110", "less than the minimum amount 1 USDT"),
    ({"size": "0.0000001"}, "40808",
     "Parameter verification exception size checkBDScale error value=0.0000001 checkScale=6"),
    ({"symbol": "NOPEUSDT"}, "40034", "Parameter NOPEUSDT does not exist"),
    ({"clientOid": "x" * 51}, "40020", "Parameter clientOid error"),
])
def test_place_plan_refusals_change_nothing(world, wire, alice, change, code, msg):
    body = {k: v for k, v in {**plan(), **change}.items() if v is not None}
    with Unchanged(world):
        error(world, wire.post(alice, PLACE_PLAN, body), code, msg)
    assert world.engine.spot_plans(alice.uid) == []


def test_plan_refusals_duplicate_client_oid_and_unknown_ids(world, wire, alice):
    placed = place_plan(world, wire, alice, plan(clientOid="d1"))
    with Unchanged(world):
        error(world, wire.post(alice, PLACE_PLAN, plan(clientOid="d1")), "43118", "clientOrderId duplicate")
        error(world, wire.post(alice, MODIFY_PLAN, {"orderId": "1767225600000000001", "triggerPrice": "1",
                                                     "orderType": "market", "size": "1"}),
              "43025", "Plan order does not exist")
        error(world, wire.post(alice, MODIFY_PLAN, {"orderId": placed["orderId"], "orderType": "limit",
                                                     "triggerPrice": "96000", "size": "0.01"}),
              "40019", "Parameter executePrice cannot be empty")
        error(world, wire.get(alice, SUB, {}), "40019", "Parameter planOrderId cannot be empty")
        error(world, wire.get(alice, SUB, {"planOrderId": "1767225600000000001"}), "43025",
              "Plan order does not exist")
        error(world, wire.get(alice, CURRENT, {}), "40019", "Parameter symbol cannot be empty")
        error(world, wire.get(alice, HISTORY, {"symbol": "BTCUSDT", "startTime": "1"}), "40019",
              "Parameter endTime cannot be empty")
        error(world, wire.get(alice, HISTORY, {"symbol": "BTCUSDT", "startTime": "1",
                                               "endTime": str(91 * 86_400_000)}),
              "40705", "The start and end time cannot exceed 90 days")
        error(world, wire.post(alice, BATCH_CANCEL_PLAN, {"symbolList": "BTCUSDT"}), "40020",
              "Parameter symbolList error")


def test_every_spot_trigger_kind_fires_in_price_order_in_one_move(world, wire, alice, bob):
    """95000 -> 99000 meets: alice's stop buy (a trigger order) at 96000, the take-profit her
    filled buy preset at 97000, a TP/SL order at 97500, and bob's resting sell at 98000."""
    place(world, wire, alice, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": "950",
                               "presetTakeProfitPrice": "97000"})  # fills now: 0.00999 BTC net of fee
    place_plan(world, wire, alice, plan(trigger="96000", order_type="market", execute=None, size="0.01"))
    place(world, wire, alice, {"symbol": "BTCUSDT", "side": "sell", "orderType": "market", "size": "0.002",
                               "tpslType": "tpsl", "triggerPrice": "97500"})
    place(world, wire, bob, {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit", "force": "gtc",
                             "price": "98000", "size": "0.01"})
    before = {f.trade_id for f in world.engine.spot_fills(alice.uid)}
    mark(world, "99000")
    fills = [f for f in world.engine.spot_fills(alice.uid) + world.engine.spot_fills(bob.uid)
             if f.trade_id not in before]
    assert [(f.uid == alice.uid, f.side.value, f.price, f.size) for f in sorted(fills, key=lambda f: f.trade_id)] == [
        (True, "buy", D("96000"), D("0.01")), (True, "sell", D("97000"), D("0.00999")),
        (True, "sell", D("97500"), D("0.002")), (False, "sell", D("98000"), D("0.01"))]


def test_a_limit_order_a_trigger_places_fills_in_price_order_with_later_triggers(world, wire, alice, bob):
    """95000 -> 99500: alice's trigger at 96000 places a limit sell at 98500, which rests; bob's
    resting sell at 98000, that limit sell at 98500, and alice's market buy trigger at 99000 then
    fill in that order, as the path reaches each (not the rested sell at the end of the move)."""
    place_plan(world, wire, alice, plan(trigger="96000", side="sell", execute="98500", size="0.005"))
    place_plan(world, wire, alice, plan(trigger="99000", order_type="market", execute=None, size="0.001"))
    place(world, wire, bob, {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit", "force": "gtc",
                             "price": "98000", "size": "0.01"})
    mark(world, "99500")
    fills = sorted(world.engine.spot_fills(alice.uid) + world.engine.spot_fills(bob.uid), key=lambda f: f.trade_id)
    assert [(f.uid == alice.uid, f.side.value, f.price) for f in fills] == [
        (False, "sell", D("98000")), (True, "sell", D("98500")), (True, "buy", D("99000"))]
