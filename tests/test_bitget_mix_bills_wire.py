"""Bitget V2 futures account bills for every futures business type the engine records: opens and
closes (with their fees), isolated margin changes, liquidations and funding; and ccxt's
fetch_ledger on swap reading them."""

from __future__ import annotations

from decimal import Decimal as D

from test_bitget_mix_wire import (  # noqa: F401  (fixtures)
    PT,
    USDT_M,
    error,
    hedger,
    ok,
    place,
    set_mark,
    wire,
)
from test_ccxt_bitget_futures import SWAP, connect

from localex.engine.model import MarginMode

BILL = "/api/v2/mix/account/bill"
BILL_KEYS = ["billId", "symbol", "amount", "fee", "feeByCoupon", "businessType", "coin", "balance", "cTime"]


def bills(world, wire, trader, **params) -> list[dict]:
    return ok(world, wire.get(trader, BILL, {"productType": PT, **params}))["bills"]


def test_every_futures_business_type_in_the_bills(world, wire, hedger):
    place(world, wire, hedger, side="buy", trade_side="open", size="0.02")  # 95000, fee 1.14
    set_mark(world, "96000")
    place(world, wire, hedger, side="buy", trade_side="close", size="0.01")  # +10, fee 0.576
    # an isolated short with margin added, then liquidated
    world.engine.set_margin_mode(hedger.uid, "bitget", USDT_M, "ETHUSDT", MarginMode.ISOLATED)
    world.engine.set_leverage(hedger.uid, "bitget", USDT_M, "ETHUSDT", 50)
    place(world, wire, hedger, symbol="ETHUSDT", side="sell", trade_side="open", size="1",
          marginMode="isolated")
    ok(world, wire.post(hedger, "/api/v2/mix/account/set-margin", {
        "symbol": "ETHUSDT", "productType": PT, "marginCoin": "USDT", "holdSide": "short", "amount": "10"}))
    ok(world, wire.post(hedger, "/api/v2/mix/account/set-margin", {
        "symbol": "ETHUSDT", "productType": PT, "marginCoin": "USDT", "holdSide": "short", "amount": "-4"}))
    set_mark(world, "3400", symbol="ETHUSDT")  # past the short's liquidation price
    rows = bills(world, wire, hedger)
    assert all(list(r) == BILL_KEYS for r in rows)
    assert [(r["symbol"], r["businessType"], r["amount"], r["fee"]) for r in rows] == [
        ("ETHUSDT", "burst_short_loss_query", "-70", "0"),
        ("ETHUSDT", "reduce_margin", "4", "0"),
        ("ETHUSDT", "append_margin", "-10", "0"),
        ("ETHUSDT", "open_short", "0", "-1.92"),
        ("BTCUSDT", "close_long", "10", "-0.576"),
        ("BTCUSDT", "open_long", "0", "-1.14"),
    ]
    # each bill's balance is the available balance after it
    assert rows[0]["balance"] == format(world.engine.balance(hedger.uid, "USDT", account=USDT_M).available
                                        .normalize(), "f")
    ids = [int(r["billId"]) for r in rows]
    assert ids == sorted(ids, reverse=True)
    for business, count in (("open_long", 1), ("close_long", 1), ("burst_short_loss_query", 1),
                            ("append_margin", 1), ("reduce_margin", 1), ("close_short", 0)):
        assert len(bills(world, wire, hedger, businessType=business)) == count, business
    assert [r["businessType"] for r in bills(world, wire, hedger, symbol="BTCUSDT")] == ["close_long", "open_long"]
    page = bills(world, wire, hedger, limit="2")
    assert len(page) == 2
    error(world, wire.get(hedger, BILL, {"productType": PT, "limit": "0"}), "40053",
          "Value range verification failed: limit should be between (0, 100]")


def test_ccxt_fetch_ledger_on_swap(world, hedger):
    exchange = connect(world, hedger)
    exchange.create_order(SWAP, "market", "buy", 0.01, None, {"hedged": True})
    world.engine.set_mark("bitget", USDT_M, "BTCUSDT", D("96000"))
    exchange.create_order(SWAP, "market", "sell", 0.01, None, {"hedged": True, "reduceOnly": True})
    ledger = exchange.fetch_ledger("USDT", None, None, {"type": "swap", "symbol": SWAP})
    assert sorted((e["info"]["businessType"], e["type"], e["direction"], e["currency"]) for e in ledger) == [
        ("close_long", "trade", "in", "USDT"), ("open_long", "trade", "in", "USDT")]
    by_type = {e["info"]["businessType"]: e for e in ledger}
    assert D(repr(by_type["close_long"]["amount"])) == D("10")
    assert D(repr(by_type["close_long"]["fee"]["cost"])) == D("0.576")
    assert D(repr(by_type["open_long"]["fee"]["cost"])) == D("0.57")


# ---- crossed liquidation -------------------------------------------------------------------------

def test_a_crossed_account_is_liquidated_at_its_maintenance_margin_and_money_is_conserved(world, wire, hedger):
    """Two crossed positions on two contracts share one account: the account is liquidated when
    its equity (balance, margins, unrealized PnL of both) falls to their maintenance margin, at
    the price of the contract whose move takes it there; both positions close, the liquidation
    orders and bills are on the wire, and money is conserved to the last digit."""
    e = world.engine
    small = futures_trader_funds(world, "thin", "300")
    uid = small.uid
    for symbol in ("BTCUSDT", "ETHUSDT"):
        e.set_leverage(uid, "bitget", USDT_M, symbol, 50)
    place(world, wire, small, side="buy", trade_side="open", size="0.05")  # long 0.05 BTC at 95000
    place(world, wire, small, symbol="ETHUSDT", side="sell", trade_side="open", size="0.5")  # short ETH at 3200
    funded = D("300") + D("10000")  # thin's futures USDT and the hedger's (also a user here)
    # the health figures the wire also shows: equity above maintenance now
    equity, maintenance = e.crossed_health(uid, USDT_M, "BTCUSDT")
    assert equity > maintenance > 0
    liq = e.crossed_liquidation_price(uid, USDT_M, "BTCUSDT")
    # the loss that takes 296.19 of equity down to the maintenance margin, on 0.05 BTC: ~89562
    assert liq is not None and liq[1] is False and D("89000") < liq[0] < D("90000")
    # a fall short of it liquidates nothing
    set_mark(world, str(liq[0] + 50))
    assert len(e.positions(uid)) == 2
    # a jump past it: liquidated at the level, on the way down
    set_mark(world, "88000")
    assert e.positions(uid) == []
    liquidations = [o for o in e.futures_orders(uid) if o.source == "liquidation"]
    assert sorted((o.symbol, o.avg_price) for o in liquidations) == [("BTCUSDT", liq[0]), ("ETHUSDT", D("3200"))]
    # what was left of the equity went as the liquidation's fee: the account is empty
    assert e.balance(uid, "USDT", account=USDT_M).total == 0
    balances = sum(e.balance(u.uid, "USDT", account=USDT_M).total for u in e.list_users())
    margin = e.position_margin().get(USDT_M, D(0))
    assert balances + margin + e.house_balance("bitget", "USDT") == funded
    # visible through the API: the orders (orderSource liquidation) and the bills
    history = ok(world, wire.get(small, "/api/v2/mix/order/orders-history", {"productType": PT}))
    rows = [r for r in history["entrustedList"] if r["orderSource"] == "liquidation"]
    assert sorted((r["symbol"], r["tradeSide"], r["enterPointSource"]) for r in rows) == [
        ("BTCUSDT", "burst_close_long", "sys"), ("ETHUSDT", "burst_close_short", "sys")]
    kinds = [r["businessType"] for r in bills(world, wire, small)]
    assert sorted(kinds[:2]) == ["burst_long_loss_query", "burst_short_loss_query"]


def futures_trader_funds(world, name, usdt):
    from test_bitget_mix_wire import futures_trader

    return futures_trader(world, name, usdt=usdt, hedge=True)
