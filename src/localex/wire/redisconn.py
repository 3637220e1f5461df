"""One Redis connection of a caller's own, for the commands a request waits for.

redis-py's client takes a connection from its pool, packs the command, reads the reply and
puts the connection back for every command: about 22 µs of CPU per GET on the shared
development machine, against about 9 µs for the same GET packed once and sent on a connection
kept for the purpose (bench/README.md, "Sharing a world through Redis"). `OwnConnection` is that
connection: made by the client's pool (so the URL's host, database, password and TLS apply),
held by one caller, commands packed by the caller (`bulk`, `command`) and sent whole.

A connection that fails (Redis restarted, the socket closed) is dropped and the command sent
once more on a new one; a second failure is the caller's. An error reply (a lost script) is
raised as redis-py raises it and leaves the connection usable.
"""

from __future__ import annotations

import threading


def bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def command(*parts: bytes) -> bytes:
    """A command packed for the wire (RESP), from its parts as bytes."""
    return b"*%d\r\n" % len(parts) + b"".join(bulk(p) for p in parts)


class OwnConnection:
    def __init__(self, client) -> None:
        self.client = client  # a synchronous redis-py client: its pool makes the connection
        self._conn = None
        self._lock = threading.Lock()

    def call(self, packed: bytes):
        """Send one packed command and return its reply."""
        from redis.exceptions import ConnectionError, TimeoutError

        with self._lock:
            conn = self._conn
            if conn is None:
                conn = self._conn = self.client.connection_pool.make_connection()
            try:
                conn.send_packed_command((packed,), check_health=False)
                return conn.read_response()
            except (ConnectionError, TimeoutError, OSError):
                conn.disconnect()  # a broken connection: once more on a new one
                conn.send_packed_command((packed,), check_health=False)
                return conn.read_response()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.disconnect()
                self._conn = None
