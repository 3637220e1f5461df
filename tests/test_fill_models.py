"""Fill models (immediate, latency, liquidity, manual) on spot and futures: the engine's exact
fills, prices, fees and balances; latency orders arriving as market time passes; liquidity
slippage and partial fills across price moves; manual fills and rejections through the control
plane; instrument scope over venue scope; snapshots; and the venues' read-backs of the
intermediate states (Bitget partially_filled, CoinW part)."""

from __future__ import annotations

import json
import time
from decimal import Decimal as D

import httpx
import pytest
from coinw_support import Api, make_user, no_limits  # noqa: F401  (no_limits is a fixture)
from wire_signing import signed_headers

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.errors import InvalidOrder, OrderNotCancellable, UnknownInstrument
from localex.engine.model import (
    CancelReason,
    FuturesStatus,
    Liquidity,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    TimeInForce,
    TradeSide,
)
from localex.store import open_store
from stores import new_store

# every test here runs on each store (SQLite, and PostgreSQL when a server is named)
pytestmark = pytest.mark.usefixtures("store_backend")

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET
GTC, IOC, FOK = TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK
USDT_M = "usdt-futures"
SPOT_BTC = "bitget:spot:BTCUSDT"
PERP_BTC = "bitget:usdt-futures:BTCUSDT"

_ENGINE = Engine(open_store(":memory:"), clock=ManualClock(), seed=5)


@pytest.fixture
def eng(store_backend) -> Engine:
    engine = _ENGINE if store_backend == "sqlite" else Engine(new_store(), clock=ManualClock(), seed=5)
    engine.reset(seed=5)
    install_market(engine)  # BTCUSDT spot 95000 (fees 0.001), perpetual 95000 (0.0002 / 0.0006)
    return engine


def spot_user(eng, name="alice", usdt="100000", btc="1") -> str:
    uid = eng.create_user("bitget", name=name).uid
    eng.fund(uid, "USDT", D(usdt))
    eng.fund(uid, "BTC", D(btc))
    return uid


def futures_user(eng, name="bob", usdt="10000") -> str:
    uid = eng.create_user("bitget", name=name).uid
    eng.fund(uid, "USDT", D(usdt), account=USDT_M)
    return uid


def spot(eng, uid, side, order_type, size, price=None, force=GTC):
    return eng.place_spot_order(uid, "BTCUSDT", side, order_type, D(size),
                                   D(price) if price is not None else None, force)


def perp(eng, uid, size, order_type=MARKET, price=None, side=PositionSide.LONG, force=GTC):
    return eng.place_futures_order(uid, USDT_M, "BTCUSDT", pos_side=side, trade_side=TradeSide.OPEN,
                                      order_type=order_type, size=D(size),
                                      price=D(price) if price is not None else None, force=force)


def bal(eng, uid, asset, account="spot") -> tuple[D, D]:
    b = eng.balance(uid, asset, account)
    return b.available, b.frozen


def spot_mark(eng, price):
    return eng.set_mark("bitget", "spot", "BTCUSDT", D(price))


def perp_mark(eng, price):
    eng.set_mark("bitget", USDT_M, "BTCUSDT", D(price))


def spot_fills(eng, uid, order_id):
    return [(f.price, f.size, f.fee, f.liquidity)
            for f in sorted(eng.spot_fills(uid, order_id=order_id), key=lambda f: f.trade_id)]


def perp_fills(eng, uid, order_id):
    return [(f.price, f.size, f.fee, f.liquidity)
            for f in sorted(eng.futures_fills(uid, order_id=order_id), key=lambda f: f.trade_id)]


# ---- models and scopes ---------------------------------------------------------------------------

def test_immediate_is_the_default(eng):
    alice = spot_user(eng)
    assert eng.list_fill_models() == []
    assert eng.fill_model_for("bitget", "spot", "BTCUSDT").kind == "immediate"
    order = spot(eng, alice, BUY, MARKET, "950")
    assert (order.status, order.filled_size, order.due_ms) == (OrderStatus.FILLED, D("0.01"), None)


def test_models_are_checked_and_normalised(eng):
    model = eng.set_fill_model("bitget:spot:btcusdt", "liquidity", {"size": "0.010", "step": 10})
    assert (model.scope, model.kind, model.params) == (SPOT_BTC, "liquidity",
                                                       {"size": "0.010", "step": "10", "levels": 10})
    assert eng.set_fill_model("coinw", "latency", {"ms": 0}).params == {"ms": 0}
    for kind, params in [("sometimes", {}), ("latency", {}), ("latency", {"ms": -1}),
                         ("latency", {"ms": 1.5}), ("liquidity", {"step": "1"}),
                         ("liquidity", {"size": "0"}), ("liquidity", {"size": "1", "levels": 0}),
                         ("manual", {"ms": 5})]:
        with pytest.raises(ValueError):
            eng.set_fill_model("bitget", kind, params)
    for scope in ["", "bitget:spot", "nowhere", "bitget::BTCUSDT"]:
        with pytest.raises(ValueError):
            eng.set_fill_model(scope, "manual")
    with pytest.raises(UnknownInstrument):
        eng.set_fill_model("bitget:spot:NOPEUSDT", "manual")
    assert [m.scope for m in eng.list_fill_models()] == [SPOT_BTC, "coinw"]
    assert eng.delete_fill_model("coinw") == 1 and eng.delete_fill_model("coinw") == 0
    assert eng.delete_fill_model() == 1 and eng.list_fill_models() == []


def test_the_instrument_scope_wins_over_the_venue_scope(eng):
    alice, bob = spot_user(eng), futures_user(eng)
    eng.set_fill_model("bitget", "manual")
    eng.set_fill_model(SPOT_BTC, "immediate")
    assert eng.fill_model_for("bitget", "spot", "BTCUSDT").scope == SPOT_BTC
    assert eng.fill_model_for("bitget", "spot", "ETHUSDT").scope == "bitget"
    assert eng.fill_model_for("coinw", "futures", "BTC").kind == "immediate"
    assert spot(eng, alice, BUY, MARKET, "950").status is OrderStatus.FILLED
    eth = eng.place_spot_order(alice, "ETHUSDT", BUY, MARKET, D("320"))
    assert (eth.status, eth.filled_size) == (OrderStatus.LIVE, D("0"))
    assert perp(eng, bob, "0.01").status is FuturesStatus.LIVE  # the venue's model: manual
    eng.set_fill_model(PERP_BTC, "liquidity", {"size": "1"})
    assert perp(eng, bob, "0.01").status is FuturesStatus.FILLED
    eng.delete_fill_model(SPOT_BTC)
    assert spot(eng, alice, BUY, MARKET, "950").status is OrderStatus.LIVE


# ---- latency -------------------------------------------------------------------------------------

def test_spot_latency_market_order_arrives_at_the_mark_of_its_due_time(eng):
    alice = spot_user(eng)
    eng.set_fill_model("bitget", "latency", {"ms": 250})
    t0 = eng.now_ms()
    order = spot(eng, alice, BUY, MARKET, "950")
    assert (order.status, order.due_ms, order.filled_size) == (OrderStatus.LIVE, t0 + 250, D("0"))
    assert bal(eng, alice, "USDT") == (D("99050"), D("950"))
    eng.advance_clock(100)
    spot_mark(eng, "94000")  # before the order reaches the book: nothing happens to it
    assert eng.spot_order(alice, order.order_id).status is OrderStatus.LIVE
    eng.advance_clock(100)
    assert eng.spot_order(alice, order.order_id).status is OrderStatus.LIVE
    eng.advance_clock(100)
    done = eng.spot_order(alice, order.order_id)
    # 950 / 94000 = 0.01010638.. -> 0.010106 BTC for 949.964 USDT; the 0.036 left is released
    assert (done.status, done.filled_size, done.filled_quote, done.due_ms) == (
        OrderStatus.FILLED, D("0.010106"), D("949.964"), None)
    [fill] = eng.spot_fills(alice, order_id=order.order_id)
    assert (fill.price, fill.fee, fill.fee_asset, fill.liquidity, fill.created_ms) == (
        D("94000"), D("0.000010106"), "BTC", Liquidity.TAKER, t0 + 250)
    assert bal(eng, alice, "USDT") == (D("99050.036"), D("0"))
    assert bal(eng, alice, "BTC") == (D("1.010095894"), D("0"))


def test_spot_latency_limit_order_that_is_no_longer_marketable_rests_or_cancels(eng):
    alice = spot_user(eng)
    eng.set_fill_model(SPOT_BTC, "latency", {"ms": 100})
    gtc = spot(eng, alice, BUY, LIMIT, "0.01", "95000")
    ioc = spot(eng, alice, BUY, LIMIT, "0.01", "95000", IOC)
    resting = spot(eng, alice, BUY, LIMIT, "0.01", "94000")  # not marketable: rests at once
    assert (gtc.due_ms is not None, ioc.due_ms is not None, resting.due_ms) == (True, True, None)
    assert bal(eng, alice, "USDT") == (D("100000") - D("2840"), D("2840"))
    spot_mark(eng, "96000")
    eng.advance_clock(100)
    gtc, ioc = eng.spot_order(alice, gtc.order_id), eng.spot_order(alice, ioc.order_id)
    assert (gtc.status, gtc.due_ms, ioc.status, ioc.cancel_reason) == (
        OrderStatus.LIVE, None, OrderStatus.CANCELLED, CancelReason.IOC)
    assert bal(eng, alice, "USDT") == (D("100000") - D("1890"), D("1890"))
    fills = spot_mark(eng, "94500")  # the arrived order now rests and fills as maker
    assert [(f.order_id, f.price, f.liquidity) for f in fills] == [(gtc.order_id, D("95000"), Liquidity.MAKER)]


def test_spot_latency_order_can_be_cancelled_on_its_way(eng):
    alice = spot_user(eng)
    eng.set_fill_model("bitget", "latency", {"ms": 500})
    order = spot(eng, alice, SELL, MARKET, "0.02")
    assert bal(eng, alice, "BTC") == (D("0.98"), D("0.02"))
    eng.cancel_spot_order(alice, order_id=order.order_id)
    assert bal(eng, alice, "BTC") == (D("1"), D("0"))
    eng.advance_clock(1000)
    after = eng.spot_order(alice, order.order_id)
    assert (after.status, after.filled_size, eng.spot_fills(alice)) == (OrderStatus.CANCELLED, D("0"), [])


def test_a_price_set_after_the_due_time_lets_the_order_arrive_first(eng):
    alice = spot_user(eng)
    eng.set_fill_model("bitget", "latency", {"ms": 200})
    order = spot(eng, alice, SELL, MARKET, "0.01")
    eng.set_clock(eng.now_ms() + 1000)  # jumps: nothing walked, the order still waits
    assert eng.spot_order(alice, order.order_id).status is OrderStatus.LIVE
    spot_mark(eng, "90000")
    done = eng.spot_order(alice, order.order_id)
    assert (done.status, done.filled_quote) == (OrderStatus.FILLED, D("950"))  # at the price before


def test_futures_latency_market_order_arrives_at_the_new_mark(eng):
    bob = futures_user(eng)
    eng.set_fill_model("bitget", "latency", {"ms": 250})
    t0 = eng.now_ms()
    order = perp(eng, bob, "0.01")
    assert (order.status, order.due_ms, order.frozen) == (FuturesStatus.LIVE, t0 + 250, D("48.07"))
    assert bal(eng, bob, "USDT", USDT_M) == (D("9951.93"), D("48.07"))
    eng.advance_clock(100)
    perp_mark(eng, "96000")
    assert eng.positions(bob) == []
    eng.advance_clock(150)
    done = eng.futures_order(bob, order.order_id)
    assert (done.status, done.filled_size, done.avg_price, done.fee, done.frozen, done.due_ms) == (
        FuturesStatus.FILLED, D("0.01"), D("96000"), D("0.576"), D("0"), None)
    [pos] = eng.positions(bob)
    assert (pos.size, pos.entry_price, pos.margin, pos.opened_ms) == (D("0.01"), D("96000"), D("48"), t0 + 250)
    assert bal(eng, bob, "USDT", USDT_M) == (D("9951.424"), D("0"))


def test_futures_latency_order_is_not_in_the_book_until_it_arrives(eng):
    bob = futures_user(eng)
    eng.set_fill_model(PERP_BTC, "latency", {"ms": 300})
    order = perp(eng, bob, "0.01", LIMIT, "95500")  # marketable: on its way
    eng.advance_clock(100)
    perp_mark(eng, "95400")  # would fill a resting buy at 95500 as maker; this one is not resting
    assert eng.futures_order(bob, order.order_id).status is FuturesStatus.LIVE
    eng.advance_clock(200)
    assert perp_fills(eng, bob, order.order_id) == [(D("95400"), D("0.01"), D("0.57240"), Liquidity.TAKER)]


def test_a_latency_order_that_cannot_pay_on_arrival_is_cancelled(eng):
    bob = futures_user(eng, usdt="48.07")  # exactly the margin and fee at 95000
    eng.set_fill_model("bitget", "latency", {"ms": 100})
    order = perp(eng, bob, "0.01")
    perp_mark(eng, "99000")
    eng.advance_clock(100)
    after = eng.futures_order(bob, order.order_id)
    assert (after.status, after.filled_size, eng.positions(bob)) == (FuturesStatus.CANCELLED, D("0"), [])
    assert bal(eng, bob, "USDT", USDT_M) == (D("48.07"), D("0"))


def test_a_latency_close_whose_position_closed_meanwhile_is_cancelled(eng):
    bob = futures_user(eng)
    perp(eng, bob, "0.01")
    [pos] = eng.positions(bob)
    eng.set_fill_model(PERP_BTC, "latency", {"ms": 100})
    close = eng.close_position(bob, pos.position_id)
    assert (close.status, close.due_ms is not None) == (FuturesStatus.LIVE, True)
    eng.close_positions(bob, USDT_M)  # the engine's own market close: at once
    eng.advance_clock(100)
    after = eng.futures_order(bob, close.order_id)
    assert (after.status, after.filled_size, eng.futures_fills(bob, order_id=close.order_id)) == (
        FuturesStatus.CANCELLED, D("0"), [])


def test_latency_orders_arrive_in_due_order_along_a_price_path(eng):
    from localex.engine.pricepaths import CandleReplay, read_candles

    alice = spot_user(eng)
    eng.set_fill_model("bitget", "latency", {"ms": 30_000})
    t0 = eng.now_ms()
    inst = eng.instrument("bitget", "spot", "BTCUSDT")
    # one rising candle a minute from now: open, low, high, close a quarter apart
    eng.simulation.set_path(inst, CandleReplay(read_candles(
        [f"{t0 + 60_000},95000,96000,94000,95500,1"]), origin_ms=t0 + 60_000))
    first = spot(eng, alice, BUY, MARKET, "950")  # due at +30 s, before the candle
    eng.advance_clock(50_000)
    second = spot(eng, alice, BUY, MARKET, "950")  # due at +80 s: after the low (+75 s)
    eng.advance_clock(60_000)
    a, b = eng.spot_order(alice, first.order_id), eng.spot_order(alice, second.order_id)
    assert (a.avg_price, a.updated_ms) == (D("95000"), t0 + 30_000)
    assert (b.avg_price, b.updated_ms) == (D("94000"), t0 + 80_000)


# ---- liquidity -----------------------------------------------------------------------------------

LADDER = {"size": "0.01", "step": "10", "levels": 3}


def test_spot_liquidity_market_buy_walks_the_levels_and_the_rest_is_cancelled(eng):
    alice = spot_user(eng)
    eng.set_fill_model(SPOT_BTC, "liquidity", LADDER)
    order = spot(eng, alice, BUY, MARKET, "5000")
    assert spot_fills(eng, alice, order.order_id) == [
        (D("95000"), D("0.01"), D("0.00001"), Liquidity.TAKER),
        (D("95010"), D("0.01"), D("0.00001"), Liquidity.TAKER),
        (D("95020"), D("0.01"), D("0.00001"), Liquidity.TAKER)]
    order = eng.spot_order(alice, order.order_id)
    assert (order.status, order.cancel_reason, order.filled_size, order.filled_quote, order.frozen_amount) == (
        OrderStatus.CANCELLED, CancelReason.IOC, D("0.03"), D("2850.3"), D("0"))
    assert bal(eng, alice, "USDT") == (D("97149.7"), D("0"))
    assert bal(eng, alice, "BTC") == (D("1.02997"), D("0"))


def test_spot_liquidity_market_buy_that_runs_out_of_money_is_filled(eng):
    alice = spot_user(eng)
    eng.set_fill_model(SPOT_BTC, "liquidity", LADDER)
    order = spot(eng, alice, BUY, MARKET, "1500")
    # 950 at 95000, then 550 buys 0.005788 at 95010 (549.91788); 0.08212 is released
    assert [(p, s) for p, s, _, _ in spot_fills(eng, alice, order.order_id)] == [
        (D("95000"), D("0.01")), (D("95010"), D("0.005788"))]
    order = eng.spot_order(alice, order.order_id)
    assert (order.status, order.filled_size, order.filled_quote) == (
        OrderStatus.FILLED, D("0.015788"), D("1499.91788"))
    assert bal(eng, alice, "USDT") == (D("98500.08212"), D("0"))


def test_spot_liquidity_market_buy_that_spends_to_the_last_level_is_filled(eng):
    alice = spot_user(eng)
    eng.set_fill_model(SPOT_BTC, "liquidity", LADDER)
    order = spot(eng, alice, BUY, MARKET, "2850.3")
    order = eng.spot_order(alice, order.order_id)
    assert (order.status, order.filled_size, order.filled_quote) == (OrderStatus.FILLED, D("0.03"), D("2850.3"))


def test_the_emulator_sets_models_and_fills_by_hand(eng):
    from localex.testing import Emulator

    emu = Emulator(engine=eng, demo_market=False)
    alice = spot_user(eng)
    emu.set_fill_model("bitget", "liquidity", size=D("0.01"), step=10, levels=2)
    sold = spot(eng, alice, SELL, MARKET, "0.03")
    assert eng.spot_order(alice, sold.order_id).filled_size == D("0.02")
    emu.set_fill_model(SPOT_BTC, "manual")
    order = spot(eng, alice, BUY, LIMIT, "0.02", "94000")
    assert emu.fill_order(alice, str(order.order_id), "0.01").price == D("94000")
    assert emu.reject_order(alice, order.order_id).status is OrderStatus.CANCELLED
    bob = futures_user(eng)
    placed = perp(eng, bob, "0.01")
    assert placed.status is FuturesStatus.FILLED  # the venue's model (liquidity), 0.01 at the mark
    resting = perp(eng, bob, "0.01", LIMIT, "90000")
    order, fills = emu.fill_order(bob, resting.order_id, price="89000")
    assert (order.status, fills[0].price) == (FuturesStatus.FILLED, D("89000"))


def test_spot_liquidity_market_sell_slips_down(eng):
    alice = spot_user(eng)
    eng.set_fill_model(SPOT_BTC, "liquidity", LADDER)
    order = spot(eng, alice, SELL, MARKET, "0.05")
    assert spot_fills(eng, alice, order.order_id) == [
        (D("95000"), D("0.01"), D("0.95"), Liquidity.TAKER),
        (D("94990"), D("0.01"), D("0.9499"), Liquidity.TAKER),
        (D("94980"), D("0.01"), D("0.9498"), Liquidity.TAKER)]
    assert eng.spot_order(alice, order.order_id).status is OrderStatus.CANCELLED
    assert bal(eng, alice, "BTC") == (D("0.97"), D("0"))
    assert bal(eng, alice, "USDT") == (D("100000") + D("2849.7") - D("2.8497"), D("0"))


def test_spot_liquidity_limit_order_rests_and_fills_a_level_per_price_move(eng):
    alice = spot_user(eng)
    eng.set_fill_model(SPOT_BTC, "liquidity", LADDER)
    order = spot(eng, alice, SELL, LIMIT, "0.05", "94990")  # two levels are within its price
    order = eng.spot_order(alice, order.order_id)
    assert (order.status, order.filled_size, order.frozen_amount) == (
        OrderStatus.PARTIALLY_FILLED, D("0.02"), D("0.03"))
    states = []
    for price in ["94980", "95100", "95050", "95000"]:  # below its price first: nothing fills
        spot_mark(eng, price)
        o = eng.spot_order(alice, order.order_id)
        states.append((o.status, o.filled_size))
    assert states == [(OrderStatus.PARTIALLY_FILLED, D("0.02")), (OrderStatus.PARTIALLY_FILLED, D("0.03")),
                      (OrderStatus.PARTIALLY_FILLED, D("0.04")), (OrderStatus.FILLED, D("0.05"))]
    assert spot_fills(eng, alice, order.order_id)[2:] == [(D("94990"), D("0.01"), D("0.9499"), Liquidity.MAKER)] * 3
    assert bal(eng, alice, "BTC") == (D("0.95"), D("0"))
    assert bal(eng, alice, "USDT") == (D("100000") + D("4749.6") - D("4.7496"), D("0"))


def test_spot_liquidity_ioc_and_fok(eng):
    alice = spot_user(eng)
    eng.set_fill_model(SPOT_BTC, "liquidity", LADDER)
    ioc = spot(eng, alice, BUY, LIMIT, "0.05", "95010", IOC)
    ioc = eng.spot_order(alice, ioc.order_id)
    assert (ioc.status, ioc.filled_size, ioc.filled_quote, ioc.frozen_amount) == (
        OrderStatus.CANCELLED, D("0.02"), D("1900.1"), D("0"))
    fok = spot(eng, alice, BUY, LIMIT, "0.05", "95010", FOK)
    assert (fok.status, fok.cancel_reason, fok.filled_size) == (OrderStatus.CANCELLED, CancelReason.FOK, D("0"))
    whole = spot(eng, alice, BUY, LIMIT, "0.02", "95010", FOK)
    assert (whole.status, whole.filled_quote) == (OrderStatus.FILLED, D("1900.1"))
    assert bal(eng, alice, "USDT") == (D("100000") - D("3800.2"), D("0"))


def test_futures_liquidity_market_order_slips_and_the_rest_is_cancelled(eng):
    bob = futures_user(eng)
    eng.set_fill_model(PERP_BTC, "liquidity", {"size": "0.01", "step": "5", "levels": 3})
    order = perp(eng, bob, "0.05")
    assert perp_fills(eng, bob, order.order_id) == [
        (D("95000"), D("0.01"), D("0.57"), Liquidity.TAKER),
        (D("95005"), D("0.01"), D("0.57003"), Liquidity.TAKER),
        (D("95010"), D("0.01"), D("0.57006"), Liquidity.TAKER)]
    order = eng.futures_order(bob, order.order_id)
    assert (order.status, order.filled_size, order.fee, order.frozen) == (
        FuturesStatus.CANCELLED, D("0.03"), D("1.71009"), D("0"))
    [pos] = eng.positions(bob)
    assert (pos.size, pos.entry_price, pos.margin) == (D("0.03"), D("95005"), D("142.5075"))
    assert bal(eng, bob, "USDT", USDT_M) == (D("10000") - D("142.5075") - D("1.71009"), D("0"))


def test_futures_liquidity_limit_order_passes_through_partially_filled(eng):
    bob = futures_user(eng)
    eng.set_fill_model("bitget", "liquidity", {"size": "0.01", "step": "5", "levels": 3})
    order = perp(eng, bob, "0.05", LIMIT, "95005")
    order = eng.futures_order(bob, order.order_id)
    assert (order.status, order.filled_size) == (FuturesStatus.PARTIALLY_FILLED, D("0.02"))
    states = []
    for price in ["95010", "95003", "94990", "95000"]:
        perp_mark(eng, price)
        o = eng.futures_order(bob, order.order_id)
        states.append((o.status, o.filled_size))
    assert states == [(FuturesStatus.PARTIALLY_FILLED, D("0.02")), (FuturesStatus.PARTIALLY_FILLED, D("0.03")),
                      (FuturesStatus.PARTIALLY_FILLED, D("0.04")), (FuturesStatus.FILLED, D("0.05"))]
    fills = perp_fills(eng, bob, order.order_id)
    assert fills[:2] == [(D("95000"), D("0.01"), D("0.57"), Liquidity.TAKER),
                         (D("95005"), D("0.01"), D("0.57003"), Liquidity.TAKER)]
    assert fills[2:] == [(D("95005"), D("0.01"), D("0.19001"), Liquidity.MAKER)] * 3
    [pos] = eng.positions(bob)
    value = D("95000") * D("0.01") + D("95005") * D("0.04")
    assert (pos.size, pos.margin, pos.fees) == (D("0.05"), value / 20, D("1.71006"))
    assert bal(eng, bob, "USDT", USDT_M) == (D("10000") - value / 20 - D("1.71006"), D("0"))


def test_futures_liquidity_applies_to_a_fired_plan_order(eng):
    bob = futures_user(eng)
    eng.set_fill_model(PERP_BTC, "liquidity", {"size": "0.01", "step": "5", "levels": 2})
    plan = eng.place_futures_order(bob, USDT_M, "BTCUSDT", pos_side=PositionSide.LONG,
                                      trade_side=TradeSide.OPEN, order_type=MARKET, size=D("0.03"),
                                      trigger_price=D("96000"))
    perp_mark(eng, "96100")
    assert perp_fills(eng, bob, plan.order_id) == [
        (D("96000"), D("0.01"), D("0.576"), Liquidity.TAKER), (D("96005"), D("0.01"), D("0.57603"), Liquidity.TAKER)]
    assert eng.futures_order(bob, plan.order_id).status is FuturesStatus.CANCELLED


# ---- manual --------------------------------------------------------------------------------------

def test_spot_manual_orders_wait_for_the_control_plane(eng):
    alice = spot_user(eng)
    eng.set_fill_model("bitget", "manual")
    limit = spot(eng, alice, BUY, LIMIT, "0.02", "94000")
    market = spot(eng, alice, SELL, MARKET, "0.03")
    assert spot_mark(eng, "93000") == []  # the limit order is reached: nothing fills by itself
    assert (eng.spot_order(alice, limit.order_id).status, market.status) == (OrderStatus.LIVE, OrderStatus.LIVE)
    fill = eng.fill_spot_order(alice, market.order_id, D("0.01"), D("95100"))
    assert (fill.price, fill.size, fill.fee, fill.liquidity) == (D("95100"), D("0.01"), D("0.951"), Liquidity.TAKER)
    assert eng.spot_order(alice, market.order_id).status is OrderStatus.PARTIALLY_FILLED
    rest = eng.fill_spot_order(alice, market.order_id)  # the rest, at the mark
    assert (rest.price, rest.size) == (D("93000"), D("0.02"))
    assert eng.spot_order(alice, market.order_id).status is OrderStatus.FILLED
    with pytest.raises(InvalidOrder):  # a buy limited at 94000 cannot fill above it
        eng.fill_spot_order(alice, limit.order_id, D("0.01"), D("94500"))
    better = eng.fill_spot_order(alice, limit.order_id, D("0.01"), D("93500"))
    assert (better.quote, better.liquidity) == (D("935"), Liquidity.MAKER)
    assert bal(eng, alice, "USDT") == (D("100000") - D("1880") + D("951") - D("0.951") + D("1860") - D("1.86"),
                                          D("945"))
    rejected = eng.reject_order(alice, limit.order_id)
    assert (rejected.status, rejected.cancel_reason, rejected.filled_size) == (
        OrderStatus.CANCELLED, CancelReason.REJECTED, D("0.01"))
    assert bal(eng, alice, "USDT")[1] == D("0")
    with pytest.raises(OrderNotCancellable):
        eng.reject_order(alice, limit.order_id)


def test_spot_manual_market_buy_fills_in_base_coin_within_its_money(eng):
    alice = spot_user(eng)
    eng.set_fill_model(SPOT_BTC, "manual")
    order = spot(eng, alice, BUY, MARKET, "1000")
    with pytest.raises(InvalidOrder):
        eng.fill_spot_order(alice, order.order_id, D("0.02"), D("95000"))  # 1900 > 1000
    eng.fill_spot_order(alice, order.order_id, D("0.005"), D("96000"))  # 480
    fill = eng.fill_spot_order(alice, order.order_id, price=D("96000"))  # 520 buys 0.005416
    assert (fill.size, fill.quote) == (D("0.005416"), D("519.936"))
    done = eng.spot_order(alice, order.order_id)
    assert (done.status, done.filled_size, done.frozen_amount) == (OrderStatus.FILLED, D("0.010416"), D("0"))
    assert bal(eng, alice, "USDT") == (D("99000.064"), D("0"))


def test_futures_manual_fill_at_a_price_then_reject(eng):
    bob = futures_user(eng)
    eng.set_fill_model("bitget", "manual")
    order = perp(eng, bob, "0.02")
    assert (order.status, order.frozen) == (FuturesStatus.LIVE, D("96.14"))
    perp_mark(eng, "90000")
    assert eng.positions(bob) == []
    order, fills = eng.fill_futures_order(bob, order.order_id, D("0.01"), D("94000"))
    assert [(f.price, f.size, f.fee, f.liquidity) for f in fills] == [
        (D("94000"), D("0.01"), D("0.564"), Liquidity.TAKER)]
    assert (order.status, order.frozen) == (FuturesStatus.PARTIALLY_FILLED, D("48.07"))
    rejected = eng.reject_order(bob, order.order_id)
    assert (rejected.status, rejected.cancel_reason, rejected.filled_size, rejected.frozen) == (
        FuturesStatus.CANCELLED, CancelReason.REJECTED, D("0.01"), D("0"))
    [pos] = eng.positions(bob)
    assert (pos.size, pos.entry_price, pos.margin) == (D("0.01"), D("94000"), D("47"))
    assert bal(eng, bob, "USDT", USDT_M) == (D("9952.436"), D("0"))


def test_futures_manual_plan_order_waits_once_fired(eng):
    bob = futures_user(eng)
    eng.set_fill_model(PERP_BTC, "manual")
    plan = eng.place_futures_order(bob, USDT_M, "BTCUSDT", pos_side=PositionSide.LONG,
                                      trade_side=TradeSide.OPEN, order_type=LIMIT, size=D("0.01"),
                                      price=D("96500"), trigger_price=D("96000"))
    perp_mark(eng, "96200")
    fired = eng.futures_order(bob, plan.order_id)
    assert (fired.status, fired.filled_size) == (FuturesStatus.LIVE, D("0"))
    order, fills = eng.fill_futures_order(bob, plan.order_id)
    assert (order.status, [(f.price, f.liquidity) for f in fills]) == (
        FuturesStatus.FILLED, [(D("96500"), Liquidity.MAKER)])


# ---- snapshots -----------------------------------------------------------------------------------

def test_a_snapshot_keeps_the_models_and_the_orders_on_their_way(eng):
    alice = spot_user(eng)
    eng.set_fill_model("bitget", "latency", {"ms": 400})
    eng.set_fill_model(PERP_BTC, "liquidity", {"size": "0.01", "step": "5", "levels": 3})
    eng.set_fill_model("coinw", "manual")
    order = spot(eng, alice, SELL, MARKET, "0.01")
    snap = json.loads(json.dumps(eng.snapshot()))
    other = Engine(open_store(":memory:"), clock=ManualClock(), seed=99)
    other.restore(snap)
    assert [(m.scope, m.kind, m.params) for m in other.list_fill_models()] == [
        ("bitget", "latency", {"ms": 400}), (PERP_BTC, "liquidity", {"size": "0.01", "step": "5", "levels": 3}),
        ("coinw", "manual", {})]
    assert other.fill_model_for("bitget", USDT_M, "BTCUSDT").kind == "liquidity"
    assert other.spot_order(alice, order.order_id).due_ms == order.due_ms
    other.advance_clock(400)
    assert other.spot_order(alice, order.order_id).status is OrderStatus.FILLED


# ---- control plane -------------------------------------------------------------------------------

@pytest.fixture
def http(world):
    with httpx.Client(base_url=world.url, timeout=10) as client:
        yield client


def ok(response: httpx.Response):
    assert response.status_code == 200, response.text
    return response.json()


def error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_control_plane_sets_lists_and_removes_fill_models(http, world):
    posted = ok(http.post("/localex/fill-models", json={"scope": "bitget", "kind": "latency",
                                                        "params": {"ms": 150}}))
    assert posted == {"scope": "bitget", "kind": "latency", "params": {"ms": 150}}
    ok(http.post("/localex/fill-models", json={"scope": "coinw:futures:btc", "kind": "liquidity",
                                               "params": {"size": "0.002", "step": "0.5", "levels": 4}}))
    ok(http.post("/localex/fill-models", json={"scope": "bitget:spot:BTCUSDT", "kind": "manual"}))
    assert ok(http.get("/localex/fill-models")) == [
        {"scope": "bitget", "kind": "latency", "params": {"ms": 150}},
        {"scope": "bitget:spot:BTCUSDT", "kind": "manual", "params": {}},
        {"scope": "coinw:futures:BTC", "kind": "liquidity", "params": {"size": "0.002", "step": "0.5", "levels": 4}}]
    assert ok(http.get("/localex/fill-models", params={"venue": "bitget", "market": "usdt-futures",
                                                        "symbol": "BTCUSDT"}))[0]["scope"] == "bitget"
    error(http.post("/localex/fill-models", json={"scope": "kraken", "kind": "manual"}), 400, "bad_field")
    error(http.post("/localex/fill-models", json={"scope": "bitget", "kind": "later"}), 400, "bad_field")
    error(http.post("/localex/fill-models", json={"scope": "bitget", "kind": "latency"}), 400, "bad_field")
    error(http.post("/localex/fill-models", json={"scope": "bitget", "kind": "latency", "params": [1]}),
          400, "bad_field")
    error(http.post("/localex/fill-models", json={"kind": "manual"}), 400, "missing_field")
    error(http.post("/localex/fill-models", json={"scope": "bitget:spot:NOPE", "kind": "manual"}), 404, "not_found")
    assert ok(http.delete("/localex/fill-models", params={"scope": "bitget:spot:btcusdt"}))["removed"] == 1
    error(http.delete("/localex/fill-models", params={"scope": "bitget:spot:BTCUSDT"}), 404, "not_found")
    assert ok(http.delete("/localex/fill-models")) == {"status": "cleared", "removed": 2}
    assert ok(http.get("/localex/fill-models")) == []


def test_control_plane_fills_and_rejects_spot_and_futures_orders(http, world):
    eng = world.engine
    alice, bob = spot_user(eng), futures_user(eng)
    ok(http.post("/localex/fill-models", json={"scope": "bitget", "kind": "manual"}))
    market = spot(eng, alice, SELL, MARKET, "0.02")
    fill = ok(http.post("/localex/orders/fill", json={"uid": alice, "orderId": str(market.order_id),
                                                      "size": "0.005", "price": "95500"}))
    assert (fill["size"], fill["price"], D(fill["quote"]), fill["liquidity"]) == ("0.005", "95500", D("477.5"), "taker")
    rejected = ok(http.post("/localex/orders/reject", json={"uid": alice, "orderId": str(market.order_id),
                                                            "reason": "stp"}))
    assert (rejected["status"], rejected["cancelReason"], rejected["filledSize"]) == ("cancelled", "stp", "0.005")
    order = perp(eng, bob, "0.02", LIMIT, "94000")
    answer = ok(http.post("/localex/orders/fill", json={"uid": bob, "orderId": order.order_id, "size": "0.01",
                                                        "liquidity": "taker"}))
    assert (answer["order"]["status"], answer["order"]["filledSize"]) == ("partially_filled", "0.01")
    assert [(f["price"], f["size"], f["liquidity"]) for f in answer["fills"]] == [("94000", "0.01", "taker")]
    error(http.post("/localex/orders/fill", json={"uid": bob, "orderId": order.order_id, "price": "94100"}),
          400, "rejected")  # a buy limited at 94000
    error(http.post("/localex/orders/fill", json={"uid": bob, "orderId": order.order_id, "liquidity": "x"}),
          400, "bad_field")
    gone = ok(http.post("/localex/orders/reject", json={"uid": bob, "orderId": str(order.order_id)}))
    assert (gone["status"], gone["cancelReason"]) == ("cancelled", "rejected")
    error(http.post("/localex/orders/reject", json={"uid": bob, "orderId": str(order.order_id)}), 400, "rejected")
    error(http.post("/localex/orders/reject", json={"uid": bob, "orderId": "1"}), 404, "not_found")
    error(http.post("/localex/orders/reject", json={"uid": bob, "orderId": "1", "reason": "bored"}), 400, "bad_field")
    error(http.post("/localex/orders/reject", json={"orderId": "1"}), 400, "missing_field")


# ---- the venues' read-backs ----------------------------------------------------------------------

def bitget_call(http, trader, method: str, path: str, params: dict | None = None) -> dict:
    query, body = "", b""
    if method == "GET":
        query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    else:
        body = json.dumps(params or {}, separators=(",", ":")).encode()
    headers = signed_headers(trader.api_key, trader.secret_key, trader.passphrase, method, path, query, body,
                             str(time.time_ns() // 1_000_000))
    response = http.request(method, path + ("?" + query if query else ""), content=body or None, headers=headers)
    payload = response.json()
    assert response.status_code == 200 and payload["code"] == "00000", response.text
    return payload["data"]


def test_bitget_spot_order_info_shows_partially_filled_then_cancelled(http, world):
    trader = world.trader("spotter", funds={"USDT": "10000"})
    world.engine.set_fill_model(SPOT_BTC, "liquidity", LADDER)
    placed = bitget_call(http, trader, "POST", "/api/v2/spot/trade/place-order", {
        "symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc", "price": "95010",
        "size": "0.03"})
    [row] = bitget_call(http, trader, "GET", "/api/v2/spot/trade/orderInfo", {"orderId": placed["orderId"]})
    assert (row["status"], row["baseVolume"], row["quoteVolume"], row["priceAvg"]) == (
        "partially_filled", "0.0200000000000000", "1900.1000000000000000", "95005.0000000000000000")
    [pending] = bitget_call(http, trader, "GET", "/api/v2/spot/trade/unfilled-orders", {"symbol": "BTCUSDT"})
    assert (pending["status"], pending["baseVolume"]) == ("partially_filled", "0.02")
    bitget_call(http, trader, "POST", "/api/v2/spot/trade/cancel-order",
                {"symbol": "BTCUSDT", "orderId": placed["orderId"]})
    [row] = bitget_call(http, trader, "GET", "/api/v2/spot/trade/orderInfo", {"orderId": placed["orderId"]})
    assert (row["status"], row["baseVolume"], row["cancelReason"]) == (
        "cancelled", "0.0200000000000000", "normal_cancel")


def test_bitget_futures_detail_shows_partially_filled_then_canceled(http, world):
    trader = world.trader("perper", funds={})
    world.engine.fund(trader.uid, "USDT", D("10000"), account=USDT_M)
    world.engine.set_fill_model(PERP_BTC, "liquidity", {"size": "0.01", "step": "5", "levels": 3})
    placed = bitget_call(http, trader, "POST", "/api/v2/mix/order/place-order", {
        "symbol": "BTCUSDT", "productType": "USDT-FUTURES", "marginMode": "crossed", "marginCoin": "USDT",
        "size": "0.03", "side": "buy", "orderType": "limit", "price": "95005", "force": "gtc"})
    query = {"symbol": "BTCUSDT", "productType": "USDT-FUTURES", "orderId": placed["orderId"]}
    detail = bitget_call(http, trader, "GET", "/api/v2/mix/order/detail", query)
    assert (detail["state"], detail["baseVolume"], detail["priceAvg"]) == ("partially_filled", "0.02", "95002.5")
    pending = bitget_call(http, trader, "GET", "/api/v2/mix/order/orders-pending",
                          {"productType": "USDT-FUTURES", "status": "partially_filled"})
    assert [(r["orderId"], r["status"]) for r in pending["entrustedList"]] == [
        (placed["orderId"], "partially_filled")]
    bitget_call(http, trader, "POST", "/api/v2/mix/order/cancel-order",
                {"symbol": "BTCUSDT", "productType": "USDT-FUTURES", "orderId": placed["orderId"]})
    detail = bitget_call(http, trader, "GET", "/api/v2/mix/order/detail", query)
    assert (detail["state"], detail["baseVolume"], detail["cancelReason"]) == ("canceled", "0.02", "normal_cancel")


def test_coinw_shows_part_then_cancel(http, world, no_limits):  # noqa: F811
    user = make_user(world.engine, "coiner")
    api = Api(http, user)
    world.engine.set_fill_model("coinw:futures:BTC", "liquidity", {"size": "0.002", "step": "0.5", "levels": 2})
    # 5 contracts of 0.001 BTC; two levels of 2 contracts lie within 95000.5
    order_id = api.place(positionType="plan", quantity="5", openPrice="95000.5")
    [row] = api.data("GET", "/v1/perpum/order", {"positionType": "plan", "sourceIds": order_id})
    assert (row["orderStatus"], row["totalPiece"], row["currentPiece"]) == ("part", 5, 1)
    [open_row] = api.data("GET", "/v1/perpum/orders/open", {"instrument": "BTC", "positionType": "plan"})["rows"]
    assert (open_row["orderStatus"], open_row["tradePiece"]) == ("part", 4)
    api.data("DELETE", "/v1/perpum/order", {"id": str(order_id)})
    [done] = api.data("GET", "/v1/perpum/orders/history", {"instrument": "BTC"})["rows"]
    assert (done["id"], done["orderStatus"], done["tradePiece"], done["cancelPiece"]) == (
        str(order_id), "cancel", 4, 1)
