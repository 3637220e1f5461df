"""Bitget doc family "contract / trade": place-order, cancel-order, detail, orders-pending,
orders-history, fills.

Hedge mode: `side` names the position (buy = long) and `tradeSide` opens or closes it. One-way
mode: `side` is the book side, there is no `tradeSide`, and the engine nets an order against the
opposite position before it opens anything. The read-backs show each order in the position mode
it was placed in.
"""

from __future__ import annotations

from decimal import Decimal

from localex.engine.spot import scale_of
from localex.engine.model import (
    ZERO,
    CancelReason,
    FuturesFill,
    FuturesOrder,
    FuturesStatus,
    Instrument,
    OrderKind,
    OrderType,
    Permission,
    PositionMode,
    PositionSide,
    Side,
    TimeInForce,
    TradeSide,
)
from localex.venues.bitget import fmt
from localex.venues.bitget.contract_account import (
    MARGIN_MODES,
    POS_MODE_NAMES,
    margin_coin,
    money,
    pos_mode,
    ratio,
)
from localex.venues.bitget.contract_market import market_of, product_type, required_contract
from localex.venues.bitget.contract_position import fee_text
from localex.engine.errors import OrderNotCancellable, OrderNotFound
from localex.venues.bitget.errors import BitgetError, from_domain
from localex.venues.bitget.params import Params, is_long
from localex.venues.bitget.routes import Call, route

SIDES = {"buy": Side.BUY, "sell": Side.SELL}
TRADE_SIDES = {"open": TradeSide.OPEN, "close": TradeSide.CLOSE}
ORDER_TYPES = {"limit": OrderType.LIMIT, "market": OrderType.MARKET}
FORCES = {"gtc": TimeInForce.GTC, "post_only": TimeInForce.POST_ONLY, "fok": TimeInForce.FOK,
          "ioc": TimeInForce.IOC}
YES_NO = {"yes": True, "no": False}
STP_MODES = {m: m for m in ("none", "cancel_taker", "cancel_maker", "cancel_both")}
ORDER_STATUSES = {"live": FuturesStatus.LIVE, "partially_filled": FuturesStatus.PARTIALLY_FILLED}
STATUS_NAMES = {
    FuturesStatus.UNTRIGGERED: "live",
    FuturesStatus.LIVE: "live",
    FuturesStatus.PARTIALLY_FILLED: "partially_filled",
    FuturesStatus.FILLED: "filled",
    FuturesStatus.CANCELLED: "canceled",  # one "l" on futures
}
CANCEL_REASONS = {
    CancelReason.NONE: "",
    CancelReason.USER: "normal_cancel",
    CancelReason.IOC: "normal_cancel",
    CancelReason.FOK: "normal_cancel",
    CancelReason.POST_ONLY: "normal_cancel",
    CancelReason.STP: "stp_cancel",
    CancelReason.REJECTED: "",  # refused by the venue itself: no documented value
}
# why the engine made an order -> Bitget's orderSource
SOURCES = {"liquidation": "liquidation", "tp": "pos_profit_market", "sl": "pos_loss_market",
           "trailing": "tracking_market", "trader": "Trader_delegate", "trader_profit": "trader_profit",
           "trader_loss": "trader_loss", "follower": "follower_delegate"}
CLIENT_OID_MAX = 50
QUOTE_PLACES = 4  # quoteVolume: LIVE cuts price x size to 4 places
HISTORY_DAYS = 90
QUERY_DAYS = 90  # pending orders and fills: "three months"
TRIGGER_TYPE = "mark_price"  # the engine fires TP/SL and plan orders on the mark price


# ---- how an order reads in its position mode -------------------------------------------------

def order_mode(order: FuturesOrder, current: PositionMode) -> PositionMode:
    """The position mode an order was placed in: recorded on the order by place-order; orders
    the engine makes (TP/SL, liquidations) are read in the account's current mode, which cannot
    change while their position exists."""
    for mode, name in POS_MODE_NAMES.items():
        if order.tag == name:
            return mode
    return current


def side_text(side: Side, pos_side: PositionSide, mode: PositionMode) -> str:
    if mode is PositionMode.HEDGE:  # the position's direction
        return "buy" if pos_side is PositionSide.LONG else "sell"
    return side.value


def trade_side_text(side: Side, pos_side: PositionSide, trade_side: TradeSide, mode: PositionMode,
                    liquidation: bool) -> str:
    if mode is PositionMode.HEDGE:
        return f"burst_close_{pos_side.value}" if liquidation else trade_side.value
    return f"burst_{side.value}_single" if liquidation else f"{side.value}_single"


# TP/SL closes the engine makes: orderSource by the order type they execute with
STOP_SOURCES = {"tp": "pos_profit", "sl": "pos_loss", "take_profit": "profit", "stop_loss": "loss"}


def order_source(order: FuturesOrder) -> str:
    if order.source in STOP_SOURCES:
        return f"{STOP_SOURCES[order.source]}_{order.order_type.value}"
    if order.source in SOURCES:
        return SOURCES[order.source]
    if order.trigger_price is not None and order.kind is OrderKind.REGULAR:  # a triggered plan order
        return "plan_market" if order.order_type is OrderType.MARKET else "plan_limit"
    return "market" if order.order_type is OrderType.MARKET else "normal"


def enter_point(order: FuturesOrder) -> str:
    return "SYS" if order.source == "liquidation" else "API"


def quote_text(value: Decimal) -> str:
    return fmt.trimmed_down(value, QUOTE_PLACES)


def price_text(price: Decimal | None) -> str:
    return fmt.plain(price) if price is not None else ""


def average_text(order: FuturesOrder) -> str:
    return ratio(order.avg_price) if order.filled_size else ""


def _common(order: FuturesOrder, inst: Instrument, mode: PositionMode) -> dict:
    return {
        "symbol": order.symbol,
        "size": fmt.plain(order.size),
        "orderId": str(order.order_id),
        "clientOid": order.client_oid,
        "baseVolume": fmt.plain(order.filled_size),
        "fee": fee_text(order.fee),
        "price": price_text(order.price),
        "priceAvg": average_text(order),
    }


def detail_row(order: FuturesOrder, inst: Instrument, mode: PositionMode) -> dict:
    """GET detail: the LIVE capture's fields and order (the status key is `state`)."""
    hedge = mode is PositionMode.HEDGE
    tp, sl = price_text(order.tp_price), price_text(order.sl_price)
    return {
        **_common(order, inst, mode),
        "state": STATUS_NAMES[order.status],
        "side": side_text(order.side, order.pos_side, mode),
        "force": order.force.value,
        "totalProfits": money(order.realized_pnl),
        "posSide": order.pos_side.value if hedge else "net",
        "marginCoin": inst.settle,
        "presetStopSurplusPrice": tp,
        "presetStopSurplusType": TRIGGER_TYPE if tp else "",
        "presetStopSurplusExecutePrice": price_text(order.tp_execute),
        "presetStopLossPrice": sl,
        "presetStopLossExecutePrice": price_text(order.sl_execute),
        "presetStopLossType": TRIGGER_TYPE if sl else "",
        "quoteVolume": quote_text(order.filled_quote),
        "orderType": order.order_type.value,
        "leverage": str(order.leverage),
        "marginMode": order.margin_mode.value,
        "reduceOnly": "YES" if order.reduce_only else "NO",
        "enterPointSource": enter_point(order),
        "tradeSide": trade_side_text(order.side, order.pos_side, order.trade_side, mode,
                                     order.source == "liquidation"),
        "posMode": POS_MODE_NAMES[mode],
        "orderSource": order_source(order),
        "newTradeSide": order.trade_side.value if hedge else None,
        "cancelReason": CANCEL_REASONS[order.cancel_reason],
        "cTime": str(order.created_ms),
        "uTime": str(order.updated_ms),
    }


def pending_row(order: FuturesOrder, inst: Instrument, mode: PositionMode) -> dict:
    """orders-pending: the LIVE capture's fields and order (the status key is `status`)."""
    tp, sl = price_text(order.tp_price), price_text(order.sl_price)
    return {
        **_common(order, inst, mode),
        "status": STATUS_NAMES[order.status],
        "side": side_text(order.side, order.pos_side, mode),
        "force": order.force.value,
        "totalProfits": money(order.realized_pnl),
        "posSide": order.pos_side.value if mode is PositionMode.HEDGE else "net",
        "marginCoin": inst.settle,
        "quoteVolume": quote_text(order.filled_quote),
        "leverage": str(order.leverage),
        "marginMode": order.margin_mode.value,
        "enterPointSource": enter_point(order).lower(),
        "tradeSide": trade_side_text(order.side, order.pos_side, order.trade_side, mode, False),
        "posMode": POS_MODE_NAMES[mode],
        "orderType": order.order_type.value,
        "orderSource": order_source(order),
        "presetStopSurplusPrice": tp,
        "presetStopSurplusExecutePrice": price_text(order.tp_execute),
        "presetStopSurplusTriggerType": TRIGGER_TYPE if tp else "",
        "presetStopLossPrice": sl,
        "presetStopLossExecutePrice": price_text(order.sl_execute),
        "presetStopLossTriggerType": TRIGGER_TYPE if sl else "",
        "reduceOnly": "YES" if order.reduce_only else "NO",
        "cTime": str(order.created_ms),
        "uTime": str(order.updated_ms),
    }


def history_row(order: FuturesOrder, inst: Instrument, mode: PositionMode) -> dict:
    """orders-history: the DOC example's fields, with the table's reduceOnly and liqPrice."""
    liquidation = order.source == "liquidation"
    return {
        **_common(order, inst, mode),
        "status": STATUS_NAMES[order.status],
        "side": side_text(order.side, order.pos_side, mode),
        "force": order.force.value,
        "totalProfits": money(order.realized_pnl),
        "posSide": order.pos_side.value if mode is PositionMode.HEDGE else "net",
        "marginCoin": inst.settle,
        "quoteVolume": quote_text(order.filled_quote),
        "leverage": str(order.leverage),
        "marginMode": order.margin_mode.value,
        "reduceOnly": "YES" if order.reduce_only else "NO",
        "enterPointSource": enter_point(order).lower(),
        "tradeSide": trade_side_text(order.side, order.pos_side, order.trade_side, mode, liquidation),
        "posMode": POS_MODE_NAMES[mode],
        "posAvg": "",
        "orderType": order.order_type.value,
        "orderSource": order_source(order),
        "liqPrice": average_text(order) if liquidation else "",
        "cTime": str(order.created_ms),
        "uTime": str(order.updated_ms),
        "presetStopSurplusPrice": price_text(order.tp_price),
        "presetStopLossPrice": price_text(order.sl_price),
    }


def fill_row(fill: FuturesFill, inst: Instrument, order: FuturesOrder | None, mode: PositionMode) -> dict:
    """fills: the LIVE capture's fields and order; feeDetail is an array."""
    liquidation = order is not None and order.source == "liquidation"
    return {
        "tradeId": str(fill.trade_id),
        "symbol": fill.symbol,
        "orderId": str(fill.order_id),
        "price": fmt.plain(fill.price),
        "baseVolume": fmt.plain(fill.size),
        "feeDetail": [{"deduction": "no", "feeCoin": inst.settle, "totalDeductionFee": None,
                       "totalFee": fee_text(fill.fee)}],
        "side": side_text(fill.side, fill.pos_side, mode),
        "quoteVolume": quote_text(fill.quote),
        "profit": money(fill.realized_pnl),
        "enterPointSource": "sys" if liquidation else "api",
        "tradeSide": trade_side_text(fill.side, fill.pos_side, fill.trade_side, mode, liquidation),
        "posMode": POS_MODE_NAMES[mode],
        "tradeScope": fill.liquidity.value,
        "cTime": str(fill.created_ms),
    }


class Reader:
    """Renders one market's orders in their position modes (one look-up per request)."""

    def __init__(self, call: Call, market: str) -> None:
        self.call = call
        self.current = pos_mode(call, market)
        self.instruments: dict[str, Instrument] = {}

    def inst(self, venue: str, market: str, symbol: str) -> Instrument:
        key = f"{venue}:{market}:{symbol}"
        if key not in self.instruments:
            self.instruments[key] = self.call.engine.instrument(venue, market, symbol)
        return self.instruments[key]

    def order(self, order: FuturesOrder, row) -> dict:
        return row(order, self.inst(order.venue, order.market, order.symbol),
                   order_mode(order, self.current))


def page(rows: list[dict], list_name: str, id_name: str) -> dict:
    """{<list>, endId}; an empty page is all null, as the venue sends it."""
    if not rows:
        return {list_name: None, "endId": None}
    return {list_name: rows, "endId": rows[-1][id_name]}


# ---- place-order -------------------------------------------------------------------------------

def _price_param(call: Call, name: str) -> Decimal | None:
    """A preset price: empty (or zero) means none."""
    value = call.params.decimal(name)
    if value is not None and value < 0:
        raise BitgetError("40020", name)
    return value if value else None


def _client_oid(call: Call) -> str | None:
    value = call.params.text("clientOid")
    if value is not None and len(value) > CLIENT_OID_MAX:
        raise BitgetError("40020", "clientOid")
    return value


def _check_size_and_value(call: Call, inst: Instrument, order_type: OrderType, size: Decimal,
                          price: Decimal | None, pos_side: PositionSide, trade_side: TradeSide,
                          reduce_only: bool, mode: PositionMode) -> None:
    """The venue's order limits the engine leaves to it: the largest order, and (for orders
    that open) the smallest value, minTradeUSDT."""
    if size > inst.max_size:
        raise BitgetError("45112")
    if trade_side is TradeSide.CLOSE or reduce_only or size <= 0:
        return
    if scale_of(size) > inst.size_scale or (price is not None and scale_of(price) > inst.price_scale):
        return  # the engine refuses the precision first
    if mode is PositionMode.ONE_WAY:  # an order that only reduces the opposite position opens nothing
        opposite = sum((p.size for p in call.engine.positions(
            call.uid, market=inst.market, symbol=inst.symbol, side=pos_side.opposite)), ZERO)
        if size <= opposite:
            return
    reference = price if price is not None else call.engine.mark(inst)
    if reference is None or reference <= 0:
        return
    value = size * reference  # in the quote coin, for inverse contracts too
    if value < inst.min_notional:
        raise BitgetError("45110", fmt.plain(inst.min_notional), "USDT")


def order_request(call: Call, tp_names=("presetStopSurplusPrice", "presetStopLossPrice"),
                  execute_names=("presetStopSurplusExecutePrice", "presetStopLossExecutePrice"),
                  trigger_price: Decimal | None = None) -> tuple[Instrument, dict]:
    """Read and check an order's parameters (place-order, place-plan-order): the contract and the
    engine's terms for it."""
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    margin_mode = p.enum("marginMode", MARGIN_MODES, required=True)
    margin_coin(call, inst)
    size = p.decimal("size", required=True)
    side = p.enum("side", SIDES, required=True)
    trade_side = p.enum("tradeSide", TRADE_SIDES)
    order_type = p.enum("orderType", ORDER_TYPES, required=True)
    if order_type is OrderType.LIMIT:
        price = p.decimal("price", required=True)
        force = p.enum("force", FORCES, default=TimeInForce.GTC)
    else:  # price and force mean nothing to a market order
        price, force = None, TimeInForce.GTC
    reduce_only = p.enum("reduceOnly", YES_NO, default=False)
    tp, sl = (_price_param(call, name) for name in tp_names)
    tp_execute, sl_execute = (_price_param(call, name) for name in execute_names)
    for level, execute, name in ((tp, tp_execute, tp_names[0]), (sl, sl_execute, tp_names[1])):
        if execute is not None and level is None:  # a limit price for a TP / SL that is not there
            raise BitgetError("40019", name)
    p.enum("stpMode", STP_MODES)  # accepted; a single user never trades with itself here
    client_oid = _client_oid(call)
    mode = pos_mode(call, inst.market)
    pos_side = PositionSide.LONG if side is Side.BUY else PositionSide.SHORT
    if mode is PositionMode.HEDGE:
        if trade_side is None:
            raise BitgetError("40774")
        reduce_only = False  # ignored on opens; closes are reduce-only by nature
    else:
        if trade_side is not None:
            raise BitgetError("40774")
        trade_side = TradeSide.OPEN  # the engine nets it against the opposite position
    _check_size_and_value(call, inst, order_type, size, price if price is not None else trigger_price,
                          pos_side, trade_side, reduce_only, mode)
    return inst, dict(pos_side=pos_side, trade_side=trade_side, order_type=order_type, size=size,
                      price=price, force=force, reduce_only=reduce_only, client_oid=client_oid,
                      tp_price=tp, sl_price=sl, margin_mode=margin_mode, source="api",
                      tag=POS_MODE_NAMES[mode], tp_execute=tp_execute, sl_execute=sl_execute)


@route("POST", "/api/v2/mix/order/place-order", permission=Permission.FUTURES_TRADE, limit=10,
       trader_limit=1)
def place_order(call: Call) -> dict:
    inst, terms = order_request(call)
    order = call.engine.place_futures_order(call.uid, inst.market, inst.symbol, **terms)
    return {"clientOid": order.client_oid, "orderId": str(order.order_id)}


# ---- cancel and read-backs ---------------------------------------------------------------------

def _order_ids(call: Call) -> tuple[int | None, str | None]:
    order_id, client_oid = call.params.order_id(), call.params.text("clientOid")
    if order_id is None and client_oid is None:
        raise BitgetError("40924")
    if order_id is not None:
        client_oid = None  # "if both are present, orderId prevails"
    return order_id, client_oid


def _regular(order: FuturesOrder | None, inst: Instrument) -> FuturesOrder | None:
    """The user's order on this contract, if it is an ordinary (not plan) order."""
    if order is None or order.market != inst.market or order.symbol != inst.symbol:
        return None
    if order.kind is not OrderKind.REGULAR:
        return None
    return order


@route("POST", "/api/v2/mix/order/cancel-order", permission=Permission.FUTURES_TRADE, limit=10)
def cancel_order(call: Call) -> dict:
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst, required=False)
    order_id, client_oid = _order_ids(call)
    order = _regular(call.engine.futures_order(call.uid, order_id, client_oid), inst)
    if order is None or not order.status.is_open:
        raise BitgetError("43001")
    order = call.engine.cancel_futures_order(call.uid, order.order_id, None, inst.symbol)
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}


@route("GET", "/api/v2/mix/order/detail", limit=10)
def detail(call: Call) -> dict:
    product = product_type(call)
    inst = required_contract(call, product)
    order_id, client_oid = _order_ids(call)
    order = _regular(call.engine.futures_order(call.uid, order_id, client_oid), inst)
    if order is None:
        raise BitgetError("40109")
    return Reader(call, inst.market).order(order, detail_row)


def _query(call: Call, days: int):
    """productType, symbol, the time range, idLessThan and limit of a list endpoint."""
    p = call.params
    product = product_type(call)
    symbol = p.symbol()
    market = market_of(product)
    inst = required_contract(call, product) if symbol is not None else None
    start, end = p.time_range(call.now_ms, days)
    id_less_than = p.order_id("idLessThan")
    limit = p.limit(100, 100)
    return market, inst, start, end, id_less_than, limit


@route("GET", "/api/v2/mix/order/orders-pending", limit=10)
def orders_pending(call: Call) -> dict:
    p = call.params
    market, inst, start, end, id_less_than, limit = _query(call, QUERY_DAYS)
    status = p.enum("status", ORDER_STATUSES)
    order_id, client_oid = p.order_id(), p.text("clientOid")
    if market is None:
        return page([], "entrustedList", "orderId")
    orders = call.engine.futures_orders(
        call.uid, market=market, symbol=inst.symbol if inst else None, open_only=True,
        kinds=[OrderKind.REGULAR], order_id=order_id, client_oid=None if order_id else client_oid,
        start_ms=start, end_ms=end, id_less_than=id_less_than)
    orders = [o for o in orders if status is None or o.status is status][:limit]
    reader = Reader(call, market)
    return page([reader.order(o, pending_row) for o in orders], "entrustedList", "orderId")


@route("GET", "/api/v2/mix/order/orders-history", limit=10)
def orders_history(call: Call) -> dict:
    p = call.params
    market, inst, start, end, id_less_than, limit = _query(call, HISTORY_DAYS)
    order_id, client_oid = p.order_id(), p.text("clientOid")
    source = p.text("orderSource")
    if market is None:
        return page([], "entrustedList", "orderId")
    query = dict(market=market, symbol=inst.symbol if inst else None, open_only=False,
                 kinds=[OrderKind.REGULAR], order_id=order_id, client_oid=None if order_id else client_oid,
                 start_ms=start, end_ms=end)
    if source is None:
        orders = call.engine.futures_orders(call.uid, id_less_than=id_less_than, limit=limit, **query)
    else:  # the source is read from each order: page through until the page is full
        orders, cursor = [], id_less_than
        while len(orders) < limit:
            batch = call.engine.futures_orders(call.uid, id_less_than=cursor, limit=200, **query)
            orders += [o for o in batch if order_source(o) == source]
            if len(batch) < 200:
                break
            cursor = batch[-1].order_id
    reader = Reader(call, market)
    return page([reader.order(o, history_row) for o in orders[:limit]], "entrustedList", "orderId")


@route("GET", "/api/v2/mix/order/fill-history", limit=10)
def fill_history(call: Call) -> dict:
    """The same rows as fills, over the last 90 days (DOC: "historical transaction details")."""
    return fills(call)


@route("GET", "/api/v2/mix/order/fills", limit=10)
def fills(call: Call) -> dict:
    p = call.params
    market, inst, start, end, id_less_than, limit = _query(call, QUERY_DAYS)
    order_id = p.order_id()
    if market is None:
        return page([], "fillList", "tradeId")
    rows = call.engine.futures_fills(
        call.uid, market=market, symbol=inst.symbol if inst else None, order_id=order_id,
        start_ms=start, end_ms=end, id_less_than=id_less_than, limit=limit)
    reader = Reader(call, market)
    orders: dict[int, FuturesOrder | None] = {}
    out = []
    for f in rows:
        if f.order_id not in orders:
            orders[f.order_id] = call.engine.futures_order(call.uid, f.order_id)
        order = orders[f.order_id]
        mode = order_mode(order, reader.current) if order is not None else reader.current
        out.append(fill_row(f, reader.inst(f.venue, f.market, f.symbol), order, mode))
    return page(out, "fillList", "tradeId")


# ---- batches, cancel-all and flash close ----------------------------------------------------
# Each runs in one engine transaction; an item the venue refuses is listed in failureList with
# its own code and message and does not affect the others (docs/fidelity.md).

BATCH_MAX = 50  # orderList / orderIdList: "maximum length: 50"
BATCH_TOP = ("symbol", "productType", "marginMode", "marginCoin")  # request-wide parameters


def failure(order_id: str, client_oid: str, err: BitgetError, **extra) -> dict:
    return {"orderId": order_id, "clientOid": client_oid, **extra, "errorMsg": err.msg,
            "errorCode": err.code}


def _item_list(call: Call, name: str, required: bool) -> list[dict] | None:
    items = call.params.values.get(name)
    if items is None or items == "" or items == []:
        if required:
            raise BitgetError("40019", name)
        return None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise BitgetError("40020", name)
    if len(items) > BATCH_MAX:
        raise BitgetError("40058", name, BATCH_MAX)
    return items


def _item_text(item: dict, name: str) -> str:
    value = item.get(name)
    return "" if value is None or isinstance(value, (dict, list, bool)) else str(value)


@route("POST", "/api/v2/mix/order/batch-place-order", permission=Permission.FUTURES_TRADE, limit=10,
       trader_limit=1)
def batch_place_order(call: Call) -> dict:
    """Up to 50 orders on one contract, one margin mode: each checked as place-order checks one;
    the request-wide symbol, productType, marginMode and marginCoin apply to every item."""
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    p.enum("marginMode", MARGIN_MODES, required=True)
    margin_coin(call, inst)
    items = _item_list(call, "orderList", required=True)
    top = {name: p.values.get(name) for name in BATCH_TOP}
    accepted: list[tuple[int, dict]] = []
    answers: list[dict | None] = [None] * len(items)
    for i, item in enumerate(items):
        one = Call(call.engine, call.request, Params({**item, **top}), call.key, call.now_ms, call.wall_ms)
        try:
            _, terms = order_request(one)
        except BitgetError as err:
            answers[i] = failure("", _item_text(item, "clientOid"), err)
            continue
        accepted.append((i, terms))
    results = call.engine.place_futures_orders(call.uid, inst.market, inst.symbol,
                                               [terms for _, terms in accepted]) if accepted else []
    for (i, terms), result in zip(accepted, results):
        if isinstance(result, FuturesOrder):
            answers[i] = {"orderId": str(result.order_id), "clientOid": result.client_oid}
        else:
            answers[i] = failure("", terms["client_oid"] or "", from_domain(result, call.request.path))
    return {"successList": [a for a in answers if "errorCode" not in a],
            "failureList": [a for a in answers if "errorCode" in a]}


def _cancel_answer(call: Call, results) -> dict:
    success, failed = [], []
    for order_id, client_oid, result in results:
        if isinstance(result, FuturesOrder):
            success.append({"orderId": str(result.order_id), "clientOid": result.client_oid})
        else:
            err = result if isinstance(result, BitgetError) else BitgetError("43001", msg="notExistend")
            if not isinstance(result, (BitgetError, OrderNotFound, OrderNotCancellable)):
                err = from_domain(result, call.request.path)
            failed.append(failure("" if order_id is None else str(order_id), client_oid or "", err))
    return {"successList": success, "failureList": failed}


@route("POST", "/api/v2/mix/order/batch-cancel-orders", permission=Permission.FUTURES_TRADE, limit=10)
def batch_cancel_orders(call: Call) -> dict:
    """By orderIdList (up to 50, symbol required), or every open order of the product type
    (and symbol) when there is no list."""
    p = call.params
    product = product_type(call)
    market = market_of(product)
    inst = required_contract(call, product) if p.symbol() is not None else None
    if inst is not None:
        margin_coin(call, inst, required=False)
    items = _item_list(call, "orderIdList", required=False)
    if items is not None and inst is None:
        raise BitgetError("40019", "symbol")
    if market is None:
        return {"successList": [], "failureList": []}
    if items is None:
        results = call.engine.cancel_futures_orders(call.uid, market, None, inst.symbol if inst else None)
        return _cancel_answer(call, results)
    wanted, refused = [], {}
    for i, item in enumerate(items):
        order_id, client_oid = _item_text(item, "orderId"), _item_text(item, "clientOid")
        if not order_id and not client_oid:
            refused[i] = (None, None, BitgetError("40924"))
        elif order_id and not is_long(order_id):
            refused[i] = (None, client_oid or None, BitgetError("40402"))
        else:
            wanted.append((i, (int(order_id) if order_id else None, client_oid or None)))
    done = call.engine.cancel_futures_orders(call.uid, market, [w for _, w in wanted], inst.symbol) \
        if wanted else []
    merged = dict(refused)
    merged.update({i: result for (i, _), result in zip(wanted, done)})
    return _cancel_answer(call, [merged[i] for i in sorted(merged)])


@route("POST", "/api/v2/mix/order/cancel-all-orders", permission=Permission.FUTURES_TRADE, limit=10)
def cancel_all_orders(call: Call) -> dict:
    """Every open (regular) order of the product type, of a symbol when one is named, of a
    margin coin when one is named."""
    p = call.params
    product = product_type(call)
    market = market_of(product)
    inst = required_contract(call, product) if p.symbol() is not None else None
    coin = p.text("marginCoin")
    if inst is not None:
        margin_coin(call, inst, required=False)
    if market is None:
        return {"successList": [], "failureList": []}
    results = call.engine.cancel_futures_orders(call.uid, market, None, inst.symbol if inst else None,
                                                settle=coin.upper() if coin else None)
    return _cancel_answer(call, results)


@route("POST", "/api/v2/mix/order/close-positions", permission=Permission.FUTURES_TRADE, limit=1)
def close_positions(call: Call) -> dict:
    """Flash close at market: every position of the product type, of a symbol, of a side
    (holdSide counts in hedge mode only). Nothing to close is 22002."""
    from localex.venues.bitget.contract_account import HOLD_SIDES

    p = call.params
    product = product_type(call)
    market = market_of(product)
    inst = required_contract(call, product) if p.symbol() is not None else None
    side = p.enum("holdSide", HOLD_SIDES)
    mode = pos_mode(call, market)
    if mode is not PositionMode.HEDGE:
        side = None  # "will be ignored if filled in"
    results = call.engine.flash_close(call.uid, market, inst.symbol if inst else None, side,
                                      tag=POS_MODE_NAMES[mode]) if market is not None else []
    if not results:
        raise BitgetError("22002")
    success, failed = [], []
    for pos, result in results:
        if isinstance(result, FuturesOrder):
            success.append({"orderId": str(result.order_id), "clientOid": result.client_oid,
                            "symbol": pos.symbol})
        else:
            failed.append(failure("", "", from_domain(result, call.request.path), symbol=pos.symbol))
    return {"successList": success, "failureList": failed}


# ---- modify-order and click-backhand -------------------------------------------------------

@route("POST", "/api/v2/mix/order/modify-order", permission=Permission.FUTURES_TRADE, limit=10)
def modify_order(call: Call) -> dict:
    """An open, unfilled limit order: newSize / newPrice cancel it and place it again under a new
    orderId with newClientOid (required); newPresetStopSurplusPrice / newPresetStopLossPrice
    alone change its TP / SL in place (same orderId). 0 cancels a preset."""
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst, required=False)
    order_id, client_oid = _order_ids(call)
    new_client_oid = p.text("newClientOid", required=True)
    if len(new_client_oid) > CLIENT_OID_MAX:
        raise BitgetError("40020", "newClientOid")
    size, price = p.decimal("newSize"), p.decimal("newPrice")
    for name, value in (("newSize", size), ("newPrice", price)):
        if value is not None and value <= 0:
            raise BitgetError("40020", name)
    changes = {}
    for key, name in (("tp", "newPresetStopSurplusPrice"), ("sl", "newPresetStopLossPrice")):
        if p.text(name) is not None:
            level = _price_param(call, name)
            changes[key] = level
    if size is None and price is None and not changes:
        raise BitgetError("40019", "newSize")
    order = _regular(call.engine.futures_order(call.uid, order_id, client_oid), inst)
    if order is None or not order.status.is_open:
        raise BitgetError("40109")
    if size is not None or price is not None:
        mode = order_mode(order, pos_mode(call, inst.market))
        _check_size_and_value(call, inst, order.order_type, size or order.size, price or order.price,
                              order.pos_side, order.trade_side, order.reduce_only, mode)
    order = call.engine.modify_futures_order(call.uid, order.order_id, size=size, price=price,
                                             client_oid=new_client_oid if (size or price) else None,
                                             **changes)
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}


@route("POST", "/api/v2/mix/order/click-backhand", permission=Permission.FUTURES_TRADE, limit=10,
       trader_limit=1)
def click_backhand(call: Call) -> dict:
    """Reverse a position at market. One-way mode: the whole position, whatever `side` and
    `size` say. Hedge mode: side buy + tradeSide open reverses the long, sell the short; `size`
    below the position reverses that much, at or above it the whole position."""
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst)
    side = p.enum("side", SIDES)
    trade_side = p.enum("tradeSide", TRADE_SIDES)
    size = p.decimal("size")
    if size is not None and size <= 0:
        raise BitgetError("40020", "size")
    client_oid = _client_oid(call)
    mode = pos_mode(call, inst.market)
    if mode is PositionMode.HEDGE:
        if side is None:
            raise BitgetError("40019", "side")
        if trade_side is None:
            raise BitgetError("40774")
        positions = call.engine.positions(call.uid, market=inst.market, symbol=inst.symbol,
                                          side=PositionSide.LONG if side is Side.BUY else PositionSide.SHORT)
    else:
        if trade_side is not None:
            raise BitgetError("40774")
        positions = call.engine.positions(call.uid, market=inst.market, symbol=inst.symbol)
        size = None
    if not positions:
        raise BitgetError("22002")
    order = call.engine.reverse_position(call.uid, positions[0].position_id, tag=POS_MODE_NAMES[mode],
                                         size=size, client_oid=client_oid)
    return {"orderId": str(order.order_id), "clientOid": order.client_oid}
