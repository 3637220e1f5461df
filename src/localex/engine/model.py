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

    @property
    def key(self) -> str:
        return f"{self.venue}:{self.market}:{self.symbol}"


@dataclass
class User:
    uid: str
    venue: str
    name: str
    created_ms: int
    fee_deduction: bool = False  # pay fees in the venue fee token (Bitget: BGB) when held


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
