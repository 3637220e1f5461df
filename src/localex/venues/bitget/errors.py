"""Bitget's error codes: the one table of this venue, and the one mapping from domain errors.

Messages are Bitget's own (the global "Rest API Error Code" list, or bodies observed from the
venue); the choices made where the sources are silent are recorded in docs/fidelity.md.
"""

from __future__ import annotations

from localex.engine import errors as dom
from localex.engine.model import Permission

MESSAGES: dict[str, str] = {
    # authentication
    "40001": "ACCESS_KEY cannot be empty",
    "40002": "ACCESS_SIGN cannot be empty",
    "40003": "Signature cannot be empty",
    "40005": "Invalid ACCESS_TIMESTAMP",
    "40006": "Invalid ACCESS_KEY",
    "40008": "Request timestamp expired",
    "40009": "sign signature error",
    "40011": "ACCESS_PASSPHRASE cannot be empty",
    "40012": "apikey/password is incorrect",
    "40014": "Incorrect permissions, need {0} permissions",
    "40018": "Invalid IP",
    "40037": "Apikey does not exist",
    "40078": "Timestamp for this request is outside of the ME receiveWindow",
    "40079": "receiveWindow timestamp must be less than 60s",
    # parameters
    "40017": "Parameter verification failed {0}",
    "40019": "Parameter {0} cannot be empty",
    "40020": "Parameter {0} error",
    "40034": "Parameter {0} does not exist",
    "40053": "Value range verification failed: {0} should be between {1}",
    "40402": "orderId or clientOId format error",
    "40404": "Request URL NOT FOUND",
    "40705": "The start and end time cannot exceed 90 days",
    "40707": "Start time is greater than end time",
    "40808": "Parameter verification exception {0}",
    "40924": "orderId and clientOid must have one",
    # orders and balances
    "43001": "The order does not exist",
    "43006": "The order quantity is less than the minimum transaction quantity",
    "43012": "Insufficient balance",
    "43115": "The current symbol is not open for trading, please try again later",
    "43118": "clientOrderId duplicate",
    "45110": "less than the minimum amount {0} {1}",
    # platform
    "429": "Too Many Requests",
    "40725": "service return an error",
}

# How a missing permission is named in 40014's message.
PERMISSION_NAMES = {
    Permission.SPOT_TRADE: "spot trade",
    Permission.FUTURES_TRADE: "contract trade",
    Permission.COPY_TRADE: "copy trading",
    Permission.TRANSFER: "transfer",
    Permission.WITHDRAW: "withdraw",
}


class BitgetError(Exception):
    """An answer in Bitget's error envelope."""

    def __init__(self, code: str, *args: object, status: int = 400, data: object = None,
                 msg: str | None = None) -> None:
        self.code = code
        self.msg = msg if msg is not None else MESSAGES[code].format(*args)
        self.status = status
        self.data = data
        super().__init__(f"{code} {self.msg}")


def _plain(value: object) -> str:
    return format(value, "f") if hasattr(value, "as_tuple") else str(value)


def from_domain(exc: dom.DomainError) -> BitgetError:
    """The single place where engine refusals become Bitget codes."""
    d = exc.details
    if isinstance(exc, dom.UnknownInstrument):
        return BitgetError("40034", d.get("symbol", ""))
    if isinstance(exc, dom.InstrumentNotTrading):
        return BitgetError("43115")
    if isinstance(exc, dom.PricePrecision):
        return BitgetError("40808", f"price checkBDScale error value={_plain(d['value'])} checkScale={d['scale']}")
    if isinstance(exc, dom.SizePrecision):
        return BitgetError("40808", f"size checkBDScale error value={_plain(d['value'])} checkScale={d['scale']}")
    if isinstance(exc, dom.BelowMinimumNotional):
        return BitgetError("45110", _plain(d["minimum"]), d["quote"])
    if isinstance(exc, dom.BelowMinimumSize):
        return BitgetError("43006")
    if isinstance(exc, dom.NonPositive):
        return BitgetError("40020", d.get("field", ""))
    if isinstance(exc, dom.DuplicateClientOid):
        return BitgetError("43118")
    if isinstance(exc, dom.InsufficientBalance):
        return BitgetError("43012")
    if isinstance(exc, dom.NoMarkPrice):
        return BitgetError("40808", "no market price")
    if isinstance(exc, (dom.OrderNotFound, dom.OrderNotCancellable)):
        return BitgetError("43001")
    if isinstance(exc, dom.UnknownUser):
        return BitgetError("40037")
    return BitgetError("40725", status=500)
