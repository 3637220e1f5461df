"""CoinW doc family "futures-trading / trade": place, modify and cancel orders (one or a batch),
close positions (one, every one of an instrument, by thirdOrderId), reverse a position, adjust its
margin, and set TP / SL and trailing stops.

Order types: `execute` is a market order; `plan` a limit order at openPrice (with a triggerPrice,
one that waits for the mark to cross it first, then rests at openPrice); `planTrigger` a
conditional order that places its order only when triggerPrice is reached (triggerType 0: a limit
order at openPrice, 1: a market order), and whose id the venue does not return on placement
("null").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from localex.engine.errors import DomainError
from localex.engine.futures import UNCHANGED
from localex.engine.model import (
    FuturesOrder,
    Instrument,
    MarginMode,
    OrderKind,
    OrderType,
    Permission,
    PositionSide,
    TradeSide,
)
from localex.venues.coinw import calc, fmt
from localex.venues.coinw.common import (
    EXECUTE,
    MARKET,
    PLAN,
    PLAN_TRIGGER,
    THIRD_ORDER_ID_MAX,
    VENUE,
    Tag,
    contract,
    ensure_hedge,
    order_class,
)
from localex.venues.coinw.envelope import NO_DATA
from localex.venues.coinw.errors import CoinWError, from_domain
from localex.venues.coinw.params import MAX_IDS, Params
from localex.venues.coinw.routes import Call, route
from localex.venues.coinw.rows import Book

TRADE = Permission.FUTURES_TRADE
DIRECTIONS = {"long": PositionSide.LONG, "short": PositionSide.SHORT}
# positionType on placement; "1" / "2" / "3" as some clients send them
PLACE_TYPES = {"execute": EXECUTE, "plan": PLAN, "plantrigger": PLAN_TRIGGER,
               "1": PLAN, "2": EXECUTE, "3": PLAN_TRIGGER}
MODELS = {"0": MarginMode.ISOLATED, "1": MarginMode.CROSSED}
UNITS = {"0": calc.UNIT_QUOTE, "1": calc.UNIT_CONTRACTS, "2": calc.UNIT_BASE}
TRIGGER_TYPES = {"0": 0, "1": 1}
CANCEL_TYPES = {"execute": "execute", "plan": "plan", "movestop": "moveStop",
                "movestopprofitloss": "moveStop", "stopprofitloss": "stopProfitLoss"}
CLOSE_TYPES = {"execute": EXECUTE, "plan": PLAN}
MARGIN_SOURCES = {"all": "all", "balance": "balance", "almightygold": "almightyGold"}


# ---- placing -----------------------------------------------------------------------------------

@dataclass
class OrderRequest:
    inst: Instrument
    direction: PositionSide
    position_type: str
    quantity: Decimal
    unit: int
    leverage: int
    model: MarginMode
    open_price: Decimal | None
    trigger_price: Decimal | None
    trigger_type: int | None
    tp: Decimal | None
    sl: Decimal | None
    third_id: str | None
    tp_limit: Decimal | None = None  # stopProfitOrderPrice: the TP closes at this limit price
    sl_limit: Decimal | None = None


def third_order_id(p: Params) -> str | None:
    value = p.text("thirdOrderId")
    if value is not None and len(value) > THIRD_ORDER_ID_MAX:
        raise CoinWError(9016)
    return value


def read_order(call: Call, p: Params, third_default: str | None = None) -> OrderRequest:
    """The place-order parameters, checked as the venue checks them (402 missing, 9016 bad)."""
    inst = contract(call.engine, p.text("instrument", required=True))
    direction = p.enum("direction", DIRECTIONS, required=True)
    position_type = p.enum("positionType", PLACE_TYPES, required=True)
    quantity = p.positive("quantity", required=True)
    leverage = p.integer("leverage", required=True)
    unit = p.enum("quantityUnit", UNITS, default=calc.UNIT_CONTRACTS)
    model = p.enum("positionModel", MODELS)
    if model is None:  # the account's default margin mode (positions/type)
        model = call.engine.symbol_settings(call.uid, VENUE, MARKET, inst.symbol).margin_mode
    open_price = p.positive("openPrice")
    trigger_price = p.positive("triggerPrice")
    trigger_type = p.enum("triggerType", TRIGGER_TYPES)
    tp, sl = p.positive("stopProfitPrice"), p.positive("stopLossPrice")
    tp_limit, sl_limit = stop_limits(p, tp, sl)
    third = third_order_id(p)
    p.boolean("useAlmightyGold")  # no coupons are emulated: checked, then nothing to use
    p.integer("goldId")
    if position_type == EXECUTE:
        open_price = trigger_price = trigger_type = None
    elif position_type == PLAN:
        if open_price is None:
            raise p.missing("openPrice")
        if trigger_price is None:
            trigger_type = None
        elif trigger_type is None:
            trigger_type = 0
    else:  # planTrigger
        if trigger_price is None:
            raise p.missing("triggerPrice")
        if trigger_type is None:
            trigger_type = 0 if open_price is not None else 1
        if trigger_type == 0 and open_price is None:
            raise p.missing("openPrice")
    return OrderRequest(inst, direction, position_type, quantity, unit, leverage, model, open_price,
                        trigger_price, trigger_type, tp, sl, third if third is not None else third_default,
                        tp_limit, sl_limit)


def stop_limits(p: Params, tp, sl) -> tuple[Decimal | None, Decimal | None]:
    """stopProfitOrderPrice / stopLossOrderPrice: the limit price a TP / SL closes at (0 or
    absent: at market); one without its TP / SL price is 9016."""
    out = []
    for name, level in (("stopProfitOrderPrice", tp), ("stopLossOrderPrice", sl)):
        value = p.decimal(name)
        if value is not None and value < 0:
            raise CoinWError(9016)
        if value and level is None:
            raise CoinWError(9016)
        out.append(value or None)
    return out[0], out[1]


def check_consistency(call: Call, req: OrderRequest) -> None:
    """9050: a margin mode other than that of the instrument's open orders and positions;
    9081: a leverage other than theirs (a new opening cannot change the leverage)."""
    inst = req.inst
    if not inst.min_leverage <= req.leverage <= inst.max_leverage:
        raise CoinWError(9006)
    existing = [o for o in call.engine.futures_orders(call.uid, market=MARKET, symbol=inst.symbol,
                                                       open_only=True)
                if o.trade_side is TradeSide.OPEN and o.kind is not OrderKind.TRAILING]
    existing += call.engine.positions(call.uid, market=MARKET, symbol=inst.symbol)
    if any(x.margin_mode is not req.model for x in existing):
        raise CoinWError(9050)
    if any(x.leverage != req.leverage for x in existing):
        raise CoinWError(9081)


def submit(call: Call, req: OrderRequest) -> FuturesOrder:
    """Place an order the venue accepted; a market order fills at once."""
    engine = call.engine
    ensure_hedge(engine, call.uid)
    check_consistency(call, req)
    # a plan order is a limit order at openPrice (its triggerType is kept as sent); a planTrigger
    # order places a market order (triggerType 1) or a limit order at openPrice (0)
    market = req.position_type == EXECUTE or (req.position_type == PLAN_TRIGGER and req.trigger_type == 1)
    if req.position_type == EXECUTE:
        reference = engine.mark(req.inst)
    elif market:
        reference = req.trigger_price
    else:
        reference = req.open_price
    pieces = calc.contracts_for(req.quantity, req.unit, req.inst, req.leverage, reference)
    tag = Tag(req.position_type, req.unit, fmt.plain(req.quantity), req.third_id,
              req.trigger_type if req.trigger_price is not None else None)
    return engine.place_futures_order(
        call.uid, MARKET, req.inst.symbol, pos_side=req.direction, trade_side=TradeSide.OPEN,
        order_type=OrderType.MARKET if market else OrderType.LIMIT,
        size=calc.base_of(pieces, req.inst), price=None if market else req.open_price,
        tp_price=req.tp, sl_price=req.sl, trigger_price=req.trigger_price, leverage=req.leverage,
        margin_mode=req.model, tag=tag.encode(), tp_execute=req.tp_limit, sl_execute=req.sl_limit)


def placed_id(req: OrderRequest, order: FuturesOrder) -> str:
    """The id placement returns: a string, and "null" for a planTrigger order."""
    return "null" if req.position_type == PLAN_TRIGGER else str(order.order_id)


@route("POST", "/v1/perpum/order", permission=TRADE, limit=30)
def place_order(call: Call) -> dict:
    req = read_order(call, call.params)
    return {"value": placed_id(req, submit(call, req))}


@route("POST", "/v1/perpum/batchOrders", permission=TRADE, limit=10, body=list)
def place_orders(call: Call) -> list:
    """Each order on its own: one result per order, msgCode 0 or the order's error code."""
    items = call.body
    if not items or len(items) > MAX_IDS:
        raise CoinWError(9016)
    results = []
    for item in items:
        third = item.get("thirdOrderId") if isinstance(item, dict) else None
        third = third if isinstance(third, str) or third is None else str(third)
        try:
            if not isinstance(item, dict):
                raise CoinWError(9016)
            req = read_order(call, Params(item))
            results.append({"msgCode": 0, "openId": placed_id(req, submit(call, req)),
                            "thirdOrderId": req.third_id})
        except (CoinWError, DomainError) as exc:
            err = exc if isinstance(exc, CoinWError) else from_domain(exc)
            results.append({"msgCode": err.code, "openId": None, "thirdOrderId": third})
    return results


# ---- modifying and cancelling ------------------------------------------------------------------

def own_open_order(call: Call, order_id: int) -> FuturesOrder:
    order = call.engine.futures_order(call.uid, order_id=order_id)
    if order is None or order.venue != VENUE or not order.status.is_open:
        raise CoinWError(9002)
    return order


@route("PUT", "/v1/perpum/order", permission=TRADE, limit=10)
def modify_order(call: Call) -> dict:
    """Cancel and replace: the original is cancelled first, and stays cancelled whatever happens
    to its replacement (an error while modifying cancels the original order)."""
    p = call.params
    order = own_open_order(call, p.ident("id", required=True))
    if order.kind is OrderKind.TRAILING or order.trade_side is not TradeSide.OPEN:
        raise CoinWError(9002)
    call.engine.cancel_futures_order(call.uid, order_id=order.order_id)
    req = read_order(call, p, third_default=Tag.decode(order.tag).third_id)
    new = submit(call, req)
    return {"editId": None if req.position_type == PLAN_TRIGGER else new.order_id,
            "originId": order.order_id}


@route("DELETE", "/v1/perpum/order", permission=TRADE, limit=10)
def cancel_order(call: Call) -> object:
    """Cancel one order (a comma-separated list of ids is cancelled whole, or not at all)."""
    p = call.params
    value = p.raw("id")
    if value is None:
        raise p.missing("id")
    ids = p.ident_list("id") if isinstance(value, (str, list)) else [p.ident("id")]
    orders = [own_open_order(call, i) for i in dict.fromkeys(ids)]
    for order in orders:
        call.engine.cancel_futures_order(call.uid, order_id=order.order_id)
    return NO_DATA


def _clear_tpsl(call: Call, book: Book, ident: int) -> None:
    for pos in book.positions():
        if ident in (pos.position_id, book.tpsl_id(pos)) and (
                pos.tp_price is not None or pos.sl_price is not None):
            call.engine.set_position_tpsl(call.uid, pos.position_id, None, None)
    order = book.order(ident)
    if order is not None and order.status.is_open and (order.tp_price is not None or order.sl_price is not None) \
            and order.trade_side is TradeSide.OPEN and order.kind is not OrderKind.TRAILING:
        call.engine.set_futures_order_tpsl(call.uid, order.order_id, None, None)


@route("DELETE", "/v1/perpum/batchOrders", permission=TRADE, limit=10, per=("uid", "ip"))
def cancel_orders(call: Call) -> object:
    """Cancel up to 20 orders by id, optionally only those of one type (posType); ids that are
    not an open order of that type are passed over. posType=stopProfitLoss removes TP / SL."""
    p = call.params
    ids = p.ident_list("sourceIds", required=True)
    kind = p.enum("posType", CANCEL_TYPES)
    book = Book(call.engine, call.uid)
    for ident in ids:
        if kind == "stopProfitLoss":
            _clear_tpsl(call, book, ident)
            continue
        order = book.order(ident)
        if order is None or not order.status.is_open:
            continue
        cls = order_class(order, Tag.decode(order.tag)) or PLAN_TRIGGER
        if kind == "moveStop" and cls != "moveStop":
            continue
        if kind == "plan" and cls not in (PLAN, PLAN_TRIGGER):
            continue
        if kind == "execute" and cls == "moveStop":
            continue
        call.engine.cancel_futures_order(call.uid, order_id=order.order_id)
    return NO_DATA


# ---- positions ---------------------------------------------------------------------------------

def cancel_closes(call: Call, position_ids: set[int]) -> None:
    """A position closed whole takes its pending close orders with it (trailing stops and
    closes resting at a price)."""
    for order in call.engine.futures_orders(call.uid, market=MARKET, open_only=True):
        if order.trade_side is TradeSide.CLOSE and order.position_id in position_ids:
            call.engine.cancel_futures_order(call.uid, order_id=order.order_id)


def own_position(call: Call, position_id: int):
    try:
        pos = call.engine.position(call.uid, position_id)
    except DomainError:
        raise CoinWError(9003) from None
    if not pos.open or pos.venue != VENUE:
        raise CoinWError(9003)
    return pos


@route("DELETE", "/v1/perpum/positions", permission=TRADE, limit=30)
def close_position(call: Call) -> dict:
    """Close (part of) a position: closeNum contracts or closeRate of it, at market (execute) or
    resting at orderPrice (plan). Answers the closing order's id as a number."""
    p = call.params
    pos = own_position(call, p.ident("id", required=True))
    kind = p.enum("positionType", CLOSE_TYPES, default=EXECUTE)
    inst = call.engine.instrument(VENUE, MARKET, pos.symbol)
    held = calc.pieces_of(pos.size, inst)
    num, rate = p.decimal("closeNum"), p.decimal("closeRate")
    if num is None and rate is None:
        raise p.missing("closeNum")
    if num is not None and rate is not None:
        raise CoinWError(9016)
    if num is not None:
        if num <= 0 or num != num.to_integral_value():
            raise CoinWError(9016)
        pieces = num
    else:
        if not 0 < rate <= 1:
            raise CoinWError(9016)
        pieces = held if rate == 1 else Decimal(calc.floor(held * rate))
        if pieces < 1:
            raise CoinWError(9009)
    price = p.positive("orderPrice") if kind == PLAN else None
    if kind == PLAN and price is None:
        raise p.missing("orderPrice")
    if pieces == held:
        cancel_closes(call, {pos.position_id})
    order = call.engine.close_position(call.uid, pos.position_id, calc.base_of(pieces, inst), price)
    return {"value": order.order_id}


@route("DELETE", "/v1/perpum/allpositions", permission=TRADE, limit=5)
def close_all(call: Call) -> object:
    inst = contract(call.engine, call.params.text("instrument", required=True))
    cancel_closes(call, {pos.position_id for pos in call.engine.positions(call.uid, market=MARKET,
                                                                         symbol=inst.symbol)})
    call.engine.close_positions(call.uid, MARKET, inst.symbol)
    return NO_DATA


@route("DELETE", "/v1/perpum/batchClose", permission=TRADE, limit=10, window_ms=2000, body=list)
def close_by_third_order_id(call: Call) -> list:
    """Close at market every open position opened by an order with the thirdOrderId given."""
    items = call.body
    if not items or len(items) > MAX_IDS:
        raise CoinWError(9016)
    book = Book(call.engine, call.uid)
    results = []
    for item in items:
        third = item.get("thirdOrderId") if isinstance(item, dict) else None
        if third is None or isinstance(third, (dict, list, bool)):
            results.append({"msgCode": 402, "openId": None, "thirdOrderId": None})
            continue
        third = str(third)
        ids = {o.position_id for o in book.orders()
               if o.trade_side is TradeSide.OPEN and o.position_id and o.position_id > 0
               and Tag.decode(o.tag).third_id == third}
        targets = [pos for pos in call.engine.positions(call.uid, market=MARKET) if pos.position_id in ids]
        if not targets:
            results.append({"msgCode": 9003, "openId": None, "thirdOrderId": third})
            continue
        cancel_closes(call, {pos.position_id for pos in targets})
        for pos in targets:
            try:
                order = call.engine.close_position(call.uid, pos.position_id)
                results.append({"msgCode": 0, "openId": str(order.order_id), "thirdOrderId": third})
            except DomainError as exc:
                results.append({"msgCode": from_domain(exc).code, "openId": None, "thirdOrderId": third})
    return results


@route("POST", "/v1/perpum/positions/reverse", permission=TRADE, limit=5)
def reverse(call: Call) -> dict:
    """Close a position at market and open the other side at market, same size, one step."""
    pos = own_position(call, call.params.ident("id", required=True))
    inst = call.engine.instrument(VENUE, MARKET, pos.symbol)
    pieces = calc.pieces_of(pos.size, inst)
    tag = Tag(EXECUTE, calc.UNIT_CONTRACTS, fmt.plain(pieces))
    cancel_closes(call, {pos.position_id})
    order = call.engine.reverse_position(call.uid, pos.position_id, tag=tag.encode())
    return {"value": str(order.order_id)}


@route("POST", "/v1/perpum/positions/margin", permission=TRADE, limit=5)
def adjust_margin(call: Call) -> object:
    p = call.params
    pos = own_position(call, p.ident("id", required=True))
    add, reduce = p.positive("addMargin"), p.positive("reduceMargin")
    source = p.enum("type", MARGIN_SOURCES, default="all")
    if add is None and reduce is None:
        raise p.missing("addMargin")
    if add is not None and reduce is not None:
        raise CoinWError(9016)
    if source == "almightyGold":  # no coupon funds exist here
        raise CoinWError(9004)
    call.engine.adjust_margin(call.uid, pos.position_id, add if add is not None else -reduce)
    return NO_DATA


# ---- TP / SL and trailing stops ----------------------------------------------------------------

def _level(p: Params, price_name: str, rate_name: str, *, base: Decimal, leverage: int,
           side: PositionSide, profit: bool, inst: Instrument):
    """A TP or SL level from its price or its rate; "0" removes it; UNCHANGED when absent."""
    price, rate = p.decimal(price_name), p.decimal(rate_name)
    if price is not None:
        if price < 0:
            raise CoinWError(9016)
        return None if price == 0 else price
    if rate is not None:
        if rate <= 0:
            raise CoinWError(9016)
        return calc.level_from_rate(base, rate, leverage, side, profit, inst)
    return UNCHANGED


@route("POST", "/v1/perpum/TPSL", permission=TRADE, limit=10, window_ms=2000)
def set_tpsl(call: Call) -> object:
    """TP / SL on a position (id = its position id) or on an unfilled opening order (id = the
    order id), by price or by rate (return on margin). Triggered at the mark, closed at market."""
    p = call.params
    ident = p.ident("id", required=True)
    name = p.text("instrument")
    inst = contract(call.engine, name) if name is not None else None
    book = Book(call.engine, call.uid)
    pos = next((x for x in book.positions() if x.position_id == ident), None)
    order = None
    if pos is None:
        order = book.order(ident)
        if order is None or not order.status.is_open or order.kind is OrderKind.TRAILING \
                or order.trade_side is not TradeSide.OPEN:
            raise CoinWError(9002)
    target = pos or order
    if inst is not None and target.symbol != inst.symbol:
        raise CoinWError(9002 if pos is None else 9003)
    inst = book.inst(target.symbol)
    side = pos.side if pos is not None else order.pos_side
    base = pos.entry_price if pos is not None else (order.price or order.trigger_price
                                                     or book.mark(inst))
    leverage = target.leverage
    tp = _level(p, "stopProfitPrice", "stopProfitRate", base=base, leverage=leverage, side=side,
                profit=True, inst=inst)
    sl = _level(p, "stopLossPrice", "stopLossRate", base=base, leverage=leverage, side=side,
                profit=False, inst=inst)
    if tp is UNCHANGED and sl is UNCHANGED:
        raise p.missing("stopProfitPrice")
    limits = _limits(p, tp, sl)
    if pos is not None:
        call.engine.set_position_tpsl(call.uid, pos.position_id, tp, sl, **limits)
    else:
        call.engine.set_futures_order_tpsl(call.uid, order.order_id, tp, sl, **limits)
    return NO_DATA


def _limits(p: Params, tp, sl) -> dict:
    """The limit prices sent with a TP / SL being set (absent: at market)."""
    out = {}
    for key, name, level in (("tp_execute", "stopProfitOrderPrice", tp), ("sl_execute", "stopLossOrderPrice", sl)):
        value = p.decimal(name)
        if value is not None and value < 0:
            raise CoinWError(9016)
        if value and level in (UNCHANGED, None):
            raise CoinWError(9016)
        if level not in (UNCHANGED, None):
            out[key] = value or None
    return out


@route("POST", "/v1/perpum/moveTPSL", permission=TRADE, limit=10, window_ms=2000)
def set_trailing(call: Call) -> object:
    """A trailing stop on a position: it follows the best mark since activation (triggerPrice,
    or at once) and closes at market when the mark falls back callbackRate from it."""
    p = call.params
    pos = own_position(call, p.ident("openId", required=True))
    rate = p.decimal("callbackRate", required=True)
    if not 0 < rate < 1:
        raise CoinWError(9016)
    activation = p.positive("triggerPrice")
    quantity = p.positive("quantity")
    unit = p.enum("quantityUnit", {"0": calc.UNIT_QUOTE, "1": calc.UNIT_CONTRACTS},
                  default=calc.UNIT_CONTRACTS)
    inst = call.engine.instrument(VENUE, MARKET, pos.symbol)
    if quantity is None:
        pieces = calc.pieces_of(pos.size, inst)
        quantity, unit = pieces, calc.UNIT_CONTRACTS
    else:
        pieces = Decimal(calc.contracts_for(quantity, unit, inst, pos.leverage,
                                            call.engine.mark(inst)))
    tag = Tag("moveStopProfitLoss", unit, fmt.plain(quantity))
    call.engine.place_trailing_stop(call.uid, pos.position_id, rate, activation,
                                    calc.base_of(pieces, inst), tag=tag.encode())
    return NO_DATA



# ---- partial and batch TP / SL (addTpsl, updateTpsl) ---------------------------------------------

STOP_FROMS = {"1": 1, "2": 2, "3": 3}  # 1 an unfilled plan order, 2 a position, 3 a planTrigger order
STOP_TYPES = {"1": 1, "2": 2}  # 1 partial (closePiece of the position), 2 the whole position / order
PRICE_TYPES = {"1": 1, "2": 2, "3": 3}  # index, last, mark: every one fires on the mark here


def _partial_stops(call: Call, p: Params, pos, inst) -> list[dict]:
    """The TP and / or SL of a partial stop (stopType 1): closePiece contracts each."""
    pieces = p.positive("closePiece", required=True)
    if pieces != pieces.to_integral_value():
        raise CoinWError(9016)
    size = calc.base_of(pieces, inst)
    tp = _level(p, "stopProfitPrice", "stopProfitRate", base=pos.entry_price, leverage=pos.leverage,
                side=pos.side, profit=True, inst=inst)
    sl = _level(p, "stopLossPrice", "stopLossRate", base=pos.entry_price, leverage=pos.leverage,
                side=pos.side, profit=False, inst=inst)
    if tp in (UNCHANGED, None) and sl in (UNCHANGED, None):
        raise p.missing("stopProfitPrice")
    limits = _limits(p, tp, sl)
    stops = []
    for kind, level, key in (("tp", tp, "tp_execute"), ("sl", sl, "sl_execute")):
        if level not in (UNCHANGED, None):
            stops.append({"kind": kind, "trigger": level, "size": size, "execute": limits.get(key)})
    return stops


def _tpsl_kind(p: Params) -> tuple[int, int]:
    stop_from = p.enum("stopFrom", STOP_FROMS, required=True)
    stop_type = p.enum("stopType", STOP_TYPES, default=2)
    p.enum("priceType", PRICE_TYPES)
    return stop_from, stop_type


@route("POST", "/v1/perpum/addTpsl", permission=TRADE, limit=10, window_ms=2000)
def add_tpsl(call: Call) -> object:
    """TP / SL added to a position (stopFrom 2) or an unfilled order (1, 3). stopType 1 on a
    position is a partial TP / SL: closePiece contracts close when the mark crosses the level (at
    market, or at stopProfitOrderPrice / stopLossOrderPrice); several may stand side by side.
    stopType 2 is the whole position's (or order's) TP / SL, as POST /v1/perpum/TPSL sets it."""
    p = call.params
    stop_from, stop_type = _tpsl_kind(p)
    if stop_type == 2 or stop_from != 2:
        return set_tpsl(call)
    pos = own_position(call, p.ident("id", required=True))
    inst = call.engine.instrument(VENUE, MARKET, pos.symbol)
    name = p.text("instrument")
    if name is not None and contract(call.engine, name).symbol != pos.symbol:
        raise CoinWError(9003)
    call.engine.protect_position(call.uid, pos.position_id, _partial_stops(call, p, pos, inst))
    return NO_DATA


@route("POST", "/v1/perpum/updateTpsl", permission=TRADE, limit=10, window_ms=2000)
def update_tpsl(call: Call) -> object:
    """Move a TP / SL: `id` is a record of GET /v1/perpum/TPSL (a partial TP / SL: its trigger,
    limit price and closePiece change, same id) or the position / order itself (its whole
    TP / SL, as POST /v1/perpum/TPSL)."""
    p = call.params
    _tpsl_kind(p)
    ident = p.ident("id", required=True)
    book = Book(call.engine, call.uid)
    stop = next((o for o in book.stop_orders() if o.order_id == ident), None)
    if stop is None:
        for pos in book.positions():  # a position's whole TP / SL is listed under its opening order's id
            if book.tpsl_id(pos) == ident and (pos.tp_price is not None or pos.sl_price is not None):
                p.values["id"] = str(pos.position_id)
        return set_tpsl(call)
    pos = own_position(call, stop.position_id)
    inst = call.engine.instrument(VENUE, MARKET, pos.symbol)
    profit = stop.trigger_above == (pos.side is PositionSide.LONG)
    names = ("stopProfitPrice", "stopProfitRate", "stopProfitOrderPrice") if profit else \
        ("stopLossPrice", "stopLossRate", "stopLossOrderPrice")
    level = _level(p, names[0], names[1], base=pos.entry_price, leverage=pos.leverage, side=pos.side,
                   profit=profit, inst=inst)
    if level is None:  # "0" removes it
        call.engine.cancel_futures_orders(call.uid, MARKET, [(stop.order_id, None)], kinds=[OrderKind.STOP])
        return NO_DATA
    limit = p.decimal(names[2])
    if limit is not None and limit < 0:
        raise CoinWError(9016)
    pieces = p.positive("closePiece")
    if pieces is not None and pieces != pieces.to_integral_value():
        raise CoinWError(9016)
    call.engine.modify_stop_order(call.uid, stop.order_id, stop.trigger_price if level is UNCHANGED else level,
                                  calc.base_of(pieces, inst) if pieces is not None else None,
                                  UNCHANGED if limit is None else (limit or None))
    return NO_DATA
