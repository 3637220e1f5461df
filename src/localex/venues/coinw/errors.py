"""CoinW's futures error codes: the one table of this venue, and the one mapping from domain errors.

Codes and messages the sources publish (the API error-code guide, the place / modify / margin-mode
pages, probes of the public endpoints) are used as published. The venue publishes no code for an
unknown order, a missing position, insufficient margin and a few more: those are localex's choice,
in the 9002-9009 block, and listed in docs/fidelity.md ("CoinW").
"""

from __future__ import annotations

from localex.engine import errors as dom

MESSAGES: dict[int, str] = {
    # platform
    402: "param required",
    404: "Requested address does not exist",
    500: "Internal server error",
    904: "Method parameters verification failed",
    29001: "API access frequently",
    # authentication (the gateway's own envelope, see GATEWAY_CODES)
    6000: "authentication failed",
    6001: "invalid sign",
    6003: "require more permission",
    # published business codes
    9001: "Contract not found.",
    9016: "Incorrect parameter format/type or missing information.",
    9042: "You have an open order in this mode, please close or cancel it first.",
    9050: "The margin mode cannot be changed for existing orders.",
    9081: "New opening cannot adjust leverage multiples",
    9111: "The contract is not open for trading.",
    # localex's choices where the venue publishes no code
    9002: "Order does not exist.",
    9003: "Position does not exist.",
    9004: "Insufficient available margin.",
    9005: "The closing quantity exceeds the position.",
    9006: "Leverage is out of range.",
    9007: "Invalid take-profit or stop-loss price.",
    9008: "Margin can only be adjusted on an isolated position.",
    9009: "The order quantity is less than one contract.",
}

# Authentication failures come from the gateway in its own shape:
# {"code": 6003, "message": "require more permission", "retry": false, "success": false}
GATEWAY_CODES = frozenset({6000, 6001, 6003})

# HTTP statuses other than 200 (most refusals arrive with HTTP 200)
STATUSES = {404: 404, 500: 500, 904: 400}

# codes whose body carries "data": null (as probed for 9016)
NULL_DATA_CODES = frozenset({9016})


class CoinWError(Exception):
    """An answer in CoinW's error envelope."""

    def __init__(self, code: int, msg: str | None = None, *, status: int | None = None) -> None:
        self.code = code
        self.msg = msg if msg is not None else MESSAGES.get(code, "")
        self.status = status if status is not None else STATUSES.get(code, 200)
        super().__init__(f"{code} {self.msg}")


def from_domain(exc: dom.DomainError) -> CoinWError:
    """The single place where engine refusals become CoinW codes."""
    if isinstance(exc, (dom.UnknownInstrument, dom.NotAContract)):
        return CoinWError(9001)
    if isinstance(exc, (dom.InstrumentNotTrading, dom.NoMarkPrice)):
        return CoinWError(9111)
    if isinstance(exc, (dom.PricePrecision, dom.SizePrecision, dom.NonPositive)):
        return CoinWError(9016)
    if isinstance(exc, dom.BelowMinimumSize):
        return CoinWError(9009)
    if isinstance(exc, dom.InsufficientBalance):
        return CoinWError(9004)
    if isinstance(exc, (dom.OrderNotFound, dom.OrderNotCancellable)):
        return CoinWError(9002)
    if isinstance(exc, dom.NoPosition):
        return CoinWError(9003)
    if isinstance(exc, dom.PositionTooSmall):
        return CoinWError(9005)
    if isinstance(exc, dom.LeverageOutOfRange):
        return CoinWError(9006)
    if isinstance(exc, dom.InvalidTrigger):
        return CoinWError(9007)
    if isinstance(exc, dom.NotIsolated):
        return CoinWError(9008)
    if isinstance(exc, dom.HasOpenPositions):
        return CoinWError(9042)
    if isinstance(exc, dom.UnknownUser):
        return CoinWError(6000)
    return CoinWError(500)
