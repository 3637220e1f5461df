"""CoinW futures on the wire: partial and batch TP / SL (addTpsl, updateTpsl), positions/marginRate,
ladders, orders/trades, orders/batchInsHistory / batchInsArchive. Exact JSON types; every refusal
leaves the state as it was."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from coinw_support import FUTURES, Api, coinw_headers, make_user, no_limits, set_price  # noqa: F401

from localex.demo import tiers

TPSL = "/v1/perpum/TPSL"
ADD = "/v1/perpum/addTpsl"
UPDATE = "/v1/perpum/updateTpsl"


def error(payload, code: int) -> None:
    assert payload["code"] == code, payload


@pytest.fixture
def api(world, http, no_limits):
    set_price(world.engine, "BTC", "85880.1")
    return Api(http, make_user(world.engine))


def state(world, api):
    e = world.engine
    return (e.futures_orders(api.user.uid), e.positions(api.user.uid, open_only=None),
            e.balances(api.user.uid, FUTURES))


def test_partial_tpsl_close_their_contracts_in_price_order(api, world):
    api.place(quantity="4", leverage=10)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    ok = {"code": 0, "msg": ""}
    assert api.post(ADD, {"id": pos["id"], "instrument": "BTC", "stopFrom": 2, "stopType": 1, "priceType": 3,
                          "closePiece": 1, "stopProfitPrice": "87000"}) == ok
    assert api.post(ADD, {"id": pos["id"], "stopFrom": 2, "stopType": 1, "closePiece": 2,
                          "stopProfitPrice": "88000", "stopProfitOrderPrice": "88100",
                          "stopLossPrice": "84000"}) == ok
    rows = api.data("GET", TPSL, {"stopFrom": 2})
    assert sorted((r["stopType"], r["closePiece"], r.get("stopProfitPrice", 0), r.get("stopLossPrice", 0),
                   r.get("stopProfitOrderPrice", 0)) for r in rows) == [
        (1, 1, 87000, 0, 0), (1, 2, 0, 84000, 0), (1, 2, 88000, 0, 88100)]
    assert all(r["openId"] == pos["id"] and isinstance(r["id"], int) for r in rows)
    # the position's own size is untouched and still closable as a whole
    assert api.data("GET", "/v1/perpum/positions/all")[0]["currentPiece"] == 4
    # partial stops are not orders of their own
    assert api.data("GET", "/v1/perpum/order", {"positionType": "plan"}) == []
    set_price(world.engine, "BTC", "87500")  # the first TP: one contract at 87000
    assert api.data("GET", "/v1/perpum/positions/all")[0]["currentPiece"] == 3
    set_price(world.engine, "BTC", "88050")  # the limit TP triggers at 88000, rests at 88100
    assert api.data("GET", "/v1/perpum/positions/all")[0]["currentPiece"] == 3
    set_price(world.engine, "BTC", "88200")
    assert api.data("GET", "/v1/perpum/positions/all")[0]["currentPiece"] == 1
    # the stop-loss still covers two contracts: it closes the one left, and goes with the position
    set_price(world.engine, "BTC", "83900")
    assert api.data("GET", "/v1/perpum/positions/all") == []
    assert api.data("GET", TPSL, {"stopFrom": 2}) == []


def test_update_tpsl_moves_a_partial_stop_and_whole_position_ones(api, world):
    api.place(quantity="3", leverage=10)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    api.data("POST", ADD, {"id": pos["id"], "stopFrom": 2, "stopType": 1, "closePiece": 1, "stopLossPrice": "84000"})
    [row] = api.data("GET", TPSL, {"stopFrom": 2})
    assert api.post(UPDATE, {"id": row["id"], "stopFrom": 2, "stopType": 1, "closePiece": 2,
                             "stopLossPrice": "84500", "stopLossOrderPrice": "84400"}) == {"code": 0, "msg": ""}
    [moved] = api.data("GET", TPSL, {"stopFrom": 2})
    assert (moved["id"], moved["closePiece"], moved["stopLossPrice"], moved["stopLossOrderPrice"],
            moved["stopLossType"]) == (row["id"], 2, 84500, 84400, "plan")
    # stopType 2: the whole position's TP / SL, as POST /v1/perpum/TPSL sets it
    api.data("POST", ADD, {"id": pos["id"], "stopFrom": 2, "stopType": 2, "stopProfitPrice": "90000"})
    whole = [r for r in api.data("GET", TPSL, {"stopFrom": 2}) if r["stopType"] == 2]
    assert [(r["stopProfitPrice"], r["closePiece"]) for r in whole] == [(90000, 3)]
    api.data("POST", UPDATE, {"id": whole[0]["id"], "stopFrom": 2, "stopType": 2, "stopProfitPrice": "91000"})
    assert [r["stopProfitPrice"] for r in api.data("GET", TPSL, {"stopFrom": 2}) if r["stopType"] == 2] == [91000]
    # "0" removes a partial stop
    api.data("POST", UPDATE, {"id": row["id"], "stopFrom": 2, "stopLossPrice": "0"})
    assert [r["stopType"] for r in api.data("GET", TPSL, {"stopFrom": 2})] == [2]


def test_add_tpsl_refusals_change_nothing(api, world):
    api.place(quantity="2", leverage=10)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    before = state(world, api)
    base = {"id": pos["id"], "stopFrom": 2, "stopType": 1, "closePiece": 1}
    error(api.post(ADD, {**base}), 402)  # no level
    error(api.post(ADD, {**base, "stopFrom": None, "stopLossPrice": "84000"}), 402)
    error(api.post(ADD, {**base, "stopFrom": 7, "stopLossPrice": "84000"}), 9016)
    error(api.post(ADD, {**base, "priceType": 9, "stopLossPrice": "84000"}), 9016)
    error(api.post(ADD, {**base, "closePiece": None, "stopLossPrice": "84000"}), 402)
    error(api.post(ADD, {**base, "closePiece": "1.5", "stopLossPrice": "84000"}), 9016)
    error(api.post(ADD, {**base, "closePiece": 3, "stopLossPrice": "84000"}), 9005)
    error(api.post(ADD, {**base, "stopLossPrice": "86000"}), 9007)  # above the mark for a long
    error(api.post(ADD, {**base, "id": 12345, "stopLossPrice": "84000"}), 9003)
    error(api.post(ADD, {**base, "stopProfitOrderPrice": "87000", "stopLossPrice": "84000"}), 9016)
    error(api.post(UPDATE, {"id": 12345, "stopFrom": 2, "stopLossPrice": "84000"}), 9002)
    assert state(world, api) == before


def test_margin_rate_ladders_trades_and_batch_instrument_history(api, world):
    api.place(quantity="2", leverage=10)
    [pos] = api.data("GET", "/v1/perpum/positions/all")
    # margin 17.17602 over a value of 171.7602: 0.1; at 84000, (17.17602 - 3.7602) / 168
    assert api.data("GET", "/v1/perpum/positions/marginRate", {"positionId": pos["id"]}) == {"value": D("0.1")}
    set_price(world.engine, "BTC", "84000")
    assert api.data("GET", "/v1/perpum/positions/marginRate", {"positionId": pos["id"]}) == {
        "value": D("0.07985607")}
    error(api.get("/v1/perpum/positions/marginRate", positionId="99"), 9003)
    error(api.get("/v1/perpum/positions/marginRate"), 402)

    ladders = api.data("GET", "/v1/perpum/ladders")
    assert list(ladders) == ["ladderConfig"]
    btc = next(c for c in ladders["ladderConfig"] if c["name"] == "BTC")
    (tier,) = btc["ladderList"]
    assert list(tier) == ["id", "instrument", "ladder", "lastLadder", "marginKeepRate", "marginStartRate",
                          "maxLeverage", "maxPiece"]
    assert (tier["instrument"], tier["ladder"], tier["lastLadder"], tier["maxLeverage"],
            tier["marginStartRate"]) == ("BTC", 1, True, 200, D("0.005"))

    trades = api.data("GET", "/v1/perpum/orders/trades", {"instrument": "btc", "pageSize": 10})
    assert list(trades) == ["nextId", "prevId", "rows", "total"]
    assert [list(r) for r in trades["rows"]] == [["closedPiece", "createdDate", "dealPrice", "direction", "id"]]
    assert trades["rows"][0]["dealPrice"] == 84000 and trades["total"] == 1
    error(api.get("/v1/perpum/orders/trades"), 402)

    set_price(world.engine, "ETH", "3200")
    api.place(instrument="ETH", quantity="1")
    history = api.data("GET", "/v1/perpum/orders/batchInsHistory", {"symbols": "BTC,eth"})
    assert sorted(r["instrument"] for r in history["rows"]) == ["BTC", "ETH"]
    only_eth = api.data("GET", "/v1/perpum/orders/batchInsArchive", {"symbols": "ETH"})
    assert [r["instrument"] for r in only_eth["rows"]] == ["ETH"]
    error(api.get("/v1/perpum/orders/batchInsHistory"), 402)
    error(api.get("/v1/perpum/orders/batchInsHistory", symbols="BTC,,ETH"), 9016)
    error(api.get("/v1/perpum/orders/batchInsHistory", symbols="NOPE"), 9001)


def test_ladders_list_a_contracts_position_tiers_in_contracts_at_the_mark(api, world, http):
    """A contract with position tiers shows each as a ladder: its maintenance rate, 1 ÷ its
    highest leverage, and its value bound in contracts at the mark (rounded down); the last ends
    at the largest size. The wire bytes: numbers, not strings; lastLadder only on the last (keys in the envelope's sorted order)."""
    e = world.engine
    btc = e.instrument("coinw", FUTURES, "BTC")
    e.add_instrument(replace(btc, tiers=tiers(("150000", 200, "0.004"), ("600000", 100, "0.005"),
                                              ("2000000", 50, "0.01"))))
    headers = coinw_headers(api.user.api_key, api.user.secret, "GET", "/v1/perpum/ladders")
    body = http.get("/v1/perpum/ladders", headers=headers).content
    # one contract is 0.001 BTC, worth 85.8801 at 85880.1: 150,000 is 1746 contracts, 600,000 is 6986
    assert (b'{"ladderList":['
            b'{"id":1,"instrument":"BTC","ladder":1,"lastLadder":false,"marginKeepRate":0.004,'
            b'"marginStartRate":0.005,"maxLeverage":200,"maxPiece":1746},'
            b'{"id":2,"instrument":"BTC","ladder":2,"lastLadder":false,"marginKeepRate":0.005,'
            b'"marginStartRate":0.01,"maxLeverage":100,"maxPiece":6986},'
            b'{"id":3,"instrument":"BTC","ladder":3,"lastLadder":true,"marginKeepRate":0.01,'
            b'"marginStartRate":0.02,"maxLeverage":50,"maxPiece":20000}],"name":"BTC"}') in body
    # the bounds move with the mark; ids keep counting across contracts
    set_price(e, "BTC", "100000")
    config = api.data("GET", "/v1/perpum/ladders")["ladderConfig"]
    assert [t["maxPiece"] for t in config[0]["ladderList"]] == [1500, 6000, 20000]
    ids = [t["id"] for c in config for t in c["ladderList"]]
    assert ids == list(range(1, len(ids) + 1)) and len(ids) == len(config) + 2
    # a contract without tiers: one ladder, as before
    eth = next(c for c in config if c["name"] == "ETH")["ladderList"]
    assert [(t["ladder"], t["lastLadder"], t["maxLeverage"], t["maxPiece"]) for t in eth] == [(1, True, 100, 20000)]
