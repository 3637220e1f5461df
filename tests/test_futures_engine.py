"""The futures engine on its own (no HTTP): contract arithmetic, fees and PnL, hedge and one-way
netting, merged and split positions, isolated liquidation, crossed margin, plan orders, position
TP/SL, trailing stops, events in price order, and conservation of money."""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.errors import (
    DomainError,
    HasOpenPositions,
    InsufficientBalance,
    InvalidTrigger,
    LeverageOutOfRange,
    NoPosition,
    NotIsolated,
    PositionTooSmall,
    SizePrecision,
)
from localex.engine.futures import liquidation_price
from localex.engine.model import (
    FuturesStatus,
    Liquidity,
    MarginMode,
    OrderType,
    PositionMode,
    PositionSide,
    TimeInForce,
    TradeSide,
)
from localex.store import open_store
from stores import another_store, new_store

# every test here runs on each store (SQLite, and PostgreSQL when a server is named)
pytestmark = pytest.mark.usefixtures("store_backend")

USDT_M, COIN_M = "usdt-futures", "coin-futures"
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
OPEN, CLOSE = TradeSide.OPEN, TradeSide.CLOSE
MARKET, LIMIT = OrderType.MARKET, OrderType.LIMIT
ISOLATED, CROSSED = MarginMode.ISOLATED, MarginMode.CROSSED
TAKER, MAKER = D("0.0006"), D("0.0002")

_ENGINE = Engine(open_store(":memory:"), clock=ManualClock(), seed=3)


@pytest.fixture
def engine(store_backend) -> Engine:
    engine = _ENGINE if store_backend == "sqlite" else Engine(new_store(), clock=ManualClock(), seed=3)
    engine.reset(seed=3)
    install_market(engine)
    return engine


def user(engine: Engine, name: str = "alice", usdt: str = "10000", btc: str = "1") -> str:
    uid = engine.create_user("bitget", name=name).uid
    engine.fund(uid, "USDT", D(usdt), account=USDT_M)
    engine.fund(uid, "BTC", D(btc), account=COIN_M)
    return uid


def place(engine, uid, pos_side, trade_side, size, order_type=MARKET, price=None, symbol="BTCUSDT",
          market=USDT_M, **kw):
    return engine.place_futures_order(uid, market, symbol, pos_side=pos_side, trade_side=trade_side,
                                      order_type=order_type, size=D(size),
                                      price=D(price) if price is not None else None, **kw)


def mark(engine, price, symbol="BTCUSDT", market=USDT_M):
    engine.set_mark("bitget", market, symbol, D(price))


def usdt(engine, uid) -> tuple[D, D]:
    bal = engine.balance(uid, "USDT", account=USDT_M)
    return bal.available, bal.frozen


def one_position(engine, uid, market=USDT_M, **filters):
    positions = engine.positions(uid, market=market, **filters)
    assert len(positions) == 1, positions
    return positions[0]


# ---- linear contracts: open, close, fees, PnL ------------------------------------------------

def test_open_and_close_a_long_at_market(engine):
    alice = user(engine)
    engine.set_leverage(alice, "bitget", USDT_M, "BTCUSDT", 10)
    order = place(engine, alice, LONG, OPEN, "0.1")
    assert order.status is FuturesStatus.FILLED and order.filled_size == D("0.1")
    assert order.avg_price == D("95000") and order.fee == D("5.7")  # 9500 x 0.0006
    pos = one_position(engine, alice)
    assert (pos.side, pos.size, pos.entry_price, pos.margin, pos.leverage) == (LONG, D("0.1"), D("95000"), D("950"), 10)
    assert usdt(engine, alice) == (D("10000") - D("950") - D("5.7"), 0)
    assert engine.house_balance("bitget", "USDT") == D("5.7")

    mark(engine, "96000")
    close = place(engine, alice, LONG, CLOSE, "0.1")
    assert close.reduce_only and close.status is FuturesStatus.FILLED
    assert close.realized_pnl == D("100") and close.fee == D("5.76")  # 9600 x 0.0006
    assert engine.positions(alice, market=USDT_M) == []
    # margin back, plus the profit, less both fees
    assert usdt(engine, alice) == (D("10000") + D("100") - D("5.7") - D("5.76"), 0)
    assert engine.house_balance("bitget", "USDT") == D("5.7") + D("5.76") - D("100")
    closed = engine.positions(alice, market=USDT_M, open_only=False)[0]
    assert (closed.realized_pnl, closed.fees, closed.closed_size, closed.avg_close_price) == (
        D("100"), D("11.46"), D("0.1"), D("96000"))


def test_a_short_loses_when_the_price_rises(engine):
    alice = user(engine)
    place(engine, alice, SHORT, OPEN, "0.2")
    mark(engine, "95500")
    close = place(engine, alice, SHORT, CLOSE, "0.05")  # a partial close
    assert close.realized_pnl == D("-25")  # (95000 - 95500) x 0.05
    pos = one_position(engine, alice)
    assert pos.size == D("0.15") and pos.margin == D("95000") * D("0.15") / 20
    assert engine.futures_equity(alice, USDT_M, "USDT") == (
        usdt(engine, alice)[0], pos.margin, D("-75"))


def test_a_resting_limit_freezes_then_fills_as_maker_at_its_price(engine):
    alice = user(engine)
    order = place(engine, alice, LONG, OPEN, "0.1", LIMIT, "94000", force=TimeInForce.GTC)
    assert order.status is FuturesStatus.LIVE
    frozen = D("9400") / 20 + D("9400") * TAKER  # margin plus the taker fee, until it fills
    assert usdt(engine, alice) == (D("10000") - frozen, frozen)
    mark(engine, "93900")
    order = engine.futures_order(alice, order.order_id)
    assert order.status is FuturesStatus.FILLED and order.avg_price == D("94000")
    assert order.fee == D("9400") * MAKER
    fill = engine.futures_fills(alice)[0]
    assert (fill.liquidity, fill.price, fill.trade_side) == (Liquidity.MAKER, D("94000"), OPEN)
    assert usdt(engine, alice) == (D("10000") - D("470") - D("1.88"), 0)


def test_a_marketable_limit_takes_at_the_mark_and_post_only_is_cancelled(engine):
    alice = user(engine)
    order = place(engine, alice, LONG, OPEN, "0.01", LIMIT, "96000")
    assert order.status is FuturesStatus.FILLED and order.avg_price == D("95000")
    po = place(engine, alice, LONG, OPEN, "0.01", LIMIT, "96000", force=TimeInForce.POST_ONLY)
    assert po.status is FuturesStatus.CANCELLED
    assert usdt(engine, alice)[1] == 0


def test_cancel_releases_what_the_order_froze(engine):
    alice = user(engine)
    order = place(engine, alice, SHORT, OPEN, "0.1", LIMIT, "99000")
    engine.cancel_futures_order(alice, order.order_id)
    assert usdt(engine, alice) == (D("10000"), 0)
    assert engine.futures_order(alice, order.order_id).status is FuturesStatus.CANCELLED


def test_refusals(engine):
    alice = user(engine, usdt="100")
    with pytest.raises(InsufficientBalance):
        place(engine, alice, LONG, OPEN, "1")
    with pytest.raises(SizePrecision):
        place(engine, alice, LONG, OPEN, "0.00001")
    with pytest.raises(NoPosition):
        place(engine, alice, LONG, CLOSE, "0.001")
    with pytest.raises(LeverageOutOfRange):
        engine.set_leverage(alice, "bitget", USDT_M, "BTCUSDT", 126)
    with pytest.raises(InvalidTrigger):
        place(engine, alice, LONG, OPEN, "0.001", tp_price=D("90000"))
    with pytest.raises(InvalidTrigger):
        place(engine, alice, SHORT, OPEN, "0.001", sl_price=D("90000"))
    place(engine, alice, LONG, OPEN, "0.001")
    with pytest.raises(PositionTooSmall):
        place(engine, alice, LONG, CLOSE, "0.002")
    assert usdt(engine, alice)[1] == 0


# ---- inverse contracts ---------------------------------------------------------------------------

def test_inverse_contract_margin_fees_and_pnl_are_in_the_coin(engine):
    alice = user(engine, btc="1")
    engine.set_leverage(alice, "bitget", COIN_M, "BTCUSD", 5)
    place(engine, alice, LONG, OPEN, "0.1", symbol="BTCUSD", market=COIN_M)
    pos = one_position(engine, alice, COIN_M)
    # the position's value in BTC is its size; margin and fee follow
    assert (pos.margin, pos.fees) == (D("0.02"), D("0.1") * TAKER)
    mark(engine, "100000", "BTCUSD", COIN_M)
    close = place(engine, alice, LONG, CLOSE, "0.1", symbol="BTCUSD", market=COIN_M)
    assert close.realized_pnl == D("0.1") * (1 - D("95000") / D("100000"))  # 0.005 BTC
    btc = engine.balance(alice, "BTC", account=COIN_M)
    assert btc.available == D("1") + D("0.005") - 2 * D("0.1") * TAKER


def test_inverse_average_entry_is_harmonic(engine):
    alice = user(engine, btc="1")
    place(engine, alice, LONG, OPEN, "0.1", symbol="BTCUSD", market=COIN_M)
    mark(engine, "105000", "BTCUSD", COIN_M)
    place(engine, alice, LONG, OPEN, "0.1", symbol="BTCUSD", market=COIN_M)
    pos = one_position(engine, alice, COIN_M)
    assert pos.entry_price == D("0.2") / (D("0.1") / D("95000") + D("0.1") / D("105000"))


# ---- hedge and one-way ---------------------------------------------------------------------------

def test_hedge_mode_holds_long_and_short_side_by_side(engine):
    alice = user(engine)
    engine.set_position_mode(alice, USDT_M, PositionMode.HEDGE)
    place(engine, alice, LONG, OPEN, "0.1")
    place(engine, alice, SHORT, OPEN, "0.05")
    sides = {p.side: p.size for p in engine.positions(alice, market=USDT_M)}
    assert sides == {LONG: D("0.1"), SHORT: D("0.05")}
    place(engine, alice, SHORT, CLOSE, "0.05")
    assert [p.side for p in engine.positions(alice, market=USDT_M)] == [LONG]
    with pytest.raises(HasOpenPositions):
        engine.set_position_mode(alice, USDT_M, PositionMode.ONE_WAY)


def test_one_way_nets_against_the_opposite_position_first(engine):
    alice = user(engine)
    place(engine, alice, LONG, OPEN, "0.2")
    mark(engine, "96000")
    sell = place(engine, alice, SHORT, OPEN, "0.5")  # sells 0.5: closes the long, opens 0.3 short
    assert sell.realized_pnl == D("200") and sell.filled_size == D("0.5")
    pos = one_position(engine, alice)
    assert (pos.side, pos.size, pos.entry_price) == (SHORT, D("0.3"), D("96000"))
    fills = sorted(engine.futures_fills(alice, order_id=sell.order_id), key=lambda f: f.trade_id)
    assert [(f.trade_side, f.pos_side, f.size) for f in fills] == [(CLOSE, LONG, D("0.2")), (OPEN, SHORT, D("0.3"))]


def test_one_way_reduce_only_only_reduces(engine):
    alice = user(engine)
    place(engine, alice, LONG, OPEN, "0.2")
    with pytest.raises(NoPosition):
        place(engine, alice, LONG, OPEN, "0.1", reduce_only=True)  # nothing short to reduce
    order = place(engine, alice, SHORT, OPEN, "0.1", reduce_only=True)
    assert order.filled_size == D("0.1")
    assert one_position(engine, alice).size == D("0.1")
    with pytest.raises(PositionTooSmall):
        place(engine, alice, SHORT, OPEN, "0.2", reduce_only=True)
    assert one_position(engine, alice).size == D("0.1")


def test_a_resting_reduce_only_order_trades_only_what_is_left_to_reduce(engine):
    alice = user(engine)
    place(engine, alice, LONG, OPEN, "0.2")
    order = place(engine, alice, SHORT, OPEN, "0.2", LIMIT, "97000", reduce_only=True)
    place(engine, alice, SHORT, OPEN, "0.15")  # the long shrinks to 0.05 meanwhile
    mark(engine, "97000")
    order = engine.futures_order(alice, order.order_id)
    assert order.filled_size == D("0.05") and order.status is FuturesStatus.CANCELLED
    assert sum(f.size for f in engine.futures_fills(alice, order_id=order.order_id)) == D("0.05")
    assert engine.positions(alice, market=USDT_M) == []


# ---- merged and split positions -------------------------------------------------------------------

def test_positions_merge_by_default_and_split_when_asked(engine):
    alice = user(engine)
    place(engine, alice, LONG, OPEN, "0.1")
    mark(engine, "97000")
    place(engine, alice, LONG, OPEN, "0.1")
    pos = one_position(engine, alice)
    assert pos.size == D("0.2") and pos.entry_price == D("96000")
    place(engine, alice, LONG, CLOSE, "0.2")

    engine.set_merge_positions(alice, USDT_M, False)
    a = place(engine, alice, LONG, OPEN, "0.1")
    mark(engine, "98000")
    b = place(engine, alice, LONG, OPEN, "0.1")
    positions = engine.positions(alice, market=USDT_M)
    assert [(p.size, p.entry_price) for p in positions] == [(D("0.1"), D("97000")), (D("0.1"), D("98000"))]
    assert {a.position_id, b.position_id} == {p.position_id for p in positions}
    mark(engine, "99000")
    engine.close_position(alice, a.position_id)
    left = one_position(engine, alice)
    assert left.position_id == b.position_id
    with pytest.raises(HasOpenPositions):
        engine.set_merge_positions(alice, USDT_M, True)


# ---- margin modes, liquidation ---------------------------------------------------------------------

def test_isolated_position_is_liquidated_at_its_liquidation_price(engine):
    alice = user(engine)
    engine.set_margin_mode(alice, "bitget", USDT_M, "BTCUSDT", ISOLATED)
    engine.set_leverage(alice, "bitget", USDT_M, "BTCUSDT", 10)
    place(engine, alice, LONG, OPEN, "0.1")
    pos = one_position(engine, alice)
    inst = engine.contract("bitget", USDT_M, "BTCUSDT")
    liq = liquidation_price(inst, pos)
    # margin + PnL = maintenance at liq: (e*s - m) / (s*(1 - r)), cut to the price step
    assert liq == ((D("9500") - D("950")) / (D("0.1") * D("0.996"))).quantize(D("0.1"))
    before = usdt(engine, alice)
    house = engine.house_balance("bitget", "USDT")
    mark(engine, str(liq + D("0.1")))
    assert one_position(engine, alice).size == D("0.1")
    mark(engine, "80000")  # far through: filled at the liquidation price, not the mark
    assert engine.positions(alice, market=USDT_M) == []
    order = engine.futures_orders(alice, market=USDT_M)[0]
    assert (order.source, order.avg_price, order.fee) == ("liquidation", liq, 0)
    assert usdt(engine, alice) == before  # the isolated margin is gone, nothing else
    assert engine.house_balance("bitget", "USDT") == house + D("950")


def test_adjusting_isolated_margin_moves_the_liquidation_price(engine):
    alice = user(engine)
    engine.set_margin_mode(alice, "bitget", USDT_M, "BTCUSDT", ISOLATED)
    place(engine, alice, SHORT, OPEN, "0.1")
    pos = one_position(engine, alice)
    inst = engine.contract("bitget", USDT_M, "BTCUSDT")
    before = liquidation_price(inst, pos)
    pos = engine.adjust_margin(alice, pos.position_id, D("100"))
    assert pos.margin == D("575") and liquidation_price(inst, pos) > before
    with pytest.raises(InsufficientBalance):
        engine.adjust_margin(alice, pos.position_id, D("-200"))  # below the initial margin
    engine.set_margin_mode(bob := user(engine, "bob"), "bitget", USDT_M, "BTCUSDT", CROSSED)
    place(engine, bob, LONG, OPEN, "0.01")
    with pytest.raises(NotIsolated):
        engine.adjust_margin(bob, one_position(engine, bob).position_id, D("1"))


def test_crossed_losses_beyond_the_margin_come_out_of_the_account(engine):
    alice = user(engine, usdt="2000")
    engine.set_leverage(alice, "bitget", USDT_M, "BTCUSDT", 50)
    place(engine, alice, LONG, OPEN, "0.1")  # margin 190
    mark(engine, "90000")  # no liquidation for crossed positions
    assert one_position(engine, alice).size == D("0.1")
    close = place(engine, alice, LONG, CLOSE, "0.1")
    assert close.realized_pnl == D("-500")
    assert usdt(engine, alice)[0] == D("2000") - D("500") - D("5.7") - D("5.4")


def test_margin_mode_cannot_change_with_a_position(engine):
    alice = user(engine)
    place(engine, alice, LONG, OPEN, "0.01")
    with pytest.raises(HasOpenPositions):
        engine.set_margin_mode(alice, "bitget", USDT_M, "BTCUSDT", ISOLATED)
    engine.set_margin_mode(alice, "bitget", USDT_M, "ETHUSDT", ISOLATED)  # another symbol is free


# ---- triggers: plan orders, TP/SL, trailing stops, path order ---------------------------------

def test_a_plan_order_waits_for_its_trigger_then_fills_there(engine):
    alice = user(engine)
    plan = place(engine, alice, LONG, OPEN, "0.1", trigger_price=D("97000"))
    assert plan.status is FuturesStatus.UNTRIGGERED
    mark(engine, "96000")
    assert engine.positions(alice, market=USDT_M) == []
    mark(engine, "98000")
    pos = one_position(engine, alice)
    assert pos.entry_price == D("97000")
    assert engine.futures_order(alice, plan.order_id).status is FuturesStatus.FILLED


def test_position_take_profit_and_stop_loss_close_at_their_prices(engine):
    alice = user(engine)
    place(engine, alice, LONG, OPEN, "0.1", tp_price=D("100000"), sl_price=D("90000"))
    pos = one_position(engine, alice)
    assert (pos.tp_price, pos.sl_price) == (D("100000"), D("90000"))
    with pytest.raises(InvalidTrigger):
        engine.set_position_tpsl(alice, pos.position_id, tp=D("94000"))
    mark(engine, "101000")
    assert engine.positions(alice, market=USDT_M) == []
    close = engine.futures_orders(alice, market=USDT_M)[0]
    assert (close.source, close.avg_price, close.realized_pnl) == ("tp", D("100000"), D("500"))


def test_a_trailing_stop_follows_the_best_price_then_fires(engine):
    alice = user(engine)
    place(engine, alice, LONG, OPEN, "0.1")
    pos = one_position(engine, alice)
    stop = engine.place_trailing_stop(alice, pos.position_id, D("0.05"))
    mark(engine, "100000")
    mark(engine, "96000")  # above 100000 x 0.95
    assert one_position(engine, alice).size == D("0.1")
    mark(engine, "94000")  # through 95000: fills at the trailing level
    assert engine.positions(alice, market=USDT_M) == []
    stop = engine.futures_order(alice, stop.order_id)
    assert stop.status is FuturesStatus.FILLED and stop.avg_price == D("95000.0")


def test_one_jump_fires_everything_it_crosses_in_price_order(engine):
    alice, bob = user(engine), user(engine, "bob")
    place(engine, alice, LONG, OPEN, "0.1", tp_price=D("100000"))   # TP at 100000
    plan = place(engine, bob, LONG, OPEN, "0.01", trigger_price=D("99000"))
    limit = place(engine, bob, SHORT, OPEN, "0.01", LIMIT, "98000")
    mark(engine, "101000")
    fills = sorted(engine.futures_fills(alice) + engine.futures_fills(bob), key=lambda f: f.trade_id)
    assert [f.price for f in fills[1:]] == [D("98000"), D("99000"), D("100000")]
    assert [f.order_id for f in fills[1:3]] == [limit.order_id, plan.order_id]

    # and downwards: highest first
    carol = user(engine, "carol")
    engine.set_position_mode(carol, USDT_M, PositionMode.HEDGE)
    place(engine, carol, SHORT, OPEN, "0.1", sl_price=D("103000"))
    place(engine, carol, LONG, OPEN, "0.01", LIMIT, "99500")
    place(engine, carol, LONG, OPEN, "0.01", LIMIT, "99900")
    mark(engine, "99000")
    prices = [f.price for f in sorted(engine.futures_fills(carol), key=lambda f: f.trade_id)]
    assert prices == [D("101000"), D("99900"), D("99500")]


def test_limit_tpsl_closes_fill_in_price_order_with_every_other_kind(engine):
    """One rising jump crosses a partial TP order and a position's own TP (both closing at a
    limit above their trigger, so their closes rest first), a plan order, another user's resting
    limit order, an isolated liquidation and a crossed liquidation. Each fills where the path
    reaches it, in price order: the limit closes are not left for the end of the move."""
    alice, bob, erin = user(engine), user(engine, "bob"), user(engine, "erin")
    carol, dave = user(engine, "carol"), user(engine, "dave", usdt="300")
    [pos] = [place(engine, alice, LONG, OPEN, "0.1") and one_position(engine, alice)]
    [partial] = engine.protect_position(alice, pos.position_id, [
        {"kind": "tp", "trigger": D("96000"), "size": D("0.05"), "execute": D("98500")}])
    engine.set_position_tpsl(alice, pos.position_id, tp=D("97000"), tp_execute=D("99500"))
    plan = place(engine, bob, LONG, OPEN, "0.01", trigger_price=D("97500"))
    resting = place(engine, erin, SHORT, OPEN, "0.01", LIMIT, "99000")
    engine.set_margin_mode(carol, "bitget", USDT_M, "BTCUSDT", ISOLATED)
    place(engine, carol, SHORT, OPEN, "0.1", margin_mode=ISOLATED)
    isolated = liquidation_price(engine.instrument("bitget", USDT_M, "BTCUSDT"), one_position(engine, carol))
    engine.set_leverage(dave, "bitget", USDT_M, "BTCUSDT", 50)
    place(engine, dave, SHORT, OPEN, "0.05")
    crossed_level, rising = engine.crossed_liquidation_price(dave, USDT_M, "BTCUSDT")
    assert rising and D("99500") < crossed_level < D("101000") and D("99000") < isolated < D("99500")
    users = (alice, bob, erin, carol, dave)
    before = max(f.trade_id for u in users for f in engine.futures_fills(u))
    mark(engine, "101000")
    fills = sorted((f for u in users for f in engine.futures_fills(u) if f.trade_id > before),
                   key=lambda f: f.trade_id)
    assert [(f.price, f.uid) for f in fills] == [
        (D("97500"), bob),           # the plan order, at its trigger
        (D("98500"), alice),         # the partial TP's limit close, rested at 96000
        (D("99000"), erin),          # the resting limit order
        (isolated, carol),           # the isolated liquidation
        (D("99500"), alice),         # the position TP's limit close, rested at 97000
        (crossed_level, dave),       # the crossed liquidation
    ]
    assert fills[0].order_id == plan.order_id and fills[2].order_id == resting.order_id
    assert engine.futures_order(alice, partial.order_id).status is FuturesStatus.FILLED
    assert engine.positions(alice) == [] and engine.positions(carol) == [] and engine.positions(dave) == []


# ---- conservation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [11, 12])
def test_money_is_conserved_over_a_random_session(engine, seed):
    """Every user's futures balances, the margin held by open positions and the house balance add
    up to what was funded, whatever happens in between (fills, fees, PnL, liquidations)."""
    rng = random.Random(seed)
    users = []
    for i in range(4):
        uid = user(engine, f"u{i}", usdt="5000", btc="0.5")
        if i % 2:
            engine.set_position_mode(uid, USDT_M, PositionMode.HEDGE)
        if i >= 2:
            engine.set_margin_mode(uid, "bitget", USDT_M, "BTCUSDT", ISOLATED)
            engine.set_margin_mode(uid, "bitget", COIN_M, "BTCUSD", ISOLATED)
        engine.set_leverage(uid, "bitget", USDT_M, "BTCUSDT", rng.choice([5, 20, 50]))
        engine.set_leverage(uid, "bitget", COIN_M, "BTCUSD", rng.choice([5, 20, 50]))
        users.append(uid)
    price = D("95000")
    for step in range(120):
        uid = rng.choice(users)
        market, symbol = rng.choice([(USDT_M, "BTCUSDT"), (COIN_M, "BTCUSD")])
        kind = rng.random()
        try:
            if kind < 0.25:
                price = (price * D(rng.uniform(0.97, 1.03))).quantize(D("0.1"))
                engine.set_mark("bitget", market, symbol, price)
            elif kind < 0.85:
                side = rng.choice([LONG, SHORT])
                hedge = engine.futures_account(uid, market).position_mode is PositionMode.HEDGE
                trade = rng.choice([OPEN, CLOSE]) if hedge else OPEN
                limit = rng.random() < 0.4
                place(engine, uid, side, trade, str(D(rng.randint(1, 30)) / 1000),
                      LIMIT if limit else MARKET,
                      str((price * D(rng.uniform(0.98, 1.02))).quantize(D("0.1"))) if limit else None,
                      symbol=symbol, market=market, reduce_only=(not hedge and rng.random() < 0.2))
            else:
                orders = engine.futures_orders(uid, market=market, open_only=True)
                if orders:
                    engine.cancel_futures_order(uid, rng.choice(orders).order_id)
        except DomainError:
            pass
    fired = [o for u in users for o in engine.futures_orders(u) if o.source != "api"]
    assert fired  # the session reached TP/SL or liquidations, not only plain orders
    for asset, market, funded in (("USDT", USDT_M, D("20000")), ("BTC", COIN_M, D("2"))):
        balances = sum(engine.balance(u, asset, account=market).total for u in users)
        margin = engine.position_margin().get(market, D(0))
        total = balances + margin + engine.house_balance("bitget", asset)
        # Exact but for the last of Decimal's 28 significant digits: margin shares of partial
        # closes and inverse PnL are quotients, rounded where they are computed.
        assert total == funded, (asset, total - funded)
    # and no balance went negative
    for u in users:
        for b in engine.balances(u):
            assert b.available >= 0 and b.frozen >= 0


def test_a_resting_close_whose_position_closed_otherwise_trades_nothing():
    """A take-profit closes the position first; the resting close order then finds nothing
    to close: it is cancelled, with no fill and no money moved."""
    engine = Engine(new_store(), clock=ManualClock(), seed=9)
    install_market(engine)
    uid = engine.create_user("bitget", name="t").uid
    engine.fund(uid, "USDT", D("10000"), account="usdt-futures")
    engine.set_position_mode(uid, "usdt-futures", PositionMode.HEDGE)
    engine.place_futures_order(uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                               trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.01"),
                               tp_price=D("96000"))
    close = engine.place_futures_order(uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                                       trade_side=TradeSide.CLOSE, order_type=OrderType.LIMIT,
                                       size=D("0.01"), price=D("96500"))
    engine.set_mark("bitget", "usdt-futures", "BTCUSDT", D("97000"))  # TP at 96000 fires first
    after = engine.futures_order(uid, close.order_id)
    assert after.status.value == "cancelled" and after.filled_size == 0
    assert [f.order_id for f in engine.futures_fills(uid)].count(close.order_id) == 0
    assert engine.positions(uid) == []
