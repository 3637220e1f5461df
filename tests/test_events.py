"""Engine events: one per committed change, numbered in commit order, written to the outbox in
the same transaction, heard after the commit, never for work that rolled back."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.errors import InsufficientBalance
from localex.engine.events import EventKind
from localex.engine.model import OrderStatus, OrderType, PositionSide, Side, TradeSide
from stores import another_store, new_store

# every test here runs on each store (SQLite, and PostgreSQL when a server is named)
pytestmark = pytest.mark.usefixtures("store_backend")


@pytest.fixture
def world():
    engine = Engine(new_store(), clock=ManualClock(1_700_000_000_000), seed=5)
    heard = []
    engine.events.subscribe(heard.extend)
    install_market(engine)
    return engine, heard


def kinds(events):
    return [e.kind for e in events]


def test_a_filled_market_order_is_heard_once_per_change_in_order(world):
    engine, heard = world
    uid = engine.create_user("bitget", name="a").uid
    engine.fund(uid, "USDT", D("1000"))
    heard.clear()
    order = engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.MARKET, D("100"))
    assert order.status is OrderStatus.FILLED
    orders = [e for e in heard if e.kind is EventKind.SPOT_ORDER]
    assert [e.obj.status for e in orders][-1] is OrderStatus.FILLED
    assert orders[0].created and orders[0].obj.order_id == order.order_id
    assert len({(e.obj.status, e.obj.filled_size) for e in orders}) == len(orders)  # no repeats
    fills = [e for e in heard if e.kind is EventKind.SPOT_FILL]
    assert len(fills) == 1 and fills[0].obj.order_id == order.order_id
    balances = [(e.obj.asset, e.obj.available) for e in heard if e.kind is EventKind.BALANCE]
    # one event per balance, in its final state
    assert sorted(balances) == sorted((b.asset, b.available) for b in engine.balances(uid))
    seqs = [e.seq for e in heard]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert all(e.uid == uid for e in heard)


def test_the_outbox_holds_exactly_what_was_heard(world):
    engine, heard = world
    uid = engine.create_user("bitget", name="a").uid
    engine.fund(uid, "USDT", D("100000"), account="usdt-futures")
    engine.place_futures_order(uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                               trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.01"))
    engine.set_mark("bitget", "usdt-futures", "BTCUSDT", D("91000"))
    stored = engine.events_since(0)
    assert [(e.seq, e.kind, e.uid, e.obj) for e in stored] == [(e.seq, e.kind, e.uid, e.obj) for e in heard]
    assert {EventKind.FUTURES_ORDER, EventKind.FUTURES_FILL, EventKind.POSITION, EventKind.BALANCE,
            EventKind.MARK} <= set(kinds(heard))
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    assert engine.events_since(stored[-2].seq) == stored[-1:]
    mark = [e for e in heard if e.kind is EventKind.MARK][-1]
    assert mark.uid is None and mark.obj.price == D("91000")


def test_work_that_rolls_back_is_never_heard_nor_stored(world):
    engine, heard = world
    uid = engine.create_user("bitget", name="a").uid
    engine.fund(uid, "USDT", D("10"))
    before_heard, before_stored = len(heard), len(engine.events_since(0))
    with pytest.raises(InsufficientBalance):
        engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("1"), D("90000"))
    assert len(heard) == before_heard and len(engine.events_since(0)) == before_stored
    balance = engine.balance(uid, "USDT")
    with pytest.raises(RuntimeError):
        with engine.tx() as uow:
            uow.put_balance(balance)
            raise RuntimeError("abandon")
    assert len(heard) == before_heard and len(engine.events_since(0)) == before_stored


def test_a_failing_subscriber_changes_nothing(world):
    engine, heard = world

    def broken(events):
        raise ValueError("subscriber bug")

    engine.events.subscribe(broken)
    uid = engine.create_user("bitget", name="a").uid
    engine.fund(uid, "USDT", D("10"))
    assert engine.balance(uid, "USDT").available == D("10")
    assert heard[-1].kind is EventKind.BALANCE


def test_writers_on_two_threads_are_heard_in_sequence_order(world):
    engine, heard = world
    uids = [engine.create_user("bitget", name=f"u{i}").uid for i in range(2)]
    heard.clear()

    def work(uid):
        for _ in range(50):
            engine.fund(uid, "USDT", D("1"))

    threads = [threading.Thread(target=work, args=(uid,)) for uid in uids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    seqs = [e.seq for e in heard]
    assert len(seqs) == 100 and seqs == sorted(seqs) and len(set(seqs)) == 100


def test_a_reset_world_numbers_afresh(world):
    engine, heard = world
    uid = engine.create_user("bitget", name="a").uid
    engine.fund(uid, "USDT", D("1"))
    engine.reset()
    assert engine.events_since(0) == []
    install_market(engine)
    assert engine.events_since(0)[0].seq == 1


def test_the_outbox_keeps_its_newest_events_and_numbers_on_across_a_trim(tmp_path, monkeypatch):
    """Past KEEP events the oldest are deleted (every TRIM_EVERY numbers); the numbering goes on
    from the highest kept, here and in a second store on the same database (another worker),
    and back here after that one wrote."""
    from localex.store import outbox

    monkeypatch.setattr(outbox, "KEEP", 30)
    monkeypatch.setattr(outbox, "TRIM_EVERY", 10)
    path = str(tmp_path / "events.db")
    engine = Engine(new_store(path), clock=ManualClock(1_700_000_000_000), seed=5)
    heard = []
    engine.events.subscribe(heard.extend)
    uid = engine.create_user("bitget", name="a").uid
    for _ in range(60):
        engine.fund(uid, "USDT", D("1"))
    last = heard[-1].seq
    assert [e.seq for e in heard] == list(range(1, last + 1)) and last >= 60
    stored = engine.events_since(0)
    assert stored[-1].seq == last and 30 <= len(stored) < 30 + 10
    assert [e.seq for e in stored] == list(range(stored[0].seq, last + 1))
    other = Engine(another_store(path), clock=engine.clock, seed=6)
    other.fund(uid, "USDT", D("1"))
    assert [e.seq for e in other.events_since(last)] == [last + 1]
    engine.fund(uid, "USDT", D("1"))
    assert heard[-1].seq == last + 2
    assert [e.seq for e in engine.events_since(last)] == [last + 1, last + 2]
    other.store.close()
    engine.store.close()
