"""Generated requests over every venue endpoint and the control plane (hypothesis, seeded,
bounded): never a 5xx, never a framework's error page, always the owner's JSON envelope; and a
request that is refused changes no state (the whole store, the random source and the clock,
compared as a dump before and after)."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localex.demo import start_world
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.server.app import LocalexApp
from localex.store import open_store
from localex.venues.bitget.routes import ROUTES as BITGET_ROUTES
from localex.venues.coinw.routes import ROUTES as COINW_ROUTES
from localex.wire.http import Request
from coinw_support import coinw_headers
from wire_signing import signed_headers

# every case runs in-process: a few thousand overall keep the suite quick
FUZZ = dict(derandomize=True, database=None, deadline=None, print_blob=True,
            suppress_health_check=list(HealthCheck))

NAMES = ["symbol", "productType", "marginCoin", "marginMode", "side", "tradeSide", "orderType",
         "force", "price", "size", "orderId", "clientOid", "limit", "idLessThan", "startTime",
         "endTime", "coin", "holdSide", "leverage", "triggerPrice", "planType", "trackingNo",
         "traderId", "instrument", "direction", "quantity", "quantityUnit", "positionModel",
         "positionType", "openPrice", "id", "sourceIds", "positionId", "orderList", "uid", "asset",
         "amount", "account", "venue", "market", "kind", "scope", "params", "seed", "set",
         "advance", "csv", "status", "count", "reason", "rate", "permissions", "ipWhitelist"]
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-10**6, max_value=10**6),
    st.sampled_from(["BTCUSDT", "ETHUSDT", "BTC", "ETH", "USDT", "USDT-FUTURES", "usdt-futures",
                     "buy", "sell", "limit", "market", "gtc", "open", "close", "long", "short",
                     "crossed", "isolated", "0.01", "1", "95000", "-1", "0", "1e9", "NaN",
                     "Infinity", "1" * 30, "bitget", "coinw", "spot", "plan", "execute", ""]),
    st.text(max_size=12),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**7,
                max_value=10**7).map(str),
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(NAMES), inner, max_size=3), max_leaves=6)
PARAMS = st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=6)
RAW_BODIES = st.sampled_from([b"", b"{", b"[]", b"null", b"1", b"\xff\xfe", b'{"a":1}{', b"[{}]",
                              b'{"symbol":' + b"[" * 200 + b"]" * 200 + b"}"])


@pytest.fixture(scope="module")
def world():
    engine = Engine(open_store(":memory:"), clock=ManualClock(), seed=3)
    accounts = start_world(engine)
    app = LocalexApp(engine, rate_limits=False, wall_clock=engine.clock)  # signatures in market time
    return app, accounts


def dump(app) -> str:
    return json.dumps(app.engine.snapshot(), sort_keys=True)


def text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def encode(params: dict, method: str, raw: bytes | None) -> tuple[str, bytes]:
    if method == "GET":
        return urlencode({k: text(v) for k, v in params.items()}), b""
    return "", raw if raw is not None else json.dumps(params).encode()


def check(app, request: Request, refused) -> None:
    before = dump(app)
    response = app.handle(request)
    assert response.status < 500, (request, response.body)
    assert response.content_type == b"application/json", (request, response.body)
    payload = json.loads(response.body)
    if refused(response, payload):
        assert dump(app) == before, (request, response.body)


def bitget_refused(response, payload) -> bool:
    return payload.get("code") != "00000"


def coinw_refused(response, payload) -> bool:
    return payload.get("code") != 0


@settings(max_examples=500, **FUZZ)
@given(route=st.sampled_from(sorted(BITGET_ROUTES)), params=PARAMS, raw=st.none() | RAW_BODIES,
       signed=st.integers(0, 9), who=st.sampled_from([0, 2]))
def test_bitget_endpoints(world, route, params, raw, signed, who):
    app, accounts = world
    method, path = route
    query, body = encode(params, method, raw)
    acct = accounts[who]  # the demo account or the copy-trading elite trader
    headers = {"content-type": "application/json", "host": "127.0.0.1:8700"}
    if signed:  # mostly signed: past the signature check, into the handlers
        headers.update({k.lower(): v for k, v in signed_headers(
            acct.api_key, acct.secret_key, acct.passphrase, method, path, query, body,
            str(app.engine.now_ms())).items()})
    check(app, Request(method, path, query, headers, body, "127.0.0.1"), bitget_refused)


@settings(max_examples=350, **FUZZ)
@given(route=st.sampled_from(sorted(COINW_ROUTES)), params=PARAMS, raw=st.none() | RAW_BODIES,
       signed=st.integers(0, 9), as_list=st.booleans())
def test_coinw_endpoints(world, route, params, raw, signed, as_list):
    app, accounts = world
    method, path = route
    query, body = encode(params, method, raw)
    if as_list and method != "GET" and raw is None:
        body = json.dumps([params]).encode()  # the batch endpoints take arrays
    acct = next(a for a in accounts if a.venue == "coinw")
    headers = {"content-type": "application/json", "host": "127.0.0.1:8700"}
    if signed:
        headers.update(coinw_headers(acct.api_key, acct.secret_key, method, path, query, body,
                                     str(app.engine.now_ms())))
    check(app, Request(method, path, query, headers, body, "127.0.0.1"), coinw_refused)


def control_routes():
    app = LocalexApp(Engine(open_store(":memory:"), clock=ManualClock()))
    # reset wipes the world every case would need; it is tested on its own
    return sorted(r for r in app.control.routes if r != ("POST", "/localex/reset"))


@settings(max_examples=350, **FUZZ)
@given(route=st.sampled_from(control_routes()), params=PARAMS, raw=st.none() | RAW_BODIES,
       uid=st.booleans(), browser=st.sampled_from([None, "http://evil.example", "null"]))
def test_control_plane(world, route, params, raw, uid, browser):
    app, accounts = world
    method, path = route
    if uid and "uid" not in params:
        params = {**params, "uid": accounts[0].uid}  # a user that exists
    if "advance" in params:  # bounded market time: a walk of years is not what is under test
        params["advance"] = params["advance"] if isinstance(params["advance"], int) and params["advance"] < 10**6 else 1
    query, body = encode(params, method, raw)
    headers = {"content-type": "application/json", "host": "127.0.0.1:8700"}
    if browser:
        headers["origin"] = browser
    before = dump(app)
    response = app.handle(Request(method, path, query, headers, body, "127.0.0.1"))
    assert response.status < 500, (route, params, response.body)
    assert response.content_type == b"application/json"
    payload = json.loads(response.body)
    if response.status >= 400:
        assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message"}
        assert dump(app) == before, (route, params, response.body)
    if browser:
        assert response.status == 403
