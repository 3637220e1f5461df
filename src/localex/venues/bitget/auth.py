"""Bitget request signing: ACCESS-KEY / ACCESS-SIGN / ACCESS-TIMESTAMP / ACCESS-PASSPHRASE.

prehash = timestamp + METHOD + path [+ "?" + query] + body, signed with HMAC-SHA256 (base64) or,
for RSA keys, RSA-SHA256 PKCS#1 v1.5 (base64). The signature is checked against the bytes received:
the query as received, percent-decoded, and decoded with its keys sorted (clients differ) - a
decoded form only when it names exactly the parameters the handler reads - and the body exactly
as sent, never re-serialised.
"""

from __future__ import annotations

import base64
import hmac
from functools import lru_cache
from urllib.parse import unquote, unquote_plus

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from localex.engine.model import ApiKey, KeyKind
from localex.wire.http import Request, names_same_pairs
from localex.wire.signing import hmac_sha256_b64
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.params import is_long

TIMESTAMP_WINDOW_MS = 30_000
KEY_KINDS = frozenset({KeyKind.HMAC, KeyKind.RSA})


def prehash(timestamp: str, method: str, path: str, query: str, body: bytes) -> bytes:
    head = timestamp + method.upper() + path + ("?" + query if query else "")
    return head.encode() + body


def sign_hmac(secret: str, message: bytes) -> str:
    return hmac_sha256_b64(secret, message).decode()


def query_forms(raw: str, pairs: list[tuple[str, str]] | None = None) -> list[str]:
    """Every form of the query a genuine client may have signed, as received first: then decoded,
    and decoded with its names sorted. A decoded form counts only if it names exactly the pairs
    the handler reads (`pairs`, decoded from `raw` by default), so no signature covers one set of
    parameters while the handler reads another."""
    if not raw:
        return [""]
    if pairs is None:
        pairs = Request("GET", "", raw, {}).query_pairs
    forms = [raw]
    for decode in (unquote, unquote_plus):
        decoded = decode(raw)
        if decoded not in forms and names_same_pairs(decoded, pairs):
            forms.append(decoded)
    ordered = "&".join(f"{k}={v}" for k, v in sorted(pairs, key=lambda kv: kv[0]))
    if ordered not in forms and names_same_pairs(ordered, pairs, any_order=True):
        forms.append(ordered)
    return forms


@lru_cache(maxsize=1024)
def _public_key(pem: str):
    return serialization.load_pem_public_key(pem.encode())


def _rsa_ok(pem: str, signature: bytes, message: bytes) -> bool:
    try:
        _public_key(pem).verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def signature_matches(key: ApiKey, sign: str, timestamp: str, request: Request) -> bool:
    if key.kind == KeyKind.RSA:
        try:
            raw_sig = base64.b64decode(sign, validate=True)
        except (ValueError, TypeError):
            return False
    else:
        secret, given = key.secret, sign.encode()

    def matches(query: str) -> bool:
        message = prehash(timestamp, request.method, request.raw_path, query, request.body)
        if key.kind == KeyKind.HMAC:
            return hmac.compare_digest(hmac_sha256_b64(secret, message), given)
        return _rsa_ok(key.secret, raw_sig, message)

    # the query as received is the first form and the one genuine clients sign: the other
    # forms are worked out only when it does not verify
    raw = request.raw_query
    if matches(raw):
        return True
    return any(matches(query) for query in query_forms(raw, request.query_pairs)[1:])


def authenticate(request: Request, lookup, wall_ms: int, seconds_ok: bool = False) -> ApiKey:
    """The API key a request is signed with, or the BitgetError Bitget answers. seconds_ok:
    the timestamp may be in seconds (the WebSocket login's), as well as in milliseconds."""
    h = request.headers
    access_key = h.get("access-key")
    if not access_key:
        raise BitgetError("40001")
    sign = h.get("access-sign")
    if not sign:
        raise BitgetError("40002")
    timestamp = h.get("access-timestamp")
    if not timestamp:
        raise BitgetError("40003")
    passphrase = h.get("access-passphrase")
    if not passphrase:
        raise BitgetError("40011")
    if not is_long(timestamp):
        raise BitgetError("40005")
    stamp_ms = int(timestamp)
    if seconds_ok and stamp_ms < 10**11:
        stamp_ms *= 1000
    if abs(wall_ms - stamp_ms) > TIMESTAMP_WINDOW_MS:
        raise BitgetError("40008")
    key = lookup(access_key)
    if key is None or key.venue != "bitget":
        raise BitgetError("40037")
    if not hmac.compare_digest(key.passphrase.encode(), passphrase.encode()):
        raise BitgetError("40012")
    if not signature_matches(key, sign, timestamp, request):
        raise BitgetError("40009")
    if not key.allows_ip(request.client_ip):
        raise BitgetError("40018", data=[])
    return key
