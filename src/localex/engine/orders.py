"""Rules every order book shares: finding a user's order by id or client id, and checking that
an order can still be cancelled."""

from __future__ import annotations

from typing import Callable, TypeVar

from localex.engine.errors import OrderNotCancellable, OrderNotFound

O = TypeVar("O")


def find_order(uid: str, order_id: int | None, client_oid: str | None,
               by_id: Callable[[str, int], O | None],
               by_client_oid: Callable[[str, str], O | None]) -> O | None:
    """By orderId (and, if both are given, they must name the same order), else by clientOid."""
    if order_id is not None:
        order = by_id(uid, order_id)
        if order is not None and client_oid and order.client_oid != client_oid:
            return None
        return order
    if client_oid:
        return by_client_oid(uid, client_oid)
    return None


def cancellable(order: O | None, symbol: str | None) -> O:
    """The order, if it exists (on that symbol, when one is named) and is still open."""
    if order is None or (symbol is not None and order.symbol != symbol):
        raise OrderNotFound("order not found")
    if not order.status.is_open:
        raise OrderNotCancellable("order is finished", status=order.status.value)
    return order
