"""CoinW's number formats. The venue sends a field as a JSON number on one endpoint and as a string
on the next (docs/fidelity.md, "CoinW"), so each row builder picks per field: `num` (an exact JSON
number, never through a float), `text` (a decimal string), or `ident` / `ident_text` for ids
(exact JSON integers beyond 2^53, or strings)."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal

import orjson

_WIDE = Context(prec=2000)  # formatting never rounds, however many digits a value has


def plain(value: Decimal | int) -> str:
    """Trimmed decimal text: "95400", "0.00954", "0"."""
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    return format(value.normalize(_WIDE), "f")


def num(value: Decimal | int | None):
    """An exact JSON number (95.4, 95400, 0.00954); None stays null."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    return orjson.Fragment(plain(value).encode())


def text(value: Decimal | int | None) -> str | None:
    """A decimal as a JSON string ("86070", "0.05253222")."""
    return None if value is None else plain(value)


def cut(value: Decimal, places: int) -> Decimal:
    """Truncated (towards zero) to `places` decimals, as the venue shows fees and margins."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN, context=_WIDE)


def round_to(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_WIDE)


def sig7(value: Decimal) -> Decimal:
    """Seven significant digits (the venue's rates are single-precision floats: 0.02380952)."""
    if value == 0:
        return Decimal(0)
    return value.quantize(Decimal(1).scaleb(value.adjusted() - 6), rounding=ROUND_HALF_UP,
                          context=_WIDE)


def pieces(value: Decimal) -> int | Decimal:
    """A contract count: an integer when whole."""
    return int(value) if value == value.to_integral_value() else value
