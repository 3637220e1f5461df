"""Every part of a signed request mutated after signing: signature, timestamp, path, query, body,
headers and key kind. 100 % of the mutations are refused with the venue's own code and change
nothing; 0 % of the legitimate variants (what genuine clients send differently) are refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import KeyKind
from localex.server.app import LocalexApp
from localex.store import open_store
from localex.wire.http import Request

T0 = 1_767_225_600_000


def b64_hmac(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


@dataclass
class Sent:
    """One request: what is signed and what is sent, part by part (defaults: the same)."""

    method: str
    path: str
    query: str = ""
    body: bytes = b""
    timestamp: int = T0
    signed_method: str | None = None
    signed_path: str | None = None
    signed_query: str | None = None
    signed_body: bytes | None = None
    signed_timestamp: int | None = None
    headers: dict = field(default_factory=dict)  # set / replace after signing (None: drop)


@pytest.fixture(scope="module")
def world():
    clock = ManualClock(T0)
    engine = Engine(open_store(":memory:"), clock=clock, seed=9)
    install_market(engine)
    app = LocalexApp(engine, rate_limits=False, wall_clock=clock)
    bitget = engine.create_user("bitget", name="b")
    engine.fund(bitget.uid, "USDT", 100000)
    coinw = engine.create_user("coinw", name="c")
    engine.fund(coinw.uid, "USDT", 100000, account="futures")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    keys = {"bitget": engine.create_api_key(bitget.uid),
            "bitget_rsa": engine.create_api_key(bitget.uid, kind=KeyKind.RSA, public_key=pem),
            "coinw": engine.create_api_key(coinw.uid),
            "other_bitget": engine.create_api_key(engine.create_user("bitget", name="o").uid),
            "private": private}
    return app, keys


def bitget_request(keys, sent: Sent, key="bitget") -> Request:
    k = keys[key]
    sq = sent.query if sent.signed_query is None else sent.signed_query
    message = (str(sent.timestamp if sent.signed_timestamp is None else sent.signed_timestamp)
               + (sent.signed_method or sent.method) + (sent.signed_path or sent.path)
               + ("?" + sq if sq else "")).encode() + (sent.body if sent.signed_body is None else sent.signed_body)
    if k.kind == KeyKind.RSA:
        sign = base64.b64encode(keys["private"].sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()
    else:
        sign = b64_hmac(k.secret, message)
    headers = {"access-key": k.key, "access-sign": sign, "access-timestamp": str(sent.timestamp),
               "access-passphrase": k.passphrase, "content-type": "application/json"}
    return _finish(sent, headers)


def coinw_request(keys, sent: Sent, key="coinw") -> Request:
    k = keys[key]
    sq = sent.query if sent.signed_query is None else sent.signed_query
    message = (str(sent.timestamp if sent.signed_timestamp is None else sent.signed_timestamp)
               + (sent.signed_method or sent.method) + (sent.signed_path or sent.path)
               + ("?" + sq if sq else "")).encode() + (sent.body if sent.signed_body is None else sent.signed_body)
    headers = {"api_key": k.key, "timestamp": str(sent.timestamp), "sign": b64_hmac(k.secret, message),
               "content-type": "application/json"}
    return _finish(sent, headers)


def _finish(sent: Sent, headers: dict) -> Request:
    for name, value in sent.headers.items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    return Request(sent.method, sent.path, sent.query, headers, sent.body, "127.0.0.1")


# ---- Bitget -------------------------------------------------------------------------------------

B_PLACE = "/api/v2/spot/trade/place-order"
B_ORDER = json.dumps({"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
                      "price": "90000", "size": "0.001"}, separators=(",", ":")).encode()
B_LIST = "/api/v2/spot/trade/unfilled-orders"
B_QUERY = "symbol=BTCUSDT&limit=10"

BITGET_MUTATIONS = {
    # signature
    "signature of another body": (Sent("POST", B_PLACE, body=B_ORDER, signed_body=B_ORDER + b" "), "40009"),
    "signature flipped": (Sent("POST", B_PLACE, body=B_ORDER, headers={"access-sign": "A" * 44}), "40009"),
    "signature not base64": (Sent("POST", B_PLACE, body=B_ORDER, headers={"access-sign": "%%%"}), "40009"),
    "signature missing": (Sent("POST", B_PLACE, body=B_ORDER, headers={"access-sign": None}), "40002"),
    # timestamp
    "timestamp 31 s old": (Sent("POST", B_PLACE, body=B_ORDER, timestamp=T0 - 31_000), "40008"),
    "timestamp 31 s ahead": (Sent("POST", B_PLACE, body=B_ORDER, timestamp=T0 + 31_000), "40008"),
    "timestamp changed after signing": (Sent("POST", B_PLACE, body=B_ORDER, signed_timestamp=T0 - 1), "40009"),
    "timestamp not a number": (Sent("POST", B_PLACE, body=B_ORDER, headers={"access-timestamp": "1e12"}), "40005"),
    "timestamp missing": (Sent("POST", B_PLACE, body=B_ORDER, headers={"access-timestamp": None}), "40003"),
    # method and path
    "method signed as GET": (Sent("POST", B_PLACE, body=B_ORDER, signed_method="GET"), "40009"),
    "path signed elsewhere": (Sent("POST", B_PLACE, body=B_ORDER, signed_path="/api/v2/spot/trade/cancel-order"), "40009"),
    "path signed in upper case": (Sent("POST", B_PLACE, body=B_ORDER, signed_path=B_PLACE.upper()), "40009"),
    # query
    "query value changed": (Sent("GET", B_LIST, query=B_QUERY, signed_query="symbol=ETHUSDT&limit=10"), "40009"),
    "query pair added": (Sent("GET", B_LIST, query=B_QUERY + "&idLessThan=1", signed_query=B_QUERY), "40009"),
    "query pair dropped": (Sent("GET", B_LIST, query="symbol=BTCUSDT", signed_query=B_QUERY), "40009"),
    "query smuggled in one value": (Sent("GET", B_LIST, query="symbol=BTCUSDT%26limit%3D10", signed_query=B_QUERY), "40009"),
    "query repeated name": (Sent("GET", B_LIST, query="symbol=ETHUSDT&" + B_QUERY, signed_query=B_QUERY), "40009"),
    # body
    "body byte changed": (Sent("POST", B_PLACE, body=B_ORDER.replace(b"0.001", b"0.002"), signed_body=B_ORDER), "40009"),
    "body field added": (Sent("POST", B_PLACE, body=B_ORDER[:-1] + b',"clientOid":"x"}', signed_body=B_ORDER), "40009"),
    "body emptied": (Sent("POST", B_PLACE, body=b"", signed_body=B_ORDER), "40009"),
    # headers
    "unknown key": (Sent("POST", B_PLACE, body=B_ORDER, headers={"access-key": "bg_" + "0" * 32}), "40037"),
    "key missing": (Sent("POST", B_PLACE, body=B_ORDER, headers={"access-key": None}), "40001"),
    "wrong passphrase": (Sent("POST", B_PLACE, body=B_ORDER, headers={"access-passphrase": "nope"}), "40012"),
    "passphrase missing": (Sent("POST", B_PLACE, body=B_ORDER, headers={"access-passphrase": None}), "40011"),
}


@pytest.mark.parametrize("name", sorted(BITGET_MUTATIONS))
def test_every_bitget_mutation_is_refused_with_its_code(world, name):
    app, keys = world
    sent, code = BITGET_MUTATIONS[name]
    before = json.dumps(app.engine.snapshot(), sort_keys=True)
    payload = app.handle(bitget_request(keys, sent)).json_body()
    assert payload["code"] == code, payload
    assert json.dumps(app.engine.snapshot(), sort_keys=True) == before


def test_key_kind_mutations_are_refused(world):
    app, keys = world
    # an RSA key signed with HMAC, the public key as the secret
    rsa_key = keys["bitget_rsa"]
    sent = Sent("POST", B_PLACE, body=B_ORDER)
    request = bitget_request(keys, sent, key="bitget")
    message = (str(T0) + "POST" + B_PLACE).encode() + B_ORDER
    request.headers.update({"access-key": rsa_key.key, "access-passphrase": rsa_key.passphrase,
                            "access-sign": b64_hmac(rsa_key.secret, message)})
    assert app.handle(request).json_body()["code"] == "40009"
    # an HMAC key whose signature is an RSA one
    request = bitget_request(keys, sent, key="bitget_rsa")
    request.headers.update({"access-key": keys["bitget"].key, "access-passphrase": keys["bitget"].passphrase})
    assert app.handle(request).json_body()["code"] == "40009"
    # another user's key and secret with this user's passphrase
    request = bitget_request(keys, sent, key="other_bitget")
    request.headers["access-passphrase"] = keys["bitget"].passphrase
    assert app.handle(request).json_body()["code"] == "40012"
    # a CoinW key on Bitget, a Bitget key on CoinW
    request = bitget_request(keys, sent)
    request.headers["access-key"] = keys["coinw"].key
    assert app.handle(request).json_body()["code"] == "40037"
    cw = coinw_request(keys, Sent("POST", C_ORDER, body=C_BODY))
    cw.headers["api_key"] = keys["bitget"].key
    assert app.handle(cw).json_body()["code"] == 6000


def bitget_variants():
    ordered = "limit=10&symbol=BTCUSDT"
    spaced = json.dumps(json.loads(B_ORDER)).encode()
    return {
        "as signed": Sent("POST", B_PLACE, body=B_ORDER),
        "spaced JSON": Sent("POST", B_PLACE, body=spaced),
        "indented JSON": Sent("POST", B_PLACE, body=json.dumps(json.loads(B_ORDER), indent=2).encode()),
        "timestamp 29 s old": Sent("POST", B_PLACE, body=B_ORDER, timestamp=T0 - 29_000),
        "timestamp 29 s ahead": Sent("POST", B_PLACE, body=B_ORDER, timestamp=T0 + 29_000),
        "header names in capitals": Sent("POST", B_PLACE, body=B_ORDER),
        "query as sent": Sent("GET", B_LIST, query=B_QUERY),
        "query signed sorted": Sent("GET", B_LIST, query=B_QUERY, signed_query=ordered),
        "query percent-encoded, signed decoded": Sent("GET", B_LIST, query=urlencode({"symbol": "BTCUSDT", "clientOid": "a b/c"}, quote_via=quote),
                                                     signed_query="symbol=BTCUSDT&clientOid=a b/c"),
        "query with + for a space, signed decoded": Sent("GET", B_LIST, query=urlencode({"symbol": "BTCUSDT", "clientOid": "a b"}),
                                                        signed_query="symbol=BTCUSDT&clientOid=a b"),
        "query percent-encoded, signed encoded": Sent("GET", B_LIST, query=urlencode({"symbol": "BTCUSDT", "clientOid": "a,b"})),
        "no query": Sent("GET", B_LIST),
    }


@pytest.mark.parametrize("name", sorted(bitget_variants()))
@pytest.mark.parametrize("key", ["bitget", "bitget_rsa"])
def test_no_legitimate_bitget_variant_is_refused(world, name, key):
    app, keys = world
    request = bitget_request(keys, bitget_variants()[name], key=key)
    if name == "header names in capitals":
        request = Request(request.method, request.path, request.raw_query,
                          {k.lower(): v for k, v in request.headers.items()}, request.body, request.client_ip)
    payload = app.handle(request).json_body()
    assert payload["code"] == "00000", payload


# ---- CoinW --------------------------------------------------------------------------------------

C_ORDER = "/v1/perpum/order"
C_BODY = json.dumps({"instrument": "BTC", "direction": "long", "leverage": 10, "quantityUnit": 1,
                     "quantity": "1", "positionModel": 0, "positionType": "plan",
                     "openPrice": "60000"}, separators=(",", ":")).encode()
C_LIST = "/v1/perpum/orders/open"
C_QUERY = "instrument=BTC&positionType=plan"

COINW_MUTATIONS = {
    "signature of another body": (Sent("POST", C_ORDER, body=C_BODY, signed_body=C_BODY + b" "), 6001),
    "signature flipped": (Sent("POST", C_ORDER, body=C_BODY, headers={"sign": "A" * 44}), 6001),
    "signature missing": (Sent("POST", C_ORDER, body=C_BODY, headers={"sign": None}), 6000),
    "timestamp 31 s old": (Sent("POST", C_ORDER, body=C_BODY, timestamp=T0 - 31_000), 6000),
    "timestamp changed after signing": (Sent("POST", C_ORDER, body=C_BODY, signed_timestamp=T0 - 1), 6001),
    "timestamp not a number": (Sent("POST", C_ORDER, body=C_BODY, headers={"timestamp": "soon"}), 6000),
    "timestamp missing": (Sent("POST", C_ORDER, body=C_BODY, headers={"timestamp": None}), 6000),
    "method signed as PUT": (Sent("POST", C_ORDER, body=C_BODY, signed_method="PUT"), 6001),
    "path signed elsewhere": (Sent("POST", C_ORDER, body=C_BODY, signed_path="/v1/perpum/orders"), 6001),
    "query value changed": (Sent("GET", C_LIST, query=C_QUERY, signed_query="instrument=ETH&positionType=plan"), 6001),
    "query pair added": (Sent("GET", C_LIST, query=C_QUERY + "&extra=1", signed_query=C_QUERY), 6001),
    "query signed sorted": (Sent("GET", C_LIST, query=C_QUERY, signed_query="positionType=plan&instrument=BTC"), 6001),
    "query smuggled in one value": (Sent("GET", C_LIST, query="instrument=BTC%26positionType%3Dplan", signed_query=C_QUERY), 6001),
    "body byte changed": (Sent("POST", C_ORDER, body=C_BODY.replace(b'"1"', b'"2"'), signed_body=C_BODY), 6001),
    "body emptied": (Sent("POST", C_ORDER, body=b"", signed_body=C_BODY), 6001),
    "unknown key": (Sent("POST", C_ORDER, body=C_BODY, headers={"api_key": "0" * 32}), 6000),
    "key missing": (Sent("POST", C_ORDER, body=C_BODY, headers={"api_key": None}), 6000),
}


@pytest.mark.parametrize("name", sorted(COINW_MUTATIONS))
def test_every_coinw_mutation_is_refused_with_its_code(world, name):
    app, keys = world
    sent, code = COINW_MUTATIONS[name]
    before = json.dumps(app.engine.snapshot(), sort_keys=True)
    payload = app.handle(coinw_request(keys, sent)).json_body()
    assert payload["code"] == code, payload
    assert json.dumps(app.engine.snapshot(), sort_keys=True) == before


def coinw_variants():
    return {
        "as signed": Sent("POST", C_ORDER, body=C_BODY),
        "spaced JSON": Sent("POST", C_ORDER, body=json.dumps(json.loads(C_BODY)).encode()),
        "numbers as strings": Sent("POST", C_ORDER, body=C_BODY.replace(b'"leverage":10', b'"leverage":"10"')),
        "timestamp 29 s old": Sent("POST", C_ORDER, body=C_BODY, timestamp=T0 - 29_000),
        "query as sent": Sent("GET", C_LIST, query=C_QUERY),
        "query percent-encoded, signed decoded": Sent("GET", C_LIST, query="instrument=BTC&positionType=plan&sourceIds=1%2C2",
                                                     signed_query="instrument=BTC&positionType=plan&sourceIds=1,2"),
        "no query": Sent("GET", "/v1/perpum/positions/all"),
    }


@pytest.mark.parametrize("name", sorted(coinw_variants()))
def test_no_legitimate_coinw_variant_is_refused(world, name):
    app, keys = world
    payload = app.handle(coinw_request(keys, coinw_variants()[name])).json_body()
    assert payload["code"] == 0, payload
