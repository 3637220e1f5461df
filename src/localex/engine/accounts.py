"""Users, API keys and balances."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.errors import InsufficientBalance
from localex.engine.model import Balance


def move(uow, uid: str, account: str, asset: str, *, available: Decimal = Decimal(0),
         frozen: Decimal = Decimal(0), now_ms: int, allow_negative: bool = False) -> Balance:
    """Change a balance by deltas; neither part may go below zero (except the house's).
    Returns the balance as written: the unit of work holds that very object, so it is read,
    never changed."""
    bal = uow.get_balance(uid, account, asset)  # the caller's own object: changed and handed over
    new_available = bal.available + available
    new_frozen = bal.frozen + frozen
    if not allow_negative and (new_available < 0 or new_frozen < 0):
        raise InsufficientBalance(f"{asset} balance too low", asset=asset)
    bal.available, bal.frozen, bal.updated_ms = new_available, new_frozen, now_ms
    uow.put_balance(bal, given=True)
    return bal


def freeze(uow, uid: str, account: str, asset: str, amount: Decimal, now_ms: int) -> Balance:
    return move(uow, uid, account, asset, available=-amount, frozen=amount, now_ms=now_ms)


def release(uow, uid: str, account: str, asset: str, amount: Decimal, now_ms: int) -> Balance:
    return move(uow, uid, account, asset, available=amount, frozen=-amount, now_ms=now_ms)


TRANSFER_IN, TRANSFER_OUT = "transfer_in", "transfer_out"  # the bill kinds of a transfer


def transfer(uow, ids, user, asset: str, amount: Decimal, from_account: str, to_account: str,
             client_oid: str | None, now_ms: int, allowed: set[str]):
    """Move `amount` of `asset` from one of the user's accounts to another, with a bill on each
    side (kind transfer_out / transfer_in, ref_id the transfer). `allowed`: the coins both
    accounts hold. A client id already used answers the transfer it named, moving nothing."""
    from localex.engine.errors import NonPositive, NotTransferable
    from localex.engine.model import Bill, Transfer

    if client_oid:
        done = uow.list_transfers(user.uid, client_oid=client_oid, limit=1)
        if done:
            return done[0]
    if amount <= 0:
        raise NonPositive("amount must be positive", field="amount")
    if from_account == to_account or asset not in allowed:
        raise NotTransferable(f"{asset} cannot move from {from_account} to {to_account}", asset=asset)
    transfer_id = ids.next_id(uow, user.venue, now_ms)
    sent = move(uow, user.uid, from_account, asset, available=-amount, now_ms=now_ms)
    received = move(uow, user.uid, to_account, asset, available=amount, now_ms=now_ms)
    record = Transfer(transfer_id=transfer_id, uid=user.uid, venue=user.venue, asset=asset, amount=amount,
                      from_account=from_account, to_account=to_account,
                      client_oid=client_oid or str(transfer_id), status="successful", created_ms=now_ms)
    uow.insert_transfer(record)
    for account, kind, delta, bal in ((from_account, TRANSFER_OUT, -amount, sent),
                                      (to_account, TRANSFER_IN, amount, received)):
        uow.insert_bill(Bill(bill_id=ids.next_id(uow, user.venue, now_ms), uid=user.uid, venue=user.venue,
                             account=account, asset=asset, symbol="", kind=kind, amount=delta,
                             balance=bal.available, ref_id=transfer_id, created_ms=now_ms))
    return record
