"""Shared by the CoinW tests: a signer written from CoinW's docs (independent of localex's own
client, so the wire tests have a witness of their own), users, and exact JSON decoding."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest

from localex.client import CoinWClient
from localex.wire.ratelimit import NoRateLimiter

FUTURES = "futures"
ORDER = "/v1/perpum/order"


def coinw_sign(secret: str, message: str | bytes) -> str:
    """base64(HMAC-SHA256(secret, timestamp + METHOD + path [+ "?" + query] + body))"""
    raw = message.encode() if isinstance(message, str) else message
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


def coinw_headers(api_key: str, secret: str, method: str, path: str, query: str = "",
                  body: bytes | str = b"", timestamp: str | None = None) -> dict:
    ts = timestamp or str(int(time.time() * 1000))
    raw = body.encode() if isinstance(body, str) else body
    message = (ts + method + path + ("?" + query if query else "")).encode() + raw
    return {"api_key": api_key, "timestamp": ts, "sign": coinw_sign(secret, message),
            "Content-Type": "application/json"}


def exact(response) -> object:
    """The body with numbers kept exact: Decimal for fractions, int for integers."""
    return json.loads(response.content, parse_float=Decimal)


@dataclass
class CoinWUser:
    uid: str
    api_key: str
    secret: str


def make_user(engine, name: str = "alice", funds: dict | None = None, **key_options) -> CoinWUser:
    user = engine.create_user("coinw", name=name)
    for asset, amount in (funds if funds is not None else {"USDT": "100000"}).items():
        engine.fund(user.uid, asset, Decimal(amount), account=FUTURES)
    key = engine.create_api_key(user.uid, **key_options)
    return CoinWUser(user.uid, key.key, key.secret)


def client_for(url: str, user: CoinWUser, **options) -> CoinWClient:
    return CoinWClient(url, user.api_key, user.secret, **options)


def set_price(engine, symbol: str, price) -> None:
    engine.set_mark("coinw", FUTURES, symbol, Decimal(str(price)))


@pytest.fixture
def no_limits(world, monkeypatch):
    """CoinW's rate limits off (tests that are not about them send bursts)."""
    monkeypatch.setattr(world.app.venue("coinw"), "limiter", NoRateLimiter())


class Api:
    """Signed requests from one user, answers decoded exactly (Decimal fractions, int integers)."""

    def __init__(self, http, user) -> None:
        self.http, self.user = http, user

    def call(self, method: str, path: str, params=None):
        query, body = "", b""
        if method == "GET":
            query = "&".join(f"{k}={v}" for k, v in (params or {}).items() if v is not None)
        elif params is not None:
            body = json.dumps(params, separators=(",", ":")).encode()
        headers = coinw_headers(self.user.api_key, self.user.secret, method, path, query, body)
        response = self.http.request(method, path + ("?" + query if query else ""),
                                     content=body or None, headers=headers)
        self.status = response.status_code
        return exact(response)

    def get(self, path, **params):
        return self.call("GET", path, params)

    def post(self, path, body=None):
        return self.call("POST", path, body if body is not None else {})

    def put(self, path, body):
        return self.call("PUT", path, body)

    def delete(self, path, body=None):
        return self.call("DELETE", path, body if body is not None else {})

    def data(self, method, path, params=None):
        payload = self.call(method, path, params)
        assert payload["code"] == 0, payload
        return payload.get("data")

    def place(self, **fields) -> int | None:
        body = {"instrument": "BTC", "direction": "long", "leverage": 10, "quantityUnit": 1,
                "quantity": "1", "positionModel": 0, "positionType": "execute", **fields}
        value = self.data("POST", ORDER, {k: v for k, v in body.items() if v is not None})["value"]
        assert isinstance(value, str)
        return None if value == "null" else int(value)
