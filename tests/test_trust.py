"""Trust boundaries: the address a key's whitelist and a per-IP limit see, the query a signature
covers, and the kind of key a venue verifies. Each test replays the attack that got through."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from coinw_support import coinw_headers, make_user
from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.model import KeyKind
from localex.server.app import LocalexApp
from localex.store import open_store
from localex.testing import ServerThread
from localex.wire.ratelimit import MemoryRateLimiter
from wire_signing import signed_headers

PLACE = "/api/v2/spot/trade/place-order"
ORDER = {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "force": "gtc",
         "price": "90000", "size": "0.001"}
COINW_ORDER = {"instrument": "BTC", "direction": "long", "leverage": 10, "quantityUnit": 1,
               "quantity": "1", "positionModel": 0, "positionType": "execute"}


def body(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def bitget_place(http, trader, headers: dict | None = None) -> dict:
    raw = body(ORDER)
    signed = signed_headers(trader.api_key, trader.secret_key, trader.passphrase, "POST", PLACE, "", raw)
    return http.post(PLACE, content=raw, headers={**signed, **(headers or {})}).json()


def coinw_place(http, user, headers: dict | None = None) -> dict:
    raw = body(COINW_ORDER)
    signed = coinw_headers(user.api_key, user.secret, "POST", "/v1/perpum/order", "", raw)
    return http.post("/v1/perpum/order", content=raw, headers={**signed, **(headers or {})}).json()


FORGED = {"X-Forwarded-For": "10.9.9.9", "X-Real-IP": "10.9.9.9", "Forwarded": "for=10.9.9.9"}


# ---- 1. forwarded headers ------------------------------------------------------------------

def test_a_forwarded_for_header_does_not_pass_a_bitget_ip_whitelist(world, http):
    fenced = world.trader("fenced", ip_whitelist=["10.9.9.9"])
    assert bitget_place(http, fenced)["code"] == "40018"
    assert bitget_place(http, fenced, FORGED)["code"] == "40018"
    assert world.engine.spot_orders(fenced.uid, limit=10) == []


def test_a_forwarded_for_header_does_not_pass_a_coinw_ip_whitelist(world, http):
    fenced = make_user(world.engine, "fenced", ip_whitelist=["10.9.9.9"])
    assert coinw_place(http, fenced)["code"] == 6003
    assert coinw_place(http, fenced, FORGED)["code"] == 6003
    assert world.engine.positions(fenced.uid) == []


@pytest.fixture
def frozen_server():
    """A server of its own whose signature clock stands still, so rate windows never slide."""
    engine = Engine(open_store(":memory:"), clock=ManualClock(), seed=1)
    install_market(engine)
    servers = []

    def start(**options):
        app = LocalexApp(engine, wall_clock=engine.clock)
        servers.append(ServerThread(app, **options).start())
        return engine, servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_a_new_forwarded_for_per_request_does_not_escape_the_per_ip_limit(frozen_server):
    _, server = frozen_server()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        codes = [http.get("/api/v2/spot/market/tickers", headers={"X-Forwarded-For": f"10.0.{i // 250}.{i % 250}"})
                 .status_code for i in range(100)]
    assert codes.count(200) == 20 and codes.count(429) == 80  # 20 a second from one address


def test_forwarded_for_is_believed_from_a_proxy_the_user_names(frozen_server):
    engine, server = frozen_server(forwarded_allow_ips="127.0.0.1")
    user = engine.create_user("bitget", name="proxied")
    engine.fund(user.uid, "USDT", 1000)
    key = engine.create_api_key(user.uid, ip_whitelist=["10.9.9.9"])
    raw = body(ORDER)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        def send(headers):
            signed = signed_headers(key.key, key.secret, key.passphrase, "POST", PLACE, "", raw,
                                    timestamp=str(engine.now_ms()))
            return http.post(PLACE, content=raw, headers={**signed, **headers}).json()["code"]

        assert send({}) == "40018"
        assert send({"X-Forwarded-For": "10.9.9.9"}) == "00000"


def test_the_rate_limiter_forgets_least_recently_used_windows_beyond_its_bound():
    limiter = MemoryRateLimiter(max_keys=1000)
    assert all(limiter.hit("hot", 20, 1000, 0) for _ in range(20))
    for i in range(50_000):
        limiter.hit(f"ip:{i}", 20, 1000, 0)
        if i % 100 == 0:
            assert limiter.hit("hot", 20, 1000, 0) is False  # still limited: kept, recently used
    assert len(limiter) <= 1000


# ---- 2. the query signed is the query read -------------------------------------------------

SMUGGLED = "symbol=BTCUSDT%26productType%3DUSDT-FUTURES"
SIGNED = "symbol=BTCUSDT&productType=USDT-FUTURES"


def test_bitget_refuses_a_signature_over_a_query_the_handler_reads_differently(world, http):
    alice = world.trader("alice")
    path = "/api/v2/spot/trade/unfilled-orders"
    headers = signed_headers(alice.api_key, alice.secret_key, alice.passphrase, "GET", path, SIGNED)
    payload = http.get(f"{path}?{SMUGGLED}", headers=headers).json()
    assert payload["code"] == "40009"
    # the same signature over the query as it was meant is good
    headers = signed_headers(alice.api_key, alice.secret_key, alice.passphrase, "GET", path, SIGNED)
    assert http.get(f"{path}?{SIGNED}", headers=headers).json()["code"] == "00000"


def test_coinw_refuses_a_signature_over_a_query_the_handler_reads_differently(world, http):
    alice = make_user(world.engine, "alice")
    path = "/v1/perpum/orders/open"
    signed, smuggled = "instrument=BTC&positionType=execute", "instrument=BTC%26positionType%3Dexecute"
    payload = http.get(f"{path}?{smuggled}", headers=coinw_headers(alice.api_key, alice.secret, "GET",
                                                                    path, signed)).json()
    assert payload["code"] == 6001
    ok = http.get(f"{path}?{signed}", headers=coinw_headers(alice.api_key, alice.secret, "GET", path,
                                                            signed)).json()
    assert ok["code"] == 0


# ---- 3. key kinds ----------------------------------------------------------------------------

def _public_pem() -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def test_coinw_keys_cannot_be_rsa(world, http):
    user = world.engine.create_user("coinw", name="rsa")
    with pytest.raises(ValueError, match="coinw has no RSA keys"):
        world.engine.create_api_key(user.uid, kind="rsa", public_key=_public_pem())
    refused = http.post("/localex/keys", json={"uid": user.uid, "kind": "rsa", "publicKey": _public_pem()})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "bad_field"
    assert world.engine.list_api_keys(user.uid) == []
    # Bitget keys can be
    bitget = world.engine.create_user("bitget", name="rsa")
    made = http.post("/localex/keys", json={"uid": bitget.uid, "kind": "rsa", "publicKey": _public_pem()})
    assert made.status_code == 200 and made.json()["kind"] == "rsa"


def test_a_coinw_rsa_key_that_exists_anyway_is_never_checked_as_hmac(world, http):
    """A key stored before the refusal (or by an engine serving no venue) signed with its public
    key as an HMAC secret."""
    user = make_user(world.engine, "legacy")
    pem = _public_pem()
    world.engine.key_kinds.pop("coinw")
    try:
        key = world.engine.create_api_key(user.uid, kind="rsa", public_key=pem)
    finally:
        world.engine.key_kinds["coinw"] = frozenset({KeyKind.HMAC})
    raw = body(COINW_ORDER)
    headers = coinw_headers(key.key, pem, "POST", "/v1/perpum/order", "", raw)
    assert http.post("/v1/perpum/order", content=raw, headers=headers).json()["code"] == 6001
    assert world.engine.positions(user.uid) == []
