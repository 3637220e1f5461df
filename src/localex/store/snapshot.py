"""Snapshots: the whole stored state as one JSON document, and back.

{"format": "localex-snapshot", "version": 1, "revision": "<alembic revision>",
 "tables": {"<table>": [{column: value, ...}, ...], ...}, "extra": {...}}

Money is written as decimal strings, so a round trip is exact. A snapshot restores only into a
store at the same schema revision.

Loading is whole or nothing: every row of every table is checked first (known columns, required
columns present, each value of its column's type, enumerated values among those the engine
knows, key permissions among the engine's permissions), then the store is replaced in one
transaction, which a database refusal (a duplicate key) rolls back. Any refusal is a
SnapshotError and leaves the store as it was.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import typing
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, Integer, String, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from localex.engine import model as m
from localex.engine.copy import CopySymbol, CopyTrader, Follow, FollowerCopy, FollowerSetting, ProfitShare, Tracking
from localex.store import schema as s

FORMAT = "localex-snapshot"
VERSION = 1

# the model each table's rows become (their enumerated fields are checked against the model's)
TABLE_MODELS: dict[str, type] = {
    "users": m.User, "api_keys": m.ApiKey, "instruments": m.Instrument, "mark_prices": m.MarkPrice,
    "balances": m.Balance, "spot_orders": m.SpotOrder, "spot_fills": m.Fill,
    "futures_accounts": m.FuturesAccount, "symbol_settings": m.SymbolSettings,
    "positions": m.Position, "futures_orders": m.FuturesOrder, "futures_fills": m.FuturesFill,
    "bills": m.Bill, "copy_traders": CopyTrader, "copy_symbols": CopySymbol,
    "copy_follows": Follow, "copy_follower_settings": FollowerSetting, "copy_tracking": Tracking,
    "copy_follower_orders": FollowerCopy, "copy_profit_shares": ProfitShare,
}


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


def _enum_fields(cls: type) -> dict[str, tuple[type[enum.Enum], bool]]:
    """field -> (its enum, whether it is a comma-separated set of them)."""
    out = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        many = typing.get_origin(hint) in (frozenset, set)
        args = typing.get_args(hint)
        candidates = args if args else (hint,)
        for c in candidates:
            if isinstance(c, type) and issubclass(c, enum.Enum):
                out[f.name] = (c, many)
    return out


_ENUMS = {name: _enum_fields(cls) for name, cls in TABLE_MODELS.items()}


def _check_value(table: str, column, value: Any, where: str) -> None:
    if value is None:
        if not column.nullable:
            raise SnapshotError(f"{where}: '{column.name}' cannot be null")
        return
    kind = column.type
    if isinstance(kind, s.Money):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise SnapshotError(f"{where}: '{column.name}' must be a decimal string")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise SnapshotError(f"{where}: '{column.name}' must be a decimal string") from None
        if not number.is_finite():
            raise SnapshotError(f"{where}: '{column.name}' must be a finite decimal")
    elif isinstance(kind, Boolean):
        if not isinstance(value, bool) and value not in (0, 1):
            raise SnapshotError(f"{where}: '{column.name}' must be true or false")
    elif isinstance(kind, Integer):  # BigInteger too
        if isinstance(value, bool) or not isinstance(value, int) or not -2**63 <= value < 2**63:
            raise SnapshotError(f"{where}: '{column.name}' must be an integer")
    elif isinstance(kind, String):  # Text too
        if not isinstance(value, str):
            raise SnapshotError(f"{where}: '{column.name}' must be a string")
        if "\x00" in value:
            raise SnapshotError(f"{where}: '{column.name}' holds a NUL character")


def _check_rows(table, rows: Any, enums: dict, key_kinds: dict) -> None:
    name = table.name
    if not isinstance(rows, list):
        raise SnapshotError(f"table {name}: rows must be a list")
    columns = {c.name: c for c in table.columns}
    required = {c.name for c in table.columns
                if not c.nullable and c.default is None and c.server_default is None}
    for i, row in enumerate(rows):
        where = f"table {name}, row {i}"
        if not isinstance(row, dict):
            raise SnapshotError(f"{where}: a row must be an object")
        unknown = set(row) - set(columns)
        if unknown:
            raise SnapshotError(f"{where}: unknown columns {sorted(unknown)}")
        missing = required - set(row)
        if missing:
            raise SnapshotError(f"{where}: missing columns {sorted(missing)}")
        for col, value in row.items():
            _check_value(name, columns[col], value, where)
        for col, (enum_type, many) in enums.items():
            value = row.get(col)
            if value is None:
                continue
            for part in ([p for p in value.split(",") if p] if many else [value]):
                try:
                    enum_type(part)
                except ValueError:
                    known = ", ".join(e.value for e in enum_type)
                    raise SnapshotError(f"{where}: '{col}' value '{part}' is not one of {known}") from None
        if name == "api_keys":
            allowed = key_kinds.get(row["venue"])
            if allowed is not None and m.KeyKind(row["kind"]) not in allowed:
                raise SnapshotError(f"{where}: {row['venue']} has no {row['kind'].upper()} keys")
        if name == "instruments" and row.get("tiers"):
            from localex.store.sql import decode_tiers

            try:
                decode_tiers(row["tiers"])
            except (ValueError, ArithmeticError) as err:
                raise SnapshotError(f"{where}: 'tiers' is not a list of position tiers ({err})") from None
        if name == "fill_models":
            try:
                params = json.loads(row["params"])
            except ValueError:
                raise SnapshotError(f"{where}: 'params' must be a JSON object") from None
            if not isinstance(params, dict):
                raise SnapshotError(f"{where}: 'params' must be a JSON object")


def validate(store, snapshot: Any, key_kinds: dict | None = None) -> None:
    """Refuse, with a SnapshotError naming what is wrong, anything load() would not restore
    whole."""
    if not isinstance(snapshot, dict) or snapshot.get("format") != FORMAT or snapshot.get("version") != VERSION:
        raise SnapshotError("not a localex snapshot")
    if snapshot.get("revision") != revision(store):
        raise SnapshotError(f"snapshot schema {snapshot.get('revision')} differs from the store's "
                            f"{revision(store)}")
    tables = snapshot.get("tables")
    if not isinstance(tables, dict):
        raise SnapshotError("'tables' must be an object of table name -> rows")
    known = {t.name: t for t in s.ALL_TABLES}
    unknown = set(tables) - set(known)
    if unknown:
        raise SnapshotError(f"unknown tables: {sorted(unknown)}")
    if "extra" in snapshot and not isinstance(snapshot["extra"], dict):
        raise SnapshotError("'extra' must be an object")
    for name, rows in tables.items():
        _check_rows(known[name], rows, _ENUMS.get(name, {}), key_kinds or {})
    users = {row["uid"]: row["venue"] for row in tables.get("users", [])}
    for i, row in enumerate(tables.get("api_keys", [])):
        if users.get(row["uid"]) != row["venue"]:
            raise SnapshotError(f"table api_keys, row {i}: no {row['venue']} user {row['uid']}")


def load(store, snapshot: dict, key_kinds: dict | None = None, checked: bool = False) -> dict:
    """Replace the store's whole state with the snapshot's, or refuse it and change nothing;
    returns its `extra`. checked: validate() has passed already."""
    if not checked:
        validate(store, snapshot, key_kinds)
    try:
        with store.transaction() as uow:
            for table in s.ALL_TABLES:  # children first
                uow.conn.execute(delete(table))
            for table in reversed(s.ALL_TABLES):
                rows = snapshot["tables"].get(table.name, [])
                if rows:
                    uow.conn.execute(insert(table), rows)
    except SQLAlchemyError as err:
        reason = getattr(err, "orig", None) or err
        raise SnapshotError(f"the store refused the snapshot's rows: {reason}") from None
    return snapshot.get("extra", {})
