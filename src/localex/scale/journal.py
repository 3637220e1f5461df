"""The request journal shared by every worker: one Redis Stream, `<prefix>:journal`.

Every venue request (and stream frame) a worker answers is appended by one Lua script: it takes
the next number from `<prefix>:journal:seq`, appends the entry under the stream id `0-<seq>`, and
drops the oldest entries while the journal holds more than its bounds (entries, and bytes as
`<prefix>:journal:bytes` counts them; `<prefix>:journal:dropped` counts what it dropped), as the
one-process journal does. So `GET /localex/journal` on any worker lists what every worker
answered, numbered 1, 2, 3, ... in the order Redis took the entries, with the same filters and
the same entries (secrets redacted before they leave the worker) as one process.

The cost to a request is what decided the shape (docs/scale-out.md, bench/bench_redis.py): the
entry is sent on a connection of the journal's own before the answer goes out, and its reply is
not waited for. The replies are read later, many at once (when DRAIN_AT are due, and before this
worker reads the journal, so a worker always lists its own requests), so a request pays for
packing the entry and one `send`, not for a round trip. Redis runs a connection's commands in
the order they arrive, and an entry is on its way before the client has its answer, so a
request the client made after another one's answer (to any worker) comes after it.
"""

from __future__ import annotations

import logging
import threading

import orjson

from localex.server.journal import MAX_BYTES, MAX_ENTRIES, Journal, JournalEntry, select
from localex.wire.redisconn import bulk

log = logging.getLogger("localex.scale")

DRAIN_AT = 256  # replies left unread before they are read (they wait in the socket's buffer)

# KEYS: the stream, the number, the bytes, the dropped count.
# ARGV: the entry bound, the byte bound, the entry's size, its fields (meta, body, answer).
_APPEND = b"""
local n = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[1], '0-' .. n, 's', ARGV[3], 'm', ARGV[4], 'b', ARGV[5], 'r', ARGV[6])
local total = redis.call('INCRBY', KEYS[3], ARGV[3])
local cap, most = tonumber(ARGV[1]), tonumber(ARGV[2])
local len = redis.call('XLEN', KEYS[1])
while len > 0 and (len > cap or total > most) do
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  redis.call('XDEL', KEYS[1], oldest[1])
  total = redis.call('DECRBY', KEYS[3], oldest[2][2])
  redis.call('INCR', KEYS[4])
  len = len - 1
end
return n
"""


class SharedJournal(Journal):
    """`Journal` (server/journal.py) kept in Redis for every worker of the world."""

    def __init__(self, client, prefix: str, worker: str, capacity: int = MAX_ENTRIES,
                 max_bytes: int = MAX_BYTES) -> None:
        super().__init__(capacity, max_bytes)
        self.client = client  # a synchronous redis-py client, for reading
        self.worker = worker
        self.key = f"{prefix}:journal"
        self.keys = (self.key, f"{prefix}:journal:seq", f"{prefix}:journal:bytes",
                     f"{prefix}:journal:dropped")
        # EVAL, the script, its keys and bounds: the same for every entry, packed once
        fixed = [b"EVAL", _APPEND, b"4", *(k.encode() for k in self.keys), str(capacity).encode(),
                 str(max_bytes).encode()]
        self._head = b"*%d\r\n" % (len(fixed) + 4) + b"".join(bulk(v) for v in fixed)
        self._conn = None  # the journal's own connection (replies read late)
        self._due = 0  # replies not read yet
        self._send_lock = threading.Lock()
        self._failing = False

    # writing -------------------------------------------------------------------------------------
    def session_name(self, session) -> str:
        return f"{self.worker}/{session.id}"  # session numbers are each worker's own

    def _keep(self, entry: JournalEntry) -> None:
        size = entry.size  # measured from the raw values, as one process measures it
        meta = orjson.dumps((entry.time_ms, entry.venue, entry.api_key, entry.method, entry.path,
                             entry.query, entry.headers, entry.status, entry.latency_ms))
        body, answer = entry._body, entry._response
        packed = b"".join((self._head, bulk(str(size).encode()), bulk(meta),
                           bulk(body if isinstance(body, bytes) else body.encode()),
                           bulk(answer if isinstance(answer, bytes) else answer.encode())))
        with self._send_lock:
            try:
                if self._conn is None:
                    self._conn = self.client.connection_pool.make_connection()
                if self._due >= DRAIN_AT:
                    self._read_due()
                self._conn.send_packed_command((packed,), check_health=False)
                self._due += 1
                self._failing = False
            except Exception as err:  # Redis unreachable: the entry is lost, the answer is not
                self._lost(err)

    def _read_due(self) -> None:
        """Read the replies still due (the lock held)."""
        from redis.exceptions import ResponseError

        conn = self._conn
        while self._due:
            self._due -= 1
            try:
                conn.read_response()
            except ResponseError as err:  # one entry refused (a full Redis): the rest go on
                log.warning("a journal entry was refused by Redis: %s", err)

    def _lost(self, err: Exception) -> None:
        if not self._failing:
            log.warning("journal entries cannot be written to Redis: %s", err)
        self._failing = True
        self._due = 0
        if self._conn is not None:
            self._conn.disconnect()

    def flush(self) -> None:
        """Wait until Redis has every entry this worker sent."""
        with self._send_lock:
            if self._conn is not None and self._due:
                try:
                    self._read_due()
                except Exception as err:
                    self._lost(err)

    # reading -------------------------------------------------------------------------------------
    @staticmethod
    def _entry(entry_id: bytes, fields: dict) -> JournalEntry:
        time_ms, venue, api_key, method, path, query, headers, status, latency = orjson.loads(fields[b"m"])
        entry = JournalEntry(int(entry_id.split(b"-", 1)[1]), time_ms, venue, api_key, method, path,
                             query, headers, fields[b"b"], status, fields[b"r"])
        entry.latency_ms = latency
        entry._size = int(fields[b"s"])
        return entry

    def entries(self, *, venue: str | None = None, api_key: str | None = None,
                path: str | None = None, method: str | None = None, since_ms: int | None = None,
                until_ms: int | None = None, after_seq: int | None = None,
                limit: int | None = None, tail: int | None = None) -> list[JournalEntry]:
        self.flush()  # this worker's own entries are in
        filtered = any(v is not None for v in (venue, api_key, path, method, since_ms, until_ms))
        start = f"(0-{after_seq}" if after_seq else "-"
        if not filtered and limit is None and tail is not None:
            rows = self.client.xrevrange(self.key, "+", start, count=tail)[::-1] if tail else []
        else:
            rows = self.client.xrange(self.key, start, "+", count=None if filtered else limit)
        return select((self._entry(i, f) for i, f in rows), venue=venue, api_key=api_key, path=path,
                      method=method, since_ms=since_ms, until_ms=until_ms, limit=limit, tail=tail)

    def stats(self) -> dict:
        self.flush()
        pipe = self.client.pipeline(transaction=False)
        pipe.xlen(self.key)
        pipe.get(self.keys[2])
        pipe.get(self.keys[3])
        entries, size, dropped = pipe.execute()
        return {"entries": entries, "bytes": int(size or 0), "maxEntries": self.capacity,
                "maxBytes": self.max_bytes, "dropped": int(dropped or 0)}

    def clear(self) -> None:
        self.flush()
        self.client.delete(*self.keys)

    def close(self) -> None:
        self.flush()
        with self._send_lock:
            if self._conn is not None:
                self._conn.disconnect()
                self._conn = None

