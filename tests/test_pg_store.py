"""The PostgreSQL store: URLs, the migrated schema, the world lock, retries the database asks
for, ids across stores. Needs a server (tests/stores.py: skipped locally without one, failed on
CI)."""

from __future__ import annotations

import threading
import time
from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.events import EventKind
from localex.engine.model import OrderType, Side
from localex.store import open_store
from localex.store.sql import WORLD_LOCK_KEY, engine_url, retryable
from stores import pg_store, require_pg


@pytest.fixture
def url():
    return require_pg()


def test_a_plain_postgresql_url_goes_through_psycopg(url):
    assert engine_url("postgresql://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert engine_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert engine_url("sqlite:///x.db") == "sqlite:///x.db"
    store = pg_store()
    assert (store.dialect.name, store.dialect.driver) == ("postgresql", "psycopg")
    assert store.shared and not store.sole_writer and store.changes is None


def test_migrations_build_the_schema_on_postgresql(url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from localex.store.schema import metadata

    store = pg_store()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def _plain(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def test_a_writer_holds_the_world_lock_until_it_commits_and_a_reader_takes_none(url):
    import psycopg

    store = pg_store()
    engine = Engine(store, clock=ManualClock(), seed=1)
    install_market(engine)
    uid = engine.create_user("bitget", name="alice").uid
    with psycopg.connect(_plain(url), autocommit=True) as other:
        def lock_free() -> bool:
            got = other.execute(f"SELECT pg_try_advisory_xact_lock({WORLD_LOCK_KEY})").fetchone()[0]
            return got  # autocommit: a transaction of its own, released at once

        with store.transaction() as uow:
            uow.get_user(uid)
            uow.put_sequence("probe", 1)
            uow.flush()
            assert not lock_free()  # another process's writer would wait here
        assert lock_free()
        with store.transaction(read_only=True) as uow:
            uow.get_user(uid)
            assert lock_free()  # readers never queue behind writers


def _backend_waits_on_a_lock(conn, pid: int) -> bool:
    row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
    return row is not None and row[0] == "Lock"


def test_a_deadlock_the_database_breaks_is_run_again_once_and_applied_once(url):
    """Two connections made to deadlock: another session holds alice's balance row and then asks
    for the world lock while the engine's writer, holding the world lock, waits for that row.
    PostgreSQL aborts the engine's transaction (40P01, its shorter deadlock_timeout finds the
    cycle); the engine rolls back and runs the call again, which then succeeds: the deposit is
    there exactly once."""
    import psycopg

    pg_store()  # empties the database
    store = open_store(url + "?options=-c%20deadlock_timeout%3D300ms")
    try:
        engine = Engine(store, clock=ManualClock(), seed=1)
        install_market(engine)
        uid = engine.create_user("bitget", name="alice").uid
        engine.fund(uid, "USDT", D("100"))
        with psycopg.connect(_plain(url)) as other:
            other.execute("SET deadlock_timeout = '60s'")  # the engine's side finds the cycle
            other.execute("SELECT 1 FROM balances WHERE uid = %s FOR UPDATE", (uid,))
            outcome: list = []
            worker = threading.Thread(target=lambda: outcome.append(engine.fund(uid, "USDT", D("5"))))
            worker.start()
            pid = store._dbapi.info.backend_pid
            deadline = time.monotonic() + 20
            with psycopg.connect(_plain(url), autocommit=True) as watcher:
                while not _backend_waits_on_a_lock(watcher, pid):
                    assert time.monotonic() < deadline, "the engine's writer never waited for the row"
                    time.sleep(0.005)
            other.execute(f"SELECT pg_advisory_xact_lock({WORLD_LOCK_KEY})")  # the cycle closes
            other.rollback()  # the engine's first attempt is gone by now; let the second through
            worker.join(30)
        assert not worker.is_alive() and len(outcome) == 1
        assert store.retries == 1
        assert engine.balance(uid, "USDT").available == D("105")
    finally:
        store.close()


def test_a_serialization_failure_is_recognised_as_retryable(url):
    """A real 40001 (two REPEATABLE READ transactions updating one row) is what the store turns
    into RetryTransaction."""
    import psycopg

    pg_store()
    with psycopg.connect(_plain(url), autocommit=True) as setup:
        setup.execute("INSERT INTO sequences (name, value) VALUES ('race', 0)")
    a = psycopg.connect(_plain(url))
    b = psycopg.connect(_plain(url))
    try:
        for conn in (a, b):
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.execute("SELECT value FROM sequences WHERE name = 'race'")
        a.execute("UPDATE sequences SET value = 1 WHERE name = 'race'")
        a.commit()
        with pytest.raises(psycopg.Error) as caught:
            b.execute("UPDATE sequences SET value = 2 WHERE name = 'race'")
        assert caught.value.sqlstate == "40001" and retryable(caught.value)
        assert not retryable(ValueError("not the database"))
    finally:
        a.close()
        b.close()


def test_ids_from_two_stores_writing_at_once_are_unique_and_increase_in_commit_order(url):
    """Two engines (two connections, each its own random stream, as two workers) place orders
    at once: every id is distinct, each engine's ids increase, and the outbox (numbered in
    commit order) lists the orders by increasing id."""
    first = Engine(pg_store(), clock=ManualClock(), seed=1)
    install_market(first)
    second = Engine(pg_store(reset=False), clock=first.clock, seed=1, stream=1)
    uids = [first.create_user("bitget", name=f"t{i}").uid for i in range(2)]
    for uid in uids:
        first.fund(uid, "USDT", D("100000"))
    placed: dict[int, list[int]] = {0: [], 1: []}

    def place(i, engine):
        for _ in range(40):
            order = engine.place_spot_order(uids[i], "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"),
                                            D("90000"))
            placed[i].append(order.order_id)

    threads = [threading.Thread(target=place, args=(i, e)) for i, e in enumerate((first, second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = placed[0] + placed[1]
    assert len(everything) == 80 and len(set(everything)) == 80
    for ids in placed.values():
        assert ids == sorted(ids)
    in_commit_order = []
    for event in first.events_since(0, limit=10_000):
        if event.kind == EventKind.SPOT_ORDER and event.created:
            in_commit_order.append(event.obj.order_id)
    assert sorted(in_commit_order) == sorted(everything)
    assert in_commit_order == sorted(in_commit_order)


def test_a_snapshot_taken_on_postgresql_restores_the_same_world(url):
    """Snapshots read and replace the store through SQLAlchemy (uow.conn), out of psycopg's
    pipeline mode: taken, the world changed, restored, taken again — the same bytes."""
    import json

    engine = Engine(pg_store(), clock=ManualClock(), seed=4)
    install_market(engine)
    uid = engine.create_user("bitget", name="alice").uid
    engine.fund(uid, "USDT", D("1000"))
    engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"), D("90000"))
    taken = engine.snapshot()
    engine.fund(uid, "USDT", D("5"))
    engine.create_user("bitget", name="bob")
    engine.restore(json.loads(json.dumps(taken)))
    assert json.dumps(engine.snapshot(), sort_keys=True) == json.dumps(taken, sort_keys=True)
    assert [u.name for u in engine.list_users()] == ["alice"]
    assert engine.balance(uid, "USDT").available == D("1000") - D("0.001") * D("90000")


def test_keys_are_kept_between_units_of_work_only_when_the_engine_hears_of_changes(url):
    """On a store several processes write, a key another process deleted is gone at the next
    look-up; an engine told of changes (Engine.invalidated: a cluster calls forget_cached
    before each request) keeps keys until forget_cached."""
    import psycopg

    engine = Engine(pg_store(), clock=ManualClock(), seed=4)
    install_market(engine)
    uid = engine.create_user("bitget", name="alice").uid

    def revoke_elsewhere(key: str) -> None:
        with psycopg.connect(_plain(url), autocommit=True) as other:
            other.execute("DELETE FROM api_keys WHERE key = %s", (key,))

    first = engine.create_api_key(uid)
    assert engine.get_api_key(first.key) is not None
    revoke_elsewhere(first.key)
    assert engine.get_api_key(first.key) is None  # nothing was kept
    engine.invalidated = True
    second = engine.create_api_key(uid)
    assert engine.get_api_key(second.key) is not None
    revoke_elsewhere(second.key)
    assert engine.get_api_key(second.key) is not None  # kept: nobody said it changed
    engine.forget_cached()
    assert engine.get_api_key(second.key) is None


def test_a_connection_the_server_dropped_is_opened_again_for_the_next_call(url):
    """The server ends the store's session (as a restart or an administrator would): the call
    that meets it fails, the next one opens a new connection and works; nothing was half done."""
    import psycopg

    store = pg_store()
    engine = Engine(store, clock=ManualClock(), seed=4)
    install_market(engine)
    uid = engine.create_user("bitget", name="alice").uid
    engine.fund(uid, "USDT", D("10"))
    with psycopg.connect(_plain(url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (store._dbapi.info.backend_pid,))
    with pytest.raises(psycopg.OperationalError):
        engine.fund(uid, "USDT", D("5"))
    engine.fund(uid, "USDT", D("1"))
    assert store.reconnects == 1
    assert engine.balance(uid, "USDT").available == D("11")


def test_a_large_unit_of_work_reads_its_own_answers_after_a_big_flush(url):
    """A unit whose buffered writes are large (1,000 balances and their bills) and that reads
    after flushing them (the outbox head, to number its events) gets its read's own rows, every
    time: with psycopg's pipeline mode and one cursor reused, results of the flush arriving
    while the read was being sent were now and then taken for the read's ("the last operation
    didn't produce records"), so the store keeps the pipeline off."""
    store = pg_store()
    engine = Engine(store, clock=ManualClock(), seed=4)
    install_market(engine)
    with engine.tx():
        uids = [engine.create_user("bitget", name=f"user-{i}-" + "x" * 40).uid for i in range(1000)]
    for _ in range(20):
        with engine.tx():
            for uid in uids:
                engine.fund(uid, "USDT", D("1000.123456"))
    assert {engine.balance(uid, "USDT").available for uid in uids} == {D("20002.46912")}
