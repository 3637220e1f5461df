"""Engine unit tests: clocks, ids, users and keys, balances and the spot book. No HTTP."""

from __future__ import annotations

import random
import time
from decimal import ROUND_DOWN
from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock, SystemClock
from localex.engine.errors import (
    BelowMinimumNotional,
    Conflict,
    DomainError,
    DuplicateClientOid,
    InsufficientBalance,
    InvalidOrder,
    NonPositive,
    OrderNotCancellable,
    OrderNotFound,
    PricePrecision,
    SizePrecision,
    UnknownInstrument,
    UnknownUser,
)
from localex.engine.model import (
    DEFAULT_PERMISSIONS,
    CancelReason,
    KeyKind,
    Liquidity,
    OrderStatus,
    OrderType,
    Permission,
    Side,
    TimeInForce,
)
from stores import another_store, new_store

# every test here runs on each store (SQLite, and PostgreSQL when a server is named)
pytestmark = pytest.mark.usefixtures("store_backend")

BUY, SELL = Side.BUY, Side.SELL
LIMIT, MARKET = OrderType.LIMIT, OrderType.MARKET


def make_engine(seed: int = 1) -> Engine:
    engine = Engine(new_store(), clock=ManualClock(), seed=seed)
    install_market(engine)
    return engine


@pytest.fixture
def engine() -> Engine:
    return make_engine()


def trader(engine: Engine, name: str = "alice", **funds: str) -> str:
    uid = engine.create_user("bitget", name=name).uid
    for asset, amount in (funds or {"USDT": "100000", "BTC": "1"}).items():
        engine.fund(uid, asset, D(amount))
    return uid


def snapshot(engine: Engine, uid: str) -> dict:
    return {(b.asset, b.available, b.frozen) for b in engine.balances(uid)}


def avail(engine: Engine, uid: str, asset: str) -> D:
    return engine.balance(uid, asset).available


def frozen(engine: Engine, uid: str, asset: str) -> D:
    return engine.balance(uid, asset).frozen


def order_count(engine: Engine) -> int:
    with engine.tx() as uow:
        return uow.count("spot_orders")


# clocks ------------------------------------------------------------------------------------
def test_manual_clock_set_and_advance():
    clock = ManualClock(1_000)
    assert clock.now_ms() == 1_000
    clock.advance(250)
    assert clock.now_ms() == 1_250
    clock.set(5_000)
    assert clock.now_ms() == 5_000
    clock.set(10)  # set may jump backwards
    assert clock.now_ms() == 10
    clock.advance(0)
    assert clock.now_ms() == 10


def test_manual_clock_refuses_to_go_back():
    clock = ManualClock(1_000)
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.now_ms() == 1_000


def test_manual_clock_default_start_is_2026():
    assert ManualClock().now_ms() == 1_767_225_600_000


def test_system_clock_is_wall_time():
    now = SystemClock().now_ms()
    assert isinstance(now, int)
    assert abs(now - time.time() * 1000) < 1_000


# ids ---------------------------------------------------------------------------------------
def script(engine: Engine) -> list:
    """The same calls, recording every generated identifier."""
    out = []
    user = engine.create_user("bitget", name="alice")
    key = engine.create_api_key(user.uid)
    out += [user.uid, key.key, key.secret, key.passphrase]
    engine.fund(user.uid, "USDT", D("100000"))
    engine.fund(user.uid, "BTC", D("1"))
    for i in range(5):
        o = engine.place_spot_order(user.uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D(90000 + i))
        out += [o.order_id, o.client_oid]
        engine.clock.advance(3)
    o = engine.place_spot_order(user.uid, "BTCUSDT", SELL, MARKET, D("0.01"))
    out += [o.order_id, o.client_oid]
    out += [f.trade_id for f in engine.set_mark("bitget", "spot", "BTCUSDT", D("89000"))]
    out += [f.trade_id for f in engine.spot_fills(user.uid)]
    return out


def test_ids_are_19_digits_and_strictly_increasing(engine):
    uid = trader(engine)
    ids = []
    for _ in range(20):  # many in the same millisecond
        o = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.001"), D("90000"))
        ids += [o.order_id, int(o.client_oid)]
    engine.clock.set(engine.clock.now_ms() - 60_000)  # even when the clock steps back
    for _ in range(5):
        ids.append(engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.001"), D("90000")).order_id)
    assert all(len(str(i)) == 19 for i in ids)
    assert all(a < b for a, b in zip(ids, ids[1:]))


def test_ids_are_deterministic_under_seed_and_clock():
    first, second = script(make_engine(seed=42)), script(make_engine(seed=42))
    assert first == second
    other = script(make_engine(seed=43))
    assert other != first
    assert other[0] != first[0]  # uid
    assert other[1] != first[1]  # api key


def test_reset_restarts_the_random_source():
    engine = make_engine(seed=5)
    before = script(engine)
    engine.clock.set(ManualClock().now_ms())
    engine.reset()
    install_market(engine)
    assert script(engine) == before


# users and keys ----------------------------------------------------------------------------
def test_users(engine):
    user = engine.create_user("bitget", name="alice")
    assert len(user.uid) == 10 and user.uid.isdigit()
    assert user.venue == "bitget" and not user.fee_deduction
    assert engine.get_user(user.uid) == user
    assert engine.find_user("bitget", "alice") == user
    assert engine.find_user("bitget", "nobody") is None
    engine.clock.advance(1)
    given = engine.create_user("bitget", name="bob", uid="1234567890")
    assert given.uid == "1234567890"
    with pytest.raises(Conflict):
        engine.create_user("bitget", name="carol", uid="1234567890")
    with pytest.raises(Conflict):
        engine.create_user("bitget", name="alice")
    assert [u.name for u in engine.list_users("bitget")] == ["alice", "bob"]
    with pytest.raises(UnknownUser):
        engine.get_user("0000000000")
    anonymous = engine.create_user("bitget")
    assert anonymous.name == f"user-{anonymous.uid}"


def test_api_keys(engine):
    uid = engine.create_user("bitget", name="alice").uid
    key = engine.create_api_key(uid)
    assert key.key.startswith("bg_") and len(key.key) == 35
    assert len(key.secret) == 64 and len(key.passphrase) == 12
    assert key.kind == KeyKind.HMAC
    assert key.permissions == DEFAULT_PERMISSIONS
    assert key.allows(Permission.SPOT_TRADE) and not key.allows(Permission.WITHDRAW)
    assert key.allows_ip("1.2.3.4") and key.allows_ip(None)
    assert engine.get_api_key(key.key) == key

    read_only = engine.create_api_key(uid, permissions=[Permission.READ], ip_whitelist=["10.0.0.1"],
                                      passphrase="pass-phrase", label="ro")
    stored = engine.get_api_key(read_only.key)
    assert stored == read_only
    assert stored.permissions == frozenset({Permission.READ})
    assert not stored.allows(Permission.SPOT_TRADE) and stored.allows(Permission.READ)
    assert stored.ip_whitelist == ("10.0.0.1",)
    assert stored.allows_ip("10.0.0.1") and not stored.allows_ip("10.0.0.2")
    assert not stored.allows_ip(None)
    assert stored.passphrase == "pass-phrase" and stored.label == "ro"

    with pytest.raises(ValueError):
        engine.create_api_key(uid, kind=KeyKind.RSA)
    pem = "-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----\n"
    rsa = engine.create_api_key(uid, kind=KeyKind.RSA, public_key=pem)
    assert engine.get_api_key(rsa.key).secret == pem and rsa.kind == KeyKind.RSA
    assert len(engine.list_api_keys(uid)) == 3

    with pytest.raises(Conflict):
        engine.create_api_key(uid, key=key.key)
    with pytest.raises(UnknownUser):
        engine.create_api_key("0000000000")


# balances ----------------------------------------------------------------------------------
def test_fund_and_balances(engine):
    uid = engine.create_user("bitget", name="alice").uid
    assert engine.balance(uid, "USDT").available == 0
    engine.fund(uid, "USDT", D("100.5"))
    engine.fund(uid, "USDT", D("-0.5"))
    engine.fund(uid, "BTC", D("1"))
    assert {b.asset: b.available for b in engine.balances(uid)} == {"BTC": D(1), "USDT": D(100)}
    with pytest.raises(InsufficientBalance):
        engine.fund(uid, "USDT", D("-100.01"))
    with pytest.raises(InsufficientBalance):
        engine.fund(uid, "ETH", D("-1"))
    assert {b.asset: b.total for b in engine.balances(uid)} == {"BTC": D(1), "USDT": D(100)}
    with pytest.raises(UnknownUser):
        engine.fund("0000000000", "USDT", D(1))
    assert engine.total_balance("USDT") == D(100)


# spot orders -------------------------------------------------------------------------------
def test_limit_buy_freezes_and_cancel_releases(engine):
    uid = trader(engine)
    order = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.0123"), D("90000.01"))
    assert order.status == OrderStatus.LIVE
    locked = D("0.0123") * D("90000.01")
    assert order.frozen_asset == "USDT" and order.frozen_amount == locked
    assert frozen(engine, uid, "USDT") == locked
    assert avail(engine, uid, "USDT") == D(100000) - locked
    cancelled = engine.cancel_spot_order(uid, "BTCUSDT", order_id=order.order_id)
    assert cancelled.status == OrderStatus.CANCELLED and cancelled.cancel_reason == CancelReason.USER
    assert frozen(engine, uid, "USDT") == 0 and avail(engine, uid, "USDT") == D(100000)
    with pytest.raises(OrderNotCancellable):
        engine.cancel_spot_order(uid, "BTCUSDT", order_id=order.order_id)


def test_limit_sell_freezes_base(engine):
    uid = trader(engine)
    order = engine.place_spot_order(uid, "BTCUSDT", SELL, LIMIT, D("0.3"), D("99000"), client_oid="s1")
    assert frozen(engine, uid, "BTC") == D("0.3") and avail(engine, uid, "BTC") == D("0.7")
    engine.cancel_spot_order(uid, client_oid="s1")
    assert engine.spot_order(uid, order_id=order.order_id).status == OrderStatus.CANCELLED
    assert avail(engine, uid, "BTC") == D(1) and frozen(engine, uid, "BTC") == 0


def test_market_buy_spends_quote_at_the_mark(engine):
    uid = trader(engine)
    order = engine.place_spot_order(uid, "BTCUSDT", BUY, MARKET, D("1000"))
    base = D("0.010526")  # 1000 / 95000 = 0.01052631..., rounded down to 6 places
    spent = base * D("95000")
    fee = base * D("0.001")
    assert order.status == OrderStatus.FILLED
    assert order.filled_size == base and order.filled_quote == spent
    assert order.fee == fee and order.fee_asset == "BTC" and order.fee_value == fee
    assert order.frozen_amount == 0
    assert avail(engine, uid, "USDT") == D(100000) - spent  # the leftover 0.03 came back
    assert frozen(engine, uid, "USDT") == 0
    assert avail(engine, uid, "BTC") == D(1) + base - fee
    (fill,) = engine.spot_fills(uid)
    assert fill.price == D("95000") and fill.size == base and fill.liquidity == Liquidity.TAKER
    assert fill.fee == fee and fill.fee_asset == "BTC"


def test_market_buy_too_small_for_one_unit_is_cancelled(engine):
    uid = trader(engine)
    engine.set_mark("bitget", "spot", "BTCUSDT", D("10000000"))
    before = snapshot(engine, uid)
    order = engine.place_spot_order(uid, "BTCUSDT", BUY, MARKET, D("5"))  # 0.0000005 BTC < 0.000001
    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == CancelReason.IOC
    assert snapshot(engine, uid) == before and engine.spot_fills(uid) == []


def test_cancel_checks_symbol_and_owner(engine):
    alice, bob = trader(engine, "alice"), trader(engine, "bob")
    order = engine.place_spot_order(alice, "BTCUSDT", BUY, LIMIT, D("0.01"), D("90000"), client_oid="c")
    with pytest.raises(OrderNotFound):
        engine.cancel_spot_order(alice, "ETHUSDT", order_id=order.order_id)
    with pytest.raises(OrderNotFound):
        engine.cancel_spot_order(bob, "BTCUSDT", order_id=order.order_id)
    with pytest.raises(OrderNotFound):
        engine.cancel_spot_order(alice, order_id=order.order_id, client_oid="other")
    assert engine.spot_order(bob, order_id=order.order_id) is None
    assert engine.spot_order(alice, order_id=order.order_id).status == OrderStatus.LIVE


def test_market_sell_fee_in_quote(engine):
    uid = trader(engine)
    order = engine.place_spot_order(uid, "BTCUSDT", SELL, MARKET, D("0.01"))
    assert order.status == OrderStatus.FILLED and order.filled_quote == D("950")
    assert order.fee == D("0.95") and order.fee_asset == "USDT"
    assert avail(engine, uid, "USDT") == D(100000) + D("950") - D("0.95")
    assert avail(engine, uid, "BTC") == D("0.99") and frozen(engine, uid, "BTC") == 0


def test_marketable_limit_fills_at_the_mark_as_taker(engine):
    uid = trader(engine)
    order = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("96000"))
    assert order.status == OrderStatus.FILLED and order.avg_price == D("95000")
    assert avail(engine, uid, "USDT") == D(100000) - D("950") and frozen(engine, uid, "USDT") == 0
    assert avail(engine, uid, "BTC") == D(1) + D("0.01") - D("0.00001")
    sell = engine.place_spot_order(uid, "BTCUSDT", SELL, LIMIT, D("0.01"), D("94000"))
    assert sell.status == OrderStatus.FILLED and sell.avg_price == D("95000")
    assert {f.liquidity for f in engine.spot_fills(uid)} == {Liquidity.TAKER}


def test_post_only_marketable_is_cancelled(engine):
    uid = trader(engine)
    before = snapshot(engine, uid)
    order = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("96000"),
                                    force=TimeInForce.POST_ONLY)
    assert order.status == OrderStatus.CANCELLED and order.cancel_reason == CancelReason.POST_ONLY
    assert order.filled_size == 0 and order.frozen_amount == 0
    assert snapshot(engine, uid) == before
    assert engine.spot_fills(uid) == []
    resting = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("94000"),
                                      force=TimeInForce.POST_ONLY)
    assert resting.status == OrderStatus.LIVE


@pytest.mark.parametrize("force", [TimeInForce.IOC, TimeInForce.FOK])
def test_ioc_and_fok_not_marketable_are_cancelled(engine, force):
    uid = trader(engine)
    before = snapshot(engine, uid)
    order = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("94000"), force=force)
    assert order.status == OrderStatus.CANCELLED
    assert order.cancel_reason == CancelReason(force.value)
    assert snapshot(engine, uid) == before
    filled = engine.place_spot_order(uid, "BTCUSDT", SELL, LIMIT, D("0.01"), D("94000"), force=force)
    assert filled.status == OrderStatus.FILLED


def test_resting_orders_fill_as_maker_best_price_first(engine):
    uid = trader(engine)
    low = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("93000"))
    mid = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("94000"))
    high = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("94500"))
    assert engine.set_mark("bitget", "spot", "BTCUSDT", D("94600")) == []
    fills = engine.set_mark("bitget", "spot", "BTCUSDT", D("93500"))
    assert [f.order_id for f in fills] == [high.order_id, mid.order_id]
    assert [f.price for f in fills] == [D("94500"), D("94000")]  # their own prices, not the mark
    assert all(f.liquidity == Liquidity.MAKER and f.fee == D("0.00001") for f in fills)
    assert engine.spot_order(uid, order_id=low.order_id).status == OrderStatus.LIVE
    assert frozen(engine, uid, "USDT") == D("930")
    assert avail(engine, uid, "USDT") == D(100000) - D("945") - D("940") - D("930")
    assert avail(engine, uid, "BTC") == D(1) + 2 * (D("0.01") - D("0.00001"))
    assert engine.mark(engine.instrument("bitget", "spot", "BTCUSDT")) == D("93500")


def test_a_mark_jump_fills_every_order_it_crosses(engine):
    uid = trader(engine)
    sells = [engine.place_spot_order(uid, "BTCUSDT", SELL, LIMIT, D("0.1"), D(p))
             for p in ("98000", "96000", "97000")]
    untouched = engine.place_spot_order(uid, "BTCUSDT", SELL, LIMIT, D("0.1"), D("99500"))
    fills = engine.set_mark("bitget", "spot", "BTCUSDT", D("99000"))
    assert [f.price for f in fills] == [D("96000"), D("97000"), D("98000")]
    assert {f.order_id for f in fills} == {o.order_id for o in sells}
    assert all(engine.spot_order(uid, order_id=o.order_id).status == OrderStatus.FILLED for o in sells)
    assert engine.spot_order(uid, order_id=untouched.order_id).status == OrderStatus.LIVE
    quote = D("9600") + D("9700") + D("9800")
    assert avail(engine, uid, "USDT") == D(100000) + quote - quote * D("0.001")
    assert frozen(engine, uid, "BTC") == D("0.1") and avail(engine, uid, "BTC") == D("0.6")


def test_matching_crosses_users(engine):
    alice, bob = trader(engine, "alice"), trader(engine, "bob")
    a = engine.place_spot_order(alice, "BTCUSDT", BUY, LIMIT, D("0.01"), D("94000"))
    b = engine.place_spot_order(bob, "BTCUSDT", BUY, LIMIT, D("0.01"), D("94000"))
    fills = engine.set_mark("bitget", "spot", "BTCUSDT", D("90000"))
    assert [(f.uid, f.order_id) for f in fills] == [(alice, a.order_id), (bob, b.order_id)]  # oldest first


# BGB fee deduction -------------------------------------------------------------------------
def test_bgb_pays_the_fee_at_a_discount(engine):
    uid = trader(engine, USDT="100000", BTC="1", BGB="100")
    engine.set_fee_deduction(uid, True)
    assert engine.get_user(uid).fee_deduction
    buy = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("96000"))
    # fee 0.001 * 950 USDT = 0.95 USDT; 20% off = 0.76 USDT; at 5 USDT per BGB = 0.152 BGB
    assert buy.fee == D("0.152") and buy.fee_asset == "BGB"
    assert buy.fee_value == D("0.00001")  # the fee valued in the coin received
    assert avail(engine, uid, "BTC") == D("1.01")  # received in full
    assert avail(engine, uid, "BGB") == D("100") - D("0.152")
    sell = engine.place_spot_order(uid, "BTCUSDT", SELL, MARKET, D("0.01"))
    assert sell.fee == D("0.152") and sell.fee_asset == "BGB" and sell.fee_value == D("0.95")
    assert avail(engine, uid, "USDT") == D(100000)  # paid 950, got 950 back in full
    assert engine.fees_collected("BGB") == D("0.304")
    assert engine.fees_collected("USDT") == 0 and engine.fees_collected("BTC") == 0


def test_bgb_fee_follows_the_bgb_price(engine):
    uid = trader(engine, USDT="100000", BGB="100")
    engine.set_fee_deduction(uid, True)
    engine.set_mark("bitget", "spot", "BGBUSDT", D("2"))
    order = engine.place_spot_order(uid, "BTCUSDT", BUY, MARKET, D("950"))
    assert order.fee_asset == "BGB" and order.fee == D("0.38")  # 0.76 USDT / 2


def test_without_enough_bgb_the_fee_falls_back_to_the_received_coin(engine):
    uid = trader(engine, USDT="100000", BGB="0.1")
    engine.set_fee_deduction(uid, True)
    order = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("96000"))
    assert order.fee_asset == "BTC" and order.fee == D("0.00001")
    assert avail(engine, uid, "BTC") == D("0.00999")
    assert avail(engine, uid, "BGB") == D("0.1")


def test_without_opting_in_bgb_is_not_used(engine):
    uid = trader(engine, USDT="100000", BGB="100")
    order = engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("96000"))
    assert order.fee_asset == "BTC" and avail(engine, uid, "BGB") == D("100")


def test_buying_bgb_with_bgb_fee_deduction_charges_the_fee_once(engine):
    uid = trader(engine, USDT="1000", BGB="10")
    engine.set_fee_deduction(uid, True)
    order = engine.place_spot_order(uid, "BGBUSDT", BUY, LIMIT, D("10"), D("5"))
    # fee 0.05 USDT, 20% off = 0.04 USDT = 0.008 BGB; the 10 BGB bought arrive whole
    assert order.fee == D("0.008") and order.fee_asset == "BGB"
    assert avail(engine, uid, "BGB") == D("20") - D("0.008")
    assert engine.total_balance("BGB") + engine.fees_collected("BGB") == D("20")


# validation --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "error, symbol, side, order_type, size, price",
    [
        (PricePrecision, "BTCUSDT", BUY, LIMIT, "0.01", "90000.001"),
        (SizePrecision, "BTCUSDT", BUY, LIMIT, "0.0000001", "90000"),
        (SizePrecision, "BTCUSDT", BUY, MARKET, "10.0000001", None),
        (BelowMinimumNotional, "BTCUSDT", BUY, LIMIT, "0.00001", "90000"),
        (BelowMinimumNotional, "BTCUSDT", BUY, MARKET, "0.5", None),
        (BelowMinimumNotional, "BTCUSDT", SELL, MARKET, "0.00001", None),
        (NonPositive, "BTCUSDT", BUY, LIMIT, "0", "90000"),
        (NonPositive, "BTCUSDT", SELL, LIMIT, "-1", "90000"),
        (NonPositive, "BTCUSDT", BUY, LIMIT, "0.01", "0"),
        (NonPositive, "BTCUSDT", BUY, LIMIT, "0.01", None),
        (UnknownInstrument, "DOGEUSDT", BUY, LIMIT, "10", "0.1"),
        (InsufficientBalance, "BTCUSDT", BUY, LIMIT, "2", "90000"),
        (InsufficientBalance, "BTCUSDT", SELL, LIMIT, "1.5", "99000"),
        (InsufficientBalance, "BTCUSDT", BUY, MARKET, "100001", None),
        (InsufficientBalance, "ETHUSDT", SELL, MARKET, "1", None),
    ],
)
def test_invalid_orders_change_nothing(engine, error, symbol, side, order_type, size, price):
    uid = trader(engine)
    engine.place_spot_order(uid, "BTCUSDT", BUY, LIMIT, D("0.01"), D("90000"))
    before, orders, fills = snapshot(engine, uid), order_count(engine), engine.spot_fills(uid)
    with pytest.raises(error):
        engine.place_spot_order(uid, symbol, side, order_type, D(size),
                                None if price is None else D(price))
    assert snapshot(engine, uid) == before
    assert order_count(engine) == orders
    assert engine.spot_fills(uid) == fills


def test_duplicate_client_oid_is_per_user(engine):
    alice, bob = trader(engine, "alice"), trader(engine, "bob")
    engine.place_spot_order(alice, "BTCUSDT", BUY, LIMIT, D("0.01"), D("90000"), client_oid="x-1")
    before, orders = snapshot(engine, alice), order_count(engine)
    with pytest.raises(DuplicateClientOid):
        engine.place_spot_order(alice, "BTCUSDT", SELL, LIMIT, D("0.01"), D("99000"), client_oid="x-1")
    assert snapshot(engine, alice) == before and order_count(engine) == orders
    other = engine.place_spot_order(bob, "BTCUSDT", BUY, LIMIT, D("0.01"), D("90000"), client_oid="x-1")
    assert other.client_oid == "x-1"
    assert engine.spot_order(bob, client_oid="x-1").order_id == other.order_id
    assert engine.spot_order(alice, client_oid="x-1").order_id != other.order_id


def test_unknown_user_cannot_trade(engine):
    with pytest.raises(UnknownUser):
        engine.place_spot_order("0000000000", "BTCUSDT", BUY, LIMIT, D("0.01"), D("90000"))
    assert order_count(engine) == 0


# conservation ------------------------------------------------------------------------------
SCALES = {"BTCUSDT": (2, 6), "ETHUSDT": (2, 4), "BGBUSDT": (4, 2)}
FUNDS = {"USDT": D("50000"), "BTC": D("0.5"), "ETH": D("8"), "BGB": D("40")}


def _q(value: D, places: int) -> D:
    return value.quantize(D(1).scaleb(-places), ROUND_DOWN)


def check_frozen_matches_open_orders(engine: Engine, uids: list[str]) -> None:
    for uid in uids:
        held: dict[str, D] = {}
        for o in engine.spot_orders(uid, open_only=True, limit=10_000):
            held[o.frozen_asset] = held.get(o.frozen_asset, D(0)) + o.frozen_amount
        for bal in engine.balances(uid):
            assert bal.available >= 0 and bal.frozen >= 0
            assert bal.frozen == held.get(bal.asset, D(0)), (uid, bal.asset)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_conservation_over_a_random_session(seed):
    engine = make_engine(seed=seed)
    rng = random.Random(seed)
    uids = []
    for i in range(4):
        uid = engine.create_user("bitget", name=f"t{i}").uid
        for asset, amount in FUNDS.items():
            engine.fund(uid, asset, amount)
        if i % 2:
            engine.set_fee_deduction(uid, True)
        uids.append(uid)
    funded = {asset: amount * len(uids) for asset, amount in FUNDS.items()}
    rejected = placed = 0
    for step in range(250):
        engine.clock.advance(rng.randrange(0, 50))
        roll = rng.random()
        symbol = rng.choice(list(SCALES))
        price_scale, size_scale = SCALES[symbol]
        inst = engine.instrument("bitget", "spot", symbol)
        mark = engine.mark(inst)
        if roll < 0.2:
            move = D(str(rng.uniform(0.97, 1.03)))
            engine.set_mark("bitget", "spot", symbol, _q(mark * move, price_scale))
        elif roll < 0.3:
            uid = rng.choice(uids)
            open_orders = engine.spot_orders(uid, open_only=True)
            if open_orders:
                engine.cancel_spot_order(uid, order_id=rng.choice(open_orders).order_id)
        else:
            uid = rng.choice(uids)
            side = rng.choice([BUY, SELL])
            notional = D(rng.randrange(5, 3000))
            try:
                if roll < 0.45:
                    size = notional if side == BUY else _q(notional / mark, size_scale)
                    engine.place_spot_order(uid, symbol, side, MARKET, size)
                else:
                    price = _q(mark * D(str(rng.uniform(0.98, 1.02))), price_scale)
                    size = _q(notional / price, size_scale)
                    force = rng.choice(list(TimeInForce))
                    engine.place_spot_order(uid, symbol, side, LIMIT, size, price, force=force)
                placed += 1
            except DomainError:
                rejected += 1
        if step % 25 == 0:
            check_frozen_matches_open_orders(engine, uids)
    check_frozen_matches_open_orders(engine, uids)
    assert placed > 100
    fills = sum(len(engine.spot_fills(uid, limit=10_000)) for uid in uids)
    assert fills > 50
    assert engine.fees_collected("BGB") > 0  # the deduction path was exercised
    # the market is every order's counterparty: what it paid out or took in moved the totals
    expected = dict(funded)
    for uid in uids:
        for f in engine.spot_fills(uid, limit=10_000):
            inst = engine.instrument("bitget", "spot", f.symbol)
            sign = 1 if f.side == BUY else -1
            expected[inst.base] += sign * f.size
            expected[inst.quote] -= sign * f.quote
    for asset, total in expected.items():
        assert engine.total_balance(asset) + engine.fees_collected(asset) == total, asset
    assert sum(engine.fees_collected(a) for a in ("BTC", "ETH", "USDT")) > 0


def test_a_manual_fill_leaves_the_order_partially_filled_then_completes_it(engine):
    alice = trader(engine)
    order = engine.place_spot_order(alice, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.03"), D("90000"))
    fill = engine.fill_spot_order(alice, order.order_id, D("0.01"))
    assert (fill.price, fill.size, fill.liquidity) == (D("90000"), D("0.01"), Liquidity.MAKER)
    partial = engine.spot_order(alice, order.order_id)
    assert (partial.status, partial.filled_size, partial.frozen_amount) == (
        OrderStatus.PARTIALLY_FILLED, D("0.01"), D("1800"))
    assert engine.balance(alice, "USDT").frozen == D("1800")
    with pytest.raises(InvalidOrder):
        engine.fill_spot_order(alice, order.order_id, D("0.03"))
    engine.fill_spot_order(alice, order.order_id)
    done = engine.spot_order(alice, order.order_id)
    assert (done.status, done.filled_size, done.frozen_amount) == (OrderStatus.FILLED, D("0.03"), D("0"))
    with pytest.raises(OrderNotCancellable):
        engine.fill_spot_order(alice, order.order_id)
    with pytest.raises(OrderNotFound):
        engine.fill_spot_order("0000000000", order.order_id)
