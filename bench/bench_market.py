"""The market tape's figures, in-process (no socket), side by side in one run:

    .venv/bin/python bench/bench_market.py [--quick]

1. Requests through LocalexApp.handle (signature, parameters, engine, envelope), median CPU per
   request, as ratios against an authenticated orderInfo measured in the same run:
   spot candles (1,000 one-minute bars), futures candles (1,000 one-minute bars), futures
   candles (1,000 five-minute bars), the spot order book (150 levels a side), the futures
   merge-depth (150 levels), spot tickers (every symbol, 24-hour fields), recent trades (100),
   hourly and daily spot candles (the whole history: read from folded hours after the first read).
   Goal: a 1,000-bar candle request within 25x orderInfo, a 150-level book within 5x.
2. The tape's cost per price point: a price walk point by point (Engine.set_mark) with the
   tape recording and with its recording switched off, in alternating rounds; and the time
   inside Tape.record itself. Goal: under 10% of a point's cost.
3. A manual clock advanced 6 hours (1 with --quick) with a random walk on every demo instrument,
   with and without the tape: wall seconds and the ratio.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import statistics
import sys
import time
from decimal import Decimal as D
from urllib.parse import urlencode

from localex.demo import install_market, set_price_paths
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import OrderType, Side
from localex.engine.pricepaths import RandomWalk
from localex.server.app import LocalexApp
from localex.store import open_store
from localex.wire.http import Request

T0 = 1_767_225_600_000
MINUTE_MS, HOUR_MS = 60_000, 3_600_000


def signed(key, method: str, path: str, query: str = "") -> Request:
    ts = str(int(time.time() * 1000))
    message = (ts + method + path + ("?" + query if query else "")).encode()
    sign = base64.b64encode(hmac.new(key.secret.encode(), message, hashlib.sha256).digest()).decode()
    headers = {"access-key": key.key, "access-sign": sign, "access-timestamp": ts,
               "access-passphrase": key.passphrase, "content-type": "application/json"}
    return Request(method, path, query, headers, b"", client_ip="127.0.0.1")


def public(path: str, **params) -> Request:
    return Request("GET", path, urlencode(params), {}, b"", client_ip="127.0.0.1")


def cpu_us(app: LocalexApp, make, n: int) -> float:
    samples = []
    for _ in range(n):
        request = make()
        t0 = time.process_time()
        response = app.handle(request)
        samples.append((time.process_time() - t0) * 1e6)
        assert response.status == 200, response.body[:200]
    return round(statistics.median(samples), 1)


def with_history(minutes: int) -> Engine:
    """The demo market with `minutes` of a random walk (a point every 15 s) on BTCUSDT spot
    and USDT-M futures."""
    engine = Engine(open_store(":memory:"), clock=ManualClock(T0), seed=1)
    install_market(engine)
    for inst in engine.instruments("bitget"):
        if inst.symbol == "BTCUSDT":
            engine.simulation.set_path(inst, RandomWalk(D("95000"), origin_ms=T0, seed=inst.key,
                                                        step_ms=15_000, price_scale=inst.price_scale))
    engine.advance_clock(minutes * MINUTE_MS)
    return engine


def bench_requests(n: int, minutes: int) -> dict:
    engine = with_history(minutes)
    app = LocalexApp(engine, rate_limits=False)
    user = engine.create_user("bitget", name="bench")
    engine.fund(user.uid, "USDT", D("100000000"))
    key = engine.create_api_key(user.uid)
    order = engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"), D("90000"))
    q = urlencode({"orderId": str(order.order_id)})
    base = cpu_us(app, lambda: signed(key, "GET", "/api/v2/spot/trade/orderInfo", q), n)
    mix = {"symbol": "BTCUSDT", "productType": "USDT-FUTURES"}
    targets = {
        "spot candles 1min x1000": lambda: public("/api/v2/spot/market/candles", symbol="BTCUSDT",
                                                  granularity="1min", limit="1000"),
        "mix candles 1m x1000": lambda: public("/api/v2/mix/market/candles", granularity="1m",
                                               limit="1000", **mix),
        "mix candles 5m x1000": lambda: public("/api/v2/mix/market/candles", granularity="5m",
                                               limit="1000", **mix),
        "spot candles 1h x1000": lambda: public("/api/v2/spot/market/candles", symbol="BTCUSDT",
                                                granularity="1h", limit="1000"),
        "spot candles 1day": lambda: public("/api/v2/spot/market/candles", symbol="BTCUSDT",
                                            granularity="1day", limit="1000"),
        "spot orderbook 150": lambda: public("/api/v2/spot/market/orderbook", symbol="BTCUSDT", limit="150"),
        "mix merge-depth 150": lambda: public("/api/v2/mix/market/merge-depth", limit="max", **mix),
        "spot tickers (all)": lambda: public("/api/v2/spot/market/tickers"),
        "spot fills 100": lambda: public("/api/v2/spot/market/fills", symbol="BTCUSDT", limit="100"),
    }
    out = {"orderInfo_cpu_us": base}
    for name, make in targets.items():
        value = cpu_us(app, make, max(5, n // 10))
        out[name] = {"cpu_us": value, "x_orderInfo": round(value / base, 2)}
    engine.store.close()
    return out


def bench_points(points: int, rounds: int) -> dict:
    engine = Engine(open_store(":memory:"), clock=ManualClock(T0), seed=1)
    install_market(engine)
    record = engine.tape.record
    inside = [0.0]

    def timed(*args, **kwargs):
        t0 = time.process_time()
        record(*args, **kwargs)
        inside[0] += time.process_time() - t0

    def walk(n: int) -> float:
        t0 = time.process_time()
        for i in range(n):
            engine.clock.advance(1000)
            engine.set_mark("bitget", "spot", "BTCUSDT", D(95000 + (i * 7919) % 200))
        return (time.process_time() - t0) / n * 1e6

    on, off, recorded = [], [], 0
    for _ in range(rounds):
        engine.tape.record = timed
        on.append(walk(points))
        recorded += points
        engine.tape.record = lambda *a, **k: None
        off.append(walk(points))
    engine.tape.record = record
    engine.store.close()
    on_us, off_us = statistics.median(on), statistics.median(off)
    record_us = inside[0] / recorded * 1e6
    return {"set_mark_with_tape_us": round(on_us, 1), "set_mark_without_tape_us": round(off_us, 1),
            "difference_us": round(on_us - off_us, 1), "inside_record_us": round(record_us, 1),
            "record_share_of_point": round(record_us / on_us, 3)}


def bench_advance(hours: int) -> dict:
    out = {}
    for label in ("with_tape", "without_tape"):
        engine = Engine(open_store(":memory:"), clock=ManualClock(T0), seed=1)
        install_market(engine)
        set_price_paths(engine, "random")
        if label == "without_tape":
            engine.tape.record = lambda *a, **k: None
        t0 = time.perf_counter()
        applied = engine.advance_clock(hours * HOUR_MS)
        out[label] = {"seconds": round(time.perf_counter() - t0, 3), "prices": applied}
        engine.store.close()
    out["ratio"] = round(out["with_tape"]["seconds"] / out["without_tape"]["seconds"], 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    args = parser.parse_args()
    result: dict = {"python": sys.version.split()[0]}
    result["requests"] = bench_requests(40 if args.quick else 200, 1100)
    print("requests:", json.dumps(result["requests"], indent=1), flush=True)
    result["points"] = bench_points(200 if args.quick else 500, 4 if args.quick else 10)
    print("tape per point:", result["points"], flush=True)
    result["advance"] = bench_advance(1 if args.quick else 6)
    print("advance:", result["advance"], flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
