"""Bitget V2 spot batch endpoints on the wire: batch-orders, batch-cancel-order,
cancel-symbol-order. Raw signed HTTP against the real server, exact bytes where they matter.

A batch answers successList / failureList: each refused entry carries its own errorCode and
errorMsg and leaves the others alone; a refusal of the request as a whole changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_bitget_spot_wire import (  # noqa: F401  (fixtures)
    Unchanged,
    alice,
    balances,
    bob,
    error,
    limit_buy,
    ok,
    one_order,
    order_id_ok,
    place,
    wire,
)

BATCH = "/api/v2/spot/trade/batch-orders"
BATCH_CANCEL = "/api/v2/spot/trade/batch-cancel-order"
CANCEL_SYMBOL = "/api/v2/spot/trade/cancel-symbol-order"
D = Decimal


def entry(price="90000", size="0.01", **extra) -> dict:
    order = limit_buy(price, size, **extra)
    order.pop("symbol")
    return order


def test_batch_orders_mixed_successes_and_failures(world, wire, alice):
    body = {"symbol": "BTCUSDT", "orderList": [
        entry(clientOid="a1"),
        entry(size="0.00001", clientOid="a2"),  # 0.9 USDT: below the 1 USDT minimum
        entry(price="90000.123", clientOid="a3"),  # 3 decimals on a 2-decimal symbol
        entry(side="hold", clientOid="a4"),
        {"side": "sell", "orderType": "market", "size": "0.5", "clientOid": "a5"},
        entry(clientOid="a1"),  # the client id of the first entry, now taken
        entry(size="1", clientOid="a7"),  # 90000 USDT: more than alice holds after the others
        entry(price="89000", size="0.02"),
    ]}
    data = ok(world, wire.post(alice, BATCH, body))
    assert list(data) == ["successList", "failureList"]
    assert [s["clientOid"] for s in data["successList"][:2]] == ["a1", "a5"]
    assert len(data["successList"]) == 3
    for row in data["successList"]:
        assert list(row) == ["orderId", "clientOid"]
        order_id_ok(row["orderId"])
    assert data["failureList"] == [
        {"orderId": "", "clientOid": "a2", "errorMsg": "less than the minimum amount 1 USDT", "errorCode": "45110"},
        {"orderId": "", "clientOid": "a3",
         "errorMsg": "Parameter verification exception price checkBDScale error value=90000.123 checkScale=2",
         "errorCode": "40808"},
        {"orderId": "", "clientOid": "a4", "errorMsg": "Parameter side error", "errorCode": "40020"},
        {"orderId": "", "clientOid": "a1", "errorMsg": "clientOrderId duplicate", "errorCode": "43118"},
        {"orderId": "", "clientOid": "a7", "errorMsg": "Insufficient balance", "errorCode": "43012"},
    ]
    # what succeeded is in the book (or filled), exactly as a single place-order would leave it
    first = one_order(world, wire, alice, data["successList"][0]["orderId"])
    assert (first["status"], first["price"], first["size"]) == ("live", "90000.0000000000000000", "0.0100000000000000")
    sold = one_order(world, wire, alice, data["successList"][1]["orderId"])
    assert sold["status"] == "filled"
    third = data["successList"][2]
    assert third["clientOid"] != "" and one_order(world, wire, alice, third["orderId"])["price"].startswith("89000")
    usdt_frozen = D("90000") * D("0.01") + D("89000") * D("0.02")
    assert balances(world, alice.uid)["USDT"][1] == usdt_frozen


def test_batch_orders_multiple_mode_takes_each_entry_symbol(world, wire, alice):
    body = {"batchMode": "multiple", "symbol": "NOPEUSDT", "orderList": [
        limit_buy(clientOid="m1"), limit_buy(price="3000", size="0.1", symbol="ethusdt", clientOid="m2"),
        entry(clientOid="m3"),  # no symbol of its own
        limit_buy(symbol="NOPEUSDT", clientOid="m4"),
    ]}
    data = ok(world, wire.post(alice, BATCH, body))
    assert [s["clientOid"] for s in data["successList"]] == ["m1", "m2"]
    assert one_order(world, wire, alice, data["successList"][1]["orderId"])["symbol"] == "ETHUSDT"
    assert data["failureList"] == [
        {"orderId": "", "clientOid": "m3", "errorMsg": "Parameter symbol cannot be empty", "errorCode": "40019"},
        {"orderId": "", "clientOid": "m4", "errorMsg": "Parameter NOPEUSDT does not exist", "errorCode": "40034"},
    ]


def test_batch_orders_single_mode_ignores_entry_symbols(world, wire, alice):
    data = ok(world, wire.post(alice, BATCH, {"symbol": "btcusdt", "orderList": [
        limit_buy(symbol="ETHUSDT", clientOid="s1")]}))
    assert one_order(world, wire, alice, data["successList"][0]["orderId"])["symbol"] == "BTCUSDT"
    assert data["failureList"] == []


@pytest.mark.parametrize("body, code, msg", [
    ({"orderList": [entry()]}, "40019", "Parameter symbol cannot be empty"),
    ({"symbol": "BTCUSDT"}, "40019", "Parameter orderList cannot be empty"),
    ({"symbol": "BTCUSDT", "orderList": []}, "40019", "Parameter orderList cannot be empty"),
    ({"symbol": "BTCUSDT", "orderList": "x"}, "40020", "Parameter orderList error"),
    ({"symbol": "BTCUSDT", "orderList": [entry(), 3]}, "40020", "Parameter orderList error"),
    ({"symbol": "BTCUSDT", "orderList": [entry()] * 51}, "40058",
     "Parameter orderList Only a maximum of 50 is allowed"),
    ({"symbol": "BTCUSDT", "batchMode": "both", "orderList": [entry()]}, "40020", "Parameter batchMode error"),
    ({"symbol": "NOPEUSDT", "orderList": [entry()]}, None, None),  # every entry fails on its own
])
def test_batch_orders_refusals_change_nothing(world, wire, alice, body, code, msg):
    with Unchanged(world):
        resp = wire.post(alice, BATCH, body)
        if code is None:
            data = ok(world, resp)
            assert data == {"successList": [], "failureList": [
                {"orderId": "", "clientOid": "", "errorMsg": "Parameter NOPEUSDT does not exist",
                 "errorCode": "40034"}]}
        else:
            error(world, resp, code, msg)


def test_batch_of_fifty_is_accepted(world, wire, alice):
    data = ok(world, wire.post(alice, BATCH, {"symbol": "BTCUSDT", "orderList": [
        entry(price=str(80000 + i), size="0.001") for i in range(50)]}))
    assert len(data["successList"]) == 50 and data["failureList"] == []
    assert len(world.engine.spot_orders(alice.uid, open_only=True)) == 50


def test_batch_orders_needs_the_trade_permission(world, wire):
    reader = world.trader("reader", permissions=[])
    with Unchanged(world):
        error(world, wire.post(reader, BATCH, {"symbol": "BTCUSDT", "orderList": [entry()]}),
              "40014", "Incorrect permissions, need spot trade permissions")


# ---- batch-cancel-order ----------------------------------------------------------------------

def test_batch_cancel_mixed(world, wire, alice, bob):
    a = place(world, wire, alice, limit_buy(clientOid="c1"))
    b = place(world, wire, alice, limit_buy(price="89000", clientOid="c2"))
    theirs = place(world, wire, bob, limit_buy())
    eth = place(world, wire, alice, limit_buy(price="3000", size="0.1", symbol="ETHUSDT"))
    body = {"symbol": "BTCUSDT", "orderList": [
        {"orderId": a["orderId"]}, {"orderId": b["orderId"], "clientOid": "c2"},
        {"orderId": a["orderId"]},  # cancelled a moment ago
        {"orderId": theirs["orderId"]}, {"orderId": eth["orderId"]},  # not alice's / not this symbol
        {"orderId": "12x"}, {"clientOid": "c1"},  # malformed id / clientOid alone among orderIds
        {},
    ]}
    data = ok(world, wire.post(alice, BATCH_CANCEL, body))
    assert data["successList"] == [{"orderId": a["orderId"], "clientOid": "c1"},
                                   {"orderId": b["orderId"], "clientOid": "c2"}]
    gone = "The order does not exist"
    assert data["failureList"] == [
        {"orderId": a["orderId"], "clientOid": "", "errorMsg": gone, "errorCode": "43001"},
        {"orderId": theirs["orderId"], "clientOid": "", "errorMsg": gone, "errorCode": "43001"},
        {"orderId": eth["orderId"], "clientOid": "", "errorMsg": gone, "errorCode": "43001"},
        {"orderId": "12x", "clientOid": "", "errorMsg": "orderId or clientOId format error", "errorCode": "40402"},
        {"orderId": "", "clientOid": "c1", "errorMsg": gone, "errorCode": "43001"},
        {"orderId": "", "clientOid": "", "errorMsg": "orderId and clientOid must have one", "errorCode": "40924"},
    ]
    assert one_order(world, wire, alice, a["orderId"])["status"] == "cancelled"
    assert one_order(world, wire, bob, theirs["orderId"])["status"] == "live"
    assert one_order(world, wire, alice, eth["orderId"])["status"] == "live"
    assert balances(world, alice.uid)["USDT"] == (D("10000") - D("300"), D("300"))


def test_batch_cancel_by_client_ids_and_multiple_mode(world, wire, alice):
    a = place(world, wire, alice, limit_buy(clientOid="k1"))
    e = place(world, wire, alice, limit_buy(price="3000", size="0.1", symbol="ETHUSDT", clientOid="k2"))
    data = ok(world, wire.post(alice, BATCH_CANCEL, {"batchMode": "multiple", "orderList": [
        {"clientOid": "k1", "symbol": "BTCUSDT"}, {"clientOid": "k2", "symbol": "ETHUSDT"},
        {"clientOid": "k3"}]}))
    assert data["successList"] == [{"orderId": a["orderId"], "clientOid": "k1"},
                                   {"orderId": e["orderId"], "clientOid": "k2"}]
    assert data["failureList"] == [{"orderId": "", "clientOid": "k3",
                                    "errorMsg": "Parameter symbol cannot be empty", "errorCode": "40019"}]


def test_batch_cancel_refusals_change_nothing(world, wire, alice):
    place(world, wire, alice, limit_buy())
    with Unchanged(world):
        error(world, wire.post(alice, BATCH_CANCEL, {"orderList": [{"orderId": "1"}]}), "40019",
              "Parameter symbol cannot be empty")
        error(world, wire.post(alice, BATCH_CANCEL, {"symbol": "BTCUSDT", "orderList": [{}] * 51}),
              "40058", "Parameter orderList Only a maximum of 50 is allowed")
        error(world, wire.post(alice, BATCH_CANCEL, {"symbol": "BTCUSDT"}), "40019",
              "Parameter orderList cannot be empty")


# ---- cancel-symbol-order ---------------------------------------------------------------------

def test_cancel_symbol_order_cancels_only_that_symbol_and_only_the_callers(world, wire, alice, bob):
    mine = [place(world, wire, alice, limit_buy(price=p)) for p in ("90000", "89000")]
    eth = place(world, wire, alice, limit_buy(price="3000", size="0.1", symbol="ETHUSDT"))
    theirs = place(world, wire, bob, limit_buy())
    resp = wire.post(alice, CANCEL_SYMBOL, {"symbol": "btcusdt"})
    assert ok(world, resp) == {"symbol": "BTCUSDT"}
    for o in mine:
        row = one_order(world, wire, alice, o["orderId"])
        assert (row["status"], row["cancelReason"]) == ("cancelled", "normal_cancel")
    assert one_order(world, wire, alice, eth["orderId"])["status"] == "live"
    assert one_order(world, wire, bob, theirs["orderId"])["status"] == "live"
    assert balances(world, alice.uid)["USDT"] == (D("9700"), D("300"))
    # nothing left to cancel: the same answer
    assert ok(world, wire.post(alice, CANCEL_SYMBOL, {"symbol": "BTCUSDT"})) == {"symbol": "BTCUSDT"}


def test_cancel_symbol_order_refusals(world, wire, alice):
    place(world, wire, alice, limit_buy())
    with Unchanged(world):
        error(world, wire.post(alice, CANCEL_SYMBOL, {}), "40019", "Parameter symbol cannot be empty")
        error(world, wire.post(alice, CANCEL_SYMBOL, {"symbol": "NOPEUSDT"}), "40034",
              "Parameter NOPEUSDT does not exist")


@pytest.mark.parametrize("path, body", [
    (BATCH, {"symbol": "BTCUSDT", "orderList": [entry(price=str(80000 + i)) for i in range(5)]}),
    (BATCH_CANCEL, None),
    (CANCEL_SYMBOL, {"symbol": "BTCUSDT"}),
])
def test_a_batch_is_one_write_transaction(world, wire, alice, monkeypatch, path, body):
    ids = [place(world, wire, alice, limit_buy(price=str(85000 + i)))["orderId"] for i in range(5)]
    if body is None:
        body = {"symbol": "BTCUSDT", "orderList": [{"orderId": i} for i in ids]}
    writes = []
    real = world.engine.tx

    def counting(read_only: bool = False):
        if not read_only:
            writes.append(path)
        return real(read_only)

    monkeypatch.setattr(world.engine, "tx", counting)
    ok(world, wire.post(alice, path, body), strings=False)
    assert writes == [path]
