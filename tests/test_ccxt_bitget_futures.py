"""ccxt's own `bitget` class (sync) on futures (swap markets), unchanged except for its URLs.

ccxt hands numbers back as floats; they are compared as Decimals of their shortest repr.
"""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from localex.engine.model import MarginMode, PositionMode

SWAP = "BTC/USDT:USDT"
ETH_SWAP = "ETH/USDT:USDT"
INVERSE = "BTC/USD:BTC"
USDC_SWAP = "BTC/USDC:USDC"
USDT_M = "usdt-futures"

_MARKETS: list[tuple[dict, dict]] = []


def d(value) -> Decimal:
    assert value is not None
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def connect(world, trader=None, *, preload: bool = True) -> ccxt.bitget:
    config = {}
    if trader is not None:
        config = {"apiKey": trader.api_key, "secret": trader.secret_key, "password": trader.passphrase}
    exchange = ccxt.bitget(config)
    exchange.urls["api"] = {name: world.url for name in exchange.urls["api"]}
    if preload:
        if not _MARKETS:
            loader = ccxt.bitget()
            loader.urls["api"] = exchange.urls["api"]
            loader.load_markets()
            _MARKETS.append((loader.markets, loader.currencies))
        markets, currencies = _MARKETS[0]
        exchange.set_markets(list(markets.values()), currencies)
    return exchange


def futures_trader(world, name="alice", usdt="10000"):
    trader = world.trader(name, funds={})
    world.engine.fund(trader.uid, "USDT", Decimal(usdt), account=USDT_M)
    world.engine.fund(trader.uid, "BTC", Decimal("1"), account="coin-futures")
    return trader


def test_load_markets_reads_the_swap_markets(world):
    exchange = connect(world, preload=False)
    markets = exchange.load_markets()
    assert sorted(m for m in markets if markets[m]["swap"]) == [INVERSE, USDC_SWAP, SWAP, ETH_SWAP]
    btc = markets[SWAP]
    assert (btc["id"], btc["type"], btc["settle"], btc["linear"], btc["inverse"], btc["contract"],
            btc["active"], btc["contractSize"]) == ("BTCUSDT", "swap", "USDT", True, False, True, True, 1.0)
    assert btc["precision"] == {"amount": 0.0001, "price": 0.1}
    assert btc["limits"]["amount"] == {"min": 0.0001, "max": None}
    assert btc["limits"]["cost"] == {"min": 5.0, "max": None}
    assert btc["limits"]["leverage"] == {"min": 1.0, "max": 125.0}
    assert (btc["maker"], btc["taker"]) == (0.0002, 0.0006)
    assert btc["marginModes"] == {"cross": True, "isolated": True}
    eth = markets[ETH_SWAP]
    assert eth["precision"] == {"amount": 0.01, "price": 0.01}
    assert eth["limits"]["amount"]["min"] == 0.01
    inverse = markets[INVERSE]
    assert (inverse["settle"], inverse["inverse"], inverse["linear"], inverse["quote"]) == ("BTC", True, False, "USD")
    assert inverse["precision"] == {"amount": 0.001, "price": 0.1}
    assert markets[USDC_SWAP]["settle"] == "USDC"
    # the spot market of the same id is still there, and distinct
    assert markets["BTC/USDT"]["spot"] and markets["BTC/USDT"]["id"] == "BTCUSDT"


def test_hedged_open_and_close_long_and_short(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    exchange.set_position_mode(True, SWAP)
    assert world.engine.futures_account(alice.uid, USDT_M).position_mode is PositionMode.HEDGE
    response = exchange.set_leverage(5, SWAP)
    assert response["data"]["longLeverage"] == "5"

    opened = exchange.create_order(SWAP, "market", "buy", 0.01, None, {"hedged": True})
    order = exchange.fetch_order(opened["id"], SWAP)
    assert (order["status"], order["side"], order["type"], order["reduceOnly"]) == ("closed", "buy", "market", False)
    assert (d(order["amount"]), d(order["filled"]), d(order["average"]), d(order["cost"])) == (
        Decimal("0.01"), Decimal("0.01"), Decimal("95000"), Decimal("950"))
    assert d(order["fee"]["cost"]) == Decimal("0.57") and order["fee"]["currency"] == "USDT"

    short = exchange.create_order(SWAP, "limit", "sell", 0.02, 96000.5, {"hedged": True})
    assert exchange.fetch_order(short["id"], SWAP)["status"] == "open"
    world.engine.set_mark("bitget", USDT_M, "BTCUSDT", Decimal("96100"))  # the short fills as maker

    positions = {p["side"]: p for p in exchange.fetch_positions([SWAP])}
    assert sorted(positions) == ["long", "short"]
    long = positions["long"]
    assert (long["symbol"], long["hedged"], long["marginMode"], d(long["contracts"]), d(long["entryPrice"]),
            d(long["leverage"]), d(long["unrealizedPnl"]), d(long["markPrice"])) == (
        SWAP, True, "cross", Decimal("0.01"), Decimal("95000"), Decimal("5"), Decimal("11"), Decimal("96100"))
    assert d(positions["short"]["entryPrice"]) == Decimal("96000.5")

    # closing a long in hedge mode: ccxt sends side buy with tradeSide Close, and reads it back as a sell
    closed = exchange.create_order(SWAP, "market", "sell", 0.01, None, {"hedged": True, "reduceOnly": True})
    order = exchange.fetch_order(closed["id"], SWAP)
    assert (order["status"], order["side"], order["reduceOnly"]) == ("closed", "sell", True)
    assert order["info"]["side"] == "buy" and order["info"]["tradeSide"] == "close"
    close_short = exchange.create_order(SWAP, "limit", "buy", 0.02, 96200, {"hedged": True, "reduceOnly": True})
    assert exchange.fetch_order(close_short["id"], SWAP)["status"] == "closed"  # marketable: at the mark
    assert exchange.fetch_positions([SWAP]) == []

    trades = exchange.fetch_my_trades(SWAP)
    assert len(trades) == 4
    assert all(t["symbol"] == SWAP and t["fee"]["currency"] == "USDT" for t in trades)
    by_order = {t["order"]: t for t in trades}
    assert d(by_order[opened["id"]]["fee"]["cost"]) == Decimal("0.57")
    assert by_order[short["id"]]["takerOrMaker"] == "maker"
    assert (d(by_order[closed["id"]]["price"]), d(by_order[closed["id"]]["amount"])) == (
        Decimal("96100"), Decimal("0.01"))


def test_one_way_orders_open_orders_and_cancel(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    resting = exchange.create_order(SWAP, "limit", "buy", 0.01, 90000)
    other = exchange.create_order(ETH_SWAP, "limit", "sell", 0.5, 3300, {"clientOrderId": "eth-1"})
    open_orders = exchange.fetch_open_orders(SWAP)
    assert [o["id"] for o in open_orders] == [resting["id"]]
    assert (open_orders[0]["status"], open_orders[0]["side"], d(open_orders[0]["price"])) == (
        "open", "buy", Decimal("90000"))
    assert exchange.fetch_open_orders(ETH_SWAP)[0]["clientOrderId"] == "eth-1"

    cancelled = exchange.cancel_order(resting["id"], SWAP)
    assert cancelled["id"] == resting["id"]
    assert exchange.fetch_order(resting["id"], SWAP)["status"] == "canceled"
    assert exchange.fetch_open_orders(SWAP) == []
    with pytest.raises(ccxt.OrderNotFound):
        exchange.cancel_order(resting["id"], SWAP)
    with pytest.raises(ccxt.OrderNotFound):
        exchange.fetch_order("1767225600000000001", SWAP)
    exchange.cancel_order(other["id"], ETH_SWAP)

    exchange.create_order(SWAP, "market", "buy", 0.02)
    sold = exchange.create_order(SWAP, "market", "sell", 0.02, None, {"reduceOnly": True})
    order = exchange.fetch_order(sold["id"], SWAP)
    assert (order["side"], order["reduceOnly"], order["status"]) == ("sell", True, "closed")
    assert exchange.fetch_positions([SWAP]) == []
    assert {o["id"] for o in exchange.fetch_closed_orders(SWAP)} >= {sold["id"]}
    assert [o["id"] for o in exchange.fetch_canceled_orders(SWAP)] == [resting["id"]]


def test_fetch_balance_of_the_futures_account(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    balance = exchange.fetch_balance({"type": "swap"})
    assert (d(balance["USDT"]["free"]), d(balance["USDT"]["total"])) == (Decimal("10000"), Decimal("10000"))
    exchange.create_order(SWAP, "market", "buy", 0.1)  # margin 475 at 20x, fee 5.7
    world.engine.set_mark("bitget", USDT_M, "BTCUSDT", Decimal("96000"))
    balance = exchange.fetch_balance({"type": "swap"})
    assert d(balance["USDT"]["free"]) == Decimal("9519.3")
    assert d(balance["USDT"]["total"]) == Decimal("10094.3")  # 10000 - 5.7 + 100 of unrealized profit
    coin = exchange.fetch_balance({"type": "swap", "productType": "COIN-FUTURES"})
    assert d(coin["BTC"]["total"]) == Decimal("1")


def test_isolated_margin_mode_and_leverage(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    exchange.set_margin_mode("isolated", SWAP)
    exchange.set_leverage(10, SWAP)
    st = world.engine.symbol_settings(alice.uid, "bitget", USDT_M, "BTCUSDT")
    assert (st.margin_mode, st.long_leverage, st.short_leverage) == (MarginMode.ISOLATED, 10, 10)
    leverage = exchange.fetch_leverage(SWAP)
    assert (leverage["marginMode"], leverage["longLeverage"], leverage["shortLeverage"]) == ("isolated", 10, 10)
    exchange.create_order(SWAP, "market", "sell", 0.1, None, {"marginMode": "isolated"})
    position = exchange.fetch_positions([SWAP])[0]
    assert (position["marginMode"], position["side"], d(position["initialMargin"]), d(position["leverage"])) == (
        "isolated", "short", Decimal("950"), Decimal("10"))
    assert d(position["liquidationPrice"]) == Decimal("104083.7")  # (950 + 9500) / (0.1 x 1.004)
    single = exchange.fetch_position(SWAP)
    assert (single["side"], d(single["contracts"]), single["hedged"]) == ("short", Decimal("0.1"), False)
    assert [p["symbol"] for p in exchange.fetch_positions()] == [SWAP]
    with pytest.raises(ccxt.ExchangeError, match="45117"):
        exchange.set_margin_mode("cross", SWAP)
    with pytest.raises(ccxt.ExchangeError, match="40920"):
        exchange.set_position_mode(True, SWAP)


def test_errors_reach_ccxt_as_its_own_exceptions(world):
    alice = futures_trader(world, usdt="100")
    exchange = connect(world, alice)
    with pytest.raises(ccxt.InsufficientFunds):
        exchange.create_order(SWAP, "market", "buy", 1)
    with pytest.raises(ccxt.InvalidOrder, match="40774"):
        exchange.create_order(SWAP, "market", "buy", 0.001, None, {"hedged": True})
    with pytest.raises(ccxt.InvalidOrder, match="45110"):
        exchange.create_order(SWAP, "limit", "buy", 0.0001, 40000)
    assert world.engine.futures_orders(alice.uid) == []


def test_trigger_orders(world):
    alice = futures_trader(world)
    exchange = connect(world, alice)
    placed = exchange.create_order(SWAP, "market", "buy", 0.01, None, {"triggerPrice": 97000})
    triggers = exchange.fetch_open_orders(SWAP, None, None, {"trigger": True})
    assert [(o["id"], o["status"], d(o["triggerPrice"]), o["side"]) for o in triggers] == [
        (placed["id"], "open", Decimal("97000"), "buy")]
    assert exchange.fetch_open_orders(SWAP) == []
    cancelled = exchange.cancel_order(placed["id"], SWAP, {"trigger": True})
    assert cancelled["id"] == placed["id"]
    assert exchange.fetch_open_orders(SWAP, None, None, {"trigger": True}) == []
