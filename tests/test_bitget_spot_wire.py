"""Bitget V2 spot endpoints on the wire: raw signed HTTP against the real server.

Checked byte for byte where fidelity matters: HTTP status, `code`, `msg`, `data` (null vs []),
`requestTime` a JSON number, field names and their order, every number in `data` a string,
16-decimal padding on orderInfo / history-orders, trimmed numbers on unfilled-orders / fills,
8 decimals on assets. Every refusal leaves the engine's state exactly as it was.
"""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from urllib.parse import urlencode

import httpx
import pytest
from wire_signing import signed_headers

from localex.engine.model import OrderType, Permission, Side, TimeInForce
from localex.engine.spot import SPOT_ACCOUNT
from localex.server.app import NOT_FOUND_HTML

PLACE = "/api/v2/spot/trade/place-order"
CANCEL = "/api/v2/spot/trade/cancel-order"
ORDER_INFO = "/api/v2/spot/trade/orderInfo"
UNFILLED = "/api/v2/spot/trade/unfilled-orders"
HISTORY = "/api/v2/spot/trade/history-orders"
FILLS = "/api/v2/spot/trade/fills"
ASSETS = "/api/v2/spot/account/assets"
INFO = "/api/v2/spot/account/info"

ORDER_INFO_KEYS = ["userId", "symbol", "orderId", "clientOid", "price", "size", "orderType", "side",
                   "status", "priceAvg", "baseVolume", "quoteVolume", "enterPointSource", "feeDetail",
                   "orderSource", "cancelReason", "cTime", "uTime"]
HISTORY_KEYS = ["userId", "symbol", "orderId", "clientOid", "price", "size", "orderType", "side",
                "status", "priceAvg", "baseVolume", "quoteVolume", "enterPointSource", "feeDetail",
                "orderSource", "cTime", "uTime", "tpslType", "cancelReason", "triggerPrice"]
UNFILLED_KEYS = ["userId", "symbol", "orderId", "clientOid", "priceAvg", "size", "orderType", "side",
                 "status", "basePrice", "baseVolume", "quoteVolume", "enterPointSource", "orderSource",
                 "presetTakeProfitPrice", "executeTakeProfitPrice", "presetStopLossPrice",
                 "executeStopLossPrice", "cTime", "uTime", "tpslType", "triggerPrice"]
FILL_KEYS = ["userId", "symbol", "orderId", "tradeId", "orderType", "side", "priceAvg", "size", "amount",
             "feeDetail", "tradeScope", "cTime", "uTime"]
ASSET_KEYS = ["coin", "available", "limitAvailable", "frozen", "locked", "uTime"]

D = Decimal


# ---- a small signing client ----------------------------------------------------------------

def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def compact(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class Wire:
    """Raw HTTP: the query is signed exactly as sent, the body as the bytes sent."""

    def __init__(self, world, http: httpx.Client) -> None:
        self.world = world
        self.http = http

    def headers(self, trader, method: str, path: str, query: str, body: bytes) -> dict:
        return signed_headers(trader.api_key, trader.secret_key, trader.passphrase, method, path,
                              query, body, str(wall_ms()))

    def get(self, trader, path: str, params: dict | str | None = None, *,
            reset: bool = True) -> httpx.Response:
        if reset:
            self.world.app.limiter.reset()
        query = params if isinstance(params, str) else urlencode(params or {})
        headers = self.headers(trader, "GET", path, query, b"") if trader is not None else {}
        return self.http.get(path + ("?" + query if query else ""), headers=headers)

    def post(self, trader, path: str, body: dict | bytes, *, reset: bool = True) -> httpx.Response:
        if reset:
            self.world.app.limiter.reset()
        raw = body if isinstance(body, bytes) else compact(body)
        return self.http.post(path, content=raw, headers=self.headers(trader, "POST", path, "", raw))


@pytest.fixture
def wire(world, http):
    return Wire(world, http)


@pytest.fixture
def alice(world):
    return world.trader("alice")


@pytest.fixture
def bob(world):
    return world.trader("bob")


# ---- assertions ----------------------------------------------------------------------------

def all_strings(value: object, path: str = "data") -> None:
    """Every number inside data is a string (null only where the venue sends null)."""
    if isinstance(value, dict):
        for k, v in value.items():
            all_strings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            all_strings(v, f"{path}[{i}]")
    else:
        assert isinstance(value, str) or (value is None and path.endswith(".triggerPrice")), (path, value)


def ok(world, resp: httpx.Response, *, strings: bool = True) -> object:
    assert resp.status_code == 200, resp.content
    assert resp.headers["content-type"] == "application/json"
    envelope = rb'\{"code":"00000","msg":"success","requestTime":\d+,"data":'
    assert re.match(envelope, resp.content), resp.content
    payload = resp.json()
    assert payload["requestTime"] == world.engine.now_ms()
    assert resp.content == compact(payload)  # compact, nothing lost in parsing
    if strings:
        all_strings(payload["data"])
    return payload["data"]


def error(world, resp: httpx.Response, code: str, msg: str, *, status: int = 400,
          data: object = None) -> None:
    assert resp.status_code == status, resp.content
    assert resp.headers["content-type"] == "application/json"
    payload = resp.json()
    assert isinstance(payload["requestTime"], int) and payload["requestTime"] == world.engine.now_ms()
    assert resp.content == compact({"code": code, "msg": msg, "requestTime": payload["requestTime"],
                                    "data": data})


def snapshot(world) -> list:
    e = world.engine
    return [(u, e.balances(u.uid), e.spot_orders(u.uid, limit=10_000), e.spot_fills(u.uid, limit=10_000))
            for u in e.list_users()]


class Unchanged:
    """`with Unchanged(world):` — the block's requests change no state at all."""

    def __init__(self, world) -> None:
        self.world = world

    def __enter__(self):
        self.before = snapshot(self.world)
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            assert snapshot(self.world) == self.before


def order_id_ok(value: str) -> None:
    assert re.fullmatch(r"[1-9]\d{18}", value), value


def limit_buy(price="90000", size="0.01", force="gtc", symbol="BTCUSDT", **extra) -> dict:
    return {"symbol": symbol, "side": "buy", "orderType": "limit", "force": force, "price": price,
            "size": size, **extra}


def place(world, wire, trader, body: dict) -> dict:
    data = ok(world, wire.post(trader, PLACE, body))
    assert list(data) == ["orderId", "clientOid"]
    order_id_ok(data["orderId"])
    return data


def order_info(world, wire, trader, **params) -> list:
    return ok(world, wire.get(trader, ORDER_INFO, params))


def one_order(world, wire, trader, order_id: str) -> dict:
    rows = order_info(world, wire, trader, orderId=order_id)
    assert len(rows) == 1 and list(rows[0]) == ORDER_INFO_KEYS
    return rows[0]


def balances(world, uid: str) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.available, b.frozen) for b in world.engine.balances(uid, SPOT_ACCOUNT)}


def fee_detail(coin: str, fee: str) -> str:
    return (f'{{"{coin}":{{"deduction":false,"feeCoinCode":"{coin}","totalDeductionFee":0,'
            f'"totalFee":-{fee}}},"newFees":{{"c":0,"d":0,"deduction":false,"r":-{fee},"t":-{fee},'
            f'"totalDeductionFee":0}}}}')


# ---- paths ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v2/spot/trade/nope"), ("GET", "/api/v3/account/settings"),
    ("POST", ORDER_INFO), ("GET", PLACE), ("GET", "/api/v2/spot/public/symbols/"),
])  # V1 paths (/api/mix/v1/...) answer 30032 instead: tests/test_bitget_market_wire.py
def test_an_unknown_api_path_is_40404_http_400(world, wire, method, path):
    with Unchanged(world):
        resp = wire.http.request(method, path)
    error(world, resp, "40404", "Request URL NOT FOUND")


def test_an_unknown_api_path_is_40404_even_when_signed(world, wire, alice):
    error(world, wire.get(alice, "/api/v2/spot/trade/nope"), "40404", "Request URL NOT FOUND")


@pytest.mark.parametrize("path", ["/", "/foo", "/apix/v2/spot/public/symbols", "/v2/spot/public/symbols"])
def test_a_path_outside_api_is_a_plain_404(world, wire, path):
    resp = wire.http.get(path)
    assert resp.status_code == 404
    assert resp.headers["content-type"] == "text/html"
    assert resp.content == NOT_FOUND_HTML
    assert b"404 Not Found" in resp.content


# ---- public: time, symbols, coins, tickers, margin, contracts ------------------------------

def test_server_time(world, wire):
    before = wall_ms()
    data = ok(world, wire.get(None, "/api/v2/public/time"))
    assert list(data) == ["serverTime"]
    assert re.fullmatch(r"\d{13}", data["serverTime"])
    assert before - 5 <= int(data["serverTime"]) <= wall_ms() + 5


BTC_SYMBOL = {
    "symbol": "BTCUSDT", "baseCoin": "BTC", "quoteCoin": "USDT", "minTradeAmount": "0",
    "maxTradeAmount": "10000000000", "takerFeeRate": "0.001", "makerFeeRate": "0.001",
    "pricePrecision": "2", "quantityPrecision": "6", "quotePrecision": "6", "status": "online",
    "minTradeUSDT": "1", "buyLimitPriceRatio": "0.05", "sellLimitPriceRatio": "0.05", "areaSymbol": "no",
    "orderQuantity": "200", "openTime": "1532454360000", "offTime": "",  # openTime: issue 9
}


def test_symbols(world, wire):
    rows = ok(world, wire.get(None, "/api/v2/spot/public/symbols"))
    assert [r["symbol"] for r in rows] == ["BGBUSDT", "BTCUSDT", "ETHUSDT", "SOLUSDT", "USDCUSDT",
                                           "XRPUSDT"]  # the demo world widened by issue 9
    for row in rows:
        assert list(row) == list(BTC_SYMBOL)
    assert rows[1] == BTC_SYMBOL
    assert (rows[0]["pricePrecision"], rows[0]["quantityPrecision"]) == ("4", "2")
    assert (rows[2]["pricePrecision"], rows[2]["quantityPrecision"]) == ("2", "4")
    for symbol in ("BTCUSDT", "btcusdt"):
        assert ok(world, wire.get(None, "/api/v2/spot/public/symbols", {"symbol": symbol})) == [BTC_SYMBOL]


def test_symbols_unknown_symbol_is_40034(world, wire):
    resp = wire.get(None, "/api/v2/spot/public/symbols", {"symbol": "NOPEUSDT"})
    error(world, resp, "40034", "Parameter NOPEUSDT does not exist")


def test_coins(world, wire):
    rows = ok(world, wire.get(None, "/api/v2/spot/public/coins"))
    assert [r["coin"] for r in rows] == ["BGB", "USDT", "BTC", "ETH", "SOL", "USDC", "XRP"]  # the demo world widened by issue 9
    assert [r["coinId"] for r in rows] == ["1", "2", "3", "4", "5", "6", "7"]
    for row in rows:
        assert list(row) == ["coinId", "coin", "transfer", "chains", "areaCoin"]
        assert row["transfer"] == "true" and row["areaCoin"] == "no"
        assert len(row["chains"]) == 1
        assert list(row["chains"][0]) == [
            "chain", "needTag", "withdrawable", "rechargeable", "withdrawFee", "extraWithdrawFee",
            "depositConfirm", "withdrawConfirm", "minDepositAmount", "minWithdrawAmount", "browserUrl",
            "contractAddress", "withdrawStep", "withdrawMinScale", "congestion"]
        chain = row["chains"][0]
        assert (chain["withdrawable"], chain["rechargeable"], chain["needTag"]) == ("true", "true", "false")
    by_coin = {r["coin"]: r for r in rows}
    assert by_coin["BTC"]["chains"][0]["chain"] == "BTC"
    assert by_coin["USDT"]["chains"][0]["chain"] == "TRC20"
    # one coin: the same row, the same coinId
    for coin in ("BTC", "btc"):
        assert ok(world, wire.get(None, "/api/v2/spot/public/coins", {"coin": coin})) == [by_coin["BTC"]]


def test_coins_unknown_coin_is_40034(world, wire):
    error(world, wire.get(None, "/api/v2/spot/public/coins", {"coin": "NOPE"}), "40034",
          "Parameter NOPE does not exist")


TICKER_KEYS = ["open", "symbol", "high24h", "low24h", "lastPr", "quoteVolume", "baseVolume",
               "usdtVolume", "ts", "bidPr", "askPr", "bidSz", "askSz", "openUtc", "changeUtc24h",
               "change24h"]


def test_tickers(world, wire):
    rows = ok(world, wire.get(None, "/api/v2/spot/market/tickers"))
    assert [r["symbol"] for r in rows] == ["BGBUSDT", "BTCUSDT", "ETHUSDT", "SOLUSDT", "USDCUSDT",
                                           "XRPUSDT"]  # the demo world widened by issue 9
    now = str(world.engine.now_ms())
    # the 24-hour fields come from the market tape and the book (issue 9)
    stats = world.engine.stats_24h("bitget:spot:BTCUSDT")
    volume = (str(stats.base_volume.normalize()), format(stats.quote_volume.normalize(), "f"))
    assert stats.base_volume > 0
    assert rows[1] == {
        "open": "95000", "symbol": "BTCUSDT", "high24h": "95000", "low24h": "95000", "lastPr": "95000",
        "quoteVolume": volume[1], "baseVolume": volume[0], "usdtVolume": volume[1], "ts": now,
        "bidPr": "95000", "askPr": "95000", "bidSz": "0.210526", "askSz": "0.210526", "openUtc": "95000",
        "changeUtc24h": "0", "change24h": "0",
    }
    for row in rows:
        assert list(row) == TICKER_KEYS
    assert [r["lastPr"] for r in rows] == ["5", "95000", "3200", "180", "1", "2.2"]  # trimmed
    world.engine.set_mark("bitget", "spot", "ETHUSDT", D("3201.50"))
    rows = ok(world, wire.get(None, "/api/v2/spot/market/tickers", {"symbol": "ETHUSDT"}))
    assert len(rows) == 1 and rows[0]["lastPr"] == "3201.5"


def test_tickers_unknown_symbol_is_40034(world, wire):
    error(world, wire.get(None, "/api/v2/spot/market/tickers", {"symbol": "NOPEUSDT"}), "40034",
          "Parameter NOPEUSDT does not exist")


def test_margin_currencies_is_an_empty_list(world, wire):
    resp = wire.get(None, "/api/v2/margin/currencies")
    assert ok(world, resp) == []
    assert resp.content.endswith(b',"data":[]}')


@pytest.mark.parametrize("product_type", ["SUSDT-FUTURES", "SCOIN-FUTURES", "SUSDC-FUTURES", "susdt-futures"])
def test_contracts_of_the_demo_product_types_are_empty(world, wire, product_type):
    """(The live product types' contracts are tested in test_bitget_mix_wire.py.)"""
    resp = wire.get(None, "/api/v2/mix/market/contracts", {"productType": product_type})
    assert ok(world, resp) == []
    assert resp.content.endswith(b',"data":[]}')


def test_contracts_without_or_with_a_bogus_product_type_is_40019(world, wire):
    error(world, wire.get(None, "/api/v2/mix/market/contracts"), "40019",
          "Parameter productType cannot be empty")
    error(world, wire.get(None, "/api/v2/mix/market/contracts", {"productType": ""}), "40019",
          "Parameter productType cannot be empty")
    error(world, wire.get(None, "/api/v2/mix/market/contracts", {"productType": "NOPE-FUTURES"}), "40019",
          "Parameter NOPE-FUTURES cannot be empty")


# ---- account -------------------------------------------------------------------------------

def test_assets_hold_only_all_and_one_coin(world, wire):
    trader = world.trader("carol", funds={"USDT": "10000", "BTC": "0.5", "ETH": "0"})
    now = str(world.engine.now_ms())

    def row(coin, available, frozen="0.00000000"):
        return {"coin": coin, "available": available, "limitAvailable": "0", "frozen": frozen,
                "locked": "0.00000000", "uTime": now}

    held = [row("BTC", "0.50000000"), row("USDT", "10000.00000000")]
    assert ok(world, wire.get(trader, ASSETS)) == held
    assert ok(world, wire.get(trader, ASSETS, {"assetType": "hold_only"})) == held
    everything = [row("BTC", "0.50000000"), row("ETH", "0.00000000"), row("USDT", "10000.00000000")]
    for asset_type in ("all", "ALL"):
        assert ok(world, wire.get(trader, ASSETS, {"assetType": asset_type})) == everything
    for coin in ("USDT", "usdt"):
        assert ok(world, wire.get(trader, ASSETS, {"coin": coin})) == [row("USDT", "10000.00000000")]
    assert ok(world, wire.get(trader, ASSETS, {"coin": "ETH"})) == [row("ETH", "0.00000000")]
    # coin wins over assetType
    assert ok(world, wire.get(trader, ASSETS, {"coin": "ETH", "assetType": "hold_only"})) == \
        [row("ETH", "0.00000000")]
    # a coin never held reads as zero
    assert ok(world, wire.get(trader, ASSETS, {"coin": "BGB"})) == [row("BGB", "0.00000000")]

    # a resting order freezes its quote; frozen and available stay at 8 decimals
    world.engine.clock.advance(1000)
    place(world, wire, trader, limit_buy(price="90000.5", size="0.012345"))
    rows = ok(world, wire.get(trader, ASSETS, {"coin": "USDT"}))
    assert list(rows[0]) == ASSET_KEYS
    assert (rows[0]["available"], rows[0]["frozen"]) == ("8888.94382750", "1111.05617250")
    assert rows[0]["uTime"] == str(world.engine.now_ms())


def test_assets_bad_asset_type_is_40020(world, wire, alice):
    error(world, wire.get(alice, ASSETS, {"assetType": "some"}), "40020", "Parameter assetType error")


def test_account_info(world, wire, alice):
    user = world.engine.get_user(alice.uid)
    resp = wire.get(alice, INFO)
    data = ok(world, resp, strings=False)
    assert data == {
        "userId": alice.uid, "inviterId": "", "ips": "",
        "authorities": ["contract_trade", "readonly", "trade"], "parentId": int(alice.uid),
        "traderType": "not_trader", "channelCode": "", "channel": "", "regisTime": str(user.created_ms),
    }
    assert list(data) == ["userId", "inviterId", "ips", "authorities", "parentId", "traderType",
                          "channelCode", "channel", "regisTime"]
    assert f'"parentId":{int(alice.uid)},'.encode() in resp.content  # a JSON number, as documented
    fenced = world.trader("fenced", ip_whitelist=["127.0.0.1", "10.0.0.1"])
    assert ok(world, wire.get(fenced, INFO), strings=False)["ips"] == "127.0.0.1,10.0.0.1"


# ---- place-order ---------------------------------------------------------------------------

def test_a_resting_limit_order_reads_back_exactly(world, wire, alice):
    world.engine.clock.advance(1000)
    created = world.engine.now_ms()
    data = place(world, wire, alice, limit_buy())
    order_id_ok(data["clientOid"])  # assigned by the venue, numeric like an orderId
    assert data["clientOid"] != data["orderId"]
    row = one_order(world, wire, alice, data["orderId"])
    assert row == {
        "userId": alice.uid, "symbol": "BTCUSDT", "orderId": data["orderId"], "clientOid": data["clientOid"],
        "price": "90000.0000000000000000", "size": "0.0100000000000000", "orderType": "limit",
        "side": "buy", "status": "live", "priceAvg": "0", "baseVolume": "0.0000000000000000",
        "quoteVolume": "0.0000000000000000", "enterPointSource": "API", "feeDetail": "",
        "orderSource": "normal", "cancelReason": "", "cTime": str(created), "uTime": str(created),
    }
    assert balances(world, alice.uid)["USDT"] == (D("9100"), D("900"))


def test_a_marketable_limit_buy_fills_at_the_mark_as_taker(world, wire, alice):
    world.engine.clock.advance(1000)
    data = place(world, wire, alice, limit_buy(price="96000"))
    row = one_order(world, wire, alice, data["orderId"])
    assert {k: row[k] for k in ("price", "size", "status", "priceAvg", "baseVolume", "quoteVolume",
                                "feeDetail", "orderSource", "cancelReason")} == {
        "price": "96000.0000000000000000", "size": "0.0100000000000000", "status": "filled",
        "priceAvg": "95000.0000000000000000", "baseVolume": "0.0100000000000000",
        "quoteVolume": "950.0000000000000000", "feeDetail": fee_detail("BTC", "0.00001"),
        "orderSource": "normal", "cancelReason": "",
    }
    assert json.loads(row["feeDetail"])["BTC"]["totalFee"] == -0.00001
    assert balances(world, alice.uid) == {"USDT": (D("9050"), D("0")), "BTC": (D("1.00999"), D("0"))}


def test_a_market_buy_spends_quote_coin_like_the_seed(world, wire, alice):
    world.engine.clock.advance(1000)
    created = world.engine.now_ms()
    data = place(world, wire, alice, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market",
                                      "size": "1000", "force": "GTC", "clientOid": "seed-1"})
    assert data["clientOid"] == "seed-1"
    row = one_order(world, wire, alice, data["orderId"])
    # 1000 / 95000 = 0.010526 BTC (6 decimals, rounded down) for 999.97 USDT
    assert row == {
        "userId": alice.uid, "symbol": "BTCUSDT", "orderId": data["orderId"], "clientOid": "seed-1",
        "price": "0", "size": "1000.0000000000000000", "orderType": "market", "side": "buy",
        "status": "filled", "priceAvg": "95000.0000000000000000", "baseVolume": "0.0105260000000000",
        "quoteVolume": "999.9700000000000000", "enterPointSource": "API",
        "feeDetail": fee_detail("BTC", "0.000010526"), "orderSource": "market", "cancelReason": "",
        "cTime": str(created), "uTime": str(created),
    }
    assert balances(world, alice.uid) == {"USDT": (D("9000.03"), D("0")),
                                          "BTC": (D("1.010515474"), D("0"))}


def test_a_market_sell_takes_base_coin_and_pays_fee_in_quote(world, wire, alice):
    data = place(world, wire, alice, {"symbol": "BTCUSDT", "side": "sell", "orderType": "market",
                                      "size": "0.01"})
    row = one_order(world, wire, alice, data["orderId"])
    assert (row["price"], row["size"], row["priceAvg"], row["quoteVolume"], row["orderSource"]) == (
        "0", "0.0100000000000000", "95000.0000000000000000", "950.0000000000000000", "market")
    assert row["feeDetail"] == fee_detail("USDT", "0.95")
    assert balances(world, alice.uid) == {"USDT": (D("10949.05"), D("0")), "BTC": (D("0.99"), D("0"))}


@pytest.mark.parametrize("force, price, status", [
    ("post_only", "96000", "cancelled"),  # would take: cancelled, not rejected
    ("post_only", "90000", "live"),
    ("ioc", "90000", "cancelled"),
    ("ioc", "96000", "filled"),
    ("fok", "90000", "cancelled"),
    ("fok", "96000", "filled"),
    ("gtc", "90000", "live"),
    ("GTC", "96000", "filled"),  # ccxt sends upper case
    ("Post_Only", "90000", "live"),
    ("IOC", "90000", "cancelled"),
])
def test_time_in_force(world, wire, alice, force, price, status):
    data = place(world, wire, alice, limit_buy(price=price, force=force))
    row = one_order(world, wire, alice, data["orderId"])
    assert row["status"] == status
    assert row["cancelReason"] == ("normal_cancel" if status == "cancelled" else "")
    assert row["feeDetail"] == ("" if status != "filled" else fee_detail("BTC", "0.00001"))
    usdt = balances(world, alice.uid)["USDT"]
    assert usdt == {"cancelled": (D("10000"), D("0")), "live": (D(10000) - D(price) * D("0.01"),
                    D(price) * D("0.01")), "filled": (D("9050"), D("0"))}[status]


def test_force_is_ignored_for_market_orders(world, wire, alice):
    for force in (None, "gtc", "post_only", "whatever"):
        body = {"symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": "10"}
        if force is not None:
            body["force"] = force
        row = one_order(world, wire, alice, place(world, wire, alice, body)["orderId"])
        assert row["status"] == "filled"


def test_symbol_side_and_type_are_case_insensitive(world, wire, alice):
    data = place(world, wire, alice, {"symbol": "btcusdt", "side": "BUY", "orderType": "Limit",
                                      "force": "gtc", "price": "90000", "size": "0.01"})
    row = one_order(world, wire, alice, data["orderId"])
    assert (row["symbol"], row["side"], row["orderType"]) == ("BTCUSDT", "buy", "limit")


def test_client_oid_is_unique_per_user(world, wire, alice, bob):
    first = place(world, wire, alice, limit_buy(clientOid="dup-1"))
    assert first["clientOid"] == "dup-1"
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, limit_buy(clientOid="dup-1", price="89000")), "43118",
              "clientOrderId duplicate")
    # another user may use the same clientOid
    assert place(world, wire, bob, limit_buy(clientOid="dup-1"))["clientOid"] == "dup-1"
    # still a duplicate once the first order is finished
    ok(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "clientOid": "dup-1"}))
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, limit_buy(clientOid="dup-1")), "43118",
              "clientOrderId duplicate")


def test_client_oid_length(world, wire, alice):
    assert place(world, wire, alice, limit_buy(clientOid="x" * 50))["clientOid"] == "x" * 50
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, limit_buy(clientOid="y" * 51)), "40020",
              "Parameter clientOid error")


@pytest.mark.parametrize("body, minimum", [
    (limit_buy(price="90000", size="0.00001"), "1"),  # 0.9 USDT
    ({"symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": "0.99"}, "1"),
    ({"symbol": "BTCUSDT", "side": "sell", "orderType": "market", "size": "0.00001"}, "1"),  # 0.95
    ({"symbol": "BTCUSDT", "side": "sell", "orderType": "limit", "force": "gtc", "price": "99999",
      "size": "0.00001"}, "1"),
])
def test_below_minimum_notional_is_45110(world, wire, alice, body, minimum):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, body), "45110", f"less than the minimum amount {minimum} USDT")


def test_minimum_notional_itself_is_accepted(world, wire, alice):
    place(world, wire, alice, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": "1"})
    place(world, wire, alice, limit_buy(price="100000", size="0.00001"))


@pytest.mark.parametrize("body, detail", [
    (limit_buy(price="90000.123"), "price checkBDScale error value=90000.123 checkScale=2"),
    (limit_buy(size="0.0000001"), "size checkBDScale error value=0.0000001 checkScale=6"),
    (limit_buy(symbol="ETHUSDT", price="3000", size="0.00001"),
     "size checkBDScale error value=0.00001 checkScale=4"),
    ({"symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": "950.1234567"},
     "size checkBDScale error value=950.1234567 checkScale=6"),
    ({"symbol": "BGBUSDT", "side": "sell", "orderType": "market", "size": "1.001"},
     "size checkBDScale error value=1.001 checkScale=2"),
])
def test_too_many_decimals_is_40808(world, wire, alice, body, detail):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, body), "40808", f"Parameter verification exception {detail}")


@pytest.mark.parametrize("size", ["1e-2", "0.1E-1", "+0.01", ".01", "0.010"])
def test_decimal_notations_are_read_as_numbers(world, wire, alice, size):
    data = place(world, wire, alice, limit_buy(size=size))
    assert one_order(world, wire, alice, data["orderId"])["size"] == "0.0100000000000000"


def test_large_values_keep_their_padding(world, wire, alice):
    data = place(world, wire, alice, {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit",
                                      "force": "gtc", "price": "1000000000000000", "size": "0.01"})
    row = one_order(world, wire, alice, data["orderId"])
    assert (row["price"], row["size"]) == ("1000000000000000.0000000000000000", "0.0100000000000000")
    assert ok(world, wire.get(alice, UNFILLED))[0]["priceAvg"] == "1000000000000000"
    ok(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": data["orderId"]}))
    assert ok(world, wire.get(alice, HISTORY))[0]["price"] == "1000000000000000.0000000000000000"
    long_price = "123456789012345678901234567890.12"
    data = place(world, wire, alice, {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit",
                                      "force": "gtc", "price": long_price, "size": "0.01"})
    assert one_order(world, wire, alice, data["orderId"])["price"] == long_price + "00000000000000"
    assert ok(world, wire.get(alice, UNFILLED))[0]["priceAvg"] == long_price
    world.engine.fund(alice.uid, "USDT", D("1e21"))
    assert ok(world, wire.get(alice, ASSETS, {"coin": "USDT"}))[0]["available"] == \
        "1000000000000000010000.00000000"


def test_trailing_zeros_do_not_count_as_decimals(world, wire, alice):
    data = place(world, wire, alice, limit_buy(price="90000.0000", size="0.010000000"))
    assert one_order(world, wire, alice, data["orderId"])["size"] == "0.0100000000000000"


@pytest.mark.parametrize("body", [
    limit_buy(size="0.2"),  # 18000 USDT
    {"symbol": "BTCUSDT", "side": "sell", "orderType": "limit", "force": "gtc", "price": "99000",
     "size": "1.5"},
    {"symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": "10000.01"},
    {"symbol": "ETHUSDT", "side": "sell", "orderType": "market", "size": "0.01"},  # holds no ETH
])
def test_insufficient_balance_is_43012(world, wire, alice, body):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, body), "43012", "Insufficient balance")


def test_the_whole_balance_can_be_used(world, wire, alice):
    place(world, wire, alice, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": "10000"})
    assert balances(world, alice.uid)["USDT"] == (D("0.015"), D("0"))  # 0.105263 BTC for 9999.985


FULL_LIMIT = limit_buy()


@pytest.mark.parametrize("missing", ["symbol", "side", "orderType", "force", "price", "size"])
def test_a_missing_parameter_is_40019(world, wire, alice, missing):
    body = {k: v for k, v in FULL_LIMIT.items() if k != missing}
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, body), "40019", f"Parameter {missing} cannot be empty")
        error(world, wire.post(alice, PLACE, {**FULL_LIMIT, missing: ""}), "40019",
              f"Parameter {missing} cannot be empty")
        error(world, wire.post(alice, PLACE, {**FULL_LIMIT, missing: None}), "40019",
              f"Parameter {missing} cannot be empty")


def test_a_market_order_needs_size_but_no_price(world, wire, alice):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market"}),
              "40019", "Parameter size cannot be empty")
    place(world, wire, alice, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": "10",
                               "price": "1"})


def test_an_empty_body_is_40019_symbol(world, wire, alice):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, b""), "40019", "Parameter symbol cannot be empty")
        error(world, wire.post(alice, PLACE, b"{}"), "40019", "Parameter symbol cannot be empty")


@pytest.mark.parametrize("field, value", [
    ("side", "hold"), ("side", True), ("orderType", "stop"), ("force", "gtx"), ("size", "abc"),
    ("size", "-0.01"), ("size", "0"), ("size", "NaN"), ("size", "Infinity"), ("price", "1e"),
    ("price", "0"), ("price", "-90000"), ("symbol", ["BTCUSDT"]), ("size", {"v": 1}),
    ("tpslType", "bogus"), ("clientOid", ["a"]),
    # what Java's BigDecimal would not read
    ("size", "0.0_1"), ("size", " 0.01"), ("size", "0.01\n"), ("size", "１"), ("size", "0x10"),
    ("price", "9e99999"), ("size", "1e-99999"), ("price", "90,000"),
])
def test_a_bad_value_is_40020(world, wire, alice, field, value):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, {**FULL_LIMIT, field: value}), "40020",
              f"Parameter {field} error")


@pytest.mark.parametrize("field, value", [
    # a triggerPrice on a normal order; an execute price without its trigger price (presets and
    # TP/SL orders, tpslType=tpsl, are tested in test_bitget_spot_replace_wire.py)
    ("triggerPrice", "80000"),
    ("executeTakeProfitPrice", "99000"), ("executeStopLossPrice", "80000"),
])
def test_spot_tpsl_is_refused_not_silently_dropped(world, wire, alice, field, value):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, {**FULL_LIMIT, field: value}), "40020",
              f"Parameter {field} error")
    place(world, wire, alice, {**FULL_LIMIT, "tpslType": "normal", "presetStopLossPrice": ""})


def test_an_unknown_symbol_is_40034(world, wire, alice):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, limit_buy(symbol="NOPEUSDT")), "40034",
              "Parameter NOPEUSDT does not exist")
        error(world, wire.post(alice, PLACE, limit_buy(symbol="nopeusdt")), "40034",
              "Parameter NOPEUSDT does not exist")


@pytest.mark.parametrize("body", [b"{", b"not json", b"[]", b'"symbol"', b"null", b"1",
                                  b'{"symbol":"BTCUSDT",}'])
def test_a_body_that_is_not_a_json_object_is_40017(world, wire, alice, body):
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, body), "40017", "Parameter verification failed")


# ---- cancel-order --------------------------------------------------------------------------

def test_cancel_by_order_id_and_by_client_oid(world, wire, alice):
    world.engine.clock.advance(1000)
    created = world.engine.now_ms()
    a = place(world, wire, alice, limit_buy())
    b = place(world, wire, alice, limit_buy(price="89000", clientOid="to-cancel"))
    world.engine.clock.advance(1000)
    resp = wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": a["orderId"]})
    assert ok(world, resp) == a
    assert list(resp.json()["data"]) == ["orderId", "clientOid"]
    assert ok(world, wire.post(alice, CANCEL, {"symbol": "btcusdt", "clientOid": "to-cancel"})) == b
    row = one_order(world, wire, alice, a["orderId"])
    assert (row["status"], row["cancelReason"], row["feeDetail"]) == ("cancelled", "normal_cancel", "")
    assert (row["cTime"], row["uTime"]) == (str(created), str(world.engine.now_ms()))
    assert balances(world, alice.uid)["USDT"] == (D("10000"), D("0"))


def test_cancel_needs_order_id_or_client_oid(world, wire, alice):
    place(world, wire, alice, limit_buy())
    with Unchanged(world):
        error(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT"}), "40924",
              "orderId and clientOid must have one")
        error(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": "", "clientOid": ""}),
              "40924", "orderId and clientOid must have one")
        error(world, wire.post(alice, CANCEL, {"orderId": "1"}), "40019", "Parameter symbol cannot be empty")


def test_cancel_of_unknown_finished_or_foreign_orders_is_43001(world, wire, alice, bob):
    live = place(world, wire, alice, limit_buy())
    filled = place(world, wire, alice, limit_buy(price="96000"))
    cancelled = place(world, wire, alice, limit_buy(price="80000", clientOid="gone"))
    ok(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": cancelled["orderId"]}))
    bobs = place(world, wire, bob, limit_buy(clientOid="bobs"))
    with Unchanged(world):
        for body in (
            {"symbol": "BTCUSDT", "orderId": str(int(live["orderId"]) + 10_000)},
            {"symbol": "BTCUSDT", "clientOid": "no-such-oid"},
            {"symbol": "BTCUSDT", "orderId": filled["orderId"]},
            {"symbol": "BTCUSDT", "orderId": cancelled["orderId"]},
            {"symbol": "BTCUSDT", "clientOid": "gone"},
            {"symbol": "BTCUSDT", "orderId": bobs["orderId"]},
            {"symbol": "BTCUSDT", "clientOid": "bobs"},
            {"symbol": "ETHUSDT", "orderId": live["orderId"]},  # another symbol's book
            {"symbol": "BTCUSDT", "orderId": live["orderId"], "clientOid": "gone"},  # they disagree
        ):
            error(world, wire.post(alice, CANCEL, body), "43001", "The order does not exist")
        error(world, wire.post(alice, CANCEL, {"symbol": "NOPEUSDT", "orderId": live["orderId"]}),
              "43001", "The order does not exist")


@pytest.mark.parametrize("order_id", ["abc", "12345678901234567890", "-1", "1.5", "0x10", "１２",
                                      "9223372036854775808", "9" * 19, "1" * 5000])
def test_a_malformed_order_id_is_40402(world, wire, alice, order_id):
    place(world, wire, alice, limit_buy())
    with Unchanged(world):
        error(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": order_id}), "40402",
              "orderId or clientOId format error")
        error(world, wire.get(alice, ORDER_INFO, {"orderId": order_id}), "40402",
              "orderId or clientOId format error")


def test_the_largest_order_id_is_well_formed_but_unknown(world, wire, alice):
    data = place(world, wire, alice, limit_buy())
    largest = "9223372036854775807"
    assert order_info(world, wire, alice, orderId=largest) == []
    with Unchanged(world):
        error(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": largest}), "43001",
              "The order does not exist")
    assert [r["orderId"] for r in ok(world, wire.get(alice, UNFILLED, {"idLessThan": largest}))] == \
        [data["orderId"]]


def test_an_order_id_sent_as_a_json_number_is_accepted(world, wire, alice):
    data = place(world, wire, alice, limit_buy())
    body = b'{"symbol":"BTCUSDT","orderId":' + data["orderId"].encode() + b"}"
    assert ok(world, wire.post(alice, CANCEL, body)) == data


# ---- orderInfo -----------------------------------------------------------------------------

def test_order_info_by_order_id_by_client_oid_and_unknown(world, wire, alice, bob):
    data = place(world, wire, alice, limit_buy(clientOid="mine"))
    by_id = order_info(world, wire, alice, orderId=data["orderId"])
    assert by_id == order_info(world, wire, alice, clientOid="mine")
    assert by_id == order_info(world, wire, alice, orderId=data["orderId"], clientOid="mine")
    assert list(by_id[0]) == ORDER_INFO_KEYS
    for params in ({"orderId": str(int(data["orderId"]) + 1)}, {"clientOid": "nope"},
                   {"orderId": data["orderId"], "clientOid": "other"}):
        resp = wire.get(alice, ORDER_INFO, params)
        assert ok(world, resp) == []
        assert resp.content.endswith(b',"data":[]}')
    # another user's order does not exist for bob
    assert order_info(world, wire, bob, orderId=data["orderId"]) == []
    assert order_info(world, wire, bob, clientOid="mine") == []


def test_order_info_needs_order_id_or_client_oid(world, wire, alice):
    error(world, wire.get(alice, ORDER_INFO), "40924", "orderId and clientOid must have one")
    error(world, wire.get(alice, ORDER_INFO, {"orderId": "", "clientOid": ""}), "40924",
          "orderId and clientOid must have one")


def test_order_info_seed_shape_types_and_order(world, wire, alice):
    """Every field of the seed page, in its order, each a string: a filled market buy."""
    data = place(world, wire, alice, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market",
                                      "size": "10"})
    resp = wire.get(alice, ORDER_INFO, {"orderId": data["orderId"]})
    row = ok(world, resp)[0]
    assert list(row) == ORDER_INFO_KEYS
    for key in ("tpslType", "triggerPrice", "basePrice", "posSide", "presetTakeProfitPrice"):
        assert key not in row
    for key in ("price", "size", "priceAvg", "baseVolume", "quoteVolume"):
        assert re.fullmatch(r"0|\d+\.\d{16}", row[key]), (key, row[key])
    assert row["price"] == "0" and row["size"] == "10.0000000000000000"
    assert re.fullmatch(r"\d{13}", row["cTime"]) and re.fullmatch(r"\d{13}", row["uTime"])
    # feeDetail is a string holding JSON, escaped on the wire
    assert b'"feeDetail":"{\\"BTC\\":{\\"deduction\\":false,' in resp.content
    detail = json.loads(row["feeDetail"])
    assert list(detail) == ["BTC", "newFees"]
    assert list(detail["BTC"]) == ["deduction", "feeCoinCode", "totalDeductionFee", "totalFee"]
    assert list(detail["newFees"]) == ["c", "d", "deduction", "r", "t", "totalDeductionFee"]


def test_bgb_fee_deduction_reads_back_in_fee_detail(world, wire):
    trader = world.trader("deduct", funds={"USDT": "10000", "BGB": "100"})
    world.engine.set_fee_deduction(trader.uid, True)
    data = place(world, wire, trader, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market",
                                       "size": "950"})
    row = one_order(world, wire, trader, data["orderId"])
    # 950 USDT x 0.001 x 0.8 / 5 (BGBUSDT) = 0.152 BGB; the fee valued in BTC is 0.00001
    assert row["feeDetail"] == (
        '{"BGB":{"deduction":true,"feeCoinCode":"BGB","totalDeductionFee":-0.152,"totalFee":-0.152},'
        '"newFees":{"c":0,"d":-0.152,"deduction":true,"r":0,"t":-0.00001,"totalDeductionFee":-0.152}}')
    assert balances(world, trader.uid) == {"BGB": (D("99.848"), D("0")), "BTC": (D("0.01"), D("0")),
                                           "USDT": (D("9050"), D("0"))}
    fill = ok(world, wire.get(trader, FILLS))[0]
    assert fill["feeDetail"] == {"deduction": "yes", "feeCoin": "BGB", "totalDeductionFee": "-0.152",
                                 "totalFee": "-0.152"}
    history = ok(world, wire.get(trader, HISTORY))[0]
    assert history["feeDetail"] == row["feeDetail"]


def test_bgb_fee_deduction_without_bgb_pays_in_the_coin_received(world, wire):
    trader = world.trader("nobgb", funds={"USDT": "10000"})
    world.engine.set_fee_deduction(trader.uid, True)
    data = place(world, wire, trader, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market",
                                       "size": "950"})
    assert one_order(world, wire, trader, data["orderId"])["feeDetail"] == fee_detail("BTC", "0.00001")
    assert ok(world, wire.get(trader, FILLS))[0]["feeDetail"] == {
        "deduction": "no", "feeCoin": "BTC", "totalDeductionFee": "", "totalFee": "-0.00001"}


def test_bgb_fee_deduction_when_buying_bgb_is_charged_once(world, wire):
    trader = world.trader("bgbbuyer", funds={"USDT": "1000", "BGB": "100"})
    world.engine.set_fee_deduction(trader.uid, True)
    data = place(world, wire, trader, {"symbol": "BGBUSDT", "side": "buy", "orderType": "market",
                                       "size": "50"})
    row = one_order(world, wire, trader, data["orderId"])
    # 10 BGB bought; 50 x 0.001 x 0.8 / 5 = 0.008 BGB instead of 0.01
    assert row["feeDetail"] == (
        '{"BGB":{"deduction":true,"feeCoinCode":"BGB","totalDeductionFee":-0.008,"totalFee":-0.008},'
        '"newFees":{"c":0,"d":-0.008,"deduction":true,"r":0,"t":-0.01,"totalDeductionFee":-0.008}}')
    assert balances(world, trader.uid)["BGB"] == (D("109.992"), D("0"))


def test_a_resting_order_filled_by_a_price_move_is_maker(world, wire, alice):
    data = place(world, wire, alice, limit_buy())
    world.engine.clock.advance(1000)
    world.engine.set_mark("bitget", "spot", "BTCUSDT", D("89999"))
    row = one_order(world, wire, alice, data["orderId"])
    assert (row["status"], row["priceAvg"], row["quoteVolume"], row["uTime"]) == (
        "filled", "90000.0000000000000000", "900.0000000000000000", str(world.engine.now_ms()))
    fill = ok(world, wire.get(alice, FILLS))[0]
    assert (fill["tradeScope"], fill["priceAvg"], fill["amount"]) == ("maker", "90000", "900")
    with Unchanged(world):
        error(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": data["orderId"]}), "43001",
              "The order does not exist")


def make_partially_filled(world, http, uid: str, order_id: str) -> None:
    """Half of the order fills at its price, through the control plane's manual fill."""
    resp = http.post("/localex/orders/fill", json={"uid": uid, "orderId": order_id, "size": "0.01"})
    assert resp.status_code == 200, resp.text
    assert (resp.json()["size"], resp.json()["price"], resp.json()["liquidity"]) == ("0.01", "90000", "maker")


def test_a_partially_filled_order_reads_back_and_cancels(world, wire, http, alice):
    data = place(world, wire, alice, limit_buy(size="0.02"))
    make_partially_filled(world, http, alice.uid, data["orderId"])
    row = one_order(world, wire, alice, data["orderId"])
    assert (row["status"], row["size"], row["priceAvg"], row["baseVolume"], row["quoteVolume"]) == (
        "partially_filled", "0.0200000000000000", "90000.0000000000000000", "0.0100000000000000",
        "900.0000000000000000")
    assert row["feeDetail"] == fee_detail("BTC", "0.00001")
    unfilled = ok(world, wire.get(alice, UNFILLED))
    assert [(r["orderId"], r["status"], r["priceAvg"], r["basePrice"], r["baseVolume"])
            for r in unfilled] == [(data["orderId"], "partially_filled", "90000", "90000", "0.01")]
    assert ok(world, wire.get(alice, HISTORY)) == []
    ok(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": data["orderId"]}))
    row = one_order(world, wire, alice, data["orderId"])
    assert (row["status"], row["cancelReason"], row["baseVolume"]) == (
        "cancelled", "normal_cancel", "0.0100000000000000")
    assert balances(world, alice.uid)["USDT"] == (D("9100"), D("0"))


# ---- unfilled-orders, history-orders, fills: rows --------------------------------------------

def test_unfilled_orders_rows_are_trimmed(world, wire, alice):
    world.engine.clock.advance(1000)
    created = world.engine.now_ms()
    data = place(world, wire, alice, limit_buy(price="66000", size="0.00009", clientOid="u1"))
    place(world, wire, alice, limit_buy(price="96000"))  # fills: not unfilled
    resp = wire.get(alice, UNFILLED)
    rows = ok(world, resp)
    assert rows == [{
        "userId": alice.uid, "symbol": "BTCUSDT", "orderId": data["orderId"], "clientOid": "u1",
        "priceAvg": "66000", "size": "0.00009", "orderType": "limit", "side": "buy", "status": "live",
        "basePrice": "0", "baseVolume": "0", "quoteVolume": "0", "enterPointSource": "API",
        "orderSource": "normal", "presetTakeProfitPrice": "", "executeTakeProfitPrice": "",
        "presetStopLossPrice": "", "executeStopLossPrice": "", "cTime": str(created),
        "uTime": str(created), "tpslType": "normal", "triggerPrice": None,
    }]
    assert list(rows[0]) == UNFILLED_KEYS
    assert b'"triggerPrice":null}' in resp.content
    assert ok(world, wire.get(alice, UNFILLED, {"symbol": "ETHUSDT"})) == []
    assert ok(world, wire.get(alice, UNFILLED, {"symbol": "btcusdt"})) == rows
    assert ok(world, wire.get(alice, UNFILLED, {"orderId": data["orderId"]})) == rows
    assert ok(world, wire.get(alice, UNFILLED, {"tpslType": "tpsl"})) == []


def test_history_orders_rows_are_padded(world, wire, alice):
    world.engine.clock.advance(1000)
    created = world.engine.now_ms()
    market = place(world, wire, alice, {"symbol": "BTCUSDT", "side": "buy", "orderType": "market",
                                        "size": "6", "clientOid": "h1"})
    cancelled = place(world, wire, alice, limit_buy(price="66000", size="0.00009", clientOid="h2"))
    world.engine.clock.advance(1000)
    ok(world, wire.post(alice, CANCEL, {"symbol": "BTCUSDT", "orderId": cancelled["orderId"]}))
    place(world, wire, alice, limit_buy())  # live: not history
    resp = wire.get(alice, HISTORY)
    rows = ok(world, resp)
    assert [r["orderId"] for r in rows] == [cancelled["orderId"], market["orderId"]]
    for row in rows:
        assert list(row) == HISTORY_KEYS
    # 6 / 95000 = 0.000063 BTC for 5.985 USDT
    assert rows[1] == {
        "userId": alice.uid, "symbol": "BTCUSDT", "orderId": market["orderId"], "clientOid": "h1",
        "price": "0", "size": "6.0000000000000000", "orderType": "market", "side": "buy",
        "status": "filled", "priceAvg": "95000.0000000000000000", "baseVolume": "0.0000630000000000",
        "quoteVolume": "5.9850000000000000", "enterPointSource": "API",
        "feeDetail": fee_detail("BTC", "0.000000063"), "orderSource": "market", "cTime": str(created),
        "uTime": str(created), "tpslType": "normal", "cancelReason": "", "triggerPrice": None,
    }
    assert rows[0] == {
        "userId": alice.uid, "symbol": "BTCUSDT", "orderId": cancelled["orderId"], "clientOid": "h2",
        "price": "66000.0000000000000000", "size": "0.0000900000000000", "orderType": "limit",
        "side": "buy", "status": "cancelled", "priceAvg": "0", "baseVolume": "0.0000000000000000",
        "quoteVolume": "0.0000000000000000", "enterPointSource": "API", "feeDetail": "",
        "orderSource": "normal", "cTime": str(created), "uTime": str(created + 1000), "tpslType": "normal",
        "cancelReason": "normal_cancel", "triggerPrice": None,
    }
    assert ok(world, wire.get(alice, HISTORY, {"symbol": "ETHUSDT"})) == []
    assert ok(world, wire.get(alice, HISTORY, {"orderId": market["orderId"]})) == [rows[1]]


def test_fills_rows_are_trimmed(world, wire, alice):
    world.engine.clock.advance(1000)
    created = world.engine.now_ms()
    buy = place(world, wire, alice, limit_buy(price="96000", size="0.0123"))
    sell = place(world, wire, alice, {"symbol": "BTCUSDT", "side": "sell", "orderType": "market",
                                      "size": "0.01"})
    resp = wire.get(alice, FILLS)
    rows = ok(world, resp)
    assert [r["orderId"] for r in rows] == [sell["orderId"], buy["orderId"]]
    for row in rows:
        assert list(row) == FILL_KEYS
        order_id_ok(row["tradeId"])
    assert int(rows[0]["tradeId"]) > int(rows[1]["tradeId"])
    assert rows[1] == {
        "userId": alice.uid, "symbol": "BTCUSDT", "orderId": buy["orderId"], "tradeId": rows[1]["tradeId"],
        "orderType": "limit", "side": "buy", "priceAvg": "95000", "size": "0.0123", "amount": "1168.5",
        "feeDetail": {"deduction": "no", "feeCoin": "BTC", "totalDeductionFee": "", "totalFee": "-0.0000123"},
        "tradeScope": "taker", "cTime": str(created), "uTime": str(created),
    }
    assert (rows[0]["orderType"], rows[0]["side"], rows[0]["size"], rows[0]["amount"]) == (
        "market", "sell", "0.01", "950")
    assert rows[0]["feeDetail"] == {"deduction": "no", "feeCoin": "USDT", "totalDeductionFee": "",
                                    "totalFee": "-0.95"}
    assert ok(world, wire.get(alice, FILLS, {"orderId": buy["orderId"]})) == [rows[1]]
    assert ok(world, wire.get(alice, FILLS, {"symbol": "ETHUSDT"})) == []


def test_empty_lists_are_empty_arrays(world, wire, alice):
    for path in (UNFILLED, HISTORY, FILLS):
        resp = wire.get(alice, path)
        assert ok(world, resp) == []
        assert resp.content.endswith(b',"data":[]}')


# ---- paging --------------------------------------------------------------------------------

def engine_orders(world, uid: str, n: int, *, resting: bool, symbol: str = "BTCUSDT") -> list[str]:
    """n orders placed through the engine, one clock second apart; their ids, newest first."""
    ids = []
    for _ in range(n):
        world.engine.clock.advance(1000)
        if resting:
            order = world.engine.place_spot_order(uid, symbol, Side.BUY, OrderType.LIMIT, D("0.0001"),
                                                  D("90000"), TimeInForce.GTC)
        else:
            order = world.engine.place_spot_order(uid, symbol, Side.BUY, OrderType.MARKET, D("5"))
        ids.append(str(order.order_id))
    return ids[::-1]


def walk(world, wire, trader, path: str, key: str, limit: int, **params) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        query = {**params, "limit": str(limit)}
        if cursor is not None:
            query["idLessThan"] = cursor
        rows = ok(world, wire.get(trader, path, query))
        if not rows:
            return pages
        pages.append([r[key] for r in rows])
        cursor = rows[-1][key]


@pytest.mark.parametrize("path, resting", [(UNFILLED, True), (HISTORY, False)])
def test_order_paging_returns_each_order_once_newest_first(world, wire, alice, path, resting):
    ids = engine_orders(world, alice.uid, 7, resting=resting)
    pages = walk(world, wire, alice, path, "orderId", 3)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [i for p in pages for i in p] == ids
    assert walk(world, wire, alice, path, "orderId", 7) == [ids]
    assert walk(world, wire, alice, path, "orderId", 100, symbol="BTCUSDT") == [ids]


def test_fills_paging_by_trade_id(world, wire, alice):
    engine_orders(world, alice.uid, 5, resting=False)
    trade_ids = [f.trade_id for f in world.engine.spot_fills(alice.uid)]
    pages = walk(world, wire, alice, FILLS, "tradeId", 2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [int(i) for p in pages for i in p] == sorted(trade_ids, reverse=True)


@pytest.mark.parametrize("path, resting", [(UNFILLED, True), (HISTORY, False), (FILLS, False)])
def test_limit_defaults_to_100_zero_is_refused_and_more_is_clamped(world, wire, alice, path, resting):
    engine_orders(world, alice.uid, 101, resting=resting)
    assert len(ok(world, wire.get(alice, path))) == 100
    assert len(ok(world, wire.get(alice, path, {"limit": "100"}))) == 100
    assert len(ok(world, wire.get(alice, path, {"limit": "1"}))) == 1
    for limit in ("101", "1000"):
        assert len(ok(world, wire.get(alice, path, {"limit": limit}))) == 100
    error(world, wire.get(alice, path, {"limit": "0"}), "40053",
          "Value range verification failed: limit should be between (0, 100]")
    for limit in ("-1", "ten", "1.5", "²"):
        error(world, wire.get(alice, path, {"limit": limit}), "40020", "Parameter limit error")


@pytest.mark.parametrize("path", [UNFILLED, HISTORY, FILLS])
def test_time_range(world, wire, alice, path):
    ids = engine_orders(world, alice.uid, 3, resting=path == UNFILLED)
    created = [world.engine.spot_order(alice.uid, int(i)).created_ms for i in ids]
    key = "orderId"
    rows = ok(world, wire.get(alice, path, {"startTime": created[1], "endTime": created[1]}))
    assert [r[key] for r in rows] == [ids[1]]
    rows = ok(world, wire.get(alice, path, {"startTime": created[1]}))
    assert [r[key] for r in rows] == ids[:2]
    rows = ok(world, wire.get(alice, path, {"endTime": created[1]}))
    assert [r[key] for r in rows] == ids[1:]
    error(world, wire.get(alice, path, {"startTime": created[0], "endTime": created[1]}), "40707",
          "Start time is greater than end time")
    for bad in ("soon", "-1", "1" * 20, "9" * 5000):
        error(world, wire.get(alice, path, {"startTime": bad}), "40020", "Parameter startTime error")


@pytest.mark.parametrize("path", [HISTORY, FILLS])
def test_a_span_over_90_days_is_40705(world, wire, alice, path):
    end = world.engine.now_ms()
    day = 86_400_000
    assert ok(world, wire.get(alice, path, {"startTime": end - 90 * day, "endTime": end})) == []
    error(world, wire.get(alice, path, {"startTime": end - 90 * day - 1, "endTime": end}), "40705",
          "The start and end time cannot exceed 90 days")


def test_unfilled_orders_have_no_90_day_limit(world, wire, alice):
    end = world.engine.now_ms()
    assert ok(world, wire.get(alice, UNFILLED, {"startTime": end - 365 * 86_400_000, "endTime": end})) == []


def test_paging_cursor_must_be_an_id(world, wire, alice):
    for path in (UNFILLED, HISTORY, FILLS):
        for bad in ("abc", "9223372036854775808"):
            error(world, wire.get(alice, path, {"idLessThan": bad}), "40402",
                  "orderId or clientOId format error")


# ---- requestTime / receiveWindow -----------------------------------------------------------

@pytest.mark.parametrize("path", [ORDER_INFO, UNFILLED, HISTORY, PLACE])
def test_receive_window(world, wire, alice, path):
    data = place(world, wire, alice, limit_buy(clientOid="rw"))

    def send(request_time, window):
        params = {"requestTime": str(request_time), "receiveWindow": str(window)}
        if path == PLACE:
            return wire.post(alice, path, {**limit_buy(), **params})
        if path == ORDER_INFO:
            params["orderId"] = data["orderId"]
        return wire.get(alice, path, params)

    with Unchanged(world):
        error(world, send(wall_ms() - 10_000, 5000), "40078",
              "Timestamp for this request is outside of the ME receiveWindow")
        error(world, send(wall_ms(), 60_000), "40079", "receiveWindow timestamp must be less than 60s")
        error(world, send(wall_ms(), 600_000), "40079", "receiveWindow timestamp must be less than 60s")
        error(world, send(wall_ms(), "5s"), "40020", "Parameter receiveWindow error")
    ok(world, send(wall_ms(), 5000))
    ok(world, send(wall_ms() - 10_000, 59_999))
    ok(world, send(wall_ms() + 10_000, 5000))  # sent "from the future": not stale


# ---- rate limits ---------------------------------------------------------------------------

def test_order_info_allows_20_per_second_per_uid(world, wire, alice, bob):
    data = place(world, wire, alice, limit_buy())
    second = world.engine.create_api_key(alice.uid)
    alice2 = type(alice)(alice.uid, second.key, second.secret, second.passphrase)
    world.app.limiter.reset()
    for _ in range(20):
        ok(world, wire.get(alice, ORDER_INFO, {"orderId": data["orderId"]}, reset=False))
    resp = wire.get(alice, ORDER_INFO, {"orderId": data["orderId"]}, reset=False)
    error(world, resp, "429", "Too Many Requests", status=429)
    # the limit is the user's, whichever key signs
    error(world, wire.get(alice2, ORDER_INFO, {"orderId": data["orderId"]}, reset=False), "429",
          "Too Many Requests", status=429)
    # another user and another endpoint are unaffected
    assert ok(world, wire.get(bob, ORDER_INFO, {"orderId": data["orderId"]}, reset=False)) == []
    ok(world, wire.get(alice, UNFILLED, reset=False))
    world.app.limiter.reset()
    ok(world, wire.get(alice, ORDER_INFO, {"orderId": data["orderId"]}, reset=False))


def test_place_order_allows_10_per_second_and_the_11th_changes_nothing(world, wire, alice):
    world.app.limiter.reset()
    for _ in range(10):
        ok(world, wire.post(alice, PLACE, limit_buy(size="0.0001"), reset=False))
    with Unchanged(world):
        error(world, wire.post(alice, PLACE, limit_buy(size="0.0001"), reset=False), "429",
              "Too Many Requests", status=429)
    assert len(world.engine.spot_orders(alice.uid)) == 10


def test_public_limits_are_per_ip(world, wire):
    world.app.limiter.reset()
    for _ in range(3):
        ok(world, wire.get(None, "/api/v2/spot/public/coins", reset=False))
    error(world, wire.get(None, "/api/v2/spot/public/coins", reset=False), "429", "Too Many Requests",
          status=429)
    ok(world, wire.get(None, "/api/v2/spot/public/symbols", reset=False))


def test_account_info_allows_1_per_second(world, wire, alice):
    world.app.limiter.reset()
    ok(world, wire.get(alice, INFO, reset=False), strings=False)
    error(world, wire.get(alice, INFO, reset=False), "429", "Too Many Requests", status=429)


# ---- read-only keys on trade endpoints -----------------------------------------------------

def test_a_read_only_key_gets_40014_on_writes_only(world, wire, alice):
    read = world.engine.create_api_key(alice.uid, permissions=[Permission.READ])
    reader = type(alice)(alice.uid, read.key, read.secret, read.passphrase)
    data = place(world, wire, alice, limit_buy())
    with Unchanged(world):
        error(world, wire.post(reader, PLACE, limit_buy()), "40014",
              "Incorrect permissions, need spot trade permissions")
        error(world, wire.post(reader, CANCEL, {"symbol": "BTCUSDT", "orderId": data["orderId"]}), "40014",
              "Incorrect permissions, need spot trade permissions")
    assert one_order(world, wire, reader, data["orderId"])["status"] == "live"
