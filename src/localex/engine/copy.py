"""Futures copy trading: elite traders, their tracking orders, and the followers who copy them.

Venue-agnostic, built on the futures book as one of its listeners:

- an elite trader (User.elite_trader) trades in hedge mode; the symbols they lead on are their
  copy symbols (each with a maximum leverage, a minimum open size and optional take-profit /
  stop-loss ratios);
- every filled opening order of a trader on an enabled copy symbol becomes one tracking order
  (its own number, never merged, although the trader's position merges); its size is a slice
  of the trader's position;
- at that moment every active follower with settings for the symbol gets a copy: a market order
  in the follower's own futures account, opening a position of its own, sized by the follower's
  settings and made only if the follower can pay for all of it (otherwise skipped);
- a tracking order closes only through the copy-trading close (or its own TP/SL): exactly its
  slice of the trader's position and every open copy close at market in one transaction;
- a copy that closes in profit pays the trader a share of its net profit (after fees) at the
  trader's profit-share ratio, at once, from the follower's futures account to the trader's.

Closing a trader's tracked position with an ordinary close order is refused
(TraderMustCloseTracking). A position closed some other way (liquidation, a follower's own
close or TP/SL) closes its tracking order or copy at the end of the price move that closed it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Iterable

from localex.engine.retry import retried
from localex.engine import accounts
from localex.engine.errors import DomainError, NoMarkPrice, NotFound, PricePrecision, UnknownUser
from localex.engine.futures import (
    PRIORITY_STOP,
    UNCHANGED,
    Event,
    crossed,
    notional,
    pnl,
    unrealized_pnl,
)
from localex.engine.spot import scale_of
from localex.engine.model import (
    ZERO,
    FuturesOrder,
    Instrument,
    MarginMode,
    OrderType,
    Position,
    PositionMode,
    PositionSide,
    TradeSide,
    User,
)

OPEN = "open"
CLOSED = "closed"
DAY_MS = 86_400_000
PRIORITY_RECONCILE = 99  # after everything else a move fires at its final price
DEFAULT_PROFIT_SHARE = Decimal("0.1")
DEFAULT_MAX_FOLLOWERS = 1000
TPSL_INTERVAL_MS = 300  # a trader may modify a tracking order's TP/SL once per 300 ms
SHARE_QUANTUM = Decimal("1e-8")

# order sources the copy engine itself uses (the venue may name them)
SOURCE_TRADER = "trader"
SOURCE_TRADER_PROFIT = "trader_profit"
SOURCE_TRADER_LOSS = "trader_loss"
SOURCE_FOLLOWER = "follower"
OWN_SOURCES = {SOURCE_TRADER, SOURCE_TRADER_PROFIT, SOURCE_TRADER_LOSS, SOURCE_FOLLOWER}


# ---- domain errors ----------------------------------------------------------------------------

class NotATrader(DomainError):
    """A trader-only operation by a user who is not an elite trader."""


class TrackingNotFound(NotFound):
    """No such tracking order (or it does not match the symbol given)."""


class TrackingNotOpen(DomainError):
    """The tracking order (or copy) is already closed."""


class NotCopySymbol(DomainError):
    """The contract does not exist or does not support copy trading. details: symbol"""


class CopySymbolNotSet(DomainError):
    """The trader has not opened this symbol for copy trading. details: symbol"""


class TraderMustCloseTracking(DomainError):
    """An elite trader's tracked position closes only through its tracking orders."""


class TraderLeverageTooHigh(DomainError):
    """details: maximum"""


class TraderBelowMinimum(DomainError):
    """details: minimum"""


class TpslTooFrequent(DomainError):
    """A trader modified a tracking order's TP/SL less than 300 ms ago."""


class TpslWrongSide(DomainError):
    """details: kind ("tp"/"sl"), side ("long"/"short")"""


class TraderNotFound(NotFound):
    """Following someone who is not an elite trader."""


class FollowSelf(DomainError):
    pass


class TraderCannotFollow(DomainError):
    """An elite trader cannot follow anyone."""


class TraderFull(DomainError):
    """The trader has as many followers as allowed."""


class NotFollowing(DomainError):
    """The follower does not follow that trader."""


class FollowerNotFound(NotFound):
    """The trader has no such follower."""


class TraderHedgeOnly(DomainError):
    """An elite trader's copy-trading markets stay in hedge mode."""


class NothingToClose(DomainError):
    pass


# ---- data --------------------------------------------------------------------------------------

class TraceType(str, enum.Enum):
    """How a follower sizes a copy."""

    FIXED_AMOUNT = "fixed_amount"  # a fixed margin per copy, in the settle coin
    MULTIPLE = "multiple"  # the trader's margin times the value
    FIXED_SIZE = "fixed_size"  # a fixed size per copy, in base coin
    RATIO = "ratio"  # the trader's margin times copy amount / trader's equity ("smart" follows)


class FollowMode(str, enum.Enum):
    ADVANCED = "advanced"  # per-symbol settings
    BASIC = "basic"
    SMART = "smart"  # one copy amount for every symbol of the trader, sized by ratio


@dataclass
class CopyTrader:
    uid: str
    profit_share_ratio: Decimal = DEFAULT_PROFIT_SHARE
    enabled: bool = True
    show_total_equity: bool = True
    show_tpsl: bool = True
    max_followers: int = DEFAULT_MAX_FOLLOWERS
    last_tpsl_ms: int = 0
    created_ms: int = 0


@dataclass
class CopySymbol:
    uid: str
    market: str
    symbol: str
    enabled: bool = True
    max_leverage: int = 125
    min_open_size: Decimal = ZERO
    tp_ratio: int | None = None  # percent of margin, 1..400
    sl_ratio: int | None = None


@dataclass
class Follow:
    trader_uid: str
    follower_uid: str
    active: bool = True
    auto_copy: bool = True
    mode: str = FollowMode.ADVANCED.value
    copy_amount: Decimal | None = None  # smart follows
    margin_mode: str = "follow_trader"  # smart follows: follow_trader / crossed / isolated
    leverage_type: str = "follow_trader"  # smart follows: follow_trader / fixed
    leverage: int = 10
    first_followed_ms: int = 0
    followed_ms: int = 0
    unfollowed_ms: int | None = None


@dataclass
class FollowerSetting:
    trader_uid: str
    follower_uid: str
    market: str
    symbol: str
    margin_type: str = "trader"  # trader / specify (the follower's own margin mode)
    margin_coin: str = ""
    lever_type: str = "trader"  # trader / specify / position
    long_leverage: int | None = None
    short_leverage: int | None = None
    trace_type: str = TraceType.FIXED_AMOUNT.value
    trace_value: Decimal = ZERO
    max_hold_size: Decimal | None = None
    tp_ratio: int | None = None
    sl_ratio: int | None = None


@dataclass
class Tracking:
    tracking_no: int
    trader_uid: str
    venue: str
    market: str
    symbol: str
    pos_side: str
    margin_mode: str
    leverage: int
    position_id: int
    open_order_id: int
    open_price: Decimal
    open_size: Decimal
    open_fee: Decimal  # paid, positive
    open_margin: Decimal
    open_ms: int
    tp_price: Decimal | None
    sl_price: Decimal | None
    follow_count: int = 0
    status: str = OPEN
    close_order_id: int | None = None
    close_price: Decimal = ZERO
    close_size: Decimal = ZERO
    close_fee: Decimal = ZERO
    close_ms: int | None = None
    achieved_pl: Decimal = ZERO
    stop_type: str = ""  # "profit" / "loss" when its TP / SL closed it

    @property
    def side(self) -> PositionSide:
        return PositionSide(self.pos_side)


@dataclass
class FollowerCopy:
    tracking_no: int  # the follower's own tracking number
    trader_tracking_no: int
    trader_uid: str
    follower_uid: str
    venue: str
    market: str
    symbol: str
    pos_side: str
    margin_mode: str
    leverage: int
    position_id: int
    open_order_id: int
    open_price: Decimal
    open_size: Decimal
    open_fee: Decimal
    open_margin: Decimal
    open_ms: int
    status: str = OPEN
    close_order_id: int | None = None
    close_price: Decimal = ZERO
    close_size: Decimal = ZERO
    close_fee: Decimal = ZERO
    close_ms: int | None = None
    achieved_pl: Decimal = ZERO
    profit_share: Decimal = ZERO

    @property
    def side(self) -> PositionSide:
        return PositionSide(self.pos_side)

    @property
    def net_profit(self) -> Decimal:
        return self.achieved_pl - self.profit_share


@dataclass
class ProfitShare:
    profit_id: int
    trader_uid: str
    follower_uid: str
    coin: str
    amount: Decimal
    follower_tracking_no: int
    created_ms: int


@dataclass
class SymbolChange:
    """One entry of a trader's copy-symbol settings change: action add / delete / update;
    tp_ratio / sl_ratio: UNCHANGED, None (cancel) or 1..400."""

    market: str
    symbol: str
    action: str
    tp_ratio: object = UNCHANGED
    sl_ratio: object = UNCHANGED


@dataclass
class TraderSummary:
    tracking_count: int
    total_followers: int
    current_followers: int
    total_pl: Decimal
    gains: int
    losses: int
    roi: Decimal  # percent
    win_rate: Decimal  # percent
    symbols: list[str]
    week: list[tuple[int, Decimal, Decimal]]  # (day start ms, roi percent, profit)
    month: list[tuple[int, Decimal, Decimal]]
    equity: Decimal


@dataclass
class FollowerView:
    follow: Follow
    user: User
    equity: Decimal


@dataclass
class TraderView:
    follow: Follow
    trader: User
    symbols: list[str]
    margin: Decimal  # margin of the follower's open copies of this trader
    profit: Decimal  # realized PnL of the closed copies
    net_profit: Decimal  # less profit shares


@dataclass
class ProfitSummary:
    yesterday: Decimal
    yesterday_ms: int
    total: Decimal
    pending: Decimal
    per_coin: list[tuple[str, Decimal, int]]  # (coin, total, last time)


# ---- helpers ----------------------------------------------------------------------------------

def _quantize_down(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def ratio_price(inst: Instrument, side: PositionSide, entry: Decimal, leverage: int, ratio: int,
                profit: bool) -> Decimal:
    """The price at which a position opened at `entry` gains (or loses) `ratio`% of its margin."""
    move = Decimal(ratio) / 100 / leverage
    up = (side is PositionSide.LONG) == profit
    price = entry * (1 + move) if up else entry * (1 - move)
    return price.quantize(Decimal(1).scaleb(-inst.price_scale))


def day_start(ms: int) -> int:
    return ms - ms % DAY_MS


# ---- the book ---------------------------------------------------------------------------------

class CopyBook:
    """Copy-trading rules over one unit of work at a time. Registered as a futures listener."""

    def __init__(self, futures, ids, clock) -> None:
        self.futures = futures
        self.ids = ids
        self.clock = clock
        # close a tracking order's copies with set-based reads (False: each copy on its own, the
        # reference the bulk way must match row for row and event for event)
        self.bulk = True

    # ---- look-ups -----------------------------------------------------------------------------
    def trader(self, uow, uid: str) -> CopyTrader:
        user = uow.get_user(uid)
        if user is None:
            raise UnknownUser(uid, uid=uid)
        if not user.elite_trader:
            raise NotATrader("not an elite trader", uid=uid)
        return uow.get_copy_trader(uid) or CopyTrader(uid=uid, created_ms=self.clock.now_ms())

    def copy_symbol(self, uow, uid: str, market: str, symbol: str) -> CopySymbol | None:
        return uow.get_copy_symbol(uid, market, symbol)

    def contract(self, uow, venue: str, market: str, symbol: str) -> Instrument:
        inst = uow.get_instrument(venue, market, symbol)
        if inst is None or not inst.is_contract:
            raise NotCopySymbol(symbol, symbol=symbol)
        return inst

    def _mark(self, uow, inst: Instrument) -> Decimal:
        mark = self.futures.mark(uow, inst)
        if mark is None:
            raise NoMarkPrice(f"{inst.symbol} has no price yet", symbol=inst.symbol)
        return mark

    # ---- becoming a trader --------------------------------------------------------------------
    def make_trader(self, uow, user: User, symbols: Iterable[tuple[str, str]] = (),
                    profit_share_ratio: Decimal | None = None, max_followers: int | None = None,
                    max_leverage: int | None = None) -> CopyTrader:
        if uow.list_copy_follows(follower_uid=user.uid, active=True):
            raise TraderCannotFollow("a follower cannot become a trader")
        user.elite_trader = True
        uow.update_user(user)
        trader = uow.get_copy_trader(user.uid) or CopyTrader(uid=user.uid, created_ms=self.clock.now_ms())
        if profit_share_ratio is not None:
            trader.profit_share_ratio = Decimal(profit_share_ratio)
        if max_followers is not None:
            trader.max_followers = max_followers
        uow.put_copy_trader(trader)
        for market, symbol in symbols:
            inst = self.contract(uow, user.venue, market, symbol)
            self._hedge(uow, user.uid, market)
            existing = uow.get_copy_symbol(user.uid, market, symbol)
            cs = existing or CopySymbol(uid=user.uid, market=market, symbol=symbol,
                                        max_leverage=inst.max_leverage, min_open_size=inst.min_size)
            cs.enabled = True
            if max_leverage is not None:
                cs.max_leverage = min(max_leverage, inst.max_leverage)
            uow.put_copy_symbol(cs)
        return trader

    def _hedge(self, uow, uid: str, market: str) -> None:
        """Copy trading is hedge mode only."""
        acct = uow.get_futures_account(uid, market)
        if acct.position_mode is not PositionMode.HEDGE:
            self.futures.set_position_mode(uow, uid, market, PositionMode.HEDGE)

    def set_symbols(self, uow, uid: str, venue: str, changes: list[SymbolChange]) -> None:
        self.trader(uow, uid)
        for ch in changes:
            inst = self.contract(uow, venue, ch.market, ch.symbol)
            cs = uow.get_copy_symbol(uid, ch.market, ch.symbol)
            if ch.action == "add":
                self._hedge(uow, uid, ch.market)
                cs = cs or CopySymbol(uid=uid, market=ch.market, symbol=ch.symbol,
                                      max_leverage=inst.max_leverage, min_open_size=inst.min_size)
                cs.enabled = True
                if ch.tp_ratio is not UNCHANGED:
                    cs.tp_ratio = ch.tp_ratio
                if ch.sl_ratio is not UNCHANGED:
                    cs.sl_ratio = ch.sl_ratio
                uow.put_copy_symbol(cs)
                continue
            if cs is None or not cs.enabled:
                raise CopySymbolNotSet(ch.symbol, symbol=ch.symbol)
            if ch.action == "delete":
                cs.enabled = False
            else:
                if ch.tp_ratio is not UNCHANGED:
                    cs.tp_ratio = ch.tp_ratio
                if ch.sl_ratio is not UNCHANGED:
                    cs.sl_ratio = ch.sl_ratio
            uow.put_copy_symbol(cs)

    def set_base(self, uow, uid: str, enabled=None, show_total_equity=None, show_tpsl=None) -> CopyTrader:
        trader = self.trader(uow, uid)
        if enabled is not None:
            trader.enabled = enabled
        if show_total_equity is not None:
            trader.show_total_equity = show_total_equity
        if show_tpsl is not None:
            trader.show_tpsl = show_tpsl
        uow.put_copy_trader(trader)
        return trader

    # ---- futures listener ----------------------------------------------------------------------
    def before_place(self, uow, user: User, inst: Instrument, *, pos_side: PositionSide,
                     trade_side: TradeSide, size: Decimal, position_id: int | None,
                     source: str) -> None:
        if source in OWN_SOURCES or not user.elite_trader:
            return
        if trade_side is TradeSide.CLOSE:
            if uow.count_open_tracking(user.uid, inst.market, inst.symbol, pos_side.value):
                raise TraderMustCloseTracking("close tracked positions through their tracking orders")
            return
        cs = uow.get_copy_symbol(user.uid, inst.market, inst.symbol)
        if cs is None or not cs.enabled:
            return
        leverage = self.futures.settings(uow, user.uid, inst).leverage(pos_side)
        if leverage > cs.max_leverage:
            raise TraderLeverageTooHigh("trader leverage above the maximum", maximum=cs.max_leverage)
        if size < cs.min_open_size:
            raise TraderBelowMinimum("below the trader's minimum open size", minimum=cs.min_open_size)

    def on_order_filled(self, uow, order: FuturesOrder, position: Position) -> None:
        if order.source in OWN_SOURCES or order.trade_side is not TradeSide.OPEN or position is None:
            return
        user = uow.get_user(order.uid)
        if user is None or not user.elite_trader:
            return
        cs = uow.get_copy_symbol(order.uid, order.market, order.symbol)
        if cs is None or not cs.enabled:
            return
        trader = uow.get_copy_trader(order.uid)
        if trader is not None and not trader.enabled:
            return
        if uow.get_futures_account(order.uid, order.market).position_mode is not PositionMode.HEDGE:
            return
        inst = self.futures.instrument(uow, order.venue, order.market, order.symbol)
        now = self.clock.now_ms()
        side = order.pos_side
        price = order.avg_price
        tp, sl = order.tp_price, order.sl_price
        if tp is None and cs.tp_ratio:
            tp = ratio_price(inst, side, price, order.leverage, cs.tp_ratio, profit=True)
        if sl is None and cs.sl_ratio:
            sl = ratio_price(inst, side, price, order.leverage, cs.sl_ratio, profit=False)
        # the stops belong to the tracking order, not to the merged position
        if position.tp_price is not None or position.sl_price is not None:
            position.tp_price = position.sl_price = None
            uow.update_position(position)
        tracking = Tracking(
            tracking_no=self.ids.next_id(uow, order.venue, now), trader_uid=order.uid,
            venue=order.venue, market=order.market, symbol=order.symbol, pos_side=side.value,
            margin_mode=order.margin_mode.value, leverage=order.leverage,
            position_id=position.position_id, open_order_id=order.order_id, open_price=price,
            open_size=order.filled_size, open_fee=order.fee,
            open_margin=notional(inst, price, order.filled_size) / order.leverage, open_ms=now,
            tp_price=tp, sl_price=sl)
        uow.insert_tracking(tracking)
        tracking.follow_count = self._copy_to_followers(uow, inst, tracking)
        if tracking.follow_count:
            uow.update_tracking(tracking)

    def quiet_band(self, uow, inst: Instrument, band) -> None:
        """Narrow `band` to the prices that fire no tracking order's stop; orders waiting to be
        reconciled close on the next move, whatever its price."""
        for tr in uow.list_tracking_with_stops(inst.venue, inst.market, inst.symbol):
            long = tr.pos_side == PositionSide.LONG.value
            if tr.tp_price is not None:
                (band.above if long else band.below)(tr.tp_price)
            if tr.sl_price is not None:
                (band.below if long else band.above)(tr.sl_price)
        if uow.list_orphan_tracking(inst.venue, inst.market, inst.symbol) or \
                uow.list_orphan_copies(inst.venue, inst.market, inst.symbol):
            band.close()

    def collect_events(self, uow, inst: Instrument, old: Decimal, new: Decimal) -> list[Event]:
        events: list[Event] = []
        for tr in uow.list_tracking_with_stops(inst.venue, inst.market, inst.symbol):
            long = tr.pos_side == PositionSide.LONG.value
            if tr.tp_price is not None and crossed(old, new, tr.tp_price, upward=long):
                events.append(Event(tr.tp_price, PRIORITY_STOP, tr.tracking_no,
                                    self._stop(tr.tracking_no, tr.tp_price, "profit")))
            if tr.sl_price is not None and crossed(old, new, tr.sl_price, upward=not long):
                events.append(Event(tr.sl_price, PRIORITY_STOP, tr.tracking_no,
                                    self._stop(tr.tracking_no, tr.sl_price, "loss")))
        events.append(Event(new, PRIORITY_RECONCILE, 0, self._reconciler(inst, new)))
        return events

    def _stop(self, tracking_no: int, level: Decimal, stop_type: str):
        def fire(uow) -> None:
            tr = uow.get_tracking(tracking_no)
            if tr is None or tr.status != OPEN:
                return
            if (tr.tp_price if stop_type == "profit" else tr.sl_price) != level:
                return
            source = SOURCE_TRADER_PROFIT if stop_type == "profit" else SOURCE_TRADER_LOSS
            self.close_tracking(uow, tr, price=level, stop_type=stop_type, source=source)
        return fire

    def _reconciler(self, inst: Instrument, price: Decimal):
        def fire(uow) -> None:
            self.reconcile(uow, inst, price)
        return fire

    def reconcile(self, uow, inst: Instrument, price: Decimal) -> None:
        """Tracking orders and copies whose position closed some other way close now."""
        for tr in uow.list_orphan_tracking(inst.venue, inst.market, inst.symbol):
            self.close_tracking(uow, tr, price=price, stop_type="", source=SOURCE_TRADER)
        for copy in uow.list_orphan_copies(inst.venue, inst.market, inst.symbol):
            self._close_copy(uow, inst, copy, price)

    # ---- copying ---------------------------------------------------------------------------------
    def _copy_to_followers(self, uow, inst: Instrument, tr: Tracking) -> int:
        made = 0
        mark = self._mark(uow, inst)
        trader_equity = None
        for follow in uow.list_copy_follows(trader_uid=tr.trader_uid, active=True):
            setting = None
            if follow.mode != FollowMode.SMART.value:
                setting = uow.get_follower_setting(tr.trader_uid, follow.follower_uid, tr.market, tr.symbol)
                if setting is None:
                    continue
            elif trader_equity is None:
                total, margin, upnl = self.futures.equity(uow, tr.trader_uid, tr.market, inst.settle)
                trader_equity = total + margin + upnl
            try:
                with uow.savepoint():
                    if self._copy_one(uow, inst, tr, follow, setting, mark, trader_equity):
                        made += 1
            except DomainError:
                continue  # this follower cannot copy now: skipped, nothing of it kept
        return made

    def copy_size(self, uow, inst: Instrument, tr: Tracking, follow: Follow,
                  setting: FollowerSetting | None, mark: Decimal,
                  trader_equity: Decimal | None) -> tuple[Decimal, int, MarginMode]:
        """(size, leverage, margin mode) of a follower's copy; size 0 when there is none."""
        side = tr.side
        follower_st = self.futures.settings(uow, follow.follower_uid, inst)
        if setting is None:  # a smart follow
            leverage = follow.leverage if follow.leverage_type == "fixed" else tr.leverage
            mode = {"crossed": MarginMode.CROSSED, "isolated": MarginMode.ISOLATED}.get(
                follow.margin_mode, MarginMode(tr.margin_mode))
            if not trader_equity or trader_equity <= 0 or not follow.copy_amount:
                return ZERO, leverage, mode
            margin = tr.open_margin * follow.copy_amount / trader_equity
            size = margin * leverage if inst.inverse else margin * leverage / mark
        else:
            if setting.lever_type == "specify":
                chosen = setting.long_leverage if side is PositionSide.LONG else setting.short_leverage
                leverage = chosen or tr.leverage
            elif setting.lever_type == "position":
                leverage = follower_st.leverage(side)
            else:
                leverage = tr.leverage
            mode = follower_st.margin_mode if setting.margin_type == "specify" else MarginMode(tr.margin_mode)
            kind = TraceType(setting.trace_type)
            if kind is TraceType.FIXED_SIZE:
                size = setting.trace_value
            else:
                margin = setting.trace_value if kind is TraceType.FIXED_AMOUNT else tr.open_margin * setting.trace_value
                size = margin * leverage if inst.inverse else margin * leverage / mark
        leverage = max(inst.min_leverage, min(inst.max_leverage, int(leverage)))
        if setting is not None and setting.max_hold_size is not None:
            held = uow.sum_open_copy_size(follow.follower_uid, tr.trader_uid, tr.market, tr.symbol)
            size = min(size, setting.max_hold_size - held)
        size = min(_quantize_down(size, inst.contract_size), inst.max_size)
        if size < inst.min_size or size <= 0:
            return ZERO, leverage, mode
        return size, leverage, mode

    def _copy_one(self, uow, inst: Instrument, tr: Tracking, follow: Follow,
                  setting: FollowerSetting | None, mark: Decimal, trader_equity) -> bool:
        size, leverage, mode = self.copy_size(uow, inst, tr, follow, setting, mark, trader_equity)
        if size <= 0:
            return False
        follower = uow.get_user(follow.follower_uid)
        value = notional(inst, mark, size)
        needed = value / leverage + value * inst.taker_fee
        if uow.get_balance(follower.uid, inst.market, inst.settle).available < needed:
            return False  # not enough to copy all of it: no copy at all
        self._hedge(uow, follower.uid, inst.market)
        side = tr.side
        tp = sl = None
        if setting is not None and setting.tp_ratio:
            tp = ratio_price(inst, side, mark, leverage, setting.tp_ratio, profit=True)
        if setting is not None and setting.sl_ratio:
            sl = ratio_price(inst, side, mark, leverage, setting.sl_ratio, profit=False)
        order = self.futures.place(uow, follower, inst, pos_side=side, trade_side=TradeSide.OPEN,
                                   order_type=OrderType.MARKET, size=size, tp_price=tp, sl_price=sl,
                                   leverage=leverage, margin_mode=mode, source=SOURCE_FOLLOWER,
                                   new_position=True)
        now = self.clock.now_ms()
        uow.insert_follower_copy(FollowerCopy(
            tracking_no=self.ids.next_id(uow, tr.venue, now), trader_tracking_no=tr.tracking_no,
            trader_uid=tr.trader_uid, follower_uid=follower.uid, venue=tr.venue, market=tr.market,
            symbol=tr.symbol, pos_side=tr.pos_side, margin_mode=mode.value, leverage=leverage,
            position_id=order.position_id, open_order_id=order.order_id, open_price=order.avg_price,
            open_size=order.filled_size, open_fee=order.fee,
            open_margin=notional(inst, order.avg_price, order.filled_size) / leverage, open_ms=now))
        return True

    # ---- closing ---------------------------------------------------------------------------------
    def close_tracking(self, uow, tr: Tracking, price: Decimal | None = None, stop_type: str = "",
                       source: str = SOURCE_TRADER) -> Tracking:
        """Close one tracking order: its slice of the trader's position and every open copy."""
        if tr.status != OPEN:
            raise TrackingNotOpen("tracking order is closed", tracking_no=tr.tracking_no)
        inst = self.futures.instrument(uow, tr.venue, tr.market, tr.symbol)
        if price is None:
            price = self._mark(uow, inst)
        now = self.clock.now_ms()
        pos = uow.get_position(tr.position_id, shared=True)  # read only: the close reads it anew
        if pos is not None and pos.open and pos.size > 0:
            size = min(tr.open_size, pos.size)
            order = self.futures._market_close(uow, inst, pos, size, price, source)
            tr.close_order_id, tr.close_fee, tr.close_size, tr.close_price = order.order_id, order.fee, size, price
        else:  # the position is gone already (liquidated): the slice closed with it
            tr.close_size = tr.open_size
            tr.close_price = pos.avg_close_price if pos is not None and pos.closed_size else price
        tr.achieved_pl = pnl(inst, tr.side, tr.open_price, tr.close_price, tr.close_size)
        tr.status, tr.close_ms, tr.stop_type = CLOSED, now, stop_type
        uow.update_tracking(tr)
        copies = uow.list_copies_of(tr.tracking_no, open_only=True)
        if copies and self.bulk:
            # every copy's position in a few statements, and which may have stop orders in one;
            # the trader's share of profits read once (closing copies never changes it)
            uow.get_positions([copy.position_id for copy in copies])
            ratios = {tr.trader_uid: self._profit_share_ratio(uow, tr.trader_uid)}
            with self.futures.known_stops(uow, inst):
                for copy in copies:
                    self._close_copy(uow, inst, copy, price, ratios)
        else:
            for copy in copies:
                self._close_copy(uow, inst, copy, price)
        return tr

    def _close_copy(self, uow, inst: Instrument, copy: FollowerCopy, price: Decimal,
                    ratios: dict | None = None) -> FollowerCopy:
        pos = uow.get_position(copy.position_id, shared=True)  # read only: the close reads it anew
        now = self.clock.now_ms()
        if pos is not None and pos.open and pos.size > 0:
            order = self.futures._market_close(uow, inst, pos, pos.size, price, SOURCE_FOLLOWER)
            pos = uow.get_position(copy.position_id, shared=True)
            copy.close_order_id = order.order_id
        if pos is not None:
            copy.close_size = pos.closed_size
            copy.close_price = pos.avg_close_price
            copy.close_fee = pos.fees - copy.open_fee
            copy.achieved_pl = pos.realized_pnl
        copy.status, copy.close_ms = CLOSED, now
        self._share_profit(uow, inst, copy, now, ratios)
        uow.update_follower_copy(copy, given=True)  # callers only read it from here on
        return copy

    @staticmethod
    def _profit_share_ratio(uow, trader_uid: str) -> Decimal:
        trader = uow.get_copy_trader(trader_uid)
        return trader.profit_share_ratio if trader is not None else DEFAULT_PROFIT_SHARE

    def _share_profit(self, uow, inst: Instrument, copy: FollowerCopy, now: int,
                      ratios: dict | None = None) -> None:
        net = copy.achieved_pl - copy.open_fee - copy.close_fee
        if net <= 0:
            return
        ratio = ratios.get(copy.trader_uid) if ratios is not None else None
        if ratio is None:
            ratio = self._profit_share_ratio(uow, copy.trader_uid)
        share = (net * ratio).quantize(SHARE_QUANTUM, rounding=ROUND_DOWN)
        available = uow.get_balance(copy.follower_uid, inst.market, inst.settle, shared=True).available
        share = min(share, available)
        if share <= 0:
            return
        accounts.move(uow, copy.follower_uid, inst.market, inst.settle, available=-share, now_ms=now)
        accounts.move(uow, copy.trader_uid, inst.market, inst.settle, available=share, now_ms=now)
        copy.profit_share = share
        uow.insert_profit_share(ProfitShare(
            profit_id=self.ids.next_id(uow, copy.venue, now), trader_uid=copy.trader_uid,
            follower_uid=copy.follower_uid, coin=inst.settle, amount=share,
            follower_tracking_no=copy.tracking_no, created_ms=now), given=True)

    def close_trader(self, uow, uid: str, market: str, tracking_no: int | None = None,
                     symbol: str | None = None) -> list[Tracking]:
        """order-close-positions: one tracking order, a symbol's, or every one of a market."""
        self.trader(uow, uid)
        if tracking_no is not None:
            tr = uow.get_tracking(tracking_no)
            if tr is None or tr.trader_uid != uid or tr.market != market or (
                    symbol is not None and tr.symbol != symbol):
                raise TrackingNotFound("no such tracking order", tracking_no=tracking_no)
            return [self.close_tracking(uow, tr)]
        closed = []
        for tr in uow.list_tracking(uid, market, symbol=symbol, open_only=True, ascending=True):
            closed.append(self.close_tracking(uow, tr))
        return closed

    def modify_tpsl(self, uow, uid: str, market: str, tracking_no: int, tp=UNCHANGED,
                    sl=UNCHANGED) -> Tracking:
        trader = self.trader(uow, uid)
        tr = uow.get_tracking(tracking_no)
        if tr is None or tr.trader_uid != uid or tr.market != market:
            raise TrackingNotFound("no such tracking order", tracking_no=tracking_no)
        if tr.status != OPEN:
            raise TrackingNotOpen("tracking order is closed", tracking_no=tracking_no)
        now = self.clock.now_ms()
        if trader.last_tpsl_ms and now - trader.last_tpsl_ms < TPSL_INTERVAL_MS:
            raise TpslTooFrequent("once per 300 ms")
        inst = self.futures.instrument(uow, tr.venue, tr.market, tr.symbol)
        mark = self.futures.mark(uow, inst)
        self._check_stops(inst, tr.side, tp, sl, mark)
        if tp is not UNCHANGED:
            tr.tp_price = tp
        if sl is not UNCHANGED:
            tr.sl_price = sl
        uow.update_tracking(tr)
        trader.last_tpsl_ms = now
        uow.put_copy_trader(trader)
        return tr

    @staticmethod
    def _check_stops(inst: Instrument, side: PositionSide, tp, sl, mark: Decimal | None) -> None:
        for level in (tp, sl):
            if level not in (UNCHANGED, None) and scale_of(level) > inst.price_scale:
                raise PricePrecision("price scale", value=level, scale=inst.price_scale)
        if mark is None:
            return
        long = side is PositionSide.LONG
        if tp not in (UNCHANGED, None) and (tp <= mark if long else tp >= mark):
            raise TpslWrongSide("take-profit on the wrong side", kind="tp", side=side.value)
        if sl not in (UNCHANGED, None) and (sl >= mark if long else sl <= mark):
            raise TpslWrongSide("stop-loss on the wrong side", kind="sl", side=side.value)

    # ---- followers -------------------------------------------------------------------------------
    def _check_followable(self, uow, follower: User, trader_uid: str) -> tuple[User, CopyTrader]:
        if follower.uid == trader_uid:
            raise FollowSelf("cannot follow yourself")
        if follower.elite_trader:
            raise TraderCannotFollow("a trader cannot follow")
        lead = uow.get_user(trader_uid)
        if lead is None or not lead.elite_trader or lead.venue != follower.venue:
            raise TraderNotFound("no such trader", uid=trader_uid)
        trader = uow.get_copy_trader(trader_uid) or CopyTrader(uid=trader_uid)
        return lead, trader

    def _follow(self, uow, follower: User, trader_uid: str) -> Follow:
        _, trader = self._check_followable(uow, follower, trader_uid)
        now = self.clock.now_ms()
        follow = uow.get_copy_follow(trader_uid, follower.uid)
        if follow is not None and follow.active:
            return follow
        if len(uow.list_copy_follows(trader_uid=trader_uid, active=True)) >= trader.max_followers:
            raise TraderFull("the trader has as many followers as allowed")
        if follow is None:
            follow = Follow(trader_uid=trader_uid, follower_uid=follower.uid, first_followed_ms=now,
                            followed_ms=now)
        follow.active, follow.followed_ms, follow.unfollowed_ms = True, now, None
        return follow

    def follow(self, uow, follower: User, trader_uid: str, settings: list[FollowerSetting],
               mode: str | None = None, auto_copy: bool | None = None) -> Follow:
        follow = self._follow(uow, follower, trader_uid)
        follow.mode = mode or FollowMode.ADVANCED.value
        if auto_copy is not None:
            follow.auto_copy = auto_copy
        uow.put_copy_follow(follow)
        for st in settings:
            inst = self.contract(uow, follower.venue, st.market, st.symbol)
            cs = uow.get_copy_symbol(trader_uid, st.market, st.symbol)
            if cs is None or not cs.enabled:
                raise CopySymbolNotSet(st.symbol, symbol=st.symbol)
            st.trader_uid, st.follower_uid = trader_uid, follower.uid
            st.margin_coin = st.margin_coin or inst.settle
            uow.put_follower_setting(st)
            self._hedge(uow, follower.uid, st.market)
        return follow

    def copy_settings(self, uow, follower: User, trader_uid: str, copy_amount: Decimal,
                      margin_mode: str = "follow_trader", leverage_type: str = "follow_trader",
                      leverage: int = 10, auto_copy: bool | None = None) -> Follow:
        follow = self._follow(uow, follower, trader_uid)
        follow.mode = FollowMode.SMART.value
        follow.copy_amount = copy_amount
        follow.margin_mode, follow.leverage_type, follow.leverage = margin_mode, leverage_type, leverage
        if auto_copy is not None:
            follow.auto_copy = auto_copy
        uow.put_copy_follow(follow)
        for cs in uow.list_copy_symbols(trader_uid):
            if cs.enabled:
                self._hedge(uow, follower.uid, cs.market)
        return follow

    def unfollow(self, uow, follower_uid: str, trader_uid: str, error=NotFollowing) -> Follow:
        follow = uow.get_copy_follow(trader_uid, follower_uid)
        if follow is None or not follow.active:
            raise error("not following")
        # the follower's open copies of this trader close with the relationship
        for copy in uow.list_follower_copies(follower_uid, trader_uid=trader_uid, open_only=True):
            inst = self.futures.instrument(uow, copy.venue, copy.market, copy.symbol)
            self._close_copy(uow, inst, copy, self._mark(uow, inst))
        follow.active, follow.unfollowed_ms = False, self.clock.now_ms()
        uow.put_copy_follow(follow)
        return follow

    def follower_close(self, uow, follower_uid: str, market: str, tracking_no: int | None = None,
                       symbol: str | None = None, margin_mode: MarginMode | None = None,
                       side: PositionSide | None = None) -> list[FollowerCopy]:
        if tracking_no is not None:
            copy = uow.get_follower_copy(tracking_no)
            if copy is None or copy.follower_uid != follower_uid or copy.market != market or (
                    symbol is not None and copy.symbol != symbol) or (
                    side is not None and copy.pos_side != side.value) or (
                    margin_mode is not None and copy.margin_mode != margin_mode.value):
                raise TrackingNotFound("no such tracking order", tracking_no=tracking_no)
            if copy.status != OPEN:
                raise TrackingNotOpen("tracking order is closed", tracking_no=tracking_no)
            copies = [copy]
        else:
            copies = [c for c in uow.list_follower_copies(follower_uid, market=market, symbol=symbol,
                                                          open_only=True, ascending=True)
                      if (side is None or c.pos_side == side.value)
                      and (margin_mode is None or c.margin_mode == margin_mode.value)]
            if not copies:
                raise NothingToClose("no position to close")
        closed = []
        for copy in copies:
            inst = self.futures.instrument(uow, copy.venue, copy.market, copy.symbol)
            closed.append(self._close_copy(uow, inst, copy, self._mark(uow, inst)))
        return closed

    def follower_tpsl(self, uow, follower_uid: str, market: str, tracking_no: int,
                      symbol: str | None = None, tp=UNCHANGED, sl=UNCHANGED) -> FollowerCopy:
        copy = uow.get_follower_copy(tracking_no)
        if copy is None or copy.follower_uid != follower_uid or copy.market != market or (
                symbol is not None and copy.symbol != symbol):
            raise TrackingNotFound("no such tracking order", tracking_no=tracking_no)
        if copy.status != OPEN:
            raise TrackingNotOpen("tracking order is closed", tracking_no=tracking_no)
        pos = uow.get_position(copy.position_id)
        if pos is None or not pos.open:
            raise TrackingNotOpen("tracking order is closed", tracking_no=tracking_no)
        inst = self.futures.instrument(uow, copy.venue, copy.market, copy.symbol)
        self._check_stops(inst, copy.side, tp, sl, self.futures.mark(uow, inst))
        self.futures.set_position_tpsl(uow, pos, tp, sl)
        return copy

    # ---- reading ---------------------------------------------------------------------------------
    def summary(self, uow, uid: str) -> TraderSummary:
        self.trader(uow, uid)
        now = self.clock.now_ms()
        closed = uow.list_tracking(uid, None, open_only=False)
        total = uow.count_tracking(uid)
        follows = uow.list_copy_follows(trader_uid=uid)
        gains = sum(1 for t in closed if t.achieved_pl > 0)
        losses = sum(1 for t in closed if t.achieved_pl < 0)
        pl = sum((t.achieved_pl for t in closed), ZERO)
        margin = sum((t.open_margin for t in closed), ZERO)

        def days(span: int) -> list[tuple[int, Decimal, Decimal]]:
            buckets: dict[int, list[Decimal]] = {}
            for t in closed:
                if t.close_ms is not None and t.close_ms >= now - span * DAY_MS:
                    b = buckets.setdefault(day_start(t.close_ms), [ZERO, ZERO])
                    b[0] += t.achieved_pl
                    b[1] += t.open_margin
            return [(day, (p / m * 100) if m else ZERO, p) for day, (p, m) in sorted(buckets.items())]

        symbols = [cs.symbol for cs in uow.list_copy_symbols(uid) if cs.enabled]
        equity = ZERO
        for cs_market in sorted({cs.market for cs in uow.list_copy_symbols(uid)}):
            settle = next((i.settle for i in uow.list_instruments(None, cs_market)), "")
            if settle:
                a, m, u = self.futures.equity(uow, uid, cs_market, settle)
                equity += a + m + u
        return TraderSummary(
            tracking_count=total, total_followers=len(follows),
            current_followers=sum(1 for f in follows if f.active), total_pl=pl, gains=gains,
            losses=losses, roi=(pl / margin * 100) if margin else ZERO,
            win_rate=(Decimal(gains) / (gains + losses) * 100) if gains + losses else ZERO,
            symbols=sorted(set(symbols)), week=days(7), month=days(30), equity=equity)

    def followers(self, uow, uid: str, start_ms: int | None = None,
                  end_ms: int | None = None) -> list[FollowerView]:
        self.trader(uow, uid)
        out = []
        for follow in uow.list_copy_follows(trader_uid=uid, active=True):
            if start_ms is not None and follow.first_followed_ms < start_ms:
                continue
            if end_ms is not None and follow.first_followed_ms > end_ms:
                continue
            user = uow.get_user(follow.follower_uid)
            equity = ZERO
            for market in sorted({c.market for c in uow.list_follower_copies(
                    follow.follower_uid, trader_uid=uid)} or {"usdt-futures"}):
                settle = next((i.settle for i in uow.list_instruments(user.venue, market)), "")
                if settle:
                    a, m, u = self.futures.equity(uow, follow.follower_uid, market, settle)
                    equity += a + m + u
            out.append(FollowerView(follow, user, equity))
        out.sort(key=lambda v: (-v.follow.first_followed_ms, v.follow.follower_uid))
        return out

    def remove_follower(self, uow, uid: str, follower_uid: str) -> Follow:
        self.trader(uow, uid)
        return self.unfollow(uow, follower_uid, uid, error=FollowerNotFound)

    def pending_shares(self, uow, uid: str) -> list[tuple[str, str, Decimal]]:
        """(follower uid, coin, expected share) from followers' open copies in profit."""
        trader = self.trader(uow, uid)
        shares: dict[tuple[str, str], Decimal] = {}
        for copy in uow.list_copies_of_trader(uid, open_only=True):
            inst = uow.get_instrument(copy.venue, copy.market, copy.symbol)
            pos = uow.get_position(copy.position_id)
            mark = self.futures.mark(uow, inst)
            if pos is None or not pos.open or mark is None:
                continue
            gain = unrealized_pnl(inst, pos, mark) - pos.fees
            key = (copy.follower_uid, inst.settle)
            shares[key] = shares.get(key, ZERO) + max(gain, ZERO) * trader.profit_share_ratio
        return [(f, coin, amount.quantize(SHARE_QUANTUM, rounding=ROUND_DOWN))
                for (f, coin), amount in sorted(shares.items())]

    def profit_summary(self, uow, uid: str) -> ProfitSummary:
        self.trader(uow, uid)
        today = day_start(self.clock.now_ms())
        yesterday = today - DAY_MS
        per_coin: dict[str, list] = {}
        total = y = ZERO
        for share in uow.list_profit_shares(uid):
            total += share.amount
            if yesterday <= share.created_ms < today:
                y += share.amount
            entry = per_coin.setdefault(share.coin, [ZERO, 0])
            entry[0] += share.amount
            entry[1] = max(entry[1], share.created_ms)
        pending = sum((a for _, _, a in self.pending_shares(uow, uid)), ZERO)
        return ProfitSummary(yesterday=y, yesterday_ms=yesterday, total=total, pending=pending,
                             per_coin=[(c, v[0], v[1]) for c, v in sorted(per_coin.items())])

    def profit_by_coin_date(self, uow, uid: str) -> list[tuple[str, Decimal, int]]:
        """(coin, total, day start ms), newest day first."""
        self.trader(uow, uid)
        buckets: dict[tuple[int, str], Decimal] = {}
        for share in uow.list_profit_shares(uid):
            key = (day_start(share.created_ms), share.coin)
            buckets[key] = buckets.get(key, ZERO) + share.amount
        return [(coin, amount, day) for (day, coin), amount in
                sorted(buckets.items(), key=lambda kv: (-kv[0][0], kv[0][1]))]

    def my_traders(self, uow, follower_uid: str, start_ms=None, end_ms=None) -> list[TraderView]:
        out = []
        for follow in uow.list_copy_follows(follower_uid=follower_uid, active=True):
            if start_ms is not None and follow.first_followed_ms < start_ms:
                continue
            if end_ms is not None and follow.first_followed_ms > end_ms:
                continue
            lead = uow.get_user(follow.trader_uid)
            copies = uow.list_follower_copies(follower_uid, trader_uid=follow.trader_uid)
            margin = sum((c.open_margin for c in copies if c.status == OPEN), ZERO)
            profit = sum((c.achieved_pl for c in copies if c.status == CLOSED), ZERO)
            net = sum((c.net_profit - c.open_fee - c.close_fee for c in copies if c.status == CLOSED), ZERO)
            symbols = sorted({cs.symbol for cs in uow.list_copy_symbols(follow.trader_uid) if cs.enabled})
            out.append(TraderView(follow, lead, symbols, margin, profit, net))
        out.sort(key=lambda v: (-v.follow.first_followed_ms, v.follow.trader_uid))
        return out


# ---- the facade: one transaction per call -----------------------------------------------------

@retried(lambda copy: copy.engine)
@dataclass
class CopyTrading:
    """engine.copy: copy-trading operations, each one transaction, all or nothing."""

    engine: object
    book: CopyBook = field(init=False)

    def __post_init__(self) -> None:
        e = self.engine
        self.book = CopyBook(e.futures, e.ids, e.clock)
        e.futures.listeners.append(self.book)

    def _tx(self, read_only: bool = False):
        return self.engine.tx(read_only)

    def _user(self, uow, uid: str) -> User:
        user = uow.get_user(uid)
        if user is None:
            raise UnknownUser(uid, uid=uid)
        return user

    # traders
    def make_trader(self, uid: str, symbols: Iterable[tuple[str, str]] = (),
                    profit_share_ratio: Decimal | None = None, max_followers: int | None = None,
                    max_leverage: int | None = None) -> CopyTrader:
        with self._tx() as uow:
            return self.book.make_trader(uow, self._user(uow, uid), symbols, profit_share_ratio,
                                         max_followers, max_leverage)

    def trader(self, uid: str) -> CopyTrader:
        with self._tx(True) as uow:
            return self.book.trader(uow, uid)

    def is_trader(self, uid: str) -> bool:
        with self._tx(True) as uow:
            user = uow.get_user(uid)
            return bool(user and user.elite_trader)

    def symbols(self, uid: str, venue: str, market: str) -> list[tuple[Instrument, CopySymbol | None]]:
        """Every contract of the market, with the trader's copy settings for it (None: not set)."""
        with self._tx(True) as uow:
            self.book.trader(uow, uid)
            return [(inst, uow.get_copy_symbol(uid, market, inst.symbol))
                    for inst in uow.list_instruments(venue, market) if inst.is_contract]

    def set_symbols(self, uid: str, venue: str, changes: list[SymbolChange]) -> None:
        with self._tx() as uow:
            self.book.set_symbols(uow, uid, venue, changes)

    def set_base(self, uid: str, **flags) -> CopyTrader:
        with self._tx() as uow:
            return self.book.set_base(uow, uid, **flags)

    def tracking_orders(self, uid: str, market: str, *, symbol: str | None = None,
                        open_only: bool = True, start_ms: int | None = None,
                        end_ms: int | None = None, id_less_than: int | None = None,
                        id_greater_than: int | None = None, limit: int = 20,
                        ascending: bool = False) -> list[Tracking]:
        with self._tx(True) as uow:
            self.book.trader(uow, uid)
            return uow.list_tracking(uid, market, symbol=symbol, open_only=open_only,
                                     start_ms=start_ms, end_ms=end_ms, id_less_than=id_less_than,
                                     id_greater_than=id_greater_than, limit=limit, ascending=ascending)

    def tracking(self, tracking_no: int) -> Tracking | None:
        with self._tx(True) as uow:
            return uow.get_tracking(tracking_no)

    def copies_of(self, tracking_no: int) -> list[FollowerCopy]:
        with self._tx(True) as uow:
            return uow.list_copies_of(tracking_no)

    def close(self, uid: str, market: str, tracking_no: int | None = None,
              symbol: str | None = None) -> list[Tracking]:
        with self._tx() as uow:
            return self.book.close_trader(uow, uid, market, tracking_no, symbol)

    def modify_tpsl(self, uid: str, market: str, tracking_no: int, tp=UNCHANGED, sl=UNCHANGED) -> Tracking:
        with self._tx() as uow:
            return self.book.modify_tpsl(uow, uid, market, tracking_no, tp, sl)

    def summary(self, uid: str) -> TraderSummary:
        with self._tx(True) as uow:
            return self.book.summary(uow, uid)

    def followers(self, uid: str, start_ms: int | None = None, end_ms: int | None = None) -> list[FollowerView]:
        with self._tx(True) as uow:
            return self.book.followers(uow, uid, start_ms, end_ms)

    def remove_follower(self, uid: str, follower_uid: str) -> Follow:
        with self._tx() as uow:
            return self.book.remove_follower(uow, uid, follower_uid)

    def profit_summary(self, uid: str) -> ProfitSummary:
        with self._tx(True) as uow:
            return self.book.profit_summary(uow, uid)

    def profit_shares(self, uid: str, **filters) -> list[ProfitShare]:
        with self._tx(True) as uow:
            self.book.trader(uow, uid)
            return uow.list_profit_shares(uid, **filters)

    def pending_shares(self, uid: str) -> list[tuple[str, str, Decimal]]:
        with self._tx(True) as uow:
            return self.book.pending_shares(uow, uid)

    def profit_by_coin_date(self, uid: str) -> list[tuple[str, Decimal, int]]:
        with self._tx(True) as uow:
            return self.book.profit_by_coin_date(uow, uid)

    # followers
    def follow(self, follower_uid: str, trader_uid: str, settings: list[FollowerSetting],
               mode: str | None = None, auto_copy: bool | None = None) -> Follow:
        with self._tx() as uow:
            return self.book.follow(uow, self._user(uow, follower_uid), trader_uid, settings, mode, auto_copy)

    def copy_settings(self, follower_uid: str, trader_uid: str, copy_amount: Decimal, **options) -> Follow:
        with self._tx() as uow:
            return self.book.copy_settings(uow, self._user(uow, follower_uid), trader_uid,
                                           copy_amount, **options)

    def follower_settings(self, follower_uid: str, trader_uid: str) -> tuple[Follow | None, list[FollowerSetting]]:
        with self._tx(True) as uow:
            lead = uow.get_user(trader_uid)
            if lead is None or not lead.elite_trader:
                raise TraderNotFound("no such trader", uid=trader_uid)
            return (uow.get_copy_follow(trader_uid, follower_uid),
                    uow.list_follower_settings(trader_uid, follower_uid))

    def unfollow(self, follower_uid: str, trader_uid: str) -> Follow:
        with self._tx() as uow:
            self._user(uow, follower_uid)
            return self.book.unfollow(uow, follower_uid, trader_uid)

    def my_traders(self, follower_uid: str, start_ms=None, end_ms=None) -> list[TraderView]:
        with self._tx(True) as uow:
            return self.book.my_traders(uow, follower_uid, start_ms, end_ms)

    def follower_copies(self, follower_uid: str, **filters) -> list[FollowerCopy]:
        with self._tx(True) as uow:
            return uow.list_follower_copies(follower_uid, **filters)

    def follower_close(self, follower_uid: str, market: str, **target) -> list[FollowerCopy]:
        with self._tx() as uow:
            return self.book.follower_close(uow, follower_uid, market, **target)

    def follower_tpsl(self, follower_uid: str, market: str, tracking_no: int, symbol: str | None = None,
                      tp=UNCHANGED, sl=UNCHANGED) -> FollowerCopy:
        with self._tx() as uow:
            return self.book.follower_tpsl(uow, follower_uid, market, tracking_no, symbol, tp, sl)

    def position_of(self, copy: FollowerCopy) -> Position | None:
        with self._tx(True) as uow:
            return uow.get_position(copy.position_id)

    def user_names(self, uids: Iterable[str]) -> dict[str, str]:
        with self._tx(True) as uow:
            return {uid: (u.name if (u := uow.get_user(uid)) else "") for uid in set(uids)}

