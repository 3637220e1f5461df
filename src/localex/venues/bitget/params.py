"""Request parameters as Bitget validates them: one place for 40019 / 40020 / 40053 / 40078 ..."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Mapping, TypeVar

from localex.venues.bitget.errors import BitgetError

T = TypeVar("T")

RECEIVE_WINDOW_MAX_MS = 60_000
LONG_MAX = 2**63 - 1  # the venue parses ids, times and counts as Java longs
DECIMAL_MAX_EXPONENT = 1000  # beyond this, arithmetic on the value would overflow
# a decimal as Java's BigDecimal reads it: ASCII digits, no spaces or underscores
DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def is_long(value: str) -> bool:
    """Non-negative ASCII digits that fit a Java long."""
    return value.isascii() and value.isdigit() and len(value) <= 19 and int(value) <= LONG_MAX


class Params:
    def __init__(self, values: Mapping[str, object]) -> None:
        self.values = values

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise BitgetError("40019", name)
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            raise BitgetError("40020", name)
        return value if isinstance(value, str) else str(value)

    def symbol(self, required: bool = False) -> str | None:
        value = self.text("symbol", required)
        return value.upper() if value is not None else None

    def enum(self, name: str, choices: Mapping[str, T], required: bool = False,
             default: T | None = None) -> T | None:
        value = self.text(name, required)
        if value is None:
            return default
        try:
            return choices[value.lower()]
        except KeyError:
            raise BitgetError("40020", name) from None

    def decimal(self, name: str, required: bool = False) -> Decimal | None:
        value = self.text(name, required)
        if value is None:
            return None
        if not DECIMAL.fullmatch(value):
            raise BitgetError("40020", name)
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise BitgetError("40020", name) from None
        if not result.is_finite() or abs(result.adjusted()) > DECIMAL_MAX_EXPONENT:
            raise BitgetError("40020", name)
        return result

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not is_long(value):
            raise BitgetError("40020", name)
        return int(value)

    def limit(self, default: int, maximum: int, clamp: bool = True) -> int:
        """Page size. Zero is refused (40053); above the maximum it is clamped, as ccxt's
        pagination (which asks for 1000 rows) shows the venue does, unless clamp is False."""
        value = self.integer("limit")
        if value is None:
            return default
        if value == 0 or (value > maximum and not clamp):
            raise BitgetError("40053", "limit", f"(0, {maximum}]")
        return min(value, maximum)

    def order_id(self, name: str = "orderId") -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not is_long(value):
            raise BitgetError("40402")
        return int(value)

    def time_range(self, now_ms: int, max_days: int | None = None) -> tuple[int | None, int | None]:
        start, end = self.integer("startTime"), self.integer("endTime")
        if start is not None and end is not None:
            if start > end:
                raise BitgetError("40707")
            if max_days is not None and end - start > max_days * 86_400_000:
                raise BitgetError("40705")
        return start, end

    def check_receive_window(self, server_ms: int) -> None:
        """requestTime / receiveWindow: the request must arrive within the window it names."""
        values = self.values
        if "requestTime" not in values and "receiveWindow" not in values:
            return  # neither sent (most requests)
        request_time = self.integer("requestTime")
        window = self.integer("receiveWindow")
        if window is None:
            return
        if window >= RECEIVE_WINDOW_MAX_MS:
            raise BitgetError("40079")
        if request_time is not None and server_ms - request_time > window:
            raise BitgetError("40078")
