"""Snapshot and restore of the whole state."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import OrderType, PositionMode, PositionSide, Side, TradeSide
from localex.store import open_store
from localex.store.snapshot import SnapshotError


def busy_engine(seed: int = 3) -> Engine:
    engine = Engine(open_store(":memory:"), clock=ManualClock(), seed=seed)
    install_market(engine)
    uid = engine.create_user("bitget", name="alice").uid
    engine.create_api_key(uid)
    engine.fund(uid, "USDT", D("10000.123456789"))
    engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("90000"))
    engine.fund(uid, "USDT", D("5000"), account="usdt-futures")
    engine.set_position_mode(uid, "usdt-futures", PositionMode.HEDGE)
    engine.place_futures_order(uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                               trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.01"))
    engine.place_spot_plan(uid, "BTCUSDT", Side.SELL, OrderType.MARKET, D("94000"), None, D("0.001"),
                           trigger_type="mark_price", client_oid="stop-1")
    engine.transfer(uid, "USDT", D("100"), "usdt-futures", "spot", client_oid="t-1")
    engine.clock.advance(12_345)
    return engine


def state(engine: Engine) -> str:
    snap = engine.snapshot()
    return json.dumps(snap, sort_keys=True)


def test_a_snapshot_survives_a_file_round_trip_exactly(tmp_path):
    engine = busy_engine()
    path = tmp_path / "state.json"
    path.write_text(json.dumps(engine.snapshot()))
    other = Engine(open_store(":memory:"), clock=ManualClock(0), seed=99)
    other.restore(json.loads(path.read_text()))
    assert state(other) == state(engine)
    assert other.now_ms() == engine.now_ms()
    uid = engine.find_user("bitget", "alice").uid
    assert (other.balance(uid, "USDT").available, other.balance(uid, "USDT").frozen) == (
        D("9200.123456789"), D("900"))
    # spot trigger orders, transfers and their bills come back too
    assert other.spot_plan(uid, client_oid="stop-1") == engine.spot_plan(uid, client_oid="stop-1")
    assert other.transfers(uid) == engine.transfers(uid) and len(other.transfers(uid)) == 1
    transfers = ["transfer_in", "transfer_out"]
    assert [b.kind for b in other.bills(uid, kinds=transfers)] == transfers
    assert other.bills(uid, limit=None) == engine.bills(uid, limit=None)  # trade bills and their fees
    # the contracts' position tiers come back with their instruments
    tiers = other.instrument("bitget", "usdt-futures", "BTCUSDT").tiers
    assert tiers == engine.instrument("bitget", "usdt-futures", "BTCUSDT").tiers and len(tiers) == 8
    assert (tiers[1].start, tiers[1].end, tiers[1].max_leverage, tiers[1].maintenance_rate) == (
        D("150000"), D("600000"), 100, D("0.005"))
    # the random source continues where it was: the next ids are the same in both
    a = engine.create_user("bitget", name="bob")
    b = other.create_user("bitget", name="bob")
    assert a.uid == b.uid


def test_restoring_replaces_everything_and_a_bad_snapshot_changes_nothing():
    engine = busy_engine()
    snap = engine.snapshot()
    engine.create_user("bitget", name="later")
    engine.restore(snap)
    assert engine.find_user("bitget", "later") is None
    before = state(engine)
    with pytest.raises(SnapshotError):
        engine.restore({**snap, "revision": "0000"})
    with pytest.raises(SnapshotError):
        engine.restore({"format": "something else"})
    broken = json.loads(json.dumps(snap))
    broken["tables"]["users"].append(dict(broken["tables"]["users"][0]))  # duplicate primary key
    with pytest.raises(Exception):
        engine.restore(broken)
    assert state(engine) == before
