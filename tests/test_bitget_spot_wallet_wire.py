"""Bitget V2 transfers between a user's spot and futures accounts, transfer records, the coins
that can move, and the bills each move leaves in both accounts: on the wire."""

from __future__ import annotations

from decimal import Decimal

import pytest
from test_bitget_spot_wire import Unchanged, error, ok, wire  # noqa: F401  (fixtures)

from localex.engine.model import Permission

TRANSFER = "/api/v2/spot/wallet/transfer"
COIN_INFO = "/api/v2/spot/wallet/transfer-coin-info"
RECORDS = "/api/v2/spot/account/transferRecords"
BILLS = "/api/v2/spot/account/bills"
MIX_BILL = "/api/v2/mix/account/bill"
D = Decimal
ALL = [Permission.READ, Permission.SPOT_TRADE, Permission.FUTURES_TRADE, Permission.TRANSFER]


@pytest.fixture
def carol(world):
    return world.trader("carol", permissions=ALL)


def futures_usdt(world, uid: str) -> Decimal:
    return world.engine.balance(uid, "USDT", "usdt-futures").available


def test_transfer_to_futures_and_back_with_bills_on_both_sides(world, wire, carol):
    data = ok(world, wire.post(carol, TRANSFER, {"fromType": "spot", "toType": "usdt_futures",
                                                   "amount": "300", "coin": "USDT", "clientOid": "t1"}),
              strings=False)
    assert list(data) == ["transferId", "clientOid"] and data["clientOid"] == "t1"
    assert world.engine.balance(carol.uid, "USDT").available == D("9700")
    assert futures_usdt(world, carol.uid) == D("300")
    back = ok(world, wire.post(carol, TRANSFER, {"fromType": "USDT_FUTURES", "toType": "spot",
                                                   "amount": 100.5, "coin": "usdt"}), strings=False)
    assert back["clientOid"] is None
    assert futures_usdt(world, carol.uid) == D("199.5")
    now = str(world.engine.now_ms())

    bills = ok(world, wire.get(carol, BILLS))
    assert bills == [
        {"cTime": now, "coin": "USDT", "groupType": "transfer", "businessType": "transfer_in",
         "size": "100.50000000", "balance": "9800.50000000", "fees": "0.00000000", "billId": bills[0]["billId"]},
        {"cTime": now, "coin": "USDT", "groupType": "transfer", "businessType": "transfer_out",
         "size": "-300.00000000", "balance": "9700.00000000", "fees": "0.00000000", "billId": bills[1]["billId"]},
    ]
    assert int(bills[0]["billId"]) > int(bills[1]["billId"])
    assert ok(world, wire.get(carol, BILLS, {"businessType": "TRANSFER_OUT"})) == bills[1:]
    assert ok(world, wire.get(carol, BILLS, {"businessType": "transfer-in", "coin": "usdt"})) == bills[:1]
    assert ok(world, wire.get(carol, BILLS, {"groupType": "deposit"})) == []
    assert ok(world, wire.get(carol, BILLS, {"limit": "1", "idLessThan": bills[0]["billId"]})) == bills[1:]

    mix = ok(world, wire.get(carol, MIX_BILL, {"productType": "USDT-FUTURES"}), strings=False)
    assert [(b["businessType"], b["amount"], b["coin"], b["symbol"]) for b in mix["bills"]] == [
        ("trans_to_exchange", "-100.5", "USDT", ""), ("trans_from_exchange", "300", "USDT", "")]
    only_in = ok(world, wire.get(carol, MIX_BILL, {"productType": "USDT-FUTURES",
                                                   "businessType": "trans_from_exchange"}), strings=False)
    assert [b["amount"] for b in only_in["bills"]] == ["300"]

    records = ok(world, wire.get(carol, RECORDS, {"coin": "USDT", "fromType": "spot"}))
    assert records == [{"coin": "USDT", "status": "Successful", "toType": "usdt_futures", "toSymbol": "",
                        "fromType": "spot", "fromSymbol": "", "size": "300.00000000", "ts": now,
                        "clientOid": "t1", "transferId": data["transferId"]}]
    records = ok(world, wire.get(carol, RECORDS, {"coin": "USDT", "fromType": "usdt_futures"}))
    assert [(r["transferId"], r["toType"], r["clientOid"]) for r in records] == [
        (back["transferId"], "spot", back["transferId"])]


def test_a_client_oid_already_used_answers_the_same_transfer(world, wire, carol):
    body = {"fromType": "spot", "toType": "usdt_futures", "amount": "10", "coin": "USDT", "clientOid": "once"}
    first = ok(world, wire.post(carol, TRANSFER, body))
    with Unchanged(world):
        assert ok(world, wire.post(carol, TRANSFER, {**body, "amount": "20"})) == first
    assert futures_usdt(world, carol.uid) == D("10")


def test_coin_futures_take_the_base_coins(world, wire, carol):
    assert ok(world, wire.get(carol, COIN_INFO, {"fromType": "spot", "toType": "usdt_futures"})) == ["USDT"]
    coins = ok(world, wire.get(carol, COIN_INFO, {"fromType": "coin_futures", "toType": "spot"}))
    assert "BTC" in coins and "USDT" not in coins
    assert ok(world, wire.get(carol, COIN_INFO, {"fromType": "spot", "toType": "spot"})) == []
    ok(world, wire.post(carol, TRANSFER, {"fromType": "spot", "toType": "coin_futures", "amount": "0.5",
                                          "coin": "BTC"}), strings=False)
    assert world.engine.balance(carol.uid, "BTC", "coin-futures").available == D("0.5")


@pytest.mark.parametrize("change, code, msg", [
    ({"amount": "10001"}, "43012", "Insufficient balance"),
    ({"amount": "0"}, "40020", "Parameter amount error"),
    ({"amount": "1.000000001"}, "40020", "Parameter amount error"),
    ({"amount": None}, "40019", "Parameter amount cannot be empty"),
    ({"coin": None}, "40019", "Parameter coin cannot be empty"),
    ({"coin": "BTC"}, "40020", "Parameter coin error"),  # usdt_futures keeps USDT only
    ({"coin": "NOPE"}, "40020", "Parameter coin error"),
    ({"toType": "spot"}, "40020", "Parameter coin error"),  # one account to itself
    ({"fromType": "isolated_margin"}, "40020", "Parameter fromType error"),
    ({"toType": "usdt-futures"}, "40020", "Parameter toType error"),
    ({"fromType": None}, "40019", "Parameter fromType cannot be empty"),
])
def test_transfer_refusals_change_nothing(world, wire, carol, change, code, msg):
    body = {k: v for k, v in {"fromType": "spot", "toType": "usdt_futures", "amount": "10", "coin": "USDT",
                              **change}.items() if v is not None}
    with Unchanged(world):
        error(world, wire.post(carol, TRANSFER, body), code, msg)
    assert world.engine.transfers(carol.uid) == [] and world.engine.bills(carol.uid) == []


def test_transfer_needs_the_transfer_permission(world, wire):
    trader = world.trader("dave")  # the default key: read and trade
    with Unchanged(world):
        error(world, wire.post(trader, TRANSFER, {"fromType": "spot", "toType": "usdt_futures",
                                                  "amount": "10", "coin": "USDT"}),
              "40014", "Incorrect permissions, need transfer permissions")


def test_record_and_bill_query_refusals(world, wire, carol):
    error(world, wire.get(carol, RECORDS, {"fromType": "spot"}), "40019", "Parameter coin cannot be empty")
    error(world, wire.get(carol, RECORDS, {"coin": "USDT"}), "40019", "Parameter fromType cannot be empty")
    error(world, wire.get(carol, RECORDS, {"coin": "USDT", "fromType": "spot", "startTime": "1",
                                           "endTime": str(91 * 86_400_000)}),
          "40705", "The start and end time cannot exceed 90 days")
    error(world, wire.get(carol, BILLS, {"groupType": "nope"}), "40020", "Parameter groupType error")
    error(world, wire.get(carol, BILLS, {"limit": "0"}), "40053",
          "Value range verification failed: limit should be between (0, 500]")
    error(world, wire.get(carol, COIN_INFO, {"fromType": "spot"}), "40019", "Parameter toType cannot be empty")


def test_a_fill_bills_each_coin_and_the_fee(world, wire, carol):
    ok(world, wire.post(carol, "/api/v2/spot/trade/place-order", {
        "symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": "950"}))
    rows = ok(world, wire.get(carol, BILLS))
    assert [(r["coin"], r["groupType"], r["businessType"], r["size"], r["balance"], r["fees"]) for r in rows] == [
        ("BTC", "transaction", "deduction_of_handling_fee", "-0.00001000", "1.00999000", "0.00000000"),
        ("BTC", "transaction", "buy", "0.01000000", "1.01000000", "0.00000000"),
        ("USDT", "transaction", "buy", "-950.00000000", "9050.00000000", "0.00000000"),
    ]
    assert ok(world, wire.get(carol, BILLS, {"businessType": "deduction of handling fee"})) == rows[:1]
    assert ok(world, wire.get(carol, BILLS, {"groupType": "transaction", "coin": "USDT"})) == rows[2:]
    assert ok(world, wire.get(carol, BILLS, {"groupType": "transfer"})) == []
