"""Request parameters as CoinW reads them: one place for 402 / 904 (missing) and 9016 (malformed).

GET parameters come from the query; POST, PUT and DELETE parameters from the JSON body, where a
client may send numbers or strings for the same field (`"leverage": 5` or `"leverage": "5"`),
and ids as numbers or strings. Both are accepted everywhere.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, TypeVar

from localex.venues.coinw.errors import CoinWError

T = TypeVar("T")

LONG_MAX = 2**63 - 1
DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", re.ASCII)
DECIMAL_MAX_EXPONENT = 1000
MAX_IDS = 20  # sourceIds, openIds, batches


def parse_body(body: bytes, want: type) -> Any:
    """The JSON body (decimals kept exact); an empty body is an empty object."""
    if not body.strip():
        if want is list:
            raise CoinWError(9016)
        return {}
    try:
        value = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise CoinWError(9016) from None
    if not isinstance(value, want):
        raise CoinWError(9016)
    return value


def _bad() -> CoinWError:
    return CoinWError(9016)


class Params:
    def __init__(self, values: Mapping[str, Any], missing_code: int = 402) -> None:
        self.values = values
        self.missing_code = missing_code

    def has(self, name: str) -> bool:
        return self.raw(name) is not None

    def raw(self, name: str) -> Any:
        value = self.values.get(name)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        return value

    def missing(self, name: str) -> CoinWError:
        return CoinWError(self.missing_code)

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.missing(name)
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise _bad()
        return value if isinstance(value, str) else str(value)

    def decimal(self, name: str, required: bool = False) -> Decimal | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise self.missing(name)
            return None
        if isinstance(value, bool):
            raise _bad()
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, Decimal):
            result = value
        elif isinstance(value, str) and DECIMAL.fullmatch(value.strip()):
            try:
                result = Decimal(value.strip())
            except InvalidOperation:
                raise _bad() from None
        else:
            raise _bad()
        if not result.is_finite() or abs(result.adjusted()) > DECIMAL_MAX_EXPONENT:
            raise _bad()
        return result

    def positive(self, name: str, required: bool = False) -> Decimal | None:
        value = self.decimal(name, required)
        if value is not None and value <= 0:
            raise _bad()
        return value

    def integer(self, name: str, required: bool = False, default: int | None = None) -> int | None:
        value = self.decimal(name, required)
        if value is None:
            return default
        if value != value.to_integral_value() or abs(value) > LONG_MAX:
            raise _bad()
        return int(value)

    def enum(self, name: str, choices: Mapping[str, T], required: bool = False,
             default: T | None = None) -> T | None:
        value = self.text(name, required)
        if value is None:
            return default
        try:
            return choices[value.strip().lower()]
        except KeyError:
            raise _bad() from None

    def boolean(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise _bad()

    def ident(self, name: str, required: bool = False) -> int | None:
        """An order or position id: a JSON number or a string of digits."""
        value = self.raw(name)
        if value is None:
            if required:
                raise self.missing(name)
            return None
        return to_id(value)

    def ident_list(self, name: str, required: bool = False, maximum: int = MAX_IDS) -> list[int] | None:
        """Ids as a comma-separated string ("1,2,3") or a JSON list, at most `maximum`."""
        value = self.raw(name)
        if value is None or (isinstance(value, list) and not value):
            if required:
                raise self.missing(name)
            return None
        items = value if isinstance(value, list) else str(value).split(",") if isinstance(value, str) \
            else [value]
        if len(items) > maximum:
            raise _bad()
        return [to_id(item.strip() if isinstance(item, str) else item) for item in items]

    def page(self, default_size: int = 10, max_size: int = 100) -> tuple[int, int]:
        """(page, pageSize): page from 1; pageSize clamped to the maximum."""
        page = self.integer("page", default=1)
        size = self.integer("pageSize", default=default_size)
        if page < 1 or size < 1:
            raise _bad()
        return page, min(size, max_size)


def to_id(value: Any) -> int:
    if isinstance(value, bool):
        raise _bad()
    if isinstance(value, int):
        number = value
    elif isinstance(value, Decimal) and value == value.to_integral_value():
        number = int(value)
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    else:
        raise _bad()
    if not 0 < number <= LONG_MAX:
        raise _bad()
    return number
