"""The event outbox: the engine's domain events, written in the transaction that made them.

`outbox` holds one row per event: its sequence number, kind, owner, market time and the changed
entity as JSON. The last number handed out is the table's highest `seq` (trimming keeps the
newest rows, a reset empties the table and the numbering starts again): the store reads it with
one `SELECT max(seq)` and, as the sole writer (SQLite), remembers it across units of work
(`SqlUnitOfWork.outbox_last`). Writers take their numbers in commit order because they are
serialised: SQLite's BEGIN IMMEDIATE, PostgreSQL's world lock (store/sql.py), taken before the
read (until revision 0011 a one-row table, `outbox_head`, held the last number and every unit of
work wrote it). A reader in another process follows the feed with `after(conn, seq)`.

The outbox is a feed, not state: snapshots neither save nor restore it, a reset empties it (the
numbering starts again with the new world), and only the newest KEEP events are kept. Who
trims it: the unit of work that appends (every TRIM_EVERY numbers, never its own events) when
nothing relays the outbox; when a relay follows it (scale/relay.py, the store's
`outbox_relayed` set), the relay alone, behind what it has relayed, so a unit of more than KEEP
events (a mass close) or a relay that falls behind loses none of them.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from decimal import Decimal
from functools import lru_cache
from types import SimpleNamespace

import orjson
from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Table, Text, bindparam, delete

from localex.engine.copy import FollowerCopy, Tracking
from localex.engine.events import Event, EventKind
from localex.engine.model import (Balance, Fill, FuturesFill, FuturesOrder, MarkPrice, Position, SpotOrder,
                                   SpotPlanOrder)
from localex.store.schema import metadata

KEEP = 10_000  # events kept for readers that fall behind
TRIM_EVERY = 1_000

outbox = Table(
    "outbox",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("uid", String(32), nullable=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("created", Integer, nullable=False),
    Column("payload", Text, nullable=False),
)

TYPES: dict[EventKind, type] = {
    EventKind.SPOT_ORDER: SpotOrder, EventKind.SPOT_FILL: Fill, EventKind.FUTURES_ORDER: FuturesOrder,
    EventKind.FUTURES_FILL: FuturesFill, EventKind.POSITION: Position, EventKind.BALANCE: Balance,
    EventKind.TRACKING: Tracking, EventKind.FOLLOWER_COPY: FollowerCopy, EventKind.MARK: MarkPrice,
    EventKind.SPOT_PLAN: SpotPlanOrder,
}

TABLES = [outbox]


def _plain(value, _decimal=Decimal, _format=format):
    if value.__class__ is _decimal:
        return _format(value, "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(f"cannot store {type(value).__name__} in the outbox")


def encode(obj) -> str:
    return orjson.dumps(obj, default=_plain).decode()


@lru_cache(maxsize=None)
def _decoders(cls: type) -> dict[str, typing.Callable]:
    """Per field, how to turn its JSON value back into the field's type."""
    out = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = typing.get_args(hint) or (hint,)
        for arg in args:
            if arg is Decimal:
                out[name] = Decimal
            elif isinstance(arg, type) and issubclass(arg, enum.Enum):
                out[name] = arg
    return out


def decode(kind: EventKind, payload: str):
    cls = TYPES[kind]
    values = orjson.loads(payload)
    for name, convert in _decoders(cls).items():
        if values.get(name) is not None:
            values[name] = convert(values[name])
    return cls(**values)


_PLAIN: dict = {}


def _plain_columns(meta) -> bool:
    """Whether the outbox's columns, in this dialect, take their values as they are (no bind
    processor) and in the order append builds its rows."""
    found = _PLAIN.get(id(meta))
    if found is None:
        row = meta.dump(SimpleNamespace(seq=1, kind="k", uid="u", at_ms=2, created=1, payload="p"))
        found = _PLAIN[id(meta)] = row == (1, "k", "u", 2, 1, "p")
    return found


_ENCODERS: dict[type, typing.Callable] = {}  # per class of entity, how append encodes it


@lru_cache(maxsize=None)
def _encoder(cls: type) -> typing.Callable:
    """The JSON of an entity, as encode() makes it, with its Decimal fields formatted here
    rather than through orjson's callback: a dict of the dataclass's fields in their order
    (what orjson makes of a dataclass), Decimals as format(value, "f")."""
    hints = typing.get_type_hints(cls)
    parts = []
    for f in dataclasses.fields(cls):
        args = typing.get_args(hints[f.name]) or (hints[f.name],)
        if Decimal in args:
            parts.append(f"{f.name!r}: (_fmt(v, 'f') if (v := o.{f.name}).__class__ is _D else v)")
        else:
            parts.append(f"{f.name!r}: o.{f.name}")
    env = {"_fmt": format, "_D": Decimal, "_dumps": orjson.dumps, "_plain": _plain}
    exec(f"def encode(o):\n    return _dumps({{{', '.join(parts)}}}, default=_plain).decode()\n", env)  # noqa: S102
    return env["encode"]


_ROW_ENCODERS: dict[str, typing.Callable | None] = {}
_MISSING = object()


def _row_encoder(meta) -> typing.Callable | None:
    """For a table whose dataclass has exactly its columns as fields: the JSON of an entity made
    from its row as the store wrote it (the same text encode() makes of the object: money is
    format(value, "f") in both, enums their values; booleans, bound as integers, turn back into
    booleans). None for any other table."""
    if meta.name in _ROW_ENCODERS:
        return _ROW_ENCODERS[meta.name]
    found = None
    cls = meta.cls
    if cls is not None and dataclasses.is_dataclass(cls) and \
            [f.name for f in dataclasses.fields(cls)] == list(meta.columns):
        names = tuple(f.name for f in dataclasses.fields(cls))  # plain str (not quoted_name)
        bools = [i for i, c in enumerate(meta.table.columns) if isinstance(c.type, Boolean)]
        dumps = orjson.dumps

        def found(row: tuple) -> str:
            if bools:
                row = list(row)
                for i in bools:
                    if row[i] is not None:
                        row[i] = bool(row[i])
            return dumps(dict(zip(names, row))).decode()
    _ROW_ENCODERS[meta.name] = found
    return found


def append(uow, events: list[Event]) -> list[Event]:
    """Number the events and write them with the unit of work (SqlUnitOfWork); returns them
    with their numbers. The events are those Recorder.changes just made (seq 0), held by no one
    else: each is numbered in place. Outbox rows are never read back by the unit that writes
    them, so they are inserted at once (one executemany), past the unit's buffer."""
    n = len(events)
    first = uow.outbox_last() + 1
    last = first + n - 1
    table_meta = uow._m(outbox)
    plain = _plain_columns(table_meta)
    rows = []
    append_row = rows.append
    dump, encoders = table_meta.dump, _ENCODERS
    seq = first
    flushed = getattr(uow, "dumped", None) or {}
    row_encoders: dict[int, typing.Callable | None] = {}  # id(meta) -> _row_encoder(meta)
    for e in events:
        obj = e.obj
        hit = flushed.get(id(obj))
        if hit is not None and hit[0] is obj:
            meta = hit[1]
            by_row = row_encoders.get(id(meta), _MISSING)
            if by_row is _MISSING:
                by_row = row_encoders[id(meta)] = _row_encoder(meta)
        else:
            by_row = None
        if by_row is not None:
            payload = by_row(hit[2])  # the very object the store just wrote: its row
        else:
            cls = obj.__class__
            enc = encoders.get(cls)
            if enc is None:
                enc = encoders[cls] = _encoder(cls) if dataclasses.is_dataclass(cls) else encode
            payload = enc(obj)
        state = e.__dict__
        state["seq"] = seq  # numbered in place (a frozen dataclass's field, set before anyone reads it)
        if plain:  # every column is bound as it is: the row is the tuple itself
            append_row((seq, state["kind"].value, state["uid"], state["at_ms"], int(state["created"]), payload))
        else:
            append_row(dump(SimpleNamespace(seq=seq, kind=e.kind.value, uid=e.uid, at_ms=e.at_ms,
                                            created=int(e.created), payload=payload)))
        seq += 1
    uow.insert_now(outbox, rows)
    uow.outbox_numbered(last)
    if last // TRIM_EVERY != (first - 1) // TRIM_EVERY and last > KEEP \
            and not uow.store.outbox_relayed:
        _trim(uow, min(last - KEEP, first - 1))
    return events


def trim_behind(uow, relayed: int, before: int) -> None:
    """For the relay: keep KEEP events behind `relayed` (the last it relayed), trimming every
    TRIM_EVERY numbers (`before` is where it had relayed to when it last asked)."""
    if relayed > KEEP and relayed // TRIM_EVERY != before // TRIM_EVERY:
        _trim(uow, relayed - KEEP)


def _trim(uow, upto: int) -> None:
    """Delete the events numbered up to `upto` (nothing reads outbox rows through the unit's
    buffer or the store's caches, and its highest seq stays)."""
    from localex.store.sql import _Select

    store = uow.store
    q = store._selects.get("outbox_trim")
    if q is None:
        q = store._selects["outbox_trim"] = _Select(
            delete(outbox).where(outbox.c.seq <= bindparam("upto", type_=BigInteger())), store.dialect)
    store._ensure_tx()
    uow._written.add("outbox")
    store.statements += 1
    store._cur.execute(q.sql, q.args({"upto": upto}))


def after(uow, seq: int, limit: int = 1000) -> list[Event]:
    """Events numbered above `seq`, oldest first, at most `limit`."""
    columns = ("seq", "kind", "uid", "at_ms", "created", "payload")
    rows = uow._select(outbox, [("seq", ">", seq)], (("seq", False),), limit, columns)
    return [Event(r[0], EventKind(r[1]), r[2], r[3], decode(EventKind(r[1]), r[5]), bool(r[4]))
            for r in rows]
