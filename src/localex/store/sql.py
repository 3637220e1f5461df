"""SQL backend over SQLAlchemy Core. SQLite is the embedded default; the schema is portable."""

from __future__ import annotations

import dataclasses
import enum
import json
import threading
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Iterator

from sqlalchemy import and_, bindparam, create_engine, delete, event, func, insert, select, update
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
    PositionMode,
    PositionSide,
    SymbolSettings,
    TradeSide,
    Instrument,
    KeyKind,
    Liquidity,
    MarkPrice,
    OrderStatus,
    OrderType,
    Permission,
    Side,
    SpotOrder,
    TimeInForce,
    User,
)
from localex.engine.copy import (
    CopySymbol,
    CopyTrader,
    Follow,
    FollowerCopy,
    FollowerSetting,
    ProfitShare,
    Tracking,
)
from localex.store import schema as s


def _to_row(obj: Any) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, (frozenset, set)):
            value = ",".join(sorted(v.value if isinstance(v, enum.Enum) else v for v in value))
        elif isinstance(value, tuple):
            value = ",".join(value)
        row[f.name] = value
    return row


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _user(row) -> User:
    return User(uid=row.uid, venue=row.venue, name=row.name, created_ms=row.created_ms,
                fee_deduction=bool(row.fee_deduction), elite_trader=bool(row.elite_trader))


def _key(row) -> ApiKey:
    return ApiKey(
        key=row.key, uid=row.uid, venue=row.venue, secret=row.secret, passphrase=row.passphrase,
        kind=KeyKind(row.kind), permissions=frozenset(Permission(p) for p in _split(row.permissions)),
        ip_whitelist=tuple(_split(row.ip_whitelist)), created_ms=row.created_ms, label=row.label,
    )


def _instrument(row) -> Instrument:
    return Instrument(**row._mapping)


def _balance(row) -> Balance:
    return Balance(**row._mapping)


def _spot_order(row) -> SpotOrder:
    m = dict(row._mapping)
    m["side"] = Side(m["side"])
    m["order_type"] = OrderType(m["order_type"])
    m["force"] = TimeInForce(m["force"])
    m["status"] = OrderStatus(m["status"])
    m["cancel_reason"] = CancelReason(m["cancel_reason"])
    return SpotOrder(**m)


def _fill(row) -> Fill:
    m = dict(row._mapping)
    m["side"] = Side(m["side"])
    m["order_type"] = OrderType(m["order_type"])
    m["liquidity"] = Liquidity(m["liquidity"])
    return Fill(**m)


# Statements on the hot read path are built once: building a statement per call costs more than
# running it.
_USER = select(s.users).where(s.users.c.uid == bindparam("uid"))
_KEY = select(s.api_keys).where(s.api_keys.c.key == bindparam("key"))
_SPOT_ORDER = select(s.spot_orders).where(
    and_(s.spot_orders.c.uid == bindparam("uid"), s.spot_orders.c.order_id == bindparam("order_id")))
_SPOT_ORDER_BY_CLIENT_OID = select(s.spot_orders).where(
    and_(s.spot_orders.c.uid == bindparam("uid"), s.spot_orders.c.client_oid == bindparam("client_oid")))
_MARK = select(s.mark_prices).where(s.mark_prices.c.instrument == bindparam("instrument"))
_INSTRUMENT = select(s.instruments).where(
    and_(s.instruments.c.venue == bindparam("venue"), s.instruments.c.market == bindparam("market"),
         s.instruments.c.symbol == bindparam("symbol")))
_BALANCE = select(s.balances).where(
    and_(s.balances.c.uid == bindparam("uid"), s.balances.c.account == bindparam("account"),
         s.balances.c.asset == bindparam("asset")))


# Inserts and primary-key updates are built once per table and reused with new parameters.
_BUILT: dict = {}


def _insert_row(conn, table, row: dict) -> None:
    stmt = _BUILT.get(("insert", table.name))
    if stmt is None:
        stmt = _BUILT[("insert", table.name)] = insert(table)
    conn.execute(stmt, row)


def _update_row(conn, table, row: dict) -> int:
    """Update the row whose primary key `row` names; returns how many rows changed."""
    built = _BUILT.get(("update", table.name))
    if built is None:
        pk = [c.name for c in table.primary_key.columns]
        stmt = (update(table)
                .where(and_(*(table.c[name] == bindparam("pk_" + name) for name in pk)))
                .values({c.name: bindparam(c.name) for c in table.columns if c.name not in pk}))
        built = _BUILT[("update", table.name)] = (stmt, pk)
    stmt, pk = built
    params = {k: v for k, v in row.items() if k not in pk}
    params.update({"pk_" + name: row[name] for name in pk})
    return conn.execute(stmt, params).rowcount


def _typed(cls, row, **enums):
    """A dataclass from a row whose columns carry the field names; enum fields converted."""
    m = dict(row._mapping)
    for name, enum_type in enums.items():
        if m.get(name) is not None:
            m[name] = enum_type(m[name])
    return cls(**m)


_ORDER_ENUMS = dict(kind=OrderKind, side=Side, pos_side=PositionSide, trade_side=TradeSide,
                    order_type=OrderType, force=TimeInForce, status=FuturesStatus,
                    margin_mode=MarginMode, cancel_reason=CancelReason)
_OPEN_FUTURES = [FuturesStatus.UNTRIGGERED.value, FuturesStatus.LIVE.value,
                 FuturesStatus.PARTIALLY_FILLED.value]
_POSITION = select(s.positions).where(s.positions.c.position_id == bindparam("position_id"))
_FUTURES_ORDER = select(s.futures_orders).where(
    and_(s.futures_orders.c.uid == bindparam("uid"), s.futures_orders.c.order_id == bindparam("order_id")))


class SqlUnitOfWork:
    """Every read and write of one transaction. Commit happens when the block exits cleanly."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # sequences ---------------------------------------------------------------------------
    def next_sequence(self, name: str, floor: int) -> int:
        """max(last + 1, floor), stored; monotonic within the store."""
        current = self.conn.execute(
            select(s.sequences.c.value).where(s.sequences.c.name == name)
        ).scalar_one_or_none()
        if current is None:
            value = floor
            self.conn.execute(insert(s.sequences).values(name=name, value=value))
        else:
            value = max(current + 1, floor)
            self.conn.execute(update(s.sequences).where(s.sequences.c.name == name).values(value=value))
        return value

    # users and keys ------------------------------------------------------------------------
    def insert_user(self, user: User) -> None:
        _insert_row(self.conn, s.users, _to_row(user))

    def update_user(self, user: User) -> None:
        _update_row(self.conn, s.users, _to_row(user))

    def get_user(self, uid: str) -> User | None:
        row = self.conn.execute(_USER, {"uid": uid}).first()
        return _user(row) if row else None

    def find_user(self, venue: str, name: str) -> User | None:
        row = self.conn.execute(
            select(s.users).where(and_(s.users.c.venue == venue, s.users.c.name == name))
        ).first()
        return _user(row) if row else None

    def list_users(self, venue: str | None = None) -> list[User]:
        q = select(s.users).order_by(s.users.c.created_ms, s.users.c.uid)
        if venue:
            q = q.where(s.users.c.venue == venue)
        return [_user(r) for r in self.conn.execute(q)]

    def insert_key(self, key: ApiKey) -> None:
        _insert_row(self.conn, s.api_keys, _to_row(key))

    def get_key(self, key: str) -> ApiKey | None:
        row = self.conn.execute(_KEY, {"key": key}).first()
        return _key(row) if row else None

    def list_keys(self, uid: str) -> list[ApiKey]:
        q = select(s.api_keys).where(s.api_keys.c.uid == uid).order_by(s.api_keys.c.created_ms)
        return [_key(r) for r in self.conn.execute(q)]

    # instruments and prices ---------------------------------------------------------------
    def put_instrument(self, inst: Instrument) -> None:
        t = s.instruments
        key = and_(t.c.venue == inst.venue, t.c.market == inst.market, t.c.symbol == inst.symbol)
        row = _to_row(inst)
        if self.conn.execute(select(t.c.symbol).where(key)).first():
            self.conn.execute(update(t).where(key).values(**row))
        else:
            _insert_row(self.conn, t, row)

    def get_instrument(self, venue: str, market: str, symbol: str) -> Instrument | None:
        row = self.conn.execute(_INSTRUMENT, {"venue": venue, "market": market, "symbol": symbol}).first()
        return _instrument(row) if row else None

    def list_instruments(self, venue: str | None = None, market: str | None = None) -> list[Instrument]:
        t = s.instruments
        q = select(t).order_by(t.c.venue, t.c.market, t.c.symbol)
        if venue:
            q = q.where(t.c.venue == venue)
        if market:
            q = q.where(t.c.market == market)
        return [_instrument(r) for r in self.conn.execute(q)]

    def set_mark(self, mark: MarkPrice) -> None:
        t = s.mark_prices
        row = _to_row(mark)
        if self.conn.execute(select(t.c.instrument).where(t.c.instrument == mark.instrument)).first():
            self.conn.execute(update(t).where(t.c.instrument == mark.instrument).values(**row))
        else:
            _insert_row(self.conn, t, row)

    def get_mark(self, instrument: str) -> MarkPrice | None:
        row = self.conn.execute(_MARK, {"instrument": instrument}).first()
        return MarkPrice(**row._mapping) if row else None

    def list_marks(self) -> list[MarkPrice]:
        t = s.mark_prices
        return [MarkPrice(**r._mapping) for r in self.conn.execute(select(t).order_by(t.c.instrument))]

    # balances ----------------------------------------------------------------------------
    def get_balance(self, uid: str, account: str, asset: str) -> Balance:
        row = self.conn.execute(_BALANCE, {"uid": uid, "account": account, "asset": asset}).first()
        return _balance(row) if row else Balance(uid=uid, account=account, asset=asset)

    def put_balance(self, bal: Balance) -> None:
        t = s.balances
        row = _to_row(bal)
        if _update_row(self.conn, t, row) == 0:
            _insert_row(self.conn, t, row)

    def list_balances(self, uid: str, account: str | None = None) -> list[Balance]:
        t = s.balances
        q = select(t).where(t.c.uid == uid).order_by(t.c.account, t.c.asset)
        if account:
            q = q.where(t.c.account == account)
        return [_balance(r) for r in self.conn.execute(q)]

    def sum_balances(self, asset: str) -> Decimal:
        t = s.balances
        total = ZERO
        for r in self.conn.execute(select(t.c.available, t.c.frozen).where(t.c.asset == asset)):
            total += r.available + r.frozen
        return total

    # spot orders and fills ----------------------------------------------------------------
    def insert_spot_order(self, order: SpotOrder) -> None:
        _insert_row(self.conn, s.spot_orders, _to_row(order))

    def update_spot_order(self, order: SpotOrder) -> None:
        t = s.spot_orders
        _update_row(self.conn, t, _to_row(order))

    def get_spot_order(self, uid: str, order_id: int) -> SpotOrder | None:
        row = self.conn.execute(_SPOT_ORDER, {"uid": uid, "order_id": order_id}).first()
        return _spot_order(row) if row else None

    def get_spot_order_by_client_oid(self, uid: str, client_oid: str) -> SpotOrder | None:
        row = self.conn.execute(_SPOT_ORDER_BY_CLIENT_OID, {"uid": uid, "client_oid": client_oid}).first()
        return _spot_order(row) if row else None

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
        t = s.spot_orders
        cond = [t.c.uid == uid]
        open_states = [OrderStatus.LIVE.value, OrderStatus.PARTIALLY_FILLED.value]
        if open_only is True:
            cond.append(t.c.status.in_(open_states))
        elif open_only is False:
            cond.append(t.c.status.not_in(open_states))
        if symbol:
            cond.append(t.c.symbol == symbol)
        if order_id is not None:
            cond.append(t.c.order_id == order_id)
        if start_ms is not None:
            cond.append(t.c.created_ms >= start_ms)
        if end_ms is not None:
            cond.append(t.c.created_ms <= end_ms)
        if id_less_than is not None:
            cond.append(t.c.order_id < id_less_than)
        q = select(t).where(and_(*cond)).order_by(t.c.order_id.desc()).limit(limit)
        return [_spot_order(r) for r in self.conn.execute(q)]

    def resting_spot_orders(self, venue: str, symbol: str) -> list[SpotOrder]:
        """Open limit orders of one instrument, oldest first."""
        t = s.spot_orders
        q = (
            select(t)
            .where(
                and_(
                    t.c.venue == venue,
                    t.c.symbol == symbol,
                    t.c.status.in_([OrderStatus.LIVE.value, OrderStatus.PARTIALLY_FILLED.value]),
                )
            )
            .order_by(t.c.order_id)
        )
        return [_spot_order(r) for r in self.conn.execute(q)]

    def insert_fill(self, fill: Fill) -> None:
        _insert_row(self.conn, s.spot_fills, _to_row(fill))

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
        t = s.spot_fills
        cond = [t.c.uid == uid]
        if symbol:
            cond.append(t.c.symbol == symbol)
        if order_id is not None:
            cond.append(t.c.order_id == order_id)
        if start_ms is not None:
            cond.append(t.c.created_ms >= start_ms)
        if end_ms is not None:
            cond.append(t.c.created_ms <= end_ms)
        if id_less_than is not None:
            cond.append(t.c.trade_id < id_less_than)
        q = select(t).where(and_(*cond)).order_by(t.c.trade_id.desc()).limit(limit)
        return [_fill(r) for r in self.conn.execute(q)]

    def fees_collected(self, asset: str) -> Decimal:
        t = s.spot_fills
        total = ZERO
        for r in self.conn.execute(select(t.c.fee).where(t.c.fee_asset == asset)):
            total += r.fee
        return total

    # futures: accounts and settings ------------------------------------------------------------
    def get_futures_account(self, uid: str, market: str) -> FuturesAccount:
        t = s.futures_accounts
        row = self.conn.execute(select(t).where(and_(t.c.uid == uid, t.c.market == market))).first()
        return _typed(FuturesAccount, row, position_mode=PositionMode) if row else FuturesAccount(uid, market)

    def put_futures_account(self, acct: FuturesAccount) -> None:
        t = s.futures_accounts
        if _update_row(self.conn, t, _to_row(acct)) == 0:
            _insert_row(self.conn, t, _to_row(acct))

    def get_symbol_settings(self, uid: str, market: str, symbol: str,
                            default: SymbolSettings | None = None) -> SymbolSettings:
        t = s.symbol_settings
        row = self.conn.execute(select(t).where(
            and_(t.c.uid == uid, t.c.market == market, t.c.symbol == symbol))).first()
        if row:
            return _typed(SymbolSettings, row, margin_mode=MarginMode)
        return default or SymbolSettings(uid, market, symbol)

    def put_symbol_settings(self, st: SymbolSettings) -> None:
        t = s.symbol_settings
        if _update_row(self.conn, t, _to_row(st)) == 0:
            _insert_row(self.conn, t, _to_row(st))

    # futures: positions --------------------------------------------------------------------------
    def insert_position(self, pos: Position) -> None:
        _insert_row(self.conn, s.positions, _to_row(pos))

    def update_position(self, pos: Position) -> None:
        t = s.positions
        _update_row(self.conn, t, _to_row(pos))

    def get_position(self, position_id: int) -> Position | None:
        row = self.conn.execute(_POSITION, {"position_id": position_id}).first()
        return _typed(Position, row, side=PositionSide, margin_mode=MarginMode) if row else None

    def list_positions(self, uid: str | None = None, *, venue: str | None = None,
                       market: str | None = None, symbol: str | None = None,
                       open_only: bool | None = True, side: PositionSide | None = None,
                       id_less_than: int | None = None, limit: int | None = None,
                       newest_first: bool = False) -> list[Position]:
        t = s.positions
        cond = []
        if uid is not None:
            cond.append(t.c.uid == uid)
        if venue is not None:
            cond.append(t.c.venue == venue)
        if market is not None:
            cond.append(t.c.market == market)
        if symbol is not None:
            cond.append(t.c.symbol == symbol)
        if open_only is not None:
            cond.append(t.c.open == open_only)
        if side is not None:
            cond.append(t.c.side == side.value)
        if id_less_than is not None:
            cond.append(t.c.position_id < id_less_than)
        order = t.c.position_id.desc() if newest_first else t.c.position_id
        q = select(t).where(and_(*cond)).order_by(order)
        if limit is not None:
            q = q.limit(limit)
        return [_typed(Position, r, side=PositionSide, margin_mode=MarginMode) for r in self.conn.execute(q)]

    # futures: orders and fills ------------------------------------------------------------------
    def insert_futures_order(self, order: FuturesOrder) -> None:
        _insert_row(self.conn, s.futures_orders, _to_row(order))

    def update_futures_order(self, order: FuturesOrder) -> None:
        t = s.futures_orders
        _update_row(self.conn, t, _to_row(order))

    def get_futures_order(self, uid: str, order_id: int) -> FuturesOrder | None:
        row = self.conn.execute(_FUTURES_ORDER, {"uid": uid, "order_id": order_id}).first()
        return _typed(FuturesOrder, row, **_ORDER_ENUMS) if row else None

    def get_futures_order_by_client_oid(self, uid: str, client_oid: str) -> FuturesOrder | None:
        t = s.futures_orders
        row = self.conn.execute(select(t).where(and_(t.c.uid == uid, t.c.client_oid == client_oid))).first()
        return _typed(FuturesOrder, row, **_ORDER_ENUMS) if row else None

    def list_futures_orders(self, uid: str | None = None, *, venue: str | None = None,
                            market: str | None = None, symbol: str | None = None,
                            open_only: bool | None = None, kinds: list[OrderKind] | None = None,
                            order_id: int | None = None, client_oid: str | None = None,
                            start_ms: int | None = None, end_ms: int | None = None,
                            id_less_than: int | None = None, id_greater_than: int | None = None,
                            limit: int | None = None, newest_first: bool = True) -> list[FuturesOrder]:
        t = s.futures_orders
        cond = []
        if uid is not None:
            cond.append(t.c.uid == uid)
        if venue is not None:
            cond.append(t.c.venue == venue)
        if market is not None:
            cond.append(t.c.market == market)
        if symbol is not None:
            cond.append(t.c.symbol == symbol)
        if open_only is True:
            cond.append(t.c.status.in_(_OPEN_FUTURES))
        elif open_only is False:
            cond.append(t.c.status.not_in(_OPEN_FUTURES))
        if kinds:
            cond.append(t.c.kind.in_([k.value for k in kinds]))
        if order_id is not None:
            cond.append(t.c.order_id == order_id)
        if client_oid is not None:
            cond.append(t.c.client_oid == client_oid)
        if start_ms is not None:
            cond.append(t.c.created_ms >= start_ms)
        if end_ms is not None:
            cond.append(t.c.created_ms <= end_ms)
        if id_less_than is not None:
            cond.append(t.c.order_id < id_less_than)
        if id_greater_than is not None:
            cond.append(t.c.order_id > id_greater_than)
        q = select(t).where(and_(*cond)).order_by(
            t.c.order_id.desc() if newest_first else t.c.order_id)
        if limit is not None:
            q = q.limit(limit)
        return [_typed(FuturesOrder, r, **_ORDER_ENUMS) for r in self.conn.execute(q)]

    def insert_futures_fill(self, fill: FuturesFill) -> None:
        _insert_row(self.conn, s.futures_fills, _to_row(fill))

    def list_futures_fills(self, uid: str, *, market: str | None = None, symbol: str | None = None,
                           order_id: int | None = None, start_ms: int | None = None,
                           end_ms: int | None = None, id_less_than: int | None = None,
                           id_greater_than: int | None = None, limit: int | None = 100) -> list[FuturesFill]:
        t = s.futures_fills
        cond = [t.c.uid == uid]
        if market is not None:
            cond.append(t.c.market == market)
        if symbol is not None:
            cond.append(t.c.symbol == symbol)
        if order_id is not None:
            cond.append(t.c.order_id == order_id)
        if start_ms is not None:
            cond.append(t.c.created_ms >= start_ms)
        if end_ms is not None:
            cond.append(t.c.created_ms <= end_ms)
        if id_less_than is not None:
            cond.append(t.c.trade_id < id_less_than)
        if id_greater_than is not None:
            cond.append(t.c.trade_id > id_greater_than)
        q = select(t).where(and_(*cond)).order_by(t.c.trade_id.desc())
        if limit is not None:
            q = q.limit(limit)
        return [_typed(FuturesFill, r, side=Side, pos_side=PositionSide, trade_side=TradeSide,
                       liquidity=Liquidity) for r in self.conn.execute(q)]

    def sum_position_margin(self, settle_accounts: list[str] | None = None) -> dict[str, Decimal]:
        """Margin held by open positions, per market."""
        t = s.positions
        out: dict[str, Decimal] = {}
        for r in self.conn.execute(select(t.c.market, t.c.margin).where(t.c.open == True)):  # noqa: E712
            out[r.market] = out.get(r.market, ZERO) + r.margin
        return out

    # copy trading ------------------------------------------------------------------------------
    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: what happens inside is undone alone if it raises."""
        with self.conn.begin_nested():
            yield

    def _upsert(self, table, row: dict) -> None:
        """Insert, or update the row with the same primary key."""
        if _update_row(self.conn, table, row) == 0:
            _insert_row(self.conn, table, row)

    def get_copy_trader(self, uid: str) -> CopyTrader | None:
        t = s.copy_traders
        row = self.conn.execute(select(t).where(t.c.uid == uid)).first()
        return _typed(CopyTrader, row) if row else None

    def put_copy_trader(self, trader: CopyTrader) -> None:
        self._upsert(s.copy_traders, _to_row(trader))

    def get_copy_symbol(self, uid: str, market: str, symbol: str) -> CopySymbol | None:
        t = s.copy_symbols
        row = self.conn.execute(select(t).where(
            and_(t.c.uid == uid, t.c.market == market, t.c.symbol == symbol))).first()
        return _typed(CopySymbol, row) if row else None

    def put_copy_symbol(self, cs: CopySymbol) -> None:
        t = s.copy_symbols
        self._upsert(t, _to_row(cs))

    def list_copy_symbols(self, uid: str, market: str | None = None) -> list[CopySymbol]:
        t = s.copy_symbols
        cond = [t.c.uid == uid] + ([t.c.market == market] if market else [])
        q = select(t).where(and_(*cond)).order_by(t.c.market, t.c.symbol)
        return [_typed(CopySymbol, r) for r in self.conn.execute(q)]

    def get_copy_follow(self, trader_uid: str, follower_uid: str) -> Follow | None:
        t = s.copy_follows
        row = self.conn.execute(select(t).where(
            and_(t.c.trader_uid == trader_uid, t.c.follower_uid == follower_uid))).first()
        return _typed(Follow, row) if row else None

    def put_copy_follow(self, follow: Follow) -> None:
        t = s.copy_follows
        self._upsert(t, _to_row(follow))

    def list_copy_follows(self, *, trader_uid: str | None = None, follower_uid: str | None = None,
                          active: bool | None = None) -> list[Follow]:
        """Oldest first (by first following, then uid)."""
        t = s.copy_follows
        cond = []
        if trader_uid is not None:
            cond.append(t.c.trader_uid == trader_uid)
        if follower_uid is not None:
            cond.append(t.c.follower_uid == follower_uid)
        if active is not None:
            cond.append(t.c.active == active)
        q = select(t).where(and_(*cond)).order_by(t.c.first_followed_ms, t.c.follower_uid, t.c.trader_uid)
        return [_typed(Follow, r) for r in self.conn.execute(q)]

    def get_follower_setting(self, trader_uid: str, follower_uid: str, market: str,
                             symbol: str) -> FollowerSetting | None:
        t = s.copy_follower_settings
        row = self.conn.execute(select(t).where(and_(
            t.c.trader_uid == trader_uid, t.c.follower_uid == follower_uid, t.c.market == market,
            t.c.symbol == symbol))).first()
        return _typed(FollowerSetting, row) if row else None

    def put_follower_setting(self, st: FollowerSetting) -> None:
        t = s.copy_follower_settings
        self._upsert(t, _to_row(st))

    def list_follower_settings(self, trader_uid: str, follower_uid: str) -> list[FollowerSetting]:
        t = s.copy_follower_settings
        q = select(t).where(and_(t.c.trader_uid == trader_uid, t.c.follower_uid == follower_uid)) \
            .order_by(t.c.market, t.c.symbol)
        return [_typed(FollowerSetting, r) for r in self.conn.execute(q)]

    def insert_tracking(self, tr: Tracking) -> None:
        _insert_row(self.conn, s.copy_tracking, _to_row(tr))

    def update_tracking(self, tr: Tracking) -> None:
        t = s.copy_tracking
        _update_row(self.conn, t, _to_row(tr))

    def get_tracking(self, tracking_no: int) -> Tracking | None:
        t = s.copy_tracking
        row = self.conn.execute(select(t).where(t.c.tracking_no == tracking_no)).first()
        return _typed(Tracking, row) if row else None

    def list_tracking(self, trader_uid: str, market: str | None, *, symbol: str | None = None,
                      open_only: bool | None = True, start_ms: int | None = None,
                      end_ms: int | None = None, id_less_than: int | None = None,
                      id_greater_than: int | None = None, limit: int | None = None,
                      ascending: bool = False) -> list[Tracking]:
        """A trader's tracking orders by number (newest first unless ascending), a cursor page:
        the index (trader, market[, symbol], status, number) serves it without an offset."""
        t = s.copy_tracking
        cond = [t.c.trader_uid == trader_uid]
        if market is not None:
            cond.append(t.c.market == market)
        if symbol is not None:
            cond.append(t.c.symbol == symbol)
        if open_only is not None:
            cond.append(t.c.status == ("open" if open_only else "closed"))
        if start_ms is not None:
            cond.append(t.c.open_ms >= start_ms)
        if end_ms is not None:
            cond.append(t.c.open_ms <= end_ms)
        if id_less_than is not None:
            cond.append(t.c.tracking_no < id_less_than)
        if id_greater_than is not None:
            cond.append(t.c.tracking_no > id_greater_than)
        q = select(t).where(and_(*cond)).order_by(
            t.c.tracking_no if ascending else t.c.tracking_no.desc())
        if limit is not None:
            q = q.limit(limit)
        return [_typed(Tracking, r) for r in self.conn.execute(q)]

    def count_tracking(self, trader_uid: str) -> int:
        t = s.copy_tracking
        return self.conn.execute(select(func.count()).where(t.c.trader_uid == trader_uid)).scalar_one()

    def count_open_tracking(self, trader_uid: str, market: str, symbol: str, pos_side: str) -> int:
        t = s.copy_tracking
        return self.conn.execute(select(func.count()).where(and_(
            t.c.trader_uid == trader_uid, t.c.market == market, t.c.symbol == symbol,
            t.c.status == "open", t.c.pos_side == pos_side))).scalar_one()

    def list_tracking_with_stops(self, venue: str, market: str, symbol: str) -> list[Tracking]:
        t = s.copy_tracking
        q = select(t).where(and_(t.c.venue == venue, t.c.market == market, t.c.symbol == symbol,
                                 t.c.status == "open",
                                 (t.c.tp_price.is_not(None)) | (t.c.sl_price.is_not(None)))) \
            .order_by(t.c.tracking_no)
        return [_typed(Tracking, r) for r in self.conn.execute(q)]

    def list_orphan_tracking(self, venue: str, market: str, symbol: str) -> list[Tracking]:
        """Open tracking orders whose trader position has closed."""
        t, p = s.copy_tracking, s.positions
        q = select(t).select_from(t.join(p, p.c.position_id == t.c.position_id)).where(and_(
            t.c.venue == venue, t.c.market == market, t.c.symbol == symbol, t.c.status == "open",
            p.c.open == False)).order_by(t.c.tracking_no)  # noqa: E712
        return [_typed(Tracking, r) for r in self.conn.execute(q)]

    def insert_follower_copy(self, copy: FollowerCopy) -> None:
        _insert_row(self.conn, s.copy_follower_orders, _to_row(copy))

    def update_follower_copy(self, copy: FollowerCopy) -> None:
        t = s.copy_follower_orders
        _update_row(self.conn, t, _to_row(copy))

    def get_follower_copy(self, tracking_no: int) -> FollowerCopy | None:
        t = s.copy_follower_orders
        row = self.conn.execute(select(t).where(t.c.tracking_no == tracking_no)).first()
        return _typed(FollowerCopy, row) if row else None

    def list_copies_of(self, trader_tracking_no: int, open_only: bool = False) -> list[FollowerCopy]:
        t = s.copy_follower_orders
        cond = [t.c.trader_tracking_no == trader_tracking_no]
        if open_only:
            cond.append(t.c.status == "open")
        q = select(t).where(and_(*cond)).order_by(t.c.tracking_no)
        return [_typed(FollowerCopy, r) for r in self.conn.execute(q)]

    def list_copies_of_trader(self, trader_uid: str, open_only: bool = False) -> list[FollowerCopy]:
        t = s.copy_follower_orders
        cond = [t.c.trader_uid == trader_uid]
        if open_only:
            cond.append(t.c.status == "open")
        q = select(t).where(and_(*cond)).order_by(t.c.tracking_no)
        return [_typed(FollowerCopy, r) for r in self.conn.execute(q)]

    def list_follower_copies(self, follower_uid: str, *, trader_uid: str | None = None,
                             market: str | None = None, symbol: str | None = None,
                             open_only: bool | None = None, start_ms: int | None = None,
                             end_ms: int | None = None, id_less_than: int | None = None,
                             id_greater_than: int | None = None, limit: int | None = None,
                             ascending: bool = False) -> list[FollowerCopy]:
        t = s.copy_follower_orders
        cond = [t.c.follower_uid == follower_uid]
        if trader_uid is not None:
            cond.append(t.c.trader_uid == trader_uid)
        if market is not None:
            cond.append(t.c.market == market)
        if symbol is not None:
            cond.append(t.c.symbol == symbol)
        if open_only is not None:
            cond.append(t.c.status == ("open" if open_only else "closed"))
        if start_ms is not None:
            cond.append(t.c.open_ms >= start_ms)
        if end_ms is not None:
            cond.append(t.c.open_ms <= end_ms)
        if id_less_than is not None:
            cond.append(t.c.tracking_no < id_less_than)
        if id_greater_than is not None:
            cond.append(t.c.tracking_no > id_greater_than)
        q = select(t).where(and_(*cond)).order_by(
            t.c.tracking_no if ascending else t.c.tracking_no.desc())
        if limit is not None:
            q = q.limit(limit)
        return [_typed(FollowerCopy, r) for r in self.conn.execute(q)]

    def sum_open_copy_size(self, follower_uid: str, trader_uid: str, market: str, symbol: str) -> Decimal:
        t = s.copy_follower_orders
        total = ZERO
        for r in self.conn.execute(select(t.c.open_size).where(and_(
                t.c.follower_uid == follower_uid, t.c.trader_uid == trader_uid, t.c.market == market,
                t.c.symbol == symbol, t.c.status == "open"))):
            total += r.open_size
        return total

    def list_orphan_copies(self, venue: str, market: str, symbol: str) -> list[FollowerCopy]:
        """Open copies whose position has closed (a follower's own close, TP/SL, liquidation)."""
        t, p = s.copy_follower_orders, s.positions
        q = select(t).select_from(t.join(p, p.c.position_id == t.c.position_id)).where(and_(
            t.c.venue == venue, t.c.market == market, t.c.symbol == symbol, t.c.status == "open",
            p.c.open == False)).order_by(t.c.tracking_no)  # noqa: E712
        return [_typed(FollowerCopy, r) for r in self.conn.execute(q)]

    def insert_profit_share(self, share: ProfitShare) -> None:
        _insert_row(self.conn, s.copy_profit_shares, _to_row(share))

    def list_profit_shares(self, trader_uid: str, *, coin: str | None = None,
                           start_ms: int | None = None, end_ms: int | None = None,
                           id_less_than: int | None = None, id_greater_than: int | None = None,
                           limit: int | None = None, ascending: bool = False) -> list[ProfitShare]:
        t = s.copy_profit_shares
        cond = [t.c.trader_uid == trader_uid]
        if coin is not None:
            cond.append(t.c.coin == coin)
        if start_ms is not None:
            cond.append(t.c.created_ms >= start_ms)
        if end_ms is not None:
            cond.append(t.c.created_ms <= end_ms)
        if id_less_than is not None:
            cond.append(t.c.profit_id < id_less_than)
        if id_greater_than is not None:
            cond.append(t.c.profit_id > id_greater_than)
        q = select(t).where(and_(*cond)).order_by(t.c.profit_id if ascending else t.c.profit_id.desc())
        if limit is not None:
            q = q.limit(limit)
        return [_typed(ProfitShare, r) for r in self.conn.execute(q)]

    # bills and fill models ----------------------------------------------------------------------
    def insert_bill(self, bill: Bill) -> None:
        _insert_row(self.conn, s.bills, _to_row(bill))

    def list_bills(self, uid: str, *, account: str | None = None, kinds: list[str] | None = None,
                   symbol: str | None = None, asset: str | None = None, start_ms: int | None = None,
                   end_ms: int | None = None, id_less_than: int | None = None,
                   limit: int | None = 100) -> list[Bill]:
        """Newest first."""
        t = s.bills
        cond = [t.c.uid == uid]
        if account is not None:
            cond.append(t.c.account == account)
        if kinds:
            cond.append(t.c.kind.in_(kinds))
        if symbol is not None:
            cond.append(t.c.symbol == symbol)
        if asset is not None:
            cond.append(t.c.asset == asset)
        if start_ms is not None:
            cond.append(t.c.created_ms >= start_ms)
        if end_ms is not None:
            cond.append(t.c.created_ms <= end_ms)
        if id_less_than is not None:
            cond.append(t.c.bill_id < id_less_than)
        q = select(t).where(and_(*cond)).order_by(t.c.bill_id.desc())
        if limit is not None:
            q = q.limit(limit)
        return [_typed(Bill, r) for r in self.conn.execute(q)]

    def get_fill_model(self, scope: str) -> FillModel | None:
        t = s.fill_models
        row = self.conn.execute(select(t).where(t.c.scope == scope)).first()
        return FillModel(row.scope, row.kind, json.loads(row.params)) if row else None

    def put_fill_model(self, model: FillModel) -> None:
        row = {"scope": model.scope, "kind": model.kind, "params": json.dumps(model.params, sort_keys=True)}
        if _update_row(self.conn, s.fill_models, row) == 0:
            _insert_row(self.conn, s.fill_models, row)

    def delete_fill_model(self, scope: str) -> None:
        self.conn.execute(delete(s.fill_models).where(s.fill_models.c.scope == scope))

    def list_fill_models(self) -> list[FillModel]:
        t = s.fill_models
        return [FillModel(r.scope, r.kind, json.loads(r.params))
                for r in self.conn.execute(select(t).order_by(t.c.scope))]

    def due_orders(self, until_ms: int) -> list[tuple[int, str, int, str]]:
        """Open orders on their way to the book (latency fill model) due by until_ms, in due
        order: (due_ms, "spot" or the futures market, order_id, uid)."""
        out = []
        open_spot = [OrderStatus.LIVE.value, OrderStatus.PARTIALLY_FILLED.value]
        for table, open_states, market in ((s.spot_orders, open_spot, None),
                                           (s.futures_orders, _OPEN_FUTURES, True)):
            cols = [table.c.due_ms, table.c.order_id, table.c.uid]
            if market:
                cols.append(table.c.market)
            q = select(*cols).where(and_(table.c.due_ms.is_not(None), table.c.due_ms <= until_ms,
                                         table.c.status.in_(open_states)))
            for r in self.conn.execute(q):
                out.append((r.due_ms, r.market if market else "spot", r.order_id, r.uid))
        return sorted(out, key=lambda item: (item[0], item[2]))

    def next_due_ms(self) -> int | None:
        """When the next open order on its way to the book is due (None: there is none)."""
        times = []
        open_spot = [OrderStatus.LIVE.value, OrderStatus.PARTIALLY_FILLED.value]
        for table, open_states in ((s.spot_orders, open_spot), (s.futures_orders, _OPEN_FUTURES)):
            q = select(func.min(table.c.due_ms)).where(
                and_(table.c.due_ms.is_not(None), table.c.status.in_(open_states)))
            value = self.conn.execute(q).scalar()
            if value is not None:
                times.append(value)
        return min(times) if times else None

    def count(self, table: str) -> int:
        return self.conn.execute(select(func.count()).select_from(s.metadata.tables[table])).scalar_one()


class SqlStore:
    """A database plus the lock that serialises writers within this process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine
        if url == "sqlite://":
            self.engine = create_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        elif url.startswith("sqlite"):
            self.engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            self._sqlite_explicit_transactions(file_backed=url != "sqlite://")
        self.lock = threading.RLock()
        from localex.store.migrate import upgrade

        upgrade(self.engine)

    def _sqlite_explicit_transactions(self, file_backed: bool) -> None:
        # pysqlite's own transaction handling begins lazily and never around SELECTs; take
        # control so that every unit of work is one real transaction (a write lock up front).
        begin = "BEGIN IMMEDIATE" if file_backed else "BEGIN"

        @event.listens_for(self.engine, "connect")
        def _connect(dbapi_conn, _record):
            dbapi_conn.isolation_level = None
            if file_backed:
                dbapi_conn.execute("PRAGMA journal_mode=WAL")
                dbapi_conn.execute("PRAGMA synchronous=NORMAL")
            dbapi_conn.execute("PRAGMA foreign_keys=ON")

        @event.listens_for(self.engine, "begin")
        def _begin(conn):
            # a read-only unit of work takes no write lock
            conn.exec_driver_sql("BEGIN" if conn.info.get("read_only") else begin)

    @contextmanager
    def transaction(self, read_only: bool = False) -> Iterator[SqlUnitOfWork]:
        """One unit of work. read_only=True promises no writes (a shared read lock suffices)."""
        with self.lock, self.engine.connect() as conn:
            conn.info["read_only"] = read_only
            with conn.begin():
                yield SqlUnitOfWork(conn)

    def reset(self) -> None:
        with self.transaction() as uow:
            for table in s.ALL_TABLES:
                uow.conn.execute(delete(table))

    def close(self) -> None:
        self.engine.dispose()
