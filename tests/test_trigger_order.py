"""One price jump that crosses every kind of trigger fires them all, in price order along the move."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import MarginMode, OrderType, PositionMode, PositionSide, TradeSide
from stores import new_store

# every test here runs on each store (SQLite, and PostgreSQL when a server is named)
pytestmark = pytest.mark.usefixtures("store_backend")

M, S = "usdt-futures", "BTCUSDT"
LONG, SHORT, OPEN = PositionSide.LONG, PositionSide.SHORT, TradeSide.OPEN


def test_a_jump_fires_limits_liquidations_plans_trailing_stops_tpsl_and_tracking_tpsl_in_order():
    engine = Engine(new_store(), clock=ManualClock(), seed=21)
    install_market(engine)  # BTCUSDT futures at 95000.0

    def user(name: str) -> str:
        uid = engine.create_user("bitget", name=name).uid
        engine.fund(uid, "USDT", D("10000"), account=M)
        engine.set_position_mode(uid, M, PositionMode.HEDGE)
        return uid

    def order(uid, side, **kw):
        return engine.place_futures_order(uid, M, S, pos_side=side, trade_side=OPEN,
                                          order_type=kw.pop("order_type", OrderType.MARKET),
                                          size=D(kw.pop("size", "0.01")), **kw)

    resting, planner, tp_holder, trailer, doomed, trader = (
        user(n) for n in ("resting", "planner", "tp", "trailer", "doomed", "trader"))
    limit = order(resting, SHORT, order_type=OrderType.LIMIT, price=D("96000"))
    plan = order(planner, LONG, trigger_price=D("97000"))
    order(tp_holder, LONG, tp_price=D("98000"))
    short = order(trailer, SHORT)
    trailing = engine.place_trailing_stop(trailer, short.position_id, D("0.03"))  # 95000 × 1.03
    engine.set_margin_mode(doomed, "bitget", M, S, MarginMode.ISOLATED)
    engine.set_leverage(doomed, "bitget", M, S, 50)
    liquidated = order(doomed, SHORT)
    engine.copy.make_trader(trader, [(M, S)])
    order(trader, LONG)
    tracking = engine.copy.tracking_orders(trader, M)[0]
    engine.copy.modify_tpsl(trader, M, tracking.tracking_no, tp=D("99000"))
    fills_before = {uid: len(engine.futures_fills(uid, limit=None)) for uid in
                    (resting, planner, tp_holder, trailer, doomed, trader)}

    engine.set_mark("bitget", M, S, D("101000"))

    fired = []
    for uid in (resting, planner, tp_holder, trailer, doomed, trader):
        new = engine.futures_fills(uid, limit=None)[: len(engine.futures_fills(uid, limit=None)) - fills_before[uid]]
        fired += [(f.trade_id, f.price, f.order_id, uid) for f in new]
    fired.sort()
    prices = [price for _, price, _, _ in fired]
    assert prices == sorted(prices)  # along the move, upwards
    by_uid = {uid: price for _, price, _, uid in fired}
    assert by_uid[resting] == D("96000")
    assert D("96000") < by_uid[doomed] < D("97000")  # the isolated short's liquidation price
    assert by_uid[planner] == D("97000")
    assert by_uid[trailer] == D("97850.0")
    assert by_uid[tp_holder] == D("98000")
    assert by_uid[trader] == D("99000")
    assert [uid for _, _, _, uid in fired] == [resting, doomed, planner, trailer, tp_holder, trader]
    assert engine.futures_order(resting, limit.order_id).status.value == "filled"
    assert engine.futures_order(planner, plan.order_id).status.value == "filled"
    assert engine.futures_order(trailer, trailing.order_id).status.value == "filled"
    assert engine.positions(doomed) == [] and engine.positions(tp_holder) == []
    assert engine.copy.tracking(tracking.tracking_no).status != "open"
    assert liquidated.position_id is not None


def test_tpsl_orders_trailing_trigger_orders_and_limit_stops_fire_in_price_order_with_the_rest():
    """The kinds added with the TP/SL endpoints, in one jump with the older ones: a partial take-
    profit order (96500), a limit take-profit order triggered at 97500 (its limit 97400 lets it
    fill at once), a plan order (98500), a position TP with a limit price (99500); a trailing
    trigger order activated on the way follows the high and fires on the fall-back after."""
    engine = Engine(new_store(), clock=ManualClock(), seed=22)
    install_market(engine)

    def user(name: str) -> str:
        uid = engine.create_user("bitget", name=name).uid
        engine.fund(uid, "USDT", D("10000"), account=M)
        engine.set_position_mode(uid, M, PositionMode.HEDGE)
        return uid

    def order(uid, side, **kw):
        return engine.place_futures_order(uid, M, S, pos_side=side, trade_side=OPEN,
                                          order_type=kw.pop("order_type", OrderType.MARKET),
                                          size=D(kw.pop("size", "0.01")), **kw)

    resting, partial, limited, planner, preset, trailer = (
        user(n) for n in ("resting", "partial", "limited", "planner", "preset", "trailer"))
    order(resting, SHORT, order_type=OrderType.LIMIT, price=D("96000"))
    pos = order(partial, LONG, size="0.02").position_id
    (take,) = engine.protect_position(partial, pos, [{"kind": "tp", "trigger": D("96500"), "size": D("0.01")}])
    pos = order(limited, LONG).position_id
    (limit_take,) = engine.protect_position(limited, pos, [
        {"kind": "tp", "trigger": D("97500"), "size": D("0.01"), "execute": D("97400")}])
    order(planner, LONG, trigger_price=D("98500"))
    order(preset, LONG, tp_price=D("99500"), tp_execute=D("99400"))
    # a trailing trigger order that sells (opens a short) on a 1% fall-back after 100000: the
    # jump only rises, so it is activated and follows the high, but does not fire
    track = order(trailer, SHORT, trigger_price=D("100000"), callback_rate=D("0.01"))
    users = (resting, partial, limited, planner, preset, trailer)
    before = {uid: len(engine.futures_fills(uid, limit=None)) for uid in users}

    engine.set_mark("bitget", M, S, D("101000"))

    fired = []
    for uid in users:
        fills = engine.futures_fills(uid, limit=None)
        fired += [(f.trade_id, f.price, uid) for f in fills[: len(fills) - before[uid]]]
    fired.sort()
    assert [(price, uid) for _, price, uid in fired] == [
        (D("96000"), resting), (D("96500"), partial), (D("97500"), limited), (D("98500"), planner),
        (D("99500"), preset)]
    assert engine.futures_order(partial, take.order_id).status.value == "filled"
    assert engine.futures_order(limited, limit_take.order_id).status.value == "filled"
    assert [p.size for p in engine.positions(partial)] == [D("0.01")]
    assert engine.positions(limited) == [] and engine.positions(preset) == []
    waiting = engine.futures_order(trailer, track.order_id)
    assert (waiting.status.value, waiting.extreme_price) == ("untriggered", D("101000"))
    # the fall-back: 1% under the high, 99990, opens the short
    engine.set_mark("bitget", M, S, D("99900"))
    opened = engine.futures_order(trailer, track.order_id)
    assert (opened.status.value, opened.avg_price) == ("filled", D("99990.0"))
    assert [(p.side, p.size) for p in engine.positions(trailer)] == [(SHORT, D("0.01"))]
