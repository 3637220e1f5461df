"""Copy trading at scale, through the Bitget wire layer in-process (LocalexApp.handle on signed
requests: signature, rate limit off, parameters, engine, envelope; no socket).

    .venv/bin/python bench/bench_copy.py [--db copy-bench.db] [--requests 300] [--quick]

1. GET /api/v2/copy/mix-trader/order-current-track with 1,000 and with 100,000 stored tracking
   orders of one trader: the first page, a page deep in the middle (idLessThan cursor) and a
   symbol-filtered page, each timed over --requests calls (median and p99). The query walks the
   index (trader, market, status, trackingNo) from the cursor, never an offset, so the latency
   must not grow with the number stored; the query plan is printed.
2. POST /api/v2/copy/mix-trader/order-close-positions with only productType, closing 50 tracking
   orders with 200 followers each (10,050 market closes, one transaction).

Tracking orders for (1) are written straight into the store in bulk (they need no positions to be
listed); the followers and opens of (2) go through the engine as a bot's would. A SQLite file is
used, as `localex serve` runs (WAL, BEGIN IMMEDIATE); --db :memory: for an in-memory store.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import time
from decimal import Decimal as D
from urllib.parse import urlencode

from sqlalchemy import insert, text

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.copy import FollowerSetting
from localex.engine.model import DEFAULT_PERMISSIONS, OrderType, Permission, PositionSide, TradeSide
from localex.server.app import LocalexApp
from localex.wire.http import Request
from localex.store import open_store
from localex.store import schema as s

CURRENT = "/api/v2/copy/mix-trader/order-current-track"
CLOSE = "/api/v2/copy/mix-trader/order-close-positions"
MARKET = "usdt-futures"
KEY_PERMISSIONS = DEFAULT_PERMISSIONS | {Permission.COPY_TRADE}


class Signer:
    def __init__(self, key) -> None:
        self.key = key

    def request(self, method: str, path: str, query: str = "", body: bytes = b"") -> Request:
        ts = str(int(time.time() * 1000))
        message = (ts + method + path + ("?" + query if query else "")).encode() + body
        sign = base64.b64encode(hmac.new(self.key.secret.encode(), message, hashlib.sha256).digest()).decode()
        headers = {"access-key": self.key.key, "access-sign": sign, "access-timestamp": ts,
                   "access-passphrase": self.key.passphrase, "content-type": "application/json"}
        return Request(method, path, query, headers, body, client_ip="127.0.0.1")


def call(app: LocalexApp, request: Request) -> dict:
    response = app.handle(request)
    payload = json.loads(response.body)
    assert payload["code"] == "00000", payload
    return payload["data"]


def timed(app: LocalexApp, signer: Signer, params: dict, n: int) -> tuple[float, float, int]:
    """(median ms, p99 ms, rows) of n calls of order-current-track with these parameters."""
    query = urlencode(params)
    samples, rows = [], 0
    for _ in range(n):
        request = signer.request("GET", CURRENT, query)  # signing is the client's time, not timed
        t0 = time.perf_counter()
        data = call(app, request)
        samples.append((time.perf_counter() - t0) * 1000)
        rows = len(data["trackingList"])
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))], rows


def seed_tracking(engine: Engine, trader_uid: str, count: int, start_no: int) -> list[int]:
    """count open tracking orders of the trader, straight into the store (bulk insert)."""
    now = engine.now_ms()
    numbers = [start_no + i for i in range(count)]
    rows = [{
        "tracking_no": no, "trader_uid": trader_uid, "venue": "bitget", "market": MARKET,
        "symbol": "BTCUSDT" if i % 2 else "ETHUSDT", "pos_side": "long" if i % 3 else "short",
        "margin_mode": "crossed", "leverage": 20, "position_id": no - 1, "open_order_id": no - 2,
        "open_price": D("95000.0"), "open_size": D("0.01"), "open_fee": D("0.57"), "open_margin": D("47.5"),
        "open_ms": now + i, "tp_price": None, "sl_price": None, "follow_count": 0, "status": "open",
        "close_order_id": None, "close_price": D(0), "close_size": D(0), "close_fee": D(0), "close_ms": None,
        "achieved_pl": D(0), "stop_type": ""} for i, no in enumerate(numbers)]
    with engine.store.transaction() as uow:
        for chunk in range(0, len(rows), 5000):
            uow.conn.execute(insert(s.copy_tracking), rows[chunk:chunk + 5000])
    return numbers


def query_plan(engine: Engine, trader_uid: str) -> list[str]:
    with engine.store.transaction(read_only=True) as uow:
        sql = ("EXPLAIN QUERY PLAN SELECT * FROM copy_tracking WHERE trader_uid = :u AND market = :m "
               "AND status = 'open' AND tracking_no < :c ORDER BY tracking_no DESC LIMIT 20")
        return [r[-1] for r in uow.conn.execute(text(sql), {"u": trader_uid, "m": MARKET, "c": 2**62})]


def new_engine(db: str) -> Engine:
    engine = Engine(open_store(db), clock=ManualClock(), seed=1)
    install_market(engine)
    return engine


def bench_current_track(db: str, sizes: list[int], n: int) -> list[dict]:
    engine = new_engine(db)
    app = LocalexApp(engine, rate_limits=False)
    trader = engine.create_user("bitget", name="trader")
    engine.copy.make_trader(trader.uid, [(MARKET, "BTCUSDT"), (MARKET, "ETHUSDT")])
    signer = Signer(engine.create_api_key(trader.uid, permissions=KEY_PERMISSIONS))
    print("query plan:", " | ".join(query_plan(engine, trader.uid)))
    results, stored, next_no = [], 0, 1_767_225_600_000_000_000
    for size in sizes:
        numbers = seed_tracking(engine, trader.uid, size - stored, next_no)
        next_no, stored = numbers[-1] + 1, size
        every = sorted(range(1_767_225_600_000_000_000, next_no))
        middle = str(every[len(every) // 2])
        for label, params in (("first page (limit 20)", {"productType": "USDT-FUTURES"}),
                              ("first page (limit 50)", {"productType": "USDT-FUTURES", "limit": "50"}),
                              ("deep page (idLessThan)", {"productType": "USDT-FUTURES", "limit": "50",
                                                          "idLessThan": middle}),
                              ("symbol page", {"productType": "usdt-futures", "symbol": "BTCUSDT"})):
            median, p99, rows = timed(app, signer, params, n)
            results.append({"stored": size, "query": label, "median_ms": round(median, 3),
                            "p99_ms": round(p99, 3), "rows": rows})
            print(f"  {size:>7,} stored  {label:<24} median {median:7.3f} ms   p99 {p99:7.3f} ms   rows {rows}")
    engine.store.close()
    return results


def bench_close_all(db: str, tracking: int, followers: int) -> dict:
    engine = new_engine(db)
    app = LocalexApp(engine, rate_limits=False)
    trader = engine.create_user("bitget", name="trader")
    engine.fund(trader.uid, "USDT", D("10000000"), account=MARKET)
    engine.copy.make_trader(trader.uid, [(MARKET, "BTCUSDT")])
    signer = Signer(engine.create_api_key(trader.uid, permissions=KEY_PERMISSIONS))
    t0 = time.perf_counter()
    for i in range(followers):
        f = engine.create_user("bitget", name=f"follower-{i}")
        engine.fund(f.uid, "USDT", D("10000"), account=MARKET)
        engine.copy.follow(f.uid, trader.uid, [FollowerSetting("", "", MARKET, "BTCUSDT", trace_type="fixed_size",
                                                               trace_value=D("0.001"))])
    seeded = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(tracking):
        engine.place_futures_order(trader.uid, MARKET, "BTCUSDT", pos_side=PositionSide.LONG,
                                   trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.01"))
    opened = time.perf_counter() - t0
    orders = engine.copy.tracking_orders(trader.uid, MARKET, limit=tracking)
    assert len(orders) == tracking and all(t.follow_count == followers for t in orders)
    engine.set_mark("bitget", MARKET, "BTCUSDT", D("96000"))
    body = json.dumps({"productType": "USDT-FUTURES"}).encode()
    request = signer.request("POST", CLOSE, "", body)
    statements = getattr(engine.store, "statements", 0)
    t0, c0 = time.perf_counter(), time.process_time()
    closed = call(app, request)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    statements = getattr(engine.store, "statements", 0) - statements
    assert len(closed) == tracking
    assert engine.copy.tracking_orders(trader.uid, MARKET) == []
    engine.store.close()
    result = {"tracking_orders": tracking, "followers": followers, "closes": tracking * (followers + 1),
              "close_all_s": round(elapsed, 3), "per_close_ms": round(elapsed * 1000 / (tracking * (followers + 1)), 3),
              "close_all_cpu_s": round(cpu, 3), "statements": statements,
              "seed_followers_s": round(seeded, 3), "opens_s": round(opened, 3),
              "per_open_with_copies_ms": round(opened * 1000 / tracking, 1)}
    print(f"  close-all: {tracking} tracking orders x {followers} followers = {result['closes']:,} market closes "
          f"in one transaction: {elapsed:.2f} s ({result['per_close_ms']} ms each; {cpu:.2f} s CPU, "
          f"{statements} statements)")
    print(f"  (seeding {followers} followers {seeded:.2f} s; {tracking} trader opens, each copied "
          f"{followers} times: {opened:.2f} s, {result['per_open_with_copies_ms']} ms per open)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="SQLite file (default: a fresh temporary file); :memory: allowed")
    parser.add_argument("--requests", type=int, default=300, help="timed calls per query")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10,000 instead of 100,000; 10 x 20")
    parser.add_argument("--close-only", action="store_true", help="only order-close-positions")
    args = parser.parse_args()
    big = 10_000 if args.quick else 100_000
    tracking, followers = (10, 20) if args.quick else (50, 200)
    with tempfile.TemporaryDirectory() as tmp:
        def db(name: str) -> str:
            if args.db == ":memory:":
                return ":memory:"
            return args.db + "." + name if args.db else os.path.join(tmp, name + ".db")
        current = None
        if not args.close_only:
            print(f"order-current-track ({args.requests} calls per query, in-process)")
            current = bench_current_track(db("current"), [1_000, big], args.requests)
        print("order-close-positions, productType only")
        close = bench_close_all(db("close"), tracking, followers)
    print(json.dumps({"python": sys.version.split()[0], "current_track": current, "close_all": close}))


if __name__ == "__main__":
    main()
