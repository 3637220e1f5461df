"""What a batch costs per order against one request per order, side by side in one run, in-process
through LocalexApp.handle (signature, parameters, engine, envelope; no socket):

    .venv/bin/python bench/bench_batch_futures.py [--orders 50] [--rounds 5] [--json]

1. Bitget futures: 50 resting limit orders placed by 50 place-order requests versus by one
   batch-place-order request of 50;
2. the same 50 cancelled by 50 cancel-order requests versus one batch-cancel-orders (by id list)
   versus one cancel-all-orders.

Each figure is the median over the rounds of server CPU per order, with the statements sent to
the database per order; each round uses a fresh engine. Goal: a batch costs about one single
request per order, or less (ratio <= ~1), and is one transaction.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from decimal import Decimal as D
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_engine import Counter, bitget_request, new_engine  # noqa: E402

from localex.server.app import LocalexApp  # noqa: E402

PT, M = "USDT-FUTURES", "usdt-futures"
PLACE, BATCH_PLACE = "/api/v2/mix/order/place-order", "/api/v2/mix/order/batch-place-order"
CANCEL, BATCH_CANCEL = "/api/v2/mix/order/cancel-order", "/api/v2/mix/order/batch-cancel-orders"
CANCEL_ALL = "/api/v2/mix/order/cancel-all-orders"
TOP = {"symbol": "BTCUSDT", "productType": PT, "marginMode": "crossed", "marginCoin": "USDT"}


def item(i: int) -> dict:
    return {"size": "0.001", "side": "buy", "orderType": "limit", "price": str(80000 - i)}


def setup():
    engine = new_engine()
    app = LocalexApp(engine, rate_limits=False)
    user = engine.create_user("bitget", name="bench")
    engine.fund(user.uid, "USDT", D("100000000"), account=M)
    return engine, app, Counter(engine.store), engine.create_api_key(user.uid), user.uid


def timed(app, counter, requests) -> tuple[float, int]:
    """CPU seconds and statements for handling these requests (signed beforehand)."""
    before = counter.value()
    t0 = time.process_time()
    for request in requests:
        response = app.handle(request)
        assert response.status == 200 and response.body.startswith(b'{"code":"00000"'), response.body
    return time.process_time() - t0, counter.value() - before


def body(payload: dict) -> bytes:
    return json.dumps(payload).encode()


def one_round(n: int) -> dict:
    out = {}
    # singles
    engine, app, counter, key, uid = setup()
    places = [bitget_request(key, "POST", PLACE, "", body({**TOP, **item(i)})) for i in range(n)]
    out["place_single"] = timed(app, counter, places)
    ids = [o.order_id for o in engine.futures_orders(uid, open_only=True)]
    assert len(ids) == n
    cancels = [bitget_request(key, "POST", CANCEL, "", body({"symbol": "BTCUSDT", "productType": PT,
                                                             "orderId": str(i)})) for i in ids]
    out["cancel_single"] = timed(app, counter, cancels)
    assert engine.futures_orders(uid, open_only=True) == []
    engine.store.close()
    # batches
    engine, app, counter, key, uid = setup()
    batch = bitget_request(key, "POST", BATCH_PLACE, "", body({**TOP, "orderList": [item(i) for i in range(n)]}))
    out["place_batch"] = timed(app, counter, [batch])
    ids = [o.order_id for o in engine.futures_orders(uid, open_only=True)]
    assert len(ids) == n
    by_list = bitget_request(key, "POST", BATCH_CANCEL, "", body({
        "symbol": "BTCUSDT", "productType": PT, "orderIdList": [{"orderId": str(i)} for i in ids]}))
    out["cancel_batch"] = timed(app, counter, [by_list])
    assert engine.futures_orders(uid, open_only=True) == []
    app.handle(bitget_request(key, "POST", BATCH_PLACE, "", body({**TOP, "orderList": [item(i) for i in range(n)]})))
    out["cancel_all"] = timed(app, counter, [bitget_request(key, "POST", CANCEL_ALL, "", body({"productType": PT}))])
    assert engine.futures_orders(uid, open_only=True) == []
    engine.store.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rounds = [one_round(args.orders) for _ in range(args.rounds)]
    report = {}
    for name in rounds[0]:
        cpu = statistics.median(r[name][0] for r in rounds) / args.orders * 1e6
        statements = statistics.median(r[name][1] for r in rounds) / args.orders
        report[name] = {"cpu_us_per_order": round(cpu, 1), "statements_per_order": round(statements, 2)}
    report["ratios"] = {
        "place_batch_vs_single": round(report["place_batch"]["cpu_us_per_order"]
                                       / report["place_single"]["cpu_us_per_order"], 2),
        "cancel_batch_vs_single": round(report["cancel_batch"]["cpu_us_per_order"]
                                        / report["cancel_single"]["cpu_us_per_order"], 2),
        "cancel_all_vs_single": round(report["cancel_all"]["cpu_us_per_order"]
                                      / report["cancel_single"]["cpu_us_per_order"], 2),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, row in report.items():
            print(f"{name:16} {row}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
