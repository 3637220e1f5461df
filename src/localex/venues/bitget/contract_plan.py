"""Bitget doc family "contract / plan" (trigger orders): place-plan-order, orders-plan-pending,
cancel-plan-order. Trigger orders of type normal_plan; they fire on the mark price."""

from __future__ import annotations

from localex.engine.model import FuturesOrder, FuturesStatus, Instrument, OrderKind, Permission, PositionMode
from localex.venues.bitget.contract_account import POS_MODE_NAMES, margin_coin
from localex.venues.bitget.contract_market import market_of, product_type, required_contract
from localex.venues.bitget.contract_trade import (
    QUERY_DAYS,
    TRIGGER_TYPE,
    Reader,
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
TRIGGER_TYPES = {"mark_price": "mark_price", "fill_price": "fill_price"}


def plan_row(order: FuturesOrder, inst: Instrument, mode: PositionMode) -> dict:
    """orders-plan-pending: the LIVE capture's fields and order."""
    hedge = mode is PositionMode.HEDGE
    return {
        "planType": "normal_plan",
        "symbol": order.symbol,
        "size": price_text(order.size),
        "orderId": str(order.order_id),
        "clientOid": order.client_oid,
        "price": price_text(order.price),
        "executePrice": price_text(order.price),
        "callbackRatio": "",
        "triggerPrice": price_text(order.trigger_price),
        "triggerType": TRIGGER_TYPE,
        "planStatus": "live",
        "side": side_text(order.side, order.pos_side, mode),
        "posSide": order.pos_side.value if hedge else "net",
        "marginCoin": inst.settle,
        "marginMode": order.margin_mode.value,
        "enterPointSource": "API",
        "tradeSide": trade_side_text(order.side, order.pos_side, order.trade_side, mode, False),
        "posMode": POS_MODE_NAMES[mode],
        "orderType": order.order_type.value,
        "stopSurplusTriggerPrice": price_text(order.tp_price) or None,
        "stopSurplusExecutePrice": None,
        "stopSurplusTriggerType": TRIGGER_TYPE if order.tp_price is not None else None,
        "stopLossTriggerPrice": price_text(order.sl_price) or None,
        "stopLossExecutePrice": None,
        "stopLossTriggerType": TRIGGER_TYPE if order.sl_price is not None else None,
        "cTime": str(order.created_ms),
        "uTime": str(order.updated_ms),
    }


@route("POST", "/api/v2/mix/order/place-plan-order", permission=Permission.FUTURES_TRADE, limit=10)
def place_plan_order(call: Call) -> dict:
    p = call.params
    if p.enum("planType", PLAN_TYPES, required=True) != "normal_plan":
        raise BitgetError("40020", "planType")  # trailing trigger orders are not emulated yet
    trigger = p.decimal("triggerPrice", required=True)
    if trigger <= 0:
        raise BitgetError("40020", "triggerPrice")
    p.enum("triggerType", TRIGGER_TYPES, required=True)  # both fire on the mark price here
    if p.text("callbackRatio") is not None:
        raise BitgetError("40020", "callbackRatio")
    for name in ("stopSurplusTriggerType", "stopLossTriggerType"):
        p.enum(name, TRIGGER_TYPES)
    inst, terms = order_request(call, ("stopSurplusTriggerPrice", "stopLossTriggerPrice"),
                                ("stopSurplusExecutePrice", "stopLossExecutePrice"), trigger)
    order = call.engine.place_futures_order(call.uid, inst.market, inst.symbol, trigger_price=trigger, **terms)
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}


def _plans(call: Call, market: str, symbol: str | None) -> list[FuturesOrder]:
    return [o for o in call.engine.futures_orders(call.uid, market=market, symbol=symbol, open_only=True,
                                                  kinds=[OrderKind.PLAN])
            if o.status is FuturesStatus.UNTRIGGERED]


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
    if market is None or plan_type != "normal_plan":
        # position TP/SL live on the positions (all-position: takeProfit / stopLoss), not as orders
        return page([], "entrustedList", "orderId")
    plans = [o for o in _plans(call, market, inst.symbol if inst else None)
             if (id_less_than is None or o.order_id < id_less_than)
             and (start is None or o.created_ms >= start) and (end is None or o.created_ms <= end)
             and (order_id is None or o.order_id == order_id)
             and (order_id is not None or client_oid is None or o.client_oid == client_oid)]
    reader = Reader(call, market)
    return page([reader.order(o, plan_row) for o in plans[:limit]], "entrustedList", "orderId")


@route("POST", "/api/v2/mix/order/cancel-plan-order", permission=Permission.FUTURES_TRADE, limit=10)
def cancel_plan_order(call: Call) -> dict:
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
    plans = _plans(call, market, inst.symbol if inst else None) if market and plan_type == "normal_plan" else []
    success, failure = [], []
    if wanted:
        targets = []
        for item in wanted:
            order_id, client_oid = str(item.get("orderId") or ""), str(item.get("clientOid") or "")
            found = next((o for o in plans if (str(o.order_id) == order_id if order_id
                                               else o.client_oid == client_oid)), None)
            if found is None:
                failure.append({"orderId": order_id, "clientOid": client_oid, "errorMsg": "notExistend"})
            else:
                targets.append(found)
    else:  # every trigger order of the product type (and symbol)
        targets = plans
    for order in targets:
        call.engine.cancel_futures_order(call.uid, order.order_id)
        success.append({"clientOid": order.client_oid, "orderId": str(order.order_id)})
    return {"successList": success, "failureList": failure}
