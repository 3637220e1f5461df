"""The market tape in the engine: bars from every mark price, coarser bars on read, the book
from the fill model's ladder, the public trade tape, 24-hour statistics, bounded history,
snapshots, replayed candle files and determinism."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import OrderType, PositionSide, Side, TradeSide
from localex.engine.pricepaths import CandleReplay, RandomWalk, sample_candles
from localex.engine.tape import DAY_MS, HOUR_MS, MINUTE_MS, Interval
from localex.store import open_store

T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC, a Thursday
BTC = "bitget:spot:BTCUSDT"
PERP = "bitget:usdt-futures:BTCUSDT"
ONE_MINUTE = Interval("ms", MINUTE_MS)


def world(seed: int = 1, start: int = T0, **options) -> Engine:
    engine = Engine(open_store(":memory:"), clock=ManualClock(start), seed=seed, **options)
    install_market(engine)
    return engine


def walk(engine: Engine, prices, every_ms: int = 20_000, symbol: str = "BTCUSDT", market: str = "spot"):
    for price in prices:
        engine.clock.advance(every_ms)
        engine.set_mark("bitget", market, symbol, D(price))


def test_every_mark_price_lands_in_its_minute_bar():
    engine = world()
    walk(engine, ["95010", "94990", "95030", "95020", "95100", "95000"])  # 00:00:20 ... 00:02:00
    bars = engine.candles(BTC, ONE_MINUTE)
    assert [(c.ts, c.open, c.high, c.low, c.close) for c in bars] == [
        (T0, D("95000.00"), D("95010"), D("94990"), D("94990")),  # the opening price at 00:00:00
        (T0 + MINUTE_MS, D("95030"), D("95100"), D("95020"), D("95100")),
        (T0 + 2 * MINUTE_MS, D("95000"), D("95000"), D("95000"), D("95000")),
    ]
    assert all(c.base_volume > 0 and c.quote_volume > 0 for c in bars)  # synthetic prints
    five = engine.candles(BTC, Interval("ms", 5 * MINUTE_MS))
    assert [(c.ts, c.open, c.high, c.low, c.close) for c in five] == [
        (T0, D("95000.00"), D("95100"), D("94990"), D("95000"))]
    assert five[0].base_volume == sum(c.base_volume for c in bars)
    assert five[0].quote_volume == sum(c.quote_volume for c in bars)


def test_a_minute_without_a_price_is_flat_at_the_previous_close_and_limits_count_back_from_the_end():
    engine = world()
    walk(engine, ["95500"], every_ms=30_000)
    engine.clock.advance(10 * MINUTE_MS)  # ten quiet minutes
    bars = engine.candles(BTC, ONE_MINUTE, limit=4)
    assert [c.ts for c in bars] == [T0 + k * MINUTE_MS for k in range(7, 11)]
    assert {(c.open, c.high, c.low, c.close) for c in bars} == {(D("95500"),) * 4}
    assert all(c.base_volume > 0 for c in bars)
    assert [c.ts for c in engine.candles(BTC, ONE_MINUTE, start=T0 + 90_000, end=T0 + 4 * MINUTE_MS)] == [
        T0 + 2 * MINUTE_MS, T0 + 3 * MINUTE_MS, T0 + 4 * MINUTE_MS]
    assert engine.candles(BTC, ONE_MINUTE, start=T0 + 5 * MINUTE_MS, end=T0) == []


@pytest.mark.parametrize("interval, opens", [
    (Interval("ms", 6 * HOUR_MS), T0 + 18 * HOUR_MS),  # UTC+8: 02:00, 08:00, 14:00, 20:00 UTC
    (Interval("ms", 6 * HOUR_MS, 8 * HOUR_MS), T0 + 16 * HOUR_MS),
    (Interval("ms", DAY_MS), T0),
    (Interval("ms", DAY_MS, 8 * HOUR_MS), T0 + 16 * HOUR_MS),  # a UTC+8 day opens at 16:00 UTC
    (Interval("week", 1), T0 - 3 * DAY_MS),  # Monday 2025-12-29
    (Interval("month", 1), T0),
    (Interval("month", 1, 8 * HOUR_MS), T0 - 8 * HOUR_MS),
])
def test_candle_boundaries(interval, opens):
    at = T0 + 19 * HOUR_MS
    assert interval.start(at) == opens
    after = interval.next(opens)
    assert after > at and interval.start(after) == after and interval.previous(after) == opens


def test_a_month_is_a_calendar_month():
    month = Interval("month", 1)
    assert month.next(T0) == T0 + 31 * DAY_MS  # February 1st
    assert month.next(T0 + 31 * DAY_MS) == T0 + 59 * DAY_MS  # March 1st (2026 is not a leap year)


def test_a_replayed_candle_file_is_served_back_exactly():
    engine = world(start=T0 - 1000)
    candles = sample_candles()[:30]
    inst = engine.instrument("bitget", "spot", "BTCUSDT")
    engine.simulation.set_path(inst, CandleReplay(candles, origin_ms=T0))
    engine.advance_clock(30 * MINUTE_MS)
    shift = T0 - candles[0].ts
    read = engine.candles(BTC, ONE_MINUTE, start=T0, limit=30)
    assert [(c.ts, c.open, c.high, c.low, c.close, c.base_volume) for c in read] == [
        (c.ts + shift, c.open, c.high, c.low, c.close, c.volume) for c in candles]


def test_a_replayed_candle_file_reads_back_exactly_at_a_coarser_interval():
    engine = world(start=T0 - 1000)
    candles = sample_candles()[:10]
    engine.simulation.set_path(engine.instrument("bitget", "spot", "BTCUSDT"), CandleReplay(candles, origin_ms=T0))
    engine.advance_clock(10 * MINUTE_MS)
    five = engine.candles(BTC, Interval("ms", 5 * MINUTE_MS), start=T0, limit=2)
    for candle, group in zip(five, (candles[:5], candles[5:])):
        assert (candle.open, candle.close) == (group[0].open, group[-1].close)
        assert candle.high == max(c.high for c in group) and candle.low == min(c.low for c in group)
        assert candle.base_volume == sum(c.volume for c in group)


def test_same_seed_same_bars_and_trades_another_seed_other_volumes():
    def run(seed):
        engine = world(seed=seed)
        inst = engine.instrument("bitget", "spot", "BTCUSDT")
        engine.simulation.set_path(inst, RandomWalk(D("95000"), origin_ms=T0, seed="w", step_ms=15_000))
        engine.advance_clock(8 * MINUTE_MS)
        return engine.candles(BTC, ONE_MINUTE), engine.public_trades(BTC, limit=50)

    first, again, other = run(1), run(1), run(2)
    assert first == again
    assert [(c.open, c.high, c.low, c.close) for c in first[0]] == [
        (c.open, c.high, c.low, c.close) for c in other[0]]  # the same path
    assert [c.base_volume for c in first[0]] != [c.base_volume for c in other[0]]


def test_history_is_bounded():
    engine = world(history_days=1)
    walk(engine, ["95100"])
    engine.clock.advance(3 * DAY_MS)
    walk(engine, ["95200", "95300"])
    with engine.tx(read_only=True) as uow:
        assert uow.first_bar_ts(BTC) >= engine.now_ms() - DAY_MS - MINUTE_MS
        assert uow.count("market_bars") < 20
    bars = engine.candles(BTC, ONE_MINUTE, start=T0, limit=1000)
    assert bars[0].ts >= engine.now_ms() - DAY_MS - MINUTE_MS


def test_the_tape_survives_a_snapshot_and_a_restart(tmp_path):
    path = str(tmp_path / "tape.db")
    engine = Engine(open_store(path), clock=ManualClock(T0), seed=4)
    install_market(engine)
    walk(engine, ["95010", "95020", "95030", "95040"])
    before = engine.candles(BTC, ONE_MINUTE)
    snap = engine.snapshot()
    assert len(snap["tables"]["market_bars"]) >= 2
    walk(engine, ["99999"])
    engine.restore(snap)
    assert engine.candles(BTC, ONE_MINUTE) == before
    walk(engine, ["95050"])  # writing after a restore continues the restored bar
    assert engine.candles(BTC, ONE_MINUTE)[-1].close == D("95050")
    kept = engine.candles(BTC, ONE_MINUTE)
    with engine.tx(read_only=True) as uow:
        assert uow.get_bar(BTC, kept[-1].ts) is None or uow.get_bar(BTC, kept[-1].ts).close != kept[-1].close
    engine.flush_tape()  # the newest minute lives in memory until its minute is over (or a flush)
    with engine.tx(read_only=True) as uow:
        assert uow.get_bar(BTC, kept[-1].ts).close == kept[-1].close
    engine.store.close()
    reopened = Engine(open_store(path), clock=ManualClock(engine.now_ms()), seed=4)
    assert reopened.candles(BTC, ONE_MINUTE) == kept


def test_the_book_is_the_liquidity_ladder_and_fills_agree_with_it():
    engine = world()
    engine.set_fill_model(PERP, "liquidity", {"size": "0.01", "step": "10", "levels": 5})
    book = engine.order_book(PERP, 150)
    assert [(lv.price, lv.size) for lv in book.asks] == [(D(95000 + 10 * k), D("0.01")) for k in range(5)]
    assert [(lv.price, lv.size) for lv in book.bids] == [(D(95000 - 10 * k), D("0.01")) for k in range(5)]
    user = engine.create_user("bitget", name="taker")
    engine.fund(user.uid, "USDT", D("100000"), account="usdt-futures")
    engine.place_futures_order(user.uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                               trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=book.asks[0].size)
    assert [(f.price, f.size) for f in engine.futures_fills(user.uid)] == [(book.asks[0].price, D("0.01"))]
    engine.place_futures_order(user.uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.SHORT,
                               trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.025"))
    sells = sorted((f.price, f.size) for f in engine.futures_fills(user.uid) if f.side is Side.SELL)
    assert sells == sorted([(book.bids[0].price, D("0.01")), (book.bids[1].price, D("0.01")),
                            (book.bids[2].price, D("0.005"))])
    # the fills are on the public tape as the taker saw them, and in the minute's volume
    prints = [t for t in engine.public_trades(PERP, limit=100) if not t.synthetic]
    assert sorted((t.side, t.price, t.size) for t in prints) == sorted(
        [(Side.BUY, D("95000"), D("0.01"))] + [(Side.SELL, p, s) for p, s in sells])
    alone = world()
    assert engine.candles(PERP, ONE_MINUTE)[-1].base_volume == (
        alone.candles(PERP, ONE_MINUTE)[-1].base_volume + D("0.035"))


def test_the_default_book_and_the_users_resting_orders():
    engine = world()
    book = engine.order_book(BTC, 150)
    assert len(book.bids) == len(book.asks) == 150
    assert book.asks[0].price == book.bids[0].price == D("95000.00")
    assert book.asks[1].price == D("95000.01") and book.bids[1].price == D("94999.99")
    assert book.asks[0].size == D("0.210526")  # 20,000 USDT at the mark, on the size grid
    assert engine.order_book(BTC, 5).asks == book.asks[:5]
    user = engine.create_user("bitget", name="maker")
    engine.fund(user.uid, "USDT", D("100000"))
    engine.fund(user.uid, "BTC", D("1"))
    engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.5"), D("94999.99"))
    engine.place_spot_order(user.uid, "BTCUSDT", Side.SELL, OrderType.LIMIT, D("0.3"), D("95000.50"))
    book = engine.order_book(BTC, 150)
    assert book.bids[1].size == D("0.710526")
    assert (book.asks[50].price, book.asks[50].size) == (D("95000.50"), D("0.510526"))


def test_a_resting_order_filled_as_maker_prints_the_takers_side():
    engine = world()
    user = engine.create_user("bitget", name="maker")
    engine.fund(user.uid, "USDT", D("10000"))
    engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("94000"))
    walk(engine, ["93900"])
    real = [t for t in engine.public_trades(BTC) if not t.synthetic]
    assert [(t.side, t.price, t.size) for t in real] == [(Side.SELL, D("94000"), D("0.01"))]
    assert real[0].trade_id == engine.spot_fills(user.uid)[0].trade_id


def test_public_trades_are_newest_first_and_page_by_id():
    engine = world()
    walk(engine, ["95010", "95020", "95030", "95040", "95050", "95060"])
    trades = engine.public_trades(BTC, limit=10)
    assert len(trades) == 10
    assert [(t.ts, t.trade_id) for t in trades] == sorted(((t.ts, t.trade_id) for t in trades), reverse=True)
    assert all(t.ts <= engine.now_ms() for t in trades)
    page = engine.public_trades(BTC, limit=10, before_id=trades[4].trade_id)
    assert page[:5] == trades[5:]
    window = engine.public_trades(BTC, start=T0 + MINUTE_MS, end=T0 + 2 * MINUTE_MS - 1, limit=100)
    assert window and all(T0 + MINUTE_MS <= t.ts < T0 + 2 * MINUTE_MS for t in window)
    bars = engine.candles(BTC, ONE_MINUTE)
    minute = [t for t in engine.public_trades(BTC, limit=1000) if bars[1].ts <= t.ts < bars[1].ts + MINUTE_MS]
    assert sum(t.size for t in minute) == bars[1].base_volume  # the tape and the candles agree


def test_24_hour_statistics():
    engine = world(start=T0 - 2 * HOUR_MS)  # 22:00 the day before
    walk(engine, ["96000"], every_ms=HOUR_MS)  # 23:00
    walk(engine, ["94000", "95500"], every_ms=HOUR_MS)  # 00:00 and 01:00
    stats = engine.stats_24h(BTC)
    assert (stats.last, stats.open, stats.high, stats.low, stats.open_utc) == (
        D("95500"), D("95000.00"), D("96000"), D("94000"), D("94000"))
    assert stats.change == (D("95500") - D("95000")) / D("95000")
    assert stats.bid.price == stats.ask.price == D("95500.00")
    assert stats.base_volume == sum(c.base_volume for c in engine.candles(BTC, ONE_MINUTE, limit=1000))
    engine.clock.advance(DAY_MS)
    assert engine.stats_24h(BTC).open == D("95500")  # a day later: a flat day at the last price


def test_a_price_move_that_rolls_back_leaves_the_tape_as_it_was(monkeypatch):
    engine = world()
    walk(engine, ["95100"])
    before = engine.candles(BTC, ONE_MINUTE)

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engine.spot, "match", broken)
    engine.clock.advance(1000)
    with pytest.raises(RuntimeError):
        engine.set_mark("bitget", "spot", "BTCUSDT", D("99000"))
    assert engine.candles(BTC, ONE_MINUTE) == before
    monkeypatch.undo()
    walk(engine, ["95200"])
    assert engine.candles(BTC, ONE_MINUTE)[-1].high == D("95200")


def test_a_walk_writes_one_bar_row_per_minute():
    engine = world()
    walk(engine, ["95001", "95002"], every_ms=1000)  # the first minute: still in memory
    with engine.tx(read_only=True) as uow:
        assert uow.count("market_bars") == 0  # every instrument's first minute is still open
    engine.clock.advance(MINUTE_MS)
    walk(engine, ["95003"], every_ms=1000)  # a later minute starts: BTC's first one is written, once
    with engine.tx(read_only=True) as uow:
        assert uow.count("market_bars") == 1
        bar = uow.get_bar(BTC, T0)
    assert (bar.open, bar.close) == (D("95000.00"), D("95002"))
