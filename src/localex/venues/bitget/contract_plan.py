"""Bitget doc family "contract / plan" (trigger and TP/SL orders): place-plan-order,
modify-plan-order, place-tpsl-order, place-pos-tpsl, modify-tpsl-order, orders-plan-pending,
orders-plan-history, cancel-plan-order. Every kind fires on the mark price.

Plan types and what they are in the engine:
- normal_plan: a plan order (OrderKind.PLAN) that waits for its trigger price;
- track_plan: a trailing trigger order (OrderKind.TRAILING, placed like an order) that fires when
  the mark falls back callbackRatio % from its best level after its trigger (activation) price;
- profit_plan / loss_plan: a take-profit / stop-loss order for part of a position (OrderKind.STOP);
- moving_plan: a trailing stop on a position (OrderKind.TRAILING, source "trailing");
- pos_profit / pos_loss: the position's own TP / SL (on the position, known by tp_id / sl_id).
"""

from __future__ import annotations

from decimal import Decimal

from localex.engine.futures import UNCHANGED
from localex.engine.model import (
    ZERO,
    CancelReason,
    FuturesOrder,
    FuturesStatus,
    Instrument,
    OrderKind,
    OrderType,
    Permission,
    Position,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
    TradeSide,
)
from localex.venues.bitget import fmt
from localex.venues.bitget.contract_account import POS_MODE_NAMES, margin_coin, pos_mode
from localex.venues.bitget.contract_market import market_of, product_type, required_contract
from localex.venues.bitget.contract_trade import (
    HISTORY_DAYS,
    QUERY_DAYS,
    TRIGGER_TYPE,
    Reader,
    average_text,
    order_request,
    page,
    price_text,
    side_text,
    trade_side_text,
)
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route

PLAN_TYPES = {"normal_plan": "normal_plan", "track_plan": "track_plan", "profit_loss": "profit_loss",
              "profit_plan": "profit_plan", "loss_plan": "loss_plan", "moving_plan": "moving_plan",
              "pos_profit": "pos_profit", "pos_loss": "pos_loss"}
TPSL_TYPES = ("profit_plan", "loss_plan", "moving_plan", "pos_profit", "pos_loss")
# a query's planType -> the plan types it lists
QUERY_TYPES = {"normal_plan": ("normal_plan",), "track_plan": ("track_plan",), "profit_loss": TPSL_TYPES,
               **{t: (t,) for t in TPSL_TYPES}}
TRIGGER_TYPES = {"mark_price": "mark_price", "fill_price": "fill_price"}
HOLD_SIDES = {"long": PositionSide.LONG, "short": PositionSide.SHORT,
              "buy": PositionSide.LONG, "sell": PositionSide.SHORT}  # hedge / one-way names
CALLBACK_MAX = Decimal(10)  # callbackRatio / rangeRate: a percentage, at most 10
# the engine's sources of TP/SL orders and of the orders a position's TP/SL fires
STOP_PLAN_TYPES = {"take_profit": "profit_plan", "stop_loss": "loss_plan", "tp": "pos_profit",
                   "sl": "pos_loss"}
TPSL_KINDS = {"profit_plan": "tp", "pos_profit": "tp", "loss_plan": "sl", "pos_loss": "sl"}


# orders-plan-history's planStatus filter (DOC); fail_execute never arises here (a fired order
# that cannot be placed is cancelled, its plan read as executed)
PLAN_STATUSES = {"executed": "executed", "fail_execute": "fail_execute", "cancelled": "cancelled"}


def plan_type_of(order: FuturesOrder) -> str:
    if order.source in STOP_PLAN_TYPES:
        return STOP_PLAN_TYPES[order.source]
    if order.kind is OrderKind.TRAILING:
        return "moving_plan" if order.source == "trailing" else "track_plan"
    return "normal_plan"


def plan_status(order: FuturesOrder) -> str:
    if order.status is FuturesStatus.UNTRIGGERED:
        return "live"
    if order.status is FuturesStatus.CANCELLED and order.filled_size == 0 and order.kind is not OrderKind.REGULAR:
        return "cancelled"  # never fired
    return "executed"


def ratio_text(rate: Decimal | None) -> str:
    return fmt.plain(rate * 100) if rate is not None else ""


def plan_row(order: FuturesOrder, inst: Instrument, mode: PositionMode) -> dict:
    """orders-plan-pending / orders-plan-history: the LIVE capture's fields and order."""
    hedge = mode is PositionMode.HEDGE
    trigger = order.trigger_price if order.trigger_price is not None else (
        order.avg_price if order.filled_size else None)
    return {
        "planType": plan_type_of(order),
        "symbol": order.symbol,
        "size": price_text(order.size),
        "orderId": str(order.order_id),
        "clientOid": order.client_oid,
        "price": price_text(order.price),
        "executePrice": price_text(order.price),
        "callbackRatio": ratio_text(order.callback_rate),
        "triggerPrice": price_text(trigger),
        "triggerType": TRIGGER_TYPE,
        "planStatus": plan_status(order),
        "side": side_text(order.side, order.pos_side, mode),
        "posSide": order.pos_side.value if hedge else "net",
        "marginCoin": inst.settle,
        "marginMode": order.margin_mode.value,
        "enterPointSource": "API",
        "tradeSide": trade_side_text(order.side, order.pos_side, order.trade_side, mode, False),
        "posMode": POS_MODE_NAMES[mode],
        "orderType": order.order_type.value,
        "stopSurplusTriggerPrice": price_text(order.tp_price) or None,
        "stopSurplusExecutePrice": price_text(order.tp_execute) or None,
        "stopSurplusTriggerType": TRIGGER_TYPE if order.tp_price is not None else None,
        "stopLossTriggerPrice": price_text(order.sl_price) or None,
        "stopLossExecutePrice": price_text(order.sl_execute) or None,
        "stopLossTriggerType": TRIGGER_TYPE if order.sl_price is not None else None,
        "cTime": str(order.created_ms),
        "uTime": str(order.updated_ms),
    }


def plan_history_row(order: FuturesOrder, inst: Instrument, mode: PositionMode) -> dict:
    """orders-plan-history: the DOC example's fields and order. A fired order keeps its id, so
    `executeOrderId` is the order's own id once executed; `priceAvg` / `baseVolume` what it
    filled. A position's own TP / SL that fired is listed under the id the position showed for it
    (takeProfitId / stopLossId, which its close order carries as client id), with the close
    order's id as `executeOrderId`."""
    row = plan_row(order, inst, mode)
    executed = row["planStatus"] == "executed"
    if fired_position_stop(order):
        row["orderId"] = order.client_oid
    keys = ["planType", "symbol", "size", "orderId", "executeOrderId", "clientOid", "planStatus", "price",
            "executePrice", "priceAvg", "baseVolume", "callbackRatio", "triggerPrice", "triggerType", "side",
            "posSide", "marginCoin", "marginMode", "enterPointSource", "tradeSide", "posMode", "orderType",
            "cTime", "uTime", "stopSurplusExecutePrice", "stopSurplusTriggerPrice", "stopSurplusTriggerType",
            "stopLossExecutePrice", "stopLossTriggerPrice", "stopLossTriggerType"]
    row["executeOrderId"] = str(order.order_id) if executed else ""
    row["priceAvg"] = average_text(order)
    row["baseVolume"] = fmt.plain(order.filled_size) if executed else ""
    return {k: row[k] for k in keys}


def position_stops(pos: Position) -> list[FuturesOrder]:
    """A position's own TP / SL as the venue lists them: waiting orders of plan type pos_profit /
    pos_loss (ids tp_id / sl_id), for the whole position."""
    out = []
    for kind, level, execute, ident in (("tp", pos.tp_price, pos.tp_execute, pos.tp_id),
                                        ("sl", pos.sl_price, pos.sl_execute, pos.sl_id)):
        if level is None or ident is None:
            continue
        side = Side.SELL if pos.side is PositionSide.LONG else Side.BUY
        out.append(FuturesOrder(
            order_id=ident, uid=pos.uid, venue=pos.venue, market=pos.market, symbol=pos.symbol,
            client_oid=str(ident), kind=OrderKind.STOP, side=side, pos_side=pos.side,
            trade_side=TradeSide.CLOSE, order_type=OrderType.MARKET if execute is None else OrderType.LIMIT,
            force=TimeInForce.GTC, price=execute, size=pos.size, reduce_only=True,
            status=FuturesStatus.UNTRIGGERED, filled_size=ZERO, filled_quote=ZERO, fee=ZERO,
            realized_pnl=ZERO, leverage=pos.leverage, margin_mode=pos.margin_mode, frozen=ZERO,
            position_id=pos.position_id, tp_price=None, sl_price=None, trigger_price=level,
            trigger_above=None, callback_rate=None, extreme_price=None, source=kind,
            cancel_reason=CancelReason.NONE, created_ms=pos.updated_ms, updated_ms=pos.updated_ms))
    return out


def fired_position_stop(order: FuturesOrder) -> bool:
    """The close order a position's own TP / SL sent when it fired."""
    return order.kind is OrderKind.REGULAR and order.source in ("tp", "sl")


def is_position_stop(order: FuturesOrder) -> bool:
    return order.kind is OrderKind.STOP and order.source in ("tp", "sl")


def open_plans(call: Call, market: str, symbol: str | None, plan_types) -> list[FuturesOrder]:
    """The waiting orders of these plan types, newest first (positions' own TP / SL included)."""
    kinds = []
    if "normal_plan" in plan_types:
        kinds.append(OrderKind.PLAN)
    if "track_plan" in plan_types or "moving_plan" in plan_types:
        kinds.append(OrderKind.TRAILING)
    if "profit_plan" in plan_types or "loss_plan" in plan_types:
        kinds.append(OrderKind.STOP)
    out = [o for o in call.engine.futures_orders(call.uid, market=market, symbol=symbol, open_only=True,
                                                 kinds=kinds) if kinds
           if o.status is FuturesStatus.UNTRIGGERED and plan_type_of(o) in plan_types]
    if "pos_profit" in plan_types or "pos_loss" in plan_types:
        for pos in call.engine.positions(call.uid, market=market, symbol=symbol):
            out.extend(s for s in position_stops(pos) if plan_type_of(s) in plan_types)
    return sorted(out, key=lambda o: o.order_id, reverse=True)


def _find(plans: list[FuturesOrder], order_id: str, client_oid: str) -> FuturesOrder | None:
    return next((o for o in plans if (str(o.order_id) == order_id if order_id else o.client_oid == client_oid)),
                None)


def _callback(call: Call, name: str, required: bool = False) -> Decimal | None:
    """A callback ratio in percent (0 < r <= 10) as the engine's fraction."""
    value = call.params.decimal(name, required=required)
    if value is None:
        return None
    if not ZERO < value <= CALLBACK_MAX:
        raise BitgetError("40020", name)
    return value / 100


def _positive(call: Call, name: str, required: bool = False) -> Decimal | None:
    value = call.params.decimal(name, required=required)
    if value is not None and value <= 0:
        raise BitgetError("40020", name)
    return value


def _execute(call: Call, name: str) -> Decimal | None:
    """An execution price: empty or 0 is at market."""
    value = call.params.decimal(name)
    if value is not None and value < 0:
        raise BitgetError("40020", name)
    return value if value else None


# ---- trigger orders --------------------------------------------------------------------------

@route("POST", "/api/v2/mix/order/place-plan-order", permission=Permission.FUTURES_TRADE, limit=10)
def place_plan_order(call: Call) -> dict:
    p = call.params
    plan_type = p.enum("planType", PLAN_TYPES, required=True)
    if plan_type not in ("normal_plan", "track_plan"):
        raise BitgetError("40020", "planType")
    trigger = p.decimal("triggerPrice", required=True)
    if trigger <= 0:
        raise BitgetError("40020", "triggerPrice")
    p.enum("triggerType", TRIGGER_TYPES, required=True)  # both fire on the mark price here
    callback = None
    if plan_type == "track_plan":
        callback = _callback(call, "callbackRatio", required=True)
    elif p.text("callbackRatio") is not None:
        raise BitgetError("40020", "callbackRatio")
    for name in ("stopSurplusTriggerType", "stopLossTriggerType"):
        p.enum(name, TRIGGER_TYPES)
    inst, terms = order_request(call, ("stopSurplusTriggerPrice", "stopLossTriggerPrice"),
                                ("stopSurplusExecutePrice", "stopLossExecutePrice"), trigger)
    if callback is not None:  # a trailing order executes at market
        terms.update(order_type=OrderType.MARKET, price=None, force=TimeInForce.GTC)
    order = call.engine.place_futures_order(call.uid, inst.market, inst.symbol, trigger_price=trigger,
                                            callback_rate=callback, **terms)
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}


def _plan_target(call: Call, inst: Instrument, plan_types) -> FuturesOrder:
    p = call.params
    order_id, client_oid = p.order_id(), p.text("clientOid")
    if order_id is None and client_oid is None:
        raise BitgetError("40924")
    found = _find(open_plans(call, inst.market, inst.symbol, plan_types),
                  str(order_id) if order_id is not None else "", client_oid or "")
    if found is None:
        raise BitgetError("43025")
    return found


@route("POST", "/api/v2/mix/order/modify-plan-order", permission=Permission.FUTURES_TRADE, limit=10)
def modify_plan_order(call: Call) -> dict:
    """A waiting normal_plan or track_plan order changes in place (same orderId): newSize,
    newPrice (0: at market), newTriggerPrice, newCallbackRatio, new TP / SL presets."""
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst, required=False)
    plan_type = p.enum("planType", PLAN_TYPES)
    if plan_type not in (None, "normal_plan", "track_plan"):
        raise BitgetError("40020", "planType")
    order = _plan_target(call, inst, (plan_type,) if plan_type else ("normal_plan", "track_plan"))
    size = _positive(call, "newSize")
    trigger = _positive(call, "newTriggerPrice")
    p.enum("newTriggerType", TRIGGER_TYPES)
    for name in ("newStopSurplusTriggerType", "newStopLossTriggerType"):
        p.enum(name, TRIGGER_TYPES)
    callback = _callback(call, "newCallbackRatio")
    if callback is not None and order.kind is not OrderKind.TRAILING:
        raise BitgetError("40020", "newCallbackRatio")
    price = UNCHANGED
    if p.text("newPrice") is not None and order.kind is OrderKind.PLAN:
        price = _execute(call, "newPrice")
    changes = {}
    for key, names in (("tp", ("newSurplusTriggerPrice", "newStopSurplusTriggerPrice")),
                       ("sl", ("newStopLossTriggerPrice",))):
        for name in names:
            if p.text(name) is not None:
                changes[key] = _execute(call, name)
    order = call.engine.modify_plan_order(call.uid, order.order_id, size=size, price=price, trigger=trigger,
                                          callback_rate=callback, **changes)
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}


# ---- TP/SL orders ----------------------------------------------------------------------------

def _position(call: Call, inst: Instrument, side: PositionSide) -> Position:
    positions = call.engine.positions(call.uid, market=inst.market, symbol=inst.symbol, side=side)
    if not positions:
        raise BitgetError("43023")
    return positions[0]


def _tpsl_common(call: Call) -> tuple[Instrument, PositionSide]:
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst)
    side = p.enum("holdSide", HOLD_SIDES, required=True)
    p.enum("stpMode", {m: m for m in ("none", "cancel_taker", "cancel_maker", "cancel_both")})
    return inst, side


@route("POST", "/api/v2/mix/order/place-tpsl-order", permission=Permission.FUTURES_TRADE, limit=10)
def place_tpsl_order(call: Call) -> dict:
    """One TP/SL order: profit_plan / loss_plan (for `size` of the position), moving_plan (a
    trailing stop, rangeRate in percent), pos_profit / pos_loss (the position's own TP / SL,
    for the whole position whatever `size` says). executePrice 0 or empty: at market."""
    p = call.params
    plan_type = p.enum("planType", PLAN_TYPES, required=True)
    if plan_type not in TPSL_TYPES:
        raise BitgetError("40020", "planType")
    trigger = _positive(call, "triggerPrice", required=True)
    p.enum("triggerType", TRIGGER_TYPES)
    execute = _execute(call, "executePrice")
    size = _positive(call, "size", required=plan_type in ("profit_plan", "loss_plan", "moving_plan"))
    client_oid = p.text("clientOid")
    if client_oid is not None and len(client_oid) > 50:
        raise BitgetError("40020", "clientOid")
    inst, side = _tpsl_common(call)
    if plan_type == "moving_plan":
        if execute is not None:
            raise BitgetError("40020", "executePrice")
        rate = _callback(call, "rangeRate", required=True)
        pos = _position(call, inst, side)
        order = call.engine.place_trailing_stop(call.uid, pos.position_id, rate, trigger, size,
                                                tag=POS_MODE_NAMES[pos_mode(call, inst.market)])
        return {"orderId": str(order.order_id), "clientOid": order.client_oid}
    pos = _position(call, inst, side)
    stop = {"kind": TPSL_KINDS[plan_type], "trigger": trigger, "execute": execute,
            "size": size if plan_type in ("profit_plan", "loss_plan") else None, "client_oid": client_oid}
    (made,) = call.engine.protect_position(call.uid, pos.position_id, [stop],
                                           tag=POS_MODE_NAMES[pos_mode(call, inst.market)])
    return _tpsl_answer(made, stop["kind"])


def _tpsl_answer(made, kind: str) -> dict:
    if isinstance(made, FuturesOrder):
        return {"orderId": str(made.order_id), "clientOid": made.client_oid}
    ident = made.tp_id if kind == "tp" else made.sl_id
    return {"orderId": str(ident), "clientOid": str(ident)}


@route("POST", "/api/v2/mix/order/place-pos-tpsl", permission=Permission.FUTURES_TRADE, limit=10)
def place_pos_tpsl(call: Call) -> list:
    """The position's TP and SL in one request (stopSurplusSize / stopLossSize: for that much,
    as profit_plan / loss_plan orders): `[{"orderId"}, ...]`, take-profit first."""
    p = call.params
    stops = []
    for kind, prefix, size_name in (("tp", "stopSurplus", "stopSurplusSize"), ("sl", "stopLoss", "stopLossSize")):
        trigger = _positive(call, prefix + "TriggerPrice")
        p.enum(prefix + "TriggerType", TRIGGER_TYPES)
        execute = _execute(call, prefix + "ExecutePrice")
        size = _positive(call, size_name)
        if trigger is not None:
            stops.append({"kind": kind, "trigger": trigger, "execute": execute, "size": size})
    if not stops:
        raise BitgetError("40019", "stopSurplusTriggerPrice")
    inst, side = _tpsl_common(call)
    pos = _position(call, inst, side)
    made = call.engine.protect_position(call.uid, pos.position_id, stops,
                                        tag=POS_MODE_NAMES[pos_mode(call, inst.market)])
    return [{"orderId": _tpsl_answer(m, s["kind"])["orderId"]} for m, s in zip(made, stops)]


@route("POST", "/api/v2/mix/order/modify-tpsl-order", permission=Permission.FUTURES_TRADE, limit=10)
def modify_tpsl_order(call: Call) -> dict:
    """A waiting TP/SL order (any of the TP/SL plan types) moves: triggerPrice, executePrice,
    size, rangeRate (moving_plan). The order keeps its id."""
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst)
    trigger = _positive(call, "triggerPrice", required=True)
    p.enum("triggerType", TRIGGER_TYPES)
    execute = _execute(call, "executePrice")
    size = _positive(call, "size", required=True)
    rate = _callback(call, "rangeRate")
    order = _plan_target(call, inst, TPSL_TYPES)
    if is_position_stop(order):
        key = order.source
        pos = call.engine.set_position_tpsl(call.uid, order.position_id, **{key: trigger, f"{key}_execute": execute})
        ident = pos.tp_id if key == "tp" else pos.sl_id
        return {"orderId": str(ident), "clientOid": str(ident)}
    if order.kind is OrderKind.TRAILING:
        done = call.engine.modify_plan_order(call.uid, order.order_id, size=size, trigger=trigger,
                                             callback_rate=rate)
    else:
        done = call.engine.modify_stop_order(call.uid, order.order_id, trigger, size, execute)
    return {"orderId": str(done.order_id), "clientOid": done.client_oid}


# ---- queries and cancels ---------------------------------------------------------------------

@route("GET", "/api/v2/mix/order/orders-plan-pending", limit=10)
def orders_plan_pending(call: Call) -> dict:
    p = call.params
    plan_type = p.enum("planType", PLAN_TYPES, required=True)
    product = product_type(call)
    symbol = p.symbol()
    market = market_of(product)
    inst = required_contract(call, product) if symbol is not None else None
    start, end = p.time_range(call.now_ms, QUERY_DAYS)
    id_less_than = p.order_id("idLessThan")
    order_id, client_oid = p.order_id(), p.text("clientOid")
    limit = p.limit(100, 100)
    if market is None:
        return page([], "entrustedList", "orderId")
    plans = [o for o in open_plans(call, market, inst.symbol if inst else None, QUERY_TYPES[plan_type])
             if (id_less_than is None or o.order_id < id_less_than)
             and (start is None or o.created_ms >= start) and (end is None or o.created_ms <= end)
             and (order_id is None or o.order_id == order_id)
             and (order_id is not None or client_oid is None or o.client_oid == client_oid)]
    reader = Reader(call, market)
    return page([reader.order(o, plan_row) for o in plans[:limit]], "entrustedList", "orderId")


def _was_plan(order: FuturesOrder) -> bool:
    """A finished order that began as a trigger, trailing or TP/SL order (or that a position's
    own TP / SL sent)."""
    if order.kind in (OrderKind.PLAN, OrderKind.TRAILING, OrderKind.STOP):
        return not order.status.is_open
    return order.source in STOP_PLAN_TYPES or (order.trigger_price is not None and order.source == "api")


@route("GET", "/api/v2/mix/order/orders-plan-history", limit=10)
def orders_plan_history(call: Call) -> dict:
    """Trigger, trailing and TP/SL orders that fired or were cancelled, newest first, 90 days:
    planStatus `executed` or `cancelled`."""
    p = call.params
    plan_type = p.enum("planType", PLAN_TYPES, required=True)
    product = product_type(call)
    symbol = p.symbol()
    market = market_of(product)
    inst = required_contract(call, product) if symbol is not None else None
    start, end = p.time_range(call.now_ms, HISTORY_DAYS)
    id_less_than = p.order_id("idLessThan")
    order_id, client_oid = p.order_id(), p.text("clientOid")
    status = p.enum("planStatus", PLAN_STATUSES)
    limit = p.limit(100, 100)
    if market is None:
        return page([], "entrustedList", "orderId")
    wanted = QUERY_TYPES[plan_type]
    found = call.engine.futures_orders(
        call.uid, market=market, symbol=inst.symbol if inst else None, order_id=order_id,
        client_oid=None if order_id else client_oid, start_ms=start, end_ms=end, id_less_than=id_less_than)
    if order_id is not None and not found:  # a fired position TP / SL, by the id the position showed
        found = [o for o in call.engine.futures_orders(
            call.uid, market=market, symbol=inst.symbol if inst else None, client_oid=str(order_id),
            start_ms=start, end_ms=end, id_less_than=id_less_than) if fired_position_stop(o)]
    orders = [o for o in found
              if _was_plan(o) and plan_type_of(o) in wanted and (status is None or plan_status(o) == status)]
    reader = Reader(call, market)
    shown = orders[:limit]
    answer = page([reader.order(o, plan_history_row) for o in shown], "entrustedList", "orderId")
    if shown:  # the cursor is the last order's own id: a fired position TP / SL shows the older
        answer["endId"] = str(shown[-1].order_id)  # id the position showed, and paging on from
    return answer                                  # that would skip what came in between


@route("POST", "/api/v2/mix/order/cancel-plan-order", permission=Permission.FUTURES_TRADE, limit=10)
def cancel_plan_order(call: Call) -> dict:
    """By orderIdList, or every waiting order of the plan type (default normal_plan; profit_loss:
    every TP/SL kind) of the product type (and symbol). A position's own TP / SL is removed from
    the position."""
    p = call.params
    product = product_type(call)
    symbol = p.symbol()
    inst = required_contract(call, product) if symbol is not None else None
    if inst is not None:
        margin_coin(call, inst, required=False)
    plan_type = p.enum("planType", PLAN_TYPES, default="normal_plan")
    wanted = p.values.get("orderIdList")
    if wanted is not None and (not isinstance(wanted, list) or not all(isinstance(w, dict) for w in wanted)):
        raise BitgetError("40020", "orderIdList")
    if wanted and inst is None:
        raise BitgetError("40019", "symbol")
    market = market_of(product)
    plans = open_plans(call, market, inst.symbol if inst else None, QUERY_TYPES[plan_type]) if market else []
    success, failure = [], []
    if wanted:
        targets = []
        for item in wanted:
            order_id, client_oid = str(item.get("orderId") or ""), str(item.get("clientOid") or "")
            found = _find(plans, order_id, client_oid)
            if found is None:
                failure.append({"orderId": order_id, "clientOid": client_oid, "errorMsg": "notExistend"})
            else:
                targets.append(found)
    else:  # every order of the plan type, oldest first
        targets = sorted(plans, key=lambda o: o.order_id)
    orders = [o for o in targets if not is_position_stop(o)]
    if orders:
        call.engine.cancel_futures_orders(call.uid, market, [(o.order_id, None) for o in orders],
                                          kinds=[OrderKind.PLAN, OrderKind.TRAILING, OrderKind.STOP])
    for stop in (o for o in targets if is_position_stop(o)):
        call.engine.set_position_tpsl(call.uid, stop.position_id, **{stop.source: None})
    for order in targets:
        success.append({"clientOid": order.client_oid, "orderId": str(order.order_id)})
    return {"successList": success, "failureList": failure}

