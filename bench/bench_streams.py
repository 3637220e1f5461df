"""Streams: how long a REST order takes to reach its private push, and one price change fanned
out to 100 subscribed connections, each as a ratio against a REST request in the same run.

    .venv/bin/python bench/bench_streams.py [--orders 300] [--moves 30] [--connections 100]

A uvicorn server in a thread of this process (as the `localex_server` fixture runs), rate limits
off; clients (httpx for REST, `websockets` for streams) on 127.0.0.1 in this process's event
loop.

- order -> push: a signed place-order (a limit buy far below the market) is sent; the REST time
  is until its answer arrives, the push time until the `orders` push with its orderId arrives on
  a logged-in private connection. Goal: the push within 2x the REST answer's time at p50.
- fan-out: one control-plane price change; the REST time is until its answer, the fan-out time
  until every one of N connections subscribed to `ticker` has the new price. Goal: 100
  connections within 5x one REST request at p50.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx  # noqa: E402
import orjson  # noqa: E402
import websockets  # noqa: E402

from localex.testing import Emulator, ServerThread  # noqa: E402

PLACE = "/api/v2/spot/trade/place-order"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def signed(creds, body: bytes) -> dict:
    ts = str(int(time.time() * 1000))
    sign = base64.b64encode(hmac.new(creds.secret_key.encode(), (ts + "POST" + PLACE).encode() + body,
                                     hashlib.sha256).digest()).decode()
    return {"ACCESS-KEY": creds.api_key, "ACCESS-SIGN": sign, "ACCESS-TIMESTAMP": ts,
            "ACCESS-PASSPHRASE": creds.passphrase, "Content-Type": "application/json"}


def login(creds) -> str:
    ts = str(int(time.time()))
    sign = base64.b64encode(hmac.new(creds.secret_key.encode(), f"{ts}GET/user/verify".encode(),
                                     hashlib.sha256).digest()).decode()
    return json.dumps({"op": "login", "args": [{"apiKey": creds.api_key, "passphrase": creds.passphrase,
                                                "timestamp": ts, "sign": sign}]})


async def order_to_push(url: str, creds, count: int) -> tuple[list[float], list[float]]:
    rest, push = [], []
    async with httpx.AsyncClient(base_url=url) as http, \
            websockets.connect(url.replace("http", "ws") + "/v2/ws/private") as ws:
        await ws.send(login(creds))
        await ws.recv()
        await ws.send(json.dumps({"op": "subscribe", "args": [{"instType": "SPOT", "channel": "orders",
                                                               "instId": "default"}]}))
        await ws.recv()
        for i in range(count):
            body = orjson.dumps({"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
                                 "price": str(50000 + i % 100), "size": "0.0001"})
            t0 = time.perf_counter()
            answer = await http.post(PLACE, content=body, headers=signed(creds, body))
            t1 = time.perf_counter()
            order_id = answer.json()["data"]["orderId"]
            while True:
                frame = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
                if any(row.get("orderId") == order_id for row in frame.get("data", [])):
                    break
            t2 = time.perf_counter()
            rest.append(t1 - t0)
            push.append(t2 - t0)
    return rest, push


async def fan_out(url: str, moves: int, connections: int) -> tuple[list[float], list[float]]:
    rest, spread = [], []
    sockets = [await websockets.connect(url.replace("http", "ws") + "/v2/ws/public") for _ in range(connections)]
    try:
        for ws in sockets:
            await ws.send(json.dumps({"op": "subscribe", "args": [{"instType": "SPOT", "channel": "ticker",
                                                                   "instId": "BTCUSDT"}]}))
            await ws.recv()  # ack
            await ws.recv()  # snapshot
        async with httpx.AsyncClient(base_url=url) as http:
            for i in range(moves):
                price = f"{95000 + (i + 1) * 10}.00"

                async def until_price(ws):
                    while True:
                        frame = orjson.loads(await asyncio.wait_for(ws.recv(), 30))
                        if frame["data"][0]["lastPr"] == price:
                            return time.perf_counter()

                waits = [asyncio.ensure_future(until_price(ws)) for ws in sockets]
                t0 = time.perf_counter()
                await http.post("/localex/prices", json={"venue": "bitget", "symbol": "BTCUSDT", "price": price})
                t1 = time.perf_counter()
                last = max(await asyncio.gather(*waits))
                rest.append(t1 - t0)
                spread.append(last - t0)
    finally:
        for ws in sockets:
            await ws.close()
    return rest, spread


def report(name: str, goal: float, rest: list[float], other: list[float]) -> dict:
    r50, r99 = statistics.median(rest), percentile(rest, 0.99)
    o50, o99 = statistics.median(other), percentile(other, 0.99)
    print(f"{name}: REST p50 {r50 * 1e3:.2f} ms p99 {r99 * 1e3:.2f} ms | stream p50 {o50 * 1e3:.2f} ms "
          f"p99 {o99 * 1e3:.2f} ms | ratio p50 {o50 / r50:.2f}x p99 {o99 / r99:.2f}x (goal <= {goal}x at p50)")
    return {"rest_p50_ms": r50 * 1e3, "rest_p99_ms": r99 * 1e3, "stream_p50_ms": o50 * 1e3,
            "stream_p99_ms": o99 * 1e3, "ratio_p50": o50 / r50, "ratio_p99": o99 / r99, "goal_p50": goal}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--moves", type=int, default=30)
    parser.add_argument("--connections", type=int, default=100)
    args = parser.parse_args()
    emulator = Emulator(rate_limits=False)
    creds = emulator.create_user(funds={"USDT": "100000000"})
    server = ServerThread(emulator.app).start()
    try:
        rest, push = asyncio.run(order_to_push(server.url, creds, args.orders))
        a = report(f"order -> private push ({args.orders} orders)", 2.0, rest, push)
        rest, spread = asyncio.run(fan_out(server.url, args.moves, args.connections))
        b = report(f"price change -> {args.connections} connections ({args.moves} moves)", 5.0, rest, spread)
    finally:
        server.stop()
    out = Path(__file__).parent / "results" / "streams.json"
    out.write_text(json.dumps({"order_to_push": a, "fan_out": b}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
