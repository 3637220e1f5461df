"""Plain data the engine works on. No venue wire names, no JSON, no SQL."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


class Side(str, enum.Enum):
    BUY = "buy"
    SELL = "sell"


class OrderType(str, enum.Enum):
    LIMIT = "limit"
    MARKET = "market"


class TimeInForce(str, enum.Enum):
    GTC = "gtc"
    POST_ONLY = "post_only"
    FOK = "fok"
    IOC = "ioc"


class OrderStatus(str, enum.Enum):
    LIVE = "live"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED)


class CancelReason(str, enum.Enum):
    NONE = ""
    USER = "user"  # the owner asked
    STP = "stp"  # self-trade prevention
    IOC = "ioc"  # remainder of an immediate-or-cancel order
    FOK = "fok"  # fill-or-kill could not fill whole
    POST_ONLY = "post_only"  # post-only would have taken liquidity
    REJECTED = "rejected"  # refused through the control plane (manual fill model)


class Liquidity(str, enum.Enum):
    MAKER = "maker"
    TAKER = "taker"


class Permission(str, enum.Enum):
    READ = "read"  # every key can read
    SPOT_TRADE = "spot_trade"
    FUTURES_TRADE = "futures_trade"
    COPY_TRADE = "copy_trade"
    TRANSFER = "transfer"
    WITHDRAW = "withdraw"


DEFAULT_PERMISSIONS = frozenset({Permission.READ, Permission.SPOT_TRADE, Permission.FUTURES_TRADE})


class KeyKind(str, enum.Enum):
    HMAC = "hmac"
    RSA = "rsa"


@dataclass(frozen=True)
class PositionTier:
    """One step of a contract's position tiers: a position whose value lies in (start, end]
    (the first tier from 0) may use at most `max_leverage` and keeps `maintenance_rate` of its
    value as maintenance margin. Values are in the settle coin."""

    level: int
    start: Decimal
    end: Decimal
    max_leverage: int
    maintenance_rate: Decimal


@dataclass(frozen=True)
class Instrument:
    venue: str
    market: str  # "spot", later "usdt-futures", ...
    symbol: str
    base: str
    quote: str
    price_scale: int
    size_scale: int
    quote_scale: int
    min_size: Decimal
    max_size: Decimal
    min_notional: Decimal
    maker_fee: Decimal
    taker_fee: Decimal
    status: str = "online"
    # contracts (perpetual futures); spot leaves the defaults
    kind: str = "spot"  # "spot" or "perpetual"
    settle: str = ""  # the margin coin ("" for spot)
    contract_size: Decimal = Decimal(1)  # base coin per contract
    min_leverage: int = 1
    max_leverage: int = 1
    maintenance_margin_rate: Decimal = Decimal(0)
    inverse: bool = False  # coin-margined: margin and PnL in the base coin
    funding_interval_h: int = 8
    funding_rate: Decimal = Decimal("0.0001")  # per interval; longs pay shorts when positive
    delivery_ms: int | None = None  # a dated (delivery) contract's delivery time; kind "delivery"
    # position tiers, lowest first; none: one tier, every size at max_leverage and
    # maintenance_margin_rate
    tiers: tuple[PositionTier, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.market}:{self.symbol}"

    @property
    def is_contract(self) -> bool:
        return self.kind != "spot"

    def tier_for(self, value: Decimal) -> PositionTier:
        """The tier of a position worth `value` (settle coin): the first whose end it does not
        pass; beyond the last tier, the last."""
        if not self.tiers:
            return PositionTier(1, ZERO, value, self.max_leverage, self.maintenance_margin_rate)
        for tier in self.tiers:
            if value <= tier.end:
                return tier
        return self.tiers[-1]

    def max_value_at(self, leverage: int) -> Decimal | None:
        """The largest position value that may use `leverage`: the end of the last tier that
        allows it (None: no bound)."""
        if not self.tiers:
            return None
        allowed = [t for t in self.tiers if t.max_leverage >= leverage]
        return allowed[-1].end if allowed else ZERO


@dataclass
class User:
    uid: str
    venue: str
    name: str
    created_ms: int
    fee_deduction: bool = False  # pay fees in the venue fee token (Bitget: BGB) when held
    elite_trader: bool = False  # a copy-trading lead trader


@dataclass
class ApiKey:
    key: str
    uid: str
    venue: str
    secret: str  # HMAC secret, or the PEM public key of an RSA key
    passphrase: str
    kind: KeyKind
    permissions: frozenset[Permission]
    ip_whitelist: tuple[str, ...]
    created_ms: int
    label: str = ""

    def allows(self, permission: Permission) -> bool:
        return permission == Permission.READ or permission in self.permissions

    def allows_ip(self, ip: str | None) -> bool:
        return not self.ip_whitelist or (ip is not None and ip in self.ip_whitelist)


@dataclass
class Balance:
    uid: str
    account: str  # "spot", later "futures:usdt", ...
    asset: str
    available: Decimal = ZERO
    frozen: Decimal = ZERO
    updated_ms: int = 0

    @property
    def total(self) -> Decimal:
        return self.available + self.frozen


@dataclass
class SpotOrder:
    order_id: int
    uid: str
    venue: str
    symbol: str
    client_oid: str
    side: Side
    order_type: OrderType
    force: TimeInForce
    price: Decimal | None  # None for market orders
    size: Decimal  # base coin, except market buys: quote coin
    status: OrderStatus
    filled_size: Decimal  # base
    filled_quote: Decimal  # quote
    fee: Decimal  # charged, positive, in fee_asset
    fee_asset: str  # "" until the first fill
    fee_value: Decimal  # the fee expressed in the coin received ("t" in Bitget's feeDetail)
    frozen_asset: str
    frozen_amount: Decimal  # still frozen for this order
    enter_point: str
    cancel_reason: CancelReason
    created_ms: int
    updated_ms: int
    due_ms: int | None = None  # latency fill model: when it reaches the book
    stp_mode: str = "none"  # self-trade prevention: none, cancel_taker, cancel_maker, cancel_both
    tp_price: Decimal | None = None  # preset take-profit trigger for what it buys (or sells)
    tp_execute: Decimal | None = None  # its limit price (None: market)
    sl_price: Decimal | None = None  # preset stop-loss trigger
    sl_execute: Decimal | None = None

    @property
    def avg_price(self) -> Decimal:
        if self.filled_size == 0:
            return ZERO
        return self.filled_quote / self.filled_size

    @property
    def is_market_buy(self) -> bool:
        return self.order_type == OrderType.MARKET and self.side == Side.BUY


@dataclass
class Fill:
    trade_id: int
    order_id: int
    uid: str
    venue: str
    symbol: str
    side: Side
    order_type: OrderType
    price: Decimal
    size: Decimal  # base
    quote: Decimal  # price * size
    fee: Decimal  # positive, in fee_asset
    fee_asset: str
    fee_value: Decimal  # the fee in the coin received
    liquidity: Liquidity
    created_ms: int


@dataclass
class MarkPrice:
    instrument: str  # Instrument.key
    price: Decimal
    updated_ms: int


# ---- futures -----------------------------------------------------------------------------------

class PositionSide(str, enum.Enum):
    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        return 1 if self is PositionSide.LONG else -1

    @property
    def opposite(self) -> "PositionSide":
        return PositionSide.SHORT if self is PositionSide.LONG else PositionSide.LONG


class TradeSide(str, enum.Enum):
    OPEN = "open"
    CLOSE = "close"


class MarginMode(str, enum.Enum):
    ISOLATED = "isolated"
    CROSSED = "crossed"


class PositionMode(str, enum.Enum):
    HEDGE = "hedge"  # long and short positions side by side
    ONE_WAY = "one_way"  # one net position per symbol


class OrderKind(str, enum.Enum):
    REGULAR = "regular"  # a limit or market order in the book
    PLAN = "plan"  # waits for trigger_price, then becomes a regular order
    TRAILING = "trailing"  # a trailing stop on a position, or a trailing trigger order
    STOP = "stop"  # a take-profit or stop-loss order on a position: closes (part of) it when the
    # mark crosses trigger_price, at market or at its price


class FuturesStatus(str, enum.Enum):
    UNTRIGGERED = "untriggered"  # plan and trailing orders before they fire
    LIVE = "live"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in (FuturesStatus.UNTRIGGERED, FuturesStatus.LIVE, FuturesStatus.PARTIALLY_FILLED)


@dataclass
class FuturesAccount:
    """A user's per-market futures settings."""

    uid: str
    market: str
    position_mode: PositionMode = PositionMode.ONE_WAY
    merge_positions: bool = True  # False: every opening order is a position of its own


@dataclass
class SymbolSettings:
    uid: str
    market: str
    symbol: str
    margin_mode: MarginMode = MarginMode.CROSSED
    long_leverage: int = 20
    short_leverage: int = 20

    def leverage(self, side: PositionSide) -> int:
        return self.long_leverage if side is PositionSide.LONG else self.short_leverage


@dataclass
class Position:
    position_id: int
    uid: str
    venue: str
    market: str
    symbol: str
    side: PositionSide
    margin_mode: MarginMode
    leverage: int
    size: Decimal  # base coin, open
    entry_price: Decimal  # average
    margin: Decimal  # margin held by the position, in the settle coin
    realized_pnl: Decimal
    fees: Decimal  # trading fees paid over its life (positive)
    funding: Decimal  # funding paid (positive) or received (negative)
    tp_price: Decimal | None
    sl_price: Decimal | None
    open: bool
    opened_ms: int
    updated_ms: int
    closed_size: Decimal = ZERO
    close_value: Decimal = ZERO  # sum of close price * size (average close = value / size)
    tag: str = ""  # venue-owned label (e.g. the client id that opened it)
    tp_id: int | None = None  # the id the position's take-profit is known by (None: none set)
    sl_id: int | None = None
    tp_execute: Decimal | None = None  # the take-profit closes at this limit price (None: at market)
    sl_execute: Decimal | None = None

    @property
    def avg_close_price(self) -> Decimal:
        return self.close_value / self.closed_size if self.closed_size else ZERO


@dataclass
class FuturesOrder:
    order_id: int
    uid: str
    venue: str
    market: str
    symbol: str
    client_oid: str
    kind: OrderKind
    side: Side  # buy / sell, as sent
    pos_side: PositionSide  # the position it opens or closes
    trade_side: TradeSide
    order_type: OrderType  # what it is (or becomes, for plan orders)
    force: TimeInForce
    price: Decimal | None
    size: Decimal  # base coin
    reduce_only: bool
    status: FuturesStatus
    filled_size: Decimal
    filled_quote: Decimal
    fee: Decimal  # paid, positive, settle coin
    realized_pnl: Decimal
    leverage: int
    margin_mode: MarginMode
    frozen: Decimal  # settle coin frozen for an open order (margin + fee)
    position_id: int | None  # the position a close order targets (or the position it opened)
    tp_price: Decimal | None  # preset take-profit for the position it opens
    sl_price: Decimal | None
    trigger_price: Decimal | None  # plan orders: fires when the mark crosses it
    trigger_above: bool | None  # plan orders: fire when mark >= trigger (else <=)
    callback_rate: Decimal | None  # trailing: distance from the extreme, as a fraction
    extreme_price: Decimal | None  # trailing: best mark since activation
    source: str  # why it exists: "api", "tp", "sl", "liquidation", "trader", "follower", ...
    cancel_reason: CancelReason
    created_ms: int
    updated_ms: int
    tag: str = ""  # venue-owned opaque text (e.g. the quantity unit the client used)
    due_ms: int | None = None  # latency fill model: when it reaches the book
    tp_execute: Decimal | None = None  # preset take-profit's limit price (None: at market)
    sl_execute: Decimal | None = None

    @property
    def avg_price(self) -> Decimal:
        return self.filled_quote / self.filled_size if self.filled_size else ZERO


@dataclass
class FuturesFill:
    trade_id: int
    order_id: int
    uid: str
    venue: str
    market: str
    symbol: str
    side: Side
    pos_side: PositionSide
    trade_side: TradeSide
    price: Decimal
    size: Decimal
    quote: Decimal
    fee: Decimal
    realized_pnl: Decimal
    liquidity: Liquidity
    position_id: int
    created_ms: int


@dataclass
class Bill:
    """One movement of a user's balance that a venue reports in its account bills."""

    bill_id: int
    uid: str
    venue: str
    account: str
    asset: str
    symbol: str
    kind: str  # "funding", "open_long", "close_short", "liquidation_long", "margin_add", ...
    amount: Decimal  # signed
    balance: Decimal  # the account's available balance after it
    ref_id: int | None
    created_ms: int
    fee: Decimal = ZERO  # the trading fee it carries, signed (negative: paid)


@dataclass
class FillModel:
    """How orders fill, for a venue ("bitget") or an instrument ("bitget:spot:BTCUSDT").

    kind: "immediate" (the default), "latency" (params {"ms"}), "liquidity" (params {"size",
    "step", "levels"}: size available per price step) or "manual" (only the control plane
    fills or rejects)."""

    scope: str
    kind: str
    params: dict


# ---- spot trigger (plan) orders and transfers --------------------------------------------------

class PlanStatus(str, enum.Enum):
    LIVE = "live"  # waiting for its trigger
    EXECUTED = "executed"  # triggered, its order placed
    FAILED = "failed"  # triggered, its order refused (balance, minimums)
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self is PlanStatus.LIVE


class PlanKind(str, enum.Enum):
    PLAN = "plan"  # a trigger order placed as such
    TP = "tp"  # take-profit preset by a spot order, placed when that order filled
    SL = "sl"  # stop-loss preset by a spot order
    TPSL = "tpsl"  # a take-profit / stop-loss order placed as such (Bitget: tpslType=tpsl)


@dataclass
class SpotPlanOrder:
    """A spot order that waits for the mark price to reach trigger_price, then places a limit
    (execute_price) or market order of `size` (quote coin when size_in_quote)."""

    order_id: int
    uid: str
    venue: str
    symbol: str
    client_oid: str
    kind: PlanKind
    side: Side
    order_type: OrderType
    execute_price: Decimal | None
    trigger_price: Decimal
    trigger_above: bool  # fires when the mark rises to the trigger (else when it falls to it)
    trigger_type: str  # the venue's name of the price it watches, kept as sent
    size: Decimal
    size_in_quote: bool
    force: TimeInForce
    status: PlanStatus
    sub_order_id: int | None  # the order it placed when it fired
    parent_id: int | None  # TP / SL: the order whose fill placed it
    stp_mode: str
    enter_point: str
    created_ms: int
    updated_ms: int


@dataclass
class Transfer:
    """A move of one coin between two of a user's accounts (spot, a futures market, ...)."""

    transfer_id: int
    uid: str
    venue: str
    asset: str
    amount: Decimal
    from_account: str
    to_account: str
    client_oid: str
    status: str  # "successful"
    created_ms: int


# ---- the market tape ---------------------------------------------------------------------------

@dataclass
class MinuteBar:
    """One minute of one instrument's market, as stored: the mark's open, high, low and close
    with the times it took them, and what real fills traded in it."""

    instrument: str
    ts: int  # the minute's first millisecond
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    open_ms: int
    high_ms: int
    low_ms: int
    close_ms: int
    fill_base: Decimal = ZERO
    fill_quote: Decimal = ZERO
    fills: int = 0
    path_volume: Decimal | None = None  # the volume a replayed candle file gave this minute

    def add(self, t: int, price: Decimal) -> None:
        if price > self.high:
            self.high, self.high_ms = price, t
        if price < self.low:
            self.low, self.low_ms = price, t
        if t >= self.close_ms:
            self.close, self.close_ms = price, t
        if t < self.open_ms:
            self.open, self.open_ms = price, t


@dataclass(frozen=True)
class Candle:
    """A bar as read: any interval, volumes included (real fills plus the synthetic prints)."""

    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    base_volume: Decimal
    quote_volume: Decimal


@dataclass(frozen=True)
class PublicTrade:
    """A print on the public trade tape, as the taker saw it."""

    trade_id: int
    instrument: str
    ts: int
    side: Side
    price: Decimal
    size: Decimal
    synthetic: bool = False


@dataclass(frozen=True)
class BookLevel:
    price: Decimal
    size: Decimal


@dataclass(frozen=True)
class OrderBook:
    bids: tuple  # BookLevel, best (highest) first
    asks: tuple  # BookLevel, best (lowest) first
    ts: int


@dataclass(frozen=True)
class Stats24h:
    """An instrument's last 24 hours (and since 00:00 UTC), from the tape and the book."""

    last: Decimal
    open: Decimal  # the price 24 hours ago
    high: Decimal
    low: Decimal
    base_volume: Decimal
    quote_volume: Decimal
    open_utc: Decimal  # the price at 00:00 UTC today
    bid: BookLevel | None
    ask: BookLevel | None
    ts: int

    @property
    def change(self) -> Decimal:
        return (self.last - self.open) / self.open if self.open else ZERO

    @property
    def change_utc(self) -> Decimal:
        return (self.last - self.open_utc) / self.open_utc if self.open_utc else ZERO
