"""Perpetual futures: orders, positions, margin, fees, PnL, triggers and liquidation.

Venue-agnostic. A venue translates its parameters into these terms:
- an order has a book direction (`side`: buy adds long exposure), the position side it
  opens or closes (`pos_side`) and a `trade_side` (open / close);
- in one-way mode an order is netted: it first reduces the opposite position, then opens;
- positions merge per (user, symbol, side, margin mode) unless the account keeps every opening
  order as a position of its own (`merge_positions=False`);
- margin and fees are in the instrument's settle coin, held in the account named after the
  market (e.g. "usdt-futures"); position margin lives on the position.

Counterparty: every venue has a house account that takes the other side of each trade, receives
fees, pays profits and receives losses, so that across users, positions and the house nothing is
created or lost.

Fill model (as spot): market orders fill at the mark as taker; a limit order marketable on
arrival fills at the mark as taker; a resting limit order fills at its own price as maker when a
price move reaches it. A price move fires everything it crosses in price order along the path:
resting orders, plan orders, TP/SL orders, position TP/SL, trailing stops, isolated
liquidations and the liquidation of an account's crossed positions.
"""

from __future__ import annotations

from contextlib import contextmanager
import heapq
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Callable, Protocol

from localex.engine import accounts
from localex.engine.errors import (
    HasOpenPositions,
    InstrumentNotTrading,
    InsufficientBalance,
    InvalidOrder,
    InvalidTrigger,
    LeverageOutOfRange,
    NoMarkPrice,
    NonPositive,
    NoPosition,
    NotAContract,
    NotIsolated,
    OrderNotCancellable,
    OrderNotFound,
    PositionTooSmall,
    PricePrecision,
    SizePrecision,
    TierLeverageExceeded,
    BelowMinimumSize,
    DuplicateClientOid,
    UnknownInstrument,
)
from localex.engine.model import (
    ZERO,
    Bill,
    CancelReason,
    FuturesAccount,
    FuturesFill,
    FuturesOrder,
    FuturesStatus,
    Instrument,
    Liquidity,
    MarginMode,
    OrderKind,
    OrderType,
    Position,
    PositionMode,
    PositionSide,
    Side,
    SymbolSettings,
    TimeInForce,
    TradeSide,
    User,
)
from localex.engine.orders import cancellable, find_order
from localex.engine.spot import scale_of
from localex.engine.fills import (
    IMMEDIATE,
    LATENCY,
    LIQUIDITY,
    MANUAL,
    Ladder,
    immediate,
    size_grid,
    takes_liquidity,
)

UNCHANGED = object()  # "leave this setting as it is"
MONEY_STEP = Decimal("1e-16")  # every amount of money the engine computes is cut to this


def money(value: Decimal) -> Decimal:
    """Divisions (margin, shares, inverse PnL) are rounded here, once, so that every later sum
    is exact and money is conserved to the last digit."""
    return value.quantize(MONEY_STEP)
HOUSE_ACCOUNT = "house"
# why a take-profit / stop-loss order exists (FuturesOrder.source), by kind
STOP_SOURCES = {"tp": "take_profit", "sl": "stop_loss"}
FUNDING_KIND = "funding"  # a position's funding payment, in its owner's bills
FUNDING_RATE_KIND = "funding_rate"  # a settled rate, in the house's bills


def house_uid(venue: str) -> str:
    return f"house:{venue}"


def book_side(pos_side: PositionSide, trade_side: TradeSide) -> Side:
    """Opening a long or closing a short buys; the rest sells."""
    buys = (pos_side is PositionSide.LONG) == (trade_side is TradeSide.OPEN)
    return Side.BUY if buys else Side.SELL


# ---- contract arithmetic ---------------------------------------------------------------------

def notional(inst: Instrument, price: Decimal, size: Decimal) -> Decimal:
    """Position value in the settle coin (inverse contracts: the size itself, in coin)."""
    return size if inst.inverse else price * size


def pnl(inst: Instrument, side: PositionSide, entry: Decimal, exit_: Decimal, size: Decimal) -> Decimal:
    if inst.inverse:
        return size * (1 - entry / exit_) * side.sign
    return (exit_ - entry) * size * side.sign


def position_value(inst: Instrument, pos: Position) -> Decimal:
    """What places a position in its contract's tiers: its size at its average open price (an
    inverse contract's size is its value in coin)."""
    return notional(inst, pos.entry_price, pos.size)


def maintenance_rate(inst: Instrument, pos: Position) -> Decimal:
    """The maintenance margin rate of the tier the position's value falls in."""
    return inst.tier_for(position_value(inst, pos)).maintenance_rate


def liquidation_price(inst: Instrument, pos: Position) -> Decimal | None:
    """Where margin + unrealized PnL falls to the maintenance margin (isolated positions), at
    the maintenance rate of the position's tier."""
    if pos.margin_mode is not MarginMode.ISOLATED or pos.size <= 0:
        return None
    s, e, m, r = pos.size, pos.entry_price, pos.margin, maintenance_rate(inst, pos)
    if inst.inverse:
        denom = m + s * (1 - r) if pos.side is PositionSide.LONG else s * (1 + r) - m
        price = s * e / denom if denom > 0 else None
    elif pos.side is PositionSide.LONG:
        price = (e * s - m) / (s * (1 - r))
    else:
        price = (m + e * s) / (s * (1 + r))
    if price is None or price <= 0:
        return None
    return price.quantize(Decimal(1).scaleb(-inst.price_scale))


def unrealized_pnl(inst: Instrument, pos: Position, mark: Decimal) -> Decimal:
    return pnl(inst, pos.side, pos.entry_price, mark, pos.size)


# ---- events on a price move ------------------------------------------------------------------

# what fires first when several things sit at the same price
PRIORITY_LIQUIDATION, PRIORITY_STOP, PRIORITY_PLAN, PRIORITY_TRAILING, PRIORITY_LIMIT = range(5)


@dataclass(order=True)
class Event:
    """Something a price move crosses: fired at `price`, in path order."""

    sort_key: tuple = field(init=False, repr=False)
    price: Decimal = field(compare=False)
    priority: int = field(compare=False)
    ident: int = field(compare=False)
    fire: Callable = field(compare=False)  # fire(uow) -> None

    def key(self, rising: bool) -> tuple:
        return (self.price if rising else -self.price, self.priority, self.ident)


class FuturesListener(Protocol):
    """Whatever builds on futures (copy trading) may refuse orders, hears of completed orders
    and may add events to a price move."""

    def before_place(self, uow, user: User, inst: Instrument, *, pos_side: PositionSide,
                     trade_side: TradeSide, size: Decimal, position_id: int | None,
                     source: str) -> None: ...

    def on_order_filled(self, uow, order: FuturesOrder, position: Position) -> None: ...

    def collect_events(self, uow, inst: Instrument, old: Decimal, new: Decimal) -> list[Event]: ...


def crossed(old: Decimal, new: Decimal, level: Decimal, upward: bool) -> bool:
    """Does the move old -> new reach `level` going the given way?"""
    return new >= level if upward else new <= level


class FuturesBook:
    def __init__(self, ids, clock, default_margin_modes: dict[str, MarginMode] | None = None) -> None:
        self.ids = ids
        self.clock = clock
        self.listeners: list[FuturesListener] = []
        self.models = None  # FillModels; None: every order fills immediately
        self.tape = None  # the market tape, told of every fill (engine/tape.py)
        # a symbol's margin mode before its owner sets one, per venue (crossed elsewhere)
        self.default_margin_modes = dict(default_margin_modes or {})
        # venues whose accounts report every trade, liquidation and margin change as a bill
        self.trade_bills: set[str] = set()
        # during a price move: the limit orders that entered the book on the way (on_mark)
        self._rested: list[tuple[str, int]] | None = None
        # within known_stops(): the positions that may have open stop orders (None: any may)
        self._stops_of: set[int] | None = None

    @contextmanager
    def known_stops(self, uow, inst: Instrument):
        """Within the block, a position that closes looks for its open stop orders (to cancel
        them) only if the instrument had some for it as the block began: one statement for a
        whole batch of closes instead of one per close. Closing creates no stop orders."""
        found = {o.position_id for o in uow.list_futures_orders(
            venue=inst.venue, market=inst.market, symbol=inst.symbol, open_only=True,
            kinds=[OrderKind.STOP])}
        outer, self._stops_of = self._stops_of, found if self._stops_of is None else self._stops_of | found
        try:
            yield
        finally:
            self._stops_of = outer

    # ---- look-ups -----------------------------------------------------------------------------
    def instrument(self, uow, venue: str, market: str, symbol: str) -> Instrument:
        inst = uow.get_instrument(venue, market, symbol)
        if inst is None:
            raise UnknownInstrument(symbol, symbol=symbol)
        if not inst.is_contract:
            raise NotAContract(symbol, symbol=symbol)
        return inst

    def mark(self, uow, inst: Instrument) -> Decimal | None:
        row = uow.get_mark(inst.key)
        return row.price if row else None

    def settings(self, uow, uid: str, inst: Instrument) -> SymbolSettings:
        mode = self.default_margin_modes.get(inst.venue, MarginMode.CROSSED)
        default = SymbolSettings(uid, inst.market, inst.symbol, mode,
                                 min(20, inst.max_leverage), min(20, inst.max_leverage))
        return uow.get_symbol_settings(uid, inst.market, inst.symbol, default)

    def _open_positions(self, uow, uid: str, inst: Instrument, side: PositionSide | None = None) -> list[Position]:
        return uow.list_positions(uid, market=inst.market, symbol=inst.symbol, open_only=True, side=side)

    def _open_orders(self, uow, uid: str, inst: Instrument | None = None, market: str | None = None) -> list[FuturesOrder]:
        return uow.list_futures_orders(uid, market=inst.market if inst else market,
                                       symbol=inst.symbol if inst else None, open_only=True)

    # ---- account settings -----------------------------------------------------------------------
    def set_position_mode(self, uow, uid: str, market: str, mode: PositionMode) -> FuturesAccount:
        acct = uow.get_futures_account(uid, market)
        if acct.position_mode is mode:
            return acct
        if uow.list_positions(uid, market=market, open_only=True) or self._open_orders(uow, uid, market=market):
            raise HasOpenPositions("positions or orders exist")
        acct.position_mode = mode
        uow.put_futures_account(acct)
        return acct

    def set_merge_positions(self, uow, uid: str, market: str, merge: bool) -> FuturesAccount:
        acct = uow.get_futures_account(uid, market)
        if acct.merge_positions == merge:
            return acct
        if uow.list_positions(uid, market=market, open_only=True) or self._open_orders(uow, uid, market=market):
            raise HasOpenPositions("positions or orders exist")
        acct.merge_positions = merge
        uow.put_futures_account(acct)
        return acct

    def set_leverage(self, uow, uid: str, inst: Instrument, leverage: int,
                     side: PositionSide | None = None) -> SymbolSettings:
        if not inst.min_leverage <= leverage <= inst.max_leverage:
            raise LeverageOutOfRange("leverage out of range", minimum=inst.min_leverage,
                                     maximum=inst.max_leverage)
        st = self.settings(uow, uid, inst)
        # an open position may use no more than its tier's leverage
        sides = None if side is None or st.margin_mode is MarginMode.CROSSED else {side}
        for pos in self._open_positions(uow, uid, inst):
            if sides is None or pos.side in sides:
                allowed = inst.tier_for(position_value(inst, pos)).max_leverage
                if leverage > allowed:
                    raise LeverageOutOfRange("above the position tier's leverage",
                                             minimum=inst.min_leverage, maximum=allowed)
        if side is None or st.margin_mode is MarginMode.CROSSED:
            st.long_leverage = st.short_leverage = leverage
        elif side is PositionSide.LONG:
            st.long_leverage = leverage
        else:
            st.short_leverage = leverage
        uow.put_symbol_settings(st)
        return st

    def set_margin_mode(self, uow, uid: str, inst: Instrument, mode: MarginMode) -> SymbolSettings:
        st = self.settings(uow, uid, inst)
        if st.margin_mode is mode:
            return st
        if self._open_positions(uow, uid, inst) or self._open_orders(uow, uid, inst):
            raise HasOpenPositions("positions or orders exist")
        st.margin_mode = mode
        if mode is MarginMode.CROSSED:
            st.short_leverage = st.long_leverage
        uow.put_symbol_settings(st)
        return st

    # ---- placing ---------------------------------------------------------------------------------
    def place(self, uow, user: User, inst: Instrument, *, pos_side: PositionSide,
              trade_side: TradeSide, order_type: OrderType, size: Decimal,
              price: Decimal | None = None, force: TimeInForce = TimeInForce.GTC,
              reduce_only: bool = False, client_oid: str | None = None,
              tp_price: Decimal | None = None, sl_price: Decimal | None = None,
              trigger_price: Decimal | None = None, position_id: int | None = None,
              leverage: int | None = None, margin_mode: MarginMode | None = None,
              source: str = "api", tag: str = "", new_position: bool = False,
              callback_rate: Decimal | None = None, tp_execute: Decimal | None = None,
              sl_execute: Decimal | None = None) -> FuturesOrder:
        """Accept an order (and fill what the fill model fills at once). A trigger_price makes
        it a plan order that waits for the mark to cross it; with a callback_rate it is a
        trailing trigger order (trigger_price its activation price) that fires when the mark
        falls back callback_rate from its best level. position_id aims a close at one position;
        new_position opens a position of its own even where positions merge. tp_execute /
        sl_execute: the preset TP / SL closes at that limit price rather than at market."""
        if inst.status != "online":
            raise InstrumentNotTrading(f"{inst.symbol} is not trading", symbol=inst.symbol)
        for listener in self.listeners:
            listener.before_place(uow, user, inst, pos_side=pos_side, trade_side=trade_side, size=size,
                                  position_id=position_id, source=source)
        if size <= 0:
            raise NonPositive("size must be positive", field="size")
        if callback_rate is not None and not Decimal(0) < callback_rate < Decimal(1):
            raise NonPositive("callback rate must be between 0 and 1", field="callbackRatio")
        for level in (tp_execute, sl_execute):
            if level is not None and scale_of(level) > inst.price_scale:
                raise PricePrecision("price scale", value=level, scale=inst.price_scale)
        if scale_of(size) > inst.size_scale or (size % inst.contract_size) != 0:
            raise SizePrecision("size scale", value=size, scale=inst.size_scale)
        if size < inst.min_size:
            raise BelowMinimumSize("size below minimum", minimum=inst.min_size)
        if order_type is OrderType.LIMIT:
            if price is None or price <= 0:
                raise NonPositive("price must be positive", field="price")
            if scale_of(price) > inst.price_scale:
                raise PricePrecision("price scale", value=price, scale=inst.price_scale)
        else:
            price = None
        if client_oid and uow.get_futures_order_by_client_oid(user.uid, client_oid) is not None:
            raise DuplicateClientOid(client_oid, client_oid=client_oid)
        mark = self.mark(uow, inst)
        if mark is None and (trigger_price is not None or callback_rate is not None
                             or order_type is OrderType.MARKET):
            raise NoMarkPrice(f"{inst.symbol} has no price yet", symbol=inst.symbol)
        acct = uow.get_futures_account(user.uid, inst.market)
        st = self.settings(uow, user.uid, inst)
        margin_mode = margin_mode or st.margin_mode
        leverage = leverage or st.leverage(pos_side)
        if not inst.min_leverage <= leverage <= inst.max_leverage:
            raise LeverageOutOfRange("leverage out of range", minimum=inst.min_leverage,
                                     maximum=inst.max_leverage)
        if trade_side is TradeSide.CLOSE:
            self._check_closable(uow, user.uid, inst, pos_side, size, position_id)
            reduce_only = True
        elif reduce_only and acct.position_mode is PositionMode.ONE_WAY:
            opposite = sum((p.size for p in self._open_positions(uow, user.uid, inst, pos_side.opposite)), ZERO)
            if opposite <= 0:
                raise NoPosition("nothing to reduce")
            if size > opposite:
                raise PositionTooSmall("reduce-only exceeds the position", available=opposite)
        reference = price if price is not None else (trigger_price or mark)
        for kind, level in (("tp", tp_price), ("sl", sl_price)):
            if level is not None and trade_side is TradeSide.OPEN and mark is not None:
                self._check_stop(kind, pos_side, level, mark)
        now = self.clock.now_ms()
        frozen = ZERO
        if trade_side is TradeSide.OPEN and not reduce_only:
            opening = size
            if acct.position_mode is PositionMode.ONE_WAY:
                opposite = sum((p.size for p in self._open_positions(uow, user.uid, inst, pos_side.opposite)), ZERO)
                opening = max(ZERO, size - opposite)
            if opening > 0:
                value = notional(inst, reference, opening)
                self._check_tier(uow, user.uid, inst, pos_side, margin_mode, leverage, value, position_id)
                frozen = money(value / leverage + value * inst.taker_fee)
                try:
                    accounts.freeze(uow, user.uid, inst.market, inst.settle, frozen, now)
                except InsufficientBalance:
                    raise InsufficientBalance("insufficient balance", asset=inst.settle) from None
        order_id = self.ids.next_id(uow, user.venue, now)
        trigger_above = None if trigger_price is None else trigger_price >= mark
        kind = OrderKind.PLAN if trigger_price is not None else OrderKind.REGULAR
        if callback_rate is not None:
            kind, trigger_above = OrderKind.TRAILING, None
        order = FuturesOrder(
            order_id=order_id, uid=user.uid, venue=user.venue, market=inst.market, symbol=inst.symbol,
            client_oid=client_oid or str(self.ids.next_id(uow, user.venue, now)),
            kind=kind,
            side=book_side(pos_side, trade_side), pos_side=pos_side, trade_side=trade_side,
            order_type=order_type, force=force, price=price, size=size, reduce_only=reduce_only,
            status=FuturesStatus.LIVE if kind is OrderKind.REGULAR else FuturesStatus.UNTRIGGERED,
            filled_size=ZERO, filled_quote=ZERO, fee=ZERO, realized_pnl=ZERO, leverage=leverage,
            margin_mode=margin_mode, frozen=frozen, position_id=position_id, tp_price=tp_price,
            sl_price=sl_price, trigger_price=trigger_price, trigger_above=trigger_above,
            callback_rate=callback_rate,
            extreme_price=mark if callback_rate is not None and trigger_price is None else None,
            source=source, cancel_reason=CancelReason.NONE, created_ms=now, updated_ms=now, tag=tag,
            tp_execute=tp_execute if tp_price is not None else None,
            sl_execute=sl_execute if sl_price is not None else None,
        )
        if new_position:
            order.position_id = -1  # opens a position of its own
        uow.insert_futures_order(order)
        if order.kind is OrderKind.REGULAR:
            model = self._model(uow, inst, order)
            if model.kind == LATENCY and model.params["ms"] > 0 and takes_liquidity(order.side, order.price, mark):
                # it reaches the book later (arrive); until then it is live and can be cancelled
                order.due_ms = now + model.params["ms"]
                uow.update_futures_order(order)
                self.models.scheduled(order.due_ms)
            else:
                self._on_live(uow, inst, order, mark, model)
        return order

    def _check_tier(self, uow, uid: str, inst: Instrument, pos_side: PositionSide, margin_mode: MarginMode,
                    leverage: int, value: Decimal, position_id: int | None) -> None:
        """An opening worth `value` at `leverage` may not take the position it joins (the open
        ones of that side and margin mode, or the one it aims at) past the largest value the
        tiers allow at that leverage; resting openings of that side count as filled."""
        limit = inst.max_value_at(leverage)
        if limit is None:
            return
        total = value
        for pos in self._open_positions(uow, uid, inst, pos_side):
            if pos.margin_mode is margin_mode and position_id in (None, pos.position_id):
                total += position_value(inst, pos)
        for order in self._open_orders(uow, uid, inst):
            if order.trade_side is TradeSide.OPEN and not order.reduce_only and order.pos_side is pos_side \
                    and order.margin_mode is margin_mode and order.kind is OrderKind.REGULAR:
                ref = order.price if order.price is not None else (self.mark(uow, inst) or ZERO)
                total += notional(inst, ref, order.size - order.filled_size)
        if total > limit:
            raise TierLeverageExceeded("the position would pass its tier at this leverage",
                                       leverage=leverage, maximum_value=limit)

    def _check_stop(self, kind: str, side: PositionSide, level: Decimal, mark: Decimal) -> None:
        profit_above = side is PositionSide.LONG
        if kind == "tp" and (level <= mark if profit_above else level >= mark):
            raise InvalidTrigger("take-profit on the wrong side", kind=kind, side=side.value, mark=mark)
        if kind == "sl" and (level >= mark if profit_above else level <= mark):
            raise InvalidTrigger("stop-loss on the wrong side", kind=kind, side=side.value, mark=mark)

    def _check_closable(self, uow, uid: str, inst: Instrument, pos_side: PositionSide, size: Decimal,
                        position_id: int | None) -> None:
        if position_id is not None:
            pos = uow.get_position(position_id)
            if pos is None or pos.uid != uid or not pos.open or pos.symbol != inst.symbol:
                raise NoPosition("no such position")
            held = pos.size
        else:
            held = sum((p.size for p in self._open_positions(uow, uid, inst, pos_side)), ZERO)
        if held <= 0:
            raise NoPosition("no position to close")
        pending = sum((o.size - o.filled_size for o in self._open_orders(uow, uid, inst)
                       if o.trade_side is TradeSide.CLOSE and o.pos_side is pos_side
                       and o.kind is not OrderKind.STOP
                       and (position_id is None or o.position_id == position_id)), ZERO)
        if size > held - pending:
            raise PositionTooSmall("close exceeds the position", available=held - pending)

    def _on_live(self, uow, inst: Instrument, order: FuturesOrder, mark: Decimal | None,
                 model=None) -> None:
        """A regular order has just entered the book: fill it now or let it rest (as the fill
        model says; None: immediately)."""
        self._enter_book(uow, inst, order, mark, model)
        self._rests(order)

    def _enter_book(self, uow, inst: Instrument, order: FuturesOrder, mark: Decimal | None,
                    model=None) -> None:
        kind = model.kind if model is not None else IMMEDIATE
        if kind == MANUAL:  # waits for the control plane
            uow.update_futures_order(order)
            return
        if kind == LIQUIDITY and takes_liquidity(order.side, order.price, mark) and (
                order.order_type is OrderType.MARKET or order.force is not TimeInForce.POST_ONLY):
            self._sweep(uow, inst, order, mark, Ladder.of(model, inst))  # type: ignore[arg-type]
            return
        if order.order_type is OrderType.MARKET:
            self._fill(uow, inst, order, mark, order.size - order.filled_size, Liquidity.TAKER)
            return
        marketable = mark is not None and (
            (order.side is Side.BUY and mark <= order.price) or (order.side is Side.SELL and mark >= order.price))
        if marketable and order.force is TimeInForce.POST_ONLY:
            self._cancel(uow, order, CancelReason.POST_ONLY)
        elif marketable:
            self._fill(uow, inst, order, mark, order.size - order.filled_size, Liquidity.TAKER)
        elif order.force is TimeInForce.IOC:
            self._cancel(uow, order, CancelReason.IOC)
        elif order.force is TimeInForce.FOK:
            self._cancel(uow, order, CancelReason.FOK)
        else:
            uow.update_futures_order(order)

    # ---- fill models -----------------------------------------------------------------------------
    def _model(self, uow, inst: Instrument, order: FuturesOrder):
        """The fill model an order meets: its instrument's, for orders users send; orders the
        engine makes (TP/SL, liquidations, trailing stops, copies) fill immediately."""
        if self.models is None or order.source != "api":
            return immediate()
        return self.models.for_instrument(uow, inst)

    def _resting_share(self, uow, inst: Instrument, order: FuturesOrder) -> Decimal | None:
        """How much of a resting order one price move may fill: None all of it, 0 nothing
        (manual model), else the liquidity model's size per level."""
        model = self._model(uow, inst, order)
        if model.kind == MANUAL:
            return ZERO
        return Ladder.of(model, inst).size if model.kind == LIQUIDITY else None

    def _sweep(self, uow, inst: Instrument, order: FuturesOrder, mark: Decimal, ladder: Ladder) -> None:
        """A taking order under the liquidity model: fill level by level from the mark, up to
        `ladder.size` each, never beyond a limit order's price; then settle what is left (a
        market or ioc order's rest is cancelled, a gtc order's rests; fok all or nothing)."""
        left = order.size - order.filled_size
        plan: list[tuple[Decimal, Decimal]] = []
        for price in ladder.prices(inst, order.side, mark, order.price):
            if left <= 0:
                break
            qty = min(ladder.size, left)
            plan.append((price, qty))
            left -= qty
        if order.order_type is OrderType.LIMIT and order.force is TimeInForce.FOK and left > 0:
            self._cancel(uow, order, CancelReason.FOK)
            return
        for i, (price, qty) in enumerate(plan):
            if not order.status.is_open:
                break
            if i == 0:  # the best level: a refusal here refuses the order, as it would immediately
                self._fill(uow, inst, order, price, qty, Liquidity.TAKER)
                continue
            try:
                with uow.savepoint():
                    self._fill(uow, inst, order, price, qty, Liquidity.TAKER)
            except (InsufficientBalance, NoPosition):
                # a worse level costs more margin than is left: stop here
                order.__dict__.update(uow.get_futures_order(order.uid, order.order_id).__dict__)
                break
        if order.status.is_open and (order.order_type is OrderType.MARKET
                                     or order.force in (TimeInForce.IOC, TimeInForce.FOK)):
            self._cancel(uow, order, CancelReason.IOC)  # the rest finds no liquidity

    # ---- filling ---------------------------------------------------------------------------------
    def _house(self, uow, venue: str, asset: str, delta: Decimal, now: int) -> None:
        accounts.move(uow, house_uid(venue), HOUSE_ACCOUNT, asset, available=delta, now_ms=now,
                      allow_negative=True)

    def _fill(self, uow, inst: Instrument, order: FuturesOrder, price: Decimal, size: Decimal,
              liquidity: Liquidity) -> None:
        """Fill `size` of the order at `price`: in one-way mode, reduce the opposite side first."""
        now = self.clock.now_ms()
        remaining_before = order.size - order.filled_size
        # the share of the order's frozen funds this fill releases
        release = order.frozen if size >= remaining_before else money(order.frozen * size / remaining_before)
        if release > 0:
            accounts.release(uow, order.uid, inst.market, inst.settle, release, now)
            order.frozen -= release
        rate = inst.maker_fee if liquidity is Liquidity.MAKER else inst.taker_fee
        left, unreduced = size, ZERO
        if order.trade_side is TradeSide.CLOSE:
            left = self._close(uow, inst, order, price, left, rate, liquidity, now)
            if left > 0:
                # the position shrank or closed some other way (a TP/SL, another close): only
                # what was there trades; the rest of the order is cancelled
                unreduced, size, left = left, size - left, ZERO
        elif uow.get_futures_account(order.uid, inst.market).position_mode is PositionMode.ONE_WAY:
            left = self._close(uow, inst, order, price, left, rate, liquidity, now, netting=True)
            if order.reduce_only:
                # a reduce-only order trades only what is left to reduce; the rest is cancelled
                unreduced, size, left = left, size - left, ZERO
        if left > 0 and order.trade_side is TradeSide.OPEN and not order.reduce_only:
            self._open(uow, inst, order, price, left, rate, liquidity, now)
        order.filled_size += size
        order.filled_quote += price * size
        complete = order.filled_size >= order.size
        order.status = FuturesStatus.FILLED if complete else FuturesStatus.PARTIALLY_FILLED
        if unreduced > 0:
            order.status = FuturesStatus.CANCELLED
            order.cancel_reason = CancelReason.NONE
        if complete and order.frozen > 0:
            accounts.release(uow, order.uid, inst.market, inst.settle, order.frozen, now)
            order.frozen = ZERO
        order.updated_ms = now
        uow.update_futures_order(order)
        if complete and order.trade_side is TradeSide.OPEN and order.position_id and order.position_id > 0:
            position = uow.get_position(order.position_id)
            for listener in self.listeners:
                listener.on_order_filled(uow, order, position)

    def _record_fill(self, uow, inst: Instrument, order: FuturesOrder, price: Decimal, size: Decimal,
                     trade_side: TradeSide, pos_side: PositionSide, fee: Decimal, realized: Decimal,
                     liquidity: Liquidity, position_id: int, now: int) -> None:
        trade_id = self.ids.next_id(uow, order.venue, now)
        if order.venue in self.trade_bills:
            if order.source == "liquidation":
                kind = f"liquidation_{pos_side.value}"
            else:
                kind = f"{trade_side.value}_{pos_side.value}"
            uow.insert_bill(Bill(
                bill_id=self.ids.next_id(uow, order.venue, now), uid=order.uid, venue=order.venue,
                account=inst.market, asset=inst.settle, symbol=inst.symbol, kind=kind,
                amount=realized, balance=uow.get_balance(order.uid, inst.market, inst.settle, shared=True).available,
                ref_id=order.order_id, created_ms=now, fee=-fee), given=True)
        uow.insert_futures_fill(FuturesFill(
            trade_id=trade_id, order_id=order.order_id, uid=order.uid,
            venue=order.venue, market=inst.market, symbol=inst.symbol, side=order.side,
            pos_side=pos_side, trade_side=trade_side, price=price, size=size, quote=price * size,
            fee=fee, realized_pnl=realized, liquidity=liquidity, position_id=position_id,
            created_ms=now), given=True)
        if self.tape is not None:
            taker = order.side if liquidity is Liquidity.TAKER else (
                Side.SELL if order.side is Side.BUY else Side.BUY)
            self.tape.on_fill(uow, inst, taker, price, size, now, trade_id)

    def _open(self, uow, inst: Instrument, order: FuturesOrder, price: Decimal, size: Decimal,
              rate: Decimal, liquidity: Liquidity, now: int) -> Position:
        value = notional(inst, price, size)
        margin = money(value / order.leverage)
        fee = money(value * rate)
        try:
            accounts.move(uow, order.uid, inst.market, inst.settle, available=-(margin + fee), now_ms=now)
        except InsufficientBalance:
            raise InsufficientBalance("insufficient balance", asset=inst.settle) from None
        self._house(uow, order.venue, inst.settle, fee, now)
        acct = uow.get_futures_account(order.uid, inst.market)
        pos = None
        if order.position_id and order.position_id > 0:
            pos = uow.get_position(order.position_id)
        elif acct.merge_positions and order.position_id != -1:
            for candidate in self._open_positions(uow, order.uid, inst, order.pos_side):
                if candidate.margin_mode is order.margin_mode:
                    pos = candidate
                    break
        if pos is None:
            pos = Position(
                position_id=self.ids.next_id(uow, order.venue, now, kind="position"), uid=order.uid,
                venue=order.venue, market=inst.market, symbol=inst.symbol, side=order.pos_side,
                margin_mode=order.margin_mode, leverage=order.leverage, size=ZERO, entry_price=ZERO,
                margin=ZERO, realized_pnl=ZERO, fees=ZERO, funding=ZERO, tp_price=order.tp_price,
                sl_price=order.sl_price, open=True, opened_ms=now, updated_ms=now,
                tag=order.client_oid, tp_execute=order.tp_execute, sl_execute=order.sl_execute)
            pos.tp_id = self.ids.next_id(uow, order.venue, now) if pos.tp_price is not None else None
            pos.sl_id = self.ids.next_id(uow, order.venue, now) if pos.sl_price is not None else None
            uow.insert_position(pos)
        elif order.tp_price is not None or order.sl_price is not None:
            if order.tp_price is not None:
                pos.tp_price, pos.tp_execute = order.tp_price, order.tp_execute
                pos.tp_id = pos.tp_id or self.ids.next_id(uow, order.venue, now)
            if order.sl_price is not None:
                pos.sl_price, pos.sl_execute = order.sl_price, order.sl_execute
                pos.sl_id = pos.sl_id or self.ids.next_id(uow, order.venue, now)
        if inst.inverse:
            # average entry of an inverse contract is harmonic
            pos.entry_price = (pos.size + size) / (pos.size / pos.entry_price + size / price) \
                if pos.size else price
        else:
            pos.entry_price = (pos.entry_price * pos.size + price * size) / (pos.size + size)
        pos.size += size
        pos.margin += margin
        pos.fees += fee
        pos.updated_ms = now
        uow.update_position(pos)
        order.fee += fee
        order.position_id = pos.position_id
        self._record_fill(uow, inst, order, price, size, TradeSide.OPEN, order.pos_side, fee, ZERO,
                          liquidity, pos.position_id, now)
        return pos

    def _close(self, uow, inst: Instrument, order: FuturesOrder, price: Decimal, size: Decimal,
               rate: Decimal, liquidity: Liquidity, now: int, netting: bool = False) -> Decimal:
        """Close up to `size` against the order's target position(s); returns what is left."""
        side = order.pos_side.opposite if netting else order.pos_side
        if order.position_id and order.position_id > 0 and not netting:
            targets = [p for p in [uow.get_position(order.position_id)] if p is not None and p.open]
        else:
            targets = self._open_positions(uow, order.uid, inst, side)
        left = size
        for pos in targets:
            if left <= 0:
                break
            take = min(left, pos.size)
            realized, fee = self.reduce_position(uow, inst, pos, price, take, rate, now)
            order.fee += fee
            order.realized_pnl += realized
            self._record_fill(uow, inst, order, price, take, TradeSide.CLOSE, pos.side, fee, realized,
                              liquidity, pos.position_id, now)
            left -= take
        return left

    def reduce_position(self, uow, inst: Instrument, pos: Position, price: Decimal, size: Decimal,
                        rate: Decimal, now: int, liquidation: bool = False) -> tuple[Decimal, Decimal]:
        """Take `size` off a position at `price`: (realized PnL, fee). The margin it held goes back
        to the owner with the PnL, less the fee; the house is the other side."""
        share = pos.margin if size >= pos.size else money(pos.margin * size / pos.size)
        realized = money(pnl(inst, pos.side, pos.entry_price, price, size))
        fee = ZERO if liquidation else money(notional(inst, price, size) * rate)
        credit = share + realized - fee
        if liquidation or (credit < 0 and pos.margin_mode is MarginMode.ISOLATED):
            credit = max(credit, ZERO) if not liquidation else ZERO
        if credit < 0:  # a crossed loss beyond the position's margin comes out of the account
            bal = uow.get_balance(pos.uid, inst.market, inst.settle)
            credit = max(credit, -bal.available)
        realized = credit - share + fee  # what the owner really gained or lost
        accounts.move(uow, pos.uid, inst.market, inst.settle, available=credit, now_ms=now)
        self._house(uow, pos.venue, inst.settle, share - credit, now)
        pos.size -= size
        pos.margin -= share
        pos.realized_pnl += realized
        pos.fees += fee
        pos.closed_size += size
        pos.close_value += price * size
        pos.updated_ms = now
        if pos.size <= 0:
            for kind in ("tp", "sl"):  # the position's own TP / SL go with it, unfired
                self._end_position_stop(uow, pos, kind, size, now)
            pos.open = False
            pos.size = ZERO
            pos.margin = ZERO
            if self._stops_of is None or pos.position_id in self._stops_of:
                for order in uow.list_futures_orders(pos.uid, market=pos.market, symbol=pos.symbol,
                                                     open_only=True, kinds=[OrderKind.STOP]):
                    if order.position_id == pos.position_id:
                        self._cancel(uow, order, CancelReason.NONE)
        uow.update_position(pos, given=True)  # every caller only reads pos from here on
        return realized, fee

    # ---- cancelling ------------------------------------------------------------------------------
    def _cancel(self, uow, order: FuturesOrder, reason: CancelReason) -> FuturesOrder:
        now = self.clock.now_ms()
        if order.frozen > 0:
            inst = uow.get_instrument(order.venue, order.market, order.symbol)
            accounts.release(uow, order.uid, order.market, inst.settle, order.frozen, now)
        order.frozen = ZERO
        order.status = FuturesStatus.CANCELLED
        order.cancel_reason = reason
        order.updated_ms = now
        uow.update_futures_order(order)
        return order

    def cancel(self, uow, uid: str, order_id: int | None, client_oid: str | None,
               symbol: str | None = None) -> FuturesOrder:
        order = cancellable(self.find(uow, uid, order_id, client_oid), symbol)
        return self._cancel(uow, order, CancelReason.USER)

    def find(self, uow, uid: str, order_id: int | None, client_oid: str | None) -> FuturesOrder | None:
        return find_order(uid, order_id, client_oid, uow.get_futures_order,
                          uow.get_futures_order_by_client_oid)

    # ---- arrivals, manual fills and rejections (fill models) ------------------------------------
    def arrive(self, uow, order: FuturesOrder) -> None:
        """A latency-delayed order reaches the book: it is treated as placed now, at the mark. If
        it can no longer be filled (margin, position gone) it is cancelled."""
        inst = self.instrument(uow, order.venue, order.market, order.symbol)
        mark = self.mark(uow, inst)
        order.due_ms = None
        if order.trade_side is TradeSide.CLOSE:  # the position may have closed meanwhile
            if order.position_id and order.position_id > 0:
                pos = uow.get_position(order.position_id)
                held = pos.size if pos is not None and pos.open else ZERO
            else:
                held = sum((p.size for p in self._open_positions(uow, order.uid, inst, order.pos_side)), ZERO)
            if held <= 0:
                self._cancel(uow, order, CancelReason.NONE)
                return
        model = self._model(uow, inst, order)
        if model.kind == LATENCY:
            model = immediate(model.scope)
        try:
            with uow.savepoint():
                self._on_live(uow, inst, order, mark, model)
        except (InsufficientBalance, NoPosition, PositionTooSmall):
            order = uow.get_futures_order(order.uid, order.order_id)
            order.due_ms = None
            self._cancel(uow, order, CancelReason.NONE)

    def fill_manually(self, uow, uid: str, order_id: int, size: Decimal | None = None,
                      price: Decimal | None = None, liquidity: Liquidity | None = None
                      ) -> tuple[FuturesOrder, list[FuturesFill]]:
        """Fill part (or, size None, the rest) of an open order in the book, as the control plane
        asks. A limit order fills at its own price as maker unless told otherwise (never beyond
        its price); a market order at the mark as taker. Returns the order and the fills made."""
        order = uow.get_futures_order(uid, order_id)
        if order is None:
            raise OrderNotFound("order not found")
        if not order.status.is_open or order.kind is not OrderKind.REGULAR:
            raise OrderNotCancellable("only an open order in the book can be filled", status=order.status.value)
        inst = self.instrument(uow, order.venue, order.market, order.symbol)
        if price is None:
            price = order.price if order.price is not None else self.mark(uow, inst)
            if price is None:
                raise NoMarkPrice(f"{inst.symbol} has no price yet", symbol=inst.symbol)
        else:
            if price <= 0:
                raise NonPositive("price must be positive", field="price")
            if scale_of(price) > inst.price_scale:
                raise PricePrecision("price scale", value=price, scale=inst.price_scale)
            if order.price is not None and (price > order.price if order.side is Side.BUY
                                            else price < order.price):
                raise InvalidOrder("the price is beyond the order's limit", limit=order.price)
        if liquidity is None:
            liquidity = Liquidity.MAKER if order.order_type is OrderType.LIMIT else Liquidity.TAKER
        remaining = order.size - order.filled_size
        size = remaining if size is None else size
        if size <= 0:
            raise NonPositive("size must be positive", field="size")
        if size > remaining:
            raise InvalidOrder("size exceeds what remains of the order", remaining=remaining)
        if scale_of(size) > inst.size_scale or size % size_grid(inst) != 0:
            raise SizePrecision("size scale", value=size, scale=inst.size_scale)
        before = {f.trade_id for f in uow.list_futures_fills(uid, order_id=order_id, limit=None)}
        self._fill(uow, inst, order, price, size, liquidity)
        made = [f for f in uow.list_futures_fills(uid, order_id=order_id, limit=None) if f.trade_id not in before]
        return order, sorted(made, key=lambda f: f.trade_id)

    def reject(self, uow, uid: str, order_id: int, reason: CancelReason = CancelReason.REJECTED) -> FuturesOrder:
        """Cancel an open order as the venue would refuse it (the manual model's "no")."""
        order = uow.get_futures_order(uid, order_id)
        if order is None:
            raise OrderNotFound("order not found")
        if not order.status.is_open:
            raise OrderNotCancellable("order is finished", status=order.status.value)
        return self._cancel(uow, order, reason)

    # ---- positions -------------------------------------------------------------------------------
    def close_position(self, uow, user: User, pos: Position, size: Decimal | None = None,
                       price: Decimal | None = None, source: str = "api", tag: str = "") -> FuturesOrder:
        """A close order for (part of) one position: at market, or resting at `price`."""
        inst = self.instrument(uow, pos.venue, pos.market, pos.symbol)
        return self.place(uow, user, inst, pos_side=pos.side, trade_side=TradeSide.CLOSE,
                          order_type=OrderType.LIMIT if price is not None else OrderType.MARKET,
                          size=pos.size if size is None else size, price=price,
                          position_id=pos.position_id, leverage=pos.leverage,
                          margin_mode=pos.margin_mode, source=source, tag=tag)

    def _end_position_stop(self, uow, pos: Position, kind: str, size: Decimal, now: int) -> None:
        """A position's own TP ("tp") or SL ("sl") ends unfired (removed, or its position closed
        some other way): it stays on record as a cancelled stop order under its id, for `size`."""
        level = pos.tp_price if kind == "tp" else pos.sl_price
        stop_id = pos.tp_id if kind == "tp" else pos.sl_id
        if level is None or stop_id is None:
            return
        execute = pos.tp_execute if kind == "tp" else pos.sl_execute
        uow.insert_futures_order(FuturesOrder(
            order_id=stop_id, uid=pos.uid, venue=pos.venue, market=pos.market, symbol=pos.symbol,
            client_oid=str(self.ids.next_id(uow, pos.venue, now)), kind=OrderKind.STOP,
            side=book_side(pos.side, TradeSide.CLOSE), pos_side=pos.side, trade_side=TradeSide.CLOSE,
            order_type=OrderType.MARKET if execute is None else OrderType.LIMIT, force=TimeInForce.GTC,
            price=execute, size=size, reduce_only=True, status=FuturesStatus.CANCELLED, filled_size=ZERO,
            filled_quote=ZERO, fee=ZERO, realized_pnl=ZERO, leverage=pos.leverage, margin_mode=pos.margin_mode,
            frozen=ZERO, position_id=pos.position_id, tp_price=None, sl_price=None, trigger_price=level,
            trigger_above=(kind == "tp") == (pos.side is PositionSide.LONG), callback_rate=None,
            extreme_price=None, source=kind, cancel_reason=CancelReason.NONE,
            created_ms=pos.updated_ms if pos.updated_ms else now, updated_ms=now))
        if kind == "tp":
            pos.tp_price = pos.tp_execute = pos.tp_id = None
        else:
            pos.sl_price = pos.sl_execute = pos.sl_id = None

    def set_position_tpsl(self, uow, pos: Position, tp=UNCHANGED, sl=UNCHANGED,
                          tp_execute=UNCHANGED, sl_execute=UNCHANGED) -> Position:
        """tp / sl: a price, None to cancel, UNCHANGED to keep; tp_execute / sl_execute: the
        limit price the stop closes at (None: at market). A stop set anew gets an id of its own;
        one moved keeps its id."""
        inst = self.instrument(uow, pos.venue, pos.market, pos.symbol)
        mark = self.mark(uow, inst)
        now = self.clock.now_ms()
        for level in (tp_execute, sl_execute):
            if level not in (UNCHANGED, None) and scale_of(level) > inst.price_scale:
                raise PricePrecision("price scale", value=level, scale=inst.price_scale)
        if tp is None or sl is None:  # removed: on record as cancelled
            for kind, value in (("tp", tp), ("sl", sl)):
                if value is None:
                    self._end_position_stop(uow, pos, kind, pos.size, now)
        if tp is not UNCHANGED:
            if tp is not None and mark is not None:
                self._check_stop("tp", pos.side, tp, mark)
            pos.tp_price = tp
            pos.tp_id = None if tp is None else pos.tp_id or self.ids.next_id(uow, pos.venue, now)
            if tp is None:
                pos.tp_execute = None
        if sl is not UNCHANGED:
            if sl is not None and mark is not None:
                self._check_stop("sl", pos.side, sl, mark)
            pos.sl_price = sl
            pos.sl_id = None if sl is None else pos.sl_id or self.ids.next_id(uow, pos.venue, now)
            if sl is None:
                pos.sl_execute = None
        if tp_execute is not UNCHANGED and pos.tp_price is not None:
            pos.tp_execute = tp_execute
        if sl_execute is not UNCHANGED and pos.sl_price is not None:
            pos.sl_execute = sl_execute
        pos.updated_ms = now
        uow.update_position(pos)
        return pos

    def set_order_tpsl(self, uow, uid: str, order_id: int, tp=UNCHANGED, sl=UNCHANGED,
                       tp_execute=UNCHANGED, sl_execute=UNCHANGED) -> FuturesOrder:
        """TP / SL preset on an open opening order (it passes to the position the order opens):
        a price, None to cancel, UNCHANGED to keep; tp_execute / sl_execute their limit prices
        (None: at market)."""
        order = uow.get_futures_order(uid, order_id)
        if (order is None or not order.status.is_open or order.trade_side is not TradeSide.OPEN
                or order.kind is OrderKind.TRAILING):
            raise OrderNotFound("no such open order")
        inst = self.instrument(uow, order.venue, order.market, order.symbol)
        mark = self.mark(uow, inst)
        for kind, level in (("tp", tp), ("sl", sl)):
            if level is not UNCHANGED and level is not None and mark is not None:
                self._check_stop(kind, order.pos_side, level, mark)
        if tp is not UNCHANGED:
            order.tp_price = tp
            if tp is None:
                order.tp_execute = None
        if sl is not UNCHANGED:
            order.sl_price = sl
            if sl is None:
                order.sl_execute = None
        if tp_execute is not UNCHANGED and order.tp_price is not None:
            order.tp_execute = tp_execute
        if sl_execute is not UNCHANGED and order.sl_price is not None:
            order.sl_execute = sl_execute
        order.updated_ms = self.clock.now_ms()
        uow.update_futures_order(order)
        return order

    def reverse_position(self, uow, user: User, pos: Position, source: str = "api",
                         tag: str = "", size: Decimal | None = None,
                         client_oid: str | None = None) -> FuturesOrder:
        """Close (`size` of, default all of) a position at market and open the same size on the
        other side at market with the same leverage and margin mode; returns the opening order.
        The close passes the listeners' rules first (an elite trader's tracked position is
        closed through its tracking order only)."""
        inst = self.instrument(uow, pos.venue, pos.market, pos.symbol)
        size = pos.size if size is None else min(size, pos.size)
        for listener in self.listeners:
            listener.before_place(uow, user, inst, pos_side=pos.side, trade_side=TradeSide.CLOSE,
                                  size=size, position_id=pos.position_id, source=source)
        self.market_close(uow, pos, size, source)
        return self.place(uow, user, inst, pos_side=pos.side.opposite, trade_side=TradeSide.OPEN,
                          order_type=OrderType.MARKET, size=size, leverage=pos.leverage,
                          margin_mode=pos.margin_mode, source=source, tag=tag, client_oid=client_oid)

    def flash_close(self, uow, user: User, pos: Position, tag: str = "") -> FuturesOrder:
        """Close a whole position at market as its owner's own order (so the listeners' rules,
        copy trading's among them, apply). Every open order that would close it (resting, plan,
        trailing; in one-way mode a reduce-only order of the other side) is cancelled first: the
        whole position is what closes."""
        inst = self.instrument(uow, pos.venue, pos.market, pos.symbol)
        for order in self._open_orders(uow, pos.uid, inst):
            closes = order.trade_side is TradeSide.CLOSE and order.pos_side is pos.side \
                and order.position_id in (None, pos.position_id)
            reduces = order.trade_side is TradeSide.OPEN and order.reduce_only and order.pos_side is pos.side.opposite
            if closes or reduces:
                self._cancel(uow, order, CancelReason.USER)
        return self.place(uow, user, inst, pos_side=pos.side, trade_side=TradeSide.CLOSE,
                          order_type=OrderType.MARKET, size=pos.size, position_id=pos.position_id,
                          leverage=pos.leverage, margin_mode=pos.margin_mode, source="api", tag=tag)

    def place_stop(self, uow, user: User, pos: Position, kind: str, trigger: Decimal, size: Decimal,
                   execute: Decimal | None = None, client_oid: str | None = None,
                   tag: str = "") -> FuturesOrder:
        """A take-profit (kind "tp") or stop-loss ("sl") order for `size` of a position: when the
        mark crosses `trigger` it closes that much at market, or at the limit `execute`. It
        reserves nothing of the position (several may protect it); it is cancelled when the
        position closes."""
        inst = self.instrument(uow, pos.venue, pos.market, pos.symbol)
        for listener in self.listeners:  # a close its owner asks for: the listeners' rules apply
            listener.before_place(uow, user, inst, pos_side=pos.side, trade_side=TradeSide.CLOSE,
                                  size=size, position_id=pos.position_id, source="api")
        self._check_stop_order(uow, inst, pos, kind, trigger, size, execute)
        if client_oid and uow.get_futures_order_by_client_oid(user.uid, client_oid) is not None:
            raise DuplicateClientOid(client_oid, client_oid=client_oid)
        now = self.clock.now_ms()
        order = FuturesOrder(
            order_id=self.ids.next_id(uow, user.venue, now), uid=user.uid, venue=user.venue,
            market=inst.market, symbol=inst.symbol,
            client_oid=client_oid or str(self.ids.next_id(uow, user.venue, now)),
            kind=OrderKind.STOP, side=book_side(pos.side, TradeSide.CLOSE), pos_side=pos.side,
            trade_side=TradeSide.CLOSE, order_type=OrderType.MARKET if execute is None else OrderType.LIMIT,
            force=TimeInForce.GTC, price=execute, size=size, reduce_only=True,
            status=FuturesStatus.UNTRIGGERED, filled_size=ZERO, filled_quote=ZERO, fee=ZERO,
            realized_pnl=ZERO, leverage=pos.leverage, margin_mode=pos.margin_mode, frozen=ZERO,
            position_id=pos.position_id, tp_price=None, sl_price=None, trigger_price=trigger,
            trigger_above=(kind == "tp") == (pos.side is PositionSide.LONG), callback_rate=None,
            extreme_price=None, source=STOP_SOURCES[kind], cancel_reason=CancelReason.NONE,
            created_ms=now, updated_ms=now, tag=tag)
        uow.insert_futures_order(order)
        return order

    def _check_stop_order(self, uow, inst: Instrument, pos: Position, kind: str, trigger: Decimal,
                          size: Decimal, execute: Decimal | None) -> None:
        if not pos.open:
            raise NoPosition("no such position")
        for name, value in (("triggerPrice", trigger), ("executePrice", execute)):
            if value is not None and value <= 0:
                raise NonPositive(f"{name} must be positive", field=name)
            if value is not None and scale_of(value) > inst.price_scale:
                raise PricePrecision("price scale", value=value, scale=inst.price_scale)
        if size <= 0:
            raise NonPositive("size must be positive", field="size")
        if scale_of(size) > inst.size_scale or (size % inst.contract_size) != 0:
            raise SizePrecision("size scale", value=size, scale=inst.size_scale)
        if size > pos.size:
            raise PositionTooSmall("more than the position", available=pos.size)
        mark = self.mark(uow, inst)
        if mark is not None:
            self._check_stop(kind, pos.side, trigger, mark)

    def modify_stop(self, uow, uid: str, order_id: int, trigger: Decimal, size: Decimal | None = None,
                    execute=UNCHANGED) -> FuturesOrder:
        """Move a waiting take-profit / stop-loss order: its trigger, size, limit price."""
        order = uow.get_futures_order(uid, order_id)
        if order is None or order.kind is not OrderKind.STOP or order.status is not FuturesStatus.UNTRIGGERED:
            raise OrderNotFound("no such TP/SL order")
        pos = uow.get_position(order.position_id)
        if pos is None:
            raise NoPosition("no such position")
        inst = self.instrument(uow, order.venue, order.market, order.symbol)
        kind = "tp" if order.trigger_above == (pos.side is PositionSide.LONG) else "sl"
        execute = order.price if execute is UNCHANGED else execute
        size = order.size if size is None else size
        self._check_stop_order(uow, inst, pos, kind, trigger, size, execute)
        order.trigger_price, order.size, order.price = trigger, size, execute
        order.order_type = OrderType.MARKET if execute is None else OrderType.LIMIT
        order.updated_ms = self.clock.now_ms()
        uow.update_futures_order(order)
        return order

    def modify_plan(self, uow, uid: str, order_id: int, *, size: Decimal | None = None,
                    price=UNCHANGED, trigger: Decimal | None = None,
                    callback_rate: Decimal | None = None, tp=UNCHANGED, sl=UNCHANGED) -> FuturesOrder:
        """Change a waiting plan or trailing order in place (same id): size, limit price (None:
        at market), trigger (activation) price, callback rate, preset TP / SL. An opening
        order's frozen margin is recomputed for the new terms."""
        order = uow.get_futures_order(uid, order_id)
        if order is None or order.kind not in (OrderKind.PLAN, OrderKind.TRAILING) \
                or order.status is not FuturesStatus.UNTRIGGERED:
            raise OrderNotFound("no such plan order")
        inst = self.instrument(uow, order.venue, order.market, order.symbol)
        mark = self.mark(uow, inst)
        now = self.clock.now_ms()
        if size is not None:
            if size <= 0:
                raise NonPositive("size must be positive", field="size")
            if scale_of(size) > inst.size_scale or (size % inst.contract_size) != 0:
                raise SizePrecision("size scale", value=size, scale=inst.size_scale)
            if size < inst.min_size:
                raise BelowMinimumSize("size below minimum", minimum=inst.min_size)
        for value in (price, trigger):
            if value not in (UNCHANGED, None):
                if value <= 0:
                    raise NonPositive("price must be positive", field="price")
                if scale_of(value) > inst.price_scale:
                    raise PricePrecision("price scale", value=value, scale=inst.price_scale)
        if callback_rate is not None and not Decimal(0) < callback_rate < Decimal(1):
            raise NonPositive("callback rate must be between 0 and 1", field="callbackRatio")
        for kind, level in (("tp", tp), ("sl", sl)):
            if level not in (UNCHANGED, None) and mark is not None:
                self._check_stop(kind, order.pos_side, level, mark)
        new_size = order.size if size is None else size
        if order.trade_side is TradeSide.CLOSE and size is not None:
            self._check_closable(uow, uid, inst, order.pos_side, new_size - order.size, order.position_id)
        if price is not UNCHANGED:
            order.price = price
            order.order_type = OrderType.MARKET if price is None else OrderType.LIMIT
        if trigger is not None:
            order.trigger_price = trigger
            if order.kind is OrderKind.PLAN and mark is not None:
                order.trigger_above = trigger >= mark
            if order.kind is OrderKind.TRAILING:
                order.extreme_price = None  # waits for its (new) activation price
        if callback_rate is not None:
            order.callback_rate = callback_rate
        if tp is not UNCHANGED:
            order.tp_price = tp
        if sl is not UNCHANGED:
            order.sl_price = sl
        order.size = new_size
        if order.frozen > 0 or (order.trade_side is TradeSide.OPEN and not order.reduce_only):
            accounts.release(uow, uid, inst.market, inst.settle, order.frozen, now)
            reference = order.price if order.price is not None else (order.trigger_price or mark)
            value = notional(inst, reference, order.size)
            order.frozen = money(value / order.leverage + value * inst.taker_fee)
            try:
                accounts.freeze(uow, uid, inst.market, inst.settle, order.frozen, now)
            except InsufficientBalance:
                raise InsufficientBalance("insufficient balance", asset=inst.settle) from None
        order.updated_ms = now
        uow.update_futures_order(order)
        return order

    def replace_order(self, uow, user: User, order_id: int, *, size: Decimal | None = None,
                      price: Decimal | None = None, client_oid: str | None = None,
                      tp=UNCHANGED, sl=UNCHANGED) -> FuturesOrder:
        """Modify a resting limit order: a new size or price cancels it and places the same
        order again under a new id (and client id) with the new terms; TP / SL alone change in
        place. An order that has begun to fill cannot change size or price."""
        order = uow.get_futures_order(user.uid, order_id)
        if order is None or order.kind is not OrderKind.REGULAR or not order.status.is_open:
            raise OrderNotFound("no such open order")
        if size is None and price is None:
            return self.set_order_tpsl(uow, user.uid, order_id, tp, sl)
        if order.order_type is not OrderType.LIMIT or order.filled_size > 0:
            raise OrderNotCancellable("only an unfilled limit order can be modified",
                                      status=order.status.value)
        inst = self.instrument(uow, order.venue, order.market, order.symbol)
        self._cancel(uow, order, CancelReason.USER)
        return self.place(
            uow, user, inst, pos_side=order.pos_side, trade_side=order.trade_side,
            order_type=order.order_type, size=order.size if size is None else size,
            price=order.price if price is None else price, force=order.force,
            reduce_only=order.reduce_only and order.trade_side is TradeSide.OPEN,
            client_oid=client_oid, tp_price=order.tp_price if tp is UNCHANGED else tp,
            sl_price=order.sl_price if sl is UNCHANGED else sl,
            position_id=order.position_id if order.trade_side is TradeSide.CLOSE else None,
            leverage=order.leverage, margin_mode=order.margin_mode, source=order.source, tag=order.tag,
            tp_execute=order.tp_execute if tp is UNCHANGED else None,
            sl_execute=order.sl_execute if sl is UNCHANGED else None)

    def adjust_margin(self, uow, pos: Position, delta: Decimal) -> Position:
        """Add (positive) or remove (negative) isolated margin."""
        if pos.margin_mode is not MarginMode.ISOLATED:
            raise NotIsolated("margin can only be adjusted on an isolated position")
        inst = self.instrument(uow, pos.venue, pos.market, pos.symbol)
        now = self.clock.now_ms()
        if delta < 0:
            mark = self.mark(uow, inst) or pos.entry_price
            keep = notional(inst, mark, pos.size) / pos.leverage  # the initial margin stays
            if pos.margin + delta < keep:
                raise InsufficientBalance("cannot remove that much margin", asset=inst.settle)
        accounts.move(uow, pos.uid, inst.market, inst.settle, available=-delta, now_ms=now)
        pos.margin += delta
        pos.updated_ms = now
        uow.update_position(pos)
        if pos.venue in self.trade_bills:
            uow.insert_bill(Bill(
                bill_id=self.ids.next_id(uow, pos.venue, now), uid=pos.uid, venue=pos.venue,
                account=inst.market, asset=inst.settle, symbol=inst.symbol,
                kind="margin_add" if delta > 0 else "margin_reduce", amount=-delta,
                balance=uow.get_balance(pos.uid, inst.market, inst.settle).available,
                ref_id=pos.position_id, created_ms=now))
        return pos

    def place_trailing(self, uow, user: User, pos: Position, callback_rate: Decimal,
                       activation: Decimal | None = None, size: Decimal | None = None,
                       tag: str = "") -> FuturesOrder:
        """A trailing stop that closes (part of) a position when the mark falls back
        callback_rate from its best level since activation."""
        if not Decimal(0) < callback_rate < Decimal(1):
            raise NonPositive("callback rate must be between 0 and 1", field="callbackRate")
        inst = self.instrument(uow, pos.venue, pos.market, pos.symbol)
        size = pos.size if size is None else size
        self._check_closable(uow, user.uid, inst, pos.side, size, pos.position_id)
        now = self.clock.now_ms()
        mark = self.mark(uow, inst)
        order = FuturesOrder(
            order_id=self.ids.next_id(uow, user.venue, now), uid=user.uid, venue=user.venue,
            market=inst.market, symbol=inst.symbol, client_oid=str(self.ids.next_id(uow, user.venue, now)),
            kind=OrderKind.TRAILING, side=book_side(pos.side, TradeSide.CLOSE), pos_side=pos.side,
            trade_side=TradeSide.CLOSE, order_type=OrderType.MARKET, force=TimeInForce.GTC, price=None,
            size=size, reduce_only=True, status=FuturesStatus.UNTRIGGERED, filled_size=ZERO,
            filled_quote=ZERO, fee=ZERO, realized_pnl=ZERO, leverage=pos.leverage,
            margin_mode=pos.margin_mode, frozen=ZERO, position_id=pos.position_id, tp_price=None,
            sl_price=None, trigger_price=activation, trigger_above=None, callback_rate=callback_rate,
            extreme_price=None if activation is not None else mark, source="trailing",
            cancel_reason=CancelReason.NONE, created_ms=now, updated_ms=now, tag=tag)
        uow.insert_futures_order(order)
        return order

    # ---- price moves -----------------------------------------------------------------------------
    def on_mark(self, uow, inst: Instrument, old: Decimal | None, new: Decimal) -> None:
        """Fire, in path order, everything the move old -> new crosses. A limit order that
        enters the book on the way (the close of a limit TP/SL, a fired limit plan order, an
        order a listener places) joins the queue at its price, so the rest of the move fills it
        in price order with everything else."""
        if old is None:
            old = new
        rising = new >= old
        events = self._events(uow, inst, old, new)
        seen = {e.ident for e in events if e.priority == PRIORITY_LIMIT}  # resting orders met already
        for listener in self.listeners:
            events.extend(listener.collect_events(uow, inst, old, new))
        queue = [(e.key(rising), i, e) for i, e in enumerate(events)]
        heapq.heapify(queue)
        count = len(queue)
        outer, self._rested = self._rested, []
        try:
            while queue:
                _, _, event = heapq.heappop(queue)
                event.fire(uow)
                while self._rested:
                    uid, order_id = self._rested.pop(0)
                    order = uow.get_futures_order(uid, order_id)
                    if order_id in seen or order is None or order.symbol != inst.symbol \
                            or not order.status.is_open or order.price is None or order.due_ms is not None:
                        continue
                    ahead = order.price >= event.price if rising else order.price <= event.price
                    if not ahead or not crossed(old, new, order.price, upward=order.side is Side.SELL):
                        continue  # the rest of the move does not reach it
                    share = self._resting_share(uow, inst, order)
                    if share is not None and share <= 0:
                        continue
                    seen.add(order_id)
                    reached = Event(order.price, PRIORITY_LIMIT, order_id,
                                    self._resting_fill(inst, order_id, uid, share))
                    heapq.heappush(queue, (reached.key(rising), count, reached))
                    count += 1
        finally:
            self._rested = outer

    def _rests(self, order: FuturesOrder) -> None:
        """A limit order has entered the book during a price move (on_mark): tell the move."""
        if self._rested is not None and order.status.is_open and order.price is not None \
                and order.kind is OrderKind.REGULAR and order.due_ms is None:
            self._rested.append((order.uid, order.order_id))

    def quiet_band(self, uow, inst: Instrument, band) -> None:
        """Narrow `band` (engine/triggers.py) to the prices that fire nothing here: the levels
        of everything _events and on_mark look at, on the side each fires."""
        for order in uow.list_futures_orders(venue=inst.venue, market=inst.market, symbol=inst.symbol,
                                             open_only=True, newest_first=False):
            if order.kind is OrderKind.REGULAR and order.price is not None:
                if order.due_ms is None:
                    (band.above if order.side is Side.SELL else band.below)(order.price)
            elif order.kind is OrderKind.PLAN and order.status is FuturesStatus.UNTRIGGERED:
                (band.above if order.trigger_above else band.below)(order.trigger_price)
            elif order.kind is OrderKind.STOP and order.status is FuturesStatus.UNTRIGGERED:
                (band.above if order.trigger_above else band.below)(order.trigger_price)
            elif order.kind is OrderKind.TRAILING:
                if order.extreme_price is not None:
                    band.close()  # it follows every new extreme
                    return
                if order.trigger_price is not None:  # a sell activates rising, a buy falling
                    (band.above if order.side is Side.SELL else band.below)(order.trigger_price)
        crossed_owners: set[str] = set()
        for pos in uow.list_positions(venue=inst.venue, market=inst.market, symbol=inst.symbol, open_only=True):
            long = pos.side is PositionSide.LONG
            if pos.margin_mode is MarginMode.CROSSED and pos.uid not in crossed_owners:
                crossed_owners.add(pos.uid)
                positions, _ = self._crossed_book(uow, pos.uid, inst)
                if any(p.symbol != inst.symbol for p in positions):
                    band.close()  # its level here moves with the other contracts' marks
                    return
                level = self.crossed_liquidation_price(uow, pos.uid, inst)
                if level is not None:
                    (band.above if level[1] else band.below)(level[0])
            if pos.tp_price is not None:
                (band.above if long else band.below)(pos.tp_price)
            if pos.sl_price is not None:
                (band.below if long else band.above)(pos.sl_price)
            liq = liquidation_price(inst, pos)
            if liq is not None:
                (band.below if long else band.above)(liq)
        for listener in self.listeners:
            narrow = getattr(listener, "quiet_band", None)
            if narrow is None:
                band.close()  # a listener that cannot say: every move is walked
                return
            narrow(uow, inst, band)

    def _events(self, uow, inst: Instrument, old: Decimal, new: Decimal) -> list[Event]:
        events: list[Event] = []
        orders = uow.list_futures_orders(venue=inst.venue, market=inst.market, symbol=inst.symbol,
                                         open_only=True, newest_first=False)
        for order in orders:
            if order.kind is OrderKind.REGULAR and order.price is not None:
                # an order still on its way (latency model) is not in the book yet
                if order.due_ms is None and crossed(old, new, order.price, upward=order.side is Side.SELL):
                    share = self._resting_share(uow, inst, order)
                    if share is None or share > 0:
                        events.append(Event(order.price, PRIORITY_LIMIT, order.order_id,
                                            self._resting_fill(inst, order.order_id, order.uid, share)))
            elif order.kind is OrderKind.PLAN and order.status is FuturesStatus.UNTRIGGERED:
                if crossed(old, new, order.trigger_price, upward=bool(order.trigger_above)):
                    events.append(Event(order.trigger_price, PRIORITY_PLAN, order.order_id,
                                        self._trigger(inst, order.order_id, order.uid)))
            elif order.kind is OrderKind.STOP and order.status is FuturesStatus.UNTRIGGERED:
                if crossed(old, new, order.trigger_price, upward=bool(order.trigger_above)):
                    events.append(Event(order.trigger_price, PRIORITY_STOP, order.order_id,
                                        self._trigger(inst, order.order_id, order.uid)))
            elif order.kind is OrderKind.TRAILING:
                event = self._trailing_event(uow, inst, order, old, new)
                if event is not None:
                    events.append(event)
        crossed_owners: dict[str, int] = {}  # owners of crossed positions here -> one position's id
        for pos in uow.list_positions(venue=inst.venue, market=inst.market, symbol=inst.symbol, open_only=True):
            long = pos.side is PositionSide.LONG
            if pos.tp_price is not None and crossed(old, new, pos.tp_price, upward=long):
                events.append(Event(pos.tp_price, PRIORITY_STOP, pos.position_id,
                                    self._stop(inst, pos.position_id, pos.tp_price, "tp")))
            if pos.sl_price is not None and crossed(old, new, pos.sl_price, upward=not long):
                events.append(Event(pos.sl_price, PRIORITY_STOP, pos.position_id,
                                    self._stop(inst, pos.position_id, pos.sl_price, "sl")))
            liq = liquidation_price(inst, pos)
            if liq is not None and crossed(old, new, liq, upward=not long):
                events.append(Event(liq, PRIORITY_LIQUIDATION, pos.position_id,
                                    self._liquidate(inst, pos.position_id, liq)))
            if pos.margin_mode is MarginMode.CROSSED:
                crossed_owners.setdefault(pos.uid, pos.position_id)
        for uid, ident in crossed_owners.items():
            level = self.crossed_liquidation_price(uow, uid, inst)
            if level is not None and crossed(old, new, level[0], upward=level[1]):
                events.append(Event(level[0], PRIORITY_LIQUIDATION, ident,
                                    self._liquidate_crossed(inst, uid, level[0])))
        return events

    # ---- crossed liquidation ---------------------------------------------------------------------
    def _crossed_book(self, uow, uid: str, inst: Instrument) -> tuple[list[Position], dict[str, Instrument]]:
        """The owner's open crossed positions in the settle coin of `inst`, in its market."""
        out, insts = [], {}
        for pos in uow.list_positions(uid, market=inst.market, open_only=True):
            if pos.margin_mode is not MarginMode.CROSSED:
                continue
            other = insts.get(pos.symbol) or uow.get_instrument(pos.venue, pos.market, pos.symbol)
            insts[pos.symbol] = other
            if other.settle == inst.settle:
                out.append(pos)
        return out, insts

    def crossed_health(self, uow, uid: str, inst: Instrument, price: Decimal | None = None
                       ) -> tuple[Decimal, Decimal]:
        """(equity, maintenance margin) of an owner's crossed positions in the settle coin of
        `inst`: the account's balance (available and frozen), the crossed positions' margin and
        unrealized PnL against their maintenance margin (value at the mark times the contract's
        maintenance rate); `inst` valued at `price` when given, the others at their marks."""
        positions, insts = self._crossed_book(uow, uid, inst)
        bal = uow.get_balance(uid, inst.market, inst.settle)
        equity, maintenance = bal.available + bal.frozen, ZERO
        for pos in positions:
            other = insts[pos.symbol]
            mark = price if (price is not None and pos.symbol == inst.symbol) else self.mark(uow, other)
            mark = mark if mark is not None else pos.entry_price
            equity += pos.margin + unrealized_pnl(other, pos, mark)
            maintenance += notional(other, mark, pos.size) * maintenance_rate(other, pos)
        return equity, maintenance

    def crossed_liquidation_price(self, uow, uid: str, inst: Instrument) -> tuple[Decimal, bool] | None:
        """The price of `inst` (the other marks as they are) at which the owner's crossed equity
        falls to its maintenance margin, and whether the mark reaches it rising; None when no
        price of `inst` does. The level is on the price grid, at or past the exact one (so the
        account is at or below its maintenance margin there)."""
        positions, insts = self._crossed_book(uow, uid, inst)
        here = [p for p in positions if p.symbol == inst.symbol]
        if not here:
            return None
        # fixed: the account's balance, every crossed margin, and the other contracts' PnL less
        # their maintenance margin at their marks
        bal = uow.get_balance(uid, inst.market, inst.settle)
        fixed = bal.available + bal.frozen
        for pos in positions:
            fixed += pos.margin
            if pos.symbol != inst.symbol:
                other = insts[pos.symbol]
                mark = self.mark(uow, other) or pos.entry_price
                fixed += unrealized_pnl(other, pos, mark) - notional(other, mark, pos.size) * maintenance_rate(other, pos)
        if inst.inverse:
            # equity - maintenance = fixed + sum(s * sign) - sum(s * r) - sum(s * e * sign) / p
            face = sum((p.size * p.entry_price * p.side.sign for p in here), ZERO)
            rest = fixed + sum((p.size * p.side.sign - p.size * maintenance_rate(inst, p) for p in here), ZERO)
            if face == 0 or rest == 0:
                return None
            level, rising = face / rest, face < 0
        else:
            # equity - maintenance = fixed - sum(s * sign * e) + p * (sum(s * sign) - sum(s * r))
            slope = sum((p.size * p.side.sign - p.size * maintenance_rate(inst, p) for p in here), ZERO)
            if slope == 0:
                return None
            level = (sum((p.size * p.side.sign * p.entry_price for p in here), ZERO) - fixed) / slope
            rising = slope < 0
        if level <= 0:
            return None
        step = Decimal(1).scaleb(-inst.price_scale)
        level = level.quantize(step, rounding=ROUND_CEILING if rising else ROUND_FLOOR)
        if level <= 0:
            return None
        return level, rising

    def _liquidate_crossed(self, inst: Instrument, uid: str, level: Decimal):
        def fire(uow) -> None:
            positions, insts = self._crossed_book(uow, uid, inst)
            if not any(p.symbol == inst.symbol for p in positions):
                return
            equity, maintenance = self.crossed_health(uow, uid, inst, level)
            if equity > maintenance:
                return  # something changed on the way (a fill, a close): not at risk any more
            now = self.clock.now_ms()
            for order in uow.list_futures_orders(uid, market=inst.market, open_only=True):
                if insts.get(order.symbol, inst).settle == inst.settle:
                    self._cancel(uow, order, CancelReason.NONE)
            for i, pos in enumerate(positions):
                other = insts[pos.symbol]
                price = level if pos.symbol == inst.symbol else (self.mark(uow, other) or pos.entry_price)
                order = self._liquidation_order(uow, pos, price, now)
                size = pos.size
                # the PnL settles against the account (a loss beyond it is the house's)
                realized, _ = self.reduce_position(uow, other, pos, price, size, ZERO, now)
                fee = ZERO
                if i == len(positions) - 1:
                    # what is left of the account's equity (at most its maintenance margin) goes,
                    # as an isolated position's margin goes: the liquidation's fee
                    rest = uow.get_balance(uid, inst.market, inst.settle).available
                    if rest > 0:
                        accounts.move(uow, uid, inst.market, inst.settle, available=-rest, now_ms=now)
                        self._house(uow, pos.venue, inst.settle, rest, now)
                        fee = rest
                order.realized_pnl, order.fee = realized, fee
                uow.insert_futures_order(order)
                self._record_fill(uow, other, order, price, size, TradeSide.CLOSE, pos.side, fee, realized,
                                  Liquidity.TAKER, pos.position_id, now)
        return fire

    def _resting_fill(self, inst: Instrument, order_id: int, uid: str, share: Decimal | None = None):
        def fire(uow) -> None:
            order = uow.get_futures_order(uid, order_id)
            if order is None or not order.status.is_open:
                return
            remaining = order.size - order.filled_size
            try:
                self._fill(uow, inst, order, order.price, remaining if share is None else min(share, remaining),
                           Liquidity.MAKER)
            except (InsufficientBalance, NoPosition):
                self._cancel(uow, order, CancelReason.NONE)
        return fire

    def _trigger(self, inst: Instrument, order_id: int, uid: str):
        def fire(uow) -> None:
            order = uow.get_futures_order(uid, order_id)
            if order is None or order.status is not FuturesStatus.UNTRIGGERED:
                return
            order.status = FuturesStatus.LIVE
            order.kind = OrderKind.REGULAR
            order.updated_ms = self.clock.now_ms()
            uow.update_futures_order(order)
            model = self._model(uow, inst, order)
            if model.kind in (LIQUIDITY, MANUAL):  # enters the book at the trigger price
                try:
                    self._on_live(uow, inst, order, order.trigger_price, model)
                except (InsufficientBalance, NoPosition):
                    self._cancel(uow, order, CancelReason.NONE)
                return
            try:
                if order.order_type is OrderType.MARKET:
                    self._fill(uow, inst, order, order.trigger_price, order.size - order.filled_size,
                               Liquidity.TAKER)
                elif (order.side is Side.BUY and order.trigger_price <= order.price) or (
                        order.side is Side.SELL and order.trigger_price >= order.price):
                    self._fill(uow, inst, order, order.trigger_price, order.size - order.filled_size,
                               Liquidity.TAKER)
                else:
                    self._rests(order)  # the rest of the move may reach its limit
            except (InsufficientBalance, NoPosition):
                self._cancel(uow, order, CancelReason.NONE)
        return fire

    def _stop(self, inst: Instrument, position_id: int, level: Decimal, kind: str):
        def fire(uow) -> None:
            pos = uow.get_position(position_id)
            if pos is None or not pos.open:
                return
            if (pos.tp_price if kind == "tp" else pos.sl_price) != level:
                return
            execute = pos.tp_execute if kind == "tp" else pos.sl_execute
            stop_id = pos.tp_id if kind == "tp" else pos.sl_id
            # the stop is spent: its close is at market, or rests at the limit (or fills at once);
            # the close carries the stop's id as its client id, so the stop stays known by it
            if kind == "tp":
                pos.tp_price = pos.tp_execute = pos.tp_id = None
            else:
                pos.sl_price = pos.sl_execute = pos.sl_id = None
            uow.update_position(pos)
            self._market_close(uow, inst, pos, pos.size, level, kind, limit=execute,
                               client_oid=None if stop_id is None else str(stop_id))
        return fire

    def _market_close(self, uow, inst: Instrument, pos: Position, size: Decimal, price: Decimal,
                      source: str, limit: Decimal | None = None, client_oid: str | None = None) -> FuturesOrder:
        """A close the engine itself sends (TP/SL, trailing, copy trading): fills at `price`; with
        a `limit`, it is a limit order that fills at `price` if the limit allows, else rests."""
        now = self.clock.now_ms()
        order = FuturesOrder(
            order_id=self.ids.next_id(uow, pos.venue, now), uid=pos.uid, venue=pos.venue,
            market=pos.market, symbol=pos.symbol,
            client_oid=client_oid or str(self.ids.next_id(uow, pos.venue, now)),
            kind=OrderKind.REGULAR, side=book_side(pos.side, TradeSide.CLOSE), pos_side=pos.side,
            trade_side=TradeSide.CLOSE, order_type=OrderType.MARKET if limit is None else OrderType.LIMIT,
            force=TimeInForce.GTC, price=limit,
            size=size, reduce_only=True, status=FuturesStatus.LIVE, filled_size=ZERO, filled_quote=ZERO,
            fee=ZERO, realized_pnl=ZERO, leverage=pos.leverage, margin_mode=pos.margin_mode,
            frozen=ZERO, position_id=pos.position_id, tp_price=None, sl_price=None, trigger_price=None,
            trigger_above=None, callback_rate=None, extreme_price=None, source=source,
            cancel_reason=CancelReason.NONE, created_ms=now, updated_ms=now)
        uow.insert_futures_order(order)
        if limit is None or (price >= limit if order.side is Side.SELL else price <= limit):
            self._fill(uow, inst, order, price, size, Liquidity.TAKER)
        else:
            self._rests(order)  # the rest of the move may reach its limit
        return order

    def market_close(self, uow, pos: Position, size: Decimal, source: str) -> FuturesOrder:
        """Close (part of) a position at the current mark, as the engine's own order."""
        inst = self.instrument(uow, pos.venue, pos.market, pos.symbol)
        mark = self.mark(uow, inst)
        if mark is None:
            raise NoMarkPrice(f"{inst.symbol} has no price yet", symbol=inst.symbol)
        if size > pos.size:
            raise PositionTooSmall("close exceeds the position", available=pos.size)
        return self._market_close(uow, inst, pos, size, mark, source)

    def _liquidation_order(self, uow, pos: Position, price: Decimal, now: int) -> FuturesOrder:
        """The filled market close that takes a whole position at `price` when it is liquidated
        (isolated, or with the rest of the account's crossed positions)."""
        return FuturesOrder(
            order_id=self.ids.next_id(uow, pos.venue, now), uid=pos.uid, venue=pos.venue,
            market=pos.market, symbol=pos.symbol, client_oid=str(self.ids.next_id(uow, pos.venue, now)),
            kind=OrderKind.REGULAR, side=book_side(pos.side, TradeSide.CLOSE), pos_side=pos.side,
            trade_side=TradeSide.CLOSE, order_type=OrderType.MARKET, force=TimeInForce.GTC,
            price=None, size=pos.size, reduce_only=True, status=FuturesStatus.FILLED,
            filled_size=pos.size, filled_quote=price * pos.size, fee=ZERO, realized_pnl=ZERO,
            leverage=pos.leverage, margin_mode=pos.margin_mode, frozen=ZERO,
            position_id=pos.position_id, tp_price=None, sl_price=None, trigger_price=None,
            trigger_above=None, callback_rate=None, extreme_price=None, source="liquidation",
            cancel_reason=CancelReason.NONE, created_ms=now, updated_ms=now)

    def _liquidate(self, inst: Instrument, position_id: int, price: Decimal):
        def fire(uow) -> None:
            pos = uow.get_position(position_id)
            if pos is None or not pos.open or liquidation_price(inst, pos) is None:
                return
            now = self.clock.now_ms()
            for order in self._open_orders(uow, pos.uid, inst):
                if order.trade_side is TradeSide.CLOSE and order.position_id in (None, pos.position_id) \
                        and order.pos_side is pos.side:
                    self._cancel(uow, order, CancelReason.NONE)
            order = self._liquidation_order(uow, pos, price, now)
            size = pos.size
            realized, _ = self.reduce_position(uow, inst, pos, price, size, ZERO, now, liquidation=True)
            order.realized_pnl = realized
            uow.insert_futures_order(order)
            self._record_fill(uow, inst, order, price, size, TradeSide.CLOSE, pos.side, ZERO, realized,
                              Liquidity.TAKER, pos.position_id, now)
        return fire

    def _trailing_event(self, uow, inst: Instrument, order: FuturesOrder, old: Decimal,
                        new: Decimal) -> Event | None:
        """Trailing stops follow the best mark since activation; they fire on a fall-back of
        callback_rate from it. The extreme is updated here, as the move is seen."""
        protects_long = order.side is Side.SELL  # a sell follows the highs, a buy the lows
        extreme = order.extreme_price
        if extreme is None:  # waiting for its activation price
            if order.trigger_price is None or not crossed(old, new, order.trigger_price, upward=protects_long):
                return None
            extreme = order.trigger_price
        best = max(extreme, old, new) if protects_long else min(extreme, old, new)
        if best != order.extreme_price:
            order.extreme_price = best
            order.updated_ms = self.clock.now_ms()
            uow.update_futures_order(order)
        level = best * (1 - order.callback_rate) if protects_long else best * (1 + order.callback_rate)
        level = level.quantize(Decimal(1).scaleb(-inst.price_scale))
        if not crossed(old, new, level, upward=not protects_long):
            return None

        def fire(uow) -> None:
            current = uow.get_futures_order(order.uid, order.order_id)
            if current is None or current.status is not FuturesStatus.UNTRIGGERED:
                return
            size = current.size
            if current.trade_side is TradeSide.CLOSE:
                if current.position_id:
                    held = [p for p in [uow.get_position(current.position_id)] if p is not None and p.open]
                else:
                    held = self._open_positions(uow, current.uid, inst, current.pos_side)
                if not held:
                    self._cancel(uow, current, CancelReason.NONE)
                    return
                size = min(size, sum((p.size for p in held), ZERO))
            current.status = FuturesStatus.LIVE
            current.trigger_price = level
            uow.update_futures_order(current)
            try:
                with uow.savepoint():
                    self._fill(uow, inst, current, level, size, Liquidity.TAKER)
            except (InsufficientBalance, NoPosition):
                current = uow.get_futures_order(order.uid, order.order_id)
                self._cancel(uow, current, CancelReason.NONE)
        return Event(level, PRIORITY_TRAILING, order.order_id, fire)

    # ---- funding ---------------------------------------------------------------------------------
    def settle_funding(self, uow, inst: Instrument, at_ms: int) -> list[Bill]:
        """Settle one funding interval of a perpetual at `at_ms`, at the instrument's rate.

        Every open position pays (a long when the rate is positive, a short when it is negative)
        or receives its value at the mark times the rate; the house is the other side. Crossed
        positions pay from, and are paid into, the account's available balance (a shortfall comes
        out of the position's margin); isolated positions pay from and are paid into their own
        margin, which moves their liquidation price (past the mark: liquidated at once, at the
        mark). A payment is never more than there is to pay it with. Each payment adds to
        Position.funding (positive: paid) and writes a "funding" bill; the settled rate itself is
        recorded as a bill of the house (kind "funding_rate", amount the rate). Returns the
        users' bills."""
        rate = inst.funding_rate
        mark = self.mark(uow, inst)
        bills: list[Bill] = []
        if mark is not None and rate != 0:
            for pos in uow.list_positions(venue=inst.venue, market=inst.market, symbol=inst.symbol,
                                          open_only=True):
                bill = self._pay_funding(uow, inst, pos, mark, rate, at_ms)
                if bill is not None:
                    bills.append(bill)
        house = house_uid(inst.venue)
        uow.insert_bill(Bill(
            bill_id=self.ids.next_id(uow, inst.venue, at_ms), uid=house, venue=inst.venue,
            account=inst.market, asset=inst.settle, symbol=inst.symbol, kind=FUNDING_RATE_KIND,
            amount=rate, balance=uow.get_balance(house, HOUSE_ACCOUNT, inst.settle).available,
            ref_id=None, created_ms=at_ms))
        return bills

    def _pay_funding(self, uow, inst: Instrument, pos: Position, mark: Decimal, rate: Decimal,
                     at_ms: int) -> Bill | None:
        if inst.inverse:  # the position's value in coin at the mark: its USD face over the mark
            due = money(pos.size * pos.entry_price * rate / mark)
        else:
            due = money(notional(inst, mark, pos.size) * rate)
        due *= pos.side.sign  # positive: the position pays
        from_balance = from_margin = ZERO
        if due > 0:
            if pos.margin_mode is MarginMode.CROSSED:
                available = uow.get_balance(pos.uid, inst.market, inst.settle).available
                from_balance = min(due, max(available, ZERO))
            from_margin = min(due - from_balance, pos.margin)
        elif pos.margin_mode is MarginMode.CROSSED:
            from_balance = due
        else:
            from_margin = due
        paid = from_balance + from_margin
        if paid == 0:
            return None
        if from_balance:
            accounts.move(uow, pos.uid, inst.market, inst.settle, available=-from_balance, now_ms=at_ms)
        self._house(uow, pos.venue, inst.settle, paid, at_ms)
        pos.margin -= from_margin
        pos.funding += paid
        pos.updated_ms = at_ms
        uow.update_position(pos)
        bill = Bill(
            bill_id=self.ids.next_id(uow, pos.venue, at_ms), uid=pos.uid, venue=pos.venue,
            account=inst.market, asset=inst.settle, symbol=inst.symbol, kind=FUNDING_KIND,
            amount=-paid, balance=uow.get_balance(pos.uid, inst.market, inst.settle).available,
            ref_id=pos.position_id, created_ms=at_ms)
        uow.insert_bill(bill)
        liq = liquidation_price(inst, pos)
        if liq is not None and (mark <= liq if pos.side is PositionSide.LONG else mark >= liq):
            self._liquidate(inst, pos.position_id, mark)(uow)
        return bill

    def funding_history(self, uow, inst: Instrument) -> list[tuple[int, Decimal]]:
        """The rates settled so far, newest first: (settlement time, rate)."""
        return [(b.created_ms, b.amount)
                for b in uow.list_bills(house_uid(inst.venue), account=inst.market,
                                        kinds=[FUNDING_RATE_KIND], symbol=inst.symbol, limit=None)]

    # ---- reading ---------------------------------------------------------------------------------
    def equity(self, uow, uid: str, market: str, settle: str) -> tuple[Decimal, Decimal, Decimal]:
        """(available + frozen, position margin, unrealized PnL) of one futures account."""
        bal = uow.get_balance(uid, market, settle)
        margin = upnl = ZERO
        for pos in uow.list_positions(uid, market=market, open_only=True):
            inst = uow.get_instrument(pos.venue, pos.market, pos.symbol)
            margin += pos.margin
            mark = self.mark(uow, inst)
            if mark is not None:
                upnl += unrealized_pnl(inst, pos, mark)
        return bal.available + bal.frozen, margin, upnl
