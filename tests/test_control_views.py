"""The control plane's read-only views (the dashboard's data): keys without secrets, fills,
futures accounts, positions with PnL and liquidation price, paths, mark history, candles, copy
traders, the journal's tail and latency; and the dashboard's files."""

from __future__ import annotations

from decimal import Decimal as D

from localex.demo import copy_world
from localex.engine.futures import liquidation_price
from localex.engine.model import MarginMode, OrderType, PositionSide, Side, TradeSide

USDT_M = "usdt-futures"


def ok(response):
    assert response.status_code == 200, response.text
    return response.json()


def error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    return response.json()


def test_keys_never_show_secrets(http, world):
    alice = world.trader()
    (key,) = ok(http.get("/localex/keys", params={"uid": alice.uid}))
    assert key["apiKey"] == alice.api_key and key["hasPassphrase"] is True
    assert sorted(key["permissions"]) == key["permissions"] and "read" in key["permissions"]
    raw = http.get("/localex/keys", params={"uid": alice.uid}).text
    assert alice.secret_key not in raw and alice.passphrase not in raw
    error(http.get("/localex/keys"), 400, "missing_field")
    error(http.get("/localex/keys", params={"uid": "0000000000"}), 404, "not_found")


def test_fills_by_order_and_market(http, world):
    e = world.engine
    alice = world.trader()
    order = e.place_spot_order(alice.uid, "BTCUSDT", Side.SELL, OrderType.MARKET, D("0.01"))
    other = e.place_spot_order(alice.uid, "ETHUSDT", Side.BUY, OrderType.MARKET, D("100"))  # quote
    fills = ok(http.get("/localex/fills", params={"uid": alice.uid}))
    assert {f["orderId"] for f in fills} == {str(order.order_id), str(other.order_id)}
    (one,) = ok(http.get("/localex/fills", params={"uid": alice.uid, "orderId": str(order.order_id)}))
    assert (one["symbol"], one["price"], one["liquidity"]) == ("BTCUSDT", "95000.00", "taker")
    assert ok(http.get("/localex/fills", params={"uid": alice.uid, "symbol": "ethusdt"}))[0]["orderId"] == str(other.order_id)
    assert ok(http.get("/localex/fills", params={"uid": alice.uid, "market": USDT_M})) == []
    error(http.get("/localex/fills", params={"uid": alice.uid, "orderId": "x1"}), 400, "bad_field")
    error(http.get("/localex/fills", params={"uid": alice.uid, "limit": "-1"}), 400, "bad_field")
    error(http.get("/localex/fills"), 400, "missing_field")
    error(http.get("/localex/fills", params={"uid": "0000000000"}), 404, "not_found")


def test_positions_and_futures_accounts_carry_pnl_margin_and_liquidation(http, world):
    e = world.engine
    uid = e.create_user("bitget", name="lev").uid
    e.fund(uid, "USDT", D("10000"), account=USDT_M)
    e.set_margin_mode(uid, "bitget", USDT_M, "BTCUSDT", MarginMode.ISOLATED)
    e.set_leverage(uid, "bitget", USDT_M, "BTCUSDT", 10)
    e.place_futures_order(uid, USDT_M, "BTCUSDT", pos_side=PositionSide.LONG, trade_side=TradeSide.OPEN,
                          order_type=OrderType.MARKET, size=D("0.1"))
    e.set_mark("bitget", USDT_M, "BTCUSDT", D("96000"))
    (pos,) = ok(http.get("/localex/positions", params={"uid": uid}))
    engine_pos = e.positions(uid, market=USDT_M)[0]
    liq = liquidation_price(e.contract("bitget", USDT_M, "BTCUSDT"), engine_pos)
    assert (pos["markPrice"], D(pos["unrealizedPnl"]), pos["liquidationPrice"]) == ("96000", D("100"), format(liq, "f"))
    (acct,) = ok(http.get("/localex/futures-accounts", params={"uid": uid}))
    assert (acct["market"], acct["asset"], D(acct["margin"]), D(acct["unrealizedPnl"])) == (
        USDT_M, "USDT", engine_pos.margin, D("100"))
    assert D(acct["equity"]) == D(acct["available"]) + D(acct["frozen"]) + D(acct["margin"]) + D("100")
    error(http.get("/localex/futures-accounts"), 400, "missing_field")
    error(http.get("/localex/futures-accounts", params={"uid": "0000000000"}), 404, "not_found")


def test_paths_mark_history_and_candles(http, world):
    saved = world.engine.now_ms()
    try:
        ok(http.post("/localex/paths", json={"venue": "bitget", "symbol": "ETHUSDT", "kind": "random_walk",
                                             "volatility": 0.02, "stepMs": 500}))
        assert ok(http.get("/localex/paths")) == [{"venue": "bitget", "market": "spot", "symbol": "ETHUSDT",
                                                   "kind": "random_walk", "drift": 0.0, "volatility": 0.02,
                                                   "stepMs": 500}]
        ok(http.post("/localex/prices", json={"venue": "bitget", "symbol": "BTCUSDT", "price": "95100"}))
        world.engine.advance_clock(60_000)
        ok(http.post("/localex/prices", json={"venue": "bitget", "symbol": "BTCUSDT", "price": "95200"}))
        points = ok(http.get("/localex/prices/history", params={"venue": "bitget", "symbol": "btcusdt"}))["points"]
        assert [p for _, p in points[-2:]] == ["95100", "95200"] and points[-1][0] == saved + 60_000
        bars = ok(http.get("/localex/candles", params={"venue": "bitget", "symbol": "BTCUSDT",
                                                       "interval": "1m", "limit": "2"}))["candles"]
        assert len(bars) == 2 and bars[-1][4] == "95200" and bars[-1][0] % 60_000 == 0
        error(http.get("/localex/candles", params={"venue": "bitget", "symbol": "BTCUSDT", "interval": "7m"}),
              400, "bad_field")
        error(http.get("/localex/candles", params={"venue": "bitget", "symbol": "BTCUSDT", "limit": "0"}),
              400, "bad_field")
        for path in ("/localex/candles", "/localex/prices/history"):
            error(http.get(path, params={"venue": "bitget"}), 400, "missing_field")
            error(http.get(path, params={"venue": "bitget", "symbol": "NOPE"}), 404, "not_found")
    finally:
        world.engine.simulation.reset()
        world.engine.set_clock(saved)


def test_copy_traders_with_followers(http, world):
    accounts = copy_world(world.engine)
    (trader,) = ok(http.get("/localex/copy/traders"))
    assert (trader["uid"], trader["name"]) == (accounts[0].uid, "trader")
    assert [f["name"] for f in trader["followers"]] == ["follower-1", "follower-2", "follower-3"]
    assert trader["profitShares"] == [] and D(trader["profitShareRatio"]) > 0
    assert ok(http.get("/localex/copy/traders", params={"venue": "coinw"})) == []


def test_journal_tail_code_and_latency(http, world):
    http.delete("/localex/journal")
    for _ in range(3):
        http.get("/api/v2/spot/public/symbols")
    http.get("/api/v2/spot/account/assets")  # unsigned: Bitget's 40001
    newest = ok(http.get("/localex/journal", params={"tail": "2"}))
    assert [e["seq"] for e in newest] == [3, 4]
    assert [e["code"] for e in newest] == ["00000", "40001"]
    assert all(isinstance(e["latencyMs"], float) and e["latencyMs"] >= 0 for e in newest)
    assert ok(http.get("/localex/journal", params={"tail": "0"})) == []
    error(http.get("/localex/journal", params={"tail": "x"}), 400, "bad_field")


def test_the_dashboard_files(http):
    page = http.get("/localex/ui/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="app.js">' in page.text
    script = http.get("/localex/ui/app.js")
    css = http.get("/localex/ui/style.css")
    for text in (page.text, script.text, css.text):
        assert "://" not in text  # nothing is fetched from elsewhere: it works offline
    assert script.headers["content-type"].startswith("text/javascript")
    assert '"Content-Type": "application/json"' in script.text and 'credentials: "same-origin"' in script.text
    assert css.headers["content-type"].startswith("text/css")
    assert http.get("/localex/ui/nope.js").status_code == 404
    assert http.get("/localex/ui/../control/ui.py").status_code == 404
