"""Price paths and the simulation that walks them."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock, ScaledClock
from localex.engine.model import OrderType, Side
from localex.engine.pricepaths import Candle, CandleReplay, RandomWalk, StaticPath, read_candles, sample_candles
from localex.engine.simulation import Simulation
from localex.store import open_store

T0 = 1_767_225_600_000


def walk(seed=1, **kw) -> RandomWalk:
    return RandomWalk(D("95000"), origin_ms=T0, seed=seed, volatility=0.02, step_ms=1000, **kw)


def test_a_random_walk_is_a_function_of_its_seed():
    a, b = walk(), walk()
    assert a.points(T0, T0 + 60_000) == b.points(T0, T0 + 60_000)
    assert len(a.points(T0, T0 + 60_000)) == 60
    assert walk(seed=2).points(T0, T0 + 60_000) != a.points(T0, T0 + 60_000)
    # any window is answered from the same sequence
    whole = walk().points(T0, T0 + 10_000)
    c = walk()
    assert c.points(T0 + 5_000, T0 + 10_000) + [] == whole[5:]
    assert c.points(T0, T0 + 5_000) == whole[:5]
    assert all(p == p.quantize(D("0.01")) and p > 0 for _, p in whole)
    assert [t for t, _ in whole] == [T0 + 1000 * k for k in range(1, 11)]


def test_a_random_walk_drifts_the_way_it_is_told():
    up = RandomWalk(D("100"), origin_ms=T0, seed=3, drift=5.0, volatility=0.0001, step_ms=60_000)
    down = RandomWalk(D("100"), origin_ms=T0, seed=3, drift=-5.0, volatility=0.0001, step_ms=60_000)
    assert up.points(T0, T0 + 3_600_000)[-1][1] > D("100") > down.points(T0, T0 + 3_600_000)[-1][1]
    with pytest.raises(ValueError):
        RandomWalk(D("1"), origin_ms=T0, seed=1, step_ms=0)


def test_a_candle_is_walked_open_extremes_close():
    rising = Candle(T0, D("100"), D("110"), D("95"), D("105"), D("1"))
    falling = Candle(T0 + 60_000, D("105"), D("108"), D("90"), D("92"), D("1"))
    replay = CandleReplay([rising, falling])
    assert replay.points(T0 - 1, T0 + 120_000) == [
        (T0, D("100")), (T0 + 15_000, D("95")), (T0 + 30_000, D("110")), (T0 + 45_000, D("105")),
        (T0 + 60_000, D("105")), (T0 + 75_000, D("108")), (T0 + 90_000, D("90")), (T0 + 105_000, D("92"))]
    shifted = CandleReplay([rising], origin_ms=T0 + 5, interval_ms=60_000)
    assert shifted.points(T0, T0 + 60_000)[0] == (T0 + 5, D("100"))


def test_candle_files_are_read_and_checked(tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("timestamp,open,high,low,close,volume\n60000,2,3,1,2.5,7\n0,1,2,0.5,2,3\n")
    candles = read_candles(f)
    assert [c.ts for c in candles] == [0, 60000] and candles[1].close == D("2.5")
    f.write_text("0,1,1.5,0.5,2,3\n")  # high below close
    with pytest.raises(ValueError):
        read_candles(f)
    shipped = sample_candles()
    assert len(shipped) == 240 and shipped[0].ts == T0
    assert all(c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in shipped)


def engine_with_market() -> Engine:
    engine = Engine(open_store(":memory:"), clock=ManualClock(T0), seed=5)
    install_market(engine)
    return engine


def test_advancing_walks_every_path_in_time_order_and_fills_what_it_crosses():
    engine = engine_with_market()
    sim = Simulation(engine)
    btc = engine.instrument("bitget", "spot", "BTCUSDT")
    eth = engine.instrument("bitget", "spot", "ETHUSDT")
    sim.set_path(btc, CandleReplay([Candle(T0 + 1000, D("95000"), D("95500"), D("94000"), D("95400"), D("1"))],
                                   interval_ms=60_000))
    sim.set_path(eth, StaticPath())
    uid = engine.create_user("bitget", name="a").uid
    engine.fund(uid, "USDT", D("10000"))
    order = engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("94500"))
    assert sim.advance(10_000) == 1  # only the open so far
    assert engine.spot_order(uid, order.order_id).status.value == "live"
    assert sim.advance(50_000) == 3  # low, high, close
    filled = engine.spot_order(uid, order.order_id)
    assert filled.status.value == "filled" and filled.updated_ms == T0 + 1000 + 15_000
    assert engine.mark(btc) == D("95400") and engine.mark(eth) == D("3200.00")
    assert engine.now_ms() == T0 + 60_000
    with pytest.raises(ValueError):
        sim.advance(-1)


def test_two_runs_with_the_same_seed_see_the_same_prices():
    def run() -> list:
        engine = engine_with_market()
        sim = Simulation(engine)
        btc = engine.instrument("bitget", "spot", "BTCUSDT")
        sim.set_path(btc, RandomWalk(D("95000"), origin_ms=T0, seed=engine.seed, step_ms=500))
        seen = []
        for _ in range(5):
            sim.advance(1_000)
            seen.append(engine.mark(btc))
        return seen
    assert run() == run()


def test_catch_up_applies_points_up_to_a_moving_clock():
    class Wall:
        now = 0

        def now_ms(self):
            return self.now

    wall = Wall()
    clock = ScaledClock(60, start_ms=T0, wall=wall)
    engine = Engine(open_store(":memory:"), clock=clock, seed=1)
    install_market(engine)
    sim = Simulation(engine)
    btc = engine.instrument("bitget", "spot", "BTCUSDT")
    sim.set_path(btc, CandleReplay(sample_candles()))
    wall.now = 1_000  # one wall second = one market minute
    assert engine.now_ms() == T0 + 60_000
    # after the start: the first candle's low, high and close, and the next candle's open
    assert sim.catch_up() == 4
    assert engine.mark(btc) == sample_candles()[1].open
    with pytest.raises(TypeError):
        sim.advance(1)
    with pytest.raises(ValueError):
        ScaledClock(0)


def test_a_random_walk_draws_the_floats_rng_gauss_draws():
    """The walk draws its steps in bulk (random.gauss inlined): the floats
    and the generator's state must be exactly those of one rng.gauss per step, however the steps
    are requested."""
    import math
    import random

    from localex.engine.pricepaths import HOUR_MS, RandomWalk

    for seed in range(3):
        walk = RandomWalk(D("95000"), origin_ms=0, seed=seed, volatility=0.02, drift=0.1, step_ms=1000)
        for k in (1, 2, 1001, 1002, 1004, 5000):
            walk._extend(k)
        rng, prices, dt = random.Random(seed), [95000.0], 1000 / HOUR_MS
        for _ in range(5000):
            z = rng.gauss(0.0, 1.0)
            prices.append(prices[-1] * math.exp((0.1 - 0.02 * 0.02 / 2) * dt + 0.02 * math.sqrt(dt) * z))
        floats, offset = walk.floats(0, 5000)
        assert offset == 0 and floats == prices
        assert walk._rng.getstate() == rng.getstate()


def test_a_long_random_walk_keeps_a_bounded_window_and_redraws_the_same_floats():
    """Only a window of the walk stays in memory (plus a generator state per CHECKPOINT_STEPS
    steps); a step behind the window is drawn again from its checkpoint, float for float."""
    import math
    import random

    from localex.engine.pricepaths import CHECKPOINT_STEPS, HOUR_MS, KEEP_STEPS, RandomWalk

    steps = 3 * CHECKPOINT_STEPS + 777
    rng, prices, dt = random.Random("long"), [95000.0], 1000 / HOUR_MS
    for _ in range(steps):
        prices.append(prices[-1] * math.exp((-0.01 * 0.01 / 2) * dt + 0.01 * math.sqrt(dt) * rng.gauss(0.0, 1.0)))
    walk = RandomWalk(D("95000"), origin_ms=0, seed="long", volatility=0.01, step_ms=1000)
    for first in range(1, steps, 300):  # the walk moves forward, five minutes at a time
        last = min(steps, first + 299)
        floats, offset = walk.floats(first, last)
        assert floats[first - offset:last - offset + 1] == prices[first:last + 1]
        kept, checkpoints = walk.memory()
        assert kept <= 2 * KEEP_STEPS + 300
        assert checkpoints == 1 + (last // CHECKPOINT_STEPS)
    assert walk.memory()[0] < steps // 4
    # windows long behind: drawn again, the same floats, the newest state untouched
    state = walk._rng.getstate()
    for first, last in ((1, 10), (CHECKPOINT_STEPS - 3, CHECKPOINT_STEPS + 3), (2 * CHECKPOINT_STEPS + 5, 2 * CHECKPOINT_STEPS + 900)):
        floats, offset = walk.floats(first, last)
        assert floats[first - offset:last - offset + 1] == prices[first:last + 1]
    assert walk.points(999_000, 1_003_000) == [(k * 1000, D(str(prices[k])).quantize(D("0.01")))
                                                for k in range(1000, 1004)]
    assert walk._rng.getstate() == state
