"""Fill models: how the orders of a venue or of one instrument meet the market.

A model is chosen per venue ("bitget") or per instrument ("bitget:spot:BTCUSDT"); the instrument's
own model wins over its venue's, and without either an instrument fills immediately. Models are
kept in the store (table fill_models), so snapshots carry them.

- immediate: a taking order (market, or a limit order marketable on arrival) fills whole at the
  mark, as taker; a resting limit order fills whole at its own price, as maker, when the mark
  reaches it.
- latency {ms}: a taking order reaches the book `ms` of market time after it was placed (its
  due_ms). Until then it is live and can be cancelled; when market time passes due_ms it arrives
  at the mark of that moment and is treated as an immediate order placed then (a limit order no
  longer marketable rests, or is cancelled if ioc / fok). Orders that rest on arrival rest at once.
- liquidity {size, step, levels}: `size` (base coin) is available at each price level — the mark,
  the mark one `step` worse, two steps worse, ... `levels` levels in all. A taking order sweeps
  them (slippage); what a market order cannot fill is cancelled, what a limit order cannot fill
  within its price rests (gtc) or is cancelled (ioc; fok fills nothing unless it can fill whole).
  A resting order the mark reaches fills at most `size` per price move, so it passes through
  partially_filled.
- manual: nothing fills by itself; the control plane fills (part or all, at a price) or rejects.

The models apply to the orders users send. Orders the engine makes itself (position TP/SL,
liquidations, trailing stops, copy-trading copies and tracking closes) fill at once, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Iterator

from localex.engine.model import FillModel, Instrument, Side

IMMEDIATE, LATENCY, LIQUIDITY, MANUAL = "immediate", "latency", "liquidity", "manual"
KINDS = (IMMEDIATE, LATENCY, LIQUIDITY, MANUAL)
DEFAULT_LEVELS = 10
_UNKNOWN = object()  # the next arrival time has not been read from the store yet


def immediate(scope: str = "") -> FillModel:
    return FillModel(scope, IMMEDIATE, {})


def _decimal(params: dict, name: str) -> Decimal:
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(f"'{name}' must be a decimal number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"'{name}' must be a decimal number") from None
    if not number.is_finite() or number <= 0:
        raise ValueError(f"'{name}' must be a positive decimal number")
    return number


def _integer(params: dict, name: str, minimum: int) -> int:
    value = params[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"'{name}' must be a whole number, at least {minimum}")
    return value


def normalize(kind: str, params: dict | None) -> dict:
    """Check a model's parameters; returns them as stored (decimals as strings)."""
    if kind not in KINDS:
        raise ValueError(f"a fill model kind is one of {', '.join(KINDS)}")
    params = dict(params or {})
    allowed = {IMMEDIATE: set(), MANUAL: set(), LATENCY: {"ms"}, LIQUIDITY: {"size", "step", "levels"}}[kind]
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValueError(f"unknown parameter(s) for {kind}: {', '.join(unknown)}")
    if kind == LATENCY:
        if "ms" not in params:
            raise ValueError("'ms' is required")
        return {"ms": _integer(params, "ms", 0)}
    if kind == LIQUIDITY:
        if "size" not in params:
            raise ValueError("'size' is required")
        out: dict = {"size": format(_decimal(params, "size"), "f")}
        if params.get("step") is not None:
            out["step"] = format(_decimal(params, "step"), "f")
        out["levels"] = _integer(params, "levels", 1) if params.get("levels") is not None else DEFAULT_LEVELS
        return out
    return {}


def split_scope(scope: str) -> tuple[str, str | None, str | None]:
    """"bitget" -> ("bitget", None, None); "bitget:spot:btcusdt" -> ("bitget", "spot", "BTCUSDT")."""
    if not isinstance(scope, str) or not scope.strip():
        raise ValueError("'scope' is a venue (\"bitget\") or an instrument (\"bitget:spot:BTCUSDT\")")
    parts = scope.strip().split(":")
    if len(parts) == 1:
        return parts[0].lower(), None, None
    if len(parts) == 3 and all(parts):
        return parts[0].lower(), parts[1].lower(), parts[2].upper()
    raise ValueError("'scope' is a venue (\"bitget\") or an instrument (\"bitget:spot:BTCUSDT\")")


@dataclass(frozen=True)
class Ladder:
    """The liquidity model's book as one instrument sees it."""

    size: Decimal  # available per level, on the instrument's size grid
    step: Decimal  # price distance between levels
    levels: int

    @classmethod
    def of(cls, model: FillModel, inst: Instrument) -> "Ladder":
        grid = size_grid(inst)
        size = (Decimal(model.params["size"]) / grid).to_integral_value(ROUND_DOWN) * grid
        step = Decimal(model.params["step"]) if model.params.get("step") else Decimal(1).scaleb(-inst.price_scale)
        return cls(size=max(size, grid), step=step, levels=int(model.params.get("levels", DEFAULT_LEVELS)))

    def prices(self, inst: Instrument, side: Side, mark: Decimal,
               limit: Decimal | None = None) -> Iterator[Decimal]:
        """The levels a taking order of `side` sweeps, best first, none beyond `limit`."""
        tick = Decimal(1).scaleb(-inst.price_scale)
        for k in range(self.levels):
            if side is Side.BUY:
                price = (mark + self.step * k).quantize(tick, ROUND_CEILING)
                if limit is not None and price > limit:
                    return
            else:
                price = (mark - self.step * k).quantize(tick, ROUND_FLOOR)
                if price <= 0 or (limit is not None and price < limit):
                    return
            yield price


def size_grid(inst: Instrument) -> Decimal:
    """The smallest size step of an instrument (a contract for perpetuals)."""
    return inst.contract_size if inst.is_contract else Decimal(1).scaleb(-inst.size_scale)


class FillModels:
    """The models in force, read from the store once and kept until they change, and the time of
    the next order due to arrive under a latency model (None: none is waiting)."""

    def __init__(self) -> None:
        self._models: dict[str, FillModel] | None = None
        self.next_arrival: object = _UNKNOWN

    def invalidate(self) -> None:
        """Forget what was read: the store changed under us (a snapshot restored, a reset)."""
        self._models = None
        self.next_arrival = _UNKNOWN

    def models_changed(self) -> None:
        self._models = None

    def for_instrument(self, uow, inst: Instrument) -> FillModel:
        models = self._models
        if models is None:
            models = self._models = {m.scope: m for m in uow.list_fill_models()}
        return models.get(inst.key) or models.get(inst.venue) or immediate()

    def scheduled(self, due_ms: int) -> None:
        """An order will arrive at due_ms."""
        current = self.next_arrival
        if current is None or (current is not _UNKNOWN and due_ms < current):  # type: ignore[operator]
            self.next_arrival = due_ms

    def may_be_due(self, until_ms: int) -> bool:
        current = self.next_arrival
        return current is _UNKNOWN or (current is not None and current <= until_ms)  # type: ignore[operator]


def takes_liquidity(side: Side, price: Decimal | None, mark: Decimal | None) -> bool:
    """A market order (price None), or a limit order marketable at the mark."""
    if price is None:
        return True
    if mark is None:
        return False
    return mark <= price if side is Side.BUY else mark >= price
