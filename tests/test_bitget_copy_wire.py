"""Bitget V2 futures copy trading on the wire (/api/v2/copy/mix-trader/..., /mix-follower/...):
raw signed HTTP against the real server, compared byte for byte.

Seeds 000 (order-current-track) and 001 (order-close-positions) are checked field by field, in
order, with their types; every endpoint and every refusal a bot can meet has its exact body.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal as D
from urllib.parse import urlencode

import httpx
import pytest
from wire_signing import signed_headers

from localex.engine.copy import FollowerSetting
from localex.engine.model import OrderType, Permission, PositionSide, TradeSide

T = "/api/v2/copy/mix-trader/"
F = "/api/v2/copy/mix-follower/"
CURRENT, CLOSE, HISTORY = T + "order-current-track", T + "order-close-positions", T + "order-history-track"
USDT_M = "usdt-futures"

SEED_000_ROW = ["trackingNo", "openOrderId", "symbol", "posSide", "openLeverage", "openPriceAvg", "openTime",
                "openSize", "presetStopSurplusPrice", "presetStopLossPrice", "openFee", "followCount"]
SEED_001_ROW = ["trackingNo", "symbol", "productType"]
HISTORY_ROW = ["trackingNo", "symbol", "openOrderId", "closeOrderId", "productType", "posSide", "openLeverage",
               "openPriceAvg", "openTime", "openSize", "closeSize", "closeTime", "closePriceAvg", "stopType",
               "achievedPL", "openFee", "closeFee", "cTime"]
COPY_KEY = [Permission.READ, Permission.FUTURES_TRADE, Permission.COPY_TRADE]


def compact(payload) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class Wire:
    def __init__(self, world, http: httpx.Client) -> None:
        self.world, self.http = world, http

    def _headers(self, who, method, path, query, body):
        return signed_headers(who.api_key, who.secret_key, who.passphrase, method, path, query, body,
                              str(time.time_ns() // 1_000_000))

    def get(self, who, path: str, params: dict | None = None, reset: bool = True) -> httpx.Response:
        if reset:
            self.world.app.limiter.reset()
        query = urlencode(params or {})
        return self.http.get(path + ("?" + query if query else ""),
                             headers=self._headers(who, "GET", path, query, b""))

    def post(self, who, path: str, body: dict, reset: bool = True) -> httpx.Response:
        if reset:
            self.world.app.limiter.reset()
        raw = compact(body)
        return self.http.post(path, content=raw, headers=self._headers(who, "POST", path, "", raw))

    def ok(self, resp: httpx.Response):
        assert resp.status_code == 200, resp.content
        payload = resp.json()
        assert list(payload) == ["code", "msg", "requestTime", "data"]
        assert payload["code"] == "00000" and payload["msg"] == "success"
        assert payload["requestTime"] == self.world.engine.now_ms()
        assert resp.content == compact(payload)
        strings(payload["data"])
        return payload["data"]

    def error(self, resp: httpx.Response, code: str, msg: str, status: int = 400) -> None:
        now = self.world.engine.now_ms()
        assert (resp.status_code, resp.content) == (status, compact(
            {"code": code, "msg": msg, "requestTime": now, "data": None})), resp.content


def strings(value, path="data") -> None:
    """Every value in data is a string (lists and objects aside)."""
    if isinstance(value, dict):
        for k, v in value.items():
            strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            strings(v, f"{path}[{i}]")
    else:
        assert isinstance(value, str), (path, value)


class Copy:
    """A copy-trading world: one elite trader on BTCUSDT and ETHUSDT, followers on demand."""

    def __init__(self, world) -> None:
        self.world, self.e = world, world.engine

    def user(self, name: str, usdt: str = "100000", permissions=COPY_KEY):
        who = self.world.trader(name, funds={}, permissions=permissions)
        if D(usdt):
            self.e.fund(who.uid, "USDT", D(usdt), account=USDT_M)
        return who

    def trader(self, name: str = "lead", **options):
        who = self.user(name)
        self.e.copy.make_trader(who.uid, [(USDT_M, "BTCUSDT"), (USDT_M, "ETHUSDT")], **options)
        return who

    def follower(self, lead, name: str, usdt: str = "10000", value: str = "0.01", symbol: str = "BTCUSDT"):
        who = self.user(name, usdt)
        self.e.copy.follow(who.uid, lead.uid, [FollowerSetting("", "", USDT_M, symbol, trace_type="fixed_size",
                                                              trace_value=D(value))])
        return who

    def open(self, who, size: str = "0.01", symbol: str = "BTCUSDT", side=PositionSide.LONG, **order):
        self.e.place_futures_order(who.uid, USDT_M, symbol, pos_side=side, trade_side=TradeSide.OPEN,
                                   order_type=OrderType.MARKET, size=D(size), **order)
        return self.e.copy.tracking_orders(who.uid, USDT_M, limit=1)[0]


@pytest.fixture
def wire(world, http):
    return Wire(world, http)


@pytest.fixture
def cp(world):
    return Copy(world)


# ---- seed 000: order-current-track ---------------------------------------------------------------

def test_current_track_is_seed_000_exactly(wire, cp):
    lead = cp.trader()
    cp.follower(lead, "f1")
    tr = cp.open(lead, "0.01", tp_price=D("99000.5"), sl_price=D("90000"))
    data = wire.ok(wire.get(lead, CURRENT, {"symbol": "btcusdt", "productType": "usdt-futures", "limit": "20"}))
    assert data == {"trackingList": [{
        "trackingNo": str(tr.tracking_no), "openOrderId": str(tr.open_order_id), "symbol": "BTCUSDT",
        "posSide": "long", "openLeverage": "20", "openPriceAvg": "95000.0", "openTime": str(tr.open_ms),
        "openSize": "0.0100000000000000", "presetStopSurplusPrice": "99000.5", "presetStopLossPrice": "90000",
        "openFee": "-0.57", "followCount": "1"}], "endId": str(tr.tracking_no)}
    assert list(data) == ["trackingList", "endId"] and list(data["trackingList"][0]) == SEED_000_ROW
    assert data["trackingList"][0]["trackingNo"] != data["trackingList"][0]["openOrderId"]
    assert len(data["trackingList"][0]["trackingNo"]) == 19
    # productType in any case; no stops read ""; newest first; an empty page
    cp.open(lead, "0.1", symbol="ETHUSDT", side=PositionSide.SHORT)
    rows = wire.ok(wire.get(lead, CURRENT, {"productType": "UsDt-FuTuReS"}))["trackingList"]
    assert [(r["symbol"], r["posSide"], r["presetStopSurplusPrice"]) for r in rows] == [
        ("ETHUSDT", "short", ""), ("BTCUSDT", "long", "99000.5")]
    assert wire.ok(wire.get(lead, CURRENT, {"productType": "COIN-FUTURES"})) == {"trackingList": [], "endId": ""}


def test_current_track_time_window_and_limit(wire, cp, world):
    lead = cp.trader()
    first = cp.open(lead)
    world.engine.clock.advance(60_000)
    second = cp.open(lead)
    q = {"productType": "USDT-FUTURES"}
    got = lambda **extra: [r["trackingNo"] for r in wire.ok(wire.get(lead, CURRENT, {**q, **extra}))["trackingList"]]  # noqa: E731
    assert got(startTime=str(second.open_ms)) == [str(second.tracking_no)]
    assert got(endTime=str(first.open_ms)) == [str(first.tracking_no)]
    assert got(limit="1") == [str(second.tracking_no)]
    assert got(limit="50") == [str(second.tracking_no), str(first.tracking_no)]
    wire.error(wire.get(lead, CURRENT, {**q, "startTime": "2", "endTime": "1"}), "40707",
               "Start time is greater than end time")
    for bad in ("0", "51"):
        wire.error(wire.get(lead, CURRENT, {**q, "limit": bad}), "40053",
                   "Value range verification failed: limit should be between (0, 50]")
    wire.error(wire.get(lead, CURRENT, {**q, "limit": "x"}), "40020", "Parameter limit error")
    wire.error(wire.get(lead, CURRENT, {**q, "startTime": "soon"}), "40020", "Parameter startTime error")
    wire.error(wire.get(lead, CURRENT, {**q, "idLessThan": "abc"}), "40020", "Parameter idLessThan error")


def test_current_track_pages_137_tracking_orders_exactly_once(wire, cp, world):
    lead = cp.trader()
    e = world.engine
    for i in range(137):
        e.place_futures_order(lead.uid, USDT_M, "BTCUSDT", pos_side=PositionSide.LONG if i % 2 else PositionSide.SHORT,
                              trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.0001"))
    every = [t.tracking_no for t in e.copy.tracking_orders(lead.uid, USDT_M, limit=1000)]
    assert len(every) == 137 and every == sorted(every, reverse=True)
    seen, cursor = [], None
    while True:
        params = {"productType": "usdt-futures", "limit": "50"} | ({"idLessThan": cursor} if cursor else {})
        data = wire.ok(wire.get(lead, CURRENT, params))
        if not data["trackingList"]:
            assert data["endId"] == ""
            break
        seen += [int(r["trackingNo"]) for r in data["trackingList"]]
        assert data["endId"] == data["trackingList"][-1]["trackingNo"]
        cursor = data["endId"]
    assert seen == every  # each exactly once, newest first
    # and back up with idGreaterThan, from the oldest
    seen, cursor = [], str(every[-1] - 1)
    while True:
        data = wire.ok(wire.get(lead, CURRENT, {"productType": "usdt-futures", "limit": "50",
                                                "idGreaterThan": cursor}))
        if not data["trackingList"]:
            break
        ids = [int(r["trackingNo"]) for r in data["trackingList"]]
        assert ids == sorted(ids, reverse=True) and data["endId"] == str(ids[0])
        seen += ids
        cursor = data["endId"]
    assert sorted(seen) == sorted(every) and len(seen) == 137


def test_trader_page_refusals(wire, cp, world):
    lead = cp.trader()
    plain = cp.user("plain")
    no_copy = world.trader("nocopy", funds={}, permissions=[Permission.READ, Permission.FUTURES_TRADE])
    wire.error(wire.get(lead, CURRENT, {}), "40019", "Parameter productType cannot be empty")
    wire.error(wire.get(lead, CURRENT, {"productType": "NOPE-FUTURES"}), "40019",
               "Parameter NOPE-FUTURES cannot be empty")
    wire.error(wire.get(lead, CURRENT, {"productType": "usdt-futures", "symbol": "DOGEUSDT"}), "40854",
               "This product does not support copy trading")
    wire.error(wire.get(plain, CURRENT, {"productType": "usdt-futures"}), "40732", "Not currently a trader")
    wire.error(wire.get(plain, T + "order-total-detail"), "40732", "Not currently a trader")
    wire.error(wire.get(no_copy, CURRENT, {"productType": "usdt-futures"}), "40014",
               "Incorrect permissions, need copy trading permissions")
    wire.error(wire.post(no_copy, CLOSE, {"productType": "usdt-futures"}), "40014",
               "Incorrect permissions, need copy trading permissions")


def test_trader_pages_are_limited_to_5_per_second(wire, cp):
    lead = cp.trader()
    wire.world.app.limiter.reset()
    codes = [wire.get(lead, CURRENT, {"productType": "usdt-futures"}, reset=False).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]


# ---- seed 001: order-close-positions -------------------------------------------------------------

def test_close_positions_is_seed_001_exactly(wire, cp, world):
    lead = cp.trader()
    follower = cp.follower(lead, "f1")
    btc1 = cp.open(lead)
    eth = cp.open(lead, "0.1", symbol="ETHUSDT")
    btc2 = cp.open(lead)
    # by trackingNo (symbol in lower case must correspond)
    data = wire.ok(wire.post(lead, CLOSE, {"symbol": "btcusdt", "productType": "usdt-futures",
                                           "trackingNo": str(btc1.tracking_no)}))
    assert data == [{"trackingNo": str(btc1.tracking_no), "symbol": "BTCUSDT", "productType": "USDT-FUTURES"}]
    assert list(data[0]) == SEED_001_ROW
    assert world.engine.copy.copies_of(btc1.tracking_no)[0].status == "closed"
    # closing it again, an unknown one, one that does not correspond to the symbol
    wire.error(wire.post(lead, CLOSE, {"productType": "usdt-futures", "trackingNo": str(btc1.tracking_no)}),
               "43064", "Tracking order status error")
    wire.error(wire.post(lead, CLOSE, {"productType": "usdt-futures", "trackingNo": "1"}),
               "43065", "Tracking No does not exist")
    wire.error(wire.post(lead, CLOSE, {"productType": "usdt-futures", "trackingNo": "x1"}),
               "43065", "Tracking No does not exist")
    wire.error(wire.post(lead, CLOSE, {"productType": "usdt-futures", "symbol": "ETHUSDT",
                                       "trackingNo": str(btc2.tracking_no)}), "43065", "Tracking No does not exist")
    wire.error(wire.post(lead, CLOSE, {"productType": "usdt-futures", "symbol": "NOPEUSDT"}),
               "40854", "This product does not support copy trading")
    wire.error(wire.post(lead, CLOSE, {"symbol": "BTCUSDT"}), "40019", "Parameter productType cannot be empty")
    wire.error(wire.post(cp.user("plain"), CLOSE, {"productType": "usdt-futures"}), "40732",
               "Not currently a trader")
    # by symbol, then everything of the product type
    assert wire.ok(wire.post(lead, CLOSE, {"productType": "USDT-FUTURES", "symbol": "ETHUSDT"})) == [
        {"trackingNo": str(eth.tracking_no), "symbol": "ETHUSDT", "productType": "USDT-FUTURES"}]
    assert wire.ok(wire.post(lead, CLOSE, {"productType": "usdt-futures"})) == [
        {"trackingNo": str(btc2.tracking_no), "symbol": "BTCUSDT", "productType": "USDT-FUTURES"}]
    assert wire.ok(wire.post(lead, CLOSE, {"productType": "usdt-futures"})) == []
    assert world.engine.positions(lead.uid) == [] and world.engine.positions(follower.uid) == []


def test_a_trader_closing_a_tracked_position_with_place_order_is_refused(wire, cp):
    lead = cp.trader()
    cp.open(lead)
    body = {"symbol": "BTCUSDT", "productType": "USDT-FUTURES", "marginMode": "crossed", "marginCoin": "USDT",
            "size": "0.01", "side": "buy", "tradeSide": "close", "orderType": "market"}
    wire.error(wire.post(lead, "/api/v2/mix/order/place-order", body), "40866",
               "You are currently a trader, please close the position under the current order")
    assert len(cp.e.positions(lead.uid)) == 1


def test_a_trader_stays_in_hedge_mode(wire, cp):
    lead = cp.trader()
    body = {"productType": "USDT-FUTURES", "posMode": "one_way_mode"}
    wire.error(wire.post(lead, "/api/v2/mix/account/set-position-mode", body), "43011",
               "The parameter does not meet the specification posMode: elite traders trade copy "
               "symbols in hedge mode only")
    assert cp.e.futures_account(lead.uid, "usdt-futures").position_mode.value == "hedge"


# ---- the rest of the trader side --------------------------------------------------------------------

def test_history_track_rows_and_order(wire, cp, world):
    lead = cp.trader()
    first = cp.open(lead, "0.1000")
    second = cp.open(lead, "0.0100", tp_price=D("96000"))
    world.engine.set_mark("bitget", USDT_M, "BTCUSDT", D("96000"))  # TP closes the second: "profit"
    wire.ok(wire.post(lead, CLOSE, {"productType": "usdt-futures", "trackingNo": str(first.tracking_no)}))
    data = wire.ok(wire.get(lead, HISTORY, {"productType": "USDT-FUTURES"}))
    rows = data["trackingList"]
    assert [list(r) for r in rows] == [HISTORY_ROW] * 2
    assert [r["trackingNo"] for r in rows] == [str(second.tracking_no), str(first.tracking_no)]
    tp_row, manual = rows
    closed = world.engine.copy.tracking(first.tracking_no)
    assert manual == {
        "trackingNo": str(first.tracking_no), "symbol": "BTCUSDT", "openOrderId": str(first.open_order_id),
        "closeOrderId": str(closed.close_order_id), "productType": "usdt-futures", "posSide": "long",
        "openLeverage": "20", "openPriceAvg": "95000.0", "openTime": str(first.open_ms), "openSize": "0.1000",
        "closeSize": "0.1000", "closeTime": str(closed.close_ms), "closePriceAvg": "96000.0", "stopType": "",
        "achievedPL": "100.00000000", "openFee": "-5.70000000", "closeFee": "-5.76000000",
        "cTime": str(first.open_ms)}
    assert (tp_row["stopType"], tp_row["achievedPL"]) == ("profit", "10.00000000")
    asc = wire.ok(wire.get(lead, HISTORY, {"productType": "USDT-FUTURES", "order": "asc", "limit": "1"}))
    assert asc["trackingList"][0]["trackingNo"] == str(first.tracking_no)
    nxt = wire.ok(wire.get(lead, HISTORY, {"productType": "USDT-FUTURES", "order": "asc", "limit": "1",
                                           "idGreaterThan": asc["endId"]}))
    assert nxt["trackingList"][0]["trackingNo"] == str(second.tracking_no)
    assert wire.ok(wire.get(lead, CURRENT, {"productType": "USDT-FUTURES"}))["trackingList"] == []
    wire.error(wire.get(lead, HISTORY, {"productType": "USDT-FUTURES", "limit": "101"}), "40053",
               "Value range verification failed: limit should be between (0, 100]")
    wire.error(wire.get(lead, HISTORY, {"productType": "USDT-FUTURES", "order": "up"}), "40020",
               "Parameter order error")
    wire.error(wire.get(lead, HISTORY, {"productType": "USDT-FUTURES", "startTime": "0",
                                        "endTime": str(91 * 86_400_000)}), "40705",
               "The start and end time cannot exceed 90 days")


def test_modify_tpsl(wire, cp, world):
    lead = cp.trader()
    tr = cp.open(lead, tp_price=D("99000"))
    path, base = T + "order-modify-tpsl", {"productType": "usdt-futures", "trackingNo": str(tr.tracking_no)}
    assert wire.ok(wire.post(lead, path, {**base, "stopLossPrice": "90000"})) == "success"
    wire.error(wire.post(lead, path, {**base, "stopLossPrice": "91000"}), "43036",
               "Trader modify tpsl can only be operated once within 300ms")
    world.engine.clock.advance(300)
    assert wire.ok(wire.post(lead, path, {**base, "stopSurplusPrice": "0", "stopLossPrice": ""})) == "success"
    got = world.engine.copy.tracking(tr.tracking_no)
    assert (got.tp_price, got.sl_price) == (None, D("90000"))
    world.engine.clock.advance(300)
    wire.error(wire.post(lead, path, {**base, "stopSurplusPrice": "94000"}), "40830",
               "The take profit price of the long position should be greater than the current price")
    wire.error(wire.post(lead, path, base), "40019", "Parameter stopSurplusPrice cannot be empty")
    wire.error(wire.post(lead, path, {**base, "trackingNo": "5", "stopLossPrice": "1"}), "43065",
               "Tracking No does not exist")
    wire.error(wire.post(lead, path, {"productType": "usdt-futures", "stopLossPrice": "1"}), "40019",
               "Parameter trackingNo cannot be empty")


def test_summary_and_profit_share_pages(wire, cp, world):
    lead = cp.trader(profit_share_ratio=D("0.1"))
    follower = cp.follower(lead, "f1")
    tr = cp.open(lead)
    world.engine.set_mark("bitget", USDT_M, "BTCUSDT", D("97000"))
    pending = wire.ok(wire.get(lead, T + "profit-details"))
    assert pending == [{"coin": "usdt", "profit": "1.943", "nickName": "f1"}]  # (20 - 0.57 paid) * 10%
    wire.ok(wire.post(lead, CLOSE, {"productType": "usdt-futures", "trackingNo": str(tr.tracking_no)}))
    share = world.engine.copy.copies_of(tr.tracking_no)[0].profit_share
    assert share == (D("20") - D("0.57") - D("0.582")) * D("0.1")
    detail = wire.ok(wire.get(lead, T + "order-total-detail"))
    assert list(detail) == ["roi", "tradingOrderNum", "totalFollowerNum", "currentFollowerNum", "totalpl",
                            "gainNum", "lossNum", "winRate", "tradingPairsAvailableList", "lastWeekRoiList",
                            "lastWeekProfitList", "lastMonthRoiList", "lastMonthProfitList", "totalEquity"]
    assert (detail["roi"], detail["tradingOrderNum"], detail["totalFollowerNum"], detail["currentFollowerNum"],
            detail["totalpl"], detail["gainNum"], detail["lossNum"], detail["winRate"]) == (
        "42.11", "1", "1", "1", "$20.00", "1", "0", "100")
    assert detail["tradingPairsAvailableList"] == ["BTCUSDT", "ETHUSDT"]
    day = str(world.engine.now_ms() - world.engine.now_ms() % 86_400_000)
    assert detail["lastWeekProfitList"] == [{"amount": "20.00", "ctime": day}]
    assert detail["lastWeekRoiList"] == [{"rate": "42.105263", "ctime": day}]
    summary = wire.ok(wire.get(lead, T + "profit-history-summarys"))
    assert summary == {"profitSummary": {"yesterdayProfit": "0", "sumProfit": "1.8848", "waitProfit": "0",
                                         "yesterdayTime": str(int(day) - 86_400_000)},
                       "profitHistoryList": [{"coin": "USDT", "profitCount": "1.8848",
                                              "lastProfitTime": str(world.engine.now_ms())}]}
    details = wire.ok(wire.get(lead, T + "profit-history-details", {"coin": "usdt"}))
    (row,) = details["profitList"]
    assert list(row) == ["profitId", "coin", "profit", "nickName", "profitTime"]
    assert (row["coin"], row["profit"], row["nickName"], details["endId"]) == ("usdt", "1.8848", "f1", row["profitId"])
    assert wire.ok(wire.get(lead, T + "profits-group-coin-date")) == [
        {"coin": "usdt", "profit": "1.8848", "profitTime": day}]
    assert wire.ok(wire.get(lead, T + "profits-group-coin-date", {"pageNo": "2"})) == []
    wire.error(wire.get(lead, T + "profits-group-coin-date", {"pageSize": "51"}), "40053",
               "Value range verification failed: pageSize should be between (0, 50]")
    assert world.engine.balance(follower.uid, "USDT", USDT_M).available < D("10020")


def test_copy_symbol_settings(wire, cp):
    lead = cp.trader()
    rows = wire.ok(wire.get(lead, T + "config-query-symbols", {"productType": "usdt-futures"}))
    assert rows == [
        {"symbol": "BTCUSDT", "openTrader": "yes", "minOpenCount": "0.0001", "maxLeverage": "125",
         "stopSurplusRatio": "", "stopLossRatio": ""},
        {"symbol": "ETHUSDT", "openTrader": "yes", "minOpenCount": "0.01", "maxLeverage": "125",
         "stopSurplusRatio": "", "stopLossRatio": ""}]
    path = T + "config-setting-symbols"
    change = lambda **e: {"settingList": [{"symbol": "BTCUSDT", "productType": "USDT-FUTURES", **e}]}  # noqa: E731
    assert wire.ok(wire.post(lead, path, change(settingType="UPDATE", stopSurplusRatio="100"))) == "success"
    assert wire.ok(wire.post(lead, path, change(settingType="delete"))) == "success"
    wire.error(wire.post(lead, path, change(settingType="update", stopLossRatio="30")), "31052",
               "Cannot set trading symbol that have not been opened by traders.")
    assert wire.ok(wire.post(lead, path, change(settingType="add", stopLossRatio="30"))) == "success"
    rows = wire.ok(wire.get(lead, T + "config-query-symbols", {"productType": "USDT-FUTURES"}))
    assert (rows[0]["stopSurplusRatio"], rows[0]["stopLossRatio"]) == ("", "30")  # ADD: empty is unset
    wire.error(wire.post(lead, path, change(settingType="add", stopSurplusRatio="401")), "43056",
               "The take profit ratio must be between 1-400")
    wire.error(wire.post(lead, path, change(settingType="update")), "40019",
               "Parameter stopSurplusRatio cannot be empty")
    wire.error(wire.post(lead, path, {"settingList": [{"symbol": "DOGEUSDT", "productType": "USDT-FUTURES",
                                                       "settingType": "add"}]}), "40854",
               "This product does not support copy trading")
    wire.error(wire.post(lead, path, {"settingList": []}), "40019", "Parameter settingList cannot be empty")
    assert wire.ok(wire.post(lead, T + "config-settings-base", {"enable": "YES", "showTpsl": "no"})) == "success"
    wire.error(wire.post(lead, T + "config-settings-base", {}), "40019", "Parameter enable cannot be empty")


def test_followers_and_removing_one(wire, cp, world):
    lead = cp.trader()
    f1 = cp.follower(lead, "f1")
    cp.open(lead)
    rows = wire.ok(wire.get(lead, T + "config-query-followers"))
    assert rows == [{"accountEquity": rows[0]["accountEquity"], "isRemove": "yes", "followerHeadPic": "",
                     "followerName": "f1", "followerUid": f1.uid, "followerTime": str(world.engine.now_ms())}]
    assert D(rows[0]["accountEquity"]) < D("10000")  # less the copy's fee
    assert wire.ok(wire.post(lead, T + "config-remove-follower", {"followerUid": f1.uid})) == "success"
    assert world.engine.positions(f1.uid) == []
    assert wire.ok(wire.get(lead, T + "config-query-followers")) == []
    wire.error(wire.post(lead, T + "config-remove-follower", {"followerUid": f1.uid}), "43066",
               "The trader failed to remove the follower")


# ---- follower side ---------------------------------------------------------------------------------

def test_follower_settings_and_queries(wire, cp, world):
    lead = cp.trader()
    f = cp.user("fan", "10000")
    body = {"traderId": lead.uid, "settings": [{
        "symbol": "BTCUSDT", "productType": "USDT-FUTURES", "marginType": "trader", "marginCoin": "USDT",
        "leverType": "trader", "traceType": "amount", "traceValue": "100", "maxHoldSize": "5000"}]}
    assert wire.ok(wire.post(f, F + "settings", body)) == "success"
    settings = wire.ok(wire.get(f, F + "query-settings", {"traderId": lead.uid}))
    assert settings == {"followerEnable": "YES", "detailList": [{
        "symbol": "BTCUSDT", "productType": "USDT-FUTURES", "marginType": "trader", "marginCoin": "USDT",
        "leverType": "trader", "longLeverage": "", "shortLeverage": "", "traceType": "amount",
        "traceValue": "100", "maxHoldSize": "5000", "stopSurplusRatio": "", "stopLossRatio": ""}]}
    tr = cp.open(lead)
    (copy,) = world.engine.copy.copies_of(tr.tracking_no)
    current = wire.ok(wire.get(f, F + "query-current-orders", {"productType": "usdt-futures"}))
    assert current == {"trackingList": [{
        "trackingNo": str(copy.tracking_no), "traderName": "lead", "openOrderId": str(copy.open_order_id),
        "closeOrderId": "", "traderId": lead.uid, "symbol": "BTCUSDT", "posSide": "long", "openLeverage": "20",
        "openAvgPrice": "95000.0", "openTime": str(copy.open_ms), "openSize": "0.0210000000000000",
        "closeAvgPrice": "0", "closeSize": "0.0000000000000000", "openMarginSz": "99.75", "closeTime": "0",
        "openPriceAvg": "95000.0", "openFee": "-1.197"}], "endId": str(copy.tracking_no)}
    assert wire.ok(wire.get(f, F + "query-current-orders", {"productType": "usdt-futures",
                                                            "symbol": "btcusdt"}))["trackingList"] == []
    traders = wire.ok(wire.get(f, F + "query-traders"))
    assert [list(r) for r in traders] == [["certificationType", "traderId", "traderName", "maxFollowLimit",
                                           "followCount", "traceTotalMarginAmount", "traceTotalNetProfit",
                                           "traceTotalProfit", "currentTradingPairs", "followerTime",
                                           "bgbMaxFollowLimit", "bgbFollowCount"]]
    assert (traders[0]["traderId"], traders[0]["followCount"], traders[0]["traceTotalMarginAmount"],
            traders[0]["currentTradingPairs"]) == (lead.uid, "1", "99.7500", ["BTCUSDT", "ETHUSDT"])
    # TP/SL on the copy, then close it
    tpsl = {"productType": "USDT-FUTURES", "trackingNo": str(copy.tracking_no), "stopSurplusPrice": "99000"}
    assert wire.ok(wire.post(f, F + "setting-tpsl", tpsl)) == "success"
    assert world.engine.positions(f.uid)[0].tp_price == D("99000")
    closed = wire.ok(wire.post(f, F + "close-positions", {"productType": "USDT-FUTURES",
                                                          "trackingNo": str(copy.tracking_no)}))
    (order_id,) = closed["orderIdList"]
    assert list(closed) == ["orderIdList"] and world.engine.futures_order(f.uid, int(order_id)) is not None
    wire.error(wire.post(f, F + "setting-tpsl", tpsl), "43064", "Tracking order status error")
    wire.error(wire.post(f, F + "close-positions", {"productType": "USDT-FUTURES"}), "22002", "No position to close")
    history = wire.ok(wire.get(f, F + "query-history-orders", {"productType": "USDT-FUTURES"}))
    (row,) = history["trackingList"]
    assert list(row) == ["trackingNo", "posSide", "openLeverage", "openSize", "closeSize", "openPriceAvg",
                         "closePriceAvg", "achievedPL", "openFee", "closeFee", "symbol", "profitRate", "netProfit",
                         "openOrderId", "closeOrderId", "openTime", "closeTime", "traderId", "productType"]
    assert (row["openSize"], row["achievedPL"], row["closeFee"], row["productType"]) == (
        "0.0210", "0.00000000", "-1.19700000", "usdt-futures")
    assert world.engine.copy.tracking(tr.tracking_no).status == "open"  # the trader's order stays open
    assert wire.ok(wire.post(f, F + "cancel-trader", {"traderId": lead.uid})) == "success"
    assert wire.ok(wire.get(f, F + "query-settings", {"traderId": lead.uid})) == {
        "followerEnable": "NO", "detailList": []}
    wire.error(wire.post(f, F + "cancel-trader", {"traderId": lead.uid}), "43062", "not to follow")


def test_copy_settings_and_follower_refusals(wire, cp):
    lead = cp.trader()
    f = cp.user("fan", "10000")
    body = {"traderId": lead.uid, "copyAmount": "200"}
    wire.world.app.limiter.reset()
    assert wire.ok(wire.post(f, F + "copy-settings", body, reset=False)) == "success"
    assert wire.post(f, F + "copy-settings", body, reset=False).status_code == 429  # 1 per second
    wire.error(wire.post(f, F + "copy-settings", {**body, "copyAmount": "49"}), "40053",
               "Value range verification failed: copyAmount should be between [50, +∞)")
    wire.error(wire.post(f, F + "copy-settings", {"traderId": f.uid, "copyAmount": "200"}), "43063",
               "Can not follow trade with yourself")
    wire.error(wire.post(f, F + "copy-settings", {"traderId": "1234567", "copyAmount": "200"}), "40860",
               "The trader does not exist and cannot be set to follow")
    other = cp.trader("other")
    wire.error(wire.post(other, F + "copy-settings", body), "31031",
               "You’re log in as trader,can not follow trade")
    wire.error(wire.post(f, F + "settings", {"traderId": lead.uid}), "40019", "Parameter settings cannot be empty")
    wire.error(wire.get(f, F + "query-current-orders", {}), "40019", "Parameter productType cannot be empty")
    assert wire.ok(wire.get(f, F + "query-quantity-limit", {"productType": "usdt-futures", "symbol": "ethusdt"})) == [
        {"maxFollowSize": "1200", "minFollowSize": "0.01", "symbol": "ETHUSDT"}]


def test_control_plane_makes_traders_and_followers(wire, cp, world, http):
    lead, fan = cp.user("lead"), cp.user("fan", "10000")
    made = http.post("/localex/copy/traders", json={"uid": lead.uid, "symbols": ["btcusdt", "ETHUSDT"],
                                                     "profitShareRatio": "0.08"})
    assert made.status_code == 200, made.text
    assert made.json()["profitShareRatio"] == "0.08" and made.json()["symbols"][0] == {
        "productType": "USDT-FUTURES", "symbol": "BTCUSDT"}
    followed = http.post("/localex/copy/followers", json={"uid": fan.uid, "traderUid": lead.uid, "settings": [
        {"symbol": "BTCUSDT", "traceType": "fixed_size", "traceValue": "0.002"}]})
    assert followed.status_code == 200 and followed.json()["active"] is True, followed.text
    tr = cp.open(lead)
    rows = http.get("/localex/copy/tracking", params={"uid": lead.uid}).json()
    assert [r["trackingNo"] for r in rows] == [str(tr.tracking_no)]  # ids as strings
    assert [(c["followerUid"], c["openSize"]) for c in rows[0]["copies"]] == [(fan.uid, "0.002")]
    bad = http.post("/localex/copy/followers", json={"uid": fan.uid, "traderUid": lead.uid})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "missing_field"
    assert http.post("/localex/copy/followers", json={"uid": fan.uid, "traderUid": fan.uid,
                                                       "copyAmount": "100"}).status_code == 400
