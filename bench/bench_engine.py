"""The engine's own figures, in-process (no socket): what one request, one fill, one list, one
clock advance costs, with the statements each sends to the database.

    .venv/bin/python bench/bench_engine.py [--quick] [--json]

1. orderInfo and a resting place-order through LocalexApp.handle (signature, parameters, engine,
   envelope), median server CPU per request and statements per request.
2. One fill: a mark move that reaches a resting spot order (the only one), CPU per move; and the
   engine's part of a resting place-order (Engine.place_spot_order, no wire).
3. CoinW GET /v1/perpum/order (positionType=plan... "execute") for a user with 5,000 finished
   orders in their history versus none: the ratio must stay near 1.
4. A manual clock advanced 24 h (1 h with --quick) with a random walk on every demo instrument
   and nothing resting: wall seconds.
5. The same advance over the ASGI app (in slices) while a request arrives every 10 ms: the
   longest wait.

Statements are counted by the store when it counts them (SqlStore.statements) and otherwise
with SQLAlchemy's before_cursor_execute hook.
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

from sqlalchemy import event

from localex.demo import install_market, set_price_paths
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import OrderType, PositionSide, Side, TradeSide
from localex.server.app import LocalexApp
from localex.store import open_store
from localex.wire.http import Request

HOUR_MS = 3_600_000


class Counter:
    """Statements sent to the database by a store."""

    def __init__(self, store) -> None:
        self.store = store
        self.hooked = 0
        if not hasattr(store, "statements"):
            event.listen(store.engine, "before_cursor_execute", self._hook)

    def _hook(self, *_args) -> None:
        self.hooked += 1

    def value(self) -> int:
        return getattr(self.store, "statements", 0) + self.hooked


def bitget_request(key, method: str, path: str, query: str = "", body: bytes = b"") -> Request:
    ts = str(int(time.time() * 1000))
    message = (ts + method + path + ("?" + query if query else "")).encode() + body
    sign = base64.b64encode(hmac.new(key.secret.encode(), message, hashlib.sha256).digest()).decode()
    headers = {"access-key": key.key, "access-sign": sign, "access-timestamp": ts,
               "access-passphrase": key.passphrase, "content-type": "application/json"}
    return Request(method, path, query, headers, body, client_ip="127.0.0.1")


def coinw_request(key, method: str, path: str, query: str = "") -> Request:
    ts = str(int(time.time() * 1000))
    message = (ts + method + path + ("?" + query if query else "")).encode()
    sign = base64.b64encode(hmac.new(key.secret.encode(), message, hashlib.sha256).digest()).decode()
    headers = {"api_key": key.key, "timestamp": ts, "sign": sign, "content-type": "application/json"}
    return Request(method, path, query, headers, b"", client_ip="127.0.0.1")


def per_call(app: LocalexApp, counter: Counter, make, n: int) -> dict:
    """Median CPU µs and statements per request over n requests (signing not timed)."""
    samples, statements = [], []
    for i in range(n):
        request = make(i)
        before = counter.value()
        t0 = time.process_time()
        response = app.handle(request)
        samples.append((time.process_time() - t0) * 1e6)
        statements.append(counter.value() - before)
        assert response.status == 200, response.body
    return {"cpu_us": round(statistics.median(samples), 1), "statements": statistics.median(statements)}


def new_engine() -> Engine:
    engine = Engine(open_store(":memory:"), clock=ManualClock(1_767_225_600_000), seed=1)
    install_market(engine)
    return engine


def bench_requests(n: int) -> dict:
    engine = new_engine()
    app = LocalexApp(engine, rate_limits=False)
    counter = Counter(engine.store)
    user = engine.create_user("bitget", name="bench")
    engine.fund(user.uid, "USDT", D("100000000"))
    key = engine.create_api_key(user.uid)
    order = engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"), D("90000"))
    info = per_call(app, counter, lambda i: bitget_request(
        key, "GET", "/api/v2/spot/trade/orderInfo", urlencode({"orderId": str(order.order_id)})), n)
    place = per_call(app, counter, lambda i: bitget_request(
        key, "POST", "/api/v2/spot/trade/place-order", "", json.dumps({
            "symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
            "price": str(80000 - i % 1000), "size": "0.001"}).encode()), n)
    engine.store.close()
    return {"orderInfo": info, "place_order": place}


def bench_engine_place(n: int) -> dict:
    """The engine's part of a resting place-order: Engine.place_spot_order alone (no wire), CPU
    and statements per call, median over n orders."""
    engine = new_engine()
    counter = Counter(engine.store)
    user = engine.create_user("bitget", name="placer")
    engine.fund(user.uid, "USDT", D("100000000"))
    engine.set_mark("bitget", "spot", "BTCUSDT", D("95000"))
    samples, statements = [], []
    for i in range(n):
        before = counter.value()
        t0 = time.process_time()
        engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"), D(80000 - i % 1000))
        samples.append((time.process_time() - t0) * 1e6)
        statements.append(counter.value() - before)
    engine.store.close()
    return {"cpu_us": round(statistics.median(samples), 1), "statements": statistics.median(statements)}


def bench_fill(n: int) -> dict:
    """CPU per mark move that reaches exactly one resting order (the only one resting): n moves."""
    engine = new_engine()
    counter = Counter(engine.store)
    user = engine.create_user("bitget", name="filler")
    engine.fund(user.uid, "USDT", D("100000000"))
    engine.set_mark("bitget", "spot", "BTCUSDT", D("95000"))
    samples, statements = [], []
    for i in range(n):
        engine.place_spot_order(user.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"), D(90000 - i))
        before = counter.value()
        t0 = time.process_time()
        fills = engine.set_mark("bitget", "spot", "BTCUSDT", D(90000 - i))
        samples.append((time.process_time() - t0) * 1e6)
        statements.append(counter.value() - before)
        assert len(fills) == 1
    engine.store.close()
    return {"cpu_us": round(statistics.median(samples), 1), "statements": statistics.median(statements)}


def bench_waits(hours: int) -> dict:
    """A long clock advance over the ASGI app (run in slices) while a request arrives every
    10 ms: the longest any of them waited for its answer."""
    import asyncio

    engine = new_engine()
    set_price_paths(engine, "random")
    app = LocalexApp(engine, rate_limits=False)

    async def call(method: str, path: str, body: bytes = b"") -> int:
        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(),
                 "query_string": b"", "headers": [(b"content-type", b"application/json")],
                 "client": ("127.0.0.1", 1)}
        sent: list = []

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)
        return sent[0]["status"]

    async def scenario():
        advance = asyncio.create_task(call("POST", "/localex/clock",
                                           json.dumps({"advance": hours * HOUR_MS}).encode()))
        waits = []
        t_start = time.perf_counter()
        await asyncio.sleep(0)
        while not advance.done():
            due = time.perf_counter() + 0.01  # when the next request arrives
            await asyncio.sleep(0.01)  # it is taken in only when the loop is free
            assert await call("GET", "/localex/clock") == 200
            waits.append((time.perf_counter() - due) * 1000)  # from its arrival to its answer
        assert await advance == 200
        return waits, time.perf_counter() - t_start

    waits, total = asyncio.run(scenario())
    engine.store.close()
    return {"hours": hours, "advance_s": round(total, 3), "requests": len(waits),
            "max_wait_ms": round(max(waits), 1), "median_wait_ms": round(statistics.median(waits), 2)}


def bench_coinw_history(history: int, n: int) -> dict:
    """GET /v1/perpum/order for a user with `history` finished orders versus a user with none."""
    engine = new_engine()
    app = LocalexApp(engine, rate_limits=False)
    counter = Counter(engine.store)
    out = {}
    for label, count in (("none", 0), ("history", history)):
        user = engine.create_user("coinw", name=f"user-{label}")
        engine.fund(user.uid, "USDT", D("100000000"), account="futures")
        key = engine.create_api_key(user.uid)
        for _ in range(count // 2):  # each round trip leaves two finished orders
            engine.place_futures_order(user.uid, "futures", "BTC", pos_side=PositionSide.LONG,
                                       trade_side=TradeSide.OPEN, order_type=OrderType.MARKET,
                                       size=D("0.001"))
            pos = engine.positions(user.uid, market="futures")[0]
            engine.close_position(user.uid, pos.position_id)
        engine.place_futures_order(user.uid, "futures", "BTC", pos_side=PositionSide.LONG,
                                   trade_side=TradeSide.OPEN, order_type=OrderType.LIMIT,
                                   size=D("0.001"), price=D("50000"))
        query = "positionType=execute"
        out[label] = per_call(app, counter, lambda i: coinw_request(key, "GET", "/v1/perpum/order", query), n)
    engine.store.close()
    out["ratio"] = round(out["history"]["cpu_us"] / out["none"]["cpu_us"], 2)
    return out


def bench_advance(hours: int) -> dict:
    engine = new_engine()
    set_price_paths(engine, "random")
    t0, c0 = time.perf_counter(), time.process_time()
    applied = engine.advance_clock(hours * HOUR_MS)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    engine.store.close()
    # cpu_seconds: this process's CPU time, the steadier figure on a shared machine
    return {"hours": hours, "prices_applied": applied, "seconds": round(elapsed, 3),
            "cpu_seconds": round(cpu, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer requests, 1 h advance")
    parser.add_argument("--hours", type=int, help="hours to advance (default 24, --quick 1)")
    parser.add_argument("--only", help="comma-separated: requests,fill,place,history,advance,waits")
    args = parser.parse_args()
    n = 200 if args.quick else 2000
    only = set(args.only.split(",")) if args.only else {"requests", "fill", "place", "history", "advance",
                                                        "waits"}
    result: dict = {"python": sys.version.split()[0]}
    if "requests" in only:
        result["requests"] = bench_requests(n)
        print("requests:", result["requests"], flush=True)
    if "fill" in only:
        result["fill"] = bench_fill(200 if args.quick else 1000)
        print("one fill:", result["fill"], flush=True)
    if "place" in only:
        result["engine_place"] = bench_engine_place(n)
        print("engine place_spot_order (resting limit):", result["engine_place"], flush=True)
    if "history" in only:
        result["coinw_order_history"] = bench_coinw_history(500 if args.quick else 5000, n // 4)
        print("coinw GET /v1/perpum/order:", result["coinw_order_history"], flush=True)
    if "advance" in only:
        result["advance"] = bench_advance(args.hours or (1 if args.quick else 24))
        print("advance:", result["advance"], flush=True)
    if "waits" in only:
        result["waits"] = bench_waits(2 if args.quick else 24)
        print("waits during an advance:", result["waits"], flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
