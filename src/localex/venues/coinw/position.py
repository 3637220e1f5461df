"""CoinW doc family "futures-trading / position": open positions (of one instrument, or all) and
position history."""

from __future__ import annotations

from localex.engine.model import MarginMode
from localex.venues.coinw.common import contract
from localex.venues.coinw.routes import Call, route
from localex.venues.coinw.rows import Book, paged, position_history_row, position_row

MODELS = {"0": MarginMode.ISOLATED, "1": MarginMode.CROSSED}


@route("GET", "/v1/perpum/positions", limit=10)
def positions(call: Call) -> list:
    """Open positions of one instrument, optionally only those of openIds (at most 20)."""
    p = call.params
    inst = contract(call.engine, p.text("instrument", required=True))
    ids = p.ident_list("openIds")
    book = Book(call.engine, call.uid)
    return [position_row(book, pos) for pos in book.positions()
            if pos.symbol == inst.symbol and (ids is None or pos.position_id in ids)]


@route("GET", "/v1/perpum/positions/all", limit=30)
def all_positions(call: Call) -> list:
    book = Book(call.engine, call.uid)
    return [position_row(book, pos) for pos in book.positions()]


@route("GET", "/v1/perpum/positions/history", limit=15)
def position_history(call: Call) -> dict:
    """Every position, open or closed, newest first; by instrument and margin mode."""
    p = call.params
    name = p.text("instrument")
    inst = contract(call.engine, name) if name is not None else None
    model = p.enum("positionModel", MODELS)
    page, size = p.page(default_size=20)
    book = Book(call.engine, call.uid)
    rows = [position_history_row(book, pos)
            for pos in sorted(book.positions(open_only=None), key=lambda x: x.position_id, reverse=True)
            if (inst is None or pos.symbol == inst.symbol) and (model is None or pos.margin_mode is model)]
    return paged(rows, page, size)
