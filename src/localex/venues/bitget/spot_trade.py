"""Bitget doc family "spot / trade": place-order, cancel-order, orderInfo, unfilled-orders,
history-orders, fills."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.model import (
    CancelReason,
    Fill,
    OrderType,
    Permission,
    Side,
    SpotOrder,
    TimeInForce,
)
from localex.venues.bitget import fmt
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route

SIDES = {"buy": Side.BUY, "sell": Side.SELL}
ORDER_TYPES = {"limit": OrderType.LIMIT, "market": OrderType.MARKET}
FORCES = {"gtc": TimeInForce.GTC, "post_only": TimeInForce.POST_ONLY, "fok": TimeInForce.FOK,
          "ioc": TimeInForce.IOC}
TPSL_TYPES = {"normal": "normal", "tpsl": "tpsl"}
TPSL_PARAMS = ("triggerPrice", "presetTakeProfitPrice", "executeTakeProfitPrice",
               "presetStopLossPrice", "executeStopLossPrice")
CANCEL_REASONS = {
    CancelReason.NONE: "",
    CancelReason.USER: "normal_cancel",
    CancelReason.IOC: "normal_cancel",
    CancelReason.FOK: "normal_cancel",
    CancelReason.POST_ONLY: "normal_cancel",
    CancelReason.STP: "stp_cancel",
    CancelReason.REJECTED: "",  # refused by the venue itself: no documented value
}
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
        "orderType": order.order_type.value,
        "side": order.side.value,
        "status": order.status.value,
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
        "presetTakeProfitPrice": "",
        "executeTakeProfitPrice": "",
        "presetStopLossPrice": "",
        "executeStopLossPrice": "",
        "cTime": str(order.created_ms),
        "uTime": str(order.updated_ms),
        "tpslType": "normal",
        "triggerPrice": None,
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
    """Spot TP/SL orders and attached TP/SL are not emulated yet: refuse them rather than place
    an order without the protection the caller asked for."""
    if p.enum("tpslType", TPSL_TYPES, default="normal") == "tpsl":
        raise BitgetError("40020", "tpslType")
    for name in TPSL_PARAMS:
        if p.text(name) is not None:
            raise BitgetError("40020", name)


def _client_oid(call: Call) -> str | None:
    value = call.params.text("clientOid")
    if value is not None and len(value) > CLIENT_OID_MAX:
        raise BitgetError("40020", "clientOid")
    return value


@route("POST", "/api/v2/spot/trade/place-order", permission=Permission.SPOT_TRADE, limit=10)
def place_order(call: Call) -> dict:
    p = call.params
    p.check_receive_window(call.wall_ms)
    symbol = p.symbol(required=True)
    side = p.enum("side", SIDES, required=True)
    order_type = p.enum("orderType", ORDER_TYPES, required=True)
    if order_type == OrderType.LIMIT:
        force = p.enum("force", FORCES, required=True)
        price = p.decimal("price", required=True)
    else:  # force and price mean nothing to a market order
        force, price = TimeInForce.GTC, None
    size = p.decimal("size", required=True)
    _refuse_tpsl(p)
    order = call.engine.place_spot_order(call.uid, symbol, side, order_type, size, price, force,
                                         _client_oid(call))
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}


@route("POST", "/api/v2/spot/trade/cancel-order", permission=Permission.SPOT_TRADE, limit=10)
def cancel_order(call: Call) -> dict:
    p = call.params
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
    if tpsl == "tpsl":
        return []  # spot TP/SL orders are not emulated yet
    return call.engine.spot_orders(
        call.uid, open_only=open_only, symbol=p.symbol(), order_id=p.order_id(),
        start_ms=start, end_ms=end, id_less_than=p.order_id("idLessThan"), limit=limit,
    )


@route("GET", "/api/v2/spot/trade/unfilled-orders", limit=20)
def unfilled_orders(call: Call) -> list:
    return [unfilled_row(o) for o in _order_query(call, open_only=True)]


@route("GET", "/api/v2/spot/trade/history-orders", limit=20)
def history_orders(call: Call) -> list:
    return [history_row(o) for o in _order_query(call, open_only=False)]


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
