"""ccxt's own `bitget` class (sync) against localex, unchanged except for its URLs.

Every exchange built here has the default options: no `uta`, no `createMarketBuyOrderRequiresPrice`.
ccxt probes GET /api/v3/account/settings to decide between the unified (V3) and the classic (V2)
account; localex answers 40404 there, so ccxt must settle on V2 by itself.

ccxt hands numbers back as floats; they are compared as Decimals of their shortest repr, which is
exact for every value the venue sends as a short decimal string.
"""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from urllib.parse import urlsplit

import ccxt
import pytest

BTC = "BTC/USDT"
ETH = "ETH/USDT"
UNKNOWN_ORDER_ID = "1767225600000000001"


def d(value) -> Decimal:
    assert value is not None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


# The demo market as ccxt loaded it once: (markets, currencies). Loading takes nine paced requests,
# so exchanges after the first start from this copy; tests about loading load for themselves.
_DEMO_MARKETS: list[tuple[dict, dict]] = []


def connect(world, trader=None, *, preload: bool = True, **credentials) -> ccxt.bitget:
    config = {}
    if trader is not None:
        config = {"apiKey": trader.api_key, "secret": trader.secret_key, "password": trader.passphrase}
    config.update(credentials)
    exchange = ccxt.bitget(config)
    exchange.urls["api"] = {name: world.url for name in exchange.urls["api"]}
    if preload:
        if not _DEMO_MARKETS:
            loader = ccxt.bitget()
            loader.urls["api"] = exchange.urls["api"]
            loader.load_markets()
            _DEMO_MARKETS.append((loader.markets, loader.currencies))
        markets, currencies = _DEMO_MARKETS[0]
        exchange.set_markets(list(markets.values()), currencies)
    return exchange


class Recorder:
    """Wraps an exchange's transport: every request ccxt sends, with the venue's code or the
    exception ccxt raised from the answer. Behaviour is untouched."""

    def __init__(self, exchange: ccxt.bitget) -> None:
        self.calls: list[tuple[str, str, object]] = []
        self._fetch = exchange.fetch
        exchange.fetch = self.fetch

    def fetch(self, url, method="GET", headers=None, body=None):
        parts = urlsplit(url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        try:
            response = self._fetch(url, method, headers, body)
        except Exception as exc:
            self.calls.append((method, target, exc))
            raise
        self.calls.append((method, target, response["code"]))
        return response

    def paths(self) -> list[str]:
        return [target for _, target, _ in self.calls]


def balances(exchange: ccxt.bitget, *coins: str) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """(free, used, total) per coin; a coin the account does not hold reads all zeros."""
    raw = exchange.fetch_balance()
    out = {}
    for coin in coins:
        if coin in raw:
            entry = raw[coin]
            out[coin] = (d(entry["free"]), d(entry["used"]), d(entry["total"]))
        else:
            out[coin] = (Decimal(0), Decimal(0), Decimal(0))
    return out


def set_btc_fees(world, maker: str, taker: str) -> None:
    inst = world.engine.instrument("bitget", "spot", "BTCUSDT")
    world.engine.add_instrument(replace(inst, maker_fee=Decimal(maker), taker_fee=Decimal(taker)))


# ---- markets and public data -----------------------------------------------------------------

def test_load_markets_settles_on_v2_and_reads_every_market(world):
    alice = world.trader()
    exchange = connect(world, alice, preload=False)
    recorder = Recorder(exchange)

    markets = exchange.load_markets()

    # the account-mode probe is refused the way Bitget refuses an unknown path, and ccxt falls
    # back to the classic (V2) account on its own
    probes = [c for c in recorder.calls if c[1] == "/api/v3/account/settings"]
    assert len(probes) == 1
    method, _, error = probes[0]
    assert method == "GET"
    assert isinstance(error, ccxt.BadRequest)
    assert '"code":"40404"' in str(error) and "Request URL NOT FOUND" in str(error)
    assert exchange.options["uta"] is False

    answered = {target: code for _, target, code in recorder.calls if target != "/api/v3/account/settings"}
    product_types = ["USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES",
                     "SUSDT-FUTURES", "SCOIN-FUTURES", "SUSDC-FUTURES"]
    expected = ["/api/v2/spot/public/coins", "/api/v2/spot/public/symbols", "/api/v2/margin/currencies"]
    expected += [f"/api/v2/mix/market/contracts?productType={p}" for p in product_types]
    assert sorted(answered) == sorted(expected)
    assert set(answered.values()) == {"00000"}

    assert sorted(m for m in markets if markets[m]["spot"]) == [
        "BGB/USDT", "BTC/USDT", "ETH/USDT", "SOL/USDT", "USDC/USDT", "XRP/USDT"]  # the demo world widened by issue 9
    # (the swap markets are tested in test_ccxt_bitget_futures.py)
    btc = markets[BTC]
    assert (btc["id"], btc["base"], btc["quote"], btc["baseId"], btc["quoteId"]) == (
        "BTCUSDT", "BTC", "USDT", "BTC", "USDT")
    assert (btc["type"], btc["spot"], btc["margin"], btc["swap"], btc["contract"], btc["active"]) == (
        "spot", True, False, False, False, True)
    assert btc["precision"] == {"amount": 1e-06, "price": 0.01}
    assert btc["limits"]["amount"] == {"min": 0.0, "max": 1e10}
    assert btc["limits"]["cost"] == {"min": 1.0, "max": None}
    assert (btc["maker"], btc["taker"]) == (0.001, 0.001)
    assert btc["marginModes"] == {"cross": False, "isolated": False}

    eth = markets[ETH]
    assert (eth["id"], eth["base"], eth["quote"], eth["active"]) == ("ETHUSDT", "ETH", "USDT", True)
    assert eth["precision"] == {"amount": 0.0001, "price": 0.01}
    assert eth["limits"]["amount"] == {"min": 0.0, "max": 1e10}
    assert eth["limits"]["cost"]["min"] == 1.0
    assert (eth["maker"], eth["taker"]) == (0.001, 0.001)

    assert markets["BGB/USDT"]["precision"] == {"amount": 0.01, "price": 0.0001}

    assert sorted(exchange.currencies) == ["BGB", "BTC", "ETH", "SOL", "USDC", "USDT", "XRP"]  # issue 9
    usdt = exchange.currencies["USDT"]
    assert (usdt["id"], usdt["active"], usdt["deposit"], usdt["withdraw"]) == ("USDT", True, True, True)
    assert usdt["precision"] == 1e-08


def test_load_markets_without_credentials_sends_no_probe(world):
    exchange = connect(world, preload=False)
    recorder = Recorder(exchange)
    exchange.load_markets()
    assert "/api/v3/account/settings" not in recorder.paths()
    assert len(recorder.calls) == 9
    assert exchange.markets[BTC]["id"] == "BTCUSDT"


def test_fetch_time_is_the_venue_clock(world):
    exchange = connect(world)
    before = int(time.time() * 1000)
    server_ms = exchange.fetch_time()
    after = int(time.time() * 1000)
    assert isinstance(server_ms, int)
    assert before - 1000 <= server_ms <= after + 1000


def test_fetch_ticker_and_tickers_follow_the_mark(world):
    exchange = connect(world)
    ticker = exchange.fetch_ticker(BTC)
    assert ticker["symbol"] == BTC
    assert (ticker["last"], ticker["close"], ticker["bid"], ticker["ask"]) == (95000.0,) * 4
    assert (ticker["open"], ticker["high"], ticker["low"]) == (95000.0,) * 3
    assert (ticker["change"], ticker["percentage"]) == (0.0, 0.0)
    stats = world.engine.stats_24h("bitget:spot:BTCUSDT")  # volumes from the market tape (issue 9)
    assert (d(ticker["baseVolume"]), d(ticker["quoteVolume"])) == (stats.base_volume, stats.quote_volume)
    assert ticker["baseVolume"] > 0
    assert ticker["timestamp"] == world.engine.now_ms()
    assert ticker["info"]["symbol"] == "BTCUSDT"

    world.engine.set_mark("bitget", "spot", "ETHUSDT", Decimal("3210.55"))
    tickers = exchange.fetch_tickers()
    assert {s: t["last"] for s, t in tickers.items()} == {
        "BGB/USDT": 5.0, "BTC/USDT": 95000.0, "ETH/USDT": 3210.55, "SOL/USDT": 180.0, "USDC/USDT": 1.0,
        "XRP/USDT": 2.2}  # the demo world widened by issue 9

    only = exchange.fetch_tickers([ETH])
    assert list(only) == [ETH]
    assert only[ETH]["last"] == 3210.55


# ---- trading ---------------------------------------------------------------------------------

def test_limit_buy_rests_freezes_then_cancel_releases(world):
    alice = world.trader()
    exchange = connect(world, alice)

    placed = exchange.create_order(BTC, "limit", "buy", 0.01, 94000)
    order_id = placed["id"]
    assert order_id.isdigit() and len(order_id) == 19
    assert placed["symbol"] == BTC
    assert placed["clientOrderId"]

    order = exchange.fetch_order(order_id, BTC)
    assert (order["id"], order["symbol"], order["type"], order["side"], order["status"]) == (
        order_id, BTC, "limit", "buy", "open")
    assert (d(order["price"]), d(order["amount"]), d(order["filled"]), d(order["remaining"])) == (
        Decimal("94000"), Decimal("0.01"), Decimal("0"), Decimal("0.01"))
    assert order["average"] is None
    assert order["fee"] is None
    assert order["clientOrderId"] == placed["clientOrderId"]
    assert order["timestamp"] == world.engine.now_ms()

    # 0.01 * 94000 = 940 USDT frozen
    assert balances(exchange, "USDT", "BTC") == {
        "USDT": (Decimal("9060"), Decimal("940"), Decimal("10000")),
        "BTC": (Decimal("1"), Decimal("0"), Decimal("1")),
    }

    open_orders = exchange.fetch_open_orders(BTC)
    assert [o["id"] for o in open_orders] == [order_id]
    rest = open_orders[0]
    assert (rest["status"], rest["side"], rest["type"]) == ("open", "buy", "limit")
    assert (d(rest["price"]), d(rest["amount"]), d(rest["filled"]), d(rest["remaining"])) == (
        Decimal("94000"), Decimal("0.01"), Decimal("0"), Decimal("0.01"))
    assert [o["id"] for o in exchange.fetch_open_orders()] == [order_id]

    cancelled = exchange.cancel_order(order_id, BTC)
    assert cancelled["id"] == order_id
    assert cancelled["clientOrderId"] == placed["clientOrderId"]

    order = exchange.fetch_order(order_id, BTC)
    assert order["status"] == "canceled"
    assert (d(order["filled"]), d(order["remaining"]), d(order["cost"])) == (
        Decimal("0"), Decimal("0.01"), Decimal("0"))
    assert balances(exchange, "USDT")["USDT"] == (Decimal("10000"), Decimal("0"), Decimal("10000"))

    assert exchange.fetch_open_orders(BTC) == []
    assert [o["id"] for o in exchange.fetch_canceled_orders(BTC)] == [order_id]
    assert exchange.fetch_closed_orders(BTC) == []
    assert exchange.fetch_my_trades(BTC) == []

    with pytest.raises(ccxt.OrderNotFound, match="43001"):
        exchange.cancel_order(order_id, BTC)


def test_limit_sell_freezes_the_base_coin(world):
    alice = world.trader(funds={"USDT": "100", "ETH": "2"})
    exchange = connect(world, alice)
    placed = exchange.create_order(ETH, "limit", "sell", 0.5, 3300, params={"clientOrderId": "eth-ask-1"})
    assert placed["clientOrderId"] == "eth-ask-1"
    order = exchange.fetch_order(None, ETH, {"clientOrderId": "eth-ask-1"})
    assert (order["id"], order["status"], order["side"], order["symbol"]) == (placed["id"], "open", "sell", ETH)
    assert (d(order["price"]), d(order["amount"])) == (Decimal("3300"), Decimal("0.5"))
    assert balances(exchange, "ETH", "USDT") == {
        "ETH": (Decimal("1.5"), Decimal("0.5"), Decimal("2")),
        "USDT": (Decimal("100"), Decimal("0"), Decimal("100")),
    }
    exchange.cancel_order(placed["id"], ETH)
    assert balances(exchange, "ETH")["ETH"] == (Decimal("2"), Decimal("0"), Decimal("2"))


def test_market_buy_and_sell_fill_at_the_mark_and_charge_the_received_coin(world):
    alice = world.trader()
    exchange = connect(world, alice)

    # ccxt turns amount * price into the quote size a Bitget market buy takes: 0.01 * 95000 = 950
    bought = exchange.create_order(BTC, "market", "buy", 0.01, 95000)
    order = exchange.fetch_order(bought["id"], BTC)
    assert order["info"]["size"] == "950.0000000000000000"
    assert (order["type"], order["side"], order["status"]) == ("market", "buy", "closed")
    assert (d(order["amount"]), d(order["filled"]), d(order["remaining"])) == (
        Decimal("0.01"), Decimal("0.01"), Decimal("0"))
    assert (d(order["average"]), d(order["cost"])) == (Decimal("95000"), Decimal("950"))
    assert order["fee"] == {"cost": 1e-05, "currency": "BTC"}  # 0.01 BTC * 0.001, in the coin received

    assert balances(exchange, "USDT", "BTC") == {
        "USDT": (Decimal("9050"), Decimal("0"), Decimal("9050")),
        "BTC": (Decimal("1.00999"), Decimal("0"), Decimal("1.00999")),
    }

    sold = exchange.create_order(BTC, "market", "sell", 0.01)
    order = exchange.fetch_order(sold["id"], BTC)
    assert order["info"]["size"] == "0.0100000000000000"
    assert (order["type"], order["side"], order["status"]) == ("market", "sell", "closed")
    assert (d(order["amount"]), d(order["filled"])) == (Decimal("0.01"), Decimal("0.01"))
    assert (d(order["average"]), d(order["cost"])) == (Decimal("95000"), Decimal("950"))
    assert order["fee"] == {"cost": 0.95, "currency": "USDT"}  # 950 USDT * 0.001

    # 9050 + 950 - 0.95; 1.00999 - 0.01
    assert balances(exchange, "USDT", "BTC") == {
        "USDT": (Decimal("9999.05"), Decimal("0"), Decimal("9999.05")),
        "BTC": (Decimal("0.99999"), Decimal("0"), Decimal("0.99999")),
    }

    trades = exchange.fetch_my_trades(BTC)
    assert sorted(t["order"] for t in trades) == sorted([bought["id"], sold["id"]])
    by_order = {t["order"]: t for t in trades}
    buy, sell = by_order[bought["id"]], by_order[sold["id"]]
    assert (buy["side"], buy["type"], buy["takerOrMaker"], buy["symbol"]) == ("buy", "market", "taker", BTC)
    assert (d(buy["price"]), d(buy["amount"]), d(buy["cost"])) == (
        Decimal("95000"), Decimal("0.01"), Decimal("950"))
    assert buy["fee"] == {"currency": "BTC", "cost": 1e-05}
    assert (sell["side"], sell["takerOrMaker"]) == ("sell", "taker")
    assert (d(sell["price"]), d(sell["amount"]), d(sell["cost"])) == (
        Decimal("95000"), Decimal("0.01"), Decimal("950"))
    assert sell["fee"] == {"currency": "USDT", "cost": 0.95}
    assert all(t["id"].isdigit() and t["timestamp"] == world.engine.now_ms() for t in trades)

    closed = exchange.fetch_closed_orders(BTC)
    assert sorted(o["id"] for o in closed) == sorted([bought["id"], sold["id"]])
    assert all(o["status"] == "closed" for o in closed)
    assert exchange.fetch_canceled_orders(BTC) == []

    since = world.engine.now_ms() - 1000
    assert len(exchange.fetch_my_trades(BTC, since=since, limit=1)) == 1
    assert len(exchange.fetch_closed_orders(BTC, since=since, limit=5)) == 2


def test_marketable_limit_order_fills_at_once_as_taker(world):
    alice = world.trader()
    exchange = connect(world, alice)
    placed = exchange.create_order(BTC, "limit", "buy", 0.01, 96000)
    order = exchange.fetch_order(placed["id"], BTC)
    assert (order["status"], order["type"]) == ("closed", "limit")
    # filled at the mark, below the limit; the 960 USDT frozen for it leaves no remainder behind
    assert (d(order["price"]), d(order["average"]), d(order["filled"]), d(order["cost"])) == (
        Decimal("96000"), Decimal("95000"), Decimal("0.01"), Decimal("950"))
    assert order["fee"] == {"cost": 1e-05, "currency": "BTC"}
    (trade,) = exchange.fetch_my_trades(BTC)
    assert (trade["takerOrMaker"], d(trade["price"])) == ("taker", Decimal("95000"))
    assert balances(exchange, "USDT", "BTC") == {
        "USDT": (Decimal("9050"), Decimal("0"), Decimal("9050")),
        "BTC": (Decimal("1.00999"), Decimal("0"), Decimal("1.00999")),
    }
    assert exchange.fetch_open_orders(BTC) == []


def test_fee_paid_in_bgb_when_deduction_is_on(world):
    alice = world.trader(funds={"USDT": "10000", "BGB": "100"})
    world.engine.set_fee_deduction(alice.uid, True)
    exchange = connect(world, alice)

    bought = exchange.create_order(BTC, "market", "buy", 0.01, 95000)
    order = exchange.fetch_order(bought["id"], BTC)
    # 950 USDT * 0.001 = 0.95 USDT, 20% off = 0.76 USDT, at 5 USDT a BGB
    assert order["fee"] == {"cost": 0.152, "currency": "BGB"}
    assert (d(order["filled"]), d(order["cost"])) == (Decimal("0.01"), Decimal("950"))
    (trade,) = exchange.fetch_my_trades(BTC)
    assert trade["fee"] == {"currency": "BGB", "cost": 0.152}
    assert balances(exchange, "BTC", "BGB", "USDT") == {
        "BTC": (Decimal("0.01"), Decimal("0"), Decimal("0.01")),  # received whole
        "BGB": (Decimal("99.848"), Decimal("0"), Decimal("99.848")),
        "USDT": (Decimal("9050"), Decimal("0"), Decimal("9050")),
    }


def test_market_buy_without_price_needs_a_cost(world):
    alice = world.trader()
    exchange = connect(world, alice)
    recorder = Recorder(exchange)

    # ccxt's default: a market buy needs a price to compute the quote amount, refused client-side
    with pytest.raises(ccxt.InvalidOrder, match="requires the price argument"):
        exchange.create_order(BTC, "market", "buy", 0.01)
    assert "/api/v2/spot/trade/place-order" not in recorder.paths()

    # the cost passed directly: 50 USDT buys 0.000526 BTC (size precision 6) for 49.97 USDT
    by_cost = exchange.create_order(BTC, "market", "buy", 0, params={"cost": 50})
    order = exchange.fetch_order(by_cost["id"], BTC)
    assert order["info"]["size"] == "50.0000000000000000"
    assert (d(order["amount"]), d(order["filled"]), d(order["cost"]), d(order["average"])) == (
        Decimal("0.000526"), Decimal("0.000526"), Decimal("49.97"), Decimal("95000"))
    assert order["fee"] == {"cost": 5.26e-07, "currency": "BTC"}

    # or the amount read as the cost
    by_amount = exchange.create_order(BTC, "market", "buy", 100,
                                      params={"createMarketBuyOrderRequiresPrice": False})
    order = exchange.fetch_order(by_amount["id"], BTC)
    assert order["info"]["size"] == "100.0000000000000000"
    assert (d(order["filled"]), d(order["cost"])) == (Decimal("0.001052"), Decimal("99.94"))

    # what a market buy does not spend goes back to available; BTC gains 0.001578 * 0.999 =
    # 0.001576422, and account assets read at 8 decimals
    assert balances(exchange, "USDT", "BTC") == {
        "USDT": (Decimal("9850.09"), Decimal("0"), Decimal("9850.09")),  # 10000 - 49.97 - 99.94
        "BTC": (Decimal("1.00157642"), Decimal("0"), Decimal("1.00157642")),
    }


def test_resting_orders_fill_as_maker_when_the_mark_reaches_them(world):
    set_btc_fees(world, maker="0.0008", taker="0.001")
    alice = world.trader()
    exchange = connect(world, alice, preload=False)
    markets = exchange.load_markets()
    assert (markets[BTC]["maker"], markets[BTC]["taker"]) == (0.0008, 0.001)

    bid = exchange.create_order(BTC, "limit", "buy", 0.01, 94000)
    ask = exchange.create_order(BTC, "limit", "sell", 0.5, 96000)
    assert [o["status"] for o in exchange.fetch_open_orders(BTC)] == ["open", "open"]
    assert balances(exchange, "USDT", "BTC") == {
        "USDT": (Decimal("9060"), Decimal("940"), Decimal("10000")),
        "BTC": (Decimal("0.5"), Decimal("0.5"), Decimal("1")),
    }

    world.engine.set_mark("bitget", "spot", "BTCUSDT", Decimal("93900"))
    order = exchange.fetch_order(bid["id"], BTC)
    assert order["status"] == "closed"
    assert (d(order["price"]), d(order["average"]), d(order["filled"]), d(order["cost"])) == (
        Decimal("94000"), Decimal("94000"), Decimal("0.01"), Decimal("940"))
    assert order["fee"] == {"cost": 8e-06, "currency": "BTC"}  # 0.01 * 0.0008, the maker rate
    assert [o["id"] for o in exchange.fetch_open_orders(BTC)] == [ask["id"]]

    world.engine.set_mark("bitget", "spot", "BTCUSDT", Decimal("96500"))
    order = exchange.fetch_order(ask["id"], BTC)
    assert order["status"] == "closed"
    assert (d(order["average"]), d(order["filled"]), d(order["cost"])) == (
        Decimal("96000"), Decimal("0.5"), Decimal("48000"))
    assert order["fee"] == {"cost": 38.4, "currency": "USDT"}  # 48000 * 0.0008

    trades = {t["order"]: t for t in exchange.fetch_my_trades(BTC)}
    assert set(trades) == {bid["id"], ask["id"]}
    assert (trades[bid["id"]]["takerOrMaker"], trades[ask["id"]]["takerOrMaker"]) == ("maker", "maker")
    assert d(trades[bid["id"]]["price"]) == Decimal("94000")
    assert trades[bid["id"]]["fee"] == {"currency": "BTC", "cost": 8e-06}
    assert trades[ask["id"]]["fee"] == {"currency": "USDT", "cost": 38.4}

    # USDT 10000 - 940 + 48000 - 38.4; BTC 1 + 0.01 - 0.000008 - 0.5
    assert balances(exchange, "USDT", "BTC") == {
        "USDT": (Decimal("57021.6"), Decimal("0"), Decimal("57021.6")),
        "BTC": (Decimal("0.509992"), Decimal("0"), Decimal("0.509992")),
    }
    assert exchange.fetch_open_orders(BTC) == []
    assert sorted(o["id"] for o in exchange.fetch_closed_orders(BTC)) == sorted([bid["id"], ask["id"]])

    # a filled order cannot be cancelled
    with pytest.raises(ccxt.OrderNotFound, match="43001"):
        exchange.cancel_order(bid["id"], BTC)


def test_client_order_id_and_time_in_force_reach_the_venue(world):
    alice = world.trader()
    exchange = connect(world, alice)

    rest = exchange.create_order(BTC, "limit", "buy", 0.001, 90000,
                                 params={"clientOrderId": "my-bid-1", "postOnly": True})
    assert rest["clientOrderId"] == "my-bid-1"
    by_client = exchange.fetch_order(None, BTC, {"clientOrderId": "my-bid-1"})
    assert (by_client["id"], by_client["status"], by_client["clientOrderId"]) == (
        rest["id"], "open", "my-bid-1")

    # post-only that would take liquidity is cancelled; an IOC that cannot fill is cancelled
    taker = exchange.create_order(BTC, "limit", "buy", 0.001, 96000, params={"postOnly": True})
    ioc = exchange.create_order(BTC, "limit", "buy", 0.001, 90000, params={"timeInForce": "IOC"})
    assert exchange.fetch_order(taker["id"], BTC)["status"] == "canceled"
    assert exchange.fetch_order(ioc["id"], BTC)["status"] == "canceled"

    # a duplicate client id is refused
    with pytest.raises(ccxt.ExchangeError, match="43118"):
        exchange.create_order(BTC, "limit", "buy", 0.001, 90000, params={"clientOrderId": "my-bid-1"})

    cancelled = exchange.cancel_order(None, BTC, {"clientOrderId": "my-bid-1"})
    assert cancelled["id"] == rest["id"]
    assert exchange.fetch_order(rest["id"], BTC)["status"] == "canceled"
    assert sorted(o["id"] for o in exchange.fetch_canceled_orders(BTC)) == sorted(
        [rest["id"], taker["id"], ioc["id"]])
    assert balances(exchange, "USDT")["USDT"] == (Decimal("10000"), Decimal("0"), Decimal("10000"))


# ---- errors ----------------------------------------------------------------------------------

def test_venue_errors_surface_as_ccxt_exceptions(world):
    alice = world.trader()
    exchange = connect(world, alice)

    with pytest.raises(ccxt.InsufficientFunds, match='"code":"43012"'):
        exchange.create_order(BTC, "limit", "buy", 1, 90000)  # 90000 USDT, 10000 held
    with pytest.raises(ccxt.InsufficientFunds, match='"code":"43012"'):
        exchange.create_order(BTC, "market", "sell", 2)  # 1 BTC held

    with pytest.raises(ccxt.InvalidOrder, match='"code":"45110".*less than the minimum amount 1 USDT'):
        exchange.create_order(BTC, "limit", "buy", 0.00001, 50000)  # 0.5 USDT

    with pytest.raises(ccxt.OrderNotFound, match='"code":"43001"'):
        exchange.cancel_order(UNKNOWN_ORDER_ID, BTC)
    with pytest.raises(ccxt.OrderNotFound, match=f"could not find order id {UNKNOWN_ORDER_ID}"):
        exchange.fetch_order(UNKNOWN_ORDER_ID, BTC)

    # nothing above moved a balance or left an order behind
    assert balances(exchange, "USDT", "BTC") == {
        "USDT": (Decimal("10000"), Decimal("0"), Decimal("10000")),
        "BTC": (Decimal("1"), Decimal("0"), Decimal("1")),
    }
    assert exchange.fetch_open_orders(BTC) == []
    assert exchange.fetch_canceled_orders(BTC) == []


@pytest.mark.parametrize(("change", "code"), [
    ({"secret": "0" * 64}, "40009"),
    ({"password": "not-the-passphrase"}, "40012"),
    ({"apiKey": "bg_" + "0" * 32}, "40037"),
])
def test_bad_credentials_raise_authentication_error(world, change, code):
    alice = world.trader()
    exchange = connect(world, alice, **change)
    recorder = Recorder(exchange)
    with pytest.raises(ccxt.AuthenticationError, match=f'"code":"{code}"'):
        exchange.fetch_balance()
    # the account-mode probe was refused (an unknown path is answered before any signature
    # check), and ccxt went on with V2
    probe = [c for c in recorder.calls if c[1] == "/api/v3/account/settings"]
    assert len(probe) == 1 and '"code":"40404"' in str(probe[0][2])
    assert exchange.options["uta"] is False
    assert recorder.calls[-1][1] == "/api/v2/spot/account/assets"
