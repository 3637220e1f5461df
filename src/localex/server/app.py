"""The ASGI application: one app, every venue, the control plane.

The work is synchronous and quick (one engine transaction per request), so it runs on the event
loop itself: no thread hand-off, and requests are applied one at a time, in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import time

from localex.control import ControlPlane, Deferred
from localex.engine.clock import Clock, ManualClock
from localex.wire import ws
from localex.wire.http import Request, Response
from localex.server.faults import Faults, gateway_page
from localex.server.journal import Journal
from localex.wire.ratelimit import MemoryRateLimiter, NoRateLimiter
from localex.venues.bitget import BitgetVenue
from localex.venues.coinw import CoinWVenue

log = logging.getLogger("localex.server")

TICK_S = 0.1  # how often prices catch up with a running clock
TICK_BUDGET_S = 0.05  # the most work one catch-up does before it lets requests in
SLICE_S = 0.05  # long work (a clock advance) runs this long, then lets waiting requests in
# ... for this long: a request takes several steps of the event loop (its body read, its handler,
# its answer written), so yielding one step between slices would hold it for several slices
YIELD_S = 0.001

# request bodies: a venue request is small (a batch of 50 orders is ~10 kB); a control-plane one
# may carry a snapshot or a candle file
MAX_VENUE_BODY = 1 << 20  # 1 MiB
MAX_CONTROL_BODY = 64 << 20  # 64 MiB
BODY_TIMEOUT_S = 30.0  # from the last header to the last body byte


class _BodyTooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass

NOT_FOUND_HTML = (b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
                  b"<center><h1>404 Not Found</h1></center>\r\n<hr><center>openresty</center>\r\n"
                  b"</body>\r\n</html>\r\n")


# header names as the handlers read them (latin-1, lower case), per name as received: a request's
# names are the same few every time, so they are decoded once, not per request
_HEADER_NAMES: dict[bytes, str] = {}
_MAX_HEADER_NAMES = 512  # names past this many are decoded every time (a client inventing names)


def _header_name(raw: bytes) -> str:
    name = raw.decode("latin-1").lower()
    if len(_HEADER_NAMES) < _MAX_HEADER_NAMES:
        _HEADER_NAMES[raw] = name
    return name


class LocalexApp:
    def __init__(self, engine, *, rate_limits: bool = True, admin_token: str | None = None,
                 wall_clock: Clock | None = None, max_body: int = MAX_VENUE_BODY,
                 max_control_body: int = MAX_CONTROL_BODY,
                 body_timeout_s: float = BODY_TIMEOUT_S, request_log=None, cluster=None,
                 market: bool = True, leader=None) -> None:
        self.engine = engine
        # several workers sharing one Redis (localex/scale), or None: one process on its own
        self.cluster = cluster
        # without a cluster: whether this process runs the market's time-driven work (price
        # paths along a running clock, triggers they cross, funding, latency arrivals); of
        # several workers only one does (docs/scale-out.md). With one, its leader does.
        self.market = market
        # without a cluster, on a store several processes share (PostgreSQL): the lease that
        # decides which of them runs that work (scale/pglease.PgLeader), or None
        self.leader = leader
        self.max_body = max_body
        self.max_control_body = max_control_body
        self.body_timeout_s = body_timeout_s
        if not rate_limits:
            self.limiter = NoRateLimiter()
        else:
            self.limiter = cluster.limiter if cluster is not None else MemoryRateLimiter()
        self.venues = [BitgetVenue(engine, self.limiter, wall_clock, stream_limits=rate_limits),
                       CoinWVenue(engine, self.limiter, wall_clock)]
        self.control = ControlPlane(self, admin_token=admin_token)
        self.journal = Journal()
        self.faults = Faults(seed=engine.seed)
        self.slicing = False  # True while the ASGI app answers: long work may run in slices
        self.stopping = False  # set by stop(): the server is shutting down
        self._long_work: asyncio.Lock | None = None
        for venue in self.venues:
            if venue.streams is not None:
                venue.streams.faults = self.faults

        self.request_log = request_log  # server/requestlog.RequestLog, or None for silence
        from localex.control.views import MarkHistory

        self.mark_history = MarkHistory()  # for the dashboard's price chart
        if request_log is not None:
            engine.events.subscribe(request_log.events)
        if cluster is not None:
            cluster.attach(self)  # the streams and the mark history hear the shared event stream
        else:
            engine.events.subscribe(self.mark_history)
            if leader is not None:
                leader.attach(self)

    @property
    def leading(self) -> bool:
        """This process runs the market's time-driven work now."""
        if self.cluster is not None:
            return self.cluster.leading
        if self.leader is not None:
            return self.leader.leading
        return self.market

    def stop(self) -> None:
        """The server is stopping (SIGINT / SIGTERM): long work ends at its next clean cut with
        a 503, and prices stop catching up with a running clock. Safe to call from a signal
        handler: it only sets a flag the event loop reads between slices."""
        self.stopping = True

    def keys_revoked(self, keys, local: bool = False) -> int:
        """API keys revoked: this worker's sessions logged in with them are closed, and (unless
        `local`: the cluster heard it from another worker) every other worker's too. Returns how
        many of this worker's sessions were closed."""
        keys = set(keys)
        if not local and self.cluster is not None:
            self.cluster.share_revocation(keys)
        return sum(venue.streams.revoked(keys) for venue in self.venues if venue.streams is not None)

    def stream(self, path: str):
        """The stream protocol serving a WebSocket path, or None."""
        for venue in self.venues:
            if path in venue.stream_paths:
                return venue.streams
        return None

    async def serve_stream(self, scope, receive, send) -> None:
        """One WebSocket connection: the venue's stream protocol over the shared transport,
        every frame in the journal."""
        protocol = self.stream(scope.get("path", ""))
        if protocol is None:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # refused: HTTP 403
            return
        journal, engine, name = self.journal, self.engine, protocol.name

        cluster = self.cluster

        def frame_in(session, text):
            if cluster is not None:
                cluster.before_request()  # a key revoked elsewhere is not logged in with here
            journal.record_frame(name, engine.now_ms(), session, "in", text)

        def frame_out(session, text):
            journal.record_frame(name, engine.now_ms(), session, "out", text)

        await ws.serve(scope, receive, send, protocol, frame_in, frame_out)

    def venue(self, name: str):
        for venue in self.venues:
            if venue.name == name:
                return venue
        raise KeyError(name)

    def handle(self, request: Request) -> Response:
        """Answer one request. Never raises: an unexpected failure is the venue's own 5xx."""
        owner = None
        cluster = self.cluster
        try:
            if cluster is not None:
                cluster.before_request()  # what another worker changed, forgotten here first
            if request.path == "/localex" or request.path.startswith("/localex/"):
                owner = self.control
                response = self.control.handle(request)
                if cluster is not None:
                    cluster.after_control(request, response)
                return response
            for venue in self.venues:
                if venue.owns(request.path):
                    owner = venue
                    started = time.perf_counter()
                    if self.leading:
                        self.engine.settle_arrivals()  # orders a latency model held back, now due
                    response = self._faulted(venue, request)
                    latency = (time.perf_counter() - started) * 1000 + response.delay_ms
                    entry = self.journal.record(venue.name, venue.key_header, self.engine.now_ms(),
                                                request, response, latency)
                    if self.request_log is not None:
                        self.request_log.request(entry)
                    return response
            return Response(404, NOT_FOUND_HTML, content_type=b"text/html")
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            if owner is not None:
                return owner.internal_error()
            return Response.json(500, {"error": {"code": "internal", "message": "internal error"}})

    async def _tick(self) -> None:
        """With a clock that moves by itself, walk the price paths as market time passes (on
        the event loop, between requests)."""
        while not self.stopping:
            await asyncio.sleep(TICK_S)
            if self.stopping:
                return
            try:
                if self.engine.store.shared:  # orders other workers placed may be due
                    self.engine.fill_models.invalidate()
                # bounded: behind by more than a tick's budget, the rest waits for later ticks
                self.engine.simulation.catch_up(budget_s=TICK_BUDGET_S)
            except Exception:
                log.exception("moving prices along their paths failed")

    async def _run_sliced(self, deferred) -> Response:
        """Run long work in slices of SLICE_S, letting waiting requests in between (one long
        work at a time; each slice ends at a clean cut of it)."""
        if self._long_work is None:
            self._long_work = asyncio.Lock()
        async with self._long_work:
            steps = deferred.steps
            try:
                while True:
                    if self.stopping:  # stop at this clean cut (each slice ends at one)
                        steps.close()
                        return Response.json(503, {"error": {
                            "code": "stopping",
                            "message": "the server is stopping: the work stopped at a clean cut "
                                       f"(market time {self.engine.now_ms()})"}})
                    deadline = time.perf_counter() + SLICE_S
                    try:
                        next(steps)  # at least one step a slice
                        while time.perf_counter() < deadline:
                            next(steps)
                    except StopIteration as stop:
                        return self.control.finish(deferred, stop.value)
                    await asyncio.sleep(YIELD_S)
            except asyncio.CancelledError:
                steps.close()
                raise
            except Exception:
                log.exception("long work failed")
                return self.control.internal_error()

    def _faulted(self, venue, request: Request) -> Response:
        """The venue's answer, unless an injected fault decides otherwise."""
        fault = self.faults.pick(venue.name, request)
        if fault is None:
            return venue.handle(request)
        if fault.kind == "error":
            return venue.error_response(fault.code, fault.message, fault.status)
        if fault.kind == "rate_limit":
            return venue.rate_limited_response()
        if fault.kind == "http":
            return Response(fault.status, gateway_page(fault.status), content_type=b"text/html")
        response = venue.handle(request)
        if fault.kind == "latency":
            response.delay_ms = fault.latency_ms
        else:  # drop: the venue did the work; the answer never arrives whole
            response.dropped = True
        return response

    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            ticker = None
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    if self.cluster is not None:
                        await self.cluster.start()  # the leader walks; every worker reads events
                    elif self.leader is not None:
                        await self.leader.start()  # the holder of the lease walks
                    elif self.market and not isinstance(self.engine.clock, ManualClock):
                        ticker = asyncio.create_task(self._tick())
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if ticker is not None:
                        ticker.cancel()
                    if self.cluster is not None:
                        await self.cluster.stop()
                    if self.leader is not None:
                        await self.leader.stop()
                    self.engine.flush_tape()  # the market tape's newest minutes, to the store
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if kind == "websocket":
            await self.serve_stream(scope, receive, send)
            return
        if kind != "http":
            return
        owner = self._owner(scope["path"])
        limit = self.max_control_body if owner is self.control else self.max_body
        names = _HEADER_NAMES
        headers = {names.get(k) or _header_name(k): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        try:
            declared = int(length) if length is not None else 0
        except ValueError:
            declared = 0
        try:
            if declared > limit:
                raise _BodyTooLarge
            if length is None and "transfer-encoding" not in headers:
                # no body declared: the request is whole once its headers are (their own
                # deadline is the protocol's), so no body timer is armed
                body = await self._read_body(receive, limit)
            else:
                async with asyncio.timeout(self.body_timeout_s):
                    body = await self._read_body(receive, limit)
        except _Disconnected:
            return  # the client went away before its request was whole: nothing to answer
        except _BodyTooLarge:
            await self._send(send, self._refusal(owner, 413, "the request body is too large"), close=True)
            return
        except asyncio.TimeoutError:
            await self._send(send, self._refusal(owner, 408, "the request body did not arrive in time"),
                             close=True)
            return
        raw_path = scope.get("raw_path")
        client = scope.get("client")
        request = Request(
            method=scope["method"],
            path=scope["path"],
            raw_query=scope["query_string"].decode("latin-1"),
            headers=headers,
            body=body,
            client_ip=client[0] if client else None,
            raw_path=raw_path.decode("latin-1") if raw_path else "",
        )
        self.slicing = True
        try:
            response = self.handle(request)
        finally:
            self.slicing = False
        if isinstance(response, Deferred):
            response = await self._run_sliced(response)
        if response.delay_ms:
            await asyncio.sleep(response.delay_ms / 1000)
        await self._send(send, response)

    def _owner(self, path: str):
        """The control plane or the venue a path belongs to (None: neither)."""
        if path == "/localex" or path.startswith("/localex/"):
            return self.control
        for venue in self.venues:
            if venue.owns(path):
                return venue
        return None

    @staticmethod
    async def _read_body(receive, limit: int) -> bytes:
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    def _refusal(self, owner, status: int, message: str) -> Response:
        """A request refused before it was read whole, in its owner's own envelope."""
        if owner is None:
            return Response(404, NOT_FOUND_HTML, content_type=b"text/html")
        if owner is self.control:
            code = "too_large" if status == 413 else "timeout"
            return Response.json(status, {"error": {"code": code, "message": message}})
        return owner.unreadable_response(status)

    @staticmethod
    async def _send(send, response: Response, close: bool = False) -> None:
        headers = [(b"content-type", response.content_type), *response.headers]
        if close:
            headers.append((b"connection", b"close"))
        if response.dropped:
            # promise a body and close before sending it: the client sees the connection drop
            headers.append((b"content-length", str(len(response.body) + 1).encode()))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})
