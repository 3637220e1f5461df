"""Candles and 24-hour statistics read whole final hours folded (engine/tape.py, Tape._spans),
kept in memory once read. They must be exactly what reading minute by minute gives: the same
candles, value and representation, whatever the gaps, fills, replayed volumes, intervals and
time zones, and however reads, writes, restarts and clock jumps interleave."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import OrderType, Side
from localex.engine.tape import DAY_MS, HOUR_MS, MINUTE_MS, Interval
from localex.store import open_store

T0 = 1_767_225_600_000 + 7 * MINUTE_MS  # not on an hour
BTC = "bitget:spot:BTCUSDT"
HK = 8 * HOUR_MS
INTERVALS = [Interval("ms", MINUTE_MS), Interval("ms", 5 * MINUTE_MS), Interval("ms", HOUR_MS),
             Interval("ms", 4 * HOUR_MS), Interval("ms", 6 * HOUR_MS, HK), Interval("ms", DAY_MS, HK),
             Interval("ms", DAY_MS), Interval("week", 1, HK), Interval("month", 1)]

steps = st.lists(st.tuples(
    st.sampled_from(["price", "price", "price", "gap", "fill", "read", "restart", "set_back"]),
    st.integers(1, 400),  # minutes (a gap), or tens of seconds
    st.integers(-300, 300)), min_size=5, max_size=25)


def by_minutes(engine: Engine, call):
    """The same read with hour folding off: minute by minute, as before folding existed."""
    tape = engine.tape
    tape._spans = tape._minutes
    try:
        return call()
    finally:
        del tape._spans


def reads(engine: Engine, start: int | None):
    out = []
    for interval in INTERVALS:
        got = engine.candles(BTC, interval, limit=500)
        want = by_minutes(engine, lambda: engine.candles(BTC, interval, limit=500))
        out.append((got, want))
        if start is not None:
            got = engine.candles(BTC, interval, start=start, end=engine.now_ms() - 2 * HOUR_MS, limit=50)
            want = by_minutes(engine, lambda: engine.candles(BTC, interval, start=start,
                                                               end=engine.now_ms() - 2 * HOUR_MS, limit=50))
            out.append((got, want))
    out.append(([engine.stats_24h(BTC)], by_minutes(engine, lambda: [engine.stats_24h(BTC)])))
    return out


def same(pairs) -> None:
    for got, want in pairs:
        assert [repr(c) for c in got] == [repr(c) for c in want]  # repr: representation too


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 3), script=steps, history_days=st.sampled_from([1, 30]))
def test_folded_hours_read_exactly_what_minutes_read(seed, script, history_days, tmp_path_factory):
    path = tmp_path_factory.mktemp("tape") / "tape.db"
    engine = Engine(open_store(str(path)), clock=ManualClock(T0), seed=seed, history_days=history_days)
    install_market(engine)
    user = engine.create_user("bitget", name="t")
    engine.fund(user.uid, "USDT", D("10000000"))
    price = D("95000.00")
    for kind, amount, move in script:
        if kind == "price":
            engine.clock.advance(amount * 10_000)
            price = max(D("1000"), price + D(move))
            engine.set_mark("bitget", "spot", "BTCUSDT", price)
        elif kind == "gap":
            engine.clock.advance(amount * MINUTE_MS)
        elif kind == "fill":
            engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.MARKET, D("100"))
        elif kind == "read":
            same(reads(engine, engine.now_ms() - amount * 10 * MINUTE_MS))
        elif kind == "restart":  # the newest minute written, a new engine on the same file
            engine.flush_tape()
            now = engine.now_ms()
            engine.store.close()
            engine = Engine(open_store(str(path)), clock=ManualClock(now), seed=seed,
                            history_days=history_days)
        elif kind == "set_back":  # a clock set back, a price recorded in the past
            engine.clock.set(engine.now_ms() - amount * MINUTE_MS)
            engine.set_mark("bitget", "spot", "BTCUSDT", price + 7)
            engine.clock.set(engine.now_ms() + amount * MINUTE_MS)
        same(reads(engine, None))
    engine.store.close()


def test_hours_are_folded_once_and_reused():
    """A second read of hourly candles reads no minute bar of the hours already folded."""
    engine = Engine(open_store(":memory:"), clock=ManualClock(T0), seed=1)
    install_market(engine)
    for k in range(6 * 60):
        engine.clock.advance(MINUTE_MS)
        engine.set_mark("bitget", "spot", "BTCUSDT", D(95000 + (k * 37) % 500))
    first = engine.candles(BTC, Interval("ms", HOUR_MS))
    folded = dict(engine.tape._hours[BTC])
    assert len([h for h in folded.values() if h is not None]) == 5  # the sixth hour is still open
    seen = []
    minutes = engine.tape._minutes
    engine.tape._minutes = lambda uow, inst, start, end, now, **kw: (seen.append((start, end)),
                                                                     minutes(uow, inst, start, end, now, **kw))[1]
    assert engine.candles(BTC, Interval("ms", HOUR_MS)) == first
    # minutes read: only those of the open hour and of the part-hour the tape began in
    whole = [h for h, v in folded.items() if v is not None]
    assert seen and all(end < min(whole) or start >= max(whole) + HOUR_MS for start, end in seen)


def several_writers(path) -> Engine:
    """An engine that is one of several workers on one store (as a cluster marks it)."""
    engine = Engine(open_store(str(path)), clock=CLOCK, seed=5)
    engine.tape.shared = True
    return engine


CLOCK = ManualClock(T0)


def test_with_several_writers_no_process_holds_a_minute_the_others_cannot_read(tmp_path):
    """The market process records prices, another serves requests and fills; each sees every
    committed point and fill of the current minute, and the bars are those one process makes."""
    CLOCK.set(T0)
    market, other = several_writers(tmp_path / "shared.db"), None
    install_market(market)
    other = several_writers(tmp_path / "shared.db")
    alone = Engine(open_store(":memory:"), clock=CLOCK, seed=5)
    install_market(alone)
    users = []
    for engine in (other, alone):
        user = engine.create_user("bitget", name="u")
        engine.fund(user.uid, "USDT", D("1000000"))
        users.append(user.uid)
    for k, price in enumerate(["95010", "95100", "94900", "95050", "95020", "95300"]):
        CLOCK.advance(25_000)
        for engine in (market, alone):
            engine.set_mark("bitget", "spot", "BTCUSDT", D(price))
        if k % 2:
            for engine, uid in zip((other, alone), users):
                engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.MARKET, D("500"))
        want = alone.candles(BTC, Interval("ms", MINUTE_MS))
        assert want[-1].close == D(price)
        for engine in (market, other):
            assert [repr(c) for c in engine.candles(BTC, Interval("ms", MINUTE_MS))] == [repr(c) for c in want]
            assert engine.stats_24h(BTC).base_volume == alone.stats_24h(BTC).base_volume
    for engine in (market, other, alone):
        engine.store.close()
