"""Bitget V2 authentication on the wire: raw signed HTTP requests against the real server.

Every refusal is checked byte for byte (HTTP status, code, msg, data, requestTime a JSON number)
and must leave the engine's state exactly as it was.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote, urlencode

import httpx
import pytest
from wire_signing import hmac_signature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from localex.engine.model import KeyKind, Permission

PLACE = "/api/v2/spot/trade/place-order"
CANCEL = "/api/v2/spot/trade/cancel-order"
ORDER_INFO = "/api/v2/spot/trade/orderInfo"
ASSETS = "/api/v2/spot/account/assets"

# a limit buy above the mark: it would fill at once, so any state leak shows
TAKING_BUY = {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
              "price": "96000", "size": "0.01"}


# ---- a small signing client ----------------------------------------------------------------

def now_ms() -> int:
    return time.time_ns() // 1_000_000


def compact(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


hmac_sign = hmac_signature


def rsa_sign(private_key, message: bytes) -> str:
    return base64.b64encode(private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def prehash(timestamp: str, method: str, path: str, query: str, body: bytes) -> bytes:
    return (timestamp + method + path + ("?" + query if query else "")).encode() + body


class Wire:
    """Sends exactly the bytes it is given; signs whatever it is told to sign."""

    def __init__(self, world, http: httpx.Client) -> None:
        self.world = world
        self.http = http

    def send(self, trader, method: str, path: str, *, query: str = "", body: bytes = b"",
             signed_query: str | None = None, signed_body: bytes | None = None,
             signed_path: str | None = None, timestamp: str | None = None,
             signed_timestamp: str | None = None, secret: str | None = None, private_key=None,
             passphrase: str | None = None, api_key: str | None = None,
             omit: tuple[str, ...] = (), override: dict | None = None,
             header_case=str.upper) -> httpx.Response:
        self.world.app.limiter.reset()
        ts = timestamp if timestamp is not None else str(now_ms())
        message = prehash(signed_timestamp or ts, method, signed_path or path,
                          query if signed_query is None else signed_query,
                          body if signed_body is None else signed_body)
        if private_key is not None:
            sign = rsa_sign(private_key, message)
        else:
            sign = hmac_sign(secret if secret is not None else trader.secret_key, message)
        headers = {
            "ACCESS-KEY": api_key if api_key is not None else trader.api_key,
            "ACCESS-SIGN": sign,
            "ACCESS-TIMESTAMP": ts,
            "ACCESS-PASSPHRASE": passphrase if passphrase is not None else trader.passphrase,
        }
        for name in omit:
            headers.pop(name)
        headers.update(override or {})
        headers = {header_case(k): v for k, v in headers.items()}
        if method == "POST":
            headers["Content-Type"] = "application/json"
        url = path + ("?" + query if query else "")
        return self.http.request(method, url, content=body or None, headers=headers)

    def place(self, trader, order: dict | None = None, **kw) -> httpx.Response:
        return self.send(trader, "POST", PLACE, body=compact(order or TAKING_BUY), **kw)


@pytest.fixture
def wire(world, http):
    return Wire(world, http)


# ---- assertions ----------------------------------------------------------------------------

def assert_error(world, resp: httpx.Response, code: str, msg: str, *, status: int = 400,
                 data: object = None) -> None:
    assert resp.status_code == status, resp.content
    assert resp.headers["content-type"] == "application/json"
    payload = resp.json()
    assert isinstance(payload["requestTime"], int) and not isinstance(payload["requestTime"], bool)
    assert payload["requestTime"] == world.engine.now_ms()
    expected = {"code": code, "msg": msg, "requestTime": payload["requestTime"], "data": data}
    assert resp.content == compact(expected)


def assert_ok(world, resp: httpx.Response) -> object:
    assert resp.status_code == 200, resp.content
    assert resp.headers["content-type"] == "application/json"
    payload = resp.json()
    assert list(payload) == ["code", "msg", "requestTime", "data"]
    assert payload["code"] == "00000" and payload["msg"] == "success"
    assert isinstance(payload["requestTime"], int) and payload["requestTime"] == world.engine.now_ms()
    assert resp.content == json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return payload["data"]


def snapshot(world) -> list:
    """Every user's balances, orders and fills, timestamps included."""
    e = world.engine
    return [(u, e.balances(u.uid), e.spot_orders(u.uid, limit=10_000), e.spot_fills(u.uid, limit=10_000))
            for u in e.list_users()]


@pytest.fixture
def alice(world):
    return world.trader("alice")


def refused(world, wire, alice, code: str, msg: str, *, data: object = None, **kw) -> None:
    """A taking place-order with one defect: refused exactly, and nothing changes."""
    before = snapshot(world)
    assert_error(world, wire.place(alice, **kw), code, msg, data=data)
    assert snapshot(world) == before


# ---- missing and malformed headers ---------------------------------------------------------

@pytest.mark.parametrize("header, code, msg", [
    ("ACCESS-KEY", "40001", "ACCESS_KEY cannot be empty"),
    ("ACCESS-SIGN", "40002", "ACCESS_SIGN cannot be empty"),
    ("ACCESS-TIMESTAMP", "40003", "Signature cannot be empty"),
    ("ACCESS-PASSPHRASE", "40011", "ACCESS_PASSPHRASE cannot be empty"),
])
def test_a_missing_or_empty_header_is_refused(world, wire, alice, header, code, msg):
    refused(world, wire, alice, code, msg, omit=(header,))
    refused(world, wire, alice, code, msg, override={header: ""})


def test_missing_headers_are_reported_in_list_order(world, wire, alice):
    refused(world, wire, alice, "40001", "ACCESS_KEY cannot be empty",
            omit=("ACCESS-KEY", "ACCESS-SIGN", "ACCESS-TIMESTAMP", "ACCESS-PASSPHRASE"))
    refused(world, wire, alice, "40002", "ACCESS_SIGN cannot be empty",
            omit=("ACCESS-SIGN", "ACCESS-PASSPHRASE"))
    refused(world, wire, alice, "40003", "Signature cannot be empty",
            omit=("ACCESS-TIMESTAMP", "ACCESS-PASSPHRASE"))


def test_a_signed_get_without_headers_is_refused(world, wire):
    resp = wire.http.get(ASSETS)
    assert_error(world, resp, "40001", "ACCESS_KEY cannot be empty")


@pytest.mark.parametrize("timestamp", ["abc", "1.7e12", "-1000", "17000000000x0", "0x1F",
                                       "9" * 20, "1" * 5000])
def test_a_non_numeric_timestamp_is_40005(world, wire, alice, timestamp):
    refused(world, wire, alice, "40005", "Invalid ACCESS_TIMESTAMP", timestamp=timestamp)


def test_a_timestamp_of_non_ascii_digits_is_40005(world, wire, alice):
    # the latin-1 byte 0xB2 is "²", which str.isdigit() accepts but int() does not
    refused(world, wire, alice, "40005", "Invalid ACCESS_TIMESTAMP",
            override={"ACCESS-TIMESTAMP": b"\xb2"})


@pytest.mark.parametrize("skew_s", [-31, 31, -3600, 3600])
def test_a_timestamp_outside_30_seconds_is_40008(world, wire, alice, skew_s):
    refused(world, wire, alice, "40008", "Request timestamp expired",
            timestamp=str(now_ms() + skew_s * 1000))


@pytest.mark.parametrize("skew_s", [-29, 29])
def test_a_timestamp_within_30_seconds_is_accepted(world, wire, alice, skew_s):
    data = assert_ok(world, wire.place(alice, timestamp=str(now_ms() + skew_s * 1000)))
    assert list(data) == ["orderId", "clientOid"]
    assert len(world.engine.spot_orders(alice.uid)) == 1


# ---- key, passphrase, signature ------------------------------------------------------------

def test_an_unknown_key_is_40037(world, wire, alice):
    refused(world, wire, alice, "40037", "Apikey does not exist", api_key="bg_" + "0" * 32)


def test_a_wrong_passphrase_is_40012(world, wire, alice):
    refused(world, wire, alice, "40012", "apikey/password is incorrect",
            passphrase=alice.passphrase + "x")
    refused(world, wire, alice, "40012", "apikey/password is incorrect",
            passphrase=alice.passphrase.swapcase())


def test_another_users_passphrase_is_40012(world, wire, alice):
    bob = world.trader("bob")
    refused(world, wire, alice, "40012", "apikey/password is incorrect", passphrase=bob.passphrase)


def test_a_bad_signature_is_40009(world, wire, alice):
    bob = world.trader("bob")
    refused(world, wire, alice, "40009", "sign signature error", secret=bob.secret_key)
    refused(world, wire, alice, "40009", "sign signature error", override={"ACCESS-SIGN": "not base64!"})
    # a signature from another clock reading: the timestamp is part of what is signed
    refused(world, wire, alice, "40009", "sign signature error",
            signed_timestamp=str(now_ms() - 1))


def test_a_non_ascii_signature_is_40009(world, wire, alice):
    refused(world, wire, alice, "40009", "sign signature error",
            override={"ACCESS-SIGN": b"\xe9t\xe9"})


def test_check_order_timestamp_before_key_passphrase_before_signature(world, wire, alice):
    refused(world, wire, alice, "40008", "Request timestamp expired",
            api_key="bg_unknown", timestamp=str(now_ms() - 60_000))
    refused(world, wire, alice, "40037", "Apikey does not exist",
            api_key="bg_unknown", passphrase="wrong", secret="wrong")
    refused(world, wire, alice, "40012", "apikey/password is incorrect",
            passphrase="wrong", secret="wrong")


def test_a_query_tampered_after_signing_is_40009(world, wire, alice):
    resp = wire.send(alice, "GET", ASSETS, query="coin=BTC", signed_query="coin=USDT")
    assert_error(world, resp, "40009", "sign signature error")
    resp = wire.send(alice, "GET", ASSETS, query="coin=USDT&assetType=all", signed_query="coin=USDT")
    assert_error(world, resp, "40009", "sign signature error")
    resp = wire.send(alice, "GET", ASSETS, query="", signed_query="coin=USDT")
    assert_error(world, resp, "40009", "sign signature error")


def test_a_path_tampered_after_signing_is_40009(world, wire, alice):
    resp = wire.send(alice, "GET", "/api/v2/spot/trade/unfilled-orders", signed_path=ASSETS)
    assert_error(world, resp, "40009", "sign signature error")


def test_a_body_tampered_after_signing_is_40009(world, wire, alice):
    signed = compact(TAKING_BUY)
    refused(world, wire, alice, "40009", "sign signature error", signed_body=signed,
            order={**TAKING_BUY, "size": "0.02"})
    # whitespace is part of the signed bytes too
    before = snapshot(world)
    resp = wire.send(alice, "POST", PLACE, body=json.dumps(TAKING_BUY).encode(), signed_body=signed)
    assert_error(world, resp, "40009", "sign signature error")
    resp = wire.send(alice, "POST", PLACE, body=signed + b" ", signed_body=signed)
    assert_error(world, resp, "40009", "sign signature error")
    assert snapshot(world) == before


# ---- IP whitelist and permissions ----------------------------------------------------------

def test_an_ip_outside_the_whitelist_is_40018_with_empty_list_data(world, wire):
    fenced = world.trader("fenced", ip_whitelist=["10.1.2.3"])
    refused(world, wire, fenced, "40018", "Invalid IP", data=[])
    resp = wire.send(fenced, "GET", ASSETS)
    assert_error(world, resp, "40018", "Invalid IP", data=[])


@pytest.mark.parametrize("whitelist", [["127.0.0.1"], ["10.1.2.3", "127.0.0.1"]])
def test_a_whitelisted_ip_is_accepted(world, wire, whitelist):
    trader = world.trader("listed", ip_whitelist=whitelist)
    assert_ok(world, wire.place(trader))
    assert len(world.engine.spot_orders(trader.uid)) == 1


def test_the_signature_is_checked_before_the_whitelist(world, wire):
    fenced = world.trader("fenced", ip_whitelist=["10.1.2.3"])
    refused(world, wire, fenced, "40009", "sign signature error", secret="wrong")


def test_a_read_only_key_cannot_trade_but_can_read(world, wire, alice):
    read = world.engine.create_api_key(alice.uid, permissions=[Permission.READ])
    reader = type(alice)(alice.uid, read.key, read.secret, read.passphrase)
    resting = {**TAKING_BUY, "price": "90000"}
    order_id = assert_ok(world, wire.place(alice, resting))["orderId"]

    refused(world, wire, reader, "40014", "Incorrect permissions, need spot trade permissions")
    before = snapshot(world)
    resp = wire.send(reader, "POST", CANCEL, body=compact({"symbol": "BTCUSDT", "orderId": order_id}))
    assert_error(world, resp, "40014", "Incorrect permissions, need spot trade permissions")
    assert snapshot(world) == before
    assert world.engine.spot_order(alice.uid, int(order_id)).status.value == "live"

    for path, query in [(ASSETS, ""), (ORDER_INFO, f"orderId={order_id}"),
                        ("/api/v2/spot/trade/unfilled-orders", ""),
                        ("/api/v2/spot/trade/history-orders", ""), ("/api/v2/spot/trade/fills", ""),
                        ("/api/v2/spot/account/info", "")]:
        assert_ok(world, wire.send(reader, "GET", path, query=query))
    rows = assert_ok(world, wire.send(reader, "GET", ORDER_INFO, query=f"orderId={order_id}"))
    assert rows[0]["status"] == "live"
    info = assert_ok(world, wire.send(reader, "GET", "/api/v2/spot/account/info"))
    assert info["authorities"] == ["readonly"]


def test_a_read_only_key_with_a_bad_signature_is_40009(world, wire, alice):
    read = world.engine.create_api_key(alice.uid, permissions=[Permission.READ])
    reader = type(alice)(alice.uid, read.key, read.secret, read.passphrase)
    # a bad signature is reported as such, not as a permission problem
    refused(world, wire, reader, "40009", "sign signature error", secret="wrong")


# ---- signature variants that genuine clients send ------------------------------------------

@pytest.fixture
def resting(world, wire, alice):
    """Alice's resting limit order with a clientOid that needs percent-encoding."""
    oid = "oid:1/2 3ü"
    order = {**TAKING_BUY, "price": "90000", "clientOid": oid}
    body = json.dumps(order, separators=(",", ":"), ensure_ascii=False).encode()
    data = assert_ok(world, wire.send(alice, "POST", PLACE, body=body))
    assert data["clientOid"] == oid
    return data


def order_info_ok(world, resp, order_id: str) -> None:
    rows = assert_ok(world, resp)
    assert [r["orderId"] for r in rows] == [order_id]


def test_ccxt_style_sorted_raw_signature_with_a_percent_encoded_url(world, wire, alice, resting):
    params = {"requestTime": str(now_ms()), "receiveWindow": "10000", "clientOid": resting["clientOid"]}
    ordered = sorted(params.items())
    signed = "&".join(f"{k}={v}" for k, v in ordered)
    for sent in (urlencode(ordered), urlencode(ordered, quote_via=quote),  # "+" or "%20" for spaces
                 urlencode(params)):  # encoded and unsorted on the wire
        resp = wire.send(alice, "GET", ORDER_INFO, query=sent, signed_query=signed)
        order_info_ok(world, resp, resting["orderId"])


def test_query_signed_exactly_as_sent_in_insertion_order(world, wire, alice, resting):
    query = f"symbol=BTCUSDT&limit=10&idLessThan={int(resting['orderId']) + 1}"
    rows = assert_ok(world, wire.send(alice, "GET", "/api/v2/spot/trade/unfilled-orders", query=query))
    assert [r["orderId"] for r in rows] == [resting["orderId"]]


def test_percent_encoded_query_signed_encoded(world, wire, alice, resting):
    for query in (urlencode({"clientOid": resting["clientOid"]}),
                  urlencode({"clientOid": resting["clientOid"]}, quote_via=quote),
                  urlencode({"clientOid": resting["clientOid"], "orderId": resting["orderId"]})):
        order_info_ok(world, wire.send(alice, "GET", ORDER_INFO, query=query), resting["orderId"])


def test_a_sorted_signature_must_still_cover_the_same_pairs(world, wire, alice, resting):
    sent = urlencode({"orderId": resting["orderId"], "clientOid": resting["clientOid"]})
    resp = wire.send(alice, "GET", ORDER_INFO, query=sent, signed_query=f"orderId={resting['orderId']}")
    assert_error(world, resp, "40009", "sign signature error")


@pytest.mark.parametrize("encode", [
    lambda o: json.dumps(o, separators=(",", ":")).encode(),  # ccxt, TS SDK
    lambda o: json.dumps(o).encode(),  # official Python SDK: ", " and ": "
    lambda o: json.dumps(o, indent=2).encode(),
])
def test_post_bodies_are_verified_as_sent(world, wire, alice, encode):
    data = assert_ok(world, wire.send(alice, "POST", PLACE, body=encode(TAKING_BUY)))
    order = world.engine.spot_order(alice.uid, int(data["orderId"]))
    assert order.status.value == "filled"


def test_numbers_instead_of_strings_in_the_body(world, wire, alice):
    order = {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
             "price": 90000.5, "size": 0.01}
    data = assert_ok(world, wire.send(alice, "POST", PLACE, body=compact(order)))
    placed = world.engine.spot_order(alice.uid, int(data["orderId"]))
    assert (str(placed.price), str(placed.size), placed.status.value) == ("90000.5", "0.01", "live")
    data = assert_ok(world, wire.send(alice, "POST", PLACE, body=compact(
        {"symbol": "BTCUSDT", "side": "buy", "orderType": "market", "size": 950})))
    placed = world.engine.spot_order(alice.uid, int(data["orderId"]))
    assert (str(placed.size), placed.status.value) == ("950", "filled")


@pytest.mark.parametrize("case", [str.lower, str.title, lambda s: s[:7].lower() + s[7:]])
def test_header_names_in_any_case(world, wire, alice, case):
    assert_ok(world, wire.place(alice, header_case=case))
    assert len(world.engine.spot_orders(alice.uid)) == 1


def test_extra_headers_genuine_clients_send_are_ignored(world, wire, alice):
    extra = {"locale": "en-US", "X-CHANNEL-API-CODE": "p4sve", "paptrading": "1"}
    assert_ok(world, wire.place(alice, override=extra))
    resp = wire.send(alice, "GET", ASSETS, override={"Content-Type": "application/json", **extra})
    assert_ok(world, resp)


# ---- RSA keys ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rsa_keys():
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)]


def public_pem(private_key) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_an_rsa_key_signs_with_its_private_key(world, wire, rsa_keys):
    mine, other = rsa_keys
    trader = world.trader("rsa", kind=KeyKind.RSA, public_key=public_pem(mine))
    data = assert_ok(world, wire.place(trader, private_key=mine))
    assert world.engine.spot_order(trader.uid, int(data["orderId"])).status.value == "filled"
    rows = assert_ok(world, wire.send(trader, "GET", ORDER_INFO, query=f"orderId={data['orderId']}",
                                      private_key=mine))
    assert rows[0]["orderId"] == data["orderId"]

    refused(world, wire, trader, "40009", "sign signature error", private_key=other)
    refused(world, wire, trader, "40009", "sign signature error", private_key=mine,
            signed_body=compact({**TAKING_BUY, "size": "0.02"}))
    refused(world, wire, trader, "40009", "sign signature error", override={"ACCESS-SIGN": "%%%"})
    # an HMAC signature made with the PEM as secret is not an RSA signature
    refused(world, wire, trader, "40009", "sign signature error", secret=public_pem(mine))


# ---- unsigned endpoints --------------------------------------------------------------------

def test_public_endpoints_need_no_signature(world, wire):
    resp = wire.http.get("/api/v2/public/time")
    assert set(assert_ok(world, resp)) == {"serverTime"}
