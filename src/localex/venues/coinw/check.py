"""CoinW doc family "futures-trading / check": order information (GET /v1/perpum/order, the seed),
current orders, their count, order history (7 days, 3 months), transaction details, and the TP /
SL and trailing stops in force."""

from __future__ import annotations

from localex.engine.model import FuturesStatus, MarginMode, OrderKind, TradeSide
from localex.venues.coinw.common import (
    EXECUTE,
    MOVE_STOP,
    PLAN,
    PLAN_TRIGGER,
    Tag,
    contract,
    order_class,
    original_type,
)
from localex.venues.coinw.errors import CoinWError
from localex.venues.coinw.params import MAX_IDS
from localex.venues.coinw.routes import Call, route
from localex.venues.coinw.rows import (
    Book,
    cancelled_deal_row,
    deal_row,
    facts,
    history_row,
    open_row,
    paged,
    position_tpsl_order_row,
    seed_row,
    tpsl_row,
    trailing_row,
)

DAY_MS = 86_400_000

# GET /v1/perpum/order: positionType -> the order classes it answers with. "execute" answers with
# plan orders too (the page's precaution: a type may return other types); "planTrigger" answers
# only with planTrigger orders that have fired and placed their order.
ORDER_INFO_TYPES = {"execute": "execute", "plan": "plan", "movestop": "moveStop",
                    "movestopprofitloss": "moveStop", "stopprofitloss": "stopProfitLoss",
                    "plantrigger": "planTrigger"}
VISIBLE = {"execute": {EXECUTE, PLAN}, "plan": {PLAN}, "moveStop": {"moveStop"}}

# GET /v1/perpum/orders/open: positionType values
OPEN_TYPES = {"execute": "execute", "plan": "plan", "plantrigger": "planTrigger",
              "movestopprofitloss": "moveStop", "movestop": "moveStop"}
ORIGIN_TYPES = {"execute": EXECUTE, "plan": PLAN, "plantrigger": PLAN_TRIGGER,
                "movestopprofitloss": MOVE_STOP}
MODELS = {"0": MarginMode.ISOLATED, "1": MarginMode.CROSSED}


def _fired_plan_trigger(order, tag: Tag) -> bool:
    return original_type(order, tag) == PLAN_TRIGGER and order.kind is OrderKind.REGULAR


def _visible(order, kind: str) -> bool:
    """Does an unfilled order answer a query for `kind`?"""
    tag = Tag.decode(order.tag)
    if kind == "planTrigger":
        return _fired_plan_trigger(order, tag)
    return order_class(order, tag) in VISIBLE[kind]


@route("GET", "/v1/perpum/order", limit=10, per=("uid", "ip"))
def order_info(call: Call) -> list:
    """Unfilled orders of one type: by id (sourceIds, at most 20), by instrument, or all."""
    p = call.params
    kind = p.enum("positionType", ORDER_INFO_TYPES, required=True)
    ids = p.ident_list("sourceIds")
    inst = contract(call.engine, p.text("instrument"), required=False)
    book = Book(call.engine, call.uid)
    wanted = set(ids) if ids is not None else None
    if kind == "stopProfitLoss":
        rows = []
        for pos in book.positions():
            if pos.tp_price is None and pos.sl_price is None:
                continue
            if inst is not None and pos.symbol != inst.symbol:
                continue
            if wanted is not None and not wanted & {pos.position_id, book.tpsl_id(pos)}:
                continue
            rows.append(position_tpsl_order_row(book, pos))
        return rows
    return [seed_row(facts(book, o)) for o in book.open_orders()
            if _visible(o, kind)
            and (inst is None or o.symbol == inst.symbol)
            and (wanted is None or o.order_id in wanted)]


@route("GET", "/v1/perpum/orders/open", limit=10, per=("uid", "ip"))
def open_orders(call: Call) -> dict:
    """Unfilled orders of one instrument and type, paged. planTrigger lists the conditional
    orders still waiting for their trigger; execute lists plan orders as well."""
    p = call.params
    inst = contract(call.engine, p.text("instrument", required=True))
    kind = p.enum("positionType", OPEN_TYPES, required=True)
    page, size = p.page()
    book = Book(call.engine, call.uid)
    rows = []
    for o in book.open_orders():
        if o.symbol != inst.symbol:
            continue
        tag = Tag.decode(o.tag)
        if kind == "planTrigger":
            match = o.kind is OrderKind.PLAN and original_type(o, tag) == PLAN_TRIGGER
        else:
            match = order_class(o, tag) in VISIBLE[kind]
        if match:
            rows.append(open_row(facts(book, o), book))
    return paged(rows, page, size)


@route("GET", "/v1/perpum/orders/openQuantity", limit=5)
def open_quantity(call: Call) -> dict:
    """How many orders are pending: every unfilled order, of any type."""
    return {"value": len(Book(call.engine, call.uid).open_orders())}


def _history(call: Call, days: int, several: bool = False) -> dict:
    p = call.params
    if several:  # batchInsHistory / batchInsArchive: `symbols`, comma-separated
        names = [n.strip() for n in (p.text("symbols", required=True)).split(",")]
        if not all(names) or len(names) > MAX_IDS:
            raise CoinWError(9016)
        wanted = {contract(call.engine, n).symbol for n in names}
        inst = None
    else:
        name = p.text("instrument")
        inst = contract(call.engine, name) if name is not None else None
        wanted = None
    origin = p.enum("originType", ORIGIN_TYPES)
    page, size = p.page()
    since = call.now_ms - days * DAY_MS
    book = Book(call.engine, call.uid)
    rows = []
    for o in book.orders():
        if o.filled_size <= 0 or o.created_ms < since:
            continue  # orders cancelled without a fill are not history
        if (inst is not None and o.symbol != inst.symbol) or (wanted is not None and o.symbol not in wanted):
            continue
        if origin is not None and original_type(o, Tag.decode(o.tag)) != origin:
            continue
        rows.append(history_row(facts(book, o)))
    return paged(rows, page, size)


@route("GET", "/v1/perpum/orders/batchInsHistory", limit=5, window_ms=2000)
def batch_instrument_history(call: Call) -> dict:
    """orders/history for several instruments (`symbols`, at most 20)."""
    return _history(call, 7, several=True)


@route("GET", "/v1/perpum/orders/batchInsArchive", limit=5, window_ms=2000)
def batch_instrument_archive(call: Call) -> dict:
    """orders/archive for several instruments (`symbols`, at most 20)."""
    return _history(call, 90, several=True)


@route("GET", "/v1/perpum/orders/history", limit=5, window_ms=2000)
def order_history(call: Call) -> dict:
    return _history(call, 7)


@route("GET", "/v1/perpum/orders/archive", limit=5, window_ms=2000)
def order_archive(call: Call) -> dict:
    return _history(call, 90)


def _deals(call: Call, days: int) -> dict:
    p = call.params
    inst = contract(call.engine, p.text("instrument", required=True))
    origin = p.enum("originType", ORIGIN_TYPES)
    model = p.enum("positionModel", MODELS)
    page, size = p.page()
    since = call.now_ms - days * DAY_MS
    book = Book(call.engine, call.uid)
    orders = {o.order_id: o for o in book.orders()}
    entries = {pos.position_id: pos.entry_price for pos in book.positions(open_only=None)}

    def keep(order) -> bool:
        return (order.symbol == inst.symbol
                and (origin is None or original_type(order, Tag.decode(order.tag)) == origin)
                and (model is None or order.margin_mode is model))

    rows = []
    for fill in book.fills():
        order = orders.get(fill.order_id)
        if order is None or fill.created_ms < since or not keep(order):
            continue
        rows.append(deal_row(book, fill, order, entries))
    for order in orders.values():
        if order.status is FuturesStatus.CANCELLED and order.filled_size == 0 and order.updated_ms >= since \
                and keep(order):
            rows.append(cancelled_deal_row(book, order))
    rows.sort(key=lambda r: (r["createdDate"], r["id"]), reverse=True)
    return paged(rows, page, size)


@route("GET", "/v1/perpum/orders/deals", limit=10)
def deals(call: Call) -> dict:
    """Transaction details of the last 3 days: every fill, and every order cancelled unfilled."""
    return _deals(call, 3)


@route("GET", "/v1/perpum/orders/deals/history", limit=5)
def deals_history(call: Call) -> dict:
    return _deals(call, 90)


STOP_FROM = {"1": 1, "2": 2, "3": 3}


@route("GET", "/v1/perpum/TPSL", limit=10, window_ms=2000)
def tpsl(call: Call) -> list:
    """TP / SL in force: stopFrom 1 on unfilled plan orders (orderId), 2 on positions (openId),
    3 on planTrigger orders (planOrderId)."""
    p = call.params
    stop_from = p.enum("stopFrom", STOP_FROM, required=True)
    name = p.text("instrument")
    inst = contract(call.engine, name) if name is not None else None
    book = Book(call.engine, call.uid)
    rows = []
    if stop_from == 2:
        open_id = p.ident("openId")
        for pos in book.positions():
            if (pos.tp_price is None and pos.sl_price is None) or (open_id is not None and pos.position_id != open_id) \
                    or (inst is not None and pos.symbol != inst.symbol):
                continue
            rows.append(tpsl_row(book, ident=book.tpsl_id(pos), open_id=pos.position_id,
                                 inst=book.inst(pos.symbol), side=pos.side, leverage=pos.leverage,
                                 model=pos.margin_mode, pieces=pos.size / book.inst(pos.symbol).contract_size,
                                 price=pos.entry_price, tp=pos.tp_price, sl=pos.sl_price,
                                 created_ms=pos.opened_ms, updated_ms=pos.updated_ms, uid=pos.uid,
                                 tp_limit=pos.tp_execute, sl_limit=pos.sl_execute))
        for stop in book.stop_orders():  # partial TP / SL (addTpsl), each a record of its own
            if (open_id is not None and stop.position_id != open_id) or (inst is not None and stop.symbol != inst.symbol):
                continue
            pos = next((x for x in book.positions() if x.position_id == stop.position_id), None)
            if pos is None:
                continue
            profit = stop.trigger_above == (pos.side.value == "long")
            level, limit = stop.trigger_price, stop.price
            rows.append(tpsl_row(book, ident=stop.order_id, open_id=pos.position_id,
                                 inst=book.inst(pos.symbol), side=pos.side, leverage=pos.leverage,
                                 model=pos.margin_mode, pieces=stop.size / book.inst(pos.symbol).contract_size,
                                 price=pos.entry_price, tp=level if profit else None,
                                 sl=None if profit else level, created_ms=stop.created_ms,
                                 updated_ms=stop.updated_ms, uid=stop.uid,
                                 tp_limit=limit if profit else None, sl_limit=None if profit else limit,
                                 partial=True))
        return rows
    order_id = p.ident("orderId" if stop_from == 1 else "planOrderId")
    for o in book.open_orders():
        if (o.tp_price is None and o.sl_price is None) or o.trade_side is not TradeSide.OPEN \
                or o.kind is OrderKind.TRAILING:
            continue
        is_trigger = o.kind is OrderKind.PLAN and original_type(o, Tag.decode(o.tag)) == PLAN_TRIGGER
        if is_trigger != (stop_from == 3):
            continue
        if (order_id is not None and o.order_id != order_id) or (inst is not None and o.symbol != inst.symbol):
            continue
        f = facts(book, o)
        rows.append(tpsl_row(book, ident=o.order_id, open_id=0, inst=f.inst, side=o.pos_side,
                             leverage=o.leverage, model=o.margin_mode, pieces=f.current, price=f.price,
                             tp=o.tp_price, sl=o.sl_price, created_ms=o.created_ms,
                             updated_ms=o.updated_ms, uid=o.uid, tp_limit=o.tp_execute,
                             sl_limit=o.sl_execute))
    return rows


@route("GET", "/v1/perpum/moveTPSL", limit=5)
def trailing(call: Call) -> list | None:
    """Trailing stops in force; null when there are none (as the venue sends it)."""
    book = Book(call.engine, call.uid)
    rows = [trailing_row(book, o) for o in book.open_orders() if o.kind is OrderKind.TRAILING]
    return rows or None

