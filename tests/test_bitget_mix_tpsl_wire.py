"""Bitget V2 futures (mix) TP/SL, trailing and modify endpoints on the wire: place-tpsl-order,
place-pos-tpsl, modify-tpsl-order, place-plan-order track_plan, modify-plan-order,
orders-plan-history, cancel-plan-order for every plan type, limit-price presets on place-order,
modify-order, click-backhand, fill-history.
"""

from __future__ import annotations

from decimal import Decimal as D

from test_bitget_mix_wire import (  # noqa: F401  (fixtures)
    ALL_POSITION,
    CANCEL_PLAN,
    DETAIL,
    FILLS,
    HISTORY,
    PLACE_PLAN,
    PLAN_KEYS,
    PLAN_PENDING,
    PT,
    SINGLE_POSITION,
    USDT_M,
    Unchanged,
    alice,
    detail,
    error,
    hedger,
    ok,
    place,
    set_mark,
    usdt,
    wire,
)

from localex.engine.model import FuturesStatus, OrderKind

PLACE_TPSL = "/api/v2/mix/order/place-tpsl-order"
PLACE_POS_TPSL = "/api/v2/mix/order/place-pos-tpsl"
MODIFY_TPSL = "/api/v2/mix/order/modify-tpsl-order"
MODIFY_PLAN = "/api/v2/mix/order/modify-plan-order"
PLAN_HISTORY = "/api/v2/mix/order/orders-plan-history"
MODIFY = "/api/v2/mix/order/modify-order"
BACKHAND = "/api/v2/mix/order/click-backhand"
FILL_HISTORY = "/api/v2/mix/order/fill-history"

BASE = {"symbol": "BTCUSDT", "productType": PT, "marginCoin": "USDT"}


def tpsl(plan_type, trigger, hold_side="long", **extra) -> dict:
    return {**BASE, "planType": plan_type, "triggerPrice": trigger, "triggerType": "mark_price",
            "holdSide": hold_side, **extra}


def pending(world, wire, trader, plan_type="profit_loss") -> list[dict]:
    return ok(world, wire.get(trader, PLAN_PENDING, {"productType": PT, "planType": plan_type}))["entrustedList"] or []


def position(world, trader, side="long"):
    (pos,) = [p for p in world.engine.positions(trader.uid) if p.side.value == side]
    return pos


def test_partial_and_position_tpsl_orders_fire_in_price_order(world, wire, hedger):
    place(world, wire, hedger, side="buy", trade_side="open", size="0.03")
    take = ok(world, wire.post(hedger, PLACE_TPSL, tpsl("profit_plan", "96000", size="0.01", clientOid="tp-1")))
    assert take["clientOid"] == "tp-1"
    limit_take = ok(world, wire.post(hedger, PLACE_TPSL, tpsl("profit_plan", "97000", size="0.01",
                                                                executePrice="97100")))
    whole = ok(world, wire.post(hedger, PLACE_TPSL, tpsl("pos_profit", "98000", executePrice="0")))
    stop = ok(world, wire.post(hedger, PLACE_TPSL, tpsl("pos_loss", "90000")))
    rows = pending(world, wire, hedger)
    assert [r["planType"] for r in rows] == ["pos_loss", "pos_profit", "profit_plan", "profit_plan"]
    assert all(list(r) == PLAN_KEYS for r in rows)
    by_id = {r["orderId"]: r for r in rows}
    assert (by_id[take["orderId"]]["size"], by_id[take["orderId"]]["triggerPrice"],
            by_id[take["orderId"]]["executePrice"], by_id[take["orderId"]]["orderType"],
            by_id[take["orderId"]]["tradeSide"], by_id[take["orderId"]]["planStatus"]) == (
        "0.01", "96000", "", "market", "close", "live")
    assert (by_id[limit_take["orderId"]]["executePrice"], by_id[limit_take["orderId"]]["orderType"]) == (
        "97100", "limit")
    assert (by_id[whole["orderId"]]["size"], by_id[stop["orderId"]]["triggerPrice"]) == ("0.03", "90000")
    row = ok(world, wire.get(hedger, ALL_POSITION, {"productType": PT}))[0]
    assert (row["takeProfit"], row["stopLoss"], row["takeProfitId"], row["stopLossId"]) == (
        "98000", "90000", whole["orderId"], stop["orderId"])
    # TP/SL orders lock nothing: the whole position can still be closed by an order
    assert row["available"] == "0.03"
    # a jump to 97050: the partial TP fills at 96000; the limit TP triggers at 97000 and its close
    # rests at 97100
    set_mark(world, "97050")
    assert position(world, hedger).size == D("0.02")
    (resting,) = world.engine.futures_orders(hedger.uid, open_only=True, kinds=[OrderKind.REGULAR])
    assert (resting.price, resting.order_type.value, resting.source) == (D("97100"), "limit", "take_profit")
    # a jump to 99000 meets, in price order, the resting limit close (97100) and the position TP
    # (98000) for what is left
    set_mark(world, "99000")
    assert world.engine.positions(hedger.uid) == []
    fills = world.engine.futures_fills(hedger.uid, limit=None)
    closes = sorted(((f.price, f.size) for f in fills if f.trade_side.value == "close"))
    assert closes == [(D("96000"), D("0.01")), (D("97100"), D("0.01")), (D("98000"), D("0.01"))]
    assert pending(world, wire, hedger) == []
    history = ok(world, wire.get(hedger, PLAN_HISTORY, {"productType": PT, "planType": "profit_loss"}))
    assert {(r["planType"], r["planStatus"]) for r in history["entrustedList"]} == {
        ("profit_plan", "executed"), ("pos_profit", "executed"), ("pos_loss", "cancelled")}
    # the stop-loss went with the position (it never fired): cancelled, under its own id
    assert world.engine.futures_order(hedger.uid, int(take["orderId"])).source == "take_profit"


def test_place_pos_tpsl_modify_and_cancel(world, wire, alice):
    place(world, wire, alice, side="buy", size="0.02")
    data = ok(world, wire.post(alice, PLACE_POS_TPSL, {
        **BASE, "stopSurplusTriggerPrice": "99000", "stopSurplusExecutePrice": "99100",
        "stopLossTriggerPrice": "91000", "stopLossTriggerType": "mark_price", "holdSide": "buy"}))
    assert [list(item) for item in data] == [["orderId"], ["orderId"]]
    tp_id, sl_id = (item["orderId"] for item in data)
    pos = position(world, alice)
    assert (pos.tp_price, pos.tp_execute, pos.sl_price, pos.sl_execute) == (D("99000"), D("99100"), D("91000"), None)
    assert (str(pos.tp_id), str(pos.sl_id)) == (tp_id, sl_id)
    detail_row = ok(world, wire.get(alice, ALL_POSITION, {"productType": PT}))[0]
    assert (detail_row["takeProfit"], detail_row["stopLoss"]) == ("99000", "91000")
    # modify the position's stop-loss: it keeps its id, gains a limit price
    moved = ok(world, wire.post(alice, MODIFY_TPSL, {**BASE, "orderId": sl_id, "triggerPrice": "92000",
                                                     "executePrice": "91900", "size": "0.02"}))
    assert moved == {"orderId": sl_id, "clientOid": sl_id}
    pos = position(world, alice)
    assert (pos.sl_price, pos.sl_execute, str(pos.sl_id)) == (D("92000"), D("91900"), sl_id)
    with Unchanged(world):
        error(world, wire.post(alice, MODIFY_TPSL, {**BASE, "orderId": "1", "triggerPrice": "92000", "size": "1"}),
              "43025", "Plan order does not exist")
        error(world, wire.post(alice, MODIFY_TPSL, {**BASE, "orderId": sl_id, "triggerPrice": "96000",
                                                    "size": "0.02"}),
              "40917", "Stop price for long positions please < mark price 95000")
        error(world, wire.post(alice, MODIFY_TPSL, {**BASE, "orderId": sl_id, "size": "0.02"}),
              "40019", "Parameter triggerPrice cannot be empty")
    # cancel by plan type and id
    data = ok(world, wire.post(alice, CANCEL_PLAN, {**BASE, "planType": "pos_loss",
                                                    "orderIdList": [{"orderId": sl_id}]}))
    assert data == {"successList": [{"clientOid": sl_id, "orderId": sl_id}], "failureList": []}
    assert position(world, alice).sl_price is None
    data = ok(world, wire.post(alice, CANCEL_PLAN, {"productType": PT, "planType": "profit_loss"}))
    assert data["successList"] == [{"clientOid": tp_id, "orderId": tp_id}]
    assert position(world, alice).tp_price is None and pending(world, wire, alice) == []


def test_tpsl_refusals_change_nothing(world, wire, alice):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE_TPSL, tpsl("pos_profit", "99000", "buy")), "43023",
              "Insufficient position, can not set profit or stop loss")
    place(world, wire, alice, side="buy", size="0.02")
    with Unchanged(world):
        error(world, wire.post(alice, PLACE_TPSL, tpsl("normal_plan", "99000", "buy")), "40020",
              "Parameter planType error")
        error(world, wire.post(alice, PLACE_TPSL, tpsl("profit_plan", "99000", "buy")), "40019",
              "Parameter size cannot be empty")
        error(world, wire.post(alice, PLACE_TPSL, tpsl("profit_plan", "99000", "buy", size="0.03")), "40757",
              "Not enough position is available.")
        error(world, wire.post(alice, PLACE_TPSL, tpsl("profit_plan", "94000", "buy", size="0.01")), "40915",
              "Long position take profit price please > mark price")
        error(world, wire.post(alice, PLACE_TPSL, tpsl("pos_loss", "96000", "buy")), "40917",
              "Stop price for long positions please < mark price 95000")
        error(world, wire.post(alice, PLACE_TPSL, tpsl("pos_loss", "90000", "up")), "40020",
              "Parameter holdSide error")
        error(world, wire.post(alice, PLACE_TPSL, tpsl("pos_loss", "90000", "sell")), "43023",
              "Insufficient position, can not set profit or stop loss")
        error(world, wire.post(alice, PLACE_TPSL, tpsl("moving_plan", "96000", "buy", size="0.01")), "40019",
              "Parameter rangeRate cannot be empty")
        error(world, wire.post(alice, PLACE_TPSL, tpsl("moving_plan", "96000", "buy", size="0.01",
                                                       rangeRate="11")), "40020", "Parameter rangeRate error")
        error(world, wire.post(alice, PLACE_TPSL, tpsl("pos_loss", "90000", "buy", marginCoin="USDC")), "40778",
              "Coin pair BTCUSDT does not support USDC currency as margin")
        error(world, wire.post(alice, PLACE_POS_TPSL, {**BASE, "holdSide": "buy"}), "40019",
              "Parameter stopSurplusTriggerPrice cannot be empty")


def test_moving_plan_and_track_plan_trail_the_mark(world, wire, alice):
    place(world, wire, alice, side="buy", size="0.02")
    moving = ok(world, wire.post(alice, PLACE_TPSL, tpsl("moving_plan", "96000", "buy", size="0.01",
                                                         rangeRate="1")))
    # a trailing trigger order that opens: buy once the mark rebounds 2% off its low below 94000
    track = ok(world, wire.post(alice, PLACE_PLAN, {
        **BASE, "marginMode": "crossed", "planType": "track_plan", "size": "0.01", "side": "buy",
        "orderType": "market", "triggerPrice": "94000", "triggerType": "mark_price", "callbackRatio": "2"}))
    rows = {r["orderId"]: r for r in pending(world, wire, alice, "track_plan")}
    assert (rows[track["orderId"]]["callbackRatio"], rows[track["orderId"]]["triggerPrice"],
            rows[track["orderId"]]["planType"]) == ("2", "94000", "track_plan")
    assert [r["planType"] for r in pending(world, wire, alice)] == ["moving_plan"]
    assert usdt(world, alice)[1] > 0  # the opening trailing order holds its margin
    # the mark rises to 97000 (moving_plan active from 96000), falls back 1%: 96030 fires it
    for price in ("97000", "96030"):
        set_mark(world, price)
    trail = world.engine.futures_order(alice.uid, int(moving["orderId"]))
    assert (trail.status, trail.avg_price, trail.filled_size) == (FuturesStatus.FILLED, D("96030"), D("0.01"))
    assert position(world, alice).size == D("0.01")
    # the opening trailing order: activated at 94000, lowest 93000, fires 2% above: 94860
    for price in ("93500", "93000", "94860"):
        set_mark(world, price)
    opened = world.engine.futures_order(alice.uid, int(track["orderId"]))
    assert (opened.status, opened.avg_price) == (FuturesStatus.FILLED, D("94860"))
    assert position(world, alice).size == D("0.02")
    history = ok(world, wire.get(alice, PLAN_HISTORY, {"productType": PT, "planType": "track_plan"}))
    assert [(r["orderId"], r["planStatus"]) for r in history["entrustedList"]] == [(track["orderId"], "executed")]


def test_modify_plan_order_in_place(world, wire, alice):
    plan = ok(world, wire.post(alice, PLACE_PLAN, {
        **BASE, "marginMode": "crossed", "planType": "normal_plan", "size": "0.01", "side": "buy",
        "orderType": "limit", "price": "96900", "triggerPrice": "97000", "triggerType": "mark_price"}))
    before = usdt(world, alice)[1]
    moved = ok(world, wire.post(alice, MODIFY_PLAN, {**BASE, "orderId": plan["orderId"], "newSize": "0.02",
                                                     "newPrice": "97100", "newTriggerPrice": "97200"}))
    assert moved == plan
    order = world.engine.futures_order(alice.uid, int(plan["orderId"]))
    assert (order.size, order.price, order.trigger_price) == (D("0.02"), D("97100"), D("97200"))
    assert usdt(world, alice)[1] == order.frozen > before
    with Unchanged(world):
        error(world, wire.post(alice, MODIFY_PLAN, {**BASE, "orderId": "5"}), "43025", "Plan order does not exist")
        error(world, wire.post(alice, MODIFY_PLAN, {**BASE}), "40924", "orderId and clientOid must have one")
        error(world, wire.post(alice, MODIFY_PLAN, {**BASE, "orderId": plan["orderId"], "newSize": "-1"}),
              "40020", "Parameter newSize error")
        error(world, wire.post(alice, MODIFY_PLAN, {**BASE, "orderId": plan["orderId"], "newSize": "5"}),
              "40762", "The order amount exceeds the balance")
    cancelled = ok(world, wire.post(alice, CANCEL_PLAN, {**BASE, "orderIdList": [{"orderId": plan["orderId"]}]}))
    assert cancelled["successList"] == [plan]
    history = ok(world, wire.get(alice, PLAN_HISTORY, {"productType": PT, "planType": "normal_plan"}))
    assert [(r["orderId"], r["planStatus"]) for r in history["entrustedList"]] == [(plan["orderId"], "cancelled")]
    error(world, wire.get(alice, PLAN_HISTORY, {"productType": PT}), "40019", "Parameter planType cannot be empty")


def test_limit_price_presets_on_place_order(world, wire, hedger):
    opened = place(world, wire, hedger, side="buy", trade_side="open", presetStopSurplusPrice="97000",
                   presetStopSurplusExecutePrice="97050", presetStopLossPrice="93000",
                   presetStopLossExecutePrice="92900")
    row = detail(world, wire, hedger, opened["orderId"])
    assert (row["presetStopSurplusPrice"], row["presetStopSurplusExecutePrice"], row["presetStopLossPrice"],
            row["presetStopLossExecutePrice"]) == ("97000", "97050", "93000", "92900")
    pos = position(world, hedger)
    assert (pos.tp_price, pos.tp_execute, pos.sl_price, pos.sl_execute) == (D("97000"), D("97050"), D("93000"),
                                                                            D("92900"))
    # the TP triggers at 97000; its limit close rests at 97050 until the mark reaches it
    set_mark(world, "97020")
    (resting,) = world.engine.futures_orders(hedger.uid, open_only=True)
    assert (resting.price, resting.source, position(world, hedger).tp_price) == (D("97050"), "tp", None)
    assert detail(world, wire, hedger, str(resting.order_id))["orderSource"] == "pos_profit_limit"
    set_mark(world, "97060")
    assert world.engine.positions(hedger.uid) == []
    with Unchanged(world):
        error(world, wire.post(hedger, "/api/v2/mix/order/place-order", {
            **BASE, "marginMode": "crossed", "size": "0.01", "side": "buy", "tradeSide": "open",
            "orderType": "market", "presetStopLossExecutePrice": "92900"}),
            "40019", "Parameter presetStopLossPrice cannot be empty")


def test_modify_order_replaces_under_a_new_id(world, wire, alice):
    first = place(world, wire, alice, order_type="limit", price="90000", clientOid="old")
    data = ok(world, wire.post(alice, MODIFY, {**BASE, "orderId": first["orderId"], "newClientOid": "new",
                                               "newSize": "0.02", "newPrice": "90500"}))
    assert list(data) == ["orderId", "clientOid"] and data["clientOid"] == "new"
    assert data["orderId"] != first["orderId"]
    old = world.engine.futures_order(alice.uid, int(first["orderId"]))
    new = world.engine.futures_order(alice.uid, int(data["orderId"]))
    assert old.status is FuturesStatus.CANCELLED
    assert (new.status, new.size, new.price) == (FuturesStatus.LIVE, D("0.02"), D("90500"))
    assert usdt(world, alice)[1] == new.frozen
    # TP/SL presets alone: the same order, changed in place
    same = ok(world, wire.post(alice, MODIFY, {**BASE, "orderId": data["orderId"], "newClientOid": "x",
                                               "newPresetStopSurplusPrice": "99000"}))
    assert same == data and world.engine.futures_order(alice.uid, int(data["orderId"])).tp_price == D("99000")
    filled = place(world, wire, alice)
    with Unchanged(world):
        error(world, wire.post(alice, MODIFY, {**BASE, "orderId": data["orderId"], "newSize": "0.02"}), "40019",
              "Parameter newClientOid cannot be empty")
        error(world, wire.post(alice, MODIFY, {**BASE, "orderId": filled["orderId"], "newClientOid": "y",
                                               "newPrice": "1"}),
              "40109", "The data of the order cannot be found, please confirm the order number")
        error(world, wire.post(alice, MODIFY, {**BASE, "orderId": data["orderId"], "newClientOid": "y",
                                               "newSize": "10"}),
              "40762", "The order amount exceeds the balance")
        error(world, wire.post(alice, MODIFY, {**BASE, "orderId": data["orderId"], "newClientOid": "y"}),
              "40019", "Parameter newSize cannot be empty")


def test_click_backhand_and_fill_history(world, wire, hedger):
    place(world, wire, hedger, side="buy", trade_side="open", size="0.03")
    data = ok(world, wire.post(hedger, BACKHAND, {**BASE, "side": "buy", "tradeSide": "open", "size": "0.01",
                                                  "clientOid": "rev"}))
    assert data["clientOid"] == "rev"
    assert {(p.side.value, p.size) for p in world.engine.positions(hedger.uid)} == {
        ("long", D("0.02")), ("short", D("0.01"))}
    with Unchanged(world):
        error(world, wire.post(hedger, BACKHAND, {**BASE, "side": "buy"}), "40774",
              "The order type for unilateral position must also be the unilateral position type.")
        error(world, wire.post(hedger, BACKHAND, {**BASE, "symbol": "ETHUSDT", "side": "buy",
                                                  "tradeSide": "open"}),
              "22002", "No position to close")
    fills = ok(world, wire.get(hedger, FILLS, {"productType": PT}))
    history = ok(world, wire.get(hedger, FILL_HISTORY, {"productType": PT}))
    assert history == fills and len(history["fillList"]) == 3
    # fill-history pages and refuses as fills does
    page = ok(world, wire.get(hedger, FILL_HISTORY, {"productType": PT, "limit": "2"}))
    rest = ok(world, wire.get(hedger, FILL_HISTORY, {"productType": PT, "idLessThan": page["endId"]}))
    assert page["fillList"] + rest["fillList"] == history["fillList"]
    with Unchanged(world):
        error(world, wire.get(hedger, FILL_HISTORY, {"productType": PT, "limit": "0"}), "40053",
              "Value range verification failed: limit should be between (0, 100]")
        error(world, wire.get(hedger, FILL_HISTORY, {"productType": PT, "startTime": "2", "endTime": "1"}),
              "40707", "Start time is greater than end time")
        error(world, wire.get(hedger, FILL_HISTORY, {}), "40019", "Parameter productType cannot be empty")


def test_an_elite_traders_tracked_position_takes_no_partial_tpsl_or_reversal(world, wire):
    from test_bitget_mix_wire import futures_trader

    from localex.engine.model import Permission

    lead = futures_trader(world, "lead", usdt="100000", hedge=True,
                          permissions=frozenset({Permission.READ, Permission.FUTURES_TRADE, Permission.COPY_TRADE}))
    world.engine.copy.make_trader(lead.uid, [(USDT_M, "BTCUSDT")])
    place(world, wire, lead, side="buy", trade_side="open", size="0.02")
    assert world.engine.copy.tracking_orders(lead.uid, USDT_M)
    message = "You are currently a trader, please close the position under the current order"
    with Unchanged(world):
        error(world, wire.post(lead, PLACE_TPSL, tpsl("profit_plan", "99000", size="0.01")), "40866", message)
        error(world, wire.post(lead, BACKHAND, {**BASE, "side": "buy", "tradeSide": "open"}), "40866", message)


PLAN_HISTORY_KEYS = [
    "planType", "symbol", "size", "orderId", "executeOrderId", "clientOid", "planStatus", "price", "executePrice",
    "priceAvg", "baseVolume", "callbackRatio", "triggerPrice", "triggerType", "side", "posSide", "marginCoin",
    "marginMode", "enterPointSource", "tradeSide", "posMode", "orderType", "cTime", "uTime",
    "stopSurplusExecutePrice", "stopSurplusTriggerPrice", "stopSurplusTriggerType", "stopLossExecutePrice",
    "stopLossTriggerPrice", "stopLossTriggerType"]


def test_finished_tpsl_orders_in_orders_plan_history(world, wire, alice):
    """orders-plan-history (profit_loss) lists every finished TP/SL kind with the DOC's fields:
    a partial TP that fired (executeOrderId, priceAvg, baseVolume), a position's own stop-loss
    that was removed and its own take-profit that went with the position unfired (cancelled,
    under the ids all-position showed); planStatus filters."""
    place(world, wire, alice, side="buy", size="0.02")
    take = ok(world, wire.post(alice, PLACE_TPSL, {**BASE, "planType": "profit_plan", "triggerPrice": "96000",
                                                  "size": "0.01", "holdSide": "long"}))
    ok(world, wire.post(alice, PLACE_TPSL, {**BASE, "planType": "pos_profit", "triggerPrice": "99000",
                                           "holdSide": "long"}))
    ok(world, wire.post(alice, PLACE_TPSL, {**BASE, "planType": "pos_loss", "triggerPrice": "90000",
                                           "holdSide": "long"}))
    [row] = ok(world, wire.get(alice, "/api/v2/mix/position/all-position", {"productType": PT}))
    tp_id, sl_id = row["takeProfitId"], row["stopLossId"]
    # the stop-loss removed (cancel-plan-order by its id)
    ok(world, wire.post(alice, CANCEL_PLAN, {**BASE, "planType": "profit_loss", "orderIdList": [{"orderId": sl_id}]}))
    set_mark(world, "96500")  # the partial TP fires at 96000
    place(world, wire, alice, side="sell", size="0.01", reduceOnly="YES")  # closes the rest: its TP goes too
    history = ok(world, wire.get(alice, PLAN_HISTORY, {"productType": PT, "planType": "profit_loss"}))
    rows = history["entrustedList"]
    assert all(list(r) == PLAN_HISTORY_KEYS for r in rows)
    by_id = {r["orderId"]: r for r in rows}
    assert set(by_id) == {take["orderId"], tp_id, sl_id}
    fired = by_id[take["orderId"]]
    assert (fired["planType"], fired["planStatus"], fired["executeOrderId"], fired["priceAvg"],
            fired["baseVolume"], fired["triggerPrice"]) == ("profit_plan", "executed", take["orderId"], "96000",
                                                            "0.01", "96000")
    assert [(by_id[i]["planType"], by_id[i]["planStatus"], by_id[i]["executeOrderId"], by_id[i]["baseVolume"],
             by_id[i]["triggerPrice"]) for i in (tp_id, sl_id)] == [
        ("pos_profit", "cancelled", "", "", "99000"), ("pos_loss", "cancelled", "", "", "90000")]
    cancelled = ok(world, wire.get(alice, PLAN_HISTORY, {"productType": PT, "planType": "profit_loss",
                                                          "planStatus": "cancelled"}))["entrustedList"]
    assert {r["orderId"] for r in cancelled} == {tp_id, sl_id}
    error(world, wire.get(alice, PLAN_HISTORY, {"productType": PT, "planType": "profit_loss", "planStatus": "done"}),
          "40020", "Parameter planStatus error")


def test_a_fired_position_stop_keeps_the_id_the_position_showed(world, wire, hedger):
    """A position's own TP / SL (place-pos-tpsl, or presets on the opening order) that fires is
    listed in orders-plan-history under the takeProfitId / stopLossId single-position showed while
    it was live, with its close order's id as executeOrderId; orderId finds it by that id."""
    opened = place(world, wire, hedger, side="buy", trade_side="open", size="0.02")
    ok(world, wire.post(hedger, PLACE_POS_TPSL, {**BASE, "stopSurplusTriggerPrice": "96000",
                                                  "stopLossTriggerPrice": "90000", "holdSide": "long"}))
    place(world, wire, hedger, side="sell", trade_side="open", size="0.01",
          presetStopSurplusPrice="91000", presetStopLossPrice="99000")
    rows = ok(world, wire.get(hedger, SINGLE_POSITION, {**BASE}))
    ids = {r["holdSide"]: (r["takeProfitId"], r["stopLossId"]) for r in rows}
    (long_tp, long_sl), (short_tp, short_sl) = ids["long"], ids["short"]
    assert len({long_tp, long_sl, short_tp, short_sl, opened["orderId"]}) == 5
    set_mark(world, "96500")  # the long's TP fires at 96000; the long's SL goes with it, unfired
    set_mark(world, "99500")  # the short's SL fires at 99000; the short's TP goes with it
    assert world.engine.positions(hedger.uid) == []
    closes = {r["posSide"]: r for r in ok(world, wire.get(hedger, HISTORY, {"productType": PT}))["entrustedList"]
              if r["tradeSide"] == "close"}
    history = ok(world, wire.get(hedger, PLAN_HISTORY, {"productType": PT, "planType": "profit_loss"}))
    rows = history["entrustedList"]
    assert all(list(r) == PLAN_HISTORY_KEYS for r in rows)
    got = {r["orderId"]: (r["planType"], r["planStatus"], r["executeOrderId"], r["clientOid"], r["posSide"],
                          r["triggerPrice"], r["priceAvg"], r["baseVolume"]) for r in rows}
    assert got == {
        long_tp: ("pos_profit", "executed", closes["long"]["orderId"], long_tp, "long", "96000", "96000", "0.02"),
        long_sl: ("pos_loss", "cancelled", "", got[long_sl][3], "long", "90000", "", ""),
        short_sl: ("pos_loss", "executed", closes["short"]["orderId"], short_sl, "short", "99000", "99000", "0.01"),
        short_tp: ("pos_profit", "cancelled", "", got[short_tp][3], "short", "91000", "", ""),
    }
    for ident in (long_tp, short_sl):
        (row,) = ok(world, wire.get(hedger, PLAN_HISTORY, {"productType": PT, "planType": "profit_loss",
                                                            "orderId": ident}))["entrustedList"]
        assert row["orderId"] == ident
    # the close order itself is not a second history row
    assert closes["long"]["orderId"] not in got and closes["short"]["orderId"] not in got


def test_paging_plan_history_past_a_fired_position_stop_skips_nothing(world, wire, hedger):
    """A fired position TP / SL is listed under the (older) id the position showed; the page's
    endId is its close order's own id, so idLessThan=endId continues with the orders placed
    between the stop and its firing (here a partial TP cancelled in between)."""
    place(world, wire, hedger, side="buy", trade_side="open", size="0.02")
    ok(world, wire.post(hedger, PLACE_POS_TPSL, {**BASE, "stopSurplusTriggerPrice": "96000", "holdSide": "long"}))
    between = ok(world, wire.post(hedger, PLACE_TPSL, tpsl("profit_plan", "97000", size="0.01")))
    ok(world, wire.post(hedger, CANCEL_PLAN, {**BASE, "orderIdList": [{"orderId": between["orderId"]}]}))
    set_mark(world, "96500")  # the position's TP fires
    query = {"productType": PT, "planType": "profit_loss", "limit": "1"}
    first = ok(world, wire.get(hedger, PLAN_HISTORY, query))
    (fired,) = first["entrustedList"]
    assert fired["planType"] == "pos_profit" and fired["planStatus"] == "executed"
    assert first["endId"] == fired["executeOrderId"] != fired["orderId"]
    assert int(fired["orderId"]) < int(between["orderId"]) < int(first["endId"])
    second = ok(world, wire.get(hedger, PLAN_HISTORY, {**query, "idLessThan": first["endId"]}))
    assert [r["orderId"] for r in second["entrustedList"]] == [between["orderId"]]
