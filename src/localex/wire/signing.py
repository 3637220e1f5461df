"""HMAC-SHA256 in base64: the signature Bitget's HMAC keys make (and CoinW's).

hmac.new(secret, message, sha256) keys two SHA-256 states with the secret on every call; a
request is checked against the same few secrets again and again, so each secret's two keyed
states (RFC 2104: the key padded to the block, XOR 0x36 inside, XOR 0x5C outside) are made
once and copied per message. tests/test_wire_http.py checks it against hmac.new.
"""

from __future__ import annotations

import binascii
import hashlib
from functools import lru_cache

_BLOCK = 64  # SHA-256's block size in bytes
_INNER = bytes(b ^ 0x36 for b in range(256))
_OUTER = bytes(b ^ 0x5C for b in range(256))


@lru_cache(maxsize=1024)
def _keyed(secret: str) -> tuple:
    key = secret.encode()
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(key.translate(_INNER)), hashlib.sha256(key.translate(_OUTER))


def hmac_sha256_b64(secret: str, message: bytes) -> bytes:
    """base64(HMAC-SHA256(secret, message)), as ASCII bytes."""
    inner, outer = _keyed(secret)
    inner = inner.copy()
    inner.update(message)
    outer = outer.copy()
    outer.update(inner.digest())
    return binascii.b2a_base64(outer.digest(), newline=False)
