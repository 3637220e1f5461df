"""Domain errors. The engine raises these; each venue maps them to its own wire codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule the engine refuses to break."""

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.__class__.__name__
        self.details = details


class NotFound(DomainError):
    pass


class UnknownUser(NotFound):
    pass


class UnknownInstrument(NotFound):
    pass


class OrderNotFound(NotFound):
    pass


class InvalidOrder(DomainError):
    pass


class PricePrecision(InvalidOrder):
    """details: value, scale"""


class SizePrecision(InvalidOrder):
    """details: value, scale"""


class BelowMinimumNotional(InvalidOrder):
    """details: minimum, quote"""


class BelowMinimumSize(InvalidOrder):
    """details: minimum"""


class NonPositive(InvalidOrder):
    """details: field"""


class DuplicateClientOid(InvalidOrder):
    pass


class InstrumentNotTrading(InvalidOrder):
    pass


class OrderNotCancellable(DomainError):
    """The order is already filled or cancelled."""


class InsufficientBalance(DomainError):
    pass


class NoMarkPrice(DomainError):
    """A market order needs a price and the instrument has none yet."""


class Conflict(DomainError):
    """A unique thing already exists (user, key)."""


class NotAContract(InvalidOrder):
    """A futures operation on an instrument that is not a contract."""


class NoPosition(DomainError):
    """A close (or position operation) with no matching open position."""


class PositionTooSmall(DomainError):
    """A close larger than the open position. details: available"""


class LeverageOutOfRange(DomainError):
    """details: minimum, maximum"""


class TierLeverageExceeded(LeverageOutOfRange):
    """An order would take a position beyond the largest value its leverage's tier allows.
    details: leverage, maximum_value"""


class HasOpenPositions(DomainError):
    """A setting cannot change while positions or orders exist."""


class InvalidTrigger(InvalidOrder):
    """A TP/SL or trigger price on the wrong side of the mark. details: kind, side, mark"""


class NotIsolated(DomainError):
    """Margin can be added or removed only on an isolated position."""


class PlanNotFound(NotFound):
    """No such trigger (plan) order, or it is no longer waiting for its trigger."""


class NotTransferable(InvalidOrder):
    """This coin cannot move between these two accounts (or the accounts are one)."""


class PresetWrongSide(InvalidOrder):
    """A preset take-profit / stop-loss on the wrong side of the order's price."""


class RetryTransaction(Exception):
    """The database refused a unit of work (a serialization failure or a deadlock) and asks for
    it to be run again; nothing of it was kept. Not a domain error: Engine runs the call again."""
