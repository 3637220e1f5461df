"""The request journal: every venue request and its answer, secrets redacted, readable through
the control plane so a test can assert what a bot sent.

Entries carry the market clock's time (not the wall clock's), so two runs with the same seed and
the same requests produce the same journal, byte for byte.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import deque
from dataclasses import dataclass
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


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    time_ms: int  # market clock
    venue: str
    api_key: str
    method: str
    path: str
    query: str  # raw, as received
    headers: dict[str, str]  # lower-case names, secrets redacted, transport headers left out
    body: str  # as received (UTF-8, undecodable bytes replaced)
    status: int
    response: str

    def as_json(self) -> dict:
        return {"seq": self.seq, "time": self.time_ms, "venue": self.venue, "apiKey": self.api_key,
                "method": self.method, "path": self.path, "query": self.query,
                "headers": self.headers, "body": self.body, "status": self.status,
                "response": self.response}


class Journal:
    def __init__(self, capacity: int = 10_000) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=capacity)
        self._seq = 0
        self._lock = threading.Lock()

    def record(self, venue: str, key_header: str, time_ms: int, request: Request,
               response: Response) -> JournalEntry:
        headers = {k: (REDACTED if k in SECRET_HEADERS else v)
                   for k, v in sorted(request.headers.items()) if k not in TRANSPORT_HEADERS}
        with self._lock:
            self._seq += 1
            entry = JournalEntry(
                seq=self._seq, time_ms=time_ms, venue=venue,
                api_key=request.headers.get(key_header, ""), method=request.method,
                path=request.path, query=request.raw_query, headers=headers,
                body=request.body.decode("utf-8", "replace"), status=response.status,
                response=response.body.decode("utf-8", "replace"))
            self._entries.append(entry)
        return entry

    def record_frame(self, venue: str, time_ms: int, session, direction: str,
                     text: str) -> JournalEntry:
        """A stream frame: method WS-IN (from the client) or WS-OUT (to it), path the stream's
        path, body the frame (secrets redacted), status 101, apiKey the key it logged in with."""
        if direction == "in":
            text = redact_frame(text)
        with self._lock:
            self._seq += 1
            entry = JournalEntry(
                seq=self._seq, time_ms=time_ms, venue=venue,
                api_key=session.state.get("api_key", ""),
                method="WS-IN" if direction == "in" else "WS-OUT", path=session.path, query="",
                headers={"session": str(session.id)}, body=text, status=101, response="")
            self._entries.append(entry)
        return entry

    def entries(self, *, venue: str | None = None, api_key: str | None = None,
                path: str | None = None, method: str | None = None, since_ms: int | None = None,
                until_ms: int | None = None, after_seq: int | None = None,
                limit: int | None = None) -> list[JournalEntry]:
        """Oldest first. `path` is a shell-style pattern ("/api/v2/spot/*")."""
        with self._lock:
            items: Iterable[JournalEntry] = list(self._entries)
        out = [e for e in items
               if (venue is None or e.venue == venue)
               and (api_key is None or e.api_key == api_key)
               and (path is None or fnmatch.fnmatchcase(e.path, path))
               and (method is None or e.method == method.upper())
               and (since_ms is None or e.time_ms >= since_ms)
               and (until_ms is None or e.time_ms <= until_ms)
               and (after_seq is None or e.seq > after_seq)]
        return out if limit is None else out[:limit]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._seq = 0
