"""What every CoinW endpoint module shares: the market's name, contract look-up, the venue data an
order carries in the engine's `tag`, and how engine orders map onto CoinW's order types."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import orjson

from localex.engine.model import FuturesOrder, Instrument, OrderKind, OrderType, PositionMode
from localex.venues.coinw.errors import CoinWError

VENUE = "coinw"
MARKET = "futures"  # the engine market (and balance account) of CoinW's futures
THIRD_ORDER_ID_MAX = 100

# CoinW's order types
EXECUTE, PLAN, PLAN_TRIGGER, MOVE_STOP, STOP_PROFIT_LOSS = (
    "execute", "plan", "planTrigger", "moveStopProfitLoss", "stopProfitLoss")

# why the engine sent an order -> CoinW's liquidateBy ("open or close event type")
LIQUIDATE_BY = {"tp": "stopProfit", "sl": "stopLoss", "trailing": "moveStopProfitAndLoss",
                "liquidation": "liquidation"}


def contract(engine, name: str | None, *, required: bool = True) -> Instrument | None:
    """A contract by CoinW name (BTC, 1000PEPE, BTC_USDC), case-insensitive: 9001 if unknown."""
    if name is None:
        if required:
            raise CoinWError(402)
        return None
    inst = engine.instrument(VENUE, MARKET, name.strip().upper())
    if inst is None or not inst.is_contract:
        raise CoinWError(9001)
    return inst


def find_contract(engine, name: str) -> Instrument | None:
    inst = engine.instrument(VENUE, MARKET, name.strip().upper())
    return inst if inst is not None and inst.is_contract else None


def contracts(engine) -> list[Instrument]:
    return sorted((i for i in engine.instruments(VENUE, MARKET) if i.is_contract),
                  key=lambda i: (CONTRACT_IDS.get(i.symbol, 10_000), i.symbol))


# contract ids as the instruments list numbers them (BTC 1; BTC_USDC 148 as probed)
CONTRACT_IDS = {"BTC": 1, "ETH": 2, "1000PEPE": 85, "BTC_USDC": 148}


def contract_id(engine, inst: Instrument) -> int:
    if inst.symbol in CONTRACT_IDS:
        return CONTRACT_IDS[inst.symbol]
    others = sorted(i.symbol for i in engine.instruments(VENUE, MARKET) if i.symbol not in CONTRACT_IDS)
    return 1000 + others.index(inst.symbol) if inst.symbol in others else 999


def ensure_hedge(engine, uid: str) -> None:
    """CoinW positions are always hedged: long and short side by side."""
    if engine.futures_account(uid, MARKET).position_mode is not PositionMode.HEDGE:
        engine.set_position_mode(uid, MARKET, PositionMode.HEDGE)


@dataclass(frozen=True)
class Tag:
    """What CoinW says about an order that the engine does not keep: its type as placed, the
    quantity and unit the client used, the client's id and the trigger order type."""

    original: str = ""
    unit: int | None = None
    quantity: str | None = None
    third_id: str | None = None
    trigger_type: int | None = None

    def encode(self) -> str:
        out: dict = {"o": self.original}
        if self.unit is not None:
            out["u"] = self.unit
        if self.quantity is not None:
            out["q"] = self.quantity
        if self.third_id is not None:
            out["t"] = self.third_id
        if self.trigger_type is not None:
            out["tt"] = self.trigger_type
        return orjson.dumps(out).decode()

    @classmethod
    def decode(cls, text: str) -> "Tag":
        if not text or not text.startswith("{"):
            return cls()
        try:
            d = orjson.loads(text)
        except orjson.JSONDecodeError:
            return cls()
        return cls(d.get("o", ""), d.get("u"), d.get("q"), d.get("t"), d.get("tt"))


def original_type(order: FuturesOrder, tag: Tag) -> str:
    if order.kind is OrderKind.TRAILING:
        return MOVE_STOP
    if tag.original:
        return tag.original
    return EXECUTE if order.order_type is OrderType.MARKET else PLAN


def pos_type(order: FuturesOrder, tag: Tag) -> str:
    """The type an order has now: a planTrigger order is "planTrigger" until it fires, then the
    order it placed (plan for a limit order, execute for a market one)."""
    original = original_type(order, tag)
    if original == PLAN_TRIGGER and order.kind is OrderKind.REGULAR:
        return EXECUTE if order.order_type is OrderType.MARKET else PLAN
    return original


def order_class(order: FuturesOrder, tag: Tag) -> str | None:
    """Which positionType of GET /v1/perpum/order an unfilled order belongs to (None: invisible,
    a planTrigger order that has not fired yet)."""
    if order.kind is OrderKind.TRAILING:
        return "moveStop"
    if order.kind is OrderKind.PLAN and original_type(order, tag) == PLAN_TRIGGER:
        return None
    if order.kind is OrderKind.REGULAR and order.order_type is OrderType.MARKET:
        return EXECUTE
    return PLAN


def trigger_type(order: FuturesOrder, tag: Tag) -> int | None:
    if tag.trigger_type is not None:
        return tag.trigger_type
    if order.trigger_price is None:
        return None
    return 1 if order.order_type is OrderType.MARKET else 0


def liquidate_by(source: str) -> str:
    return LIQUIDATE_BY.get(source, "manual")


def quantity_of(order: FuturesOrder, tag: Tag, inst: Instrument) -> tuple[Decimal, int]:
    """(quantity, quantityUnit) as the client gave them; contracts for the engine's own orders."""
    if tag.quantity is not None and tag.unit is not None:
        return Decimal(tag.quantity), tag.unit
    return order.size / inst.contract_size, 1


def user_id(uid: str) -> int | str:
    return int(uid) if uid.isdigit() else uid
