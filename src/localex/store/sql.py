"""SQL backend over SQLAlchemy Core. SQLite is the embedded default; the schema is portable.

How it stays lean (docs/architecture.md, "The store"):

- Every statement is built with SQLAlchemy Core once per shape and compiled once per dialect; a
  call runs the compiled text on the DB-API cursor of one persistent connection, with the column
  types' own bind and result processors, and rows become dataclasses through a mapper generated
  once per table (no per-row reflection).
- A unit of work buffers its writes: repeated writes to one row coalesce into one, and the rest
  are flushed with executemany when the transaction commits, or earlier for the tables a query
  is about to read (a query always sees the unit's own writes). Reads by primary key see the
  buffer first.
- Id sequences live in memory within a unit of work and are written once when it commits.
- Rows that change only through this store (users, API keys, instruments, mark prices, fill
  models) and the sequences are cached across transactions on SQLite: a unit of work that
  commits publishes the rows it wrote; one that rolls back publishes nothing; raw SQL
  (`uow.conn`) or a bulk delete drops the affected caches; and when another connection to the
  same file has committed since (SQLite's `PRAGMA data_version`, checked as each unit of work
  begins), every cache is dropped.
- A read-only unit of work on SQLite issues no BEGIN/COMMIT (the in-process lock already
  serialises every unit of work); a writing one begins at once (IMMEDIATE on a file).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import operator
import threading
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from typing import Any, Callable, Iterator

from sqlalchemy import and_, bindparam, create_engine, delete, event, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from localex.engine.model import (
    ZERO,
    ApiKey,
    Balance,
    Bill,
    FillModel,
    CancelReason,
    Fill,
    FuturesAccount,
    FuturesFill,
    FuturesOrder,
    FuturesStatus,
    MarginMode,
    OrderKind,
    Position,
    PositionTier,
    PositionMode,
    PositionSide,
    SymbolSettings,
    TradeSide,
    Instrument,
    KeyKind,
    Liquidity,
    MarkPrice,
    MinuteBar,
    PublicTrade,
    OrderStatus,
    OrderType,
    Permission,
    Side,
    SpotOrder,
    TimeInForce,
    User,
)
from localex.engine.model import PlanKind, PlanStatus, SpotPlanOrder, Transfer
from localex.engine.copy import (
    CopySymbol,
    CopyTrader,
    Follow,
    FollowerCopy,
    FollowerSetting,
    ProfitShare,
    Tracking,
)
from localex.engine.errors import RetryTransaction
from localex.store import outbox
from localex.store import schema as s


def _plain(value: Any) -> Any:
    """A field's value as its column stores it (enums by value, sets and tuples comma-joined)."""
    if value is None or value.__class__ is str:
        return value
    if isinstance(value, enum.Enum):
        return value._value_
    if isinstance(value, (frozenset, set)):
        return ",".join(sorted(v.value if isinstance(v, enum.Enum) else v for v in value))
    if isinstance(value, tuple):
        return ",".join(value)
    return value


def _money_dump(value: Any, _decimal=Decimal, _format=format) -> str | None:
    """Money.process_bind_param, without the wrapper."""
    if value is None:
        return None
    return _format(value if value.__class__ is _decimal else _decimal(value), "f")


def _money_load(value: Any, _decimal=Decimal) -> Decimal | None:
    """Money.process_result_value, without the wrapper."""
    return None if value is None else _decimal(value)


def _plain_text(money: s.Money, dialect) -> bool:
    """Whether Money's underlying text type binds and returns its values as they are in this
    dialect (then Money's two conversions are all there is to it)."""
    impl = money.impl_instance
    return impl.bind_processor(dialect) is None and impl.result_processor(dialect, None) is None


def _copy(obj: Any, _new=object.__new__) -> Any:
    """A shallow copy of a row's dataclass (copy.copy without its detour through __reduce_ex__)."""
    twin = _new(obj.__class__)
    twin.__dict__.update(obj.__dict__)
    return twin


def _to_row(obj: Any) -> dict[str, Any]:
    return {f.name: _plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _permissions(text: str) -> frozenset:
    return frozenset(Permission(p) for p in _split(text))


def _addresses(text: str) -> tuple:
    return tuple(_split(text))


def encode_tiers(tiers) -> str:
    """An instrument's position tiers as stored: JSON rows of [level, start, end, max leverage,
    maintenance rate], decimals as strings; "" for none."""
    if not tiers:
        return ""
    return json.dumps([[t.level, format(t.start, "f"), format(t.end, "f"), t.max_leverage,
                        format(t.maintenance_rate, "f")] for t in tiers], separators=(",", ":"))


def decode_tiers(text: str) -> tuple:
    """The inverse of encode_tiers; a ValueError for anything else."""
    if not text:
        return ()
    rows = json.loads(text)
    if not isinstance(rows, list):
        raise ValueError("tiers must be a list")
    out = []
    for row in rows:
        if not isinstance(row, list) or len(row) != 5:
            raise ValueError("a tier is [level, start, end, max leverage, maintenance rate]")
        level, start, end, lever, rate = row
        if isinstance(level, bool) or isinstance(lever, bool) or not isinstance(level, int) \
                or not isinstance(lever, int) or not all(isinstance(v, str) for v in (start, end, rate)):
            raise ValueError("a tier's level and leverage are integers, its values strings")
        tier = PositionTier(level, Decimal(start), Decimal(end), lever, Decimal(rate))
        if not (tier.start.is_finite() and tier.end.is_finite() and tier.maintenance_rate.is_finite()) \
                or tier.end <= tier.start or lever < 1 or not ZERO < tier.maintenance_rate < 1:
            raise ValueError("a tier needs start < end, leverage >= 1 and 0 < rate < 1")
        out.append(tier)
    return tuple(out)


_OPEN_SPOT = (OrderStatus.LIVE.value, OrderStatus.PARTIALLY_FILLED.value)
_OPEN_FUTURES = (FuturesStatus.UNTRIGGERED.value, FuturesStatus.LIVE.value,
                 FuturesStatus.PARTIALLY_FILLED.value)
_ORDER_ENUMS = dict(kind=OrderKind, side=Side, pos_side=PositionSide, trade_side=TradeSide,
                    order_type=OrderType, force=TimeInForce, status=FuturesStatus,
                    margin_mode=MarginMode, cancel_reason=CancelReason)

# table -> (dataclass, converters from a column's value to its field's, by column name)
_CLASSES: dict[str, tuple[type, dict[str, Callable]]] = {
    "users": (User, {}),
    "api_keys": (ApiKey, dict(kind=KeyKind, permissions=_permissions, ip_whitelist=_addresses)),
    "instruments": (Instrument, dict(tiers=lambda text: decode_tiers(text))),
    "mark_prices": (MarkPrice, {}),
    "balances": (Balance, {}),
    "spot_orders": (SpotOrder, dict(side=Side, order_type=OrderType, force=TimeInForce,
                                    status=OrderStatus, cancel_reason=CancelReason)),
    "spot_fills": (Fill, dict(side=Side, order_type=OrderType, liquidity=Liquidity)),
    "futures_accounts": (FuturesAccount, dict(position_mode=PositionMode)),
    "symbol_settings": (SymbolSettings, dict(margin_mode=MarginMode)),
    "positions": (Position, dict(side=PositionSide, margin_mode=MarginMode)),
    "futures_orders": (FuturesOrder, _ORDER_ENUMS),
    "futures_fills": (FuturesFill, dict(side=Side, pos_side=PositionSide, trade_side=TradeSide,
                                        liquidity=Liquidity)),
    "copy_traders": (CopyTrader, {}),
    "copy_symbols": (CopySymbol, {}),
    "copy_follows": (Follow, {}),
    "copy_follower_settings": (FollowerSetting, {}),
    "copy_tracking": (Tracking, {}),
    "copy_follower_orders": (FollowerCopy, {}),
    "copy_profit_shares": (ProfitShare, {}),
    "bills": (Bill, {}),
    "fill_models": (FillModel, dict(params=json.loads)),
    "spot_plan_orders": (SpotPlanOrder, dict(kind=PlanKind, side=Side, order_type=OrderType,
                                             force=TimeInForce, status=PlanStatus)),
    "transfers": (Transfer, {}),
    "market_bars": (MinuteBar, {}),
    "public_trades": (PublicTrade, dict(side=Side)),
}
_DUMP_SPECIAL: dict[tuple[str, str], Callable] = {
    ("fill_models", "params"): lambda params: json.dumps(params, sort_keys=True),
    ("instruments", "tiers"): lambda tiers: encode_tiers(tiers),
}

# Tables whose rows change only through this store: cached across transactions (sole writer).
# Every one holds a row per user (or per instrument) at most, never a row per order or fill, so
# the caches stay as small as the set of accounts.
CACHED_TABLES = frozenset({"users", "api_keys", "instruments", "mark_prices", "fill_models",
                           "balances", "futures_accounts", "symbol_settings",
                           "copy_traders", "copy_symbols", "copy_follows", "copy_follower_settings"})

_CLEAN, _INSERT, _UPDATE, _UPSERT = 0, 1, 2, 3
_MARKS_ONLY = frozenset({"mark_prices", "sequences", "market_bars", "public_trades"})
_PRUNABLE_NAMES = ("market_bars", "public_trades")
_PRUNABLE = frozenset(_PRUNABLE_NAMES)
_MISSING = object()
# tables whose rows are the entities of events (engine/events.py)
_EVENT_TABLES = frozenset({"spot_orders", "spot_fills", "futures_orders", "futures_fills", "positions",
                           "balances", "copy_tracking", "copy_follower_orders", "spot_plan_orders",
                           "mark_prices"})
_EAGER = frozenset({"fill_models"})  # a field (params) is a dict the caller may change later
# where resting_spot_orders' books find a spot_orders row's venue, symbol, status and uid
_RESTING_AT = tuple(s.spot_orders.columns.keys().index(n) for n in ("venue", "symbol", "status", "uid"))
_IN_CHUNK = 100  # ids per statement of a look-up by a list of ids
# tables whose rows, found by a query, are often read again by primary key in the same unit
_REREAD = frozenset({"spot_orders", "futures_orders", "positions", "spot_plan_orders",
                     "copy_tracking", "copy_follower_orders"})


class _Select:
    """A SELECT compiled once: its text, its parameters in order, its result processors."""

    __slots__ = ("sql", "spec", "names", "positional", "procs")

    def __init__(self, stmt, dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = compiled.positional
        by_name = {name: bp for bp, name in compiled.bind_names.items()}
        order = list(compiled.positiontup) if compiled.positional else list(by_name)
        self.names = order
        self.spec = [(name, by_name[name].type.bind_processor(dialect), by_name[name].value)
                     for name in order]
        self.procs = [c.type.result_processor(dialect, None) for c in stmt.selected_columns] \
            if hasattr(stmt, "selected_columns") else []

    def args(self, params: dict):
        out = []
        for name, proc, default in self.spec:
            value = params[name] if name in params else default
            out.append(proc(value) if proc is not None else value)
        return tuple(out) if self.positional else dict(zip(self.names, out))

    def processed(self, rows):
        procs = self.procs
        if not any(procs):
            return rows
        return [tuple(p(v) if p is not None else v for p, v in zip(procs, row)) for row in rows]


class _Write:
    """An INSERT / UPDATE / upsert of whole rows compiled once; parameters come from row tuples
    already in bound form, in the table's column order."""

    __slots__ = ("sql", "index", "names", "positional", "pick")

    def __init__(self, stmt, dialect, columns: list[str]) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = compiled.positional
        by_name = {name: bp for bp, name in compiled.bind_names.items()}
        order = list(compiled.positiontup) if compiled.positional else list(by_name)
        position = {name: i for i, name in enumerate(columns)}
        self.names = order
        self.index = [position[name[3:] if name.startswith("pk_") else name] for name in order]
        # positional parameters in another order than the row's: picked out in C
        self.pick = None if self.index == list(range(len(self.index))) else (
            operator.itemgetter(*self.index) if len(self.index) > 1 else (lambda row, i=self.index[0]: (row[i],)))

    def params(self, rows):
        if self.positional:
            pick = self.pick
            if pick is None:
                return rows
            return [pick(row) for row in rows]
        index = self.index
        return [{n: row[i] for n, i in zip(self.names, index)} for row in rows]


class _Table:
    """One table's compiled statements, its row mapper and dumper, for one dialect."""

    def __init__(self, table, dialect) -> None:
        self.table = table
        self.name = table.name
        self.columns = [c.name for c in table.columns]
        self.pk_names = [c.name for c in table.primary_key.columns]
        self.pk_index = [self.columns.index(n) for n in self.pk_names]
        ints = [isinstance(table.c[n].type, s.Integer) for n in self.pk_names]
        self.pk_ints = ints if any(ints) else None
        self.cls, convs = _CLASSES.get(self.name, (None, {}))
        env: dict[str, Any] = {"cls": self.cls}
        load, dump = [], []
        for i, col in enumerate(table.columns):
            result = col.type.result_processor(dialect, None)
            bind = col.type.bind_processor(dialect)
            conv = convs.get(col.name)
            value = f"o.{col.name}"
            special = _DUMP_SPECIAL.get((self.name, col.name))
            if isinstance(col.type, s.Money) and _plain_text(col.type, dialect) and conv is None:
                # Money's own two conversions, inlined (what Money.process_* do, unwrapped)
                load.append(f"(None if (x := t[{i}]) is None else _D(x))")
                dump.append(f"(None if (v := {value}) is None else _fmt(v, 'f') if v.__class__ is _D "
                            f"else _fmt(_D(v), 'f'))")
                continue
            if (result is None and bind is None and special is None and isinstance(conv, type)
                    and issubclass(conv, enum.Enum)):
                # an enum stored by value: members found in the enum's own map of values (a
                # member may be falsy: a str enum's "")
                env[f"c{i}"], env[f"m{i}"] = conv, conv._value2member_map_.get
                load.append(f"(None if (x := t[{i}]) is None else "
                            f"(y if (y := m{i}(x, _M)) is not _M else c{i}(x)))")
                dump.append(f"(v._value_ if (v := {value}).__class__ is c{i} else _plain(v))")
                continue
            expr = f"t[{i}]"
            if result is not None:
                env[f"r{i}"] = result
                expr = f"r{i}({expr})"
            if conv is not None:
                env[f"c{i}"] = conv
                expr = f"(None if t[{i}] is None else c{i}({expr}))"
            load.append(expr)
            if special is not None:
                env[f"s{i}"] = special
                value = f"s{i}({value})"
            elif not isinstance(col.type, (s.Money, s.Integer, s.BigInteger)):
                value = f"(v if (v := {value}).__class__ is str else _plain(v))" if bind is None \
                    else f"_plain({value})"
            if bind is not None:
                env[f"b{i}"] = bind
                value = f"b{i}({value})"
            dump.append(value)
        env["_D"], env["_fmt"], env["_M"] = Decimal, format, _MISSING
        env["_plain"] = _plain
        code = (f"def load(t):\n    return cls({', '.join(load)})\n"
                f"def dump(o):\n    return ({', '.join(dump)},)\n")
        if len(self.pk_index) == 1:
            code += f"def pk_of(row):\n    return (row[{self.pk_index[0]}],)\n"
        else:
            code += f"def pk_of(row):\n    return ({', '.join(f'row[{i}]' for i in self.pk_index)},)\n"
        # an object's primary key as its row would hold it (the dump of the key's columns)
        code += f"def pk_obj(o):\n    return ({', '.join(dump[i] for i in self.pk_index)},)\n"
        self.code = code
        exec(code, env)  # noqa: S102 - generated from the schema, once per table
        self.pk_of: Callable = env["pk_of"]
        self.pk_obj: Callable = env["pk_obj"]
        # rows held as objects until flushed (see SqlUnitOfWork._put); not those with a
        # mutable field, which are dumped as they are put
        self.lazy = self.cls is not None and self.name not in _EAGER
        self.cached = self.name in CACHED_TABLES  # rows kept by the store across units of work
        self.load: Callable = env["load"]
        self.dump: Callable = env["dump"]
        cols = {c: bindparam(c, type_=table.c[c].type) for c in self.columns}
        self.insert = _Write(insert(table).values(cols), dialect, self.columns)
        non_pk = [c for c in self.columns if c not in self.pk_names]
        pk_match = and_(*(table.c[n] == bindparam("pk_" + n, type_=table.c[n].type) for n in self.pk_names))
        self.update = _Write(update(table).where(pk_match).values({c: cols[c] for c in non_pk}),
                             dialect, self.columns) if non_pk else None
        self.upsert = self._upsert(dialect, cols, non_pk)
        self.by_pk = _Select(select(table).where(pk_match), dialect)
        # by_pk's parameters are the key itself, in order (no bind processor): the key is passed
        # to the DB-API as it is
        self.by_pk_plain = (self.by_pk.positional and self.by_pk.names == ["pk_" + n for n in self.pk_names]
                            and all(proc is None for _name, proc, _default in self.by_pk.spec))

    def _upsert(self, dialect, cols, non_pk):
        if dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        elif dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            return None  # update, then insert what did not exist (SqlUnitOfWork._flush_upserts)
        stmt = dialect_insert(self.table).values(cols)
        if non_pk:
            stmt = stmt.on_conflict_do_update(index_elements=self.pk_names,
                                              set_={c: stmt.excluded[c] for c in non_pk})
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=self.pk_names)
        return _Write(stmt, dialect, self.columns)


_TABLES: dict[tuple[str, str], _Table] = {}


def _meta(dialect, table) -> _Table:
    key = (dialect.name, table.name)
    meta = _TABLES.get(key)
    if meta is None:
        meta = _TABLES[key] = _Table(table, dialect)
    return meta


_COMPARE = {
    "=": lambda c, b: c == b, "<": lambda c, b: c < b, ">": lambda c, b: c > b,
    "<=": lambda c, b: c <= b, ">=": lambda c, b: c >= b,
}


_SORTED: list = []
_RANK: dict[str, int] = {}


def _rank() -> dict[str, int]:
    """Each table's place in dependency order."""
    if len(_RANK) != len(s.metadata.tables):
        _RANK.clear()
        _RANK.update((t.name, i) for i, t in enumerate(_sorted_tables()))
    return _RANK


def _sorted_tables() -> list:
    """The tables in dependency order (SQLAlchemy sorts them anew on every call)."""
    if len(_SORTED) != len(s.metadata.tables):
        _SORTED[:] = s.metadata.sorted_tables
    return _SORTED


class SqlUnitOfWork:
    """Every read and write of one transaction. Commit happens when the block exits cleanly."""

    def __init__(self, store: "SqlStore", read_only: bool = False) -> None:
        self.store = store
        self._metas = store._metas  # table name -> _Table (the store's, shared)
        self.read_only = read_only
        self._pending: dict[str, dict[tuple, tuple[int, tuple]]] = {}
        self._clean: dict[str, dict[tuple, tuple]] = {}
        self._written: set[str] = set()  # tables this unit wrote
        self._raw: set[str] = set()  # tables changed by SQL outside the row buffer
        self._seq: dict[str, int | None] = {}
        self._seq_dirty: set[str] = set()
        self._undo: list[tuple[dict, dict, set, dict]] = []  # per open savepoint
        self._prunes: dict[tuple[str, str], int] = {}  # deferred tape prunes: (table, instrument) -> cutoff
        self._touched: dict[str, set] = {}  # primary keys written, of the cached tables
        self.committed: list[Callable[[], None]] = []  # run once the unit has committed
        # the copy of an object the last _put buffered (never changed while buffered: a caller
        # that keeps a copy of what it wrote may keep this one, engine/events.py Recorder)
        self.last_put: Any = None
        # id of a held object -> (the object, its table, its row) as flushed: the outbox makes
        # an event's JSON from the row when the event's entity is that very object
        self.dumped: dict[int, tuple] = {}
        # table -> primary key -> (a clean row, the object made of it for a shared read): a
        # later read of the same row copies that object instead of making one again
        self._shared: dict[str, dict[tuple, tuple]] = {}
        self._outbox_last: int | None = None  # the last event number, once read or written
        self._orders_flushed: set = set()  # primary keys of spot_orders rows this unit wrote

    def on_commit(self, fn: Callable[[], None]) -> None:
        """Run fn after this unit of work commits (never if it rolls back)."""
        self.committed.append(fn)

    # plumbing ----------------------------------------------------------------------------
    @property
    def conn(self) -> Connection:
        """The SQLAlchemy connection, for SQL this class does not write (snapshots, bulk loads):
        everything buffered is flushed first, and every cache is dropped when the unit ends."""
        self.flush()
        self._raw.update(s.metadata.tables)
        self._written.update(s.metadata.tables)
        self._clean.clear()
        self.store._ensure_tx()
        self.store._leave_pipeline()
        return self.store._sa

    def _m(self, table) -> _Table:
        try:
            return self.store._metas[table.name]
        except KeyError:
            meta = self.store._metas[table.name] = _meta(self.store.dialect, table)
            return meta

    def _fetch(self, q: _Select, params: dict, tables=()) -> list:
        for name in tables:
            if name in self._pending or (self._prunes and name in _PRUNABLE):
                self._flush_table(name)
        store = self.store
        store.statements += 1
        cur = store._cur
        cur.execute(q.sql, q.args(params))
        return cur.fetchall()

    def _get(self, table, pk: tuple):
        """The row with this primary key as a bound tuple (None: absent)."""
        name = table.name
        meta = self._m(table)
        if meta.pk_ints:
            try:
                if len(pk) == 1:
                    if pk[0].__class__ is not int:
                        pk = (int(pk[0]),)
                else:
                    pk = tuple(int(v) if i else v for v, i in zip(pk, meta.pk_ints))
            except (TypeError, ValueError):
                return None  # an integer key that is not one matches no row
        pend = self._pending.get(name)
        if pend is not None:
            entry = pend.get(pk)
            if entry is not None:
                row = entry[1]
                return row if row.__class__ is tuple else meta.dump(row)
        clean = self._clean.get(name)
        if clean is not None:
            row = clean.get(pk, _MISSING)
            if row is not _MISSING:
                return row
        cache = self.store._cache.get(name)
        if cache is not None and (name in self._raw or pk in self._touched.get(name, ())):
            cache = None  # this unit wrote the row (or the table by hand): the cache is behind
        if cache is not None:
            row = cache.get(pk, _MISSING)
            if row is not _MISSING:
                return row
        store = self.store
        if name == "spot_orders" and store._resting and name not in self._written:
            # an open order: the sole writer keeps the committed open orders of every
            # instrument asked about (resting_spot_orders), and one of them may hold it
            order_id = pk[0]
            for book in store._resting.values():
                row = book.get(order_id)
                if row is not None:
                    self._clean.setdefault(name, {})[pk] = row
                    return row
        if meta.by_pk_plain:  # _fetch, with the key as the statement's parameters
            store.statements += 1
            cur = store._cur
            cur.execute(meta.by_pk.sql, pk)
            rows = cur.fetchall()
        else:
            rows = self._fetch(meta.by_pk, dict(zip(("pk_" + n for n in meta.pk_names), pk)))
        row = rows[0] if rows else None
        self._clean.setdefault(name, {})[pk] = row
        if cache is not None and row is not None:
            cache[pk] = row  # the committed row: this unit has not written it
        return row

    def _load(self, table, pk: tuple, shared: bool = False):
        """The object with this primary key (None: absent): the caller's own, to change and
        write back as it likes. With shared=True the caller only reads it: a row this unit
        wrote is answered with the very object the buffer holds (no copy); it must never be
        changed."""
        name = table.name
        pend = self._pending.get(name)
        if pend is not None:
            entry = pend.get(pk)
            if entry is not None:
                row = entry[1]
                if row.__class__ is not tuple:
                    # written in this unit, held as an object
                    return row if shared else _copy(row)
                return self._m(table).load(row)
        row = self._get(table, pk)
        if row is None:
            return None
        # an object made from this very row before, for a shared read: it was never changed
        kept = self._shared.get(name)
        if kept is not None:
            hit = kept.get(pk)
            if hit is not None and hit[0] is row:
                return hit[1] if shared else _copy(hit[1])
        obj = self._m(table).load(row)
        if shared:
            if kept is None:
                kept = self._shared[name] = {}
            kept[pk] = (row, obj)
        return obj

    def _put(self, table, obj, op: int, given: bool = False) -> None:
        """Buffer a write of `obj`. The buffer holds a copy of the object, not its row: the
        row is made (dumped) once, when the table is flushed, however often the object was
        written; a read by key in the meantime answers a copy of it. With given=True the
        caller hands the object itself over and never changes it again (a row built to be
        written, or read for this very update): the buffer holds it without a copy."""
        name = table.name
        meta = self._metas.get(name)
        if meta is None:
            meta = self._m(table)
        if meta.lazy:
            # _put_entry, inlined: a mass close buffers a dozen rows per close
            held = self.last_put = obj if given else _copy(obj)
            pk = meta.pk_obj(obj)
            pend = self._pending.get(name)
            if pend is None:
                pend = self._pending[name] = {}
                self._written.add(name)
            prev = pend.get(pk)
            if self._undo:
                self._undo[-1][0].setdefault((name, pk), prev)
            if prev is not None and prev[0] != _UPDATE:
                op = prev[0]  # an insert or an upsert stays one, with the newest values
            pend[pk] = (op, held)
            if meta.cached:
                touched = self._touched.get(name)
                if touched is None:
                    touched = self._touched[name] = set()
                touched.add(pk)
            clean = self._clean.get(name)
            if clean is not None:
                clean.pop(pk, None)
        else:
            self.last_put = None
            self._put_row(meta, meta.dump(obj), op)

    def _put_row(self, meta: _Table, row: tuple, op: int) -> None:
        self._put_entry(meta.name, meta.pk_of(row), row, op)

    def _put_entry(self, name: str, pk: tuple, row, op: int) -> None:
        pend = self._pending.get(name)
        if pend is None:
            pend = self._pending[name] = {}
        prev = pend.get(pk)
        if self._undo:
            self._undo[-1][0].setdefault((name, pk), prev)
        if prev is not None and prev[0] != _UPDATE:
            op = prev[0]  # an insert or an upsert stays one, with the newest values
        pend[pk] = (op, row)
        if name in CACHED_TABLES:
            self._touched.setdefault(name, set()).add(pk)
        clean = self._clean.get(name)
        if clean is not None:
            clean.pop(pk, None)
        self._written.add(name)

    def flush(self) -> None:
        """Write everything buffered (tables in dependency order) and the sequences."""
        if self._prunes:
            for table in _sorted_tables():
                if table.name in self._pending or table.name in _PRUNABLE:
                    self._flush_table(table.name)
        elif self._pending:
            rank = _rank()
            for name in sorted(self._pending, key=rank.__getitem__):
                self._flush_table(name)
        if self._seq_dirty:
            self._flush_sequences()

    def _apply_prunes(self, name: str) -> None:
        """The deletes prune_tape deferred for this table: buffered rows they reach are dropped,
        stored ones deleted, one statement per instrument."""
        keys = [key for key in self._prunes if key[0] == name]
        if not keys:
            return
        meta = self._m(s.metadata.tables[name])
        at_instrument, at_ts = meta.columns.index("instrument"), meta.columns.index("ts")
        pend = self._pending.get(name, {})
        clean = self._clean.get(name, {})
        undo = self._undo[-1][0] if self._undo else None
        store = self.store
        store._ensure_tx()
        # (instrument, time) of every buffered row, read once for all the instruments pruned (a
        # buffered row is a tuple or still the object: bars and prints both name the two fields)
        placed = [(pk, row[at_instrument], row[at_ts]) if row.__class__ is tuple else (pk, row.instrument, row.ts)
                  for pk, (_op, row) in pend.items()]
        for key in keys:
            cutoff = self._prunes.pop(key)
            instrument = key[1]
            for pk in [pk for pk, at, ts in placed if at == instrument and ts < cutoff and pk in pend]:
                if undo is not None:
                    undo.setdefault((name, pk), pend[pk])
                del pend[pk]
            for pk in [pk for pk, row in clean.items()
                       if row is not None and row[at_instrument] == instrument and row[at_ts] < cutoff]:
                del clean[pk]
            t = s.metadata.tables[name]
            q = store._selects.get(("prune", name))
            if q is None:
                q = store._selects[("prune", name)] = _Select(delete(t).where(and_(
                    t.c.instrument == bindparam("i", type_=t.c.instrument.type),
                    t.c.ts < bindparam("c", type_=t.c.ts.type))), store.dialect)
            store.statements += 1
            store._cur.execute(q.sql, q.args({"i": instrument, "c": cutoff}))
        self._written.add(name)

    def _flush_table(self, name: str) -> None:
        if self._prunes and name in _PRUNABLE:
            self._apply_prunes(name)
        pend = self._pending.pop(name, None)
        if not pend:
            return
        store = self.store
        if not store._in_tx:
            store._ensure_tx()
        meta = store._metas.get(name)
        if meta is None:
            meta = self._m(s.metadata.tables[name])
        clean = self._clean.get(name)
        if clean is None:
            clean = self._clean[name] = {}
        undo = self._undo[-1][0] if self._undo else None
        dump = meta.dump
        dumped = self.dumped if name in _EVENT_TABLES else None
        if name == "spot_orders":
            self._orders_flushed.update(pend)
        if len(pend) == 1:  # the common case: one row, one statement
            for pk, entry in pend.items():
                if undo is not None:
                    undo.setdefault((name, pk), entry)
                op, row = entry
                if row.__class__ is not tuple:
                    held = row
                    row = dump(held)
                    if dumped is not None:
                        dumped[id(held)] = (held, meta, row)
                clean[pk] = row
                self._write_one(meta, op, row)
            return
        run_op, run = None, []
        for pk, entry in pend.items():
            if undo is not None:
                undo.setdefault((name, pk), entry)
            op, row = entry
            if row.__class__ is not tuple:
                held = row
                row = dump(held)
                if dumped is not None:
                    dumped[id(held)] = (held, meta, row)
            if op != run_op and run:
                self._write(meta, run_op, run)
                run = []
            run_op = op
            run.append(row)
            clean[pk] = row
        if run:
            self._write(meta, run_op, run)

    def _write_one(self, meta: _Table, op: int, row: tuple) -> None:
        """_write of one row."""
        stmt = meta.insert if op == _INSERT else meta.update if op == _UPDATE else meta.upsert
        if stmt is None:
            self._write(meta, op, [row])  # no upsert in this dialect, or nothing to update
            return
        store = self.store
        store.statements += 1
        if stmt.positional:
            pick = stmt.pick
            store._cur.execute(stmt.sql, row if pick is None else pick(row))
        else:
            store._cur.execute(stmt.sql, {n: row[i] for n, i in zip(stmt.names, stmt.index)})

    def _write(self, meta: _Table, op: int, rows: list) -> None:
        store = self.store
        cur = store._cur
        if op == _INSERT:
            stmt = meta.insert
        elif op == _UPDATE:
            stmt = meta.update
        else:
            stmt = meta.upsert
            if stmt is None:  # a dialect without an upsert: update, then insert what was missing
                for row in rows:
                    store.statements += 1
                    cur.execute(meta.update.sql, meta.update.params([row])[0])
                    if cur.rowcount == 0:
                        store.statements += 1
                        cur.execute(meta.insert.sql, meta.insert.params([row])[0])
                return
        if stmt is None:  # an update of a table that is all primary key: nothing to change
            return
        store.statements += 1
        if len(rows) == 1:
            cur.execute(stmt.sql, stmt.params(rows)[0])
        else:
            cur.executemany(stmt.sql, stmt.params(rows))

    def _flush_sequences(self) -> None:
        if not self._seq_dirty:
            return
        meta = self._m(s.sequences)
        dirty = self._seq_dirty
        rows = [(name, self._seq[name]) for name in (dirty if len(dirty) == 1 else sorted(dirty))]
        dirty.clear()
        self.store._ensure_tx()
        if len(rows) == 1:
            self._write_one(meta, _UPSERT, rows[0])
        else:
            self._write(meta, _UPSERT, rows)

    def insert_now(self, table, rows: list[tuple]) -> None:
        """Insert rows (bound tuples in column order) at once, past the buffer: rows this unit
        never reads back (the event outbox). One executemany."""
        name = table.name
        if name in self._pending:
            self._flush_table(name)
        if not rows:
            return
        self.store._ensure_tx()
        self._written.add(name)
        self._write(self._m(table), _INSERT, rows)

    def _raw_sql(self, table, stmt, params: dict | None = None) -> int:
        """Run a statement this class writes by hand on `table` (a delete): the table's buffer is
        flushed first and its cached rows dropped."""
        name = table.name
        if name in self._pending:
            self._flush_table(name)
        self._clean.pop(name, None)
        self._raw.add(name)
        self._written.add(name)
        self.store._ensure_tx()
        self.store._leave_pipeline()
        result = self.store._sa.execute(stmt, params or {})
        return result.rowcount

    def _finish(self) -> None:
        self.flush()

    def _publish(self) -> None:
        """After commit: the caches learn what this unit wrote."""
        store = self.store
        if store.changes is not None and not self._written <= _MARKS_ONLY:
            store.changes += 1
        if store._answers:
            for name in self._written:
                store._answers.pop(name, None)  # remembered answers about a table it wrote
        for name in self._raw:
            if name in store._cache:
                store._cache[name].clear()
            if name == "sequences":
                store._seq.clear()
        for name, pks in self._touched.items():
            cache = store._cache.get(name)
            if cache is None or name in self._raw:
                continue
            clean = self._clean.get(name, {})
            for pk in pks:
                row = clean.get(pk)
                if row is None:
                    cache.pop(pk, None)
                else:
                    cache[pk] = row
        if store.sole_writer and "sequences" not in self._raw:
            store._seq.update(self._seq)
        if "outbox" in self._raw:
            store._outbox_last = None
        elif self._outbox_last is not None and store.sole_writer:
            store._outbox_last = self._outbox_last
        if store._resting and (self._orders_flushed or "spot_orders" in self._raw):
            self._publish_resting()
        for fn in self.committed:
            fn()

    def _publish_resting(self) -> None:
        """After commit: the open spot orders the store keeps per instrument (resting_spot_orders)
        learn the orders this unit wrote; any it cannot tell (SQL written by hand, a row a
        savepoint undid) and all are forgotten, to be read again."""
        store = self.store
        clean = self._clean.get("spot_orders", {})
        if "spot_orders" in self._raw or any(pk not in clean for pk in self._orders_flushed):
            store._resting.clear()
            return
        books = store._resting
        at = _RESTING_AT
        for pk in self._orders_flushed:
            row = clean[pk]
            if row is None:
                continue
            book = books.get((row[at[0]], row[at[1]]))
            if book is None:
                continue  # an instrument nobody asked about: read when first asked
            if row[at[2]] in _OPEN_SPOT:
                if book and pk[0] < next(reversed(book)):
                    books[(row[at[0]], row[at[1]])] = book = dict(sorted({**book, pk[0]: row}.items()))
                else:
                    book[pk[0]] = row
            else:
                book.pop(pk[0], None)

    def _discard(self) -> None:
        store = self.store
        if "outbox" in self._raw:
            store._outbox_last = None
        if "spot_orders" in self._raw:
            store._resting.clear()
        for name in self._raw:
            if name in store._cache:
                store._cache[name].clear()
            if name == "sequences":
                store._seq.clear()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: what happens inside is undone alone if it raises."""
        store = self.store
        store._ensure_tx()
        store._savepoints += 1
        name = f"sp{store._savepoints}"
        store.statements += 1
        store._cur.execute(f"SAVEPOINT {name}")
        self._undo.append(({}, dict(self._seq), set(self._seq_dirty), dict(self._prunes)))
        try:
            yield
        except BaseException:
            undo, seq, seq_dirty, prunes = self._undo.pop()
            self._prunes = prunes
            store.statements += 2
            store._cur.execute(f"ROLLBACK TO SAVEPOINT {name}")
            store._cur.execute(f"RELEASE SAVEPOINT {name}")
            for (table, pk), entry in undo.items():
                pend = self._pending.setdefault(table, {})
                if entry is None:
                    pend.pop(pk, None)
                else:
                    pend[pk] = entry
            self._clean.clear()  # rows read inside may have seen what was undone
            self._seq, self._seq_dirty = seq, seq_dirty
            raise
        else:
            undo = self._undo.pop()[0]
            if self._undo:
                outer = self._undo[-1][0]
                for key, entry in undo.items():
                    outer.setdefault(key, entry)
            store.statements += 1
            store._cur.execute(f"RELEASE SAVEPOINT {name}")

    def _select(self, table, where: list, order=(), limit: int | None = None, columns=None,
                tables=None, remember: bool = False) -> list:
        """Rows of `table` matching `where` [(column, op, value)], op one of = < > <= >= in
        notin; ordered by `order` [(column, descending)]. Whole rows mapped to their dataclass,
        or with `columns`, tuples of those columns' values. remember: the store keeps the
        answer until a unit of work that wrote the table commits (sole writer only)."""
        shape = (table.name, tuple((c, op, len(v) if op in ("in", "notin") else 0) for c, op, v in where),
                 tuple(order), limit is not None, columns)
        store = self.store
        q = store._selects.get(shape)
        if q is None:
            q = store._selects[shape] = _Select(self._build(table, shape[1], order, limit, columns),
                                                store.dialect)
        params: dict[str, Any] = {}
        for i, (_c, op, value) in enumerate(where):
            if op in ("in", "notin"):
                for j, v in enumerate(value):
                    params[f"w{i}_{j}"] = v
            else:
                params[f"w{i}"] = value
        if limit is not None:
            params["lim"] = limit
        if remember and store.sole_writer and tables is None and table.name not in self._written:
            # this unit has not written the table: what the database holds is committed state
            answers = store._answers.setdefault(table.name, {})
            key = (shape, tuple(params.items()))
            rows = answers.get(key)
            if rows is None:
                rows = answers[key] = self._fetch(q, params, ())
        else:
            rows = self._fetch(q, params, tables or (table.name,))
        if columns is None:
            meta = self._m(table)
            if table.name in _REREAD and rows:
                # whole rows as they stand now (the table was flushed first): a read by primary
                # key later in the unit finds them without a statement
                clean = self._clean.setdefault(table.name, {})
                pend = self._pending.get(table.name, ())
                pk_of = meta.pk_of
                for r in rows:
                    pk = pk_of(r)
                    if pk not in pend:
                        clean[pk] = r
            load = meta.load
            return [load(r) for r in rows]
        return q.processed(rows)

    @staticmethod
    def _build(table, where, order, limit, columns):
        cond = []
        for i, (c, op, n) in enumerate(where):
            col = table.c[c]
            if op == "in":
                cond.append(col.in_([bindparam(f"w{i}_{j}", type_=col.type) for j in range(n)]))
            elif op == "notin":
                cond.append(col.not_in([bindparam(f"w{i}_{j}", type_=col.type) for j in range(n)]))
            else:
                cond.append(_COMPARE[op](col, bindparam(f"w{i}", type_=col.type)))
        q = select(*(table.c[c] for c in columns)) if columns else select(table)
        if cond:
            q = q.where(and_(*cond))
        if order:
            q = q.order_by(*(table.c[c].desc() if desc else table.c[c] for c, desc in order))
        if limit:
            q = q.limit(bindparam("lim", type_=s.Integer()))
        return q

    def _custom(self, key: str, build: Callable, params: dict, tables) -> tuple[_Select, list]:
        store = self.store
        q = store._selects.get(key)
        if q is None:
            q = store._selects[key] = _Select(build(), store.dialect)
        return q, self._fetch(q, params, tables)

    # sequences ---------------------------------------------------------------------------
    def get_sequence(self, name: str) -> int | None:
        """A sequence's last value (None: never used)."""
        current = self._seq.get(name, _MISSING)
        if current is _MISSING:
            store = self.store
            current = store._seq.get(name, _MISSING) if store.sole_writer else _MISSING
            if current is _MISSING:
                t = s.sequences
                q, rows = self._custom("seq", lambda: select(t.c.value).where(
                    t.c.name == bindparam("name", type_=t.c.name.type)), {"name": name}, ())
                current = rows[0][0] if rows else None
        return current

    def put_sequence(self, name: str, value: int) -> None:
        """Set a sequence's value (a record of a number, such as the seed a store was made with)."""
        self._seq[name] = value
        self._seq_dirty.add(name)

    def next_sequence(self, name: str, floor: int) -> int:
        """max(last + 1, floor), stored; monotonic within the store."""
        current = self._seq.get(name, _MISSING)
        if current is _MISSING:
            store = self.store
            current = store._seq.get(name, _MISSING) if store.sole_writer else _MISSING
            if current is _MISSING:
                t = s.sequences
                q, rows = self._custom("seq", lambda: select(t.c.value).where(
                    t.c.name == bindparam("name", type_=t.c.name.type)), {"name": name}, ())
                current = rows[0][0] if rows else None
        value = floor if current is None else max(current + 1, floor)
        self._seq[name] = value
        self._seq_dirty.add(name)
        return value

    # the event outbox (store/outbox.py) ----------------------------------------------------
    def append_events(self, events: list) -> list:
        self.flush()  # the rows of the events' entities are made once, for the tables and the outbox
        return outbox.append(self, events)

    def outbox_last(self) -> int:
        """The last event number handed out: the outbox's highest seq (0: none), read once per
        unit of work and, as the sole writer, remembered across units (see store/outbox.py)."""
        last = self._outbox_last
        if last is None:
            store = self.store
            last = store._outbox_last if store.sole_writer and "outbox" not in self._raw else None
            if last is None:
                t = outbox.outbox
                _q, rows = self._custom("outbox_last", lambda: select(func.max(t.c.seq)), {}, ())
                last = rows[0][0] or 0
            self._outbox_last = last
        return last

    def outbox_numbered(self, last: int) -> None:
        """Events up to `last` are written in this unit (the store learns it on commit)."""
        self._outbox_last = last

    def events_after(self, seq: int, limit: int = 1000) -> list:
        return outbox.after(self, seq, limit)

    def event_head(self) -> int:
        """The last event number handed out (0: none yet)."""
        return self.outbox_last()

    # users and keys ------------------------------------------------------------------------
    def insert_user(self, user: User) -> None:
        self._put(s.users, user, _INSERT)

    def update_user(self, user: User) -> None:
        self._put(s.users, user, _UPDATE)

    def get_user(self, uid: str) -> User | None:
        return self._load(s.users, (uid,))

    def find_user(self, venue: str, name: str) -> User | None:
        found = self._select(s.users, [("venue", "=", venue), ("name", "=", name)])
        return found[0] if found else None

    def list_users(self, venue: str | None = None) -> list[User]:
        where = [("venue", "=", venue)] if venue else []
        return self._select(s.users, where, (("created_ms", False), ("uid", False)))

    def insert_key(self, key: ApiKey) -> None:
        self._put(s.api_keys, key, _INSERT)

    def get_key(self, key: str) -> ApiKey | None:
        return self._load(s.api_keys, (key,))

    def delete_key(self, key: str) -> None:
        self._raw_sql(s.api_keys, delete(s.api_keys).where(s.api_keys.c.key == key))

    def list_keys(self, uid: str) -> list[ApiKey]:
        return self._select(s.api_keys, [("uid", "=", uid)], (("created_ms", False),))

    # instruments and prices ---------------------------------------------------------------
    def put_instrument(self, inst: Instrument) -> None:
        self._put(s.instruments, inst, _UPSERT)

    def get_instrument(self, venue: str, market: str, symbol: str) -> Instrument | None:
        pk = (venue, market, symbol)
        pend = self._pending.get("instruments")
        if pend is not None and pk in pend:
            return self._load(s.instruments, pk)
        row = self._get(s.instruments, pk)
        if row is None:
            return None
        # an Instrument is frozen: the one made from this very row (the same tuple) is shared
        made = self.store._instruments
        hit = made.get(pk)
        if hit is not None and hit[0] is row:
            return hit[1]
        inst = self._m(s.instruments).load(row)
        made[pk] = (row, inst)
        return inst

    def list_instruments(self, venue: str | None = None, market: str | None = None) -> list[Instrument]:
        where = ([("venue", "=", venue)] if venue else []) + ([("market", "=", market)] if market else [])
        return self._select(s.instruments, where, (("venue", False), ("market", False), ("symbol", False)))

    def set_mark(self, mark: MarkPrice) -> None:
        self._put(s.mark_prices, mark, _UPSERT)

    def get_mark(self, instrument: str) -> MarkPrice | None:
        return self._load(s.mark_prices, (instrument,))

    def list_marks(self) -> list[MarkPrice]:
        return self._select(s.mark_prices, [], (("instrument", False),))

    # balances ----------------------------------------------------------------------------
    def get_balance(self, uid: str, account: str, asset: str, shared: bool = False) -> Balance:
        found = self._load(s.balances, (uid, account, asset), shared)
        return found if found is not None else Balance(uid=uid, account=account, asset=asset)

    def put_balance(self, bal: Balance, given: bool = False) -> None:
        self._put(s.balances, bal, _UPSERT, given)

    def list_balances(self, uid: str, account: str | None = None) -> list[Balance]:
        where = [("uid", "=", uid)] + ([("account", "=", account)] if account else [])
        return self._select(s.balances, where, (("account", False), ("asset", False)))

    def sum_balances(self, asset: str) -> Decimal:
        total = ZERO
        for available, frozen in self._select(s.balances, [("asset", "=", asset)],
                                              columns=("available", "frozen")):
            total += available + frozen
        return total

    # spot orders and fills ----------------------------------------------------------------
    def insert_spot_order(self, order: SpotOrder) -> None:
        self._put(s.spot_orders, order, _INSERT)

    def update_spot_order(self, order: SpotOrder) -> None:
        self._put(s.spot_orders, order, _UPDATE)

    def get_spot_order(self, uid: str, order_id: int) -> SpotOrder | None:
        order = self._load(s.spot_orders, (order_id,))
        return order if order is not None and order.uid == uid else None

    def get_spot_order_by_client_oid(self, uid: str, client_oid: str) -> SpotOrder | None:
        found = self._select(s.spot_orders, [("uid", "=", uid), ("client_oid", "=", client_oid)])
        return found[0] if found else None

    def list_spot_orders(
        self,
        uid: str,
        *,
        open_only: bool | None = None,
        symbol: str | None = None,
        order_id: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        id_less_than: int | None = None,
        limit: int = 100,
    ) -> list[SpotOrder]:
        """Newest first. open_only True: live and partially filled; False: finished; None: all."""
        where: list = [("uid", "=", uid)]
        if open_only is True:
            where.append(("status", "in", _OPEN_SPOT))
        elif open_only is False:
            where.append(("status", "notin", _OPEN_SPOT))
        if symbol:
            where.append(("symbol", "=", symbol))
        if order_id is not None:
            where.append(("order_id", "=", order_id))
        if start_ms is not None:
            where.append(("created_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("created_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("order_id", "<", id_less_than))
        if open_only is True:
            return self._open_first(s.spot_orders, where, True, limit)
        return self._select(s.spot_orders, where, (("order_id", True),), limit)

    def resting_spot_orders(self, venue: str, symbol: str, uid: str | None = None) -> list[SpotOrder]:
        """Open orders of one instrument (of one user, if named), oldest first. The sole writer
        keeps each instrument's committed open orders once read (order id -> row, in id order)
        and brings them up to date as units of work commit (_publish_resting): a unit that has
        not written spot_orders itself is answered from them without a statement."""
        store = self.store
        if store.sole_writer and "spot_orders" not in self._written:
            book = store._resting.get((venue, symbol))
            if book is None:
                t = s.spot_orders
                _q, rows = self._custom("resting_spot_orders", lambda: self._build(
                    t, (("venue", "=", 0), ("symbol", "=", 0), ("status", "in", 2)), (("order_id", False),),
                    None, None), {"w0": venue, "w1": symbol, "w2_0": _OPEN_SPOT[0], "w2_1": _OPEN_SPOT[1]}, ())
                book = store._resting[(venue, symbol)] = {r[0]: r for r in rows}
            if not book:
                return []
            rows = book.values() if uid is None else [r for r in book.values() if r[_RESTING_AT[3]] == uid]
            clean = self._clean.get("spot_orders")
            if clean is None:
                clean = self._clean["spot_orders"] = {}
            load = self._m(s.spot_orders).load
            out = []
            for r in rows:
                clean[(r[0],)] = r  # read again by key later in the unit (as _select does)
                out.append(load(r))
            return out
        where = [("venue", "=", venue), ("symbol", "=", symbol), ("status", "in", _OPEN_SPOT)]
        if uid is not None:
            where.append(("uid", "=", uid))
        return self._select(s.spot_orders, where, (("order_id", False),))

    def insert_fill(self, fill: Fill) -> None:
        self._put(s.spot_fills, fill, _INSERT)

    def list_fills(
        self,
        uid: str,
        *,
        symbol: str | None = None,
        order_id: int | None = None,
        start_ms: int | None = None,
        end_ms: int | None = None,
        id_less_than: int | None = None,
        limit: int = 100,
    ) -> list[Fill]:
        where: list = [("uid", "=", uid)]
        if symbol:
            where.append(("symbol", "=", symbol))
        if order_id is not None:
            where.append(("order_id", "=", order_id))
        if start_ms is not None:
            where.append(("created_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("created_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("trade_id", "<", id_less_than))
        return self._select(s.spot_fills, where, (("trade_id", True),), limit)

    def fees_collected(self, asset: str) -> Decimal:
        total = ZERO
        for (fee,) in self._select(s.spot_fills, [("fee_asset", "=", asset)], columns=("fee",)):
            total += fee
        return total

    # futures: accounts and settings ------------------------------------------------------------
    def get_futures_account(self, uid: str, market: str) -> FuturesAccount:
        found = self._load(s.futures_accounts, (uid, market))
        return found if found is not None else FuturesAccount(uid, market)

    def put_futures_account(self, acct: FuturesAccount) -> None:
        self._put(s.futures_accounts, acct, _UPSERT)

    def get_symbol_settings(self, uid: str, market: str, symbol: str,
                            default: SymbolSettings | None = None) -> SymbolSettings:
        found = self._load(s.symbol_settings, (uid, market, symbol))
        if found is not None:
            return found
        return default or SymbolSettings(uid, market, symbol)

    def put_symbol_settings(self, st: SymbolSettings) -> None:
        self._put(s.symbol_settings, st, _UPSERT)

    # futures: positions --------------------------------------------------------------------------
    def insert_position(self, pos: Position) -> None:
        self._put(s.positions, pos, _INSERT)

    def update_position(self, pos: Position, given: bool = False) -> None:
        self._put(s.positions, pos, _UPDATE, given)

    def get_position(self, position_id: int, shared: bool = False) -> Position | None:
        return self._load(s.positions, (position_id,), shared)

    def get_positions(self, position_ids: list[int]) -> dict[int, Position]:
        """Several positions by id in a few statements (the unit's own writes win); a later
        get_position of any of them issues none. The positions answered are shared (as by
        get_position(..., shared=True)): read them, never change them."""
        ids = sorted({int(i) for i in position_ids})
        out: dict[int, Position] = {}
        wanted = []
        pend = self._pending.get("positions", {})
        clean = self._clean.get("positions", {})
        meta = self._m(s.positions)
        for i in ids:
            row = pend.get((i,))
            row = row[1] if row is not None else clean.get((i,), _MISSING)
            if row is _MISSING:
                wanted.append(i)
            elif row is not None:
                out[i] = meta.load(row) if row.__class__ is tuple else _copy(row)
        step = _IN_CHUNK
        for at in range(0, len(wanted), step):
            chunk = wanted[at:at + step]
            chunk += [chunk[-1]] * (step - len(chunk))  # one statement shape for every chunk
            for pos in self._select(s.positions, [("position_id", "in", tuple(chunk))]):
                out[pos.position_id] = pos
        clean = self._clean.setdefault("positions", {})
        if wanted:
            kept = self._shared.setdefault("positions", {})
            for i in wanted:
                pos = out.get(i)
                row = clean.get((i,))
                if pos is not None and row is not None:
                    kept[(i,)] = (row, pos)  # made of that very row (_select keeps it)
        for i in wanted:
            clean.setdefault((i,), None)  # not found: absent
        return out

    def list_positions(self, uid: str | None = None, *, venue: str | None = None,
                       market: str | None = None, symbol: str | None = None,
                       open_only: bool | None = True, side: PositionSide | None = None,
                       id_less_than: int | None = None, limit: int | None = None,
                       newest_first: bool = False, opened_from: int | None = None,
                       opened_to: int | None = None) -> list[Position]:
        where: list = []
        if opened_from is not None:
            where.append(("opened_ms", ">=", opened_from))
        if opened_to is not None:
            where.append(("opened_ms", "<=", opened_to))
        if uid is not None:
            where.append(("uid", "=", uid))
        if venue is not None:
            where.append(("venue", "=", venue))
        if market is not None:
            where.append(("market", "=", market))
        if symbol is not None:
            where.append(("symbol", "=", symbol))
        if open_only is not None:
            where.append(("open", "=", open_only))
        if side is not None:
            where.append(("side", "=", side.value))
        if id_less_than is not None:
            where.append(("position_id", "<", id_less_than))
        return self._select(s.positions, where, (("position_id", newest_first),), limit)

    # futures: orders and fills ------------------------------------------------------------------
    def insert_futures_order(self, order: FuturesOrder) -> None:
        self._put(s.futures_orders, order, _INSERT)

    def update_futures_order(self, order: FuturesOrder) -> None:
        self._put(s.futures_orders, order, _UPDATE)

    def get_futures_order(self, uid: str, order_id: int) -> FuturesOrder | None:
        order = self._load(s.futures_orders, (order_id,))
        return order if order is not None and order.uid == uid else None

    def get_futures_order_by_client_oid(self, uid: str, client_oid: str) -> FuturesOrder | None:
        found = self._select(s.futures_orders, [("uid", "=", uid), ("client_oid", "=", client_oid)])
        return found[0] if found else None

    def list_futures_orders(self, uid: str | None = None, *, venue: str | None = None,
                            market: str | None = None, symbol: str | None = None,
                            open_only: bool | None = None, kinds: list[OrderKind] | None = None,
                            order_id: int | None = None, client_oid: str | None = None,
                            start_ms: int | None = None, end_ms: int | None = None,
                            id_less_than: int | None = None, id_greater_than: int | None = None,
                            limit: int | None = None, newest_first: bool = True) -> list[FuturesOrder]:
        where: list = []
        if uid is not None:
            where.append(("uid", "=", uid))
        if venue is not None:
            where.append(("venue", "=", venue))
        if market is not None:
            where.append(("market", "=", market))
        if symbol is not None:
            where.append(("symbol", "=", symbol))
        if open_only is True:
            where.append(("status", "in", _OPEN_FUTURES))
        elif open_only is False:
            where.append(("status", "notin", _OPEN_FUTURES))
        if kinds:
            where.append(("kind", "in", tuple(k.value for k in kinds)))
        if order_id is not None:
            where.append(("order_id", "=", order_id))
        if client_oid is not None:
            where.append(("client_oid", "=", client_oid))
        if start_ms is not None:
            where.append(("created_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("created_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("order_id", "<", id_less_than))
        if id_greater_than is not None:
            where.append(("order_id", ">", id_greater_than))
        if open_only is True:
            return self._open_first(s.futures_orders, where, newest_first, limit)
        return self._select(s.futures_orders, where, (("order_id", newest_first),), limit)

    def _open_first(self, table, where: list, newest_first: bool, limit: int | None) -> list:
        """Open orders: found through the (owner, status) index and ordered here, so the query
        never walks the owner's finished orders to save a sort of the few open ones."""
        rows = self._select(table, where)
        rows.sort(key=lambda o: o.order_id, reverse=newest_first)
        return rows if limit is None else rows[:limit]

    def insert_futures_fill(self, fill: FuturesFill, given: bool = False) -> None:
        self._put(s.futures_fills, fill, _INSERT, given)

    def list_futures_fills(self, uid: str, *, market: str | None = None, symbol: str | None = None,
                           order_id: int | None = None, start_ms: int | None = None,
                           end_ms: int | None = None, id_less_than: int | None = None,
                           id_greater_than: int | None = None, limit: int | None = 100,
                           position_id: int | None = None) -> list[FuturesFill]:
        where: list = [("uid", "=", uid)]
        if market is not None:
            where.append(("market", "=", market))
        if symbol is not None:
            where.append(("symbol", "=", symbol))
        if order_id is not None:
            where.append(("order_id", "=", order_id))
        if position_id is not None:
            where.append(("position_id", "=", position_id))
        if start_ms is not None:
            where.append(("created_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("created_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("trade_id", "<", id_less_than))
        if id_greater_than is not None:
            where.append(("trade_id", ">", id_greater_than))
        return self._select(s.futures_fills, where, (("trade_id", True),), limit)

    def sum_position_margin(self, settle_accounts: list[str] | None = None) -> dict[str, Decimal]:
        """Margin held by open positions, per market."""
        out: dict[str, Decimal] = {}
        for market, margin in self._select(s.positions, [("open", "=", True)],
                                           columns=("market", "margin")):
            out[market] = out.get(market, ZERO) + margin
        return out

    # copy trading ------------------------------------------------------------------------------
    def get_copy_trader(self, uid: str) -> CopyTrader | None:
        return self._load(s.copy_traders, (uid,))

    def put_copy_trader(self, trader: CopyTrader) -> None:
        self._put(s.copy_traders, trader, _UPSERT)

    def get_copy_symbol(self, uid: str, market: str, symbol: str) -> CopySymbol | None:
        return self._load(s.copy_symbols, (uid, market, symbol))

    def put_copy_symbol(self, cs: CopySymbol) -> None:
        self._put(s.copy_symbols, cs, _UPSERT)

    def list_copy_symbols(self, uid: str, market: str | None = None) -> list[CopySymbol]:
        where = [("uid", "=", uid)] + ([("market", "=", market)] if market else [])
        return self._select(s.copy_symbols, where, (("market", False), ("symbol", False)))

    def get_copy_follow(self, trader_uid: str, follower_uid: str) -> Follow | None:
        return self._load(s.copy_follows, (trader_uid, follower_uid))

    def put_copy_follow(self, follow: Follow) -> None:
        self._put(s.copy_follows, follow, _UPSERT)

    def list_copy_follows(self, *, trader_uid: str | None = None, follower_uid: str | None = None,
                          active: bool | None = None) -> list[Follow]:
        """Oldest first (by first following, then uid)."""
        where: list = []
        if trader_uid is not None:
            where.append(("trader_uid", "=", trader_uid))
        if follower_uid is not None:
            where.append(("follower_uid", "=", follower_uid))
        if active is not None:
            where.append(("active", "=", active))
        return self._select(s.copy_follows, where, (("first_followed_ms", False),
                                                    ("follower_uid", False), ("trader_uid", False)))

    def get_follower_setting(self, trader_uid: str, follower_uid: str, market: str,
                             symbol: str) -> FollowerSetting | None:
        return self._load(s.copy_follower_settings, (trader_uid, follower_uid, market, symbol))

    def put_follower_setting(self, st: FollowerSetting) -> None:
        self._put(s.copy_follower_settings, st, _UPSERT)

    def list_follower_settings(self, trader_uid: str, follower_uid: str) -> list[FollowerSetting]:
        return self._select(s.copy_follower_settings,
                            [("trader_uid", "=", trader_uid), ("follower_uid", "=", follower_uid)],
                            (("market", False), ("symbol", False)))

    def insert_tracking(self, tr: Tracking) -> None:
        self._put(s.copy_tracking, tr, _INSERT)

    def update_tracking(self, tr: Tracking) -> None:
        self._put(s.copy_tracking, tr, _UPDATE)

    def get_tracking(self, tracking_no: int) -> Tracking | None:
        return self._load(s.copy_tracking, (tracking_no,))

    def list_tracking(self, trader_uid: str, market: str | None, *, symbol: str | None = None,
                      open_only: bool | None = True, start_ms: int | None = None,
                      end_ms: int | None = None, id_less_than: int | None = None,
                      id_greater_than: int | None = None, limit: int | None = None,
                      ascending: bool = False) -> list[Tracking]:
        """A trader's tracking orders by number (newest first unless ascending), a cursor page:
        the index (trader, market[, symbol], status, number) serves it without an offset."""
        where: list = [("trader_uid", "=", trader_uid)]
        if market is not None:
            where.append(("market", "=", market))
        if symbol is not None:
            where.append(("symbol", "=", symbol))
        if open_only is not None:
            where.append(("status", "=", "open" if open_only else "closed"))
        if start_ms is not None:
            where.append(("open_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("open_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("tracking_no", "<", id_less_than))
        if id_greater_than is not None:
            where.append(("tracking_no", ">", id_greater_than))
        return self._select(s.copy_tracking, where, (("tracking_no", not ascending),), limit)

    def count_tracking(self, trader_uid: str) -> int:
        t = s.copy_tracking
        _q, rows = self._custom("count_tracking", lambda: select(func.count()).where(
            t.c.trader_uid == bindparam("u", type_=t.c.trader_uid.type)), {"u": trader_uid}, (t.name,))
        return rows[0][0]

    def count_open_tracking(self, trader_uid: str, market: str, symbol: str, pos_side: str) -> int:
        t = s.copy_tracking

        def build():
            return select(func.count()).where(and_(
                t.c.trader_uid == bindparam("u", type_=t.c.trader_uid.type),
                t.c.market == bindparam("m", type_=t.c.market.type),
                t.c.symbol == bindparam("s", type_=t.c.symbol.type),
                t.c.status == "open", t.c.pos_side == bindparam("p", type_=t.c.pos_side.type)))

        _q, rows = self._custom("count_open_tracking", build,
                                {"u": trader_uid, "m": market, "s": symbol, "p": pos_side}, (t.name,))
        return rows[0][0]

    def _book_query(self, key: str, table, extra, params: dict, tables) -> list:
        def build():
            q = select(table)
            if extra[0] is not None:
                q = q.select_from(extra[0])
            return q.where(and_(
                table.c.venue == bindparam("v", type_=table.c.venue.type),
                table.c.market == bindparam("m", type_=table.c.market.type),
                table.c.symbol == bindparam("s", type_=table.c.symbol.type),
                table.c.status == "open", extra[1])).order_by(table.c.tracking_no)

        _q, rows = self._custom(key, build, params, tables)
        load = self._m(table).load
        return [load(r) for r in rows]

    def list_tracking_with_stops(self, venue: str, market: str, symbol: str) -> list[Tracking]:
        t = s.copy_tracking
        return self._book_query("tracking_with_stops", t,
                                (None, or_(t.c.tp_price.is_not(None), t.c.sl_price.is_not(None))),
                                {"v": venue, "m": market, "s": symbol}, (t.name,))

    def list_orphan_tracking(self, venue: str, market: str, symbol: str) -> list[Tracking]:
        """Open tracking orders whose trader position has closed."""
        t, p = s.copy_tracking, s.positions
        return self._book_query("orphan_tracking", t,
                                (t.join(p, p.c.position_id == t.c.position_id), p.c.open == False),  # noqa: E712
                                {"v": venue, "m": market, "s": symbol}, (t.name, p.name))

    def insert_follower_copy(self, copy: FollowerCopy) -> None:
        self._put(s.copy_follower_orders, copy, _INSERT)

    def update_follower_copy(self, copy: FollowerCopy, given: bool = False) -> None:
        self._put(s.copy_follower_orders, copy, _UPDATE, given)

    def get_follower_copy(self, tracking_no: int) -> FollowerCopy | None:
        return self._load(s.copy_follower_orders, (tracking_no,))

    def list_copies_of(self, trader_tracking_no: int, open_only: bool = False) -> list[FollowerCopy]:
        where: list = [("trader_tracking_no", "=", trader_tracking_no)]
        if open_only:
            where.append(("status", "=", "open"))
        return self._select(s.copy_follower_orders, where, (("tracking_no", False),))

    def list_copies_of_trader(self, trader_uid: str, open_only: bool = False) -> list[FollowerCopy]:
        where: list = [("trader_uid", "=", trader_uid)]
        if open_only:
            where.append(("status", "=", "open"))
        return self._select(s.copy_follower_orders, where, (("tracking_no", False),))

    def list_follower_copies(self, follower_uid: str, *, trader_uid: str | None = None,
                             market: str | None = None, symbol: str | None = None,
                             open_only: bool | None = None, start_ms: int | None = None,
                             end_ms: int | None = None, id_less_than: int | None = None,
                             id_greater_than: int | None = None, limit: int | None = None,
                             ascending: bool = False) -> list[FollowerCopy]:
        where: list = [("follower_uid", "=", follower_uid)]
        if trader_uid is not None:
            where.append(("trader_uid", "=", trader_uid))
        if market is not None:
            where.append(("market", "=", market))
        if symbol is not None:
            where.append(("symbol", "=", symbol))
        if open_only is not None:
            where.append(("status", "=", "open" if open_only else "closed"))
        if start_ms is not None:
            where.append(("open_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("open_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("tracking_no", "<", id_less_than))
        if id_greater_than is not None:
            where.append(("tracking_no", ">", id_greater_than))
        return self._select(s.copy_follower_orders, where, (("tracking_no", not ascending),), limit)

    def sum_open_copy_size(self, follower_uid: str, trader_uid: str, market: str, symbol: str) -> Decimal:
        total = ZERO
        for (size,) in self._select(s.copy_follower_orders, [
                ("follower_uid", "=", follower_uid), ("trader_uid", "=", trader_uid),
                ("market", "=", market), ("symbol", "=", symbol), ("status", "=", "open")],
                columns=("open_size",)):
            total += size
        return total

    def list_orphan_copies(self, venue: str, market: str, symbol: str) -> list[FollowerCopy]:
        """Open copies whose position has closed (a follower's own close, TP/SL, liquidation)."""
        t, p = s.copy_follower_orders, s.positions
        return self._book_query("orphan_copies", t,
                                (t.join(p, p.c.position_id == t.c.position_id), p.c.open == False),  # noqa: E712
                                {"v": venue, "m": market, "s": symbol}, (t.name, p.name))

    def insert_profit_share(self, share: ProfitShare, given: bool = False) -> None:
        self._put(s.copy_profit_shares, share, _INSERT, given)

    def list_profit_shares(self, trader_uid: str, *, coin: str | None = None,
                           start_ms: int | None = None, end_ms: int | None = None,
                           id_less_than: int | None = None, id_greater_than: int | None = None,
                           limit: int | None = None, ascending: bool = False) -> list[ProfitShare]:
        where: list = [("trader_uid", "=", trader_uid)]
        if coin is not None:
            where.append(("coin", "=", coin))
        if start_ms is not None:
            where.append(("created_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("created_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("profit_id", "<", id_less_than))
        if id_greater_than is not None:
            where.append(("profit_id", ">", id_greater_than))
        return self._select(s.copy_profit_shares, where, (("profit_id", not ascending),), limit)

    # bills and fill models ----------------------------------------------------------------------
    def insert_bill(self, bill: Bill, given: bool = False) -> None:
        self._put(s.bills, bill, _INSERT, given)

    def list_bills(self, uid: str, *, account: str | None = None, kinds: list[str] | None = None,
                   symbol: str | None = None, asset: str | None = None, start_ms: int | None = None,
                   end_ms: int | None = None, id_less_than: int | None = None,
                   limit: int | None = 100) -> list[Bill]:
        """Newest first."""
        where: list = [("uid", "=", uid)]
        if account is not None:
            where.append(("account", "=", account))
        if kinds:
            where.append(("kind", "in", tuple(kinds)))
        if symbol is not None:
            where.append(("symbol", "=", symbol))
        if asset is not None:
            where.append(("asset", "=", asset))
        if start_ms is not None:
            where.append(("created_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("created_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("bill_id", "<", id_less_than))
        return self._select(s.bills, where, (("bill_id", True),), limit)

    # spot trigger (plan) orders and transfers --------------------------------------------------
    def insert_spot_plan(self, plan: SpotPlanOrder) -> None:
        self._put(s.spot_plan_orders, plan, _INSERT)

    def update_spot_plan(self, plan: SpotPlanOrder) -> None:
        self._put(s.spot_plan_orders, plan, _UPDATE)

    def get_spot_plan(self, uid: str, order_id: int) -> SpotPlanOrder | None:
        plan = self._load(s.spot_plan_orders, (order_id,))
        return plan if plan is not None and plan.uid == uid else None

    def get_spot_plan_by_client_oid(self, uid: str, client_oid: str) -> SpotPlanOrder | None:
        found = self._select(s.spot_plan_orders, [("uid", "=", uid), ("client_oid", "=", client_oid)])
        return found[0] if found else None

    def list_spot_plans(self, uid: str, *, symbol: str | None = None, open_only: bool | None = None,
                        kinds: list[str] | None = None, parent_id: int | None = None,
                        start_ms: int | None = None, end_ms: int | None = None,
                        id_less_than: int | None = None, limit: int | None = 100) -> list[SpotPlanOrder]:
        """Newest first. open_only True: live; False: finished; None: all."""
        where: list = [("uid", "=", uid)]
        if symbol is not None:
            where.append(("symbol", "=", symbol))
        if open_only is True:
            where.append(("status", "=", PlanStatus.LIVE.value))
        elif open_only is False:
            where.append(("status", "notin", (PlanStatus.LIVE.value,)))
        if kinds:
            where.append(("kind", "in", tuple(kinds)))
        if parent_id is not None:
            where.append(("parent_id", "=", parent_id))
        if start_ms is not None:
            where.append(("created_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("created_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("order_id", "<", id_less_than))
        return self._select(s.spot_plan_orders, where, (("order_id", True),), limit)

    def live_spot_plans(self, venue: str, symbol: str) -> list[SpotPlanOrder]:
        """Every live trigger order of one instrument, oldest first. (That there are none is
        remembered as a remembered answer is: until a unit that wrote the table commits.)"""
        store = self.store
        kept = store.sole_writer and "spot_plan_orders" not in self._written
        none = ("none live", venue, symbol)
        if kept and none in store._answers.get("spot_plan_orders", ()):
            return []
        plans = self._select(s.spot_plan_orders, [("venue", "=", venue), ("symbol", "=", symbol),
                                                  ("status", "=", PlanStatus.LIVE.value)],
                             (("order_id", False),), remember=True)
        if kept and not plans:
            store._answers.setdefault("spot_plan_orders", {})[none] = True
        return plans

    def insert_transfer(self, transfer: Transfer) -> None:
        self._put(s.transfers, transfer, _INSERT)

    def list_transfers(self, uid: str, *, asset: str | None = None, from_account: str | None = None,
                       client_oid: str | None = None, start_ms: int | None = None,
                       end_ms: int | None = None, id_less_than: int | None = None,
                       limit: int | None = 100) -> list[Transfer]:
        """Newest first."""
        where: list = [("uid", "=", uid)]
        for column, value in (("asset", asset), ("from_account", from_account), ("client_oid", client_oid)):
            if value is not None:
                where.append((column, "=", value))
        if start_ms is not None:
            where.append(("created_ms", ">=", start_ms))
        if end_ms is not None:
            where.append(("created_ms", "<=", end_ms))
        if id_less_than is not None:
            where.append(("transfer_id", "<", id_less_than))
        return self._select(s.transfers, where, (("transfer_id", True),), limit)

    def get_fill_model(self, scope: str) -> FillModel | None:
        return self._load(s.fill_models, (scope,))

    def put_fill_model(self, model: FillModel) -> None:
        self._put(s.fill_models, model, _UPSERT)

    def delete_fill_model(self, scope: str) -> None:
        t = s.fill_models
        self._raw_sql(t, delete(t).where(t.c.scope == scope))

    def list_fill_models(self) -> list[FillModel]:
        return self._select(s.fill_models, [], (("scope", False),))

    def due_orders(self, until_ms: int) -> list[tuple[int, str, int, str]]:
        """Open orders on their way to the book (latency fill model) due by until_ms, in due
        order: (due_ms, "spot" or the futures market, order_id, uid)."""
        out = []
        for table, open_states, market in ((s.spot_orders, _OPEN_SPOT, False),
                                           (s.futures_orders, _OPEN_FUTURES, True)):
            cols = ("due_ms", "order_id", "uid") + (("market",) if market else ())
            for r in self._select(table, [("due_ms", "<=", until_ms), ("status", "in", open_states)],
                                  columns=cols):
                out.append((r[0], r[3] if market else "spot", r[1], r[2]))
        return sorted(out, key=lambda item: (item[0], item[2]))

    def next_due_ms(self) -> int | None:
        """When the next open order on its way to the book is due (None: there is none)."""
        times = []
        for table, open_states in ((s.spot_orders, _OPEN_SPOT), (s.futures_orders, _OPEN_FUTURES)):
            def build(table=table, open_states=open_states):
                return select(func.min(table.c.due_ms)).where(
                    and_(table.c.due_ms.is_not(None), table.c.status.in_(
                        [bindparam(f"st{j}", v, type_=table.c.status.type) for j, v in enumerate(open_states)])))

            _q, rows = self._custom(f"next_due:{table.name}", build, {}, (table.name,))
            value = rows[0][0]
            if value is not None:
                times.append(value)
        return min(times) if times else None

    # the market tape ---------------------------------------------------------------------
    def get_bar(self, instrument: str, ts: int) -> MinuteBar | None:
        return self._load(s.market_bars, (instrument, ts))

    def put_bar(self, bar: MinuteBar, new: bool) -> None:
        self._put(s.market_bars, bar, _INSERT if new else _UPDATE)

    def list_bars(self, instrument: str, start_ms: int, end_ms: int) -> list[MinuteBar]:
        """Bars with start_ms <= ts < end_ms, oldest first."""
        return self._select(s.market_bars, [("instrument", "=", instrument), ("ts", ">=", start_ms),
                                            ("ts", "<", end_ms)], (("ts", False),))

    def bar_before(self, instrument: str, ts: int) -> MinuteBar | None:
        found = self._select(s.market_bars, [("instrument", "=", instrument), ("ts", "<", ts)],
                             (("ts", True),), 1)
        return found[0] if found else None

    def first_bar_ts(self, instrument: str) -> int | None:
        t = s.market_bars
        _q, rows = self._custom("first_bar", lambda: select(func.min(t.c.ts)).where(
            t.c.instrument == bindparam("instrument", type_=t.c.instrument.type)),
            {"instrument": instrument}, ("market_bars",))
        return rows[0][0]

    def last_bar_ts(self, instrument: str) -> int | None:
        t = s.market_bars
        _q, rows = self._custom("last_bar", lambda: select(func.max(t.c.ts)).where(
            t.c.instrument == bindparam("instrument", type_=t.c.instrument.type)),
            {"instrument": instrument}, ("market_bars",))
        return rows[0][0]

    def prune_tape(self, instrument: str, before_ms: int) -> None:
        """Forget an instrument's bars and prints older than before_ms. The delete waits until
        the table is next flushed (or read), one per instrument with the latest cutoff: the tape
        only ever writes minutes after a cutoff it has pruned to, so the outcome is the same."""
        prunes = self._prunes
        for name in _PRUNABLE_NAMES:
            key = (name, instrument)
            if key not in prunes or before_ms > prunes[key]:
                prunes[key] = before_ms

    def insert_public_trade(self, trade: PublicTrade) -> None:
        self._put(s.public_trades, trade, _INSERT)

    def list_public_trades(self, instrument: str, start_ms: int, end_ms: int) -> list[PublicTrade]:
        """Real prints with start_ms <= ts <= end_ms, newest first."""
        return self._select(s.public_trades, [("instrument", "=", instrument), ("ts", ">=", start_ms),
                                              ("ts", "<=", end_ms)], (("ts", True), ("trade_id", True)))

    def resting_limits(self, inst: Instrument) -> list[tuple[Side, Decimal, Decimal]]:
        """(side, price, size left) of every open limit order resting in an instrument's book."""
        cols = ("side", "price", "size", "filled_size", "order_type", "due_ms")
        if inst.is_contract:
            rows = self._select(s.futures_orders, [
                ("venue", "=", inst.venue), ("market", "=", inst.market), ("symbol", "=", inst.symbol),
                ("status", "in", (FuturesStatus.LIVE.value, FuturesStatus.PARTIALLY_FILLED.value)),
                ("kind", "=", OrderKind.REGULAR.value)], columns=cols)
        else:
            rows = self._select(s.spot_orders, [("venue", "=", inst.venue), ("symbol", "=", inst.symbol),
                                                ("status", "in", _OPEN_SPOT)], columns=cols)
        return [(Side(side), price, size - filled) for side, price, size, filled, kind, due in rows
                if kind == OrderType.LIMIT.value and due is None and price is not None and size > filled]

    def count(self, table: str) -> int:
        t = s.metadata.tables[table]
        _q, rows = self._custom(f"count:{table}", lambda: select(func.count()).select_from(t), {}, (table,))
        return rows[0][0]


# Every writing unit of work takes this transaction-scoped advisory lock first: one queue per
# world (database) across every process and host (advisory locks are per database).
WORLD_LOCK_KEY = 0x6C6F63616C6578  # "localex"
WORLD_LOCK_SQL = f"SELECT pg_advisory_xact_lock({WORLD_LOCK_KEY})"
RETRY_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected


def engine_url(url: str) -> str:
    """An SQLAlchemy URL for what a user may type: postgresql:// and postgres:// go through
    psycopg 3 (a dependency of the package); anything else as given."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return url


def retryable(err: BaseException) -> bool:
    """The database refused the transaction and asks for it to be run again."""
    for candidate in (err, getattr(err, "orig", None), err.__cause__):
        if getattr(candidate, "sqlstate", None) in RETRY_SQLSTATES:
            return True
    return False


class SqlStore:
    """A database plus the lock that serialises writers within this process."""

    def __init__(self, url: str) -> None:
        url = self.url = engine_url(url)
        self.engine: Engine
        if url == "sqlite://":
            self.engine = create_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        elif url.startswith("sqlite"):
            self.engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        self.dialect = self.engine.dialect
        self._sqlite = self.dialect.name == "sqlite"
        self._pg = self.dialect.name == "postgresql"
        self._begin_sql = "BEGIN"
        if self._sqlite:
            self._sqlite_explicit_transactions(file_backed=url != "sqlite://")
        self.lock = threading.RLock()
        # the store is the database's only writer: rows that change only through it may be cached
        self.sole_writer = self._sqlite
        # several processes (workers, hosts) may write this database at once, and nothing tells
        # this one when they did (PostgreSQL): nothing is kept across units of work, here or in
        # the engine (Engine reads this)
        self.shared = not self._sqlite
        # a relay follows the outbox (scale/relay.py) and trims it behind what it has relayed:
        # appends then leave it alone (store/outbox.py)
        self.outbox_relayed = False
        # another connection to the same file (a second process) may commit between our units of
        # work: SQLite's data_version changes exactly then, and the caches are dropped
        self._watch_others = self._sqlite and url != "sqlite://"
        self._data_version: int | None = None
        self._cache: dict[str, dict] = {name: {} for name in CACHED_TABLES} if self.sole_writer else {}
        # answers of queries asked with remember=True, per table, until a unit writing it commits
        self._answers: dict[str, dict] = {}
        self._seq: dict[str, int | None] = {}
        self._outbox_last: int | None = None  # the outbox's highest seq, committed (sole writer)
        # (venue, symbol) -> {order id: row} of its open spot orders, committed, in id order
        # (sole writer; resting_spot_orders): as many rows as orders rest
        self._resting: dict[tuple[str, str], dict[int, tuple]] = {}
        self._instruments: dict[tuple, tuple] = {}  # key -> (row, the Instrument made from it)
        self._selects: dict = {}
        self._metas: dict[str, _Table] = {}  # table name -> its compiled statements (this dialect)
        self._savepoints = 0
        self._uow: SqlUnitOfWork | None = None
        self._in_tx = False
        self.statements = 0  # statements sent to the database (for measurements)
        self.commits = 0  # writing units of work committed (a call is retried only before one)
        self.retries = 0  # units of work the database asked to run again (40001 / 40P01)
        # committed units of work that wrote more than mark prices: what a price move may fire
        # has not changed while this stays the same (None: another process may have changed it,
        # so it cannot be said)
        self.changes: int | None = None if self.shared else 0
        from localex.store.migrate import open_schema

        open_schema(self.engine, new_in_memory=url == "sqlite://")
        self._connect()
        self.reconnects = 0  # connections to the server lost and opened again (PostgreSQL)
        # psycopg's pipeline mode stays off: with one cursor reused, results of a large flush that
        # arrive while a later query is still being sent are taken as that query's (psycopg
        # issue 604: "the last operation didn't produce records" on a read after a big write,
        # now and then); True sends BEGIN, the lock and the writes with the next read instead
        self.pipeline = False

    def _connect(self) -> None:
        self._sa = self.engine.connect()  # one persistent connection for every unit of work
        self._info_read_only: tuple | None = None  # (connection, flag) last set in its info
        self._dbapi = self._sa.connection.dbapi_connection
        self._cur = self._dbapi.cursor()
        self._pg_mode: tuple | None = None  # (read_only, isolation) the connection is set to
        self._pipe = None  # psycopg's pipeline while a unit of work runs in it

    def _reconnect_if_lost(self) -> None:
        """A database server that restarted or dropped this connection: the unit of work that
        met it failed (the caller got the error); the next one opens a new connection."""
        if not self._dbapi.closed:
            return
        try:
            self._sa.invalidate()
            self._sa.close()
        except Exception:  # noqa: BLE001  already broken; only the new connection matters
            pass
        self._connect()
        self.reconnects += 1

    def _sqlite_explicit_transactions(self, file_backed: bool) -> None:
        # pysqlite's own transaction handling begins lazily and never around SELECTs; take
        # control so that every writing unit of work is one real transaction (a write lock up
        # front on a file).
        begin = self._begin_sql = "BEGIN IMMEDIATE" if file_backed else "BEGIN"

        @event.listens_for(self.engine, "connect")
        def _connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None
            if file_backed:
                dbapi_conn.execute("PRAGMA journal_mode=WAL")
                dbapi_conn.execute("PRAGMA synchronous=NORMAL")
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(self.engine, "begin")
        def _begin(conn):
            if conn.connection.dbapi_connection.in_transaction:
                return  # the store already began this connection's transaction
            # a read-only unit of work takes no write lock
            conn.exec_driver_sql("BEGIN" if conn.info.get("read_only") else begin)

    # transactions ----------------------------------------------------------------------------
    def _ensure_tx(self) -> None:
        if not self._in_tx:
            self._in_tx = True
            read_only = self._uow is not None and self._uow.read_only
            if self._sqlite:
                self.statements += 1
                self._cur.execute("BEGIN" if read_only else self._begin_sql)
            elif self._pg and not read_only:
                # every writer of the world, in any process, queues here first (docs/scale-out.md)
                self.statements += 1
                self._cur.execute(WORLD_LOCK_SQL)

    def _pg_begin(self, read_only: bool) -> None:
        """A reader sees one snapshot of the world (REPEATABLE READ, READ ONLY: never asked to
        retry); a writer runs at READ COMMITTED after the world lock, so each statement sees
        everything committed before it got the lock. psycopg puts both in its BEGIN."""
        mode = (read_only, read_only)
        if self._pg_mode != mode:
            import psycopg

            dbapi = self._dbapi
            dbapi.read_only = read_only
            dbapi.isolation_level = (psycopg.IsolationLevel.REPEATABLE_READ if read_only
                                     else psycopg.IsolationLevel.READ_COMMITTED)
            self._pg_mode = mode

    def _end(self, commit: bool) -> None:
        in_tx, self._in_tx = self._in_tx, False
        if self._sa.in_transaction():
            (self._sa.commit if commit else self._sa.rollback)()
        elif self._pg:
            if self._dbapi.info.transaction_status:  # not idle: a transaction is open
                self.statements += 1
                (self._dbapi.commit if commit else self._dbapi.rollback)()
        elif in_tx:
            self.statements += 1
            if self._sqlite:
                if self._dbapi.in_transaction:
                    self._cur.execute("COMMIT" if commit else "ROLLBACK")
            else:
                (self._dbapi.commit if commit else self._dbapi.rollback)()

    def _open_unit(self, read_only: bool) -> SqlUnitOfWork:
        """A new unit of work, the lock held and none open."""
        if self._pg:
            self._reconnect_if_lost()
        uow = self._uow = SqlUnitOfWork(self, read_only)
        if self._info_read_only != (self._sa, read_only):  # read by the "begin" hook (SQLite)
            self._sa.info["read_only"] = read_only
            self._info_read_only = (self._sa, read_only)
        if self._pg:
            self._pg_begin(read_only)
        return uow

    def _unit_failed(self, uow: SqlUnitOfWork, err: BaseException) -> None:
        """A unit of work raised: roll it back; RetryTransaction if the database asks for it
        to be run again (the caller re-raises err otherwise)."""
        try:
            self._end(commit=False)
        finally:
            uow._discard()
            self._uow = None
        if retryable(err):
            self.retries += 1
            raise RetryTransaction(str(getattr(err, "orig", None) or err).strip()) from err

    def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(uow, *args) in a read-only unit of work (joining the open one, if any): what
        `with transaction(True) as uow: return fn(uow, *args)` does, without its generator
        frames, for the single reads of the request path (an order by id). SQLite; elsewhere
        it is that very block."""
        if not self._sqlite:
            with self.transaction(True) as uow:
                return fn(uow, *args)
        with self.lock:
            if self._uow is not None:
                return fn(self._uow, *args)
            uow = self._open_unit(True)
            try:
                if self._watch_others:
                    self._drop_caches_if_others_wrote()
                result = fn(uow, *args)
                uow._finish()
                self._end(commit=True)
            except BaseException as err:
                self._unit_failed(uow, err)
                raise
            else:
                uow._publish()
            finally:
                self._uow = None
            return result

    @contextmanager
    def transaction(self, read_only: bool = False) -> Iterator[SqlUnitOfWork]:
        """One unit of work. read_only=True promises no writes (a shared read lock suffices).
        When the database refuses it as a serialization failure or a deadlock, it is rolled back
        and RetryTransaction raised: the caller may run it again (Engine does)."""
        with self.lock:
            if self._uow is not None:  # a unit of work within one: it joins the outer one
                yield self._uow
                return
            uow = self._open_unit(read_only)
            # PostgreSQL: psycopg's pipeline mode sends what needs no answer yet (BEGIN, the
            # world lock, the buffered writes, COMMIT) with the next statement that does, so a
            # writer holds the world lock for fewer round trips (bench/bench_scale.py); SQL
            # through SQLAlchemy leaves it first (_leave_pipeline)
            with self._pipeline() if self._pg and self.pipeline else nullcontext():
                try:
                    if not read_only:
                        self._ensure_tx()
                    if self._watch_others:
                        self._drop_caches_if_others_wrote()
                    yield uow
                    uow._finish()
                    self._end(commit=True)
                except BaseException as err:
                    self._unit_failed(uow, err)
                    raise
                else:
                    if not read_only:
                        self.commits += 1
                    uow._publish()
                finally:
                    self._uow = None

    @contextmanager
    def _pipeline(self) -> Iterator[None]:
        pipe = self._pipe = self._dbapi.pipeline()
        pipe.__enter__()
        try:
            yield
        except BaseException as err:
            if self._pipe is not None:
                self._pipe = None
                pipe.__exit__(type(err), err, err.__traceback__)
            raise
        else:
            self._leave_pipeline()

    def _leave_pipeline(self) -> None:
        """Out of pipeline mode (everything sent is answered first): SQLAlchemy reads a
        cursor's description and row count at once, which a pipeline has not yet received."""
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            pipe.__exit__(None, None, None)

    @property
    def active(self) -> bool:
        """A unit of work is open (a call now joins it)."""
        return self._uow is not None

    def _drop_caches_if_others_wrote(self) -> None:
        """PRAGMA data_version changes when another connection commits (never for our own):
        then nothing cached can be trusted, and a price move must look at the triggers again.
        A writing unit checks after BEGIN IMMEDIATE, so nobody else can commit until it ends."""
        self.statements += 1
        self._cur.execute("PRAGMA data_version")
        version = self._cur.fetchone()[0]
        if version != self._data_version:
            if self._data_version is not None:
                self.clear_caches()
                self.changes += 1  # type: ignore[operator]
            self._data_version = version

    def clear_caches(self) -> None:
        for cache in self._cache.values():
            cache.clear()
        self._answers.clear()
        self._seq.clear()
        self._outbox_last = None
        self._resting.clear()
        self._instruments.clear()

    def reset(self) -> None:
        with self.transaction() as uow:
            for table in s.ALL_TABLES + outbox.TABLES:
                uow._raw_sql(table, delete(table))
        self.clear_caches()

    def close(self) -> None:
        try:
            self._cur.close()
            self._sa.close()
        finally:
            self.engine.dispose()
