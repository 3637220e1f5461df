"""Bitget's number formats. Every number in `data` is a string; the padding depends on the
endpoint family (see docs/fidelity.md)."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal

_Q16 = Decimal("1e-16")
_Q8 = Decimal("1e-8")
_WIDE = Context(prec=2000)  # formatting never rounds, however many digits a value has


def plain(value: Decimal | int) -> str:
    """Trimmed: "66000", "0.00009", "0"."""
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    text = format(value.normalize(_WIDE), "f")
    return text


_quantize, _text = _WIDE.quantize, _WIDE.to_sci_string


def dp16(value: Decimal) -> str:
    """Order read-backs: exactly 16 decimals, "66000.0000000000000000"."""
    exact = _quantize(value, _Q16)
    # the scientific string is the same text, and cheaper, unless it is exponential (below
    # 1e-6, or zero)
    text = _text(exact)
    return format(exact, "f") if "E" in text else text


def dp16_or_zero(value: Decimal | None) -> str:
    """A zero or missing price reads "0" where volumes read 16 decimals."""
    if value is None or value == 0:
        return "0"
    exact = _quantize(value, _Q16)  # dp16, inlined
    text = _text(exact)
    return format(exact, "f") if "E" in text else text


def dp8(value: Decimal) -> str:
    """Account assets: exactly 8 decimals, rounded down (never show more than is there)."""
    return format(value.quantize(_Q8, rounding=ROUND_DOWN, context=_WIDE), "f")


def json_number(value: Decimal) -> str:
    """A decimal as a JSON number literal (inside feeDetail)."""
    if value == 0:
        return "0"
    return format(value.normalize(_WIDE), "f")


def trimmed_down(value: Decimal, places: int) -> str:
    """Cut (toward zero) to `places` decimals, then trimmed: fees, PnL, balances on mix."""
    cut = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN, context=_WIDE)
    return plain(cut)


def trimmed_half_up(value: Decimal, places: int) -> str:
    """Rounded half up to `places` decimals, then trimmed: the venue's quotients (16 places)."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_WIDE)
    return plain(rounded)
