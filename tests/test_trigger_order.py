"""One price jump that crosses every kind of trigger fires them all, in price order along the move."""

from __future__ import annotations

from decimal import Decimal as D

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import MarginMode, OrderType, PositionMode, PositionSide, TradeSide
from localex.store import open_store

M, S = "usdt-futures", "BTCUSDT"
LONG, SHORT, OPEN = PositionSide.LONG, PositionSide.SHORT, TradeSide.OPEN


def test_a_jump_fires_limits_liquidations_plans_trailing_stops_tpsl_and_tracking_tpsl_in_order():
    engine = Engine(open_store(":memory:"), clock=ManualClock(), seed=21)
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
