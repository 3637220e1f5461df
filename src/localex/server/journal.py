"""The request journal: every venue request and its answer, secrets redacted, readable through
the control plane so a test can assert what a bot sent.

Entries carry the market clock's time (not the wall clock's), so two runs with the same seed and
the same requests produce the same journal, byte for byte.

The journal is bounded by count and by size (the bytes of each entry's query, headers, body and
answer): past either bound the oldest entries are dropped, and stats() says what it holds.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections import deque
from typing import Iterable

import orjson

from localex.wire.http import Request, Response

REDACTED = "<redacted>"
# request headers that would let a reader replay or forge a request
SECRET_HEADERS = frozenset({"access-sign", "access-passphrase", "sign", "authorization",
                            "x-localex-token"})
# headers that say nothing about what the bot asked for (they vary with the client's transport)
TRANSPORT_HEADERS = frozenset({"host", "content-length", "connection", "accept-encoding",
                               "user-agent", "accept"})


# stream frame fields that would let a reader log in as the bot (Bitget's sign and passphrase;
# CoinW's login sends the secret key itself as its passphrase)
SECRET_FIELDS = ("sign", "passphrase", "secretKey", "secret_key")


def redact_frame(text: str) -> str:
    if not any(name in text for name in SECRET_FIELDS):
        return text
    try:
        frame = orjson.loads(text)
    except orjson.JSONDecodeError:
        return text

    def scrub(value):
        if isinstance(value, dict):
            return {k: (REDACTED if k in SECRET_FIELDS else scrub(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value
    return orjson.dumps(scrub(frame)).decode()


_LEADING_CODE = re.compile(rb'\{"code":(?:"([^"\\]*)"|(-?\d+))[,}]')


def venue_code(body: bytes) -> str:
    """The venue's own code in a JSON answer (Bitget "00000" / "40034", CoinW 0 / 9001), as text."""
    if not body.startswith(b"{"):
        return ""
    if body.startswith(b'{"code":'):  # both venues' envelopes: read the code, not the whole answer
        found = _LEADING_CODE.match(body)
        if found:
            return (found.group(1) if found.group(1) is not None else found.group(2)).decode()
    try:
        code = orjson.loads(body).get("code")
    except (orjson.JSONDecodeError, AttributeError):
        return ""
    return "" if code is None or isinstance(code, (dict, list)) else str(code)


class JournalEntry:
    """One journal entry. Recording keeps the raw values (the request's headers, the body and
    answer bytes); they are redacted, sorted and decoded when first read."""

    __slots__ = ("seq", "time_ms", "venue", "api_key", "method", "path", "query", "status",
                 "latency_ms", "_code",
                 "_headers", "_raw_headers", "_body", "_response", "_size")

    def __init__(self, seq: int, time_ms: int, venue: str, api_key: str, method: str, path: str,
                 query: str, headers: dict[str, str] | None, body: str | bytes, status: int,
                 response: str | bytes, raw_headers: dict[str, str] | None = None) -> None:
        self.seq, self.time_ms, self.venue, self.api_key = seq, time_ms, venue, api_key
        self.method, self.path, self.query, self.status = method, path, query, status
        self._headers, self._raw_headers = headers, raw_headers
        self._body, self._response = body, response
        self._size: int | None = None
        self.latency_ms = 0.0  # wall time spent answering (the one value that does not repeat)
        self._code = None

    @property
    def headers(self) -> dict[str, str]:
        """Lower-case names, secrets redacted, transport headers left out."""
        if self._headers is None:
            self._headers = {k: (REDACTED if k in SECRET_HEADERS else v)
                             for k, v in sorted(self._raw_headers.items()) if k not in TRANSPORT_HEADERS}
        return self._headers

    @property
    def body(self) -> str:
        """As received (UTF-8, undecodable bytes replaced)."""
        if isinstance(self._body, bytes):
            self._body = self._body.decode("utf-8", "replace")
        return self._body

    @property
    def response(self) -> str:
        if isinstance(self._response, bytes):
            self._response = self._response.decode("utf-8", "replace")
        return self._response

    def __eq__(self, other) -> bool:
        return isinstance(other, JournalEntry) and self.as_json() == other.as_json()

    def __repr__(self) -> str:
        return f"JournalEntry({self.as_json()!r})"

    @property
    def size(self) -> int:
        """Roughly the bytes this entry holds (measured once, from the raw values, without
        decoding them)."""
        if self._size is None:
            headers = (self._raw_headers if self._headers is None else self._headers) or {}
            self._size = (len(self._body) + len(self._response) + len(self.query) + len(self.path)
                          + sum(map(len, headers)) + sum(map(len, headers.values())) + 64)
        return self._size

    @property
    def code(self) -> str:
        """The venue's own code in the answer ("00000", "40034", "0"), "" if none."""
        if self._code is None:
            raw = self._response
            self._code = venue_code(raw.encode() if isinstance(raw, str) else raw)
        return self._code

    def as_json(self) -> dict:
        """Everything but the latency: the same seed and requests give the same bytes."""
        return {"seq": self.seq, "time": self.time_ms, "venue": self.venue, "apiKey": self.api_key,
                "method": self.method, "path": self.path, "query": self.query,
                "headers": self.headers, "body": self.body, "status": self.status,
                "code": self.code, "response": self.response}


def select(items: Iterable[JournalEntry], *, venue: str | None = None, api_key: str | None = None,
           path: str | None = None, method: str | None = None, since_ms: int | None = None,
           until_ms: int | None = None, after_seq: int | None = None, limit: int | None = None,
           tail: int | None = None) -> list[JournalEntry]:
    """The entries (oldest first) the journal's filters keep: one selection for every journal."""
    out = [e for e in items
           if (venue is None or e.venue == venue)
           and (api_key is None or e.api_key == api_key)
           and (path is None or fnmatch.fnmatchcase(e.path, path))
           and (method is None or e.method == method.upper())
           and (since_ms is None or e.time_ms >= since_ms)
           and (until_ms is None or e.time_ms <= until_ms)
           and (after_seq is None or e.seq > after_seq)]
    if limit is not None:
        out = out[:limit]
    if tail is not None:  # the newest N (still oldest first)
        out = out[-tail:] if tail else []
    return out


MAX_ENTRIES = 10_000
MAX_BYTES = 32 << 20  # 32 MiB


class Journal:
    def __init__(self, capacity: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._entries: deque[JournalEntry] = deque()
        self._bytes = 0
        self._dropped = 0
        self._seq = 0
        self._lock = threading.Lock()

    def record(self, venue: str, key_header: str, time_ms: int, request: Request,
               response: Response, latency_ms: float = 0.0) -> JournalEntry:
        headers = request.headers  # seq 0: _keep numbers the entry
        entry = JournalEntry(0, time_ms, venue, headers.get(key_header, ""), request.method,
                             request.path, request.raw_query, None, request.body, response.status,
                             response.body, headers)
        entry.latency_ms = latency_ms
        self._keep(entry)
        return entry

    def _keep(self, entry: JournalEntry) -> None:
        """Number the entry and keep it."""
        with self._lock:
            self._seq += 1
            entry.seq = self._seq
            self._append(entry)

    def stats(self) -> dict:
        """What the journal holds: entries, bytes, its two bounds, and how many entries it has
        dropped (oldest first) since it was last cleared."""
        with self._lock:
            return {"entries": len(self._entries), "bytes": self._bytes, "maxEntries": self.capacity,
                    "maxBytes": self.max_bytes, "dropped": self._dropped}

    def _append(self, entry: JournalEntry) -> None:
        """Keep an entry (the lock held), dropping the oldest while either bound is passed."""
        self._entries.append(entry)
        self._bytes += entry.size
        while self._entries and (len(self._entries) > self.capacity or self._bytes > self.max_bytes):
            self._bytes -= self._entries.popleft().size
            self._dropped += 1

    def record_frame(self, venue: str, time_ms: int, session, direction: str,
                     text: str) -> JournalEntry:
        """A stream frame: method WS-IN (from the client) or WS-OUT (to it), path the stream's
        path, body the frame (secrets redacted), status 101, apiKey the key it logged in with."""
        if direction == "in":
            text = redact_frame(text)
        entry = JournalEntry(
            seq=0, time_ms=time_ms, venue=venue, api_key=session.state.get("api_key", ""),
            method="WS-IN" if direction == "in" else "WS-OUT", path=session.path, query="",
            headers={"session": self.session_name(session)}, body=text, status=101, response="")
        self._keep(entry)
        return entry

    def session_name(self, session) -> str:
        """How an entry names the stream session a frame went over."""
        return str(session.id)

    def entries(self, *, venue: str | None = None, api_key: str | None = None,
                path: str | None = None, method: str | None = None, since_ms: int | None = None,
                until_ms: int | None = None, after_seq: int | None = None,
                limit: int | None = None, tail: int | None = None) -> list[JournalEntry]:
        """Oldest first. `path` is a shell-style pattern ("/api/v2/spot/*"); `tail` keeps the
        newest N of what the rest selects (after `limit`)."""
        with self._lock:
            items: Iterable[JournalEntry] = list(self._entries)
        return select(items, venue=venue, api_key=api_key, path=path, method=method,
                      since_ms=since_ms, until_ms=until_ms, after_seq=after_seq, limit=limit, tail=tail)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._dropped = 0
            self._seq = 0
