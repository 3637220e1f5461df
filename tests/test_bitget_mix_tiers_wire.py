"""Bitget V2 futures position tiers and crossed liquidation of coin-margined contracts, on the
wire: query-position-lever answers each contract's tiers; the tier a position's value falls in
gives its maintenance margin rate (all-position keepMarginRate, isolated and crossed liquidation
prices and the liquidation itself) and caps its leverage (set-leverage 40797, place-order
40921, state unchanged); a coin-margined account's crossed positions are liquidated together,
money conserved to the last satoshi fraction."""

from __future__ import annotations

from decimal import Decimal as D

from test_bitget_mix_wire import (  # noqa: F401  (fixtures)
    ALL_POSITION,
    PLACE,
    PT,
    SET_LEVERAGE,
    USDT_M,
    Unchanged,
    error,
    futures_trader,
    ok,
    order_body,
    place,
    set_mark,
    wire,
)

from localex.engine.model import MarginMode, PositionMode

LEVER = "/api/v2/mix/market/query-position-lever"
COIN_M = "coin-futures"


def test_query_position_lever_lists_the_contract_tiers(world, wire):
    data = ok(world, wire.get(None, LEVER, {"symbol": "BTCUSDT", "productType": PT}))
    assert data[:3] == [
        {"symbol": "BTCUSDT", "level": "1", "startUnit": "0", "endUnit": "150000", "leverage": "125",
         "keepMarginRate": "0.004"},
        {"symbol": "BTCUSDT", "level": "2", "startUnit": "150000", "endUnit": "600000", "leverage": "100",
         "keepMarginRate": "0.005"},
        {"symbol": "BTCUSDT", "level": "3", "startUnit": "600000", "endUnit": "2000000", "leverage": "75",
         "keepMarginRate": "0.01"},
    ]
    assert [row["level"] for row in data] == [str(n) for n in range(1, 9)]
    # each tier starts where the one before ends; leverage falls and the rate rises
    assert all(a["endUnit"] == b["startUnit"] for a, b in zip(data, data[1:]))
    assert all(int(a["leverage"]) > int(b["leverage"]) and D(a["keepMarginRate"]) < D(b["keepMarginRate"])
               for a, b in zip(data, data[1:]))
    inverse = ok(world, wire.get(None, LEVER, {"symbol": "BTCUSD", "productType": "COIN-FUTURES"}))
    assert inverse[0] == {"symbol": "BTCUSD", "level": "1", "startUnit": "0", "endUnit": "10",
                          "leverage": "125", "keepMarginRate": "0.004"}


def isolated_long(world, wire, trader, size: str, leverage: int) -> dict:
    world.engine.set_margin_mode(trader.uid, "bitget", USDT_M, "BTCUSDT", MarginMode.ISOLATED)
    world.engine.set_leverage(trader.uid, "bitget", USDT_M, "BTCUSDT", leverage)
    place(world, wire, trader, size=size, marginMode="isolated")
    [row] = ok(world, wire.get(trader, ALL_POSITION, {"productType": PT, "marginCoin": "USDT"}))
    return row


def test_a_position_in_the_second_tier_keeps_its_rate_and_is_liquidated_there(world, wire):
    small = futures_trader(world, "small")
    big = futures_trader(world, "big", usdt="20000")
    # 1 BTC at 95000 is worth 95,000: tier 1 (0.004); 2 BTC are worth 190,000: tier 2 (0.005)
    row1 = isolated_long(world, wire, small, "1", 50)
    row2 = isolated_long(world, wire, big, "2", 50)
    assert (row1["keepMarginRate"], row2["keepMarginRate"]) == ("0.004", "0.005")
    # where margin + PnL meets value x rate: (95000 s - 1900 s) / (s (1 - r)), to the price step
    assert row1["liquidationPrice"] == "93473.9"  # 93100 / 0.996 = 93473.89…
    assert row2["liquidationPrice"] == "93567.8"  # 186200 / 1.99 = 93567.83…
    set_mark(world, "93567.9")
    assert len(world.engine.positions(big.uid)) == 1
    set_mark(world, "93567.8")  # the second tier's level: the big one goes, the small one stays
    assert world.engine.positions(big.uid) == []
    assert len(world.engine.positions(small.uid)) == 1
    [liq] = [o for o in world.engine.futures_orders(big.uid) if o.source == "liquidation"]
    assert liq.avg_price == D("93567.8")


def test_set_leverage_above_the_position_tier_is_40797_and_changes_nothing(world, wire):
    trader = futures_trader(world, "tiered", usdt="20000")
    world.engine.set_leverage(trader.uid, "bitget", USDT_M, "BTCUSDT", 50)
    place(world, wire, trader, size="2")  # crossed, 190,000: tier 2, at most 100x
    body = {"symbol": "BTCUSDT", "productType": PT, "marginCoin": "USDT", "leverage": "125"}
    with Unchanged(world):
        error(world, wire.post(trader, SET_LEVERAGE, body), "40797", "Exceeded the maximum settable leverage")
    data = ok(world, wire.post(trader, SET_LEVERAGE, {**body, "leverage": "100"}))
    assert data["crossMarginLeverage"] == "100"


def test_an_opening_beyond_the_tier_of_its_leverage_is_40921_and_changes_nothing(world, wire):
    trader = futures_trader(world, "opener", usdt="20000")
    world.engine.set_leverage(trader.uid, "bitget", USDT_M, "BTCUSDT", 100)
    place(world, wire, trader, size="5")  # 475,000: within tier 2, which allows 100x up to 600,000
    with Unchanged(world):
        # 2 BTC more would make 665,000: past 600,000 at 100x
        error(world, wire.post(trader, PLACE, order_body(size="2")), "40921",
              "The order size cannot exceed the maximum size of the positionLevel")
        # a resting opening counts as if filled
        error(world, wire.post(trader, PLACE, order_body(size="2", order_type="limit", price="90000")),
              "40921", "The order size cannot exceed the maximum size of the positionLevel")
    # at 75x the same order fits tier 3 (up to 2,000,000), once the leverage is lowered
    ok(world, wire.post(trader, SET_LEVERAGE, {"symbol": "BTCUSDT", "productType": PT, "marginCoin": "USDT",
                                               "leverage": "75"}))
    place(world, wire, trader, size="2")
    # closing is never capped
    place(world, wire, trader, side="sell", size="7", reduceOnly="YES")
    assert world.engine.positions(trader.uid) == []


def test_crossed_maintenance_uses_each_position_tier(world, wire):
    trader = futures_trader(world, "crossed", usdt="20000")
    world.engine.set_leverage(trader.uid, "bitget", USDT_M, "BTCUSDT", 50)
    world.engine.set_leverage(trader.uid, "bitget", USDT_M, "ETHUSDT", 50)
    place(world, wire, trader, size="2")  # BTC 190,000: tier 2 (0.005)
    place(world, wire, trader, symbol="ETHUSDT", size="10")  # ETH 32,000: tier 1 (0.004)
    _, maintenance = world.engine.crossed_health(trader.uid, USDT_M, "BTCUSDT")
    assert maintenance == D("190000") * D("0.005") + D("32000") * D("0.004")


# ---- crossed liquidation of coin-margined (inverse) contracts ---------------------------------

def btc_total(world) -> D:
    """Every BTC of the coin-margined accounts: users' balances, positions' margin, the house."""
    e = world.engine
    balances = sum(e.balance(u.uid, "BTC", account=COIN_M).total for u in e.list_users())
    return balances + e.position_margin().get(COIN_M, D(0)) + e.house_balance("bitget", "BTC")


def test_a_crossed_coin_margined_account_is_liquidated_together_and_money_is_conserved(world, wire):
    """Two crossed inverse positions (a long perpetual, a short quarterly) in one BTC account:
    equity (balance, margins, the PnL of both in coin) meets their maintenance margin at the
    perpetual's level, where both close; what is left of the equity goes to the house; every
    BTC is accounted for, to the last digit."""
    e = world.engine
    trader = futures_trader(world, "coin", usdt="0")
    e.fund(trader.uid, "BTC", D("-0.95"), account=COIN_M)  # 0.05 BTC left
    e.set_position_mode(trader.uid, COIN_M, PositionMode.HEDGE)
    for symbol in ("BTCUSD", "BTCUSDH27"):
        e.set_leverage(trader.uid, "bitget", COIN_M, symbol, 75)
    before = btc_total(world)
    common = {"productType": "COIN-FUTURES", "marginCoin": "BTC", "tradeSide": "open"}
    place(world, wire, trader, symbol="BTCUSD", size="0.5", **common)  # long 0.5 at 95000
    place(world, wire, trader, symbol="BTCUSDH27", side="sell", size="0.2", **common)  # short 0.2 at 95500
    assert btc_total(world) == before
    equity, maintenance = e.crossed_health(trader.uid, COIN_M, "BTCUSD")
    assert equity > maintenance > 0
    level, rising = e.crossed_liquidation_price(trader.uid, COIN_M, "BTCUSD")
    assert rising is False and D("80000") < level < D("95000")
    # the account is at (or just past) its maintenance margin there, and above it one step before
    at = e.crossed_health(trader.uid, COIN_M, "BTCUSD", level)
    above = e.crossed_health(trader.uid, COIN_M, "BTCUSD", level + D("0.1"))
    assert at[0] <= at[1] and above[0] > above[1]
    # all-position shows the level as the perpetual's liquidation price
    rows = ok(world, wire.get(trader, ALL_POSITION, {"productType": "COIN-FUTURES", "marginCoin": "BTC"}))
    assert {r["symbol"]: r["liquidationPrice"] for r in rows}["BTCUSD"] == format(level, "f")
    set_mark(world, str(level + D("0.1")), symbol="BTCUSD", market=COIN_M)
    assert len(e.positions(trader.uid)) == 2
    set_mark(world, "80000", symbol="BTCUSD", market=COIN_M)  # one jump past it
    assert e.positions(trader.uid) == []
    liquidations = sorted((o.symbol, o.avg_price) for o in e.futures_orders(trader.uid)
                          if o.source == "liquidation")
    assert liquidations == [("BTCUSD", level), ("BTCUSDH27", D("95500"))]
    assert e.balance(trader.uid, "BTC", account=COIN_M).total == 0
    assert btc_total(world) == before
    kinds = sorted(r["businessType"] for r in ok(world, wire.get(
        trader, "/api/v2/mix/account/bill", {"productType": "COIN-FUTURES"}))["bills"])[:2]
    assert kinds == ["burst_long_loss_query", "burst_short_loss_query"]
