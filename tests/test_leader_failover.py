"""kill -9 of the market leader: another worker leads within a few seconds and walks on from the
stored state; no fill is doubled or lost."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from localex.engine import Engine
from localex.engine.model import OrderStatus, Side
from localex.store import open_store
from redis_support import redis_prefix  # noqa: F401 (fixture)
from scale_support import Worker, demo_credentials, wait_for

SYMBOL = "BTCUSDT"
KEY = "bitget:spot:BTCUSDT"


@pytest.fixture
def workers(tmp_path, redis_prefix):
    started: list[Worker] = []
    db = str(tmp_path / "world.db")

    def start(name: str, *args: str) -> Worker:
        extra = ("--write-credentials", "creds.json") if not started else ("--no-credentials-file",)
        worker = Worker(tmp_path, name, redis_prefix, db, *extra, "--price-path", "random",
                        "--no-rate-limits", *args)
        started.append(worker)
        worker.wait_healthy()
        return worker

    start.db = db
    yield start
    for worker in started:
        worker.stop()


def _straddle(worker: Worker, creds: dict, pairs: int) -> list[str]:
    """Resting orders just around the mark, on both sides: the walk's next steps cross some."""
    ids = []
    for k in range(1, pairs + 1):
        mark = Decimal(worker.http.get("/localex/prices").json()[KEY])
        for side, price in (("buy", mark - Decimal("0.5") * k), ("sell", mark + Decimal("0.5") * k)):
            r = worker.signed(creds, "POST", "/api/v2/spot/trade/place-order", {
                "symbol": SYMBOL, "side": side, "orderType": "limit", "force": "gtc",
                "price": str(price.quantize(Decimal("0.01"))), "size": "0.0001"})
            assert r.json()["code"] == "00000", r.text
            ids.append(r.json()["data"]["orderId"])
    return ids


def test_kill_9_of_the_leader_a_new_leader_and_no_fill_doubled_or_lost(workers):
    a = workers("a")
    wait_for(a.leads, 10, "the first worker leads")
    b = workers("b")
    assert not b.leads()
    creds = demo_credentials(a.out_path.parent)
    placed = _straddle(b, creds, 6)  # through the follower; the leader's walk fills them
    wait_for(lambda: b.http.get("/localex/fills", params={"uid": creds["uid"]}).json(), 15,
             "a fill by the first leader")
    a.kill9()
    killed_at = time.monotonic()
    killed_ms = int(time.time() * 1000)
    wait_for(b.leads, 15, "the second worker leads")
    failover_s = time.monotonic() - killed_at
    print(f"failover after kill -9: {failover_s:.2f} s")
    placed += _straddle(b, creds, 6)
    wait_for(lambda: any(int(f["createdMs"]) > killed_ms
                         for f in b.http.get("/localex/fills", params={"uid": creds["uid"]}).json()),
             20, "a fill by the new leader")
    b.stop()  # the walk stops; the store holds the final state

    engine = Engine(open_store(workers.db))
    uid = creds["uid"]
    orders = {str(o.order_id): o for o in engine.spot_orders(uid)}
    fills = engine.spot_fills(uid)
    assert set(placed) <= set(orders)
    assert len({f.trade_id for f in fills}) == len(fills)  # no fill twice
    for order_id in placed:
        order = orders[order_id]
        mine = [f for f in fills if str(f.order_id) == order_id]
        assert sum((f.size for f in mine), Decimal(0)) == order.filled_size <= order.size
        assert len(mine) <= 1  # a resting order of this size fills whole, once
    mark = engine.mark(engine.instrument("bitget", "spot", SYMBOL))
    for order_id in placed:  # nothing the market reached was left unfilled
        order = orders[order_id]
        if order.status is OrderStatus.LIVE:
            assert (order.price < mark) if order.side is Side.BUY else (order.price > mark)
    assert any(f.created_ms > killed_ms for f in fills)
    assert any(f.created_ms < killed_ms for f in fills)
