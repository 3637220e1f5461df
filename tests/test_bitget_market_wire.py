"""Bitget's market endpoints byte for byte: candle arrays, books, trades, tickers, parameters and
their errors; the x-mbx-used-remain-limit header; V1 paths answering 30032."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from localex.client.bitget import BitgetAPIError
from localex.engine.clock import ManualClock
from localex.engine.tape import DAY_MS, HOUR_MS, MINUTE_MS, Interval


def walk(engine, prices, market="spot", every_ms=20_000):
    for price in prices:
        engine.clock.advance(every_ms)
        engine.set_mark("bitget", market, "BTCUSDT", Decimal(price))


def ok(http, path, **params):
    response = http.get(path, params=params)
    body = response.json()
    assert (response.status_code, body["code"], body["msg"]) == (200, "00000", "success"), body
    return body["data"]


def fails(http, path, status=400, **params):
    response = http.get(path, params=params)
    body = response.json()
    assert response.status_code == status and body["data"] is None
    return body["code"], body["msg"]


def test_candle_arrays_are_strings_in_bitgets_order(world, http):
    engine = world.engine
    engine.set_clock(engine.now_ms() - engine.now_ms() % HOUR_MS + HOUR_MS)
    start = engine.now_ms()
    walk(engine, ["95010.5", "94990"])
    walk(engine, ["95100.3", "95050.1"], market="usdt-futures")
    spot = ok(http, "/api/v2/spot/market/candles", symbol="BTCUSDT", granularity="1min", limit="1",
              endTime=str(start))
    (row,) = spot
    assert len(row) == 8 and all(isinstance(v, str) for v in row)
    candle = engine.candles("bitget:spot:BTCUSDT", Interval("ms", MINUTE_MS), end=start, limit=1)[0]
    assert row == [str(start), "95010.5", "95010.5", "94990", "94990", str(candle.base_volume.normalize()),
                   format(candle.quote_volume.normalize(), "f"), format(candle.quote_volume.normalize(), "f")]
    mix = ok(http, "/api/v2/mix/market/candles", symbol="BTCUSDT", productType="usdt-futures",
             granularity="1m", limit="1", endTime=str(start + 60_000))
    assert len(mix[0]) == 7 and mix[0][:5] == [str(start + 60_000), "95100.3", "95100.3", "95050.1", "95050.1"]
    for path in ("history-mark-candles", "history-index-candles"):
        rows = ok(http, f"/api/v2/mix/market/{path}", symbol="BTCUSDT", productType="USDT-FUTURES",
                  granularity="1m", endTime=str(start + 60_000), limit="1")
        assert rows == [mix[0][:5] + ["0", "0"]]
    for kind in ("MARK", "index", "Market"):
        ok(http, "/api/v2/mix/market/candles", symbol="BTCUSDT", productType="USDT-FUTURES",
           granularity="1m", kLineType=kind)
    assert ok(http, "/api/v2/mix/market/history-candles", symbol="BTCUSDT", productType="USDT-FUTURES",
              granularity="1m", endTime=str(start + 60_000), limit="1") == mix


@pytest.mark.parametrize("market, granularity, length, offset", [
    ("spot", "1min", MINUTE_MS, 0), ("spot", "3min", 3 * MINUTE_MS, 0), ("spot", "5min", 5 * MINUTE_MS, 0),
    ("spot", "15min", 15 * MINUTE_MS, 0), ("spot", "30min", 30 * MINUTE_MS, 0), ("spot", "1h", HOUR_MS, 0),
    ("spot", "4h", 4 * HOUR_MS, 0), ("spot", "6h", 6 * HOUR_MS, 8), ("spot", "12h", 12 * HOUR_MS, 8),
    ("spot", "1day", DAY_MS, 8), ("spot", "3day", 3 * DAY_MS, 8), ("spot", "6Hutc", 6 * HOUR_MS, 0),
    ("spot", "12Hutc", 12 * HOUR_MS, 0), ("spot", "1Dutc", DAY_MS, 0), ("spot", "3Dutc", 3 * DAY_MS, 0),
    ("mix", "1m", MINUTE_MS, 0), ("mix", "3m", 3 * MINUTE_MS, 0), ("mix", "5m", 5 * MINUTE_MS, 0),
    ("mix", "15m", 15 * MINUTE_MS, 0), ("mix", "30m", 30 * MINUTE_MS, 0), ("mix", "1H", HOUR_MS, 0),
    ("mix", "2H", 2 * HOUR_MS, 0), ("mix", "4H", 4 * HOUR_MS, 0), ("mix", "6H", 6 * HOUR_MS, 8),
    ("mix", "12H", 12 * HOUR_MS, 8), ("mix", "1D", DAY_MS, 8), ("mix", "3D", 3 * DAY_MS, 8),
    ("mix", "6Hutc", 6 * HOUR_MS, 0), ("mix", "12Hutc", 12 * HOUR_MS, 0), ("mix", "1Dutc", DAY_MS, 0),
    ("mix", "3Dutc", 3 * DAY_MS, 0),
])
def test_candles_open_on_their_boundaries(world, http, market, granularity, length, offset):
    engine = world.engine
    now = engine.now_ms()
    path = "/api/v2/spot/market/candles" if market == "spot" else "/api/v2/mix/market/candles"
    extra = {} if market == "spot" else {"productType": "USDT-FUTURES"}
    rows = ok(http, path, symbol="BTCUSDT", granularity=granularity, **extra)
    assert rows and int(rows[-1][0]) == (now + offset * HOUR_MS) // length * length - offset * HOUR_MS


@pytest.mark.parametrize("market, granularity, weekday_or_day", [
    ("spot", "1week", "monday+8"), ("spot", "1Wutc", "monday"), ("mix", "1W", "monday+8"),
    ("mix", "1Wutc", "monday"), ("spot", "1M", "first+8"), ("spot", "1Mutc", "first"),
    ("mix", "1M", "first+8"), ("mix", "1Mutc", "first"),
])
def test_weeks_open_on_monday_and_months_on_the_first(world, http, market, granularity, weekday_or_day):
    import datetime as dt

    path = "/api/v2/spot/market/candles" if market == "spot" else "/api/v2/mix/market/candles"
    extra = {} if market == "spot" else {"productType": "USDT-FUTURES"}
    opens = int(ok(http, path, symbol="BTCUSDT", granularity=granularity, **extra)[-1][0])
    shift = 8 if weekday_or_day.endswith("+8") else 0
    local = dt.datetime.fromtimestamp(opens / 1000 + shift * 3600, dt.timezone.utc)
    assert (local.hour, local.minute) == (0, 0)
    assert local.weekday() == 0 if weekday_or_day.startswith("monday") else local.day == 1


def test_candle_parameters_are_checked(world, http):
    spot, mix = "/api/v2/spot/market/candles", "/api/v2/mix/market/candles"
    assert fails(http, spot, symbol="BTCUSDT", granularity="1H") == ("400171", "Parameter verification failed")
    assert fails(http, mix, symbol="BTCUSDT", productType="USDT-FUTURES", granularity="1h")[0] == "400171"
    assert fails(http, spot, symbol="BTCUSDT") == ("40019", "Parameter granularity cannot be empty")
    assert fails(http, spot, granularity="1min") == ("40019", "Parameter symbol cannot be empty")
    assert fails(http, spot, symbol="NOPEUSDT", granularity="1min") == ("40034", "Parameter NOPEUSDT does not exist")
    assert fails(http, spot, symbol="BTCUSDT", granularity="1min", limit="1001") == (
        "40053", "Value range verification failed: limit should be between (0, 1000]")
    assert fails(http, spot, symbol="BTCUSDT", granularity="1min", limit="0")[0] == "40053"
    assert fails(http, spot, symbol="BTCUSDT", granularity="1min", limit="x")[0] == "40020"
    assert fails(http, spot, symbol="BTCUSDT", granularity="1min", startTime="20", endTime="10")[0] == "40707"
    assert fails(http, "/api/v2/spot/market/history-candles", symbol="BTCUSDT", granularity="1min") == (
        "40019", "Parameter endTime cannot be empty")
    assert fails(http, "/api/v2/spot/market/history-candles", symbol="BTCUSDT", granularity="1min",
                 endTime="1", limit="201")[0] == "40053"
    assert fails(http, mix, symbol="BTCUSDT", productType="USDT-FUTURES", granularity="1m",
                 kLineType="LAST") == ("40020", "Parameter kLineType error")
    assert len(ok(http, spot, symbol="BTCUSDT", granularity="1min", limit="1000")) >= 1


def test_books_at_every_precision(world, http):
    engine = world.engine
    book = ok(http, "/api/v2/spot/market/orderbook", symbol="BTCUSDT", limit="3")
    assert book == {"asks": [["95000", "0.210526"], ["95000.01", "0.210526"], ["95000.02", "0.210526"]],
                    "bids": [["95000", "0.210526"], ["94999.99", "0.210526"], ["94999.98", "0.210526"]],
                    "ts": str(engine.now_ms())}
    assert len(ok(http, "/api/v2/spot/market/orderbook", symbol="BTCUSDT")["asks"]) == 150
    coarse = ok(http, "/api/v2/spot/market/orderbook", symbol="BTCUSDT", type="step2", limit="2")
    assert coarse["asks"] == [["95000", "0.210526"], ["95001", "21.0526"]]
    assert coarse["bids"] == [["95000", "0.210526"], ["94999", "21.0526"]]
    merged = ok(http, "/api/v2/spot/market/merge-depth", symbol="BTCUSDT", precision="scale1", limit="5")
    assert (merged["scale"], merged["precision"], merged["isMaxPrecision"]) == ("0.1", "scale1", "NO")
    assert merged["asks"][1] == ["95000.1", "2.10526"]
    full = ok(http, "/api/v2/spot/market/merge-depth", symbol="BTCUSDT", limit="max")
    assert len(full["bids"]) == 150 and full["isMaxPrecision"] == "YES" and full["scale"] == "0.01"
    mix = ok(http, "/api/v2/mix/market/merge-depth", symbol="BTCUSDT", productType="usdt-futures", limit="1")
    assert mix["asks"] == [[95000.0, 0.2105]] and mix["bids"] == [[95000.0, 0.2105]]
    assert fails(http, "/api/v2/spot/market/orderbook", symbol="BTCUSDT", type="step6") == (
        "40020", "Parameter type error")
    assert fails(http, "/api/v2/mix/market/merge-depth", symbol="BTCUSDT", productType="USDT-FUTURES",
                 precision="scale4")[0] == "40020"


def test_trades_tickers_and_trade_rate(world, http):
    engine = world.engine
    walk(engine, ["95100", "95200"])
    trades = ok(http, "/api/v2/spot/market/fills", symbol="BTCUSDT", limit="3")
    assert [sorted(t) for t in trades] == [["price", "side", "size", "symbol", "tradeId", "ts"]] * 3
    assert int(trades[0]["ts"]) >= int(trades[-1]["ts"]) and trades[0]["side"] in ("buy", "sell")
    page = ok(http, "/api/v2/spot/market/fills-history", symbol="BTCUSDT", limit="2",
              idLessThan=trades[0]["tradeId"])
    assert page == trades[1:3]
    assert len(ok(http, "/api/v2/mix/market/fills-history", symbol="BTCUSDT", productType="USDT-FUTURES",
                  limit="1000")) <= 1000
    (ticker,) = ok(http, "/api/v2/spot/market/tickers", symbol="BTCUSDT")
    assert (ticker["open"], ticker["high24h"], ticker["low24h"], ticker["lastPr"]) == (
        "95000", "95200", "95000", "95200")
    assert ticker["change24h"] == "0.00211" and ticker["bidPr"] == ticker["askPr"] == "95200"
    assert Decimal(ticker["baseVolume"]) > 0 and ticker["usdtVolume"] == ticker["quoteVolume"]
    (mix,) = ok(http, "/api/v2/mix/market/ticker", symbol="BTCUSDT", productType="USDT-FUTURES")
    assert mix["open24h"] == mix["lastPr"] == "95000" and mix["holdingAmount"] == "0"
    trader = world.trader()
    client = world.client(trader)
    rate = client.request("GET", "/api/v2/common/trade-rate", {"symbol": "BTCUSDT", "businessType": "mix"})
    assert rate == {"makerFeeRate": "0.0002", "takerFeeRate": "0.0006"}
    with pytest.raises(BitgetAPIError) as bad:
        client.request("GET", "/api/v2/common/trade-rate", {"symbol": "BTCUSDT", "businessType": "x"})
    assert (bad.value.code, bad.value.msg) == ("40020", "Parameter businessType error")
    assert fails(http, "/api/v2/common/trade-rate", symbol="BTCUSDT", businessType="spot")[0] == "40001"  # unsigned


def test_every_answer_counts_down_the_endpoints_window(world, http, monkeypatch):
    # the limiter's windows run on the venue's wall clock: held still here, every request below
    # falls in one window however slowly the machine serves them
    venue = next(v for v in world.app.venues if v.name == "bitget")
    wall = ManualClock(time.time_ns() // 1_000_000)
    monkeypatch.setattr(venue, "wall_clock", wall)
    world.engine.clock.advance(5_000)
    seen = []
    for _ in range(3):
        response = http.get("/api/v2/spot/market/tickers")
        seen.append(response.headers["x-mbx-used-remain-limit"])
    assert seen == ["19", "18", "17"]
    assert http.get("/api/v2/mix/market/contracts", params={"productType": "USDT-FUTURES"}).headers[
        "x-mbx-used-remain-limit"] == "19"  # each endpoint has its own window
    error = http.get("/api/v2/spot/market/candles", params={"symbol": "BTCUSDT"})
    assert error.status_code == 400 and error.headers["x-mbx-used-remain-limit"] == "19"
    for _ in range(25):
        last = http.get("/api/v2/spot/market/tickers")
    assert last.status_code == 429 and last.headers["x-mbx-used-remain-limit"] == "0"
    wall.advance(999)  # the window slides on the wall clock: still full a moment before it ends
    assert http.get("/api/v2/spot/market/tickers").status_code == 429
    wall.advance(1)
    again = http.get("/api/v2/spot/market/tickers")
    assert again.status_code == 200 and again.headers["x-mbx-used-remain-limit"] == "19"


@pytest.mark.parametrize("path", ["/api/spot/v1/market/tickers", "/api/mix/v1/order/placeOrder",
                                  "/api/spot/v1/account/assets"])
def test_v1_paths_are_decommissioned(world, http, path):
    for method in ("GET", "POST"):
        response = http.request(method, path, headers={"ACCESS-KEY": "nope", "ACCESS-SIGN": "bad"})
        assert response.status_code == 400
        body = response.json()
        assert (body["code"], body["msg"], body["data"]) == (
            "30032", "The V1 API has been decommissioned. Please migrate to a newer version.", None)
        assert "x-mbx-used-remain-limit" in response.headers
    assert fails(http, "/api/v2/spot/market/nothing")[0] == "40404"
