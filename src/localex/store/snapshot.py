"""Snapshots: the whole stored state as one JSON document, and back.

{"format": "localex-snapshot", "version": 1, "revision": "<alembic revision>",
 "tables": {"<table>": [{column: value, ...}, ...], ...}, "extra": {...}}

Money is written as decimal strings, so a round trip is exact. A snapshot restores only into a
store at the same schema revision.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select

from localex.store import schema as s

FORMAT = "localex-snapshot"
VERSION = 1


class SnapshotError(ValueError):
    pass


def _plain(value: Any) -> Any:
    return format(value, "f") if isinstance(value, Decimal) else value


def revision(store) -> str | None:
    from localex.store.migrate import current_revision

    return current_revision(store.engine)


def dump(store, extra: dict | None = None) -> dict:
    tables: dict[str, list[dict]] = {}
    with store.transaction(read_only=True) as uow:
        for table in reversed(s.ALL_TABLES):  # parents first
            key = list(table.primary_key.columns)
            rows = uow.conn.execute(select(table).order_by(*key))
            tables[str(table.name)] = [{str(k): _plain(v) for k, v in row._mapping.items()} for row in rows]
    return {"format": FORMAT, "version": VERSION, "revision": revision(store), "tables": tables,
            "extra": extra or {}}


def load(store, snapshot: dict) -> dict:
    """Replace the store's whole state with the snapshot's; returns its `extra`."""
    if snapshot.get("format") != FORMAT or snapshot.get("version") != VERSION:
        raise SnapshotError("not a localex snapshot")
    if snapshot.get("revision") != revision(store):
        raise SnapshotError(f"snapshot schema {snapshot.get('revision')} differs from the store's "
                            f"{revision(store)}")
    known = {t.name: t for t in s.ALL_TABLES}
    unknown = set(snapshot["tables"]) - set(known)
    if unknown:
        raise SnapshotError(f"unknown tables: {sorted(unknown)}")
    with store.transaction() as uow:
        for table in s.ALL_TABLES:  # children first
            uow.conn.execute(delete(table))
        for table in reversed(s.ALL_TABLES):
            rows = snapshot["tables"].get(table.name, [])
            if rows:
                uow.conn.execute(insert(table), rows)
    return snapshot.get("extra", {})
