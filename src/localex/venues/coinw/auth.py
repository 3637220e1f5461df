"""CoinW futures request signing: headers api_key, timestamp (ms) and sign.

sign = base64(HMAC-SHA256(secret, timestamp + METHOD + path [+ "?" + query] + body)).

GET: the query is what the client built before URL-encoding it, so the signature is checked
against the query as received and against its percent-decoded form, pairs kept in the order they
arrived (clients sign in insertion order, never sorted) - the decoded form only when it names
exactly the parameters the handler reads, so "a=1%26b%3D2" (one parameter) never verifies as a
signature over "a=1&b=2" (two). Without a query, "path" and "path?" both
verify. POST, PUT and DELETE (whose parameters travel in the body): the raw body bytes as
received, never re-serialised, so compact or spaced JSON, numbers or strings, all verify. A body of
"{}" also verifies against an empty body (a client that signs "" for no parameters but sends "{}").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote, unquote_plus

from localex.engine.model import ApiKey, KeyKind
from localex.wire.http import Request, names_same_pairs
from localex.venues.coinw.errors import CoinWError

TIMESTAMP_WINDOW_MS = 30_000
VENUE = "coinw"
KEY_KINDS = frozenset({KeyKind.HMAC})  # CoinW documents no RSA signing


def prehash(timestamp: str, method: str, path: str, query: str | None, body: bytes) -> bytes:
    head = timestamp + method.upper() + path + ("" if query is None else "?" + query)
    return head.encode() + body


def sign(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def query_forms(raw: str, pairs: list[tuple[str, str]] | None = None) -> list[str | None]:
    """The query strings a genuine client may have signed: as received, then percent-decoded in
    the order received (with "+" read as a plus and as a space) - a decoded form only when it
    names exactly the pairs the handler reads (`pairs`, decoded from `raw` by default).
    None: no "?" at all."""
    if not raw:
        return [None, ""]
    if pairs is None:
        pairs = Request("GET", "", raw, {}).query_pairs
    forms: list[str | None] = [raw]
    for decode in (unquote, unquote_plus):
        decoded = "&".join(decode(part) for part in raw.split("&"))
        if decoded not in forms and names_same_pairs(decoded, pairs):
            forms.append(decoded)
    return forms


def body_forms(request: Request) -> list[bytes]:
    if request.method == "GET":
        return [b""]
    body = request.body
    forms = [body]
    if body.strip() == b"{}":
        forms.append(b"")
    return forms


def signature_matches(secret: str, given: str, timestamp: str, request: Request) -> bool:
    expected_forms = []
    queries = query_forms(request.raw_query, request.query_pairs) if request.method == "GET" else [None]
    for query in queries:
        for body in body_forms(request):
            expected_forms.append(prehash(timestamp, request.method, request.raw_path, query, body))
    given_bytes = given.encode()
    return any(hmac.compare_digest(sign(secret, m).encode(), given_bytes) for m in expected_forms)


def authenticate(request: Request, lookup, wall_ms: int) -> ApiKey:
    """The API key a request is signed with, or the CoinWError the gateway answers."""
    h = request.headers
    api_key = h.get("api_key")
    if not api_key:
        raise CoinWError(6000, "api_key is required")
    given = h.get("sign")
    if not given:
        raise CoinWError(6000, "sign is required")
    timestamp = h.get("timestamp")
    if not timestamp:
        raise CoinWError(6000, "timestamp is required")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 15):
        raise CoinWError(6000, "invalid timestamp")
    if abs(wall_ms - int(timestamp)) > TIMESTAMP_WINDOW_MS:
        raise CoinWError(6000, "timestamp expired")
    key = lookup(api_key)
    if key is None or key.venue != VENUE:
        raise CoinWError(6000, "api key does not exist")
    # CoinW signs with HMAC only: a key of another kind (whose "secret" is a public key) never
    # verifies
    if key.kind != KeyKind.HMAC or not signature_matches(key.secret, given, timestamp, request):
        raise CoinWError(6001)
    if not key.allows_ip(request.client_ip):
        raise CoinWError(6003)
    return key
