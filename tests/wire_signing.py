"""A Bitget V2 request signer written from the docs, independent of localex's own client, so the
wire tests have a witness of their own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


def hmac_signature(secret: str, message: bytes) -> str:
    """base64(HMAC-SHA256(secret, message))"""
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def signed_headers(api_key: str, secret: str, passphrase: str, method: str, path: str,
                   query: str = "", body: bytes | str = b"", timestamp: str | None = None) -> dict:
    """The four ACCESS-* headers (and Content-Type) for timestamp + METHOD + path[?query] + body."""
    ts = timestamp or str(int(time.time() * 1000))
    raw = body.encode() if isinstance(body, str) else body
    message = (ts + method + path + ("?" + query if query else "")).encode() + raw
    return {"ACCESS-KEY": api_key, "ACCESS-SIGN": hmac_signature(secret, message),
            "ACCESS-TIMESTAMP": ts, "ACCESS-PASSPHRASE": passphrase,
            "Content-Type": "application/json"}
