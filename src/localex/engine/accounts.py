"""Users, API keys and balances."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.errors import InsufficientBalance
from localex.engine.model import Balance


def move(uow, uid: str, account: str, asset: str, *, available: Decimal = Decimal(0),
         frozen: Decimal = Decimal(0), now_ms: int, allow_negative: bool = False) -> Balance:
    """Change a balance by deltas; neither part may go below zero (except the house's)."""
    bal = uow.get_balance(uid, account, asset)
    new_available = bal.available + available
    new_frozen = bal.frozen + frozen
    if not allow_negative and (new_available < 0 or new_frozen < 0):
        raise InsufficientBalance(f"{asset} balance too low", asset=asset)
    bal.available, bal.frozen, bal.updated_ms = new_available, new_frozen, now_ms
    uow.put_balance(bal)
    return bal


def freeze(uow, uid: str, account: str, asset: str, amount: Decimal, now_ms: int) -> Balance:
    return move(uow, uid, account, asset, available=-amount, frozen=amount, now_ms=now_ms)


def release(uow, uid: str, account: str, asset: str, amount: Decimal, now_ms: int) -> Balance:
    return move(uow, uid, account, asset, available=amount, frozen=-amount, now_ms=now_ms)
