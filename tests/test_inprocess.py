"""In-process mode: httpx, requests and aiohttp calls to api.bitget.com reach the emulator."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

import aiohttp
import ccxt
import ccxt.async_support as ccxt_async
import httpx
import pytest
from wire_signing import signed_headers
import requests
import requests.adapters

from localex.client import BitgetClient
from localex.engine import Engine
from localex.store import open_store
from localex.testing import (
    Emulator,
    UnmockedRequestError,
    current,
    mock_exchanges,
)

BITGET = "https://api.bitget.com"


def signed(creds, method: str, path: str, params: dict | None = None, secret: str | None = None):
    """(url, headers, body) of a Bitget V2 request signed as the docs say."""
    query = body = ""
    if method == "GET":
        query = urlencode(params or {})
    else:
        body = json.dumps(params or {}, separators=(",", ":"))
    headers = signed_headers(creds.api_key, secret or creds.secret_key, creds.passphrase, method,
                             path, query, body)
    return BITGET + path + ("?" + query if query else ""), headers, body


ORDER = {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
         "price": "94000", "size": "0.01"}


# the adapters ------------------------------------------------------------------------------
def test_httpx_sync_signed_round_trip():
    with mock_exchanges() as emu:
        creds = emu.create_user()
        client = BitgetClient(BITGET, creds.api_key, creds.secret_key, creds.passphrase)
        ref = client.place_spot_order("BTCUSDT", "buy", "limit", size="0.01", price="94000")
        assert client.spot_order(order_id=ref.order_id).status == "live"
        emu.set_price("BTCUSDT", "93900")
        assert client.spot_order(order_id=ref.order_id).status == "filled"
        assert [o.status.value for o in emu.orders(creds.uid)] == ["filled"]

        place, info = emu.requests[0], emu.requests[1]
        assert (place.method, place.host, place.path, place.status) == \
            ("POST", "api.bitget.com", "/api/v2/spot/trade/place-order", 200)
        assert json.loads(place.body)["price"] == "94000"
        assert place.headers["access-sign"] == place.headers["access-passphrase"] == "<redacted>"
        assert place.headers["access-key"] == creds.api_key
        assert info.query == f"orderId={ref.order_id}" and info.params() == {"orderId": ref.order_id}
        assert info.json()["data"][0]["status"] == "live"


def test_httpx_async_signed_round_trip():
    async def scenario(creds):
        async with httpx.AsyncClient() as client:
            url, headers, body = signed(creds, "POST", "/api/v2/spot/trade/place-order", ORDER)
            placed = (await client.post(url, headers=headers, content=body)).json()
            url, headers, _ = signed(creds, "GET", "/api/v2/spot/trade/orderInfo",
                                     {"orderId": placed["data"]["orderId"]})
            return placed, (await client.get(url, headers=headers)).json()

    with mock_exchanges() as emu:
        placed, info = asyncio.run(scenario(emu.create_user()))
    assert placed["code"] == "00000"
    assert info["data"][0]["orderId"] == placed["data"]["orderId"]
    assert info["data"][0]["status"] == "live"


def test_requests_signed_round_trip():
    with mock_exchanges() as emu:
        creds = emu.create_user()
        session = requests.Session()
        url, headers, body = signed(creds, "POST", "/api/v2/spot/trade/place-order", ORDER)
        placed = session.post(url, headers=headers, data=body)
        assert placed.status_code == 200 and placed.reason == "OK"
        assert placed.headers["Content-Type"] == "application/json"
        order_id = placed.json()["data"]["orderId"]
        url, headers, _ = signed(creds, "GET", "/api/v2/spot/trade/orderInfo", {"orderId": order_id})
        info = session.get(url, headers=headers)
        assert info.json()["data"][0]["status"] == "live"
        assert emu.requests[0].headers["host"] == "api.bitget.com"
        assert emu.requests[0].body == body.encode()
        # a wrong secret is refused exactly as over HTTP: the signature is really checked
        url, headers, _ = signed(creds, "GET", "/api/v2/spot/trade/orderInfo", {"orderId": order_id},
                                 secret="0" * 64)
        bad = session.get(url, headers=headers)
        assert bad.status_code == 400 and bad.json()["code"] == "40009"


def test_aiohttp_signed_round_trip():
    async def scenario(creds):
        async with aiohttp.ClientSession() as session:
            url, headers, body = signed(creds, "POST", "/api/v2/spot/trade/place-order", ORDER)
            async with session.post(url, headers=headers, data=body) as resp:
                assert resp.status == 200 and resp.reason == "OK" and resp.ok
                placed = await resp.json()
            url, headers, _ = signed(creds, "GET", "/api/v2/spot/trade/orderInfo",
                                     {"orderId": placed["data"]["orderId"]})
            resp = await session.get(url, headers=headers)  # awaited, not as a context manager
            text = await resp.text()
            assert await resp.read() == text.encode()
            resp.release()
            async with session.get(BITGET + "/api/v2/spot/market/tickers",
                                   params={"symbol": "BTCUSDT"}) as tick:
                ticker = await tick.json()
            return placed, json.loads(text), ticker

    with mock_exchanges() as emu:
        placed, info, ticker = asyncio.run(scenario(emu.create_user()))
        assert emu.requests[-1].query == "symbol=BTCUSDT"
    assert info["data"][0]["orderId"] == placed["data"]["orderId"]
    assert ticker["data"][0]["lastPr"] == "95000"


def test_unknown_venue_path_answers_the_venue_error_envelope():
    with mock_exchanges():
        for status, body in (
            (lambda r: (r.status_code, r.json()))(httpx.get(BITGET + "/api/v2/spot/no-such-thing")),
            (lambda r: (r.status_code, r.json()))(requests.get(BITGET + "/api/v2/spot/no-such-thing")),
        ):
            assert body["code"] == "40404" and body["msg"] == "Request URL NOT FOUND"
            assert status == 400 and body["data"] is None and isinstance(body["requestTime"], int)
        # the control plane is not served on a venue's host
        assert httpx.get(BITGET + "/localex/health").status_code == 404


def test_a_host_without_its_venue_answers_404():
    with mock_exchanges(hosts={"api.bitget.com": "bitget", "api.venue.test": "novenue"}) as emu:
        assert requests.get("https://api.venue.test/api/v2/public/time").status_code == 404
        assert requests.get(BITGET + "/api/v2/public/time").json()["code"] == "00000"
        assert [(r.host, r.status) for r in emu.requests] == [("api.venue.test", 404),
                                                              ("api.bitget.com", 200)]


# nesting, state ----------------------------------------------------------------------------
def test_nesting_reuses_the_outer_emulator():
    original = requests.adapters.HTTPAdapter.send
    with mock_exchanges() as outer:
        creds = outer.create_user(name="alice")
        with mock_exchanges(seed=99) as inner:
            assert inner is outer and current() is outer
            assert inner.engine.find_user("bitget", "alice").uid == creds.uid  # not reset
        # still active after the inner block
        assert requests.get(BITGET + "/api/v2/public/time").json()["code"] == "00000"
        assert requests.adapters.HTTPAdapter.send is not original
    assert requests.adapters.HTTPAdapter.send is original
    with pytest.raises(RuntimeError):
        current()


def test_state_resets_on_outermost_enter_unless_kept():
    mock = mock_exchanges()
    with mock as emu:
        emu.create_user(name="alice")
        emu.set_price("BTCUSDT", "90000")
    with mock as again:
        assert again is emu
        assert again.engine.find_user("bitget", "alice") is None
        assert again.price("BTCUSDT") == 95000  # the demo market is back
        assert again.requests == []

    kept = mock_exchanges(keep_state=True)
    with kept as emu:
        emu.create_user(name="alice")
    with kept as emu:
        assert emu.engine.find_user("bitget", "alice") is not None

    engine = Engine(open_store(":memory:"), seed=1)
    with mock_exchanges(engine=engine) as emu:
        emu.create_user(name="bob")
    with mock_exchanges(engine=engine, keep_state=True):
        assert engine.find_user("bitget", "bob") is not None
    with mock_exchanges(engine=engine):  # a new block resets a given engine
        assert engine.find_user("bitget", "bob") is None


def test_decorator_sync_and_async():
    @mock_exchanges(clock="manual")
    def sync_case():
        emu = current()
        body = httpx.get(BITGET + "/api/v2/spot/market/tickers?symbol=BTCUSDT").json()
        return body["requestTime"] == emu.now_ms() == 1_767_225_600_000

    @mock_exchanges
    async def async_case():
        async with aiohttp.ClientSession() as s:
            async with s.get(BITGET + "/api/v2/public/time") as r:
                return (await r.json())["code"]

    assert sync_case()
    assert asyncio.run(async_case()) == "00000"


def test_control_plane_calls():
    with mock_exchanges(clock="manual", seed=3) as emu:
        creds = emu.create_user(funds={"usdt": "500"}, permissions=["read"])
        assert creds.ccxt == {"apiKey": creds.api_key, "secret": creds.secret_key,
                              "password": creds.passphrase}
        assert emu.balances(creds.uid)["USDT"].available == 500
        emu.fund(creds.uid, "BTC", "0.5")
        assert emu.balances(creds.uid)["BTC"].available == 0.5
        start = emu.now_ms()
        assert emu.advance_clock(1500) == start + 1500
        assert emu.set_clock(start) == start
        # a read-only key may not trade
        url, headers, body = signed(creds, "POST", "/api/v2/spot/trade/place-order", ORDER)
        assert requests.post(url, headers=headers, data=body).json()["code"] == "40014"
        emu.reset()
        assert emu.now_ms() == start and emu.engine.list_users() == []
    with mock_exchanges() as emu, pytest.raises(RuntimeError, match="system clock"):
        emu.advance_clock(1)


def test_rate_limits_are_on_by_default_and_can_be_switched_off():
    def codes(**options):
        with mock_exchanges(**options):
            with requests.Session() as s:
                return {s.get(BITGET + "/api/v2/public/time").status_code for _ in range(25)}

    assert codes() == {200, 429}
    assert codes(rate_limits=False) == {200}


# pass-through and strict mode ----------------------------------------------------------------
class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b"hello from " + self.path.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _fetch_all(url: str) -> list[str]:
    async def async_ones():
        async with httpx.AsyncClient() as client:
            a = (await client.get(url + "/httpx-async")).text
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/aiohttp") as resp:
                b = await resp.text()
        return [a, b]

    return [httpx.get(url + "/httpx").text, requests.get(url + "/requests").text,
            *asyncio.run(async_ones())]


def test_other_hosts_pass_through(other_server):
    with mock_exchanges() as emu:
        assert _fetch_all(other_server) == ["hello from /httpx", "hello from /requests",
                                            "hello from /httpx-async", "hello from /aiohttp"]
        assert emu.requests == []


def test_strict_mode_refuses_other_hosts(other_server):
    with mock_exchanges(strict=True):
        with pytest.raises(UnmockedRequestError, match="strict mode.*127.0.0.1"):
            httpx.get(other_server)
        with pytest.raises(UnmockedRequestError):
            requests.get(other_server)

        async def async_ones():
            with pytest.raises(UnmockedRequestError):
                async with httpx.AsyncClient() as client:
                    await client.get(other_server)
            with pytest.raises(UnmockedRequestError):
                async with aiohttp.ClientSession() as session:
                    await session.get(other_server)

        asyncio.run(async_ones())
        assert requests.get(BITGET + "/api/v2/public/time").status_code == 200
    with mock_exchanges(strict=True, allow_hosts=["127.0.0.1"]):
        assert requests.get(other_server + "/ok").text == "hello from /ok"


# ccxt, unchanged ---------------------------------------------------------------------------
def _ccxt_checks(orders: dict, balance: dict) -> None:
    assert orders["limit_status"] == "open"
    assert orders["open_ids"] == [orders["limit_id"]]
    assert orders["cancelled_id"] == orders["limit_id"]
    assert orders["market_status"] == "closed"
    assert balance["BTC"]["free"] == pytest.approx(0.99)


def test_ccxt_sync(localex):
    creds = localex.create_user()
    exchange = ccxt.bitget(creds.ccxt)
    markets = exchange.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "BGB/USDT"} <= set(markets)
    limit = exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 94000)
    orders = {"limit_id": limit["id"],
              "limit_status": exchange.fetch_order(limit["id"], "BTC/USDT")["status"],
              "open_ids": [o["id"] for o in exchange.fetch_open_orders("BTC/USDT")],
              "cancelled_id": exchange.cancel_order(limit["id"], "BTC/USDT")["id"]}
    market = exchange.create_order("BTC/USDT", "market", "sell", 0.01)
    orders["market_status"] = exchange.fetch_order(market["id"], "BTC/USDT")["status"]
    _ccxt_checks(orders, exchange.fetch_balance())
    assert all(r.host == "api.bitget.com" for r in localex.requests)


def test_ccxt_async(localex):
    creds = localex.create_user()

    async def scenario():
        exchange = ccxt_async.bitget(creds.ccxt)
        try:
            await exchange.load_markets()
            limit = await exchange.create_order("BTC/USDT", "limit", "buy", 0.01, 94000)
            orders = {"limit_id": limit["id"],
                      "limit_status": (await exchange.fetch_order(limit["id"], "BTC/USDT"))["status"],
                      "open_ids": [o["id"] for o in await exchange.fetch_open_orders("BTC/USDT")],
                      "cancelled_id": (await exchange.cancel_order(limit["id"], "BTC/USDT"))["id"]}
            market = await exchange.create_order("BTC/USDT", "market", "sell", 0.01)
            orders["market_status"] = (await exchange.fetch_order(market["id"], "BTC/USDT"))["status"]
            return orders, await exchange.fetch_balance()
        finally:
            await exchange.close()

    _ccxt_checks(*asyncio.run(scenario()))


def test_emulator_without_demo_market():
    emu = Emulator(demo_market=False)
    assert emu.engine.instruments() == []
    with mock_exchanges(emulator=emu, keep_state=True) as active:
        assert active is emu
        assert httpx.get(BITGET + "/api/v2/spot/public/symbols").json()["data"] == []
