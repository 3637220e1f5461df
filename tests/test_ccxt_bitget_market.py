"""ccxt's own `bitget` (sync and async; over the server and in-process) reading localex's market
tape: candles (spot, swap, mark and index), order books, trades, tickers, open interest, trading
fees and position tiers, parsed by ccxt itself, unchanged but for its URLs."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import ccxt
import ccxt.async_support as ccxt_async
import pytest
from test_ccxt_bitget_futures import connect, d, futures_trader

from localex.engine.tape import DAY_MS, HOUR_MS, MINUTE_MS, Interval
from localex.testing import mock_exchanges

BTC, SWAP = "BTC/USDT", "BTC/USDT:USDT"
SPOT_KEY, SWAP_KEY = "bitget:spot:BTCUSDT", "bitget:usdt-futures:BTCUSDT"


def walk(engine, prices, market="spot", every_ms=20_000):
    for price in prices:
        engine.clock.advance(every_ms)
        engine.set_mark("bitget", market, "BTCUSDT", Decimal(price))


def as_ccxt(candles, volume=True):
    return [[c.ts, float(c.open), float(c.high), float(c.low), float(c.close),
             float(c.base_volume) if volume else 0.0] for c in candles]


def test_fetch_ohlcv_spot_swap_mark_and_index(world):
    engine = world.engine
    engine.set_clock(engine.now_ms() - engine.now_ms() % HOUR_MS + HOUR_MS)  # on the hour
    install_start = engine.now_ms()
    walk(engine, ["95010", "94990", "95030", "95060", "95020"])
    walk(engine, ["95100", "95200", "95050"], market="usdt-futures")
    exchange = connect(world)
    one = Interval("ms", MINUTE_MS)
    spot = exchange.fetch_ohlcv(BTC, "1m", limit=10)
    assert spot == as_ccxt(engine.candles(SPOT_KEY, one, limit=10))
    assert [row[0] for row in spot] == [spot[0][0] + k * MINUTE_MS for k in range(10)]
    at = [row[0] for row in spot].index(install_start)
    assert spot[at][1:5] == [95010.0, 95010.0, 94990.0, 94990.0]
    assert spot[at + 1][1:5] == [95030.0, 95060.0, 95020.0, 95020.0]
    assert spot[at - 1][1:5] == [95000.0] * 4  # a quiet minute before: flat at the previous close
    swap = exchange.fetch_ohlcv(SWAP, "1m", limit=10)
    assert swap == as_ccxt(engine.candles(SWAP_KEY, one, limit=10))
    assert max(row[2] for row in swap) == 95200.0 and swap[-1][4] == 95050.0
    for price in ("mark", "index"):
        rows = exchange.fetch_ohlcv(SWAP, "1m", limit=10, params={"price": price})
        assert [r[:5] for r in rows] == [r[:5] for r in swap] and {r[5] for r in rows} == {0.0}
    hours = exchange.fetch_ohlcv(BTC, "1h", limit=3)  # ccxt asks for "1h"
    days = exchange.fetch_ohlcv(SWAP, "1d", limit=3)  # ccxt asks for "1Dutc"
    assert hours[-1][0] == install_start and days[-1][0] == install_start - install_start % DAY_MS
    assert hours[-1][5] == pytest.approx(sum(r[5] for r in spot[at:]))


def test_fetch_order_book_agrees_with_what_a_market_order_gets(world):
    engine = world.engine
    engine.set_fill_model(SWAP_KEY, "liquidity", {"size": "0.02", "step": "5", "levels": 8})
    trader = futures_trader(world)
    exchange = connect(world, trader)
    book = exchange.fetch_order_book(SWAP, 5)
    assert book["asks"] == [[95000.0 + 5 * k, 0.02] for k in range(5)]
    assert book["bids"] == [[95000.0 - 5 * k, 0.02] for k in range(5)]
    assert book["nonce"] is None and book["timestamp"] == engine.now_ms()
    l2 = exchange.fetch_l2_order_book(SWAP)
    assert len(l2["asks"]) == 8 and l2["asks"][:5] == book["asks"]
    order = exchange.create_order(SWAP, "market", "buy", book["asks"][0][1])
    fills = exchange.fetch_my_trades(SWAP)
    assert [(f["order"], f["price"], f["amount"]) for f in fills] == [(order["id"], 95000.0, 0.02)]
    exchange.create_order(SWAP, "market", "buy", 0.05)
    prices = sorted(f.price for f in engine.futures_fills(trader.uid))
    assert [float(p) for p in prices] == [95000.0, 95000.0, 95005.0, 95010.0]
    spot = connect(world).fetch_order_book(BTC)
    assert len(spot["asks"]) == len(spot["bids"]) == 150  # the default book, 150 levels a side
    assert spot["asks"][0][0] == spot["bids"][0][0] == 95000.0


def test_fetch_trades_shows_real_fills_and_the_synthetic_prints(world):
    engine = world.engine
    trader = futures_trader(world)
    exchange = connect(world, trader)
    walk(engine, ["95010", "95020"], market="usdt-futures")
    order = exchange.create_order(SWAP, "market", "sell", 0.01)
    trades = exchange.fetch_trades(SWAP, limit=20)
    assert trades == sorted(trades, key=lambda t: t["timestamp"])  # ccxt orders them oldest first
    mine = [t for t in trades if t["id"] == str(engine.futures_fills(trader.uid)[0].trade_id)]
    assert [(t["side"], t["price"], t["amount"]) for t in mine] == [("sell", 95020.0, 0.01)]
    assert order["id"]
    spot = exchange.fetch_trades(BTC, limit=5)
    assert len(spot) == 5 and all(t["symbol"] == BTC and t["amount"] > 0 for t in spot)
    assert {t["side"] for t in exchange.fetch_trades(BTC, limit=100)} == {"buy", "sell"}


def test_fetch_tickers_carry_the_24_hour_fields(world):
    engine = world.engine
    walk(engine, ["96000", "94000", "95500"], every_ms=HOUR_MS)
    exchange = connect(world)
    ticker = exchange.fetch_tickers([BTC])[BTC]
    stats = engine.stats_24h(SPOT_KEY)
    assert (ticker["last"], ticker["high"], ticker["low"], ticker["open"]) == (95500.0, 96000.0, 94000.0, 95000.0)
    assert d(ticker["baseVolume"]) == stats.base_volume and d(ticker["quoteVolume"]) == stats.quote_volume
    assert ticker["bid"] == ticker["ask"] == 95500.0 and ticker["bidVolume"] > 0
    assert ticker["percentage"] == pytest.approx(100 * 500 / 95000, abs=1e-3)
    swaps = exchange.fetch_tickers([SWAP])
    assert swaps[SWAP]["markPrice"] == swaps[SWAP]["last"] == 95000.0


def test_open_interest_trading_fees_and_position_tiers(world):
    trader = futures_trader(world)
    exchange = connect(world, trader)
    assert exchange.fetch_open_interest(SWAP)["openInterestAmount"] == 0.0
    exchange.create_order(SWAP, "market", "buy", 0.03)
    interest = exchange.fetch_open_interest(SWAP)
    assert interest["openInterestAmount"] == 0.03 and interest["symbol"] == SWAP
    spot_fee, swap_fee = exchange.fetch_trading_fee(BTC), exchange.fetch_trading_fee(SWAP)
    assert (spot_fee["maker"], spot_fee["taker"]) == (0.001, 0.001)
    assert (swap_fee["maker"], swap_fee["taker"]) == (0.0002, 0.0006)
    tiers = exchange.fetch_market_leverage_tiers(SWAP)
    assert [(t["tier"], t["minNotional"], t["maxNotional"], t["maxLeverage"], t["maintenanceMarginRate"])
            for t in tiers] == [
        (1, 0.0, 150000.0, 125.0, 0.004), (2, 150000.0, 600000.0, 100.0, 0.005),
        (3, 600000.0, 2000000.0, 75.0, 0.01), (4, 2000000.0, 5000000.0, 50.0, 0.015),
        (5, 5000000.0, 10000000.0, 25.0, 0.025), (6, 10000000.0, 20000000.0, 20.0, 0.03),
        (7, 20000000.0, 50000000.0, 10.0, 0.05), (8, 50000000.0, 150000000.0, 5.0, 0.1)]
    assert {t["symbol"] for t in tiers} == {SWAP} and {t["currency"] for t in tiers} == {"BTC"}
    # a coin-margined contract's tiers are in its margin coin
    inverse = exchange.fetch_market_leverage_tiers("BTC/USD:BTC")
    assert [(t["minNotional"], t["maxNotional"], t["maxLeverage"]) for t in inverse][:2] == [
        (0.0, 10.0, 125.0), (10.0, 50.0, 100.0)]


def test_in_process_sync_reads_the_same_market():
    with mock_exchanges(clock="manual") as emu:
        emu.set_price("BTCUSDT", 95100)
        emu.advance_clock(90_000)
        exchange = ccxt.bitget({"enableRateLimit": False})
        exchange.load_markets()
        candles = exchange.fetch_ohlcv(BTC, "1m", limit=5)
        assert candles[-1][4] == 95100.0 and candles == sorted(candles)
        assert exchange.fetch_order_book(BTC, 5)["asks"][0][0] == 95100.0
        assert len(exchange.fetch_trades(BTC, limit=7)) == 7
        assert exchange.fetch_tickers([BTC])[BTC]["high"] == 95100.0


def test_in_process_async_reads_the_same_market():
    async def read():
        exchange = ccxt_async.bitget({"enableRateLimit": False})
        try:
            await exchange.load_markets()
            return (await exchange.fetch_ohlcv(SWAP, "5m", limit=3),
                    await exchange.fetch_order_book(SWAP, 3),
                    await exchange.fetch_trades(SWAP, limit=4),
                    await exchange.fetch_ticker(SWAP))
        finally:
            await exchange.close()

    with mock_exchanges(clock="manual") as emu:
        emu.set_price("BTCUSDT", 94900, market="usdt-futures")
        candles, book, trades, ticker = asyncio.run(read())
    assert candles[-1][3] == 94900.0
    assert book["bids"][0][0] == 94900.0 and len(book["bids"]) == 3
    assert len(trades) == 4 and ticker["low"] == 94900.0


def test_the_demo_world_has_a_dated_contract_and_enough_coins_for_ccxts_harness(world):
    exchange = connect(world, preload=False)
    markets = exchange.load_markets()
    futures = [m for m in markets.values() if m["future"]]
    assert [(m["id"], m["inverse"], m["expiry"], m["settle"]) for m in futures] == [
        ("BTCUSDH27", True, 1_806_048_000_000, "BTC")]
    assert futures[0]["symbol"] == "BTC/USD:BTC-270326"
    currencies = exchange.fetch_currencies()
    assert len(currencies) > 5 and "USDC" in currencies
    row = exchange.publicMixGetV2MixMarketContracts({"productType": "COIN-FUTURES", "symbol": "BTCUSDH27"})
    (contract,) = row["data"]
    assert (contract["symbolType"], contract["deliveryTime"], contract["deliveryPeriod"]) == (
        "delivery", "1806048000000", "this_quarter")
    spot = exchange.publicSpotGetV2SpotPublicSymbols({"symbol": "BTCUSDT"})["data"][0]
    assert spot["openTime"] == "1532454360000"
    funding = exchange.publicMixGetV2MixMarketCurrentFundRate({"productType": "COIN-FUTURES"})["data"]
    assert [r["symbol"] for r in funding] == ["BTCUSD"]  # a dated contract pays no funding
