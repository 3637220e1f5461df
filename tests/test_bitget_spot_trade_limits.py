"""Rate limits of the spot endpoints this part of the surface adds: each endpoint's documented
requests per second per UID, the next one answered 429 and changing nothing. The venue's wall
clock is held still for the test, so however slowly the requests go out they share one window."""

from __future__ import annotations

import time

import pytest
from test_bitget_spot_wire import Unchanged, error, wire  # noqa: F401  (fixtures)

from localex.engine.clock import ManualClock
from localex.engine.model import Permission

ALL = [Permission.READ, Permission.SPOT_TRADE, Permission.FUTURES_TRADE, Permission.TRANSFER]

LIMITS = [
    ("POST", "/api/v2/spot/trade/batch-orders", 5),
    ("POST", "/api/v2/spot/trade/batch-cancel-order", 10),
    ("POST", "/api/v2/spot/trade/cancel-symbol-order", 5),
    ("POST", "/api/v2/spot/trade/cancel-replace-order", 5),
    ("POST", "/api/v2/spot/trade/batch-cancel-replace-order", 5),
    ("POST", "/api/v2/spot/trade/place-plan-order", 20),
    ("POST", "/api/v2/spot/trade/modify-plan-order", 20),
    ("POST", "/api/v2/spot/trade/cancel-plan-order", 20),
    ("POST", "/api/v2/spot/trade/batch-cancel-plan-order", 10),
    ("GET", "/api/v2/spot/trade/current-plan-order", 20),
    ("GET", "/api/v2/spot/trade/history-plan-order", 20),
    ("GET", "/api/v2/spot/trade/plan-sub-order", 20),
    ("GET", "/api/v2/spot/account/bills", 10),
    ("GET", "/api/v2/spot/account/transferRecords", 20),
    ("POST", "/api/v2/spot/wallet/transfer", 10),
    ("GET", "/api/v2/spot/wallet/transfer-coin-info", 10),
]


@pytest.fixture
def still(world, monkeypatch):
    venue = next(v for v in world.app.venues if v.name == "bitget")
    monkeypatch.setattr(venue, "wall_clock", ManualClock(time.time_ns() // 1_000_000))
    world.app.limiter.reset()


def send(wire, trader, method, path):
    # a body or query the endpoint refuses: it still counts, and it changes nothing
    if method == "GET":
        return wire.get(trader, path, {"limit": "0"}, reset=False)
    return wire.post(trader, path, {"orderList": "x", "symbolList": 1, "fromType": "x"}, reset=False)


@pytest.mark.parametrize("method, path, limit", LIMITS)
def test_the_request_past_the_limit_is_429(world, wire, still, method, path, limit):
    trader = world.trader("alice", permissions=ALL)
    with Unchanged(world):
        for _ in range(limit):
            assert send(wire, trader, method, path).status_code == 400
        error(world, send(wire, trader, method, path), "429", "Too Many Requests", status=429)
    other = world.trader("bob", permissions=ALL)
    assert send(wire, other, method, path).status_code == 400  # the limit is per user


def test_batch_orders_allow_an_elite_trader_one_per_second(world, wire, still):
    trader = world.trader("alice", permissions=ALL)
    world.engine.set_elite_trader(trader.uid, True)
    path = "/api/v2/spot/trade/batch-orders"
    assert send(wire, trader, "POST", path).status_code == 400
    error(world, send(wire, trader, "POST", path), "429", "Too Many Requests", status=429)
