"""A worker's part in a cluster of workers sharing one Redis (and one database).

`Cluster` is what `LocalexApp(cluster=...)` runs: the shared rate limiter, the per-request
invalidation check, the event stream's reader (every worker) and, while this worker holds the
lease, the market leader's work: the running clock's walk along the price paths (triggers, stops,
liquidations, funding on the way), latency arrivals and the relay of the outbox to the stream.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

from localex.engine.events import EventFeed
from localex.scale.faults import SharedFaults
from localex.scale.invalidation import Invalidation
from localex.scale.journal import SharedJournal
from localex.scale.leader import LEASE_MS, RETRY_S, Fenced, Lease, market_step, take_over
from localex.scale.paths import SharedPaths
from localex.scale.relay import Relay, StreamReader, epoch_key
from localex.wire.ratelimit import RedisRateLimiter

log = logging.getLogger("localex.scale")

TICK_S = 0.1  # how often the leader's walk catches up with a running clock
TICK_BUDGET_S = 0.05  # the most work one catch-up does
SAVE_S = 1.0  # how often the leader stores its walk position (with its fencing token)
RELAY_S = 0.02  # how often the relay looks for events other workers committed
REVOKED_MAXLEN = 1000  # revocations kept in the stream (a worker reads them within milliseconds)


def redis_available(url: str) -> str | None:
    """None when a Redis answers at `url`, else why not (for tests and start-up)."""
    try:
        import redis
    except ImportError:
        return "the redis package is not installed"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
        client.close()
    except Exception as err:  # a refused connection, a bad URL, a failed AUTH
        return f"{type(err).__name__}: {err}"
    return None


def default_prefix() -> str:
    return os.environ.get("LOCALEX_REDIS_PREFIX") or "localex"


def default_worker() -> str:
    return os.environ.get("LOCALEX_WORKER") or f"{socket.gethostname()}:{os.getpid()}"


class Cluster:
    def __init__(self, url: str, prefix: str | None = None, worker: str | None = None,
                 lease_ms: int = LEASE_MS, server_time: bool = False) -> None:
        import redis

        self.url = url
        self.prefix = prefix = prefix or default_prefix()
        self.worker = worker or default_worker()
        self.lease_ms = lease_ms
        self.sync = redis.Redis.from_url(url)
        self.sync.ping()
        self.limiter = RedisRateLimiter(self.sync, prefix, server_time=server_time)
        self.invalidation = Invalidation(self.sync, prefix)
        self.paths = SharedPaths(self.sync, prefix)  # the world's price paths, for every worker
        self.faults: SharedFaults | None = None  # the world's injected faults (attach)
        self.world_key = f"{prefix}:world"  # bumped by a reset or a restore anywhere
        self.revoked_key = f"{prefix}:revoked"  # API keys revoked through any worker (a stream)
        self._revoked_from = b"0-0"  # the last revocation this worker heard
        self._world = None
        self.feed = EventFeed()  # the stream's events, as every worker's sessions hear them
        self.feed.delayed = True  # heard after the commit: subscribe snapshots are held (wire/ws.py)
        self.app = None
        self.engine = None
        self.lease: Lease | None = None
        self.relay: Relay | None = None
        self.reader: StreamReader | None = None
        self.valid_until = 0.0  # leader until then (this worker's monotonic clock)
        self.took_over_at: float | None = None
        self._tasks: list[asyncio.Task] = []
        self._clients: list = []
        self._wake: asyncio.Event | None = None
        self._saved_at = 0.0
        self._stopping = False

    # wiring ------------------------------------------------------------------------------------
    def attach(self, app) -> None:
        """Called by LocalexApp: the venues' streams hear the stream's events, not the local
        engine's, and funding settles once per settlement time whoever walks."""
        self.app = app
        self.engine = app.engine
        self.engine.funding_once = True
        self.engine.invalidated = True  # before_request drops its caches when another worker wrote
        self.engine.tape.shared = True  # other workers write the market tape too
        for venue in app.venues:
            if venue.streams is not None:
                venue.streams.listen(self.feed)
        self.feed.subscribe(app.mark_history)
        self.engine.events.subscribe(self._committed)
        self._world = self.sync.get(self.world_key)
        self.paths.attach(self.engine)  # the stored paths, if any, over the start-up ones
        self.faults = SharedFaults(self.sync, self.prefix, seed=self.engine.seed)
        app.faults = self.faults  # a fault added through any worker applies on every worker
        app.journal = SharedJournal(self.sync, self.prefix, self.worker)  # every worker's requests
        for venue in app.venues:
            if venue.streams is not None:
                venue.streams.faults = self.faults

    def _committed(self, events) -> None:
        if self._wake is not None:
            self._wake.set()

    @property
    def leading(self) -> bool:
        return self.lease is not None and self.lease.token is not None and time.monotonic() < self.valid_until

    # per request -------------------------------------------------------------------------------
    def before_request(self) -> None:
        if self.invalidation.changed():
            self.forget()

    def after_control(self, request, response) -> None:
        if request.method in ("GET", "HEAD") or getattr(response, "status", 200) != 200:
            return
        path = request.path.rstrip("/")
        if path == "/localex/reset":
            self.sync.incr(epoch_key(self.prefix))  # the new world numbers its events from 1
            self.paths.clear()  # the reset dropped every path: on every worker
        if path in ("/localex/reset", "/localex/snapshot"):
            self._world = str(self.sync.incr(self.world_key)).encode()
        if self.invalidation.bump():
            self.forget()

    def forget(self) -> None:
        """Drop what this worker caches of state another worker changed."""
        world = self.sync.get(self.world_key)
        changed = world != self._world
        self._world = world
        self.engine.forget_cached(world_changed=changed)
        self.paths.load(self.engine)
        if self.faults is not None:
            self.faults.load()

    def share_revocation(self, keys) -> None:
        """API keys revoked through this worker: every worker closes the streams logged in with
        them (_revocations)."""
        self.sync.xadd(self.revoked_key, {"keys": ",".join(sorted(keys))}, maxlen=REVOKED_MAXLEN,
                       approximate=True)

    def share_path(self, inst, spec: dict, path) -> None:
        """The control plane set (or cleared) a path through this worker: every worker walks it."""
        self.paths.share(inst, spec, path)

    # running -----------------------------------------------------------------------------------
    async def start(self) -> None:
        import redis.asyncio as aioredis

        lease_client = aioredis.Redis.from_url(self.url)
        read_client = aioredis.Redis.from_url(self.url)
        self._clients = [lease_client, read_client]
        self.lease = Lease(lease_client, self.prefix, self.worker, self.lease_ms)
        self.relay = Relay(self.engine, lease_client, self.prefix)
        self.engine.store.outbox_relayed = True  # the leader's relay trims the outbox, no append
        self.reader = StreamReader(read_client, self.prefix, self.worker, self.feed)
        self._wake = asyncio.Event()
        await self.reader.start()
        last = await read_client.xrevrange(self.revoked_key, count=1)
        self._revoked_from = last[0][0] if last else b"0-0"  # revocations from now on
        self._tasks = [asyncio.create_task(self._lead()), asyncio.create_task(self._tick()),
                       asyncio.create_task(self._relay()), asyncio.create_task(self._read()),
                       asyncio.create_task(self._revocations(aioredis.Redis.from_url(self.url)))]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        try:
            if self.leading:
                await self.relay.step()  # what committed last, before another leader takes over
            if self.lease is not None:
                await self.lease.release()  # the next worker need not wait for the lease to lapse
        except Exception:
            log.exception("handing over the lead failed")
        for client in self._clients:
            await client.aclose()
        if self.app is not None:
            self.app.journal.close()
        self.limiter.close()
        self.invalidation.close()
        self.sync.close()

    async def _lead(self) -> None:
        lease = self.lease
        while True:
            started = time.monotonic()
            try:
                if lease.token is None:
                    if await lease.acquire():
                        self.valid_until = started + lease.lease_ms * 2 / 3000
                        await self._took_over()
                elif await lease.renew():
                    self.valid_until = started + lease.lease_ms * 2 / 3000
                else:
                    self._lost("the lease lapsed")
            except Fenced as err:
                self._lost(str(err))
            except Exception:
                log.exception("the leader's lease could not be kept")
            await asyncio.sleep(lease.lease_ms / 3000 if lease.token is not None else RETRY_S)

    async def _took_over(self) -> None:
        engine = self.engine
        take_over(engine, self.lease.token)  # walk on from where the last leader stopped
        self.paths.load(engine)  # the world's paths as stored now
        await self.relay.resume()
        self.took_over_at = time.time()
        log.warning("worker %s leads (token %d)", self.worker, self.lease.token)
        self._wake.set()

    def _lost(self, why: str) -> None:
        if self.lease.token is not None or self.valid_until:
            log.warning("worker %s no longer leads: %s", self.worker, why)
        self.lease.token = None
        self.valid_until = 0.0

    async def _tick(self) -> None:
        engine = self.engine
        while True:
            await asyncio.sleep(TICK_S)
            if not self.leading:
                continue
            try:
                if self.invalidation.changed():  # a path (or anything) changed through another worker
                    self.forget()
                now = time.monotonic()
                save = now - self._saved_at >= SAVE_S
                market_step(engine, self.lease.token, save, TICK_BUDGET_S)
                if save:
                    self._saved_at = now
            except Fenced as err:
                self._lost(str(err))
            except Exception:
                log.exception("the leader's walk failed")

    async def _relay(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), RELAY_S)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()
            if not self.leading:
                continue
            try:
                while await self.relay.step():
                    pass
            except Exception:
                log.exception("relaying events failed")
                await asyncio.sleep(RELAY_S)

    async def _read(self) -> None:
        while True:
            try:
                await self.reader.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the event stream failed")
                await asyncio.sleep(0.5)

    async def _revocations(self, client) -> None:
        """Close this worker's streams logged in with a key revoked through any worker, as soon
        as the revocation is in Redis (a blocking read of its stream)."""
        self._clients.append(client)
        while True:
            try:
                found = await client.xread({self.revoked_key: self._revoked_from}, block=1000)
                for _stream, entries in found or ():
                    for entry_id, fields in entries:
                        self._revoked_from = entry_id
                        keys = fields.get(b"keys", b"").decode().split(",")
                        self.app.keys_revoked([k for k in keys if k], local=True)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading key revocations failed")
                await asyncio.sleep(0.5)

    def status(self) -> dict:
        return {"worker": self.worker, "pid": os.getpid(), "leader": self.leading,
                "relayed": self.relay.relayed if self.relay else 0,
                "delivered": self.reader.delivered if self.reader else 0}
