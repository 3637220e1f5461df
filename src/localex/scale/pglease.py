"""One market leader among processes sharing one PostgreSQL store, without Redis.

Every `localex serve` on a PostgreSQL store without `--redis` (one process, each worker of
`--workers N`, processes on several hosts) runs a `PgLeader`: it asks for a session advisory
lock (LEADER_LOCK_KEY) with `pg_try_advisory_lock` on a connection of its own, every RETRY_S
until it has it. The one holding it leads: it walks the price paths along a running clock
(triggers, liquidations, funding on the way) and lets latency arrivals in. PostgreSQL releases
a session lock when its session ends, so a leader killed with `kill -9` (its socket closed by the
kernel) frees the lock at once and another process takes it at its next try; a leader that has
lost its connection notices at its next tick (the connection is asked before every tick) and
stops. TCP keep-alives on the session (set by the lease) end a session whose host vanished
without closing it, within about KEEPALIVE_S.

Every worker also asks the store once a second for the API keys its logged-in WebSocket sessions
use, and closes the sessions of a key gone (revoked through another worker): without Redis
nothing else would tell it.

The fence is the Redis lease's (leader.py): a new leader takes the store's token plus one and
writes it, with the walk position, in the store, and a leader finding a larger token there
stops, so a leader that lost its session without noticing yet cannot store its position over a
newer leader's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

from localex.scale.leader import FENCE, RETRY_S, Fenced, market_step, take_over

log = logging.getLogger("localex.scale")

LEADER_LOCK_KEY = 0x6C6F63616C6579  # "localey": not the world lock (store/sql.py WORLD_LOCK_KEY)
TICK_S = 0.1
TICK_BUDGET_S = 0.05
SAVE_S = 1.0
KEEPALIVE_S = 10  # idle 4 s, then 3 probes 2 s apart
KEYS_S = 1.0  # how often every worker asks the store for the keys its logged-in streams use


def plain_url(url: str) -> str:
    """A psycopg URL for a store's SQLAlchemy URL (postgresql+psycopg:// -> postgresql://)."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else url


class PgLease:
    """The session advisory lock itself, on a psycopg connection of its own."""

    def __init__(self, url: str, key: int = LEADER_LOCK_KEY) -> None:
        self.url = plain_url(url)
        self.key = key
        self.conn = None
        self.held = False

    def _connect(self):
        import psycopg

        conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2, keepalives=1,
                               keepalives_idle=4, keepalives_interval=2, keepalives_count=3)
        # the server's side too: a session whose host vanished ends, and its lock with it
        conn.execute("SET tcp_keepalives_idle = 4")
        conn.execute("SET tcp_keepalives_interval = 2")
        conn.execute("SET tcp_keepalives_count = 3")
        conn.execute("SET application_name = 'localex leader lease'")
        return conn

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it. False: someone does (or the database is away)."""
        if self.held:
            return True
        try:
            if self.conn is None or self.conn.closed:
                self.conn = self._connect()
            self.held = bool(self.conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0])
        except Exception as err:  # noqa: BLE001  the database is away: nobody leads from here
            log.debug("the leader's lock could not be asked for: %s", err)
            self._drop()
        return self.held

    def alive(self) -> bool:
        """Still held: the session that holds it still answers."""
        if not self.held:
            return False
        try:
            self.conn.execute("SELECT 1")
            return True
        except Exception:  # noqa: BLE001  the session is gone, and the lock with it
            self._drop()
            return False

    def release(self) -> None:
        self._drop()

    def _drop(self) -> None:
        self.held = False
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()  # ends the session: the lock is released with it
            except Exception:  # noqa: BLE001
                pass


class PgLeader:
    """What `LocalexApp(leader=...)` runs on a PostgreSQL store without Redis: the lease, and
    while it holds it, the market's time-driven work."""

    def __init__(self, url: str, worker: str | None = None) -> None:
        self.lease = PgLease(url)
        self.worker = worker or os.environ.get("LOCALEX_WORKER") or f"{socket.gethostname()}:{os.getpid()}"
        self.token: int | None = None
        self.engine = None
        self.took_over_at: float | None = None
        self._task: asyncio.Task | None = None
        self._saved_at = 0.0
        self._tried_at = 0.0
        self._keys_at = 0.0
        self.app = None

    def attach(self, app) -> None:
        self.app = app
        self.engine = app.engine
        self.engine.funding_once = True  # each settlement time settles once, whoever walks

    @property
    def leading(self) -> bool:
        return self.token is not None

    async def start(self) -> None:
        self._try()  # a process alone on its database leads from its first tick
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        if self.leading:
            try:
                self._save()
            except Exception:  # noqa: BLE001  the next leader walks on from the last saved position
                log.exception("saving the walk position failed")
        self.token = None
        self.lease.release()  # the next process need not wait

    def _try(self) -> None:
        self._tried_at = time.monotonic()
        if not self.lease.try_acquire():
            return
        try:
            with self.engine.tx() as uow:
                token = (uow.get_sequence(FENCE) or 0) + 1
            take_over(self.engine, token)
        except Exception:
            log.exception("taking over the market's work failed")
            self.lease.release()
            return
        self.token = token
        self.took_over_at = time.time()
        self._saved_at = time.monotonic()
        log.warning("worker %s leads (token %d, PostgreSQL lock)", self.worker, token)

    def _lost(self, why: str) -> None:
        if self.token is not None:
            log.warning("worker %s no longer leads: %s", self.worker, why)
        self.token = None
        self.lease.release()

    def _save(self) -> None:
        from localex.scale.leader import fence

        with self.engine.tx() as uow:
            fence(uow, self.token, self.engine.simulation.applied_ms)

    def _watch_keys(self) -> None:
        """Without Redis nothing tells this worker of a key revoked through another: once a
        second it asks the store for the keys its logged-in streams use (nothing when none is
        logged in) and closes the streams of those gone."""
        self._keys_at = time.monotonic()
        keys = set()
        for venue in self.app.venues:
            if venue.streams is not None:
                keys.update(venue.streams.logged_in_keys())
        if not keys:
            return
        with self.engine.tx(read_only=True) as uow:
            gone = {key for key in keys if uow.get_key(key) is None}
        if gone:
            self.app.keys_revoked(gone, local=True)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                if time.monotonic() - self._keys_at >= KEYS_S:
                    self._watch_keys()
            except Exception:
                log.exception("checking the streams' keys failed")
            try:
                if self.token is None:
                    if time.monotonic() - self._tried_at >= RETRY_S:
                        self._try()
                    continue
                if not self.lease.alive():
                    self._lost("its PostgreSQL session ended")
                    continue
                now = time.monotonic()
                save = now - self._saved_at >= SAVE_S
                market_step(self.engine, self.token, save, TICK_BUDGET_S)
                if save:
                    self._saved_at = now
            except Fenced as err:
                self._lost(str(err))
            except Exception:
                log.exception("the leader's walk failed")

    def status(self) -> dict:
        return {"worker": self.worker, "pid": os.getpid(), "leader": self.leading, "lease": "postgresql"}
