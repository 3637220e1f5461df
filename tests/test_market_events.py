"""What a price move did (fills, liquidations), reported by setting a price, in-process and through
the control plane; GET /localex/prices filters; the Emulator's futures funding."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import MarginMode, OrderType, PositionSide, Side, TradeSide
from stores import new_store

# every test here runs on each store (SQLite, and PostgreSQL when a server is named)
pytestmark = pytest.mark.usefixtures("store_backend")
from localex.testing import Emulator

USDT_M = "usdt-futures"


@pytest.fixture
def eng():
    engine = Engine(new_store(), clock=ManualClock(), seed=5)
    install_market(engine)
    return engine


def isolated_long(engine, size="0.1", leverage=10):
    uid = engine.create_user("bitget", name="alice").uid
    engine.fund(uid, "USDT", D("10000"), account=USDT_M)
    engine.set_margin_mode(uid, "bitget", USDT_M, "BTCUSDT", MarginMode.ISOLATED)
    engine.set_leverage(uid, "bitget", USDT_M, "BTCUSDT", leverage)
    engine.place_futures_order(uid, USDT_M, "BTCUSDT", pos_side=PositionSide.LONG,
                               trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D(size))
    return uid


def test_a_futures_move_answers_its_fills_and_liquidations(eng):
    uid = isolated_long(eng)
    resting = eng.place_futures_order(uid, USDT_M, "BTCUSDT", pos_side=PositionSide.LONG,
                                      trade_side=TradeSide.OPEN, order_type=OrderType.LIMIT,
                                      size=D("0.01"), price=D("94000"))
    fills, liquidated = eng.move_mark("bitget", USDT_M, "BTCUSDT", D("93900"))
    assert [(f.order_id, f.price) for f in fills] == [(resting.order_id, D("94000"))] and liquidated == []
    fills = eng.set_mark("bitget", USDT_M, "BTCUSDT", D("50000"))
    assert [f.trade_side.value for f in fills] == ["close"] * len(fills) and fills
    assert eng.positions(uid, market=USDT_M) == []
    assert {eng.futures_order(uid, f.order_id).source for f in fills} == {"liquidation"}


def test_a_refused_move_reports_nothing_and_a_spot_move_its_fills(eng):
    uid = eng.create_user("bitget", name="bob").uid
    eng.fund(uid, "USDT", D("1000"))
    with pytest.raises(ValueError):
        eng.move_mark("bitget", "spot", "BTCUSDT", D("-1"))
    order = eng.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.001"), D("90000"))
    assert eng.set_mark("bitget", "spot", "BTCUSDT", D("91000")) == []
    (fill,) = eng.set_mark("bitget", "spot", "BTCUSDT", D("89000"))
    assert (fill.order_id, fill.price) == (order.order_id, D("90000"))


def test_the_control_plane_reports_futures_fills_and_liquidations(http, world):
    uid = isolated_long(world.engine)
    resting = world.engine.place_futures_order(uid, USDT_M, "BTCUSDT", pos_side=PositionSide.LONG,
                                               trade_side=TradeSide.OPEN, order_type=OrderType.LIMIT,
                                               size=D("0.01"), price=D("94000"))
    body = http.post("/localex/prices", json={"venue": "bitget", "market": USDT_M, "symbol": "BTCUSDT",
                                              "price": "93900"}).json()
    assert [(f["orderId"], f["price"], f["liquidity"]) for f in body["fills"]] == [
        (str(resting.order_id), "94000", "maker")]
    assert body["liquidations"] == []
    (pos,) = world.engine.positions(uid, market=USDT_M)
    body = http.post("/localex/prices", json={"venue": "bitget", "market": USDT_M, "symbol": "BTCUSDT",
                                              "price": "50000"}).json()
    (liq,) = body["liquidations"]
    assert (liq["uid"], liq["positionId"], liq["posSide"], liq["size"]) == (
        uid, str(pos.position_id), "long", format(pos.size, "f"))
    assert [f["orderId"] for f in body["fills"]] == [liq["orderId"]]


def test_prices_honour_venue_market_and_symbol_filters(http, world):
    everything = http.get("/localex/prices").json()
    assert "bitget:spot:BTCUSDT" in everything and "coinw:futures:BTC" in everything
    coinw = http.get("/localex/prices", params={"venue": "coinw"}).json()
    assert coinw and all(k.startswith("coinw:") for k in coinw)
    assert http.get("/localex/prices", params={"venue": "bitget", "market": USDT_M}).json() == {
        "bitget:usdt-futures:BTCUSDT": everything["bitget:usdt-futures:BTCUSDT"],
        "bitget:usdt-futures:ETHUSDT": everything["bitget:usdt-futures:ETHUSDT"]}
    assert set(http.get("/localex/prices", params={"symbol": "btcusdt"}).json()) == {
        "bitget:spot:BTCUSDT", "bitget:usdt-futures:BTCUSDT"}
    assert http.get("/localex/prices", params={"venue": "nope"}).json() == {}


def test_emulator_funds_futures_accounts_and_reports_futures_fills():
    emu = Emulator(clock="manual")
    creds = emu.create_user(funds={}, futures={"usdt-futures": {"USDT": 5000}, "coin-futures": {"btc": "0.5"}})
    assert emu.balances(creds.uid) == {}
    assert emu.balances(creds.uid, "usdt-futures")["USDT"].available == D("5000")
    assert emu.balances(creds.uid, "coin-futures")["BTC"].available == D("0.5")
    order = emu.engine.place_futures_order(creds.uid, USDT_M, "BTCUSDT", pos_side=PositionSide.SHORT,
                                           trade_side=TradeSide.OPEN, order_type=OrderType.LIMIT,
                                           size=D("0.01"), price=D("96000"))
    assert [o.order_id for o in emu.orders(creds.uid, "open", market=USDT_M)] == [order.order_id]
    (fill,) = emu.set_price("BTCUSDT", 96100, market=USDT_M)
    assert (fill.order_id, fill.price) == (order.order_id, D("96000"))
    (pos,) = emu.positions(creds.uid)
    assert (pos.side.value, pos.size) == ("short", D("0.01"))
    assert emu.positions(creds.uid, status="closed") == []
