"""Bitget V2 spot self-trade prevention (stpMode) on the wire: a taking order that would meet
its owner's own resting order of the other side."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_bitget_spot_wire import alice, balances, bob, error, ok, one_order, place, wire, Unchanged  # noqa: F401

BATCH = "/api/v2/spot/trade/batch-orders"
D = Decimal


def sell(price: str, **extra) -> dict:
    return {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit", "force": "gtc", "price": price,
            "size": "0.01", **extra}


def buy(price: str, **extra) -> dict:
    return {**sell(price, **extra), "side": "buy"}


@pytest.mark.parametrize("mode, taker, maker", [
    ("none", "filled", "live"),
    ("cancel_taker", "cancelled", "live"),
    ("cancel_maker", "filled", "cancelled"),
    ("cancel_both", "cancelled", "cancelled"),
])
def test_stp_modes(world, wire, alice, mode, taker, maker):
    resting = place(world, wire, alice, sell("96000"))  # the mark is 95000: it rests
    new = place(world, wire, alice, buy("97000", stpMode=mode))  # marketable, reaches 96000
    t, m = one_order(world, wire, alice, new["orderId"]), one_order(world, wire, alice, resting["orderId"])
    assert (t["status"], m["status"]) == (taker, maker)
    assert t["cancelReason"] == ("stp_cancel" if taker == "cancelled" else "")
    assert m["cancelReason"] == ("stp_cancel" if maker == "cancelled" else "")
    if taker == "filled":
        assert t["priceAvg"] == "95000.0000000000000000"  # it took at the mark
    frozen_btc = D("0.01") if maker == "live" else D("0")
    assert balances(world, alice.uid)["BTC"][1] == frozen_btc


def test_stp_needs_the_own_order_within_reach_and_ignores_other_users(world, wire, alice, bob):
    far = place(world, wire, alice, sell("98000"))
    theirs = place(world, wire, bob, sell("96000"))
    new = place(world, wire, alice, buy("97000", stpMode="cancel_both"))
    assert one_order(world, wire, alice, new["orderId"])["status"] == "filled"
    assert one_order(world, wire, alice, far["orderId"])["status"] == "live"
    assert one_order(world, wire, bob, theirs["orderId"])["status"] == "live"
    # a resting (non-taking) order never triggers it
    low = place(world, wire, alice, buy("90000", stpMode="cancel_taker"))
    assert one_order(world, wire, alice, low["orderId"])["status"] == "live"


def test_stp_in_a_batch_and_a_bad_mode(world, wire, alice):
    resting = place(world, wire, alice, sell("96000"))
    data = ok(world, wire.post(alice, BATCH, {"symbol": "BTCUSDT", "orderList": [
        {k: v for k, v in buy("97000", stpMode="cancel_maker").items() if k != "symbol"},
        {k: v for k, v in buy("97000", stpMode="everything").items() if k != "symbol"}]}))
    assert len(data["successList"]) == 1
    assert data["failureList"][0]["errorCode"] == "40020" and data["failureList"][0]["errorMsg"] == "Parameter stpMode error"
    assert one_order(world, wire, alice, resting["orderId"])["cancelReason"] == "stp_cancel"
    with Unchanged(world):
        error(world, wire.post(alice, "/api/v2/spot/trade/place-order", buy("97000", stpMode="x")), "40020",
              "Parameter stpMode error")
