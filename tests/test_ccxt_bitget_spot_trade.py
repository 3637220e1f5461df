"""ccxt's unified spot methods beyond one order at a time, against localex over HTTP and
in-process, ccxt unchanged but for its URLs: create_orders, cancel_orders, cancel_all_orders
(and, further down, trigger orders, edits, the ledger and transfers)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import ccxt
import pytest
from test_ccxt_bitget import BTC, ETH, Recorder, connect, d

from localex.engine import Engine
from localex.engine.model import Permission
from localex.testing import mock_exchanges

D = Decimal


@dataclass
class Bot:
    exchange: ccxt.bitget
    engine: Engine
    uid: str

    def mark(self, price: str, symbol: str = "BTCUSDT") -> None:
        self.engine.set_mark("bitget", "spot", symbol, D(price))

    def order(self, order_id: str):
        return self.engine.spot_order(self.uid, int(order_id))


FUNDS = {"USDT": "10000", "BTC": "1"}
# the key trades and may move funds between the user's accounts
PERMISSIONS = [Permission.READ, Permission.SPOT_TRADE, Permission.FUTURES_TRADE, Permission.TRANSFER]


@pytest.fixture(params=["server", "in-process"])
def bot(request, world):
    if request.param == "server":
        trader = world.trader("alice", funds=FUNDS, permissions=PERMISSIONS)
        exchange = connect(world, trader)
        exchange.fetch_balance()  # ccxt's one probe of the account mode goes first
        yield Bot(exchange, world.engine, trader.uid)
        return
    connect(world)  # the demo market as ccxt loads it, loaded once
    from test_ccxt_bitget import _DEMO_MARKETS

    with mock_exchanges(clock="manual") as emu:
        creds = emu.create_user(funds=FUNDS, permissions=PERMISSIONS)
        exchange = ccxt.bitget(creds.ccxt)
        markets, currencies = _DEMO_MARKETS[0]
        exchange.set_markets(list(markets.values()), currencies)
        exchange.fetch_balance()
        yield Bot(exchange, emu.engine, creds.uid)


# ---- batches -----------------------------------------------------------------------------------

def test_create_orders_one_batch_with_a_refusal_in_it(bot):
    recorder = Recorder(bot.exchange)
    orders = bot.exchange.create_orders([
        {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.01, "price": 90000,
         "params": {"clientOrderId": "b1"}},
        {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.00001, "price": 90000,
         "params": {"clientOrderId": "b2"}},
        {"symbol": BTC, "type": "limit", "side": "sell", "amount": 0.02, "price": 99000},
    ])
    assert recorder.paths() == ["/api/v2/spot/trade/batch-orders"]
    # the venue answers the refused entry in failureList (45110, see the wire tests); ccxt parses
    # it as a rejected order without a symbol, which its own symbol filter then drops
    assert [o["clientOrderId"] for o in orders[:1]] == ["b1"] and len(orders) == 2
    assert bot.engine.spot_order(bot.uid, client_oid="b2") is None
    placed = [bot.order(o["id"]) for o in orders[:2]]
    assert [(o.side.value, o.price, o.size, o.status.value) for o in placed] == [
        ("buy", D("90000"), D("0.01"), "live"), ("sell", D("99000"), D("0.02"), "live")]
    open_ids = {o["id"] for o in bot.exchange.fetch_open_orders(BTC)}
    assert open_ids == {orders[0]["id"], orders[1]["id"]}


def test_create_orders_refuses_mixed_symbols_before_sending(bot):
    recorder = Recorder(bot.exchange)
    with pytest.raises(ccxt.BadRequest):
        bot.exchange.create_orders([
            {"symbol": BTC, "type": "limit", "side": "buy", "amount": 0.01, "price": 90000},
            {"symbol": ETH, "type": "limit", "side": "buy", "amount": 0.1, "price": 3000}])
    assert recorder.calls == []


def test_cancel_orders_reports_what_it_cancelled(bot):
    a = bot.exchange.create_order(BTC, "limit", "buy", 0.01, 90000)
    b = bot.exchange.create_order(BTC, "limit", "buy", 0.01, 89000)
    c = bot.exchange.create_order(BTC, "limit", "buy", 0.01, 88000)
    recorder = Recorder(bot.exchange)
    cancelled = bot.exchange.cancel_orders([a["id"], b["id"], "1767225600000000001"], BTC)
    assert recorder.paths() == ["/api/v2/spot/trade/batch-cancel-order"]
    assert [o["id"] for o in cancelled] == [a["id"], b["id"]]  # ccxt reads successList only
    assert [bot.order(x["id"]).status.value for x in (a, b, c)] == ["cancelled", "cancelled", "live"]
    assert [o["id"] for o in bot.exchange.fetch_open_orders(BTC)] == [c["id"]]
    usdt = bot.exchange.fetch_balance()["USDT"]
    assert (d(usdt["free"]), d(usdt["used"])) == (D("9120"), D("880"))


def test_cancel_all_orders_of_a_symbol(bot):
    ids = [bot.exchange.create_order(BTC, "limit", "buy", 0.01, p)["id"] for p in (90000, 89000)]
    bot.exchange.create_order(ETH, "limit", "buy", 0.1, 3000)
    recorder = Recorder(bot.exchange)
    answer = bot.exchange.cancel_all_orders(BTC)
    assert recorder.paths() == ["/api/v2/spot/trade/cancel-symbol-order"]
    assert answer[0]["symbol"] == BTC and answer[0]["info"]["data"] == {"symbol": "BTCUSDT"}
    assert bot.exchange.fetch_open_orders(BTC) == []
    assert [bot.order(i).cancel_reason.value for i in ids] == ["user", "user"]
    assert len(bot.exchange.fetch_open_orders(ETH)) == 1


@pytest.mark.parametrize("call", [
    lambda x: x.create_stop_loss_order(BTC, "market", "sell", 0.01, None, 90000),
    lambda x: x.create_take_profit_order(BTC, "market", "sell", 0.01, None, 99000),
    lambda x: x.create_order(BTC, "market", "sell", 0.01, None, {"stopLossPrice": 90000}),
    lambda x: x.create_order(BTC, "market", "sell", 0.01, None, {"takeProfitPrice": 99000}),
])
def test_ccxt_itself_refuses_spot_stop_loss_and_take_profit_orders(bot, call):
    """On spot, ccxt's unified stop-loss / take-profit orders never reach the venue: ccxt raises
    before sending (Bitget's spot TP/SL are its presets and tpslType=tpsl, which ccxt passes
    through params; see test_create_order_with_preset_tpsl_as_ccxt_passes_them)."""
    recorder = Recorder(bot.exchange)
    with pytest.raises(ccxt.InvalidOrder, match="does not support stop loss/take profit orders on spot"):
        call(bot.exchange)
    assert recorder.calls == [] and bot.engine.spot_orders(bot.uid) == []


# ---- trigger orders ----------------------------------------------------------------------------

def test_create_trigger_order_fetch_edit_and_cancel(bot):
    recorder = Recorder(bot.exchange)
    stop = bot.exchange.create_trigger_order(BTC, "limit", "buy", 0.01, 96100, 96000)
    assert recorder.paths() == ["/api/v2/spot/trade/place-plan-order"]
    plan = bot.engine.spot_plan(bot.uid, int(stop["id"]))
    assert (plan.trigger_price, plan.execute_price, plan.size, plan.trigger_type) == (
        D("96000"), D("96100"), D("0.01"), "mark_price")
    listed = bot.exchange.fetch_open_orders(BTC, params={"trigger": True})
    assert [(o["id"], o["status"], d(o["triggerPrice"]), d(o["price"]), d(o["amount"])) for o in listed] == [
        (stop["id"], "open", D("96000"), D("96100"), D("0.01"))]
    assert bot.exchange.fetch_open_orders(BTC) == []  # not in the book until it fires

    bot.exchange.edit_order(stop["id"], BTC, "limit", "buy", 0.02, 96600, {"triggerPrice": 96500})
    assert recorder.paths()[-1] == "/api/v2/spot/trade/modify-plan-order"
    plan = bot.engine.spot_plan(bot.uid, int(stop["id"]))
    assert (plan.trigger_price, plan.execute_price, plan.size) == (D("96500"), D("96600"), D("0.02"))

    bot.exchange.cancel_order(stop["id"], BTC, {"trigger": True})
    assert recorder.paths()[-1] == "/api/v2/spot/trade/cancel-plan-order"
    assert bot.exchange.fetch_open_orders(BTC, params={"trigger": True}) == []
    assert bot.engine.spot_plan(bot.uid, int(stop["id"])).status.value == "cancelled"


def test_a_market_trigger_fires_when_the_price_crosses_it(bot):
    stop = bot.exchange.create_trigger_order(BTC, "market", "sell", 0.01, None, 94000)
    bot.mark("93500")
    plan = bot.engine.spot_plan(bot.uid, int(stop["id"]))
    assert plan.status.value == "executed"
    order = bot.exchange.fetch_order(str(plan.sub_order_id), BTC)
    assert (order["status"], order["side"], d(order["average"]), d(order["filled"])) == (
        "closed", "sell", D("94000"), D("0.01"))


def test_cancel_all_trigger_orders_of_a_symbol(bot):
    for trigger in (96000, 97000):
        bot.exchange.create_trigger_order(BTC, "limit", "buy", 0.01, trigger, trigger)
    recorder = Recorder(bot.exchange)
    bot.exchange.cancel_all_orders(BTC, {"trigger": True})
    assert recorder.paths() == ["/api/v2/spot/trade/batch-cancel-plan-order"]
    assert bot.exchange.fetch_open_orders(BTC, params={"trigger": True}) == []


# ---- edits and presets ---------------------------------------------------------------------------

def test_edit_order_cancels_and_replaces(bot):
    order = bot.exchange.create_order(BTC, "limit", "buy", 0.01, 90000)
    recorder = Recorder(bot.exchange)
    edited = bot.exchange.edit_order(order["id"], BTC, "limit", "buy", 0.02, 91000)
    assert recorder.paths() == ["/api/v2/spot/trade/cancel-replace-order"]
    assert edited["id"] != order["id"]
    assert bot.order(order["id"]).status.value == "cancelled"
    open_orders = bot.exchange.fetch_open_orders(BTC)
    assert [(o["id"], d(o["price"]), d(o["amount"])) for o in open_orders] == [(edited["id"], D("91000"), D("0.02"))]


def test_create_order_with_preset_tpsl_as_ccxt_passes_them(bot):
    """ccxt refuses its own stopLossPrice / takeProfitPrice / stopLoss / takeProfit on spot
    (before sending anything); Bitget's preset parameters pass through its params unchanged."""
    with pytest.raises(ccxt.InvalidOrder):
        bot.exchange.create_order(BTC, "limit", "buy", 0.01, 94000, {"stopLoss": {"triggerPrice": 90000}})
    order = bot.exchange.create_order(BTC, "limit", "buy", 0.01, 94000, {
        "presetTakeProfitPrice": "99000", "presetStopLossPrice": "90000"})
    placed = bot.order(order["id"])
    assert (placed.tp_price, placed.sl_price, placed.tp_execute, placed.sl_execute) == (
        D("99000"), D("90000"), None, None)
    bot.mark("93000")  # fills; the presets become a take-profit and a stop-loss for 0.00999 BTC
    bot.mark("89000")  # the stop fires (a market sell at 90000), the take-profit is cancelled
    sells = [o for o in bot.exchange.fetch_closed_orders(BTC) if o["side"] == "sell"]
    assert [(d(o["filled"]), d(o["average"])) for o in sells] == [(D("0.00999"), D("90000"))]
    assert {p.kind.value: p.status.value for p in bot.engine.spot_plans(bot.uid)} == {
        "tp": "cancelled", "sl": "executed"}


# ---- transfers and the ledger --------------------------------------------------------------------

def test_transfer_fetch_transfers_and_fetch_ledger(bot):
    recorder = Recorder(bot.exchange)
    moved = bot.exchange.transfer("USDT", 250, "spot", "swap")
    assert recorder.paths() == ["/api/v2/spot/wallet/transfer"]
    assert moved["id"] and moved["currency"] == "USDT"
    assert bot.engine.balance(bot.uid, "USDT", "usdt-futures").available == D("250")
    bot.exchange.transfer("USDT", 50, "swap", "spot")

    records = bot.exchange.fetch_transfers("USDT")
    assert recorder.paths()[-1].startswith("/api/v2/spot/account/transferRecords?")
    assert [(r["id"], d(r["amount"]), r["fromAccount"], r["toAccount"], r["status"]) for r in records] == [
        (moved["id"], D("250"), "spot", "swap", "ok")]

    ledger = bot.exchange.fetch_ledger("USDT")
    assert recorder.paths()[-1].startswith("/api/v2/spot/account/bills?")
    assert [(e["type"], e["direction"], d(e["amount"]), d(e["before"]), d(e["after"])) for e in
            sorted(ledger, key=lambda e: e["id"])] == [
        ("transfer", "out", D("250"), D("10000"), D("9750")), ("transfer", "in", D("50"), D("9750"), D("9800"))]

    swap = bot.exchange.fetch_ledger("USDT", params={"type": "swap"})
    assert recorder.paths()[-1].startswith("/api/v2/mix/account/bill?")
    assert sorted((e["type"], e["direction"], d(e["amount"])) for e in swap) == [
        ("transfer", "in", D("250")), ("transfer", "out", D("50"))]


def test_a_transfer_beyond_the_balance_is_refused(bot):
    with pytest.raises(ccxt.InsufficientFunds):
        bot.exchange.transfer("USDT", 20000, "spot", "swap")
    assert bot.engine.transfers(bot.uid) == []


def test_fetch_ledger_shows_trades_and_fees(bot):
    bot.exchange.create_order(BTC, "market", "sell", 0.01)
    entries = sorted(bot.exchange.fetch_ledger("USDT"), key=lambda e: e["id"])
    assert [(e["type"], e["direction"], d(e["amount"]), d(e["after"])) for e in entries] == [
        ("trade", "in", D("950"), D("10950")),
        ("deduction_of_handling_fee", "out", D("0.95"), D("10949.05"))]
    btc = bot.exchange.fetch_ledger("BTC")
    assert [(e["type"], d(e["amount"]), d(e["before"]), d(e["after"])) for e in btc] == [
        ("trade", D("0.01"), D("1"), D("0.99"))]


def test_fetch_closed_and_canceled_trigger_orders_on_the_system_clock():
    """ccxt asks history-plan-order for the last 90 days of its own (wall) clock: in-process on
    the system clock, the two agree."""
    with mock_exchanges() as emu:
        creds = emu.create_user(funds=FUNDS)
        exchange = ccxt.bitget(creds.ccxt)
        exchange.load_markets()
        fired = exchange.create_trigger_order(BTC, "market", "sell", 0.01, None, 94000)
        dropped = exchange.create_trigger_order(BTC, "limit", "buy", 0.01, 96100, 96000)
        exchange.cancel_order(dropped["id"], BTC, {"trigger": True})
        emu.set_price("BTCUSDT", 93000)
        closed = exchange.fetch_closed_orders(BTC, params={"trigger": True})
        assert [(o["id"], o["status"]) for o in closed] == [(fired["id"], "closed")]
        canceled = exchange.fetch_canceled_orders(BTC, params={"trigger": True})
        assert [(o["id"], o["status"]) for o in canceled] == [(dropped["id"], "canceled")]
