"""CoinW futures signing: what genuine clients send is accepted, anything tampered with is refused,
and every authentication failure answers in the gateway's envelope with its code."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from coinw_support import coinw_headers, coinw_sign, exact, make_user, no_limits  # noqa: F401
from localex.client import CoinWAPIError, CoinWClient
from localex.engine.model import Permission
from localex.venues.coinw.auth import prehash, query_forms, sign

pytestmark = pytest.mark.usefixtures("no_limits")

PLACE = "/v1/perpum/order"


@pytest.fixture
def alice(world):
    return make_user(world.engine)


def send(http, user, method, path, query="", body=b"", *, sign_query=None, sign_body=None,
         headers=None, **kwargs):
    """Sign (sign_query / sign_body if the client signed something else than it sent) and send."""
    signed = coinw_headers(user.api_key, user.secret, method, path,
                           query if sign_query is None else sign_query,
                           body if sign_body is None else sign_body, **kwargs)
    signed.update(headers or {})
    url = path + ("?" + query if query else "")
    return http.request(method, url, content=body or None, headers=signed)


def ok(response) -> object:
    payload = exact(response)
    assert response.status_code == 200 and payload["code"] == 0, response.text
    return payload.get("data")


def gateway_error(response, code: int) -> dict:
    payload = response.json()
    assert response.status_code == 200, response.text
    assert set(payload) == {"code", "message", "retry", "success"}, payload
    assert payload["code"] == code and payload["retry"] is False and payload["success"] is False
    return payload


# ---- the reference's vectors -------------------------------------------------------------------

VECTORS = [
    ("1701944491793GET/v1/perpum/order?positionType=plan&sourceIds=33308750270880236,"
     "33308750270538609&instrument=BTC", "/McXce8NVEMO+1qR4oVbifdPbgtUUl+81oHxCBN07xY="),
    ('1701945494169POST/v1/perpum/order{"instrument":"BTC","direction":"long","leverage":5,'
     '"quantityUnit":1,"quantity":"1","positionModel":0,"positionType":"plan","openPrice":"60000"}',
     "PF6Zc9NmDcyXxTcJ6t2wlGUTEwuENEf8DTcR5/ZNIVI="),
    ('1701945494169DELETE/v1/perpum/order{"id": "33308751556999718"}',
     "H509Z7aDMyOLxuE7qraajqpnBZHD4i74DtA2JpnJ2R8="),
    ("1701945494169GET/v1/perpum/positions/all", "4qPzR8YeIssJj2b1iHSMe8/gThXQt8SxG/Iw95rNXJQ="),
]


@pytest.mark.parametrize("message,expected", VECTORS)
def test_the_signature_is_base64_hmac_sha256_of_the_prehash(message, expected):
    assert coinw_sign("test-secret-123", message) == expected
    assert sign("test-secret-123", message.encode()) == expected
    assert len(expected) == 44


def test_the_prehash_takes_the_query_only_when_there_is_one():
    assert prehash("1", "get", "/v1/perpum/positions/all", None, b"") == b"1GET/v1/perpum/positions/all"
    assert prehash("1", "GET", "/p", "a=1", b"") == b"1GET/p?a=1"
    assert query_forms("") == [None, ""]
    # the handler reads x as "a b": a signature over "x=a+b" (a literal plus) is not over it
    assert query_forms("sourceIds=1%2C2&x=a+b") == ["sourceIds=1%2C2&x=a+b", "sourceIds=1,2&x=a b"]
    assert query_forms("sourceIds=1%2C2&x=a%2Bb") == ["sourceIds=1%2C2&x=a%2Bb", "sourceIds=1,2&x=a+b"]
    # decoded, "%26" and "%3D" would read as two parameters where the handler reads one
    assert query_forms("instrument=BTC%26positionType%3Dplan") == ["instrument=BTC%26positionType%3Dplan"]


# ---- three client styles, all accepted ---------------------------------------------------------

def test_compact_json_with_numbers_is_accepted(http, alice):
    body = b'{"instrument":"BTC","direction":"long","leverage":5,"quantityUnit":1,"quantity":1,' \
           b'"positionModel":0,"positionType":"plan","openPrice":60000}'
    data = ok(send(http, alice, "POST", PLACE, body=body))
    assert isinstance(data["value"], str) and data["value"].isdigit()


def test_spaced_json_with_strings_is_accepted(http, alice):
    body = json.dumps({"instrument": "btc", "direction": "short", "leverage": "5", "quantityUnit": "1",
                       "quantity": "1", "positionModel": "0", "positionType": "plan",
                       "openPrice": "99000"}).encode()
    assert b", " in body and b": " in body
    order_id = ok(send(http, alice, "POST", PLACE, body=body))["value"]
    # DELETE parameters travel in the body, signed as sent (spaced here too)
    ok(send(http, alice, "DELETE", PLACE, body=json.dumps({"id": order_id}).encode()))


@pytest.mark.parametrize("sent", ["positionType=plan&sourceIds=1%2C2&instrument=btc",
                                  "positionType=plan&sourceIds=1,2&instrument=btc"])
def test_a_query_signed_unencoded_verifies_encoded_or_raw(http, alice, sent):
    """requests / httpx percent-encode what the client signed unencoded; others send it raw."""
    data = ok(send(http, alice, "GET", "/v1/perpum/order", sent,
                   sign_query="positionType=plan&sourceIds=1,2&instrument=btc"))
    assert data == []


def test_a_query_signed_as_sent_verifies(http, alice):
    query = "positionType=plan&sourceIds=1%2C2"
    assert ok(send(http, alice, "GET", "/v1/perpum/order", query)) == []


def test_a_query_in_any_order_the_client_built_verifies(http, alice):
    query = "sourceIds=7&instrument=BTC&positionType=execute"  # not sorted
    assert ok(send(http, alice, "GET", "/v1/perpum/order", query)) == []


def test_no_query_verifies_with_or_without_a_question_mark(http, alice):
    assert ok(send(http, alice, "GET", "/v1/perpum/positions/all")) == []
    ts = str(int(time.time() * 1000))
    headers = {"api_key": alice.api_key, "timestamp": ts,
               "sign": coinw_sign(alice.secret, ts + "GET/v1/perpum/positions/all?")}
    assert ok(http.get("/v1/perpum/positions/all", headers=headers)) == []


def test_a_client_that_signs_nothing_but_sends_an_empty_object_is_accepted(http, alice):
    # the signature passes: what is left is the missing sourceIds, a parameter error
    response = send(http, alice, "DELETE", "/v1/perpum/batchOrders", body=b"{}", sign_body=b"")
    assert response.json() == {"code": 402, "msg": "param required"}
    assert ok(send(http, alice, "GET", "/v1/perpum/orders/openQuantity")) == {"value": 0}


@pytest.mark.parametrize("style", [dict(body_style="compact", encode_query=True),
                                   dict(body_style="spaced", encode_query=False)])
def test_the_typed_client_in_both_styles(world, alice, style):
    client = CoinWClient(world.url, alice.api_key, alice.secret, **style)
    try:
        order_id = client.place_order("BTC", "long", 2, leverage=10, position_type="plan",
                                      open_price="80000", third_order_id="a b,c")
        [order] = client.order_info("plan", source_ids=[order_id, 1], instrument="btc")
        assert order.id == order_id and order.third_order_id == "a b,c"
        client.cancel_order(order_id)
        assert client.order_info("plan") == []
    finally:
        client.close()


# ---- tampering -------------------------------------------------------------------------------

def test_a_body_changed_after_signing_is_refused(http, alice):
    signed = b'{"instrument":"BTC","direction":"long","leverage":5,"quantity":"1","positionType":"execute"}'
    sent = signed.replace(b'"1"', b'"9"')
    gateway_error(send(http, alice, "POST", PLACE, body=sent, sign_body=signed), 6001)
    # re-serialised with other spacing: not the bytes that were signed
    respaced = json.dumps(json.loads(signed)).encode()
    gateway_error(send(http, alice, "POST", PLACE, body=respaced, sign_body=signed), 6001)


def test_a_query_changed_after_signing_is_refused(http, alice):
    gateway_error(send(http, alice, "GET", "/v1/perpum/order", "positionType=execute",
                       sign_query="positionType=plan"), 6001)


def test_a_sorted_query_does_not_verify_an_unsorted_one(http, alice):
    gateway_error(send(http, alice, "GET", "/v1/perpum/order", "positionType=plan&instrument=BTC",
                       sign_query="instrument=BTC&positionType=plan"), 6001)


def test_method_path_timestamp_and_secret_are_all_signed(http, alice, world):
    ts = str(int(time.time() * 1000))
    good = coinw_sign(alice.secret, ts + "GET/v1/perpum/positions/all")
    for method, path, stamp, signature in [
        ("GET", "/v1/perpum/positions", ts, good),
        ("GET", "/v1/perpum/positions/all", str(int(ts) - 1), good),
        ("GET", "/v1/perpum/positions/all", ts, coinw_sign("not-the-secret", ts + "GET/v1/perpum/positions/all")),
        ("GET", "/v1/perpum/positions/all", ts, good.lower()),
    ]:
        headers = {"api_key": alice.api_key, "timestamp": stamp, "sign": signature}
        query = "instrument=BTC" if path == "/v1/perpum/positions" else ""
        gateway_error(http.request(method, path + ("?" + query if query else ""), headers=headers), 6001)
    headers = coinw_headers(alice.api_key, alice.secret, "POST", "/v1/perpum/orders/openQuantity")
    assert http.get("/v1/perpum/orders/openQuantity", headers=headers).json()["code"] == 6001


# ---- every authentication failure --------------------------------------------------------------

def test_missing_headers(http, alice):
    full = coinw_headers(alice.api_key, alice.secret, "GET", "/v1/perpum/positions/all")
    for header, message in [("api_key", "api_key is required"), ("sign", "sign is required"),
                            ("timestamp", "timestamp is required")]:
        headers = {k: v for k, v in full.items() if k != header}
        assert gateway_error(http.get("/v1/perpum/positions/all", headers=headers), 6000)["message"] == message


def test_timestamps_that_are_not_milliseconds_now(http, alice):
    now = int(time.time() * 1000)
    for stamp, message in [("abc", "invalid timestamp"), ("1.5e12", "invalid timestamp"),
                           (str(now - 31_000), "timestamp expired"),
                           (str(now + 31_000), "timestamp expired"),
                           (str(now // 1000), "timestamp expired")]:  # seconds, not milliseconds
        response = send(http, alice, "GET", "/v1/perpum/positions/all", timestamp=stamp)
        assert gateway_error(response, 6000)["message"] == message
    assert ok(send(http, alice, "GET", "/v1/perpum/positions/all", timestamp=str(now - 20_000))) == []


def test_unknown_and_foreign_keys(http, alice, world):
    headers = coinw_headers("nope", alice.secret, "GET", "/v1/perpum/positions/all")
    assert gateway_error(http.get("/v1/perpum/positions/all", headers=headers), 6000)["message"] == \
        "api key does not exist"
    bitget = world.trader("bob")
    headers = coinw_headers(bitget.api_key, bitget.secret_key, "GET", "/v1/perpum/positions/all")
    gateway_error(http.get("/v1/perpum/positions/all", headers=headers), 6000)


def test_permissions_and_ip_whitelist(http, world):
    reader = make_user(world.engine, "reader", permissions=[Permission.READ])
    assert ok(send(http, reader, "GET", "/v1/perpum/positions/all")) == []
    body = b'{"instrument":"BTC","direction":"long","leverage":5,"quantity":"1","positionType":"execute"}'
    payload = gateway_error(send(http, reader, "POST", PLACE, body=body), 6003)
    assert payload["message"] == "require more permission"
    fenced = make_user(world.engine, "fenced", ip_whitelist=["10.1.2.3"])
    gateway_error(send(http, fenced, "GET", "/v1/perpum/positions/all"), 6003)
    open_door = make_user(world.engine, "door", ip_whitelist=["127.0.0.1"])
    assert ok(send(http, open_door, "GET", "/v1/perpum/positions/all")) == []


def test_public_endpoints_need_no_signature(http):
    assert http.get("/v1/perpumPublic/ticker", params={"instrument": "btc"}).json()["code"] == 0
    assert http.get("/v1/perpum/instruments").json()["code"] == 0


def test_the_client_surfaces_gateway_errors(world, alice):
    client = CoinWClient(world.url, alice.api_key, "wrong-secret")
    try:
        with pytest.raises(CoinWAPIError) as err:
            client.all_positions()
        assert err.value.code == 6001 and err.value.msg == "invalid sign" and err.value.status == 200
    finally:
        client.close()


def test_a_request_over_a_plain_transport_is_signed_on_its_raw_path(world, alice):
    """The path signed is the path as sent (no host, no normalisation)."""
    transport = httpx.HTTPTransport()
    with httpx.Client(base_url=world.url, transport=transport) as raw:
        headers = coinw_headers(alice.api_key, alice.secret, "GET", "/v1/perpum/orders/openQuantity")
        assert raw.get("/v1/perpum/orders/openQuantity", headers=headers).json() == \
            {"code": 0, "data": {"value": 0}, "msg": ""}
