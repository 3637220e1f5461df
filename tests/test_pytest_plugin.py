"""The pytest plugin: `localex` (in-process) and `localex_server` (real HTTP) fixtures."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest
from wire_signing import signed_headers
import requests

from localex.client import BitgetClient
from localex.testing import Emulator, UnmockedRequestError

BITGET = "https://api.bitget.com"
MANUAL_START = 1_767_225_600_000


def call(session: requests.Session, base: str, creds, method: str, path: str,
         params: dict | None = None) -> tuple[int, str, bytes]:
    """One signed Bitget V2 request; (status, content-type, raw body)."""
    query = body = ""
    if method == "GET":
        query = urlencode(params or {})
    else:
        body = json.dumps(params or {}, separators=(",", ":"))
    headers = signed_headers(creds.api_key, creds.secret_key, creds.passphrase, method, path,
                             query, body)
    resp = session.request(method, base + path + ("?" + query if query else ""), headers=headers,
                           data=body or None)
    return resp.status_code, resp.headers["Content-Type"], resp.content


def scenario(emu: Emulator, base: str) -> list[tuple[int, str, bytes]]:
    """A small trading session; every answer, raw."""
    creds = emu.create_user(name="alice")
    out = []
    with requests.Session() as s:
        out.append(call(s, base, creds, "GET", "/api/v2/spot/market/tickers", {"symbol": "BTCUSDT"}))
        out.append(call(s, base, creds, "POST", "/api/v2/spot/trade/place-order",
                        {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
                         "price": "94000", "size": "0.01", "clientOid": "my-1"}))
        order_id = json.loads(out[-1][2])["data"]["orderId"]
        out.append(call(s, base, creds, "GET", "/api/v2/spot/trade/orderInfo", {"orderId": order_id}))
        out.append(call(s, base, creds, "GET", "/api/v2/spot/trade/unfilled-orders", {"symbol": "BTCUSDT"}))
        emu.advance_clock(2_000)
        emu.set_price("BTCUSDT", "93900")
        out.append(call(s, base, creds, "GET", "/api/v2/spot/trade/orderInfo", {"clientOid": "my-1"}))
        out.append(call(s, base, creds, "GET", "/api/v2/spot/trade/fills", {"symbol": "BTCUSDT"}))
        out.append(call(s, base, creds, "POST", "/api/v2/spot/trade/place-order",
                        {"symbol": "ETHUSDT", "side": "sell", "orderType": "market", "size": "1.5"}))
        out.append(call(s, base, creds, "GET", "/api/v2/spot/account/assets"))
        out.append(call(s, base, creds, "POST", "/api/v2/spot/trade/cancel-order",
                        {"symbol": "BTCUSDT", "orderId": order_id}))
        out.append(call(s, base, creds, "POST", "/api/v2/spot/trade/place-order",
                        {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
                         "price": "94000", "size": "1000"}))
        out.append(call(s, base, creds, "GET", "/api/v2/spot/no-such-endpoint"))
    return out


def test_the_plugin_is_registered_by_its_entry_point(request):
    plugin = request.config.pluginmanager.get_plugin("localex")
    assert plugin is not None and plugin.__name__ == "localex.testing.pytest_plugin"


def test_localex_is_fresh_per_test_first(localex):
    localex.create_user(name="alice")
    assert httpx.get(BITGET + "/api/v2/public/time").json()["code"] == "00000"
    assert len(localex.requests) == 1


def test_localex_is_fresh_per_test_second(localex):
    assert localex.engine.list_users() == [] and localex.requests == []
    localex.create_user(name="alice")  # no conflict with the previous test's alice


@pytest.mark.localex(clock="manual", seed=3, rate_limits=False)
def test_marker_options(localex):
    assert localex.now_ms() == MANUAL_START
    body = httpx.get(BITGET + "/api/v2/spot/market/tickers?symbol=BTCUSDT").json()
    assert body["requestTime"] == MANUAL_START
    with httpx.Client() as client:
        assert {client.get(BITGET + "/api/v2/public/time").status_code for _ in range(30)} == {200}


@pytest.mark.localex(strict=True)
def test_strict_marker(localex, localex_server):
    with pytest.raises(UnmockedRequestError):
        httpx.get(localex_server.url + "/localex/health")


def test_localex_server_first(localex_server):
    assert localex_server.url.startswith("http://127.0.0.1:")
    creds = localex_server.create_user(name="alice", funds={"USDT": "1000"})
    client = BitgetClient(localex_server.url, creds.api_key, creds.secret_key, creds.passphrase)
    ref = client.place_spot_order("BTCUSDT", "buy", "limit", size="0.01", price="94000")
    assert client.spot_order(order_id=ref.order_id).status == "live"
    assert [r.path for r in localex_server.requests] == ["/api/v2/spot/trade/place-order",
                                                          "/api/v2/spot/trade/orderInfo"]
    assert localex_server.requests[0].host == "127.0.0.1"


def test_localex_server_second(localex_server):
    assert localex_server.engine.list_users() == [] and localex_server.requests == []
    localex_server.create_user(name="alice")
    health = httpx.get(localex_server.url + "/localex/health").json()
    assert health["status"] == "ok"  # the control plane over HTTP, not logged
    assert localex_server.requests == []


@pytest.mark.localex(clock="manual", seed=5)
def test_same_answers_in_process_and_over_http(localex, localex_server):
    in_process = scenario(localex, BITGET)
    over_http = scenario(localex_server, localex_server.url)
    assert [status for status, _, _ in in_process] == \
        [200, 200, 200, 200, 200, 200, 200, 200, 400, 400, 400]
    assert in_process == over_http  # byte for byte: same seed, same manual clock
    assert [r.json() for r in localex.requests] == [r.json() for r in localex_server.requests]


def test_alongside_the_suites_own_fixtures(localex, world):
    """The plugin's fixtures do not shadow tests/conftest.py's (engine, app, server, world)."""
    trader = world.trader()
    assert world.client(trader).assets()  # over HTTP to the suite's own server: passed through
    assert localex.engine is not world.engine
    assert localex.requests == []
