"""WebSocket transport shared by every venue: the ASGI websocket scope, sessions, fan-out.

A venue supplies a `StreamProtocol` (what a text frame means, what to answer); this module runs
the connection: it accepts it, hands every inbound text frame to the protocol on the event loop,
writes what the session queues in order, closes it when asked or when the protocol's idle
timeout passes without the activity the protocol counts (`Session.touch`).

Two ways to queue a frame:

- `Session.reply(text)`: an answer to the frame being handled (an ack, a pong, a snapshot) goes
  out at once, in order with the other replies;
- `Session.push(text)`: a push caused by something else (an engine event) is queued from any
  thread and written only after the code that caused it has finished its current step on the
  event loop; so a REST answer computed on the loop is written before the pushes its work
  caused, and a push never overtakes a reply queued before it.

`Subscriptions` is the fan-out table: topic -> sessions, safe to read from any thread.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from typing import Any, Callable, Hashable, Iterable

log = logging.getLogger("localex.ws")

_ids = itertools.count(1)
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_POLICY = 1008
CLOSE_ABNORMAL = 1006  # a dropped connection


class Session:
    """One WebSocket connection."""

    def __init__(self, path: str, headers: dict[str, str], client_ip: str | None,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.id = next(_ids)
        self.path = path
        self.headers = headers
        self.client_ip = client_ip
        self.loop = loop
        self.state: dict[str, Any] = {}  # the venue protocol's own (login, subscriptions, ...)
        self.closed = False
        self.close_code: int | None = None
        self.last_active = loop.time()
        self._queue: asyncio.Queue = asyncio.Queue()
        self.on_frame_out: Callable[["Session", str], None] | None = None  # the journal's tap

    def touch(self) -> None:
        """Count as activity for the idle timeout (venues call it for their keep-alive)."""
        self.last_active = self.loop.time()

    def reply(self, text: str) -> None:
        """Queue an answer now (call on the session's event loop)."""
        if not self.closed:
            self._queue.put_nowait(text)

    def push(self, text: str, delay_s: float = 0.0) -> None:
        """Queue a push from any thread; it is written after the current loop step (or
        `delay_s` later)."""
        if self.closed:
            return
        try:
            if delay_s > 0:
                self.loop.call_soon_threadsafe(self.loop.call_later, delay_s, self.reply, text)
            else:
                self.loop.call_soon_threadsafe(self.reply, text)
        except RuntimeError:  # the loop has closed
            self.closed = True

    def close(self, code: int = CLOSE_NORMAL, at_once: bool = False) -> None:
        """Close after what is already queued (from any thread); at_once: drop what is queued
        (a connection that breaks)."""
        def shut() -> None:
            if not self.closed:
                if at_once:
                    while not self._queue.empty():
                        self._queue.get_nowait()
                self._queue.put_nowait(_Close(code))
        try:
            self.loop.call_soon_threadsafe(shut)
        except RuntimeError:
            self.closed = True


class _Close:
    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code


class StreamProtocol:
    """What a venue implements to serve a stream path.

    Held subscriptions: when the feed's events arrive after other processes committed them (a
    feed carried across workers, `EventFeed.delayed`), a snapshot read on subscribing may show
    changes whose events the feed has not delivered yet. The venue then holds the subscription
    (`hold`) at the event position its snapshot was read at, and leaves out of its pushes the
    sessions held for a topic (`held`): the feed's events up to that position are routed
    without the session, the rest with it, so it hears each change after its snapshot once and
    none before it, as in one process."""

    idle_timeout_s: float | None = None
    _unlisten: Callable[[], None] | None = None
    _open: dict[int, Session] | None = None  # the open sessions, by id (serve keeps it)
    _feed = None
    held: dict = {}  # (topic, session id) -> the event position its snapshot was read at
    _heard = 0  # the last event number routed

    def listen(self, feed) -> None:
        """Turn the events `feed` hears into pushes (engine/events.EventFeed), instead of the
        feed heard so far: the engine's own, or one carried across workers (localex/scale)."""
        if self._unlisten is not None:
            self._unlisten()
        self._feed = feed
        self.held = {}
        self._heard = 0
        self._unlisten = feed.subscribe(self._route)

    @property
    def delayed(self) -> bool:
        """Whether events reach this protocol after their commit (read the event position
        with a snapshot then, and hold the subscription at it)."""
        return getattr(self._feed, "delayed", False)

    def hold(self, topic, session: Session, position: int | None) -> None:
        """A subscription whose snapshot shows every event up to `position` (None: nothing to
        hold): its session hears only the events after it."""
        if self.delayed and position is not None and position > self._heard:
            self.held[(topic, session.id)] = position

    def release(self, topic, session: Session) -> None:
        """Unsubscribed or closed: nothing held any more."""
        if self.held:
            self.held.pop((topic, session.id), None)

    def _route(self, events: list) -> None:
        held = self.held
        if held:
            if events[0].seq <= self._heard:  # numbered afresh (a reset): held for another world
                held.clear()
            else:
                start, last = 0, events[-1].seq
                for position in sorted(set(held.values())):
                    if position >= last:
                        break
                    cut = start
                    while events[cut].seq <= position:
                        cut += 1
                    if cut > start:  # what the held sessions' snapshots show: routed without them
                        self._heard = events[cut - 1].seq
                        self.on_events(events[start:cut])
                        start = cut
                    for key in [k for k, p in held.items() if p <= position]:
                        del held[key]
                events = events[start:]
                if not events:
                    return
        self._heard = events[-1].seq
        self.on_events(events)

    def on_events(self, events: list) -> None:
        """Committed events, in sequence order, each once."""

    def opened(self, session: Session) -> bool:
        """A connection arrived; False refuses it (the protocol may have queued a last frame)."""
        return True

    def received(self, session: Session, text: str) -> None:
        """One inbound text frame (on the event loop; answer with session.reply)."""

    def closed(self, session: Session) -> None:
        """The connection is gone, whichever side closed it."""

    def key_revoked(self, session: Session) -> None:
        """The API key `session` logged in with was revoked: the venue's last words, then the
        close (queued after them)."""
        session.close(CLOSE_POLICY)

    def logged_in_keys(self) -> set:
        """The API keys the open sessions are logged in with."""
        return {key for session in list((self._open or {}).values())
                if not session.closed and (key := session.state.get("api_key")) is not None}

    def revoked(self, keys) -> int:
        """API keys revoked: close every open session logged in with one of them (venues keep
        the key a session logged in with as session.state["api_key"]), each on its own event
        loop (from any thread). Returns how many are being closed."""
        closed = 0
        for session in list((self._open or {}).values()):
            if (not session.closed and session.state.get("api_key") in keys
                    and not session.state.get("revoked")):
                session.state["revoked"] = True
                try:
                    session.loop.call_soon_threadsafe(self.key_revoked, session)
                except RuntimeError:  # the loop has closed: so has the session
                    continue
                closed += 1
        return closed


async def serve(scope, receive, send, protocol: StreamProtocol,
                on_frame_in: Callable[[Session, str], None] | None = None,
                on_frame_out: Callable[[Session, str], None] | None = None) -> None:
    """Run one ASGI websocket connection with `protocol` until either side closes it."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    client = scope.get("client")
    session = Session(scope.get("path", ""), headers, client[0] if client else None,
                      asyncio.get_running_loop())
    session.on_frame_out = on_frame_out
    await send({"type": "websocket.accept"})
    if protocol._open is None:
        protocol._open = {}
    protocol._open[session.id] = session
    if not protocol.opened(session):
        session.close(CLOSE_POLICY)
    writer = asyncio.ensure_future(_write(session, send, protocol))
    try:
        while not session.closed:
            receiving = asyncio.ensure_future(receive())
            done, _ = await asyncio.wait({receiving, writer}, return_when=asyncio.FIRST_COMPLETED)
            if receiving not in done:
                receiving.cancel()
                break  # the writer closed the connection
            message = receiving.result()
            kind = message["type"]
            if kind == "websocket.disconnect":
                session.closed = True
                session.close_code = message.get("code", CLOSE_GOING_AWAY)
                break
            if kind != "websocket.receive":
                continue
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                text = data.decode("utf-8", "replace")
            if on_frame_in is not None:
                on_frame_in(session, text)
            try:
                protocol.received(session, text)
            except Exception:
                log.exception("stream protocol failed on a frame")
    finally:
        session.closed = True
        protocol._open.pop(session.id, None)
        writer.cancel()
        try:
            await writer
        except (asyncio.CancelledError, Exception):
            pass
        protocol.closed(session)


async def _write(session: Session, send, protocol: StreamProtocol) -> None:
    queue = session._queue
    while True:
        timeout = None
        if protocol.idle_timeout_s is not None:
            timeout = max(0.0, session.last_active + protocol.idle_timeout_s - session.loop.time())
        try:
            item = await asyncio.wait_for(queue.get(), timeout) if timeout is not None else await queue.get()
        except asyncio.TimeoutError:
            if session.loop.time() - session.last_active >= protocol.idle_timeout_s:
                item = _Close(CLOSE_GOING_AWAY)
            else:
                continue
        if isinstance(item, _Close):
            session.closed = True
            session.close_code = item.code
            try:
                await send({"type": "websocket.close", "code": item.code})
            except Exception:
                pass
            return
        if session.on_frame_out is not None:
            session.on_frame_out(session, item)
        try:
            await send({"type": "websocket.send", "text": item})
        except Exception:  # the peer has gone
            session.closed = True
            return


class Subscriptions:
    """topic -> {session id: (session, what the venue keeps per subscription)}."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[Hashable, dict[int, tuple[Session, Any]]] = {}

    def add(self, topic: Hashable, session: Session, value: Any = None) -> bool:
        """False if the session already had the topic."""
        with self._lock:
            subs = self._topics.setdefault(topic, {})
            if session.id in subs:
                return False
            self._topics[topic] = {**subs, session.id: (session, value)}
            return True

    def remove(self, topic: Hashable, session: Session) -> bool:
        with self._lock:
            subs = self._topics.get(topic)
            if not subs or session.id not in subs:
                return False
            rest = {k: v for k, v in subs.items() if k != session.id}
            if rest:
                self._topics[topic] = rest
            else:
                del self._topics[topic]
            return True

    def drop(self, session: Session, topics: Iterable[Hashable]) -> None:
        for topic in list(topics):
            self.remove(topic, session)

    def get(self, topic: Hashable) -> list[tuple[Session, Any]]:
        subs = self._topics.get(topic)  # replaced whole on change: safe to read without the lock
        return [] if not subs else [v for v in subs.values() if not v[0].closed]

    def topics(self) -> list[Hashable]:
        with self._lock:
            return list(self._topics)
