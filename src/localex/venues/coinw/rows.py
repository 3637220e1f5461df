"""CoinW's wire rows, built from the engine's orders, positions and fills.

The same order reads differently per endpoint (docs/fidelity.md, "CoinW", JSON types): GET
/v1/perpum/order sends fee, frozenFee, makerFee and takerFee as strings and every seed field even
when unset (null); orders/open sends them as numbers and leaves unset fields out; orders/history
sends most amounts as strings and the id as a string. Each endpoint has its builder here, over one
set of computed facts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from localex.engine.futures import liquidation_price, unrealized_pnl
from localex.engine.model import (
    ZERO,
    FuturesFill,
    FuturesOrder,
    FuturesStatus,
    Instrument,
    Liquidity,
    MarginMode,
    OrderKind,
    OrderType,
    Position,
    TradeSide,
)
from localex.venues.coinw import calc, fmt
from localex.venues.coinw.common import (
    MARKET,
    MOVE_STOP,
    STOP_PROFIT_LOSS,
    VENUE,
    Tag,
    liquidate_by,
    original_type,
    pos_type,
    quantity_of,
    trigger_type,
    user_id,
)
from localex.venues.coinw.fmt import num, text

MODEL = {MarginMode.ISOLATED: 0, MarginMode.CROSSED: 1}


class Book:
    """One request's read of a user's CoinW futures state (each read cached for the request)."""

    def __init__(self, engine, uid: str) -> None:
        self.engine, self.uid = engine, uid
        self._insts: dict[str, Instrument | None] = {}
        self._marks: dict[str, Decimal | None] = {}
        self._orders: list[FuturesOrder] | None = None
        self._open: list[FuturesOrder] | None = None
        self._by_id: dict[int, FuturesOrder | None] = {}
        self._by_oid: dict[str, FuturesOrder | None] = {}
        self._fills: list[FuturesFill] | None = None
        self._position_fills: dict[int, list[FuturesFill]] = {}

    def inst(self, symbol: str) -> Instrument:
        if symbol not in self._insts:
            self._insts[symbol] = self.engine.instrument(VENUE, MARKET, symbol)
        return self._insts[symbol]

    def mark(self, inst: Instrument) -> Decimal | None:
        if inst.symbol not in self._marks:
            self._marks[inst.symbol] = self.engine.mark(inst)
        return self._marks[inst.symbol]

    def orders(self) -> list[FuturesOrder]:
        """Every order of the user on CoinW futures, newest first (history reads only: the
        reads below ask the store for just what they need)."""
        if self._orders is None:
            # partial TP / SL orders are no orders of their own on CoinW: GET /TPSL shows them
            self._orders = [o for o in self.engine.futures_orders(self.uid, market=MARKET)
                            if o.kind is not OrderKind.STOP]
        return self._orders

    def open_orders(self) -> list[FuturesOrder]:
        """Open orders, newest first."""
        if self._orders is not None:
            return [o for o in self._orders if o.status.is_open]
        if self._open is None:
            self._open = [o for o in self.engine.futures_orders(self.uid, market=MARKET, open_only=True)
                          if o.kind is not OrderKind.STOP]
        return self._open

    def stop_orders(self) -> list[FuturesOrder]:
        """Waiting partial TP / SL orders (addTpsl), newest first."""
        return self.engine.futures_orders(self.uid, market=MARKET, open_only=True, kinds=[OrderKind.STOP])

    def order(self, order_id: int) -> FuturesOrder | None:
        if order_id not in self._by_id:
            found = self.engine.futures_orders(self.uid, market=MARKET, order_id=order_id, limit=1)
            self._by_id[order_id] = found[0] if found else None
        return self._by_id[order_id]

    def opening_order(self, pos: Position) -> FuturesOrder | None:
        """The order that opened a position (the engine labels a position with its client id;
        the oldest order of that client id)."""
        if pos.tag not in self._by_oid:
            found = self.engine.futures_orders(self.uid, market=MARKET, client_oid=pos.tag,
                                               newest_first=False, limit=1)
            self._by_oid[pos.tag] = found[0] if found else None
        return self._by_oid[pos.tag]

    def fills(self) -> list[FuturesFill]:
        if self._fills is None:
            self._fills = self.engine.futures_fills(self.uid, market=MARKET, limit=None)
        return self._fills

    def position_fills(self, pos: Position) -> list[FuturesFill]:
        """The fills of one position, newest first."""
        if pos.position_id not in self._position_fills:
            self._position_fills[pos.position_id] = self.engine.futures_fills(
                self.uid, market=MARKET, position_id=pos.position_id, limit=None)
        return self._position_fills[pos.position_id]

    def positions(self, open_only: bool | None = True) -> list[Position]:
        return self.engine.positions(self.uid, market=MARKET, open_only=open_only)

    def open_fee(self, pos: Position) -> Decimal:
        """The opening fees of what is still open of a position."""
        paid = sum((f.fee for f in self.position_fills(pos) if f.trade_side is TradeSide.OPEN), ZERO)
        opened = pos.size + pos.closed_size
        return paid * pos.size / opened if opened else ZERO

    def tpsl_id(self, pos: Position) -> int:
        """A position's TP / SL is known by the id of the order that opened it."""
        opening = self.opening_order(pos)
        return opening.order_id if opening is not None else pos.position_id


# ---- orders ------------------------------------------------------------------------------------

@dataclass
class OrderFacts:
    order: FuturesOrder
    inst: Instrument
    tag: Tag
    mark: Decimal | None
    total: Decimal  # contracts ordered
    filled: Decimal  # contracts filled
    current: Decimal  # contracts still open
    price: Decimal  # the price margins are reckoned at: order, trigger or mark price
    margin: Decimal
    frozen_fee: Decimal
    quantity: Decimal
    unit: int

    @property
    def cancelled(self) -> Decimal:
        return self.total - self.filled if self.order.status is FuturesStatus.CANCELLED else ZERO


def facts(book: Book, order: FuturesOrder) -> OrderFacts:
    inst = book.inst(order.symbol)
    tag = Tag.decode(order.tag)
    mark = book.mark(inst)
    lot = inst.contract_size
    total = order.size / lot
    filled = order.filled_size / lot
    current = total - filled
    price = order.price or order.trigger_price or mark or ZERO
    rate = inst.taker_fee if order.order_type is OrderType.MARKET else inst.maker_fee
    quantity, unit = quantity_of(order, tag, inst)
    return OrderFacts(order, inst, tag, mark, total, filled, current, price,
                      calc.position_margin(current, inst, price, order.leverage),
                      calc.frozen_fee(current, inst, price, rate), quantity, unit)


def order_status(order: FuturesOrder) -> str:
    """orderStatus as the unfilled-order endpoints write it."""
    return "part" if order.filled_size > 0 else "unFinish"


def finished_status(order: FuturesOrder) -> str:
    """orderStatus as the history endpoints write it (lower case, as the venue sends them)."""
    return {FuturesStatus.FILLED: "finish", FuturesStatus.CANCELLED: "cancel",
            FuturesStatus.PARTIALLY_FILLED: "part"}.get(order.status, "unFinish")


def _stop_rates(f: OrderFacts) -> tuple[Decimal | None, Decimal | None]:
    o = f.order
    return (calc.roe_rate(f.price, o.tp_price, o.leverage), calc.roe_rate(f.price, o.sl_price, o.leverage))


def seed_row(f: OrderFacts) -> dict:
    """One order of GET /v1/perpum/order: every field of the page, unset ones null, with the
    types of the page's example response (fee, frozenFee, makerFee, takerFee as strings)."""
    o = f.order
    tp_rate, sl_rate = _stop_rates(f)
    row = {
        "baseSize": num(calc.base_of(f.total, f.inst)),
        "contractType": 1,
        "createdDate": o.created_ms,
        "currentPiece": num(f.current),
        "direction": o.pos_side.value,
        "fee": text(o.fee),
        "frozenFee": text(f.frozen_fee),
        "id": o.order_id,
        "indexPrice": num(f.mark),
        "instrument": f.inst.symbol,
        "leverage": o.leverage,
        "liquidateBy": liquidate_by(o.source),
        "makerFee": text(f.inst.maker_fee),
        "margin": num(f.margin),
        "orderPrice": num(o.price if o.price is not None else ZERO),
        "orderStatus": order_status(o),
        "originalType": original_type(o, f.tag),
        "posType": pos_type(o, f.tag),
        "positionMargin": num(f.margin),
        "positionModel": MODEL[o.margin_mode],
        "quantity": num(f.quantity),
        "quantityUnit": f.unit,
        "source": "api",
        "status": o.trade_side.value,
        "stopLossOrderPrice": num(o.sl_execute),
        "stopLossPrice": num(o.sl_price),
        "stopLossRate": num(sl_rate),
        "stopProfitOrderPrice": num(o.tp_execute),
        "stopProfitPrice": num(o.tp_price),
        "stopProfitRate": num(tp_rate),
        "takerFee": text(f.inst.taker_fee),
        "thirdOrderId": f.tag.third_id,
        "totalPiece": num(f.total),
        "triggerPrice": num(o.trigger_price),
        "triggerType": trigger_type(o, f.tag),
        "updatedDate": o.updated_ms,
        "userId": user_id(o.uid),
    }
    if original_type(o, f.tag) == MOVE_STOP:
        row["callbackRate"] = num(o.callback_rate)
    return present(row)


def present(row: dict) -> dict:
    """An order row as CoinW sends it: a field with no value is left out, not null (seed 002's
    example has no stopLossOrderPrice / stopProfitOrderPrice for an order without them)."""
    return {k: v for k, v in row.items() if v is not None}


def trailing_margin(book: Book, f: OrderFacts) -> tuple[Decimal, Decimal]:
    """(margin, entry price) of the part of its position a trailing stop covers."""
    pos = book.engine.positions(book.uid, market=MARKET, open_only=None)
    entry = next((p.entry_price for p in pos if p.position_id == f.order.position_id), f.price)
    return calc.position_margin(f.total, f.inst, entry, f.order.leverage), entry


def open_row(f: OrderFacts, book: Book) -> dict:
    """One row of GET /v1/perpum/orders/open: numbers throughout, unset fields left out."""
    o = f.order
    margin = f.margin
    if o.callback_rate is not None:
        margin, _ = trailing_margin(book, f)
    row = {
        "baseSize": num(calc.base_of(f.total, f.inst)),
        "contractType": 1,
        "createdDate": o.created_ms,
        "currentPiece": num(f.current),
        "direction": o.pos_side.value,
        "fee": num(o.fee),
        "frozenFee": num(f.frozen_fee),
        "id": o.order_id,
        "indexPrice": num(f.mark),
        "instrument": f.inst.symbol,
        "leverage": o.leverage,
        "liquidateBy": liquidate_by(o.source),
        "makerFee": num(f.inst.maker_fee),
        "margin": num(margin),
        "orderPrice": num(o.price if o.price is not None else ZERO),
        "orderStatus": order_status(o),
        "originalType": original_type(o, f.tag),
        "posType": pos_type(o, f.tag),
        "positionMargin": num(margin),
        "positionModel": MODEL[o.margin_mode],
        "processStatus": 1,
        "quantity": num(f.quantity),
        "quantityUnit": f.unit,
        "source": "api",
        "status": o.trade_side.value,
        "takerFee": num(f.inst.taker_fee),
        "totalPiece": num(f.total),
        "updatedDate": o.updated_ms,
        "userId": user_id(o.uid),
    }
    tp_rate, sl_rate = _stop_rates(f)
    optional = {"stopLossPrice": num(o.sl_price), "stopLossRate": num(sl_rate),
                "stopProfitPrice": num(o.tp_price), "stopProfitRate": num(tp_rate),
                "thirdOrderId": f.tag.third_id, "triggerPrice": num(o.trigger_price),
                "triggerType": trigger_type(o, f.tag), "callbackRate": num(o.callback_rate)}
    row.update({k: v for k, v in optional.items() if v is not None})
    if f.filled:
        row["tradePiece"] = num(f.filled)
    return row


def history_row(f: OrderFacts) -> dict:
    """One row of GET /v1/perpum/orders/history and /archive: amounts as strings, id a string,
    position and order ids numbers."""
    o = f.order
    executed = o.filled_quote  # filled notional (price * base size)
    entrust = calc.notional(f.total, f.inst, o.price if o.price is not None else (o.avg_price or f.price))
    row = {
        "avgPrice": text(o.avg_price),
        "baseSize": text(calc.base_of(f.total, f.inst)),
        "cancelPiece": num(f.cancelled),
        "completeUsdt": text(executed),
        "contractType": 1,
        "createdDate": o.created_ms,
        "currentPiece": text(f.total - f.cancelled),
        "direction": o.pos_side.value,
        "entrustUsdt": text(entrust),
        "fee": text(o.fee),
        "havShortfall": False,
        "id": str(o.order_id),
        "indexPrice": text(f.mark),
        "instrument": f.inst.symbol,
        "leverage": str(o.leverage),
        "liquidateBy": liquidate_by(o.source),
        "margin": text(executed / o.leverage),
        "openId": o.position_id if o.position_id and o.position_id > 0 else 0,
        "orderId": o.order_id,
        "orderPrice": text(o.price if o.price is not None else ZERO),
        "orderStatus": finished_status(o),
        "originalType": original_type(o, f.tag),
        "posType": pos_type(o, f.tag),
        "positionModel": MODEL[o.margin_mode],
        "quantity": text(f.quantity),
        "quantityUnit": f.unit,
        "source": "api",
        "status": o.trade_side.value,
        "stepMarginVersion": 0,
        "totalPiece": text(f.total),
        "tradePiece": num(f.filled),
        "updatedDate": o.updated_ms,
        "userId": user_id(o.uid),
    }
    optional = {"thirdOrderId": f.tag.third_id, "triggerPrice": text(o.trigger_price),
                "triggerType": trigger_type(o, f.tag), "stopLossPrice": text(o.sl_price),
                "stopProfitPrice": text(o.tp_price)}
    row.update({k: v for k, v in optional.items() if v is not None})
    return row


def deal_row(book: Book, fill: FuturesFill, order: FuturesOrder, entries: dict[int, Decimal]) -> dict:
    """One fill of GET /v1/perpum/orders/deals: numbers, except fee, feeRate and fundingFee."""
    f = facts(book, order)
    pieces = fill.size / f.inst.contract_size
    closing = fill.trade_side is TradeSide.CLOSE
    entry = entries.get(fill.position_id, fill.price) if closing else fill.price
    margin = calc.position_margin(pieces, f.inst, entry, order.leverage)
    rate = f.inst.maker_fee if fill.liquidity is Liquidity.MAKER else f.inst.taker_fee
    row = {
        "baseSize": num(fill.size),
        "closePrice": num(fill.price if closing else ZERO),
        "closedPiece": num(pieces if closing else ZERO),
        "contractType": 1,
        "createdDate": fill.created_ms,
        "currentPiece": num(ZERO if closing else pieces),
        "direction": fill.pos_side.value,
        "fee": text(fill.fee),
        "feeRate": text(rate),
        "fundingFee": "0",
        "fundingSettle": 0,
        "id": fill.trade_id,
        "instrument": f.inst.symbol,
        "isProfession": 0,
        "leverage": order.leverage,
        "liquidateBy": liquidate_by(order.source),
        "margin": num(margin),
        "netProfit": num(fill.realized_pnl - fill.fee if closing else ZERO),
        "openId": fill.position_id,
        "openPrice": num(entry),
        "orderId": order.order_id,
        "orderPrice": num(order.price if order.price is not None else ZERO),
        "orderStatus": finished_status(order),
        "originalType": original_type(order, f.tag),
        "positionMargin": num(ZERO if closing else margin),
        "positionModel": MODEL[order.margin_mode],
        "processStatus": 1,
        "quantity": num(f.quantity),
        "quantityUnit": f.unit,
        "source": "api",
        "status": fill.trade_side.value,
        "takerMaker": 2 if fill.liquidity is Liquidity.MAKER else 1,
        "totalPiece": num(f.total),
        "triggerPrice": num(order.trigger_price or ZERO),
        "triggerType": trigger_type(order, f.tag) or 0,
        "updatedDate": fill.created_ms,
        "userId": user_id(order.uid),
    }
    if f.tag.third_id is not None:
        row["thirdOrderId"] = f.tag.third_id
    return row


def cancelled_deal_row(book: Book, order: FuturesOrder) -> dict:
    """A cancelled order that never filled, as the deals list reflects it."""
    f = facts(book, order)
    row = {
        "baseSize": num(calc.base_of(f.total, f.inst)),
        "closePrice": 0,
        "closedPiece": 0,
        "contractType": 1,
        "createdDate": order.created_ms,
        "currentPiece": 0,
        "direction": order.pos_side.value,
        "fee": "0",
        "feeRate": "0",
        "fundingFee": "0",
        "fundingSettle": 0,
        "id": order.order_id,
        "instrument": f.inst.symbol,
        "isProfession": 0,
        "leverage": order.leverage,
        "liquidateBy": liquidate_by(order.source),
        "margin": num(calc.position_margin(f.total, f.inst, f.price, order.leverage)),
        "netProfit": 0,
        "openId": order.position_id if order.position_id and order.position_id > 0 else 0,
        "openPrice": num(f.price),
        "orderId": order.order_id,
        "orderPrice": num(order.price if order.price is not None else ZERO),
        "orderStatus": "cancel",
        "originalType": original_type(order, f.tag),
        "positionMargin": 0,
        "positionModel": MODEL[order.margin_mode],
        "processStatus": 1,
        "quantity": num(f.quantity),
        "quantityUnit": f.unit,
        "source": "api",
        "status": order.trade_side.value,
        "takerMaker": 1,
        "totalPiece": num(f.total),
        "triggerPrice": num(order.trigger_price or ZERO),
        "triggerType": trigger_type(order, f.tag) or 0,
        "updatedDate": order.updated_ms,
        "userId": user_id(order.uid),
    }
    if f.tag.third_id is not None:
        row["thirdOrderId"] = f.tag.third_id
    return row


def trailing_row(book: Book, order: FuturesOrder) -> dict:
    """One trailing stop of GET /v1/perpum/moveTPSL: ids as strings, amounts numbers."""
    f = facts(book, order)
    margin, entry = trailing_margin(book, f)
    return {
        "baseSize": num(calc.base_of(f.total, f.inst)),
        "callbackRate": num(order.callback_rate),
        "contractType": 1,
        "createdDate": order.created_ms,
        "currentPiece": num(f.current),
        "direction": order.pos_side.value,
        "fee": "0",
        "finishStatus": 0,
        "fundingFee": "0",
        "id": str(order.order_id),
        "instrument": f.inst.symbol,
        "leverage": order.leverage,
        "margin": num(margin),
        "openId": str(order.position_id),
        "openPrice": num(entry),
        "orderPrice": 0,
        "originalType": MOVE_STOP,
        "posType": MOVE_STOP,
        "positionMargin": num(margin),
        "positionModel": MODEL[order.margin_mode],
        "processStatus": 0,
        "quantity": num(f.quantity),
        "quantityUnit": f.unit,
        "source": "api",
        "status": "open" if order.status.is_open else "close",
        "triggerPrice": num(order.trigger_price or ZERO),
        "triggerType": 1,
        "updatedDate": order.updated_ms,
        "userId": user_id(order.uid),
        "version": 0,
    }


# ---- positions ---------------------------------------------------------------------------------

def _opened_as(book: Book, pos: Position) -> tuple[str, int, Decimal]:
    """(originalType, quantityUnit, order price) of the order that opened a position."""
    opening = book.opening_order(pos)
    if opening is None:
        return "execute", 1, ZERO
    tag = Tag.decode(opening.tag)
    original = original_type(opening, tag)
    unit = tag.unit if tag.unit is not None else 1
    return original, unit, opening.price or ZERO


def position_row(book: Book, pos: Position) -> dict:
    """One position of GET /v1/perpum/positions and /positions/all: numbers, except fee and
    fundingFee (strings); the id a 19-digit number."""
    inst = book.inst(pos.symbol)
    mark = book.mark(inst)
    lot = inst.contract_size
    pieces = pos.size / lot
    closed = pos.closed_size / lot
    open_fee = book.open_fee(pos)
    original, unit, order_price = _opened_as(book, pos)
    upnl = unrealized_pnl(inst, pos, mark) if mark is not None else ZERO
    row = {
        "autoDeleveragingScore": 1,
        "base": inst.base.lower(),
        "baseSize": num(pos.size),
        "closedPiece": num(closed),
        "createdDate": pos.opened_ms,
        "currentPiece": num(pieces),
        "direction": pos.side.value,
        "fee": text(calc.shown_fee(open_fee)),
        "fundingFee": text(calc.shown_funding(pos.funding)),
        "fundingSettle": 0,
        "id": pos.position_id,
        "indexPrice": num(mark),
        "instrument": inst.symbol,
        "leverage": pos.leverage,
        "margin": num(calc.shown_margin(pos.margin, open_fee)),
        "openPrice": num(pos.entry_price),
        "orderPrice": num(order_price),
        "originalType": original,
        "posType": original,
        "positionMargin": num(pos.margin),
        "positionModel": MODEL[pos.margin_mode],
        "positionVersion": 0,
        "profitReal": num(fmt.round_to(pos.realized_pnl, 4)),
        "profitUnreal": num(fmt.round_to(upnl, 4)),
        "quantity": num(pos.margin),
        "quantityUnit": unit,
        "source": "api",
        "status": "open" if pos.open else "close",
        "totalPiece": num(pieces + closed),
        "updatedDate": pos.updated_ms,
        "userId": user_id(pos.uid),
    }
    liq = liquidation_price(inst, pos)
    if liq is not None:
        row["liquidationPrice"] = num(liq)
    if pos.sl_price is not None:
        row["stopLossPrice"] = num(pos.sl_price)
    if pos.tp_price is not None:
        row["stopProfitPrice"] = num(pos.tp_price)
    opening = book.opening_order(pos)
    third = Tag.decode(opening.tag).third_id if opening is not None else None
    if third is not None:
        row["thirdOrderId"] = third
    return row


def position_history_row(book: Book, pos: Position) -> dict:
    """One row of GET /v1/perpum/positions/history: strings, but positionModel and the start
    date; ids as strings."""
    inst = book.inst(pos.symbol)
    mark = book.mark(inst)
    total_base = pos.size + pos.closed_size
    total = total_base / inst.contract_size
    value = total_base * pos.entry_price
    original, _, _ = _opened_as(book, pos)
    opening = book.opening_order(pos)
    closes = [f for f in book.position_fills(pos) if f.trade_side is TradeSide.CLOSE]
    closed_by = "manual"
    if closes:
        last = closes[0]  # newest first
        order = book.order(last.order_id)
        closed_by = liquidate_by(order.source) if order is not None else "manual"
    row = {
        "avgOpenPrice": text(pos.entry_price),
        "completeUsdt": text(value),
        "direction": pos.side.value,
        "entrustUsdt": text(value),
        "fee": text(pos.fees),
        "havShortfall": False,
        "indexPrice": text(mark),
        "instrument": inst.symbol,
        "leverage": str(pos.leverage),
        "liquidateBy": closed_by,
        "margin": text(value / pos.leverage),
        "openId": str(pos.position_id),
        "orderId": str(opening.order_id) if opening is not None else "0",
        "orderStatus": "finish",
        "originalType": original,
        "positionModel": MODEL[pos.margin_mode],
        "status": "open" if pos.open else "close",
        "totalPiece": text(total),
        "tradePiece": text(total),
        "tradeStartDate": pos.opened_ms,
        "userId": str(pos.uid),
    }
    if pos.closed_size > 0:
        row["avgClosePrice"] = text(pos.avg_close_price)
        row["closedPiece"] = text(pos.closed_size / inst.contract_size)
        row["netProfit"] = text(pos.realized_pnl - pos.fees)
        row["tradeEndDate"] = pos.updated_ms
    return row


def tpsl_row(book: Book, *, ident: int, open_id: int, inst: Instrument, side, leverage: int,
             model: MarginMode, pieces: Decimal, price: Decimal, tp: Decimal | None,
             sl: Decimal | None, created_ms: int, updated_ms: int, uid: str,
             tp_limit: Decimal | None = None, sl_limit: Decimal | None = None,
             partial: bool = False) -> dict:
    """One TP / SL of GET /v1/perpum/TPSL: numbers throughout; unset sides left out. A limit
    price shows as stop...OrderPrice with type "plan"; a partial one (addTpsl) has stopType 1."""
    row = {
        "closePiece": num(pieces),
        "createdDate": created_ms,
        "currentPiece": num(pieces),
        "direction": side.value,
        "id": ident,
        "indexPrice": num(book.mark(inst)),
        "instrument": inst.symbol,
        "leverage": leverage,
        "openId": open_id,
        "positionModel": MODEL[model],
        "priceType": 3,
        "stopType": 1 if partial else 2,
        "triggerStatus": 0,
        "updatedDate": updated_ms,
        "userId": user_id(uid),
    }
    if sl is not None:
        row.update(stopLossPrice=num(sl), stopLossRate=num(calc.roe_rate(price, sl, leverage)),
                   stopLossType="execute" if sl_limit is None else "plan")
        if sl_limit is not None:
            row["stopLossOrderPrice"] = num(sl_limit)
    if tp is not None:
        row.update(stopProfitPrice=num(tp), stopProfitRate=num(calc.roe_rate(price, tp, leverage)),
                   stopProfitType="execute" if tp_limit is None else "plan")
        if tp_limit is not None:
            row["stopProfitOrderPrice"] = num(tp_limit)
    return row


def position_tpsl_order_row(book: Book, pos: Position) -> dict:
    """A position's TP / SL as an unfilled stopProfitLoss order of GET /v1/perpum/order (the
    seed's fields, its types)."""
    inst = book.inst(pos.symbol)
    mark = book.mark(inst)
    pieces = pos.size / inst.contract_size
    opening = book.opening_order(pos)
    tag = Tag.decode(opening.tag) if opening is not None else Tag()
    row = {
        "baseSize": num(pos.size),
        "contractType": 1,
        "createdDate": pos.opened_ms,
        "currentPiece": num(pieces),
        "direction": pos.side.value,
        "fee": "0",
        "frozenFee": "0",
        "id": book.tpsl_id(pos),
        "indexPrice": num(mark),
        "instrument": inst.symbol,
        "leverage": pos.leverage,
        "liquidateBy": "manual",
        "makerFee": text(inst.maker_fee),
        "margin": num(pos.margin),
        "orderPrice": 0,
        "orderStatus": "unFinish",
        "originalType": STOP_PROFIT_LOSS,
        "posType": STOP_PROFIT_LOSS,
        "positionMargin": num(pos.margin),
        "positionModel": MODEL[pos.margin_mode],
        "quantity": num(pieces),
        "quantityUnit": 1,
        "source": "api",
        "status": "close",
        "stopLossOrderPrice": num(pos.sl_execute),
        "stopLossPrice": num(pos.sl_price),
        "stopLossRate": num(calc.roe_rate(pos.entry_price, pos.sl_price, pos.leverage)),
        "stopProfitOrderPrice": num(pos.tp_execute),
        "stopProfitPrice": num(pos.tp_price),
        "stopProfitRate": num(calc.roe_rate(pos.entry_price, pos.tp_price, pos.leverage)),
        "takerFee": text(inst.taker_fee),
        "thirdOrderId": tag.third_id,
        "totalPiece": num(pieces),
        "triggerPrice": None,
        "triggerType": 1,
        "updatedDate": pos.updated_ms,
        "userId": user_id(pos.uid),
    }
    return present(row)


def paged(rows: list, page: int, size: int) -> dict:
    start = (page - 1) * size
    return {"nextId": 0, "prevId": 0, "rows": rows[start:start + size], "total": len(rows)}
