"""Bitget doc family "spot / trade": place-order, cancel-order, batch-orders, batch-cancel-order,
cancel-symbol-order, cancel-replace-order, batch-cancel-replace-order, orderInfo, unfilled-orders,
history-orders, fills."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.errors import DomainError
from localex.engine.model import (
    CancelReason,
    Fill,
    OrderType,
    Permission,
    Side,
    SpotOrder,
    TimeInForce,
)
from localex.engine.model import PlanKind, PlanStatus, SpotPlanOrder
from localex.engine.spot import OrderRef, Presets, SpotOrderRequest
from localex.venues.bitget import fmt
from localex.venues.bitget.errors import BitgetError, from_domain
from localex.venues.bitget.params import Params
from localex.venues.bitget.routes import Call, route

SIDES = {"buy": Side.BUY, "sell": Side.SELL}
ORDER_TYPES = {"limit": OrderType.LIMIT, "market": OrderType.MARKET}
FORCES = {"gtc": TimeInForce.GTC, "post_only": TimeInForce.POST_ONLY, "fok": TimeInForce.FOK,
          "ioc": TimeInForce.IOC}
TPSL_TYPES = {"normal": "normal", "tpsl": "tpsl"}
PRESETS = (("presetTakeProfitPrice", "executeTakeProfitPrice"),
           ("presetStopLossPrice", "executeStopLossPrice"))
STP_MODES = {"none": "none", "cancel_taker": "cancel_taker", "cancel_maker": "cancel_maker",
             "cancel_both": "cancel_both"}
CANCEL_REASONS = {
    CancelReason.NONE: "",
    CancelReason.USER: "normal_cancel",
    CancelReason.IOC: "normal_cancel",
    CancelReason.FOK: "normal_cancel",
    CancelReason.POST_ONLY: "normal_cancel",
    CancelReason.STP: "stp_cancel",
    CancelReason.REJECTED: "",  # refused by the venue itself: no documented value
}
BATCH_MODES = {"single": "single", "multiple": "multiple"}
BATCH_MAX = 50  # orders per batch request (DOC)
HISTORY_DAYS = 90
FEE_TOKEN = "BGB"
CLIENT_OID_MAX = 50


# ---- wire rows -----------------------------------------------------------------------------

def paid_in_fee_token(fee_asset: str, fee: Decimal, fee_value: Decimal) -> bool:
    """BGB deduction: the fee went out in BGB, not in the coin received (its value differs)."""
    return fee_asset == FEE_TOKEN and fee != fee_value


def fee_detail(order: SpotOrder) -> str:
    """The JSON-encoded string Bitget sends in feeDetail ("" before the first fill)."""
    if not order.fee_asset:
        return ""
    fee, value = fmt.json_number(-order.fee), fmt.json_number(-order.fee_value)
    coin = order.fee_asset
    if not paid_in_fee_token(coin, order.fee, order.fee_value):
        return (f'{{"{coin}":{{"deduction":false,"feeCoinCode":"{coin}","totalDeductionFee":0,'
                f'"totalFee":{fee}}},"newFees":{{"c":0,"d":0,"deduction":false,"r":{fee},'
                f'"t":{fee},"totalDeductionFee":0}}}}')
    return (f'{{"{coin}":{{"deduction":true,"feeCoinCode":"{coin}","totalDeductionFee":{fee},'
            f'"totalFee":{fee}}},"newFees":{{"c":0,"d":{fee},"deduction":true,"r":0,'
            f'"t":{value},"totalDeductionFee":{fee}}}}}')


def order_source(order: SpotOrder) -> str:
    return "market" if order.order_type == OrderType.MARKET else "normal"


def order_info_row(order: SpotOrder) -> dict:
    """Exactly the fields of GET /api/v2/spot/trade/orderInfo, in the page's order."""
    return {
        "userId": order.uid,
        "symbol": order.symbol,
        "orderId": str(order.order_id),
        "clientOid": order.client_oid,
        "price": fmt.dp16_or_zero(order.price),
        "size": fmt.dp16(order.size),
        "orderType": order.order_type._value_,  # an enum's value without its property's call
        "side": order.side._value_,
        "status": order.status._value_,
        "priceAvg": fmt.dp16_or_zero(order.avg_price),
        "baseVolume": fmt.dp16(order.filled_size),
        "quoteVolume": fmt.dp16(order.filled_quote),
        "enterPointSource": order.enter_point,
        "feeDetail": fee_detail(order),
        "orderSource": order_source(order),
        "cancelReason": CANCEL_REASONS[order.cancel_reason],
        "cTime": str(order.created_ms),
        "uTime": str(order.updated_ms),
    }


def history_row(order: SpotOrder) -> dict:
    row = order_info_row(order)
    reason = row.pop("cancelReason")
    row["tpslType"] = "normal"
    row["cancelReason"] = reason
    row["triggerPrice"] = None
    return row


def unfilled_row(order: SpotOrder) -> dict:
    """Note the venue's trap: here priceAvg is the order price and basePrice the fill average."""
    return {
        "userId": order.uid,
        "symbol": order.symbol,
        "orderId": str(order.order_id),
        "clientOid": order.client_oid,
        "priceAvg": fmt.plain(order.price or Decimal(0)),
        "size": fmt.plain(order.size),
        "orderType": order.order_type.value,
        "side": order.side.value,
        "status": order.status.value,
        "basePrice": fmt.plain(order.avg_price),
        "baseVolume": fmt.plain(order.filled_size),
        "quoteVolume": fmt.plain(order.filled_quote),
        "enterPointSource": order.enter_point,
        "orderSource": order_source(order),
        "presetTakeProfitPrice": _price_or_empty(order.tp_price),
        "executeTakeProfitPrice": _price_or_empty(order.tp_execute),
        "presetStopLossPrice": _price_or_empty(order.sl_price),
        "executeStopLossPrice": _price_or_empty(order.sl_execute),
        "cTime": str(order.created_ms),
        "uTime": str(order.updated_ms),
        "tpslType": "normal",
        "triggerPrice": None,
    }


def _price_or_empty(value: Decimal | None) -> str:
    return fmt.plain(value) if value is not None else ""


def tpsl_row(plan: SpotPlanOrder, uid: str) -> dict:
    """A take-profit / stop-loss an order preset, as unfilled-orders lists it with tpslType=tpsl:
    the unfilled row's fields, priceAvg its execute price, triggerPrice set."""
    return {
        "userId": uid,
        "symbol": plan.symbol,
        "orderId": str(plan.order_id),
        "clientOid": plan.client_oid,
        "priceAvg": fmt.plain(plan.execute_price) if plan.execute_price is not None else "0",
        "size": fmt.plain(plan.size),
        "orderType": plan.order_type.value,
        "side": plan.side.value,
        "status": "live",
        "basePrice": "0",
        "baseVolume": "0",
        "quoteVolume": "0",
        "enterPointSource": plan.enter_point,
        "orderSource": "normal",
        "presetTakeProfitPrice": "",
        "executeTakeProfitPrice": "",
        "presetStopLossPrice": "",
        "executeStopLossPrice": "",
        "cTime": str(plan.created_ms),
        "uTime": str(plan.updated_ms),
        "tpslType": "tpsl",
        "triggerPrice": fmt.plain(plan.trigger_price),
    }


def tpsl_history_row(plan: SpotPlanOrder, placed: SpotOrder | None) -> dict:
    """A finished take-profit / stop-loss order in history-orders (tpslType=tpsl): the history
    row's fields; once fired, the status, fills and fees of the order it placed; cancelled (or
    its order refused) `cancelled` with nothing filled."""
    done = placed if plan.status is PlanStatus.EXECUTED else None
    return {
        "userId": plan.uid,
        "symbol": plan.symbol,
        "orderId": str(plan.order_id),
        "clientOid": plan.client_oid,
        "price": fmt.dp16_or_zero(plan.execute_price),
        "size": fmt.dp16(plan.size),
        "orderType": plan.order_type.value,
        "side": plan.side.value,
        "status": done.status.value if done is not None else "cancelled",
        "priceAvg": fmt.dp16_or_zero(done.avg_price if done is not None else None),
        "baseVolume": fmt.dp16(done.filled_size if done is not None else Decimal(0)),
        "quoteVolume": fmt.dp16(done.filled_quote if done is not None else Decimal(0)),
        "enterPointSource": plan.enter_point,
        "feeDetail": fee_detail(done) if done is not None else "",
        "orderSource": "market" if plan.order_type == OrderType.MARKET else "normal",
        "cTime": str(plan.created_ms),
        "uTime": str(max(plan.updated_ms, done.updated_ms) if done is not None else plan.updated_ms),
        "tpslType": "tpsl",
        "cancelReason": "",
        "triggerPrice": fmt.plain(plan.trigger_price),
    }


def fill_row(fill: Fill) -> dict:
    deducted = paid_in_fee_token(fill.fee_asset, fill.fee, fill.fee_value)
    fee = "-" + fmt.plain(fill.fee) if fill.fee else "0"
    return {
        "userId": fill.uid,
        "symbol": fill.symbol,
        "orderId": str(fill.order_id),
        "tradeId": str(fill.trade_id),
        "orderType": fill.order_type.value,
        "side": fill.side.value,
        "priceAvg": fmt.plain(fill.price),
        "size": fmt.plain(fill.size),
        "amount": fmt.plain(fill.quote),
        "feeDetail": {
            "deduction": "yes" if deducted else "no",
            "feeCoin": fill.fee_asset,
            "totalDeductionFee": fee if deducted else "",
            "totalFee": fee,
        },
        "tradeScope": fill.liquidity.value,
        "cTime": str(fill.created_ms),
        "uTime": str(fill.created_ms),
    }


# ---- endpoints -----------------------------------------------------------------------------

def _refuse_tpsl(p) -> None:
    """A normal order carries no triggerPrice (that is a TP/SL order's, tpslType=tpsl)."""
    if p.text("triggerPrice") is not None:
        raise BitgetError("40020", "triggerPrice")


def presets(p: Params) -> Presets | None:
    """presetTakeProfitPrice / presetStopLossPrice and their execute prices (limit; none:
    market). An execute price without its trigger price is refused."""
    values = []
    for trigger_name, execute_name in PRESETS:
        trigger, execute = p.decimal(trigger_name), p.decimal(execute_name)
        if execute is not None and trigger is None:
            raise BitgetError("40020", execute_name)
        values += [trigger, execute]
    if not any(v is not None for v in values):
        return None
    return Presets(*values)


def _client_oid(p: Params) -> str | None:
    value = p.text("clientOid")
    if value is not None and len(value) > CLIENT_OID_MAX:
        raise BitgetError("40020", "clientOid")
    return value


def order_request(p: Params, symbol: str | None = None) -> SpotOrderRequest:
    """One order's parameters (place-order's body, or one entry of batch-orders' orderList,
    where TP/SL orders have no place)."""
    if p.enum("tpslType", TPSL_TYPES, default="normal") == "tpsl":
        raise BitgetError("40020", "tpslType")
    symbol = symbol or p.symbol(required=True)
    side = p.enum("side", SIDES, required=True)
    order_type = p.enum("orderType", ORDER_TYPES, required=True)
    if order_type == OrderType.LIMIT:
        force = p.enum("force", FORCES, required=True)
        price = p.decimal("price", required=True)
    else:  # force and price mean nothing to a market order
        force, price = TimeInForce.GTC, None
    size = p.decimal("size", required=True)
    _refuse_tpsl(p)
    return SpotOrderRequest(symbol=symbol, side=side, order_type=order_type, size=size, price=price,
                            force=force, client_oid=_client_oid(p), presets=presets(p),
                            stp_mode=p.enum("stpMode", STP_MODES, default="none"))


def _place_tpsl(call: Call) -> dict:
    """place-order with tpslType=tpsl: a take-profit / stop-loss order, a trigger order that
    places a limit order at `price` (or a market order) once the mark crosses triggerPrice. No
    clientOid (DOC: "invalid when Spot Order Type is SPOT TP/SL"); no presets."""
    p = call.params
    symbol = p.symbol(required=True)
    side = p.enum("side", SIDES, required=True)
    order_type = p.enum("orderType", ORDER_TYPES, required=True)
    trigger = p.decimal("triggerPrice", required=True)
    price = p.decimal("price", required=True) if order_type == OrderType.LIMIT else None
    force = p.enum("force", FORCES, required=order_type == OrderType.LIMIT) or TimeInForce.GTC
    size = p.decimal("size", required=True)
    if presets(p) is not None:
        raise BitgetError("40020", "tpslType")
    plan = call.engine.place_spot_plan(call.uid, symbol, side, order_type, trigger, price, size,
                                       size_in_quote=order_type == OrderType.MARKET and side == Side.BUY,
                                       trigger_type="fill_price", force=force, kind=PlanKind.TPSL,
                                       stp_mode=p.enum("stpMode", STP_MODES, default="none"))
    return {"orderId": str(plan.order_id), "clientOid": plan.client_oid}


@route("POST", "/api/v2/spot/trade/place-order", permission=Permission.SPOT_TRADE, limit=10)
def place_order(call: Call) -> dict:
    p = call.params
    p.check_receive_window(call.wall_ms)
    if p.enum("tpslType", TPSL_TYPES, default="normal") == "tpsl":
        return _place_tpsl(call)
    req = order_request(p)
    order = call.engine.place_spot_order(call.uid, req.symbol, req.side, req.order_type, req.size,
                                         req.price, req.force, req.client_oid, presets=req.presets,
                                         stp_mode=req.stp_mode)
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}


def _order_list(p: Params) -> list[Params]:
    """orderList: a non-empty array of objects, at most BATCH_MAX of them."""
    items = p.values.get("orderList")
    if items is None or items == "" or items == []:
        raise BitgetError("40019", "orderList")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise BitgetError("40020", "orderList")
    if len(items) > BATCH_MAX:
        raise BitgetError("40058", "orderList", BATCH_MAX)
    return [Params(item) for item in items]


def _batch_symbol(p: Params) -> str | None:
    """The batch's one symbol in single mode (the default); None in multiple mode, where each
    entry names its own and the outer one is ignored (DOC)."""
    mode = p.enum("batchMode", BATCH_MODES, default="single")
    return p.symbol(required=True) if mode == "single" else None


def failure(order_id: str, client_oid: str | None, err: BitgetError) -> dict:
    return {"orderId": order_id, "clientOid": client_oid or "", "errorMsg": err.msg, "errorCode": err.code}


def _refusal(exc: Exception, path: str) -> BitgetError:
    return exc if isinstance(exc, BitgetError) else from_domain(exc, path)  # type: ignore[arg-type]


@route("POST", "/api/v2/spot/trade/batch-orders", permission=Permission.SPOT_TRADE, limit=5,
       trader_limit=1)
def batch_orders(call: Call) -> dict:
    """Each entry is parsed, checked and placed on its own: a refused one goes to failureList with
    its own code and message and leaves the others alone. All placements are one transaction."""
    p = call.params
    symbol = _batch_symbol(p)
    entries = _order_list(p)
    parsed: list[SpotOrderRequest | BitgetError] = []
    for item in entries:
        try:
            parsed.append(order_request(item, symbol))
        except BitgetError as err:
            parsed.append(err)
    requests = [r for r in parsed if isinstance(r, SpotOrderRequest)]
    placed = iter(call.engine.place_spot_orders(call.uid, requests) if requests else [])
    success, failures = [], []
    for item, req in zip(entries, parsed):
        result = next(placed) if isinstance(req, SpotOrderRequest) else req
        if isinstance(result, (BitgetError, DomainError)):
            failures.append(failure("", _raw_text(item, "clientOid"), _refusal(result, call.request.path)))
        else:
            success.append({"orderId": str(result.order_id), "clientOid": result.client_oid})
    return {"successList": success, "failureList": failures}


def _raw_text(p: Params, name: str) -> str | None:
    value = p.values.get(name)
    return value if isinstance(value, str) else (str(value) if isinstance(value, int) and
                                                 not isinstance(value, bool) else None)


@route("POST", "/api/v2/spot/trade/batch-cancel-order", permission=Permission.SPOT_TRADE, limit=10)
def batch_cancel_order(call: Call) -> dict:
    """Cancel up to 50 orders in one transaction; each one that cannot be cancelled (unknown,
    finished, malformed id) is reported in failureList. Mixing the two kinds of id in one batch
    is not allowed (DOC): with any orderId present, an entry naming only a clientOid fails."""
    p = call.params
    symbol = _batch_symbol(p)
    entries = _order_list(p)
    by_id = any(_raw_text(item, "orderId") for item in entries)
    parsed: list[OrderRef | BitgetError] = []
    for item in entries:
        try:
            order_id, client_oid = item.order_id(), item.text("clientOid")
            if order_id is None and client_oid is None:
                raise BitgetError("40924")
            if order_id is None and by_id:
                raise BitgetError("43001")
            parsed.append(OrderRef(order_id, client_oid, symbol or item.symbol(required=True)))
        except BitgetError as err:
            parsed.append(err)
    refs = [r for r in parsed if isinstance(r, OrderRef)]
    cancelled = iter(call.engine.cancel_spot_orders(call.uid, refs) if refs else [])
    success, failures = [], []
    for item, ref in zip(entries, parsed):
        result = next(cancelled) if isinstance(ref, OrderRef) else ref
        if isinstance(result, (BitgetError, DomainError)):
            failures.append(failure(_raw_text(item, "orderId") or "", _raw_text(item, "clientOid"),
                                    _refusal(result, call.request.path)))
        else:
            success.append({"orderId": str(result.order_id), "clientOid": result.client_oid})
    return {"successList": success, "failureList": failures}


def _replacement(p: Params) -> tuple:
    """One cancel-replace: (the order to cancel, new price, new size, newClientOid, presets)."""
    symbol = p.symbol(required=True)
    order_id, client_oid = p.order_id(), p.text("clientOid")
    if order_id is None and client_oid is None:
        raise BitgetError("40924")
    p.enum("orderType", {"limit": "limit"})  # ccxt sends it; the replacement is a limit order
    price = p.decimal("price", required=True)
    size = p.decimal("size", required=True)
    new_client_oid = p.text("newClientOid")
    if new_client_oid is not None and len(new_client_oid) > CLIENT_OID_MAX:
        raise BitgetError("40020", "newClientOid")
    return OrderRef(order_id, client_oid, symbol), price, size, new_client_oid, presets(p)


def _replaced(result, new_client_oid: str | None, path: str) -> dict:
    if isinstance(result, (DomainError, BitgetError)):
        err = _refusal(result, path)
        return {"orderId": "", "clientOid": new_client_oid, "success": "failure", "msg": err.msg}
    return {"orderId": str(result.order_id), "clientOid": result.client_oid, "success": "success",
            "msg": None}


@route("POST", "/api/v2/spot/trade/cancel-replace-order", permission=Permission.SPOT_TRADE, limit=5)
def cancel_replace_order(call: Call) -> dict:
    """Cancel an open order and place a limit order of the same side at the new price and
    size. An order that cannot be cancelled refuses the request (43001); a replacement that is
    refused leaves the old order cancelled and answers success "failure" with the reason (DOC)."""
    ref, price, size, new_client_oid, pre = _replacement(call.params)
    result = call.engine.replace_spot_order(call.uid, ref, price, size, new_client_oid, pre)
    return _replaced(result, new_client_oid, call.request.path)


@route("POST", "/api/v2/spot/trade/batch-cancel-replace-order", permission=Permission.SPOT_TRADE, limit=5)
def batch_cancel_replace_order(call: Call) -> list:
    """Up to 50 cancel-replaces in one transaction; each answers on its own."""
    entries = _order_list(call.params)
    parsed: list = []
    for item in entries:
        try:
            parsed.append(_replacement(item))
        except BitgetError as err:
            parsed.append(err)
    items = [x for x in parsed if isinstance(x, tuple)]
    done = iter(call.engine.replace_spot_orders(call.uid, items) if items else [])
    out = []
    for item, entry in zip(entries, parsed):
        result = next(done) if isinstance(entry, tuple) else entry
        new_client_oid = entry[3] if isinstance(entry, tuple) else _raw_text(item, "newClientOid")
        out.append(_replaced(result, new_client_oid, call.request.path))
    return out


@route("POST", "/api/v2/spot/trade/cancel-symbol-order", permission=Permission.SPOT_TRADE, limit=5)
def cancel_symbol_order(call: Call) -> dict:
    """Cancel every open order of the symbol. Bitget does it asynchronously and answers at once;
    here the orders are cancelled before the answer, in one transaction."""
    symbol = call.params.symbol(required=True)
    call.engine.cancel_spot_symbol(call.uid, symbol)
    return {"symbol": symbol}


@route("POST", "/api/v2/spot/trade/cancel-order", permission=Permission.SPOT_TRADE, limit=10)
def cancel_order(call: Call) -> dict:
    p = call.params
    if p.enum("tpslType", TPSL_TYPES, default="normal") == "tpsl":  # symbol not needed (DOC)
        p.symbol()
        order_id = p.order_id()
        if order_id is None:
            raise BitgetError("40019", "orderId")
        plan = call.engine.cancel_spot_plan(call.uid, order_id, tpsl=True)
        return {"orderId": str(plan.order_id), "clientOid": plan.client_oid}
    symbol = p.symbol(required=True)
    _refuse_tpsl(p)
    order_id, client_oid = p.order_id(), p.text("clientOid")
    if order_id is None and client_oid is None:
        raise BitgetError("40924")
    order = call.engine.cancel_spot_order(call.uid, symbol, order_id, client_oid)
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}


@route("GET", "/api/v2/spot/trade/orderInfo", limit=20)
def order_info(call: Call) -> list:
    p = call.params
    p.check_receive_window(call.wall_ms)
    order_id, client_oid = p.order_id(), p.text("clientOid")
    if order_id is None and client_oid is None:
        raise BitgetError("40924")
    order = call.engine.spot_order(call.uid, order_id, client_oid)
    return [order_info_row(order)] if order is not None else []


def _order_query(call: Call, open_only: bool) -> list[SpotOrder]:
    p = call.params
    p.check_receive_window(call.wall_ms)
    start, end = p.time_range(call.now_ms, None if open_only else HISTORY_DAYS)
    tpsl = p.enum("tpslType", TPSL_TYPES, default="normal")
    limit = p.limit(100, 100)
    if tpsl == "tpsl":  # the take-profit / stop-loss orders presets placed
        return call.engine.spot_plans(call.uid, open_only=open_only, symbol=p.symbol(),
                                      kinds=[PlanKind.TP.value, PlanKind.SL.value, PlanKind.TPSL.value],
                                      start_ms=start,
                                      end_ms=end, id_less_than=p.order_id("idLessThan"), limit=limit)
    return call.engine.spot_orders(
        call.uid, open_only=open_only, symbol=p.symbol(), order_id=p.order_id(),
        start_ms=start, end_ms=end, id_less_than=p.order_id("idLessThan"), limit=limit,
    )


@route("GET", "/api/v2/spot/trade/unfilled-orders", limit=20)
def unfilled_orders(call: Call) -> list:
    return [tpsl_row(o, call.uid) if isinstance(o, SpotPlanOrder) else unfilled_row(o)
            for o in _order_query(call, open_only=True)]


@route("GET", "/api/v2/spot/trade/history-orders", limit=20)
def history_orders(call: Call) -> list:
    """Finished orders; with tpslType=tpsl the finished take-profit / stop-loss orders."""
    return [tpsl_history_row(o, call.engine.spot_order(call.uid, o.sub_order_id) if o.sub_order_id else None)
            if isinstance(o, SpotPlanOrder) else history_row(o) for o in _order_query(call, open_only=False)]


@route("GET", "/api/v2/spot/trade/fills", limit=10)
def fills(call: Call) -> list:
    p = call.params
    start, end = p.time_range(call.now_ms, HISTORY_DAYS)
    limit = p.limit(100, 100)
    return [
        fill_row(f)
        for f in call.engine.spot_fills(
            call.uid, symbol=p.symbol(), order_id=p.order_id(), start_ms=start, end_ms=end,
            id_less_than=p.order_id("idLessThan"), limit=limit,
        )
    ]
