"""The engine's events across workers: the outbox relayed to a Redis Stream, read by every worker.

Every writing unit of work numbers its events and writes them to the outbox in its own
transaction (engine/events.py, store/outbox.py). The relay, run by the leader alone, reads the
committed outbox rows in sequence order (`Engine.events_since`) and appends each to the stream
`<prefix>:events` under the entry id `<epoch>-<seq>`: the world's epoch (bumped by every reset,
which numbers events afresh from 1) and the event's sequence number. Redis refuses an id that is
not above the stream's last, so an event can be appended once and only once, in order, even if
two relays overlapped: the stream is its own record of how far the relay got, and a new leader
resumes from its last entry.

Every worker reads the stream with XREAD from the last entry it delivered (fan-out, not a
consumer group: every worker hears every event) and hands each batch, in order, to the feed its
WebSocket sessions listen to. It stores that position in `<prefix>:pos:<worker>` after each
batch, so a restarted worker with the same name resumes where it stopped.
"""

from __future__ import annotations

import logging

from localex.engine.events import Event, EventKind
from localex.store.outbox import decode, encode

log = logging.getLogger("localex.scale")

BATCH = 500
MAXLEN = 100_000  # entries the stream keeps (about; trimmed by Redis in whole nodes)


def stream_key(prefix: str) -> str:
    return f"{prefix}:events"


def epoch_key(prefix: str) -> str:
    return f"{prefix}:epoch"


def _split(entry_id) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    epoch, seq = text.split("-")
    return int(epoch), int(seq)


def to_fields(e: Event) -> dict:
    return {"kind": e.kind.value, "uid": e.uid or "", "at": e.at_ms, "new": int(e.created),
            "obj": encode(e.obj)}


def from_entry(entry_id, fields: dict) -> Event:
    kind = EventKind(fields[b"kind"].decode())
    uid = fields[b"uid"].decode() or None
    return Event(_split(entry_id)[1], kind, uid, int(fields[b"at"]), decode(kind, fields[b"obj"].decode()),
                 fields[b"new"] == b"1")


class Relay:
    def __init__(self, engine, client, prefix: str) -> None:
        self.engine = engine
        self.client = client  # redis.asyncio
        self.stream = stream_key(prefix)
        self.epoch_key = epoch_key(prefix)
        self.epoch: int | None = None
        self.last = 0  # the last sequence number relayed in this epoch
        self.relayed = 0

    async def _epoch(self) -> int:
        return int(await self.client.get(self.epoch_key) or 0) + 1

    async def resume(self) -> None:
        """Go on from the stream's last entry (a new leader, a restart)."""
        epoch = await self._epoch()
        top = await self.client.xrevrange(self.stream, count=1)
        self.last = 0
        if top:
            top_epoch, top_seq = _split(top[0][0])
            if top_epoch == epoch:
                self.last = top_seq
        self.epoch = epoch

    async def step(self) -> int:
        """Relay what has committed since the last step; returns how many events."""
        epoch = await self._epoch()
        if epoch != self.epoch:
            self.epoch, self.last = epoch, 0  # a reset: the new world numbers from 1
        events = self.engine.events_since(self.last, BATCH)
        if not events:
            return 0
        if await self._epoch() != epoch:
            return 0  # reset while reading: read again next step
        if self.last and events[0].seq != self.last + 1:
            log.warning("events %d to %d left the outbox before they were relayed",
                        self.last + 1, events[0].seq - 1)
        pipe = self.client.pipeline(transaction=False)
        for e in events:
            pipe.xadd(self.stream, to_fields(e), id=f"{epoch}-{e.seq}", maxlen=MAXLEN, approximate=True)
        results = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, Exception) and "equal or smaller" not in str(result):
                raise result  # an id already in the stream was relayed before: skipped
        before, self.last = self.last, events[-1].seq
        self.relayed += len(events)
        self.engine.events_relayed(self.last, before)  # the outbox is trimmed behind the relay
        return len(events)


class StreamReader:
    def __init__(self, client, prefix: str, worker: str, feed) -> None:
        self.client = client  # redis.asyncio, its own connection pool (XREAD blocks)
        self.stream = stream_key(prefix)
        self.pos_key = f"{prefix}:pos:{worker}"
        self.feed = feed
        self.position: bytes | str = "0-0"
        self.delivered = 0

    async def start(self) -> None:
        """From where this worker stopped, or else from the stream's present end."""
        saved = await self.client.get(self.pos_key)
        if saved is not None:
            self.position = saved
            return
        top = await self.client.xrevrange(self.stream, count=1)
        self.position = top[0][0] if top else "0-0"
        await self.client.set(self.pos_key, self.position)  # a restart goes on from here

    async def step(self, block_ms: int = 1000) -> int:
        answer = await self.client.xread({self.stream: self.position}, count=BATCH, block=block_ms)
        if not answer:
            return 0
        entries = answer[0][1]
        events = [from_entry(entry_id, fields) for entry_id, fields in entries]
        self.position = entries[-1][0]
        self.feed.publish(events)
        self.delivered += len(events)
        await self.client.set(self.pos_key, self.position)
        return len(events)
