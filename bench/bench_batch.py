"""What a batch costs per order, against the same orders one request at a time.

    .venv/bin/python bench/bench_batch.py [--orders 50] [--rounds 7] [--db file|memory]

In-process, through LocalexApp.handle with freshly signed Bitget requests (no socket), on one
emulator (rate limits off, a SQLite file by default, as `localex serve --db FILE` runs it). Each
round measures, side by side and in turn:

- `place-order` x N (resting limit buys) against one `batch-orders` of the same N orders;
- `cancel-order` x N against one `batch-cancel-order` of N;
- `cancel-order` x N against one `cancel-symbol-order` over N open orders.

It reports the median time per order of each way, the ratio batch / single (the goal: at most
1.0, a batch costs no more per order than a request per order), and the SQL statements per order.
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

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from localex.testing import Emulator  # noqa: E402
from localex.wire.http import Request  # noqa: E402

SYMBOL = "BTCUSDT"


class Signer:
    def __init__(self, creds) -> None:
        self.creds = creds

    def post(self, path: str, body: dict) -> Request:
        raw = json.dumps(body, separators=(",", ":")).encode()
        ts = str(time.time_ns() // 1_000_000)
        sign = base64.b64encode(hmac.new(self.creds.secret_key.encode(), (ts + "POST" + path).encode() + raw,
                                         hashlib.sha256).digest()).decode()
        headers = {"access-key": self.creds.api_key, "access-sign": sign, "access-timestamp": ts,
                   "access-passphrase": self.creds.passphrase, "content-type": "application/json",
                   "host": "api.bitget.com"}
        return Request("POST", path, "", headers, raw, "127.0.0.1")


def order(i: int) -> dict:
    return {"side": "buy", "orderType": "limit", "force": "gtc", "price": str(80000 + i), "size": "0.001"}


def run_round(emu: Emulator, signer: Signer, uid: str, n: int) -> dict:
    store = emu.engine.store

    def send(path: str, body: dict) -> dict:
        resp = emu.app.handle(signer.post(path, body))
        data = json.loads(resp.body)
        assert resp.status == 200 and data["code"] == "00000", data
        return data["data"]

    def timed(fn):
        before = store.statements
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, store.statements - before, out

    figures = {}
    # one at a time
    t, st, ids = timed(lambda: [send("/api/v2/spot/trade/place-order", {"symbol": SYMBOL, **order(i)})["orderId"]
                               for i in range(n)])
    figures["place-order x N"] = (t, st)
    t, st, _ = timed(lambda: [send("/api/v2/spot/trade/cancel-order", {"symbol": SYMBOL, "orderId": i})
                              for i in ids])
    figures["cancel-order x N"] = (t, st)
    # batches
    t, st, data = timed(lambda: send("/api/v2/spot/trade/batch-orders",
                                     {"symbol": SYMBOL, "orderList": [order(i) for i in range(n)]}))
    assert len(data["successList"]) == n, data
    figures["batch-orders"] = (t, st)
    t, st, data = timed(lambda: send("/api/v2/spot/trade/batch-cancel-order", {
        "symbol": SYMBOL, "orderList": [{"orderId": s["orderId"]} for s in data["successList"]]}))
    assert len(data["successList"]) == n, data
    figures["batch-cancel-order"] = (t, st)
    send("/api/v2/spot/trade/batch-orders", {"symbol": SYMBOL, "orderList": [order(i) for i in range(n)]})
    t, st, _ = timed(lambda: send("/api/v2/spot/trade/cancel-symbol-order", {"symbol": SYMBOL}))
    figures["cancel-symbol-order"] = (t, st)
    assert emu.engine.spot_orders(uid, open_only=True) == []
    return {k: (t / n, st / n) for k, (t, st) in figures.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--orders", type=int, default=50)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--db", choices=["file", "memory"], default="file")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bench.db") if args.db == "file" else ":memory:"
        emu = Emulator(rate_limits=False, db=db)
        creds = emu.create_user(funds={"USDT": "10000000"})
        signer = Signer(creds)
        run_round(emu, signer, creds.uid, args.orders)  # warm-up
        rounds = [run_round(emu, signer, creds.uid, args.orders) for _ in range(args.rounds)]
    med = {k: (statistics.median(r[k][0] for r in rounds), statistics.median(r[k][1] for r in rounds))
           for k in rounds[0]}
    print(f"{args.orders} orders, {args.rounds} rounds, SQLite {args.db}; median per order")
    print(f"{'way':<22}{'µs / order':>12}{'statements / order':>20}")
    for k, (t, st) in med.items():
        print(f"{k:<22}{t * 1e6:>12.0f}{st:>20.2f}")
    pairs = [("batch-orders", "place-order x N"), ("batch-cancel-order", "cancel-order x N"),
             ("cancel-symbol-order", "cancel-order x N")]
    for batch, single in pairs:
        print(f"{batch} / {single}: {med[batch][0] / med[single][0]:.2f}x the time per order (goal <= 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
