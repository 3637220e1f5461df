"""The control plane under /localex/, over real HTTP against the session server."""

from __future__ import annotations

from decimal import Decimal as D

import httpx
import orjson
import pytest

from localex.client import BitgetAPIError, BitgetClient
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import OrderType, Side
from localex.server.app import LocalexApp
from localex.wire.http import Request
from localex.store import open_store


@pytest.fixture
def http(world):
    with httpx.Client(base_url=world.url, timeout=10) as client:
        yield client


def ok(response: httpx.Response):
    assert response.status_code == 200, response.text
    return response.json()


def error(response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    err = response.json()["error"]
    assert set(err) == {"code", "message"} and err["message"]
    if code is not None:
        assert err["code"] == code
    return err


def new_user(http, name: str = "alice") -> str:
    return ok(http.post("/localex/users", json={"venue": "bitget", "name": name}))["uid"]


def test_health(http, world):
    body = ok(http.get("/localex/health"))
    assert body["status"] == "ok" and "bitget" in body["venues"]
    assert body["now"] == world.engine.now_ms()
    assert isinstance(body["version"], str)


def test_create_and_list_users(http):
    user = ok(http.post("/localex/users", json={"venue": "bitget", "name": "alice", "feeDeduction": True}))
    assert user["name"] == "alice" and user["venue"] == "bitget" and user["feeDeduction"] is True
    assert len(user["uid"]) == 10 and user["uid"].isdigit()
    given = ok(http.post("/localex/users", json={"venue": "bitget", "name": "bob", "uid": "1234567890"}))
    assert given["uid"] == "1234567890"
    assert {u["name"] for u in ok(http.get("/localex/users"))} == {"alice", "bob"}
    assert ok(http.get("/localex/users", params={"venue": "nowhere"})) == []


def test_create_user_errors(http):
    error(http.post("/localex/users", json={"venue": "nowhere", "name": "x"}), 400, "bad_field")
    error(http.post("/localex/users", json={"name": "x"}), 400, "missing_field")
    new_user(http, "alice")
    error(http.post("/localex/users", json={"venue": "bitget", "name": "alice"}), 409, "conflict")
    assert len(ok(http.get("/localex/users"))) == 1


def test_created_key_works_against_bitget(http, world):
    uid = new_user(http)
    ok(http.post("/localex/balances", json={"uid": uid, "asset": "usdt", "amount": "1000"}))
    key = ok(http.post("/localex/keys", json={"uid": uid, "label": "bot"}))
    assert key["uid"] == uid and key["venue"] == "bitget" and key["kind"] == "hmac"
    assert key["apiKey"] and key["secretKey"] and key["passphrase"]
    assert key["permissions"] == ["futures_trade", "read", "spot_trade"]
    assert key["ipWhitelist"] == []
    client = BitgetClient(world.url, key["apiKey"], key["secretKey"], key["passphrase"])
    try:
        (usdt,) = client.assets(coin="USDT")
        assert usdt.available == D("1000")
        ref = client.place_spot_order("BTCUSDT", "buy", "limit", size="0.001", price="90000")
        assert client.spot_order(order_id=ref.order_id).status == "live"
    finally:
        client.close()


def test_key_options(http, world):
    uid = new_user(http)
    key = ok(http.post("/localex/keys", json={"uid": uid, "permissions": ["read"],
                                              "ipWhitelist": ["127.0.0.1"], "passphrase": "my-phrase"}))
    assert key["permissions"] == ["read"] and key["ipWhitelist"] == ["127.0.0.1"]
    assert key["passphrase"] == "my-phrase"
    client = BitgetClient(world.url, key["apiKey"], key["secretKey"], key["passphrase"])
    try:
        assert client.assets() == []  # reading is allowed from the whitelisted loopback address
        with pytest.raises(BitgetAPIError) as exc:
            client.place_spot_order("BTCUSDT", "buy", "limit", size="0.001", price="90000")
        assert exc.value.code == "40014"
    finally:
        client.close()
    error(http.post("/localex/keys", json={"uid": uid, "permissions": ["fly"]}), 400, "bad_field")
    error(http.post("/localex/keys", json={"uid": uid, "kind": "dsa"}), 400, "bad_field")
    error(http.post("/localex/keys", json={"uid": uid, "kind": "rsa"}), 400)
    error(http.post("/localex/keys", json={"uid": "0000000000"}), 404, "not_found")
    error(http.post("/localex/keys", json={}), 400, "missing_field")


def test_fund(http):
    uid = new_user(http)
    bal = ok(http.post("/localex/balances", json={"uid": uid, "asset": "usdt", "amount": "100.5"}))
    assert bal == {**bal, "asset": "USDT", "available": "100.5", "frozen": "0", "account": "spot"}
    bal = ok(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": -0.5}))
    assert bal["available"] == "100.0"
    error(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": "-1000"}), 400,
          "rejected")
    error(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": "lots"}), 400,
          "bad_field")
    error(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": "NaN"}), 400,
          "bad_field")
    error(http.post("/localex/balances", json={"uid": uid, "asset": "USDT"}), 400, "missing_field")
    error(http.post("/localex/balances", json={"uid": "0000000000", "asset": "USDT", "amount": "1"}),
          404, "not_found")


def test_accounts(http):
    uid = new_user(http)
    ok(http.post("/localex/balances", json={"uid": uid, "asset": "BTC", "amount": "2"}))
    ok(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": "10"}))
    account = ok(http.get("/localex/accounts", params={"uid": uid}))
    assert account["uid"] == uid and account["name"] == "alice"
    assert [(b["asset"], b["available"], b["frozen"]) for b in account["balances"]] == [
        ("BTC", "2", "0"), ("USDT", "10", "0")]
    error(http.get("/localex/accounts"), 400, "missing_field")
    error(http.get("/localex/accounts", params={"uid": "0000000000"}), 404, "not_found")


def test_set_price_runs_matching(http, world):
    alice = world.trader()
    order = world.engine.place_spot_order(alice.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"),
                                          D("94000"))
    body = ok(http.post("/localex/prices", json={"venue": "bitget", "symbol": "btcusdt", "price": "94500"}))
    assert body == {"venue": "bitget", "market": "spot", "symbol": "BTCUSDT", "price": "94500",
                    "fills": [], "liquidations": []}
    body = ok(http.post("/localex/prices", json={"venue": "bitget", "symbol": "BTCUSDT", "price": "93000"}))
    (fill,) = body["fills"]
    assert fill["orderId"] == str(order.order_id) and fill["uid"] == alice.uid
    assert fill["price"] == "94000" and fill["size"] == "0.01" and fill["liquidity"] == "maker"
    assert ok(http.get("/localex/prices"))["bitget:spot:BTCUSDT"] == "93000"
    assert world.engine.spot_order(alice.uid, order_id=order.order_id).status.value == "filled"
    error(http.post("/localex/prices", json={"venue": "bitget", "symbol": "NOPEUSDT", "price": "1"}), 404)
    error(http.post("/localex/prices", json={"venue": "bitget", "symbol": "BTCUSDT", "price": "-1"}), 400)
    error(http.post("/localex/prices", json={"venue": "bitget", "symbol": "BTCUSDT"}), 400, "missing_field")


def test_instruments(http):
    rows = ok(http.get("/localex/instruments", params={"venue": "bitget"}))
    assert {(i["market"], i["symbol"]) for i in rows} == {
        ("spot", "BTCUSDT"), ("spot", "ETHUSDT"), ("spot", "BGBUSDT"), ("spot", "SOLUSDT"),
        ("spot", "XRPUSDT"), ("spot", "USDCUSDT"),  # the demo world widened by issue 9
        ("usdt-futures", "BTCUSDT"), ("usdt-futures", "ETHUSDT"), ("coin-futures", "BTCUSD"),
        ("coin-futures", "BTCUSDH27"), ("usdc-futures", "BTCPERP")}


def test_orders_with_status_filter(http, world):
    alice = world.trader()
    e = world.engine
    live = e.place_spot_order(alice.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("90000"))
    filled = e.place_spot_order(alice.uid, "BTCUSDT", Side.SELL, OrderType.MARKET, D("0.01"))
    cancelled = e.place_spot_order(alice.uid, "ETHUSDT", Side.BUY, OrderType.LIMIT, D("0.1"), D("3000"))
    e.cancel_spot_order(alice.uid, order_id=cancelled.order_id)

    def ids(**params):  # ids come as strings (a JavaScript number would round them)
        return [int(o["orderId"]) for o in ok(http.get("/localex/orders", params={"uid": alice.uid, **params}))]

    assert ids() == [cancelled.order_id, filled.order_id, live.order_id]  # newest first
    assert ids(status="all") == ids()
    assert ids(status="open") == [live.order_id]
    assert ids(status="closed") == [cancelled.order_id, filled.order_id]
    assert ids(symbol="ETHUSDT") == [cancelled.order_id]
    rows = ok(http.get("/localex/orders", params={"uid": alice.uid, "status": "open"}))
    assert rows[0]["status"] == "live" and rows[0]["price"] == "90000" and rows[0]["frozenAsset"] == "USDT"
    error(http.get("/localex/orders", params={"uid": alice.uid, "status": "done"}), 400, "bad_field")
    error(http.get("/localex/orders"), 400, "missing_field")
    error(http.get("/localex/orders", params={"uid": "0000000000"}), 404, "not_found")


def test_manual_fill_of_a_resting_order(http, world):
    uid = new_user(http)
    ok(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": "10000"}))
    order = world.engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.02"), D("90000"))
    fill = ok(http.post("/localex/orders/fill", json={"uid": uid, "orderId": str(order.order_id),
                                                      "size": "0.005"}))
    assert (fill["orderId"], fill["size"], fill["price"], fill["liquidity"]) == (
        str(order.order_id), "0.005", "90000", "maker")
    assert world.engine.spot_order(uid, order.order_id).status.value == "partially_filled"
    error(http.post("/localex/orders/fill", json={"uid": uid, "orderId": str(order.order_id),
                                                  "size": "1"}), 400, "rejected")
    error(http.post("/localex/orders/fill", json={"uid": uid, "orderId": "x1"}), 400, "bad_field")
    error(http.post("/localex/orders/fill", json={"uid": uid, "orderId": "1"}), 404, "not_found")
    error(http.post("/localex/orders/fill", json={"orderId": "1"}), 400, "missing_field")
    rest = ok(http.post("/localex/orders/fill", json={"uid": uid, "orderId": str(order.order_id)}))
    assert rest["size"] == "0.015"
    assert world.engine.spot_order(uid, order.order_id).status.value == "filled"


def test_clock(http, world):
    clock = world.engine.clock
    assert isinstance(clock, ManualClock)
    saved = clock.now_ms()
    try:
        assert ok(http.get("/localex/clock")) == {"now": saved, "manual": True, "kind": "manual",
                                                  "speed": 1}
        assert ok(http.post("/localex/clock", json={"set": 1_800_000_000_000})) == {
            "now": 1_800_000_000_000, "manual": True, "pricesApplied": 0}
        assert ok(http.post("/localex/clock", json={"advance": 1500}))["now"] == 1_800_000_001_500
        assert world.engine.now_ms() == 1_800_000_001_500
        assert ok(http.get("/localex/health"))["now"] == 1_800_000_001_500
        error(http.post("/localex/clock", json={"advance": -1}), 400, "bad_field")
        error(http.post("/localex/clock", json={"advance": 1.5}), 400, "bad_field")
        error(http.post("/localex/clock", json={"set": "soon"}), 400, "bad_field")
        error(http.post("/localex/clock", json={}), 400, "missing_field")
        assert world.engine.now_ms() == 1_800_000_001_500
        uid = new_user(http)  # the engine stamps with the manual clock
        assert world.engine.get_user(uid).created_ms == 1_800_000_001_500
    finally:
        world.engine.set_clock(saved)


def test_clock_cannot_move_a_system_clock():
    app = LocalexApp(Engine(open_store(":memory:"), seed=1))
    resp = app.handle(Request("POST", "/localex/clock", "", {}, b'{"advance": 5}'))
    assert resp.status == 409 and resp.json_body()["error"]["code"] == "system_clock"
    body = app.handle(Request("GET", "/localex/clock", "", {})).json_body()
    assert body["manual"] is False


def test_reset_empties_state(http, world):
    alice = world.trader()
    world.engine.place_spot_order(alice.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("90000"))
    seed = world.engine.seed
    assert ok(http.post("/localex/reset")) == {"status": "reset", "seed": seed}
    assert ok(http.get("/localex/users")) == []
    assert ok(http.get("/localex/instruments")) == []
    assert ok(http.get("/localex/prices")) == {}
    error(http.get("/localex/accounts", params={"uid": alice.uid}), 404)
    assert ok(http.post("/localex/reset", json={"seed": seed}))["seed"] == seed
    error(http.post("/localex/reset", json={"seed": "x"}), 400, "bad_field")
    assert world.engine.seed == seed


def test_unknown_paths_and_methods(http):
    error(http.get("/localex/nothing-here"), 404, "not_found")
    error(http.delete("/localex/users"), 404, "not_found")
    for bare in ("/localex", "/localex/", "/localex/ui"):  # a person typing the address: the dashboard
        moved = http.get(bare)
        assert (moved.status_code, moved.headers["location"]) == (308, "/localex/ui/")
    error(http.post("/localex"), 404, "not_found")
    assert ok(http.get("/localex/health/"))["status"] == "ok"  # a trailing slash is forgiven


def test_fields_of_the_wrong_type_are_refused(http):
    error(http.post("/localex/users", json={"venue": "bitget", "uid": 1234567890}), 400, "bad_field")
    error(http.post("/localex/users", json={"venue": "bitget", "name": 5}), 400, "bad_field")
    assert ok(http.get("/localex/users")) == []
    uid = new_user(http)
    error(http.post("/localex/keys", json={"uid": int(uid)}), 400, "bad_field")
    error(http.post("/localex/keys", json={"uid": uid, "ipWhitelist": "1.2.3.4"}), 400, "bad_field")
    error(http.post("/localex/keys", json={"uid": uid, "ipWhitelist": [1]}), 400, "bad_field")
    error(http.post("/localex/keys", json={"uid": uid, "permissions": "read"}), 400, "bad_field")
    error(http.post("/localex/keys", json={"uid": uid, "permissions": 5}), 400, "bad_field")
    error(http.post("/localex/keys", json={"uid": uid, "passphrase": 123}), 400, "bad_field")
    error(http.post("/localex/balances", json={"uid": int(uid), "asset": "USDT", "amount": "1"}), 400,
          "bad_field")
    error(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": True}), 400,
          "bad_field")
    error(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": "1e999999999"}),
          400, "rejected")
    assert ok(http.get("/localex/accounts", params={"uid": uid}))["balances"] == []


def test_invalid_json(http):
    error(http.post("/localex/users", content=b"{not json"), 400, "bad_json")
    error(http.post("/localex/users", content=b"[1, 2]"), 400, "bad_json")
    error(http.post("/localex/balances", content=b'"text"'), 400, "bad_json")


# admin token -------------------------------------------------------------------------------
@pytest.fixture
def guarded() -> LocalexApp:
    return LocalexApp(Engine(open_store(":memory:"), clock=ManualClock(), seed=1), admin_token="t")


def call(app: LocalexApp, method: str, path: str, headers: dict | None = None, body: dict | None = None):
    return app.handle(Request(method, path, "", headers or {}, orjson.dumps(body) if body else b""))


def test_admin_token_is_required(guarded):
    for headers in ({}, {"authorization": "Bearer wrong"}, {"x-localex-token": "wrong"},
                    {"authorization": "t"}, {"authorization": "Bearer "}, {"x-localex-token": "tt"}):
        resp = call(guarded, "GET", "/localex/users", headers)
        assert resp.status == 401, headers
        assert resp.json_body()["error"]["code"] == "unauthorized"
    resp = call(guarded, "POST", "/localex/users", {}, {"venue": "bitget", "name": "x"})
    assert resp.status == 401
    assert guarded.engine.list_users() == []
    resp = call(guarded, "GET", "/localex/nothing", {})  # no probing for endpoints either
    assert resp.status == 401


def test_admin_token_is_accepted(guarded):
    for headers in ({"authorization": "Bearer t"}, {"authorization": "bearer t"},
                    {"x-localex-token": "t"}):
        resp = call(guarded, "GET", "/localex/users", headers)
        assert resp.status == 200, headers
        assert resp.json_body() == []
    resp = call(guarded, "POST", "/localex/users", {"x-localex-token": "t"}, {"venue": "bitget", "name": "x"})
    assert resp.status == 200 and resp.json_body()["name"] == "x"


def test_health_needs_no_token(guarded):
    for path in ("/localex/health", "/localex/health/"):  # routed alike, so exempt alike
        resp = call(guarded, "GET", path)
        assert resp.status == 200 and resp.json_body()["status"] == "ok"


def test_price_paths_move_with_the_clock(http, world):
    clock = world.engine.clock
    saved = clock.now_ms()
    try:
        body = {"venue": "bitget", "symbol": "btcusdt", "kind": "random_walk", "volatility": 0.05,
                "stepMs": 1000}
        assert ok(http.post("/localex/paths", json=body))["symbol"] == "BTCUSDT"
        before = ok(http.get("/localex/prices"))["bitget:spot:BTCUSDT"]
        moved = ok(http.post("/localex/clock", json={"advance": 10_000}))
        assert moved["pricesApplied"] == 10
        after = ok(http.get("/localex/prices"))["bitget:spot:BTCUSDT"]
        assert after != before
        ok(http.post("/localex/paths", json={"venue": "bitget", "symbol": "BTCUSDT", "kind": "static"}))
        assert ok(http.post("/localex/clock", json={"advance": 10_000}))["pricesApplied"] == 0
        candles = "timestamp,open,high,low,close,volume\n0,100,110,90,105,1\n"
        ok(http.post("/localex/paths", json={"venue": "bitget", "symbol": "ETHUSDT", "kind": "candles",
                                            "csv": candles}))
        assert ok(http.post("/localex/clock", json={"advance": 60_000}))["pricesApplied"] == 3
        assert ok(http.get("/localex/prices"))["bitget:spot:ETHUSDT"] == "105"
        error(http.post("/localex/paths", json={"venue": "bitget", "symbol": "NOPE", "kind": "static"}),
              404, "not_found")
        error(http.post("/localex/paths", json={"venue": "bitget", "symbol": "BTCUSDT", "kind": "zigzag"}),
              400, "bad_field")
        error(http.post("/localex/paths", json={"venue": "bitget", "symbol": "BTCUSDT",
                                                "kind": "candles", "csv": "0,1,0.5,2,1,1"}), 400, "bad_field")
        error(http.post("/localex/paths", json={"venue": "bitget", "symbol": "BTCUSDT",
                                                "kind": "random_walk", "stepMs": 0}), 400, "bad_field")
    finally:
        world.engine.simulation.reset()
        world.engine.set_clock(saved)


def test_futures_orders_and_positions_through_the_control_plane(http, world):
    from localex.engine.model import PositionSide, TradeSide

    uid = new_user(http)
    ok(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": "5000",
                                           "account": "usdt-futures"}))
    order = world.engine.place_futures_order(uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                                             trade_side=TradeSide.OPEN, order_type=OrderType.MARKET,
                                             size=D("0.01"))
    rows = ok(http.get("/localex/orders", params={"uid": uid, "market": "usdt-futures"}))
    assert [(r["orderId"], r["status"], r["size"]) for r in rows] == [(str(order.order_id), "filled", "0.01")]
    assert ok(http.get("/localex/orders", params={"uid": uid, "market": "usdt-futures",
                                                  "status": "open"})) == []
    assert ok(http.get("/localex/orders", params={"uid": uid})) == []  # spot by default
    positions = ok(http.get("/localex/positions", params={"uid": uid, "symbol": "btcusdt"}))
    assert [(p["side"], p["size"], p["open"]) for p in positions] == [("long", "0.01", True)]
    assert ok(http.get("/localex/positions", params={"uid": uid, "status": "closed"})) == []
    error(http.get("/localex/positions", params={"uid": uid, "status": "gone"}), 400, "bad_field")
    error(http.get("/localex/positions"), 400, "missing_field")
    error(http.get("/localex/positions", params={"uid": "0000000000"}), 404, "not_found")


def test_ids_are_json_strings_exact_to_the_last_digit(http, world):
    """19-digit ids do not survive a JavaScript number (1796112909637000880 reads back as
    1796112909637001000): the control plane sends them as strings, as the venues do."""
    import re

    from localex.engine.model import PositionSide, TradeSide

    uid = new_user(http)
    ok(http.post("/localex/balances", json={"uid": uid, "asset": "USDT", "amount": "5000",
                                           "account": "usdt-futures"}))
    order = world.engine.place_futures_order(uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                                             trade_side=TradeSide.OPEN, order_type=OrderType.MARKET,
                                             size=D("0.01"))
    raw = http.get("/localex/orders", params={"uid": uid, "market": "usdt-futures"}).content
    assert f'"orderId":"{order.order_id}"'.encode() in raw
    (row,) = orjson.loads(raw)
    assert re.fullmatch(r"[1-9]\d{18}", row["orderId"]) and isinstance(row["positionId"], str)
    (position,) = ok(http.get("/localex/positions", params={"uid": uid}))
    assert position["positionId"] == row["positionId"] == str(order.position_id)
    # a number stays a number where it is not an id
    assert isinstance(position["leverage"], int) and isinstance(row["createdMs"], int)
