"""The SQL store: transactions, migrations, persistence across reopen, reset."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from localex.demo import BITGET_FUTURES, BITGET_SPOT, install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import (
    Balance,
    KeyKind,
    OrderStatus,
    OrderType,
    Permission,
    PositionMode,
    PositionSide,
    PlanKind,
    PlanStatus,
    Side,
    SpotPlanOrder,
    TimeInForce,
    TradeSide,
    User,
)
from localex.engine.spot import SpotOrderRequest
from localex.store import open_store
from stores import new_store
from localex.store.migrate import head_revision
from localex.store.schema import metadata


def counts(store) -> dict[str, int]:
    with store.transaction() as uow:
        return {name: uow.count(name) for name in metadata.tables}


def populate(engine: Engine) -> dict:
    """A user with two keys, balances, a resting order and a filled one."""
    install_market(engine)
    user = engine.create_user("bitget", name="alice", fee_deduction=True)
    key = engine.create_api_key(user.uid, label="main")
    ro = engine.create_api_key(user.uid, permissions=[Permission.READ], ip_whitelist=["10.0.0.1", "::1"])
    engine.fund(user.uid, "USDT", D("10000.123456789"))
    engine.fund(user.uid, "BTC", D("1"))
    resting = engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"),
                                      D("90000.5"), client_oid="rest-1")
    filled = engine.place_spot_order(user.uid, "BTCUSDT", Side.SELL, OrderType.MARKET, D("0.001"))
    engine.set_mark("bitget", "spot", "ETHUSDT", D("3333.33"))
    engine.fund(user.uid, "USDT", D("1000"), account="usdt-futures")
    engine.set_position_mode(user.uid, "usdt-futures", PositionMode.HEDGE)
    engine.set_leverage(user.uid, "bitget", "usdt-futures", "BTCUSDT", 10)
    engine.place_futures_order(user.uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                               trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.01"))
    return {"user": user, "key": key, "ro": ro, "resting": resting, "filled": filled,
            "balances": engine.balances(user.uid), "fills": engine.spot_fills(user.uid),
            "marks": engine.marks()}


def populate_copy_trading(engine: Engine) -> None:
    """An elite trader, a follower, a tracking order closed in profit (every copy table used)."""
    from localex.engine.copy import FollowerSetting

    lead = engine.create_user("bitget", name="lead")
    fan = engine.create_user("bitget", name="fan")
    for uid in (lead.uid, fan.uid):
        engine.fund(uid, "USDT", D("10000"), account="usdt-futures")
    engine.copy.make_trader(lead.uid, [("usdt-futures", "BTCUSDT")])
    engine.copy.follow(fan.uid, lead.uid, [FollowerSetting("", "", "usdt-futures", "BTCUSDT",
                                                           trace_type="fixed_size", trace_value=D("0.01"))])
    engine.place_futures_order(lead.uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                               trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.01"))
    engine.set_mark("bitget", "usdt-futures", "BTCUSDT", D("99000"))
    engine.copy.close(lead.uid, "usdt-futures")


def populate_market_settings(engine: Engine) -> None:
    """A bill and a fill model (the tables market simulation keeps)."""
    from localex.engine.model import Bill, FillModel

    uid = engine.find_user("bitget", "alice").uid
    with engine.store.transaction() as uow:
        uow.insert_bill(Bill(1, uid, "bitget", "usdt-futures", "USDT", "BTCUSDT", "funding",
                             D("-0.095"), D("900"), None, 1))
        uow.put_fill_model(FillModel("bitget:spot:BTCUSDT", "latency", {"ms": 500}))
        uow.put_fill_model(FillModel("bitget:spot:BTCUSDT", "liquidity", {"size": "0.1"}))
        assert uow.get_fill_model("bitget:spot:BTCUSDT").params == {"size": "0.1"}
        assert [b.amount for b in uow.list_bills(uid, kinds=["funding"])] == [D("-0.095")]


def populate_spot_trading(engine: Engine) -> None:
    """A spot trigger order and a transfer (with its two bills)."""
    uid = engine.find_user("bitget", "alice").uid
    engine.place_spot_plan(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("96000"), D("96100"), D("0.01"),
                           trigger_type="mark_price", client_oid="plan-1")
    engine.transfer(uid, "USDT", D("10"), "spot", "usdt-futures", client_oid="t-1")


# transactions ------------------------------------------------------------------------------
@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_an_exception_rolls_the_whole_transaction_back():
    store = new_store()
    with store.transaction() as uow:
        uow.insert_user(User(uid="1000000001", venue="bitget", name="kept", created_ms=1))
    with pytest.raises(RuntimeError):
        with store.transaction() as uow:
            uow.insert_user(User(uid="1000000002", venue="bitget", name="lost", created_ms=2))
            uow.put_balance(Balance(uid="1000000002", account="spot", asset="USDT", available=D(5)))
            uow.next_sequence("bitget.id", 123)
            assert uow.get_user("1000000002") is not None  # visible inside the transaction
            raise RuntimeError("boom")
    with store.transaction() as uow:
        assert uow.get_user("1000000002") is None
        assert uow.get_user("1000000001") is not None
        assert uow.list_balances("1000000002") == []
        assert uow.next_sequence("bitget.id", 0) == 0  # the sequence was never created
    assert counts(store)["users"] == 1


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_a_failing_engine_call_leaves_no_trace():
    engine = Engine(new_store(), clock=ManualClock(), seed=1)
    install_market(engine)
    uid = engine.create_user("bitget", name="alice").uid
    engine.fund(uid, "USDT", D("100"))
    before = counts(engine.store)
    with pytest.raises(Exception):
        engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("1"), D("90000"))
    assert counts(engine.store) == before
    assert engine.balance(uid, "USDT").available == D("100")


def test_a_file_store_rolls_back_too(tmp_path):
    store = open_store(str(tmp_path / "tx.db"))
    with pytest.raises(RuntimeError):
        with store.transaction() as uow:
            uow.insert_user(User(uid="1000000002", venue="bitget", name="lost", created_ms=2))
            raise RuntimeError("boom")
    store.close()
    store = open_store(str(tmp_path / "tx.db"))
    assert counts(store)["users"] == 0
    store.close()


# migrations --------------------------------------------------------------------------------
def _schema_diff(store) -> list:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_migrations_match_the_schema_in_memory():
    assert _schema_diff(open_store(":memory:")) == []


def test_migrations_match_the_schema_on_file(tmp_path):
    store = open_store(str(tmp_path / "m.db"))
    try:
        assert _schema_diff(store) == []
    finally:
        store.close()


def test_migrations_reach_head():
    from alembic.script import ScriptDirectory

    from localex.store.migrate import alembic_config

    store = open_store(":memory:")
    head = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
    assert head == "0011"  # 0008: the event outbox; 0009: futures TP/SL; 0010: position tiers;
    # 0011: the outbox's head row dropped
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
        tables = set(conn.dialect.get_table_names(conn))
    assert tables == set(metadata.tables) | {"alembic_version"}


# persistence -------------------------------------------------------------------------------
def test_a_file_store_keeps_everything_across_reopen(tmp_path):
    path = str(tmp_path / "x.db")
    clock = ManualClock()
    engine = Engine(open_store(path), clock=clock, seed=3)
    saved = populate(engine)
    engine.store.close()

    for _ in range(2):  # reopening migrates again, which must change nothing
        engine = Engine(open_store(path), clock=clock, seed=3)
        user = saved["user"]
        assert engine.get_user(user.uid) == user and engine.get_user(user.uid).fee_deduction
        assert engine.find_user("bitget", "alice") == user
        assert engine.get_api_key(saved["key"].key) == saved["key"]
        ro = engine.get_api_key(saved["ro"].key)
        assert ro == saved["ro"]
        assert ro.permissions == frozenset({Permission.READ}) and ro.ip_whitelist == ("10.0.0.1", "::1")
        assert ro.kind == KeyKind.HMAC
        assert engine.balances(user.uid) == saved["balances"]
        assert engine.balance(user.uid, "USDT").frozen == D("900.005")
        assert engine.spot_order(user.uid, order_id=saved["resting"].order_id) == saved["resting"]
        assert engine.spot_order(user.uid, client_oid="rest-1").status == OrderStatus.LIVE
        filled = engine.spot_order(user.uid, order_id=saved["filled"].order_id)
        assert filled == saved["filled"] and filled.status == OrderStatus.FILLED
        assert engine.spot_fills(user.uid) == saved["fills"]
        assert engine.marks() == saved["marks"]
        assert len(engine.instruments("bitget")) == len(BITGET_SPOT) + len(BITGET_FUTURES)
        with engine.store.engine.connect() as conn:
            assert conn.execute(text("select version_num from alembic_version")).scalars().all() == [head_revision()]
        engine.store.close()

    # ids keep increasing after a reopen, whatever the random source says
    engine = Engine(open_store(path), clock=clock, seed=3)
    later = engine.place_spot_order(saved["user"].uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"),
                                    D("90000"))
    assert later.order_id > max(saved["resting"].order_id, saved["filled"].order_id,
                                *(f.trade_id for f in saved["fills"]))
    # and a resting order still fills after the reopen
    fills = engine.set_mark("bitget", "spot", "BTCUSDT", D("89000"))
    assert {f.order_id for f in fills} == {saved["resting"].order_id, later.order_id}
    engine.store.close()


def test_money_round_trips_exactly(tmp_path):
    path = str(tmp_path / "money.db")
    engine = Engine(open_store(path), clock=ManualClock(), seed=1)
    uid = engine.create_user("bitget", name="m").uid
    amount = D("12345678901234.123456789012")
    engine.fund(uid, "X", amount)
    engine.store.close()
    engine = Engine(open_store(path), clock=ManualClock(), seed=1)
    assert engine.balance(uid, "X").available == amount
    engine.store.close()


# reset -------------------------------------------------------------------------------------
@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_reset_empties_every_table():
    engine = Engine(new_store(), clock=ManualClock(), seed=1)
    populate(engine)
    populate_copy_trading(engine)
    populate_market_settings(engine)
    populate_spot_trading(engine)
    engine.flush_tape()  # the market tape's newest minutes are kept in memory until flushed
    before = counts(engine.store)
    assert all(n > 0 for n in before.values()), before
    engine.reset()
    assert counts(engine.store) == {name: 0 for name in metadata.tables}
    with engine.store.engine.connect() as conn:  # the schema stays migrated
        assert MigrationContext.configure(conn).get_current_revision() == head_revision()
    populate(engine)  # and usable
    assert counts(engine.store)["spot_orders"] == before["spot_orders"]


def test_a_0001_store_with_data_upgrades_to_head(tmp_path):
    """A database written before futures existed keeps its rows; spot instruments get the
    contract columns' defaults."""
    from sqlalchemy import create_engine, text

    from localex.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = create_engine(url)
    upgrade(old, "0001")
    with old.begin() as conn:
        conn.execute(text(
            "INSERT INTO instruments (venue, market, symbol, base, quote, price_scale, size_scale, "
            "quote_scale, min_size, max_size, min_notional, maker_fee, taker_fee, status) VALUES "
            "('bitget', 'spot', 'BTCUSDT', 'BTC', 'USDT', 2, 6, 6, '0', '100', '1', '0.001', '0.001', 'online')"))
    old.dispose()
    store = open_store(str(tmp_path / "old.db"))
    try:
        with store.transaction() as uow:
            inst = uow.get_instrument("bitget", "spot", "BTCUSDT")
        assert (inst.kind, inst.settle, inst.contract_size, inst.inverse) == ("spot", "", 1, False)
        assert _schema_diff(store) == []
    finally:
        store.close()


# the unit of work's buffer and the caches ---------------------------------------------------
@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_a_savepoint_that_fails_undoes_only_its_own_writes():
    store = new_store()
    with store.transaction() as uow:
        uow.insert_user(User(uid="1000000001", venue="bitget", name="kept", created_ms=1))
        uow.put_balance(Balance(uid="1000000001", account="spot", asset="USDT", available=D(1)))
        first = uow.next_sequence("bitget.id", 10)
        with pytest.raises(RuntimeError):
            with uow.savepoint():
                uow.put_balance(Balance(uid="1000000001", account="spot", asset="USDT", available=D(2)))
                uow.insert_user(User(uid="1000000002", venue="bitget", name="lost", created_ms=2))
                uow.next_sequence("bitget.id", 10)
                assert len(uow.list_users()) == 2  # a query flushes inside the savepoint
                raise RuntimeError("boom")
        assert uow.get_balance("1000000001", "spot", "USDT").available == D(1)
        assert uow.get_user("1000000002") is None
        assert [u.uid for u in uow.list_users()] == ["1000000001"]
        assert uow.next_sequence("bitget.id", 0) == first + 1
    with store.transaction() as uow:
        assert uow.get_balance("1000000001", "spot", "USDT").available == D(1)
        assert counts(store)["users"] == 1
        assert uow.next_sequence("bitget.id", 0) == first + 2


def test_repeated_writes_to_one_row_reach_the_database_once(store_backend):  # SQLite and PostgreSQL
    store = new_store()
    with store.transaction() as uow:
        uow.insert_user(User(uid="1000000001", venue="bitget", name="a", created_ms=1))
        uow.next_sequence("bitget.id", 0)
    before = store.statements
    with store.transaction() as uow:
        for i in range(100):
            uow.put_balance(Balance(uid="1000000001", account="spot", asset="USDT", available=D(i)))
            uow.next_sequence("bitget.id", 0)
        assert uow.get_balance("1000000001", "spot", "USDT").available == D(99)
    # BEGIN, one balance upsert, one sequence upsert, COMMIT; on PostgreSQL the world lock in
    # place of BEGIN, and the sequence read once (another process may have moved it: no cache)
    assert store.statements - before == (4 if store_backend == "sqlite" else 5)
    with store.transaction(read_only=True) as uow:
        assert uow.list_balances("1000000001")[0].available == D(99)


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_a_single_read_is_a_read_only_unit_of_work():
    store = new_store()
    with store.transaction() as uow:
        uow.insert_user(User(uid="1000000001", venue="bitget", name="a", created_ms=1))
    assert store.read(lambda uow, uid: uow.get_user(uid).name, "1000000001") == "a"
    assert store.read(lambda uow: uow.read_only) is True
    assert not store.active  # closed after it
    with store.transaction() as outer:  # inside a unit of work it joins that one
        outer.update_user(User(uid="1000000001", venue="bitget", name="b", created_ms=1))
        assert store.read(lambda uow: (uow is outer, uow.get_user("1000000001").name)) == (True, "b")
    with pytest.raises(RuntimeError):
        store.read(lambda uow: 1 / 0 if uow.get_user("1000000001") is None else _boom())
    assert not store.active  # a failure closes it too, and the next one reads on
    assert store.read(lambda uow: uow.get_user("1000000001").name) == "b"
    assert store.read(lambda uow: uow.get_spot_order("1000000001", "not a number")) is None
    store.close()


def _boom():
    raise RuntimeError("boom")


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_cached_rows_follow_commits_and_ignore_rollbacks():
    store = new_store()
    with store.transaction() as uow:
        uow.insert_user(User(uid="1000000001", venue="bitget", name="a", created_ms=1))
    with store.transaction(read_only=True) as uow:
        assert uow.get_user("1000000001").name == "a"  # now cached
    with pytest.raises(RuntimeError):
        with store.transaction() as uow:
            uow.update_user(User(uid="1000000001", venue="bitget", name="b", created_ms=1))
            assert uow.get_user("1000000001").name == "b"
            raise RuntimeError("boom")
    with store.transaction(read_only=True) as uow:
        assert uow.get_user("1000000001").name == "a"
    with store.transaction() as uow:
        uow.update_user(User(uid="1000000001", venue="bitget", name="c", created_ms=1))
    with store.transaction(read_only=True) as uow:
        assert uow.get_user("1000000001").name == "c"
    with store.transaction() as uow:  # SQL outside the buffer drops the caches
        uow.conn.execute(text("update users set name = 'd'"))
    with store.transaction(read_only=True) as uow:
        assert uow.get_user("1000000001").name == "d"
    store.close()


def _plan(order_id: int, status) -> "SpotPlanOrder":
    return SpotPlanOrder(order_id=order_id, uid="1000000001", venue="bitget", symbol="BTCUSDT",
                         client_oid=str(order_id), kind=PlanKind.PLAN, side=Side.BUY,
                         order_type=OrderType.MARKET, execute_price=None, trigger_price=D("90000"),
                         trigger_above=False, trigger_type="fill_price", size=D("1"), size_in_quote=True,
                         force=TimeInForce.GTC, status=status, sub_order_id=None, parent_id=None,
                         stp_mode="none", enter_point="API", created_ms=1, updated_ms=1)


def test_a_remembered_answer_lasts_until_a_write_to_its_table_commits():
    store = open_store(":memory:")
    with store.transaction() as uow:
        uow.insert_user(User(uid="1000000001", venue="bitget", name="a", created_ms=1))
    with store.transaction(read_only=True) as uow:
        assert uow.live_spot_plans("bitget", "BTCUSDT") == []
    before = store.statements
    with store.transaction(read_only=True) as uow:
        assert uow.live_spot_plans("bitget", "BTCUSDT") == []  # asked again: no statement
    assert store.statements == before
    with store.transaction() as uow:  # the unit that writes the table sees its own write
        uow.insert_spot_plan(_plan(1, PlanStatus.LIVE))
        assert [p.order_id for p in uow.live_spot_plans("bitget", "BTCUSDT")] == [1]
    with store.transaction(read_only=True) as uow:  # and every unit after its commit
        assert [p.order_id for p in uow.live_spot_plans("bitget", "BTCUSDT")] == [1]
    with pytest.raises(RuntimeError):
        with store.transaction() as uow:
            uow.update_spot_plan(_plan(1, PlanStatus.CANCELLED))
            assert uow.live_spot_plans("bitget", "BTCUSDT") == []
            raise RuntimeError("boom")
    with store.transaction(read_only=True) as uow:  # a rollback changed nothing
        assert [p.order_id for p in uow.live_spot_plans("bitget", "BTCUSDT")] == [1]
    with store.transaction() as uow:
        uow.update_spot_plan(_plan(1, PlanStatus.CANCELLED))
    with store.transaction(read_only=True) as uow:
        assert uow.live_spot_plans("bitget", "BTCUSDT") == []
    with store.transaction() as uow:  # SQL outside the buffer forgets the answers too
        uow.conn.execute(text("update spot_plan_orders set status = 'live'"))
    with store.transaction(read_only=True) as uow:
        assert [p.order_id for p in uow.live_spot_plans("bitget", "BTCUSDT")] == [1]
    store.close()


def test_the_open_spot_orders_kept_per_instrument_are_the_database_s():
    """resting_spot_orders answers a unit that has not written spot_orders from the open orders
    the store keeps per instrument (no statement); they follow every commit (placed, filled,
    cancelled, an order ids out of order, a batch with a refused order undone by its savepoint)
    and nothing of a unit that rolled back or of SQL written by hand."""
    engine = Engine(open_store(":memory:"), clock=ManualClock(1_767_225_600_000), seed=2)
    install_market(engine)
    store = engine.store
    uid = engine.create_user("bitget", name="a").uid
    other = engine.create_user("bitget", name="b").uid
    for who in (uid, other):
        engine.fund(who, "USDT", D("1000000"))
        engine.fund(who, "BTC", D("10"))

    def check(expect_kept: bool = True) -> None:
        for who in (None, uid, other):
            before = store.statements
            with store.transaction(read_only=True) as uow:
                kept = uow.resting_spot_orders("bitget", "BTCUSDT", uid=who)
            if expect_kept:
                assert store.statements == before  # answered from what the store keeps
            saved, store._resting = store._resting, {}
            with store.transaction(read_only=True) as uow:
                fresh = uow.resting_spot_orders("bitget", "BTCUSDT", uid=who)
            store._resting = saved
            assert kept == fresh
            assert [o.order_id for o in kept] == sorted(o.order_id for o in kept)

    engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("90000"))
    check(expect_kept=False)  # read once
    check()
    engine.place_spot_order(other, "BTCUSDT", Side.SELL, OrderType.LIMIT, D("0.01"), D("99000"))
    engine.place_spot_order(uid, "ETHUSDT", Side.BUY, OrderType.LIMIT, D("0.1"), D("1000"))
    low = engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("80000"))
    check()
    engine.set_mark("bitget", "spot", "BTCUSDT", D("89000"))  # fills the buy at 90,000
    check()
    engine.cancel_spot_order(uid, order_id=low.order_id)
    check()
    with pytest.raises(RuntimeError):
        with engine.tx():
            engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("85000"))
            raise RuntimeError("boom")
    check()
    engine.place_spot_orders(uid, [
        SpotOrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("86000")),
        SpotOrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, D("100000"), D("86000")),  # refused
        SpotOrderRequest("BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("87000"))])
    check(expect_kept=False)  # the undone savepoint: read again
    check()
    with store.transaction() as uow:  # an order whose id is below those kept
        order = uow.resting_spot_orders("bitget", "BTCUSDT")[-1]
        order.order_id, order.client_oid = 5, "five"
        uow.insert_spot_order(order)
    check()
    with store.transaction() as uow:  # SQL outside the buffer: read again
        uow.conn.execute(text("update spot_orders set status = 'cancelled' where order_id = 5"))
    check(expect_kept=False)
    check()
    store.close()


def test_a_spot_order_read_by_id_is_the_database_s():
    """A spot order read by id (orderInfo) is answered from the open orders the store keeps when
    one of them is it, by a statement otherwise; either way it is the row the database holds
    after every commit (placed, filled, cancelled, rolled back, SQL written by hand), and a unit
    that wrote spot orders reads its own."""
    engine = Engine(open_store(":memory:"), clock=ManualClock(1_767_225_600_000), seed=3)
    install_market(engine)
    store = engine.store
    uid = engine.create_user("bitget", name="a").uid
    engine.fund(uid, "USDT", D("1000000"))
    ids = []

    def check() -> None:
        for order_id in ids:
            kept = engine.spot_order(uid, order_id)
            saved, store._resting = store._resting, {}
            try:
                assert engine.spot_order(uid, order_id) == kept
            finally:
                store._resting = saved
            assert engine.spot_order("someone else", order_id) is None

    def place(price: str) -> int:
        ids.append(engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"),
                                           D(price)).order_id)
        return ids[-1]

    first, low = place("90000"), place("80000")
    with store.transaction(read_only=True) as uow:
        uow.resting_spot_orders("bitget", "BTCUSDT")  # the instrument's open orders now kept
    before = store.statements
    assert engine.spot_order(uid, first).status is OrderStatus.LIVE
    assert store.statements == before  # no statement for an open order
    check()
    engine.set_mark("bitget", "spot", "BTCUSDT", D("89000"))  # fills the buy at 90,000
    assert engine.spot_order(uid, first).status is OrderStatus.FILLED
    check()
    engine.cancel_spot_order(uid, order_id=low)
    assert engine.spot_order(uid, low).status is OrderStatus.CANCELLED
    check()
    kept = place("85000")
    with pytest.raises(RuntimeError):
        with engine.tx() as uow:
            engine.cancel_spot_order(uid, order_id=kept)
            assert engine.spot_order(uid, kept).status is OrderStatus.CANCELLED  # its own write
            raise RuntimeError("boom")
    assert engine.spot_order(uid, kept).status is OrderStatus.LIVE
    check()
    with store.transaction() as uow:  # SQL outside the buffer
        uow.conn.execute(text(f"update spot_orders set status = 'cancelled' where order_id = {kept}"))
    assert engine.spot_order(uid, kept).status is OrderStatus.CANCELLED
    check()
    store.close()


def test_open_orders_are_found_without_walking_finished_ones():
    """The open-order reads go through the (owner, status) indexes, whatever the history."""
    store = open_store(":memory:")
    plans = []
    for table, statuses in (("futures_orders", 3), ("spot_orders", 2)):
        marks = ", ".join("?" * statuses)
        plans.append(" ".join(r[-1] for r in store._dbapi.execute(
            f"EXPLAIN QUERY PLAN SELECT * FROM {table} WHERE uid = ? AND status IN ({marks})",
            ["u"] + ["s"] * statuses)))
    assert "ix_futures_orders_open (uid=? AND status=?)" in plans[0]
    assert "ix_spot_orders_open (uid=? AND status=?)" in plans[1]
    plan = " ".join(r[-1] for r in store._dbapi.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM futures_fills WHERE uid = ? AND position_id = ?", ["u", 1]))
    assert "ix_futures_fills_position" in plan


def test_the_head_revision_is_read_from_the_migration_files():
    from alembic.script import ScriptDirectory

    from localex.store.migrate import alembic_config, head_revision

    store = open_store(":memory:")
    assert head_revision() == ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()


def test_a_new_memory_store_is_the_schema_the_migrations_build(tmp_path):
    """A new in-memory store is built from the metadata; a file store through every migration:
    the two schemas are the same, table by table, column by column, index by index."""
    from sqlalchemy import inspect

    def shape(store):
        with store.engine.connect() as conn:
            insp = inspect(conn)
            return {t: ([(c["name"], str(c["type"]), c["nullable"], c["primary_key"])
                         for c in insp.get_columns(t)],
                        sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes(t)),
                        sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)))
                    for t in insp.get_table_names()}

    memory, migrated = open_store(":memory:"), open_store(str(tmp_path / "m.db"))
    try:
        assert shape(memory) == shape(migrated)
    finally:
        migrated.close()


def test_a_commit_by_another_connection_to_the_file_drops_the_caches(tmp_path):
    # two stores on one file stand for two worker processes: neither may serve the other's
    # overwritten rows or sequences from its cache
    url = str(tmp_path / "shared.db")
    a, b = open_store(url), open_store(url)
    with a.transaction() as uow:
        uow.insert_user(User(uid="1000000001", venue="bitget", name="a", created_ms=1))
        uow.put_balance(Balance(uid="1000000001", account="spot", asset="USDT", available=D(1)))
        first = uow.next_sequence("bitget.id", 0)
    with a.transaction(read_only=True) as uow:  # a now holds the balance and sequence cached
        assert uow.get_balance("1000000001", "spot", "USDT").available == D(1)
    with b.transaction() as uow:
        uow.put_balance(Balance(uid="1000000001", account="spot", asset="USDT", available=D(7)))
        assert uow.next_sequence("bitget.id", 0) == first + 1
    changes = a.changes
    with a.transaction(read_only=True) as uow:
        assert uow.get_balance("1000000001", "spot", "USDT").available == D(7)
    assert a.changes == changes + 1  # a price move looks at the triggers again
    with a.transaction() as uow:
        assert uow.next_sequence("bitget.id", 0) == first + 2
    # its own commits do not make it forget what it knows: the cached balance costs no query
    # beyond the version check
    before = a.statements
    with a.transaction(read_only=True) as uow:
        assert uow.get_balance("1000000001", "spot", "USDT").available == D(7)
    assert a.statements - before == 1
    assert a.changes == changes + 1
    a.close()
    b.close()


@pytest.mark.usefixtures("store_backend")  # SQLite and PostgreSQL
def test_a_row_handed_over_is_held_as_it_is_and_a_shared_read_is_not_a_copy():
    store = new_store()
    with store.transaction() as uow:
        uow.insert_user(User(uid="1000000001", venue="bitget", name="a", created_ms=1))
        given = Balance(uid="1000000001", account="spot", asset="USDT", available=D(5))
        uow.put_balance(given, given=True)
        assert uow.get_balance("1000000001", "spot", "USDT", shared=True) is given
        own = uow.get_balance("1000000001", "spot", "USDT")  # the caller's own: a copy
        assert own == given and own is not given
        own.available = D(7)  # changing it changes nothing buffered until it is written
        assert uow.get_balance("1000000001", "spot", "USDT").available == D(5)
        kept = Balance(uid="1000000001", account="spot", asset="BTC", available=D(1))
        uow.put_balance(kept)  # not handed over: the buffer holds a copy
        kept.available = D(2)
        assert uow.get_balance("1000000001", "spot", "BTC", shared=True).available == D(1)
        uow.put_balance(own, given=True)
    with store.transaction(read_only=True) as uow:
        assert {b.asset: b.available for b in uow.list_balances("1000000001")} == {"USDT": D(7), "BTC": D(1)}
    store.close()
