"""Funding for perpetuals: the arithmetic of a settlement (long / short, positive / negative rate,
crossed / isolated, inverse), conservation of money, the settlements that advancing the clock
crosses (and their order with price-path points), the bills, and the Bitget and CoinW wire
shapes, with ccxt's fetch_funding_rate / fetch_funding_history."""

from __future__ import annotations

import json
import random
from decimal import Decimal as D
from urllib.parse import urlencode

import ccxt
import pytest
from coinw_support import coinw_headers
from wire_signing import signed_headers

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.errors import DomainError
from localex.engine.futures import liquidation_price
from localex.engine.model import MarginMode, OrderType, PositionMode, PositionSide, TradeSide
from localex.server.app import LocalexApp
from localex.wire.http import Request
from localex.store import open_store
from localex.testing import mock_exchanges

HOUR = 3_600_000
FUNDING = "funding"  # the engine's kind of funding bills
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a settlement time (00:00, 08:00, 16:00 UTC)
START = T0 - HOUR  # 23:00 the evening before
USDT_M, COIN_M, COINW = "usdt-futures", "coin-futures", "futures"
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
ISOLATED, CROSSED = MarginMode.ISOLATED, MarginMode.CROSSED

_ENGINE = Engine(open_store(":memory:"), clock=ManualClock(START), seed=9)
_APP = LocalexApp(_ENGINE, rate_limits=False)


@pytest.fixture
def engine() -> Engine:
    _ENGINE.clock.set(START)
    _ENGINE.reset(seed=9)
    install_market(_ENGINE)
    return _ENGINE


def user(engine, name="alice", usdt="10000", btc="1", venue="bitget") -> str:
    uid = engine.create_user(venue, name=name).uid
    if venue == "coinw":
        engine.fund(uid, "USDT", D(usdt), account=COINW)
    else:
        engine.fund(uid, "USDT", D(usdt), account=USDT_M)
        engine.fund(uid, "BTC", D(btc), account=COIN_M)
    return uid


def open_position(engine, uid, side, size, symbol="BTCUSDT", market=USDT_M, mode=CROSSED, leverage=10,
                  venue="bitget"):
    engine.set_margin_mode(uid, venue, market, symbol, mode)
    engine.set_leverage(uid, venue, market, symbol, leverage)
    order = engine.place_futures_order(uid, market, symbol, pos_side=side, trade_side=TradeSide.OPEN,
                                       order_type=OrderType.MARKET, size=D(size))
    return engine.position(uid, order.position_id)


def available(engine, uid, asset="USDT", market=USDT_M) -> D:
    return engine.balance(uid, asset, account=market).available


def set_rate(engine, rate, symbol="BTCUSDT", market=USDT_M, venue="bitget", interval_h=None):
    engine.set_funding_rate(venue, market, symbol, D(rate), interval_h)


# ---- arithmetic ------------------------------------------------------------------------------------

@pytest.mark.parametrize("side, rate, paid", [
    (LONG, "0.0001", "0.95"),     # longs pay when the rate is positive
    (SHORT, "0.0001", "-0.95"),   # ... and shorts receive
    (LONG, "-0.0001", "-0.95"),   # the other way round when it is negative
    (SHORT, "-0.0001", "0.95"),
])
def test_a_crossed_position_pays_or_receives_its_value_times_the_rate(engine, side, rate, paid):
    uid = user(engine)
    pos = open_position(engine, uid, side, "0.1")  # 9500 USDT at 95000
    set_rate(engine, rate)
    before, house = available(engine, uid), engine.house_balance("bitget", "USDT")
    [bill] = engine.settle_funding(T0)
    paid = D(paid)
    assert available(engine, uid) == before - paid
    assert engine.house_balance("bitget", "USDT") == house + paid
    after = engine.position(uid, pos.position_id)
    assert after.funding == paid and after.margin == pos.margin and after.updated_ms == T0
    assert (bill.uid, bill.venue, bill.account, bill.asset, bill.symbol, bill.kind) == (
        uid, "bitget", USDT_M, "USDT", "BTCUSDT", "funding")
    assert (bill.amount, bill.balance, bill.ref_id, bill.created_ms) == (
        -paid, available(engine, uid), pos.position_id, T0)
    assert engine.bills(uid, kinds=[FUNDING]) == [bill]


def test_the_value_is_taken_at_the_mark_price(engine):
    uid = user(engine)
    open_position(engine, uid, LONG, "0.1")
    engine.set_mark("bitget", USDT_M, "BTCUSDT", D("100000"))
    [bill] = engine.settle_funding(T0)
    assert bill.amount == D("-1")  # 0.1 × 100000 × 0.0001, not the entry's 0.95


@pytest.mark.parametrize("side, paid", [(LONG, "0.95"), (SHORT, "-0.95")])
def test_an_isolated_position_pays_from_and_receives_into_its_margin(engine, side, paid):
    uid = user(engine)
    pos = open_position(engine, uid, side, "0.1", mode=ISOLATED, leverage=20)
    inst = engine.instrument("bitget", USDT_M, "BTCUSDT")
    before, liq_before = available(engine, uid), liquidation_price(inst, pos)
    [bill] = engine.settle_funding(T0)
    after = engine.position(uid, pos.position_id)
    assert available(engine, uid) == before  # the account's balance does not move
    assert after.margin == pos.margin - D(paid) and after.funding == D(paid)
    assert (bill.amount, bill.balance) == (-D(paid), before)
    # paying brings the liquidation price nearer the mark, receiving pushes it away
    liq_after = liquidation_price(inst, after)
    nearer = liq_after > liq_before if side is LONG else liq_after < liq_before
    assert nearer == (D(paid) > 0)


def test_an_inverse_position_pays_in_coin_on_its_value_at_the_mark(engine):
    uid = user(engine)
    pos = open_position(engine, uid, LONG, "0.1", symbol="BTCUSD", market=COIN_M)
    engine.set_mark("bitget", COIN_M, "BTCUSD", D("100000"))
    before = available(engine, uid, "BTC", COIN_M)
    [bill] = engine.settle_funding(T0)
    # the position's USD face (0.1 × 95000) valued in BTC at the mark, times the rate
    assert bill.amount == D("-0.0000095") and bill.asset == "BTC"
    assert available(engine, uid, "BTC", COIN_M) == before - D("0.0000095")
    assert engine.position(uid, pos.position_id).funding == D("0.0000095")


def test_a_crossed_account_short_of_funds_pays_the_rest_from_the_position_margin(engine):
    uid = user(engine, usdt="100")
    pos = open_position(engine, uid, LONG, "0.01")  # margin 95, fee 0.57: 4.43 left
    set_rate(engine, "0.01")  # 9.5 due
    [bill] = engine.settle_funding(T0)
    after = engine.position(uid, pos.position_id)
    assert available(engine, uid) == 0
    assert after.margin == pos.margin - (D("9.5") - D("4.43")) and after.funding == D("9.5")
    assert bill.amount == D("-9.5") and bill.balance == 0


def test_funding_beyond_an_isolated_margin_pays_what_there_is_and_liquidates(engine):
    uid = user(engine)
    pos = open_position(engine, uid, LONG, "0.1", mode=ISOLATED, leverage=50)  # margin 190
    set_rate(engine, "0.05")  # 475 due
    house = engine.house_balance("bitget", "USDT")
    [bill] = engine.settle_funding(T0)
    assert bill.amount == -pos.margin
    after = engine.position(uid, pos.position_id)
    assert not after.open and after.funding == pos.margin
    [liquidation] = [o for o in engine.futures_orders(uid) if o.source == "liquidation"]
    assert liquidation.avg_price == D("95000")  # at the mark
    assert engine.house_balance("bitget", "USDT") == house + pos.margin


def test_nothing_moves_at_a_zero_rate_or_for_closed_positions(engine):
    uid = user(engine)
    pos = open_position(engine, uid, LONG, "0.1")
    set_rate(engine, "0")
    assert engine.settle_funding(T0) == [] and engine.bills(uid, kinds=[FUNDING]) == []
    set_rate(engine, "0.0001")
    engine.close_position(uid, pos.position_id)
    assert engine.settle_funding(T0 + 8 * HOUR) == []
    assert engine.position(uid, pos.position_id).funding == 0
    # both settlements are on record, with the rate each settled at
    assert engine.funding_history("bitget", USDT_M, "BTCUSDT") == [(T0 + 8 * HOUR, D("0.0001")), (T0, D("0"))]


def test_only_instruments_due_at_that_time_settle(engine):
    uid = user(engine)
    open_position(engine, uid, LONG, "0.1")
    open_position(engine, uid, LONG, "1", symbol="ETHUSDT")
    set_rate(engine, "0.0001", symbol="ETHUSDT", interval_h=4)
    assert [b.symbol for b in engine.settle_funding(T0 + 4 * HOUR)] == ["ETHUSDT"]
    assert sorted(b.symbol for b in engine.settle_funding(T0 + 8 * HOUR)) == ["BTCUSDT", "ETHUSDT"]
    assert engine.settle_funding(T0 + 1) == []


# ---- conservation ----------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [21, 22])
def test_money_is_conserved_through_settlements(engine, seed):
    """Users' balances, open positions' margin and the house add up to what was funded, exactly,
    through fills, fees, PnL, liquidations and funding both ways, crossed and isolated."""
    rng = random.Random(seed)
    users = []
    for i in range(4):
        uid = user(engine, f"u{i}", usdt="3000", btc="0.3")
        if i % 2:
            engine.set_position_mode(uid, USDT_M, PositionMode.HEDGE)
        mode = ISOLATED if i >= 2 else CROSSED
        for market, symbol in ((USDT_M, "BTCUSDT"), (COIN_M, "BTCUSD")):
            engine.set_margin_mode(uid, "bitget", market, symbol, mode)
            engine.set_leverage(uid, "bitget", market, symbol, rng.choice([5, 20, 50]))
        users.append(uid)
    price, settlement, settled = D("95000"), T0, 0
    for _ in range(150):
        uid = rng.choice(users)
        market, symbol = rng.choice([(USDT_M, "BTCUSDT"), (COIN_M, "BTCUSD")])
        kind = rng.random()
        try:
            if kind < 0.2:
                price = (price * D(rng.uniform(0.98, 1.02))).quantize(D("0.1"))
                engine.set_mark("bitget", market, symbol, price)
            elif kind < 0.35:
                for m, s in ((USDT_M, "BTCUSDT"), (COIN_M, "BTCUSD")):
                    set_rate(engine, str(D(rng.randint(-300, 300)) / 100000), symbol=s, market=m)
                settled += len(engine.settle_funding(settlement))
                settlement += 8 * HOUR
            else:
                side = rng.choice([LONG, SHORT])
                hedge = engine.futures_account(uid, market).position_mode is PositionMode.HEDGE
                trade = rng.choice([TradeSide.OPEN, TradeSide.CLOSE]) if hedge else TradeSide.OPEN
                engine.place_futures_order(uid, market, symbol, pos_side=side, trade_side=trade,
                                           order_type=OrderType.MARKET,
                                           size=D(rng.randint(1, 40)) / 1000)
        except DomainError:
            pass
    assert settled > 20
    for asset, market, funded in (("USDT", USDT_M, D("12000")), ("BTC", COIN_M, D("1.2"))):
        balances = sum(engine.balance(u, asset, account=market).total for u in users)
        margin = engine.position_margin().get(market, D(0))
        assert balances + margin + engine.house_balance("bitget", asset) == funded
    # what the bills say was paid is what the positions say they paid
    positions = [p for u in users for p in engine.positions(u, open_only=None)]
    bills = [b for u in users for b in engine.bills(u, limit=None, kinds=[FUNDING])]
    assert sum(b.amount for b in bills) == -sum(p.funding for p in positions)
    assert all(b.available >= 0 and b.frozen >= 0 for u in users for b in engine.balances(u))


# ---- time ------------------------------------------------------------------------------------------

def settlement_times(engine, symbol="BTCUSDT", market=USDT_M, venue="bitget") -> list[int]:
    return sorted(t for t, _ in engine.funding_history(venue, market, symbol))


def test_advancing_eight_hours_from_23h_settles_once_at_midnight(engine):
    uid = user(engine)
    pos = open_position(engine, uid, LONG, "0.1")
    engine.advance_clock(8 * HOUR)
    assert engine.now_ms() == START + 8 * HOUR
    assert settlement_times(engine) == [T0]
    assert [b.created_ms for b in engine.bills(uid, kinds=[FUNDING])] == [T0]
    assert engine.position(uid, pos.position_id).funding == D("0.95")
    # every perpetual of every venue settled at midnight; spot has no funding
    assert settlement_times(engine, "BTC", COINW, "coinw") == [T0]
    assert settlement_times(engine, "BTCUSD", COIN_M) == [T0]
    with pytest.raises(DomainError):
        engine.funding_history("bitget", "spot", "BTCUSDT")


def test_advancing_a_day_settles_three_times(engine):
    uid = user(engine)
    open_position(engine, uid, SHORT, "0.1")
    engine.advance_clock(24 * HOUR)
    assert settlement_times(engine) == [T0, T0 + 8 * HOUR, T0 + 16 * HOUR]
    assert [b.amount for b in engine.bills(uid, kinds=[FUNDING])] == [D("0.95")] * 3


def test_no_boundary_no_settlement_and_a_boundary_settles_once(engine):
    uid = user(engine)
    open_position(engine, uid, LONG, "0.1")
    engine.advance_clock(HOUR - 1)  # to 23:59:59.999
    assert settlement_times(engine) == []
    for _ in range(3):  # crossing midnight in small steps settles it once
        engine.advance_clock(1)
    assert settlement_times(engine) == [T0]
    engine.advance_clock(8 * HOUR - 3)  # from 00:00:00.002 to 07:59:59.999: none
    assert settlement_times(engine) == [T0]
    engine.advance_clock(1)
    assert settlement_times(engine) == [T0, T0 + 8 * HOUR]
    # jumping the clock (set) walks nothing and settles nothing
    engine.set_clock(T0 + 40 * HOUR)
    engine.advance_clock(0)
    assert settlement_times(engine) == [T0, T0 + 8 * HOUR]
    assert len(engine.bills(uid, kinds=[FUNDING])) == 2


def test_each_instrument_settles_at_its_own_interval(engine):
    set_rate(engine, "0.0002", symbol="ETHUSDT", interval_h=1)
    engine.advance_clock(3 * HOUR)  # 23:00 -> 02:00
    assert settlement_times(engine, "ETHUSDT") == [T0, T0 + HOUR, T0 + 2 * HOUR]
    assert settlement_times(engine) == [T0]


class Steps:
    """A price path through the given (time, price) points."""

    def __init__(self, *points) -> None:
        self._points = [(t, D(p)) for t, p in points]

    def points(self, start_ms: int, end_ms: int) -> list:
        return [(t, p) for t, p in self._points if start_ms < t <= end_ms]


def test_a_settlement_goes_before_the_path_points_of_its_own_time(engine):
    uid = user(engine)
    pos = open_position(engine, uid, LONG, "0.1")
    inst = engine.instrument("bitget", USDT_M, "BTCUSDT")
    engine.simulation.set_path(inst, Steps((T0 - HOUR // 2, "96000"), (T0, "100000"), (T0 + 1, "90000")))
    assert engine.advance_clock(2 * HOUR) == 3
    # charged at the mark of 23:30, before midnight's own point moved it
    assert engine.position(uid, pos.position_id).funding == D("0.96")
    assert engine.mark(inst) == D("90000")


def test_what_a_settlement_does_carries_its_time(engine):
    uid = user(engine)
    pos = open_position(engine, uid, LONG, "0.1", mode=ISOLATED, leverage=50)
    set_rate(engine, "0.05")  # eats the whole margin at midnight: liquidated then
    inst = engine.instrument("bitget", USDT_M, "BTCUSDT")
    engine.simulation.set_path(inst, Steps((T0 + HOUR, "96000")))
    engine.advance_clock(3 * HOUR)
    after = engine.position(uid, pos.position_id)
    assert not after.open and after.updated_ms == T0
    assert [o.created_ms for o in engine.futures_orders(uid) if o.source == "liquidation"] == [T0]


class SteppedClock:
    """A clock that moves by itself (as the system clock or a sped-up one), stepped by the test."""

    def __init__(self, now: int) -> None:
        self.now = now

    def now_ms(self) -> int:
        return self.now


def test_a_running_clock_settles_as_prices_catch_up():
    clock = SteppedClock(START)
    engine = Engine(open_store(":memory:"), clock=clock, seed=1)
    install_market(engine)
    uid = user(engine)
    open_position(engine, uid, LONG, "0.1")
    clock.now = T0 + 9 * HOUR
    engine.simulation.catch_up()
    assert settlement_times(engine) == [T0, T0 + 8 * HOUR]
    assert [b.created_ms for b in engine.bills(uid, kinds=[FUNDING])] == [T0 + 8 * HOUR, T0]
    engine.simulation.catch_up()  # nothing new
    assert len(engine.bills(uid, kinds=[FUNDING])) == 2


# ---- Bitget on the wire ----------------------------------------------------------------------------

def call(method, path, params=None, key=None) -> dict:
    query = urlencode(params or {})
    headers = {}
    if key is not None:
        headers = {k.lower(): v for k, v in
                   signed_headers(key.key, key.secret, key.passphrase, method, path, query).items()}
    response = _APP.handle(Request(method, path, query, headers, b"", "127.0.0.1"))
    return json.loads(response.body)


def bitget_key(engine, uid):
    return engine.create_api_key(uid)


def all_strings(rows: list[dict]) -> bool:
    return all(isinstance(v, str) for row in rows for v in row.values())


def test_bitget_current_rate_next_time_and_ticker(engine):
    set_rate(engine, "-0.00025")
    params = {"symbol": "BTCUSDT", "productType": "USDT-FUTURES"}
    assert call("GET", "/api/v2/mix/market/current-fund-rate", params)["data"] == [{
        "symbol": "BTCUSDT", "fundingRate": "-0.00025", "fundingRateInterval": "8",
        "nextUpdate": str(T0), "minFundingRate": "-0.003", "maxFundingRate": "0.003"}]
    rows = call("GET", "/api/v2/mix/market/current-fund-rate", {"productType": "usdt-futures"})["data"]
    assert [r["symbol"] for r in rows] == ["BTCUSDT", "ETHUSDT"] and all_strings(rows)
    assert call("GET", "/api/v2/mix/market/funding-time", params)["data"] == [
        {"symbol": "BTCUSDT", "nextFundingTime": str(T0), "ratePeriod": "8"}]
    assert call("GET", "/api/v2/mix/market/ticker", params)["data"][0]["fundingRate"] == "-0.00025"
    inverse = {"symbol": "BTCUSD", "productType": "COIN-FUTURES"}
    assert call("GET", "/api/v2/mix/market/current-fund-rate", inverse)["data"][0]["fundingRate"] == "0.0001"
    # the documented refusals
    assert call("GET", "/api/v2/mix/market/funding-time", {"symbol": "NOPEUSDT", "productType": "USDT-FUTURES"}
                )["code"] == "40034"
    assert call("GET", "/api/v2/mix/market/history-fund-rate", {"productType": "USDT-FUTURES"})["code"] == "40019"


def test_bitget_history_lists_settled_rates_newest_first_a_page_at_a_time(engine):
    for i, rate in enumerate(["0.0001", "0.0002", "-0.0003"]):
        set_rate(engine, rate)
        engine.settle_funding(T0 + i * 8 * HOUR)
    params = {"symbol": "BTCUSDT", "productType": "USDT-FUTURES"}
    assert call("GET", "/api/v2/mix/market/history-fund-rate", params)["data"] == [
        {"symbol": "BTCUSDT", "fundingRate": "-0.0003", "fundingTime": str(T0 + 16 * HOUR)},
        {"symbol": "BTCUSDT", "fundingRate": "0.0002", "fundingTime": str(T0 + 8 * HOUR)},
        {"symbol": "BTCUSDT", "fundingRate": "0.0001", "fundingTime": str(T0)}]
    page2 = call("GET", "/api/v2/mix/market/history-fund-rate", {**params, "pageSize": "2", "pageNo": "2"})
    assert page2["data"] == [{"symbol": "BTCUSDT", "fundingRate": "0.0001", "fundingTime": str(T0)}]
    assert call("GET", "/api/v2/mix/market/history-fund-rate", {**params, "pageNo": "3"})["data"] == []


BILL_KEYS = ["billId", "symbol", "amount", "fee", "feeByCoupon", "businessType", "coin", "balance", "cTime"]


def test_bitget_bills_list_funding_fees_and_page_by_end_id(engine):
    uid = user(engine)
    key = bitget_key(engine, uid)
    open_position(engine, uid, LONG, "0.1")
    funding = {"productType": "USDT-FUTURES", "businessType": "contract_settle_fee"}
    empty = call("GET", "/api/v2/mix/account/bill", funding, key)
    assert (empty["code"], empty["data"]) == ("00000", {"bills": [], "endId": None})
    engine.advance_clock(24 * HOUR)
    page = call("GET", "/api/v2/mix/account/bill", {**funding, "limit": "2"}, key)["data"]
    assert [list(b) for b in page["bills"]] == [BILL_KEYS] * 2 and all_strings(page["bills"])
    first = page["bills"][0]
    balance = available(engine, uid)
    assert first == {"billId": first["billId"], "symbol": "BTCUSDT", "amount": "-0.95", "fee": "0",
                     "feeByCoupon": "", "businessType": "contract_settle_fee", "coin": "USDT",
                     "balance": format(balance.normalize(), "f"), "cTime": str(T0 + 16 * HOUR)}
    assert page["endId"] == page["bills"][1]["billId"]
    rest = call("GET", "/api/v2/mix/account/bill", {**funding, "idLessThan": page["endId"]}, key)["data"]
    assert [b["cTime"] for b in rest["bills"]] == [str(T0)]
    ids = [int(b["billId"]) for b in page["bills"] + rest["bills"]]
    assert ids == sorted(ids, reverse=True)
    # filters: business type, symbol, coin, time; other product lines hold nothing
    for params in ({"businessType": "contract_settle_fee"}, {"symbol": "BTCUSDT"}, {"coin": "usdt"},
                   {"startTime": str(T0 + 8 * HOUR), "endTime": str(T0 + 8 * HOUR)}):
        got = call("GET", "/api/v2/mix/account/bill", {**funding, **params}, key)["data"]
        assert len(got["bills"]) == (1 if "startTime" in params else 3), params
    # the opening trade is a bill of its own (open_long)
    (opened,) = call("GET", "/api/v2/mix/account/bill", {"productType": "USDT-FUTURES", "businessType": "open_long"},
                     key)["data"]["bills"]
    assert (opened["amount"], opened["fee"], opened["symbol"]) == ("0", "-5.7", "BTCUSDT")
    for params in ({"productType": "USDT-FUTURES", "businessType": "close_long"},
                   {"productType": "USDT-FUTURES", "symbol": "ETHUSDT"},
                   {"productType": "COIN-FUTURES"}):
        assert call("GET", "/api/v2/mix/account/bill", params, key)["data"] == {"bills": [], "endId": None}
    assert call("GET", "/api/v2/mix/account/bill", {}, key)["code"] == "40019"


def test_bitget_positions_carry_the_funding_paid(engine):
    uid = user(engine)
    key = bitget_key(engine, uid)
    pos = open_position(engine, uid, LONG, "0.1")
    params = {"productType": "USDT-FUTURES"}
    assert call("GET", "/api/v2/mix/position/all-position", params, key)["data"][0]["totalFee"] == ""
    engine.advance_clock(8 * HOUR)
    [row] = call("GET", "/api/v2/mix/position/all-position", params, key)["data"]
    assert row["totalFee"] == "-0.95"
    engine.close_position(uid, pos.position_id)
    [closed] = call("GET", "/api/v2/mix/position/history-position", params, key)["data"]["list"]
    assert closed["totalFunding"] == "-0.95"


# ---- CoinW on the wire -----------------------------------------------------------------------------

def coinw_call(method, path, params=None, key=None):
    query = urlencode(params or {})
    headers = {}
    if key is not None:
        headers = {k.lower(): v for k, v in coinw_headers(key.key, key.secret, method, path, query).items()}
    response = _APP.handle(Request(method, path, query, headers, b"", "127.0.0.1"))
    return json.loads(response.body, parse_float=D)


def test_coinw_funding_rate_is_the_configured_rate_as_a_number(engine):
    assert coinw_call("GET", "/v1/perpum/fundingRate", {"instrument": "btc"})["data"] == {"value": D("0.0001")}
    set_rate(engine, "-0.00002964", symbol="BTC", market=COINW, venue="coinw")
    answer = coinw_call("GET", "/v1/perpum/fundingRate", {"instrument": "BTC"})
    assert answer["data"] == {"value": D("-0.00002964")} and isinstance(answer["data"]["value"], D)


def test_coinw_positions_show_the_funding_paid_as_a_string(engine):
    uid = user(engine, venue="coinw", usdt="100000")
    key = engine.create_api_key(uid)
    pos = open_position(engine, uid, LONG, "0.1", symbol="BTC", market=COINW, mode=ISOLATED, venue="coinw")
    [row] = coinw_call("GET", "/v1/perpum/positions", {"instrument": "BTC"}, key)["data"]
    assert (row["fundingFee"], row["fundingSettle"]) == ("0", 0)
    engine.advance_clock(8 * HOUR)
    [row] = coinw_call("GET", "/v1/perpum/positions", {"instrument": "BTC"}, key)["data"]
    assert row["fundingFee"] == "0.95" and row["id"] == pos.position_id
    assert row["positionMargin"] == pos.margin - D("0.95")  # isolated: paid from its margin
    [row] = coinw_call("GET", "/v1/perpum/positions/all", None, key)["data"]
    assert row["fundingFee"] == "0.95"
    set_rate(engine, "-0.0002", symbol="BTC", market=COINW, venue="coinw")
    engine.advance_clock(8 * HOUR)
    [row] = coinw_call("GET", "/v1/perpum/positions", {"instrument": "BTC"}, key)["data"]
    assert row["fundingFee"] == "-0.95"  # 0.95 paid, then 1.9 received


# ---- control plane ---------------------------------------------------------------------------------

def control(body: dict, path: str = "/localex/funding") -> tuple[int, dict]:
    response = _APP.handle(Request("POST", path, "", {}, json.dumps(body).encode(), "127.0.0.1"))
    return response.status, json.loads(response.body)


def test_the_control_plane_sets_a_rate_and_an_interval(engine):
    status, body = control({"venue": "bitget", "market": USDT_M, "symbol": "btcusdt", "rate": "0.0003"})
    assert status == 200 and body == {"venue": "bitget", "market": USDT_M, "symbol": "BTCUSDT",
                                      "rate": "0.0003", "intervalH": 8, "nextSettlement": T0}
    status, body = control({"venue": "coinw", "symbol": "ETH", "rate": -0.0001, "intervalH": 4})
    assert status == 200 and (body["market"], body["rate"], body["intervalH"]) == (COINW, "-0.0001", 4)
    assert engine.instrument("coinw", COINW, "ETH").funding_interval_h == 4
    assert control({"venue": "bitget", "symbol": "BTCUSDT", "market": "spot", "rate": "0.1"})[0] == 400
    assert control({"venue": "bitget", "symbol": "NOPE", "rate": "0.1"})[0] == 404
    assert control({"venue": "bitget", "market": USDT_M, "symbol": "BTCUSDT", "rate": "2"})[0] == 400
    assert control({"venue": "bitget", "market": USDT_M, "symbol": "BTCUSDT", "rate": "0.1",
                    "intervalH": 0})[0] == 400
    assert engine.instrument("bitget", USDT_M, "BTCUSDT").funding_rate == D("0.0003")
    # advancing the clock through the control plane settles at that rate
    uid = user(engine)
    open_position(engine, uid, LONG, "0.1")
    assert control({"advance": 8 * HOUR}, "/localex/clock")[0] == 200
    assert [b.amount for b in engine.bills(uid, kinds=[FUNDING])] == [D("-2.85")]


# ---- ccxt ------------------------------------------------------------------------------------------

def test_ccxt_reads_the_rate_and_the_funding_history():
    with mock_exchanges(clock=ManualClock(START), seed=4, rate_limits=False) as emu:
        creds = emu.create_user(funds={})
        emu.fund(creds.uid, "USDT", "10000", account=USDT_M)
        emu.engine.set_funding_rate("bitget", USDT_M, "BTCUSDT", D("0.0002"))
        open_position(emu.engine, creds.uid, SHORT, "0.1")
        emu.advance_clock(16 * HOUR)
        bitget = ccxt.bitget(creds.ccxt)
        rate = bitget.fetch_funding_rate("BTC/USDT:USDT")
        assert (rate["symbol"], rate["fundingRate"], rate["fundingTimestamp"], rate["interval"]) == (
            "BTC/USDT:USDT", 0.0002, T0 + 16 * HOUR, "8h")
        history = bitget.fetch_funding_history("BTC/USDT:USDT")
        assert [(h["timestamp"], h["amount"], h["code"]) for h in history] == [
            (T0, 1.9, "USDT"), (T0 + 8 * HOUR, 1.9, "USDT")]
        rates = bitget.fetch_funding_rate_history("BTC/USDT:USDT")
        assert [(r["timestamp"], r["fundingRate"]) for r in rates] == [(T0, 0.0002), (T0 + 8 * HOUR, 0.0002)]
