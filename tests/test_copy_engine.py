"""Copy trading in the engine: tracking orders, follower sizing, closing (atomic, exactly once),
TP/SL, profit share, and conservation of money across users, positions and the house."""

from __future__ import annotations

import threading
from decimal import Decimal as D

import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.copy import (
    FollowerSetting,
    NotATrader,
    TpslTooFrequent,
    TraceType,
    TrackingNotFound,
    TrackingNotOpen,
    TraderMustCloseTracking,
)
from localex.engine.model import OrderType, PositionSide, TradeSide
from stores import another_store, new_store

# every test here runs on each store (SQLite, and PostgreSQL when a server is named)
pytestmark = pytest.mark.usefixtures("store_backend")

USDT_M = "usdt-futures"
BTC = "BTCUSDT"
ETH = "ETHUSDT"


class World:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.funded = D(0)

    def user(self, name: str, usdt: str = "10000"):
        user = self.engine.create_user("bitget", name=name)
        if D(usdt):
            self.engine.fund(user.uid, "USDT", D(usdt), account=USDT_M)
            self.funded += D(usdt)
        return user

    def trader(self, name: str = "trader", usdt: str = "100000", symbols=((USDT_M, BTC), (USDT_M, ETH)),
               **options):
        user = self.user(name, usdt)
        self.engine.copy.make_trader(user.uid, symbols, **options)
        return user

    def follower(self, trader, name: str, usdt: str = "10000", trace: str = "fixed_amount",
                 value: str = "100", symbol: str = BTC, **setting):
        user = self.user(name, usdt)
        self.engine.copy.follow(user.uid, trader.uid, [FollowerSetting(
            "", "", USDT_M, symbol, trace_type=TraceType(trace).value, trace_value=D(value), **setting)])
        return user

    def open(self, user, size: str, side=PositionSide.LONG, symbol: str = BTC, **order):
        return self.engine.place_futures_order(user.uid, USDT_M, symbol, pos_side=side,
                                               trade_side=TradeSide.OPEN, order_type=OrderType.MARKET,
                                               size=D(size), **order)

    def price(self, price: str, symbol: str = BTC) -> None:
        self.engine.set_mark("bitget", USDT_M, symbol, D(price))

    def tracking(self, trader):
        return self.engine.copy.tracking_orders(trader.uid, USDT_M, limit=1000)

    def conserved(self) -> bool:
        """Every user's balances + open position margins + the house == what was funded."""
        e = self.engine
        users = sum((b.total for u in e.list_users("bitget") for b in e.balances(u.uid) if b.asset == "USDT"),
                    D(0))
        margins = e.position_margin().get(USDT_M, D(0))
        return users + margins + e.house_balance("bitget", "USDT") == self.funded


def make_engine(url: str = ":memory:") -> Engine:
    engine = Engine(new_store(url), clock=ManualClock(), seed=3)
    install_market(engine)
    return engine


@pytest.fixture
def w() -> World:
    return World(make_engine())


# ---- tracking orders -----------------------------------------------------------------------

def test_every_filled_open_is_one_tracking_order_never_merged(w):
    trader = w.trader()
    o1 = w.open(trader, "0.01", tp_price=D("99000"), sl_price=D("90000"))
    o2 = w.open(trader, "0.02")
    positions = w.engine.positions(trader.uid)
    assert len(positions) == 1 and positions[0].size == D("0.03")  # the position merges
    assert positions[0].tp_price is None and positions[0].sl_price is None  # stops live on tracking
    newest, oldest = w.tracking(trader)
    assert (oldest.open_order_id, newest.open_order_id) == (o1.order_id, o2.order_id)
    for tr in (oldest, newest):
        assert len(str(tr.tracking_no)) == 19 and tr.tracking_no not in (o1.order_id, o2.order_id)
        assert tr.open_price == D("95000.0") and tr.leverage == 20 and tr.follow_count == 0
    assert (oldest.open_size, oldest.tp_price, oldest.sl_price) == (D("0.01"), D("99000"), D("90000"))
    assert oldest.open_fee == D("0.01") * D("95000") * D("0.0006")
    assert newest.open_size == D("0.02") and newest.tp_price is None


def test_opens_off_copy_symbols_or_by_non_traders_track_nothing(w):
    trader = w.trader(symbols=[(USDT_M, BTC)])
    plain = w.user("plain")
    w.open(trader, "0.1", symbol=ETH)
    w.open(plain, "0.01")
    assert w.tracking(trader) == []
    with pytest.raises(NotATrader):
        w.engine.copy.tracking_orders(plain.uid, USDT_M)


def test_trader_cannot_close_a_tracked_position_with_an_order(w):
    trader = w.trader()
    w.open(trader, "0.01")
    with pytest.raises(TraderMustCloseTracking):
        w.engine.place_futures_order(trader.uid, USDT_M, BTC, pos_side=PositionSide.LONG,
                                     trade_side=TradeSide.CLOSE, order_type=OrderType.MARKET,
                                     size=D("0.01"))
    w.open(trader, "0.1", symbol="ETHUSDT", side=PositionSide.SHORT)
    w.engine.copy.close(trader.uid, USDT_M, symbol=ETH)
    assert [t.symbol for t in w.tracking(trader)] == [BTC]


# ---- followers -----------------------------------------------------------------------------

def test_copy_sizing_for_each_follower_mode(w):
    trader = w.trader()
    amount = w.follower(trader, "amount", trace="fixed_amount", value="100")  # 100 USDT margin at 20x
    multiple = w.follower(trader, "multiple", trace="multiple", value="2")  # twice the trader's margin
    fixed = w.follower(trader, "fixed", trace="fixed_size", value="0.005")
    specify = w.follower(trader, "lever", trace="fixed_amount", value="100", lever_type="specify",
                         long_leverage=10, short_leverage=5)
    smart = w.user("smart")
    w.engine.copy.copy_settings(smart.uid, trader.uid, D("1000"))  # 1000 of the trader's ~100000
    w.open(trader, "0.04")
    (tr,) = w.tracking(trader)
    sizes = {c.follower_uid: (c.open_size, c.leverage) for c in w.engine.copy.copies_of(tr.tracking_no)}
    assert sizes[amount.uid] == (D("0.0210"), 20)  # 100 * 20 / 95000 = 0.02105 -> step 0.0001
    assert sizes[multiple.uid] == (D("0.08"), 20)
    assert sizes[fixed.uid] == (D("0.005"), 20)
    assert sizes[specify.uid] == (D("0.0105"), 10)
    # smart: trader margin 190 * 1000 / trader equity (100000 less the open fee) -> 0.0004
    assert sizes[smart.uid] == (D("0.0004"), 20)
    assert tr.follow_count == 5
    for uid, (size, _) in sizes.items():
        (pos,) = w.engine.positions(uid)
        assert pos.size == size and pos.side is PositionSide.LONG
    assert w.conserved()


def test_follower_without_enough_balance_is_skipped_not_half_filled(w):
    trader = w.trader()
    rich = w.follower(trader, "rich")
    poor = w.follower(trader, "poor", usdt="50")  # 100 USDT margin needed
    w.open(trader, "0.01")
    (tr,) = w.tracking(trader)
    assert tr.follow_count == 1
    assert [c.follower_uid for c in w.engine.copy.copies_of(tr.tracking_no)] == [rich.uid]
    assert w.engine.positions(poor.uid) == [] and w.engine.futures_orders(poor.uid) == []
    assert w.engine.balance(poor.uid, "USDT", USDT_M).available == D("50")
    assert w.conserved()


def test_followers_without_settings_for_the_symbol_and_max_hold_size(w):
    trader = w.trader()
    eth_only = w.follower(trader, "eth", symbol=ETH)
    capped = w.follower(trader, "capped", trace="fixed_size", value="0.01", max_hold_size=D("0.015"))
    w.open(trader, "0.01")
    w.open(trader, "0.01")
    w.open(trader, "0.01")
    newest, middle, oldest = w.tracking(trader)
    assert (oldest.follow_count, middle.follow_count, newest.follow_count) == (1, 1, 0)
    sizes = [c.open_size for c in w.engine.copy.follower_copies(capped.uid, ascending=True)]
    assert sizes == [D("0.01"), D("0.005")]
    assert w.engine.copy.follower_copies(eth_only.uid) == []


# ---- closing -------------------------------------------------------------------------------

def test_close_realizes_pnl_for_trader_and_followers_and_shares_profit(w):
    trader = w.trader(profit_share_ratio=D("0.1"))
    f = w.follower(trader, "f", trace="fixed_size", value="0.01")
    w.open(trader, "0.01")
    (tr,) = w.tracking(trader)
    before = w.engine.balance(trader.uid, "USDT", USDT_M).available
    w.price("96000")
    (closed,) = w.engine.copy.close(trader.uid, USDT_M, tracking_no=tr.tracking_no)
    assert closed.status == "closed" and closed.close_price == D("96000") and closed.close_size == D("0.01")
    assert closed.achieved_pl == D("10") and closed.close_fee == D("0.576")
    (copy,) = w.engine.copy.copies_of(tr.tracking_no)
    assert copy.status == "closed" and copy.achieved_pl == D("10") and copy.close_fee == D("0.576")
    net = D("10") - D("0.57") - D("0.576")
    assert copy.profit_share == net * D("0.1")
    assert w.engine.positions(trader.uid) == [] and w.engine.positions(f.uid) == []
    after = w.engine.balance(trader.uid, "USDT", USDT_M).available
    assert after - before == D("47.5") + D("10") - D("0.576") + copy.profit_share  # margin back, PnL, share
    shares = w.engine.copy.profit_shares(trader.uid)
    assert [s.amount for s in shares] == [copy.profit_share]
    with pytest.raises(TrackingNotOpen):
        w.engine.copy.close(trader.uid, USDT_M, tracking_no=tr.tracking_no)
    with pytest.raises(TrackingNotFound):
        w.engine.copy.close(trader.uid, USDT_M, tracking_no=tr.tracking_no + 1)
    assert w.conserved()


def test_close_exactly_one_tracking_order_of_a_merged_position(w):
    trader = w.trader()
    w.open(trader, "0.01")
    w.open(trader, "0.03")
    newest, oldest = w.tracking(trader)
    w.engine.copy.close(trader.uid, USDT_M, tracking_no=oldest.tracking_no)
    (pos,) = w.engine.positions(trader.uid)
    assert pos.size == D("0.03")
    assert [t.tracking_no for t in w.tracking(trader)] == [newest.tracking_no]


def test_close_by_symbol_and_by_product_type(w):
    trader = w.trader()
    w.open(trader, "0.01")
    w.open(trader, "0.1", symbol=ETH, side=PositionSide.SHORT)
    w.open(trader, "0.02")
    assert [t.symbol for t in w.engine.copy.close(trader.uid, USDT_M, symbol=ETH)] == [ETH]
    assert [t.open_size for t in w.engine.copy.close(trader.uid, USDT_M)] == [D("0.01"), D("0.02")]
    assert w.engine.copy.close(trader.uid, USDT_M) == []
    assert w.engine.positions(trader.uid) == []


def snapshot(engine: Engine, uids: list[str]) -> tuple:
    return (
        [(b.uid, b.account, b.asset, b.available, b.frozen) for u in uids for b in engine.balances(u)],
        [(p.position_id, p.size, p.margin, p.open) for u in uids for p in engine.positions(u, open_only=None)],
        [(o.order_id, o.status) for u in uids for o in engine.futures_orders(u)],
        engine.house_balance("bitget", "USDT"),
    )


def test_close_of_a_trader_with_many_followers_is_all_or_nothing(w, monkeypatch):
    trader = w.trader()
    followers = [w.follower(trader, f"f{i}", trace="fixed_size", value="0.01") for i in range(30)]
    w.open(trader, "0.01")
    (tr,) = w.tracking(trader)
    assert tr.follow_count == 30
    w.price("97000")
    uids = [trader.uid] + [f.uid for f in followers]
    before = snapshot(w.engine, uids)
    real = w.engine.futures._market_close
    failing = followers[17].uid
    closes = []

    def market_close(uow, inst, pos, size, price, source):
        if pos.uid == failing:
            raise RuntimeError("the matching engine went away")
        closes.append(pos.uid)
        return real(uow, inst, pos, size, price, source)

    monkeypatch.setattr(w.engine.futures, "_market_close", market_close)
    with pytest.raises(RuntimeError):
        w.engine.copy.close(trader.uid, USDT_M, tracking_no=tr.tracking_no)
    assert closes[0] == trader.uid and len(closes) > 2  # the trader and others had closed ...
    assert snapshot(w.engine, uids) == before  # ... and none of it was kept
    assert w.engine.copy.tracking(tr.tracking_no).status == "open"
    assert all(c.status == "open" for c in w.engine.copy.copies_of(tr.tracking_no))
    monkeypatch.setattr(w.engine.futures, "_market_close", real)
    w.engine.copy.close(trader.uid, USDT_M, tracking_no=tr.tracking_no)
    assert all(c.status == "closed" for c in w.engine.copy.copies_of(tr.tracking_no))
    assert all(w.engine.positions(u) == [] for u in uids)
    assert w.conserved()


def _race(closers) -> list:
    barrier = threading.Barrier(len(closers))
    results: list = [None] * len(closers)

    def run(i, close):
        barrier.wait()
        try:
            results[i] = close()
        except Exception as exc:  # noqa: BLE001  the loser's refusal is the result
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(closers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_closes_on_a_file_store_exactly_one_succeeds(tmp_path):
    url = str(tmp_path / "copy.db")
    w = World(make_engine(url))
    trader = w.trader()
    for i in range(5):
        w.follower(trader, f"f{i}", trace="fixed_size", value="0.01")
    w.open(trader, "0.01")
    w.open(trader, "0.01")
    first, second = w.tracking(trader)
    # two threads on one engine
    results = _race([lambda: w.engine.copy.close(trader.uid, USDT_M, tracking_no=first.tracking_no)] * 2)
    assert sorted(type(r).__name__ for r in results) == ["TrackingNotOpen", "list"]
    # two engines (two connections, as two worker processes would have) on the same file
    other = Engine(another_store(url), clock=ManualClock(), seed=4)
    results = _race([lambda: w.engine.copy.close(trader.uid, USDT_M, tracking_no=second.tracking_no),
                     lambda: other.copy.close(trader.uid, USDT_M, tracking_no=second.tracking_no)])
    assert sorted(type(r).__name__ for r in results) == ["TrackingNotOpen", "list"]
    assert w.engine.positions(trader.uid) == []
    copies = w.engine.copy.copies_of(first.tracking_no) + w.engine.copy.copies_of(second.tracking_no)
    assert len(copies) == 10 and all(c.status == "closed" for c in copies)
    assert len(w.engine.futures_orders(trader.uid)) == 4  # two opens, two closes: no double close
    assert w.conserved()


# ---- TP/SL, reconciling, unfollowing ---------------------------------------------------------

def test_tracking_take_profit_and_stop_loss_close_it_and_its_copies(w):
    trader = w.trader()
    f = w.follower(trader, "f", trace="fixed_size", value="0.01")
    w.open(trader, "0.01", tp_price=D("97000"))
    w.open(trader, "0.01", sl_price=D("94000"))
    sl_order, tp_order = w.tracking(trader)
    w.price("97500")
    tp = w.engine.copy.tracking(tp_order.tracking_no)
    assert (tp.status, tp.stop_type, tp.close_price) == ("closed", "profit", D("97000"))
    assert w.engine.copy.tracking(sl_order.tracking_no).status == "open"
    w.price("93000")
    sl = w.engine.copy.tracking(sl_order.tracking_no)
    assert (sl.status, sl.stop_type, sl.close_price, sl.achieved_pl) == ("closed", "loss", D("94000"), D("-10"))
    assert w.engine.positions(trader.uid) == [] and w.engine.positions(f.uid) == []
    sources = {o.source for o in w.engine.futures_orders(trader.uid)}
    assert {"trader_profit", "trader_loss"} <= sources
    assert w.conserved()


def test_modify_tpsl_absent_zero_positive_and_the_300ms_rule(w):
    trader = w.trader()
    w.open(trader, "0.01", tp_price=D("99000"))
    (tr,) = w.tracking(trader)
    w.engine.copy.modify_tpsl(trader.uid, USDT_M, tr.tracking_no, sl=D("90000"))
    with pytest.raises(TpslTooFrequent):
        w.engine.copy.modify_tpsl(trader.uid, USDT_M, tr.tracking_no, sl=D("91000"))
    w.engine.clock.advance(300)
    w.engine.copy.modify_tpsl(trader.uid, USDT_M, tr.tracking_no, tp=None)
    got = w.engine.copy.tracking(tr.tracking_no)
    assert (got.tp_price, got.sl_price) == (None, D("90000"))


def test_positions_closed_elsewhere_close_their_copy_and_tracking_order(w):
    trader = w.trader()
    f = w.follower(trader, "f", trace="fixed_size", value="0.01")
    w.open(trader, "0.01")
    (tr,) = w.tracking(trader)
    (copy,) = w.engine.copy.copies_of(tr.tracking_no)
    (pos,) = w.engine.positions(f.uid)
    w.engine.close_position(f.uid, pos.position_id)  # the follower closes it by hand
    w.price("95100")
    got = w.engine.copy.follower_copies(f.uid)[0]
    assert got.status == "closed" and got.close_price == D("95000.0")
    assert w.engine.copy.tracking(tr.tracking_no).status == "open"
    assert w.conserved()


def test_unfollow_closes_the_copies_and_stops_copying(w):
    trader = w.trader()
    f = w.follower(trader, "f", trace="fixed_size", value="0.01")
    w.open(trader, "0.01")
    w.engine.copy.unfollow(f.uid, trader.uid)
    assert w.engine.positions(f.uid) == []
    w.open(trader, "0.01")
    assert w.tracking(trader)[0].follow_count == 0
    assert w.conserved()


def test_the_demo_world_has_a_trader_whose_opens_every_follower_copies():
    from localex.demo import copy_world

    engine = make_engine()
    accounts = copy_world(engine)
    assert [a.name for a in accounts] == ["trader", "follower-1", "follower-2", "follower-3"]
    assert copy_world(engine) == accounts  # created once
    trader = accounts[0]
    for symbol in (BTC, ETH):
        engine.place_futures_order(trader.uid, USDT_M, symbol, pos_side=PositionSide.LONG,
                                   trade_side=TradeSide.OPEN, order_type=OrderType.MARKET,
                                   size=D("0.1") if symbol == BTC else D("1"))
    for tr in engine.copy.tracking_orders(trader.uid, USDT_M):
        assert tr.follow_count == 3, tr.symbol


def _close_world(bulk: bool):
    """Three tracking orders copied by twelve followers; some copies carry stop orders, one
    copy's position was closed by its owner, prices make some copies lose. Then the trader
    closes everything of the market at once."""
    w = World(make_engine())
    w.engine.copy.book.bulk = bulk
    heard: list = []
    w.engine.events.subscribe(heard.extend)
    trader = w.trader()
    followers = [w.follower(trader, f"f{i}", trace="fixed_size", value="0.002") for i in range(12)]
    w.price("95000")
    w.open(trader, "0.01")
    w.price("96000")
    w.open(trader, "0.02")
    w.price("94000")
    w.open(trader, "0.01")
    for i, f in enumerate(followers[:6]):
        pos = w.engine.positions(f.uid, market=USDT_M)[i % 3]
        kind, trigger = ("tp", D("99000")) if i % 2 else ("sl", D("90000"))
        w.engine.protect_position(f.uid, pos.position_id, [{"kind": kind, "trigger": trigger,
                                                              "size": D("0.001")}])
    own = w.engine.positions(followers[7].uid, market=USDT_M)[1]
    w.engine.close_position(followers[7].uid, own.position_id)
    w.price("95500")
    heard.clear()
    closed = w.engine.copy.close(trader.uid, USDT_M)
    return w, closed, heard


def test_a_bulk_close_matches_the_same_closes_one_by_one():
    bulk, bulk_closed, bulk_events = _close_world(bulk=True)
    single, single_closed, single_events = _close_world(bulk=False)
    assert len(bulk_closed) == 3 and all(t.status == "closed" for t in bulk_closed)
    stops = [o for f in bulk.engine.list_users("bitget")
             for o in bulk.engine.futures_orders(f.uid, market=USDT_M) if o.kind.value == "stop"]
    assert len(stops) == 6 and all(o.status.value == "cancelled" for o in stops)
    assert bulk_closed == single_closed
    assert [(e.seq, e.kind, e.uid, e.obj, e.created) for e in bulk_events] == \
        [(e.seq, e.kind, e.uid, e.obj, e.created) for e in single_events]
    assert len(bulk_events) > 100
    assert bulk.engine.snapshot() == single.engine.snapshot()
    assert bulk.conserved() and single.conserved()
