"""Bitget doc family "contract / position": all-position, single-position, history-position."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.futures import liquidation_price, maintenance_rate, notional, unrealized_pnl
from localex.engine.model import (
    ZERO,
    FuturesFill,
    FuturesOrder,
    Instrument,
    MarginMode,
    OrderKind,
    Position,
    PositionSide,
    TradeSide,
)
from localex.venues.bitget import fmt
from localex.venues.bitget.contract_account import (
    POS_MODE_NAMES,
    figures,
    margin_coin,
    money,
    pos_mode,
    ratio,
)
from localex.venues.bitget.contract_market import (
    MARKETS,
    VENUE,
    contract,
    market_of,
    product_type,
    required_contract,
)
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route

HISTORY_DEFAULT_PRODUCT = "USDT-FUTURES"
HISTORY_DAYS = 90
ISOLATED_RATIO_PLACES = 4  # LIVE: isolated marginRatio "0.0056"; crossed has 16 places


def fee_text(fee: Decimal) -> str:
    """A fee paid, as the venue shows it: negative, cut to 8 places; "0" when none."""
    return "-" + money(fee) if fee > 0 else "0"


def break_even(inst: Instrument, pos: Position) -> Decimal:
    """The price at which closing (as taker) gets back the entry and both fees."""
    f = inst.taker_fee
    if pos.side is PositionSide.LONG:
        return pos.entry_price * (1 + f) / (1 - f)
    return pos.entry_price * (1 - f) / (1 + f)


def pending_sizes(pos: Position, orders: list[FuturesOrder]) -> tuple[Decimal, Decimal]:
    """(openDelegateSize, locked): unfilled opening orders on the position's side, and what
    resting close (or reduce-only) orders hold of the position."""
    opening = locked = ZERO
    for o in orders:
        if o.symbol != pos.symbol or o.kind is not OrderKind.REGULAR or not o.status.is_open:
            continue
        left = o.size - o.filled_size
        if o.trade_side is TradeSide.CLOSE and o.pos_side is pos.side and o.position_id in (None, pos.position_id):
            locked += left
        elif o.trade_side is TradeSide.OPEN and o.reduce_only and o.pos_side is pos.side.opposite:
            locked += left
        elif o.trade_side is TradeSide.OPEN and not o.reduce_only and o.pos_side is pos.side:
            opening += left
    return opening, min(locked, pos.size)


def position_row(call: Call, inst: Instrument, pos: Position, mark: Decimal, mode_name: str,
                 orders: list[FuturesOrder], account_equity: Decimal) -> dict:
    """A current position, every field of the LIVE capture in its order."""
    value = notional(inst, mark, pos.size)
    upnl = unrealized_pnl(inst, pos, mark)
    rate = maintenance_rate(inst, pos)  # the rate of the position's tier
    keep = rate + inst.taker_fee  # maintenance plus the fee to close
    if pos.margin_mode is MarginMode.ISOLATED:
        margin_size = pos.margin
        backing = pos.margin + upnl
        margin_ratio = fmt.trimmed_half_up(value * keep / backing, ISOLATED_RATIO_PLACES) if backing > 0 else "0"
        liq = liquidation_price(inst, pos)
    else:  # crossed: the margin the position needs at the mark; risk against the whole account
        margin_size = value / pos.leverage
        margin_ratio = ratio(value * keep / account_equity) if account_equity > 0 else "0"
        # where this contract's mark takes the account's crossed equity to its maintenance margin
        level = call.engine.crossed_liquidation_price(pos.uid, pos.market, pos.symbol)
        liq = level[0] if level is not None else None
    opening, locked = pending_sizes(pos, orders)
    return {
        "marginCoin": inst.settle,
        "symbol": pos.symbol,
        "holdSide": pos.side.value,
        "openDelegateSize": fmt.plain(opening),
        "marginSize": ratio(margin_size),
        "available": fmt.plain(pos.size - locked),
        "locked": fmt.plain(locked),
        "total": fmt.plain(pos.size),
        "leverage": str(pos.leverage),
        "achievedProfits": money(pos.realized_pnl),
        "openPriceAvg": ratio(pos.entry_price),
        "marginMode": pos.margin_mode.value,
        "posMode": mode_name,
        "unrealizedPL": money(upnl),
        "liquidationPrice": fmt.plain(liq) if liq is not None else "0",
        "keepMarginRate": fmt.plain(rate),
        "markPrice": fmt.plain(mark),
        "marginRatio": margin_ratio,
        "breakEvenPrice": ratio(break_even(inst, pos)),
        "totalFee": money(-pos.funding) if pos.funding else "",
        "deductedFee": fmt.plain(pos.fees),
        "grant": "",
        "assetMode": "single",
        "autoMargin": "off",
        "takeProfit": fmt.plain(pos.tp_price) if pos.tp_price is not None else "",
        "stopLoss": fmt.plain(pos.sl_price) if pos.sl_price is not None else "",
        "takeProfitId": str(pos.tp_id) if pos.tp_price is not None and pos.tp_id else "",
        "stopLossId": str(pos.sl_id) if pos.sl_price is not None and pos.sl_id else "",
        "cashDividend": "",
        "cTime": str(pos.opened_ms),
        "uTime": str(pos.updated_ms),
    }


def position_rows(call: Call, market: str, positions: list[Position]) -> list[dict]:
    if not positions:
        return []
    marks = call.engine.marks()
    mode_name = POS_MODE_NAMES[pos_mode(call, market)]
    orders = call.engine.futures_orders(call.uid, market=market, open_only=True)
    everything = call.engine.positions(call.uid, market=market)
    equity: dict[str, Decimal] = {}
    rows = []
    for pos in positions:
        inst = call.engine.instrument(pos.venue, pos.market, pos.symbol)
        if inst.settle not in equity:
            equity[inst.settle] = figures(call, market, inst.settle, marks, everything).equity
        mark = marks.get(inst.key, pos.entry_price)
        rows.append(position_row(call, inst, pos, mark, mode_name, orders, equity[inst.settle]))
    return rows


def newest_first(positions: list[Position]) -> list[Position]:
    return sorted(positions, key=lambda p: (p.opened_ms, p.position_id), reverse=True)


# ---- history -------------------------------------------------------------------------------

def opening_mode(call: Call, pos: Position, orders: dict[str, FuturesOrder], current: str) -> str:
    """The position mode of the order that opened the position (the venue keeps it per row)."""
    order = orders.get(pos.tag)
    if order is not None and order.tag in POS_MODE_NAMES.values():
        return order.tag
    return current


def history_row(inst: Instrument, pos: Position, fills: list[FuturesFill], mode_name: str) -> dict:
    open_fee = sum((f.fee for f in fills if f.trade_side is TradeSide.OPEN), ZERO)
    close_fee = sum((f.fee for f in fills if f.trade_side is TradeSide.CLOSE), ZERO)
    pnl = Decimal(money(pos.realized_pnl))
    shown_open, shown_close = fee_text(open_fee), fee_text(close_fee)
    net = pnl + Decimal(shown_open) + Decimal(shown_close) - pos.funding
    return {
        "positionId": str(pos.position_id),
        "symbol": pos.symbol,
        "marginCoin": inst.settle,
        "holdSide": pos.side.value,
        "openAvgPrice": ratio(pos.entry_price),
        "closeAvgPrice": ratio(pos.avg_close_price),
        "marginMode": pos.margin_mode.value,
        "openTotalPos": fmt.plain(pos.closed_size + pos.size),
        "closeTotalPos": fmt.plain(pos.closed_size),
        "pnl": fmt.plain(pnl),
        "netProfit": money(net),
        "totalFunding": money(-pos.funding),
        "openFee": shown_open,
        "closeFee": shown_close,
        "posMode": mode_name,
        "cashDividend": "0.00000000",
        "utime": str(pos.updated_ms),
        "ctime": str(pos.opened_ms),
    }


# ---- endpoints -----------------------------------------------------------------------------

@route("GET", "/api/v2/mix/position/all-position", limit=5)
def all_position(call: Call) -> list:
    product = product_type(call)
    market = market_of(product)
    coin = call.params.text("marginCoin")
    if market is None:
        return []
    positions = call.engine.positions(call.uid, market=market)
    if coin is not None:
        positions = [p for p in positions
                     if call.engine.instrument(p.venue, p.market, p.symbol).settle == coin.upper()]
    return position_rows(call, market, newest_first(positions))


@route("GET", "/api/v2/mix/position/single-position", limit=10)
def single_position(call: Call) -> list:
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst)
    positions = call.engine.positions(call.uid, market=inst.market, symbol=inst.symbol)
    return position_rows(call, inst.market, newest_first(positions))


@route("GET", "/api/v2/mix/position/history-position", limit=20)
def history_position(call: Call) -> dict:
    p = call.params
    symbol = p.symbol()
    product = product_type(call, default=HISTORY_DEFAULT_PRODUCT)
    if symbol is not None and market_of(product) is not None:
        # with a symbol the product type "does not take effect" (DOC): look the symbol up
        inst = None
        for candidate in [product, *MARKETS]:
            market = market_of(candidate)
            found = call.engine.instrument(VENUE, market, symbol)
            if found is not None and found.is_contract:
                inst = found
                break
        if inst is None:
            raise BitgetError("40034", symbol)
        market = inst.market
    elif symbol is not None:
        contract(call, product, symbol)  # a demo product line: 40034
        market = None
    else:
        market = market_of(product)
    start, end = p.time_range(call.now_ms, HISTORY_DAYS)
    id_less_than = p.order_id("idLessThan")
    limit = p.limit(20, 100)
    if market is None:
        return {"list": None, "endId": None}
    closed = call.engine.positions(call.uid, market=market, symbol=symbol, open_only=False,
                                   id_less_than=id_less_than, newest_first=True, opened_from=start,
                                   opened_to=end, limit=limit)
    if not closed:
        return {"list": None, "endId": None}
    # only this page's fills and opening orders (never the whole history)
    by_position: dict[int, list[FuturesFill]] = {
        pos.position_id: call.engine.futures_fills(call.uid, market=market, symbol=symbol,
                                                   position_id=pos.position_id, limit=None)
        for pos in closed}
    current = POS_MODE_NAMES[pos_mode(call, market)]
    openers = {}
    for pos in closed:
        found = call.engine.futures_orders(call.uid, market=market, symbol=symbol, client_oid=pos.tag, limit=1)
        if found:
            openers[pos.tag] = found[0]
    rows = []
    for pos in closed:
        inst = call.engine.instrument(pos.venue, pos.market, pos.symbol)
        rows.append(history_row(inst, pos, by_position.get(pos.position_id, []),
                                opening_mode(call, pos, openers, current)))
    return {"list": rows, "endId": rows[-1]["positionId"]}
