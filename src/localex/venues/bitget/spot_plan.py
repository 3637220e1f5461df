"""Bitget doc family "spot / plan" (trigger orders): place-plan-order, modify-plan-order,
cancel-plan-order, current-plan-order, history-plan-order, plan-sub-order, batch-cancel-plan-order.

A trigger order waits, freezing nothing, until the mark price crosses its trigger price, then
places a limit (executePrice) or market order; both trigger types (fill_price, mark_price) watch
the one price localex has (engine/spot.py).
"""

from __future__ import annotations

from localex.engine.model import OrderType, Permission, PlanKind, PlanStatus, SpotPlanOrder, TimeInForce
from localex.venues.bitget import fmt
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.params import Params
from localex.venues.bitget.routes import Call, route
from localex.venues.bitget.spot_trade import CLIENT_OID_MAX, FORCES, ORDER_TYPES, SIDES

PLAN_TYPES = {"amount": False, "total": True}  # planType -> size in quote coin
TRIGGER_TYPES = {"fill_price": "fill_price", "mark_price": "mark_price"}
STP_MODES = {"none": "none", "cancel_taker": "cancel_taker", "cancel_maker": "cancel_maker",
             "cancel_both": "cancel_both"}
STATUSES = {PlanStatus.LIVE: "live", PlanStatus.EXECUTED: "executed", PlanStatus.FAILED: "fail_execute",
            PlanStatus.CANCELLED: "cancelled"}
SUB_STATUSES = {PlanStatus.EXECUTED: "success", PlanStatus.FAILED: "fail"}
QUERY_DAYS = 90


def plan_row(plan: SpotPlanOrder) -> dict:
    """current-plan-order / history-plan-order: the doc example's fields, in its order."""
    return {
        "orderId": str(plan.order_id),
        "clientOid": plan.client_oid,
        "symbol": plan.symbol,
        "size": fmt.plain(plan.size),
        "executePrice": fmt.plain(plan.execute_price) if plan.execute_price is not None else "0",
        "triggerPrice": fmt.plain(plan.trigger_price),
        "status": STATUSES[plan.status],
        "orderType": plan.order_type.value,
        "side": plan.side.value,
        "planType": "total" if plan.size_in_quote else "amount",
        "triggerType": plan.trigger_type,
        "enterPointSource": plan.enter_point,
        "uTime": str(plan.updated_ms),
        "cTime": str(plan.created_ms),
    }


def _ids(p: Params) -> tuple[int | None, str | None]:
    order_id, client_oid = p.order_id(), p.text("clientOid")
    if order_id is None and client_oid is None:
        raise BitgetError("40924")
    return order_id, client_oid


def _execution(p: Params) -> tuple[OrderType, object]:
    order_type = p.enum("orderType", ORDER_TYPES, required=True)
    execute = p.decimal("executePrice", required=order_type == OrderType.LIMIT)
    return order_type, execute if order_type == OrderType.LIMIT else None


@route("POST", "/api/v2/spot/trade/place-plan-order", permission=Permission.SPOT_TRADE, limit=20)
def place_plan_order(call: Call) -> dict:
    p = call.params
    symbol = p.symbol(required=True)
    side = p.enum("side", SIDES, required=True)
    trigger = p.decimal("triggerPrice", required=True)
    order_type, execute = _execution(p)
    in_quote = p.enum("planType", PLAN_TYPES, default=False)
    size = p.decimal("size", required=True)
    trigger_type = p.enum("triggerType", TRIGGER_TYPES, required=True)
    client_oid = p.text("clientOid")
    if client_oid is not None and len(client_oid) > CLIENT_OID_MAX:
        raise BitgetError("40020", "clientOid")
    force = p.enum("force", FORCES, default=TimeInForce.GTC)
    stp = p.enum("stpMode", STP_MODES, default="none")
    plan = call.engine.place_spot_plan(call.uid, symbol, side, order_type, trigger, execute, size,
                                       size_in_quote=in_quote, trigger_type=trigger_type, force=force,
                                       client_oid=client_oid, stp_mode=stp)
    return {"orderId": str(plan.order_id), "clientOid": plan.client_oid}


@route("POST", "/api/v2/spot/trade/modify-plan-order", permission=Permission.SPOT_TRADE, limit=20)
def modify_plan_order(call: Call) -> dict:
    p = call.params
    order_id, client_oid = _ids(p)
    trigger = p.decimal("triggerPrice", required=True)
    order_type, execute = _execution(p)
    size = p.decimal("size", required=True)
    plan = call.engine.modify_spot_plan(call.uid, order_id, client_oid, trigger, order_type, execute, size)
    return {"orderId": str(plan.order_id), "clientOid": plan.client_oid}


@route("POST", "/api/v2/spot/trade/cancel-plan-order", permission=Permission.SPOT_TRADE, limit=20)
def cancel_plan_order(call: Call) -> dict:
    order_id, client_oid = _ids(call.params)
    call.engine.cancel_spot_plan(call.uid, order_id, client_oid)
    return {"result": "success"}


@route("POST", "/api/v2/spot/trade/batch-cancel-plan-order", permission=Permission.SPOT_TRADE, limit=10)
def batch_cancel_plan_order(call: Call) -> dict:
    """Every live trigger order of the listed symbols (none listed: of every symbol), in one
    transaction."""
    raw = call.params.values.get("symbolList")
    symbols = None
    if raw not in (None, "", []):
        if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
            raise BitgetError("40020", "symbolList")
        symbols = [x.upper() for x in raw]
    cancelled = call.engine.cancel_spot_plans(call.uid, symbols)
    return {"successList": [{"orderId": str(p.order_id), "clientOid": p.client_oid} for p in cancelled],
            "failureList": []}


def _page(rows: list[SpotPlanOrder], limit: int) -> dict:
    more = len(rows) > limit
    rows = rows[:limit]
    return {"nextFlag": more, "idLessThan": str(rows[-1].order_id) if rows else None,
            "orderList": [plan_row(r) for r in rows]}


@route("GET", "/api/v2/spot/trade/current-plan-order", limit=20)
def current_plan_order(call: Call) -> dict:
    p = call.params
    symbol = p.symbol(required=True)
    limit = p.limit(20, 100)
    start, end = p.time_range(call.now_ms, QUERY_DAYS)
    rows = call.engine.spot_plans(call.uid, symbol=symbol, open_only=True, kinds=[PlanKind.PLAN.value],
                                  start_ms=start, end_ms=end, id_less_than=p.order_id("idLessThan"),
                                  limit=limit + 1)
    return _page(rows, limit)


@route("GET", "/api/v2/spot/trade/history-plan-order", limit=20)
def history_plan_order(call: Call) -> dict:
    p = call.params
    symbol = p.symbol(required=True)
    p.text("startTime", required=True)  # both bounds are required here (DOC)
    p.text("endTime", required=True)
    start, end = p.time_range(call.now_ms, QUERY_DAYS)
    limit = p.limit(100, 100)
    rows = call.engine.spot_plans(call.uid, symbol=symbol, open_only=False, kinds=[PlanKind.PLAN.value],
                                  start_ms=start, end_ms=end, id_less_than=p.order_id("idLessThan"),
                                  limit=limit + 1)
    return _page(rows, limit)


@route("GET", "/api/v2/spot/trade/plan-sub-order", limit=20)
def plan_sub_order(call: Call) -> list:
    """The order a trigger order placed when it fired: [] while it waits or once cancelled."""
    plan_id = call.params.order_id("planOrderId")
    if plan_id is None:
        raise BitgetError("40019", "planOrderId")
    plan = call.engine.spot_plan(call.uid, plan_id)
    if plan is None:
        raise BitgetError("43025")
    if plan.status not in SUB_STATUSES:
        return []
    price = plan.execute_price if plan.order_type == OrderType.LIMIT else None
    return [{"orderId": str(plan.sub_order_id) if plan.sub_order_id is not None else "",
             "price": fmt.plain(price) if price is not None else "0",
             "type": plan.order_type.value,
             "status": SUB_STATUSES[plan.status]}]
