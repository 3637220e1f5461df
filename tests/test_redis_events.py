"""The outbox relayed to a Redis Stream in order, once, and read by every worker from where it
stopped."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from localex.demo import demo_account, install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.engine.events import EventFeed
from localex.engine.model import OrderType, Side
from localex.scale.relay import Relay, StreamReader, epoch_key, stream_key
from localex.store import open_store
from redis_support import REDIS_URL, redis_client, redis_prefix  # noqa: F401 (fixtures)


def _engine() -> Engine:
    engine = Engine(open_store(":memory:"), clock=ManualClock(1_700_000_000_000), seed=5)
    install_market(engine)
    return engine


def _trade(engine, uid: str, n: int) -> None:
    for i in range(n):
        engine.place_spot_order(uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, Decimal("0.001"),
                                price=Decimal(1000 + i))


def _same(a, b) -> bool:
    return [(e.seq, e.kind, e.uid, e.at_ms, e.obj, e.created) for e in a] == \
        [(e.seq, e.kind, e.uid, e.at_ms, e.obj, e.created) for e in b]


def run(coro):
    return asyncio.run(coro)


def test_relayed_in_order_once_and_read_back_whole(redis_client, redis_prefix):
    import redis.asyncio as aioredis

    engine = _engine()
    uid = demo_account(engine).uid
    _trade(engine, uid, 5)

    async def scenario():
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            relay = Relay(engine, client, redis_prefix)
            await relay.resume()
            assert relay.last == 0
            first = await relay.step()
            assert first == len(engine.events_since(0)) > 5
            assert await relay.step() == 0  # nothing new
            # a second relay (a new leader) resumes after the last entry and relays nothing twice
            again = Relay(engine, client, redis_prefix)
            await again.resume()
            assert again.last == first
            # two relays that both think nothing was relayed: each entry still lands once
            _trade(engine, uid, 2)
            stale = Relay(engine, client, redis_prefix)
            stale.epoch, stale.last = 1, 0
            await relay.step()
            await stale.step()
            heard = []
            feed = EventFeed()
            feed.subscribe(heard.extend)
            reader = StreamReader(client, redis_prefix, "w1", feed)  # position: none saved
            reader.position = "0-0"
            while await reader.step(block_ms=50):
                pass
            return heard
        finally:
            await client.aclose()

    heard = run(scenario())
    assert _same(heard, engine.events_since(0))
    ids = [i.decode() for i, _ in redis_client.xrange(stream_key(redis_prefix))]
    assert ids == [f"1-{e.seq}" for e in engine.events_since(0)]


def test_a_reader_resumes_from_its_position_and_a_reset_numbers_anew(redis_client, redis_prefix):
    import redis.asyncio as aioredis

    engine = _engine()
    uid = demo_account(engine).uid

    async def scenario():
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            relay = Relay(engine, client, redis_prefix)
            await relay.resume()
            _trade(engine, uid, 3)
            await relay.step()
            heard = []
            feed = EventFeed()
            feed.subscribe(heard.extend)
            reader = StreamReader(client, redis_prefix, "w1", feed)
            await reader.start()  # a new worker starts at the stream's end
            assert await reader.step(block_ms=50) == 0
            _trade(engine, uid, 2)
            await relay.step()
            got = await reader.step(block_ms=50)
            assert got > 0 and heard[-1].seq == engine.events_since(0)[-1].seq
            # the worker restarts: it goes on from the position it saved, missing nothing
            _trade(engine, uid, 1)
            await relay.step()
            restarted = StreamReader(client, redis_prefix, "w1", feed)
            await restarted.start()
            before = len(heard)
            await restarted.step(block_ms=50)
            one_more = heard[before:]
            # a reset (the world numbers from 1 again) under a new epoch: still after, in order
            engine.reset()
            await client.incr(epoch_key(redis_prefix))
            install_market(engine)
            uid2 = demo_account(engine).uid
            _trade(engine, uid2, 1)
            await relay.step()
            while await restarted.step(block_ms=50):
                pass
            return heard, one_more, before
        finally:
            await client.aclose()

    heard, one_more, before = run(scenario())
    assert one_more and one_more[0].seq > heard[before - 1].seq
    new_world = engine.events_since(0)
    assert _same(heard[-len(new_world):], new_world) and new_world[0].seq == 1
    ids = [i.decode() for i, _ in redis_client.xrange(stream_key(redis_prefix))]
    assert ids[-len(new_world):] == [f"2-{e.seq}" for e in new_world]


def test_a_relay_behind_by_more_than_the_outbox_keeps_loses_nothing(redis_client, redis_prefix,
                                                                     monkeypatch):
    """With a relay following it the outbox is trimmed behind the relay, never by the units that
    append: a relay that falls further behind than KEEP events (a mass close, a leader gone for
    a while) still relays every event, once, in order; and behind it the outbox is trimmed."""
    import redis.asyncio as aioredis

    from localex.store import outbox

    monkeypatch.setattr(outbox, "KEEP", 30)
    monkeypatch.setattr(outbox, "TRIM_EVERY", 10)
    engine = _engine()
    engine.store.outbox_relayed = True
    uid = demo_account(engine).uid
    _trade(engine, uid, 40)  # more events than the outbox keeps, nothing relayed yet
    written = engine.events_since(0, 10_000)
    assert written[0].seq == 1 and len(written) == written[-1].seq > 60  # none trimmed

    async def scenario():
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            relay = Relay(engine, client, redis_prefix)
            await relay.resume()
            while await relay.step():
                pass
            return await client.xrange(stream_key(redis_prefix))
        finally:
            await client.aclose()

    entries = run(scenario())
    assert [int(entry_id.split(b"-")[1]) for entry_id, _fields in entries] == \
        [e.seq for e in written]
    kept = engine.events_since(0, 10_000)  # trimmed behind the relay: the newest 30 or so
    assert kept[-1].seq == written[-1].seq and 30 <= len(kept) < 30 + 10


def test_without_a_relay_a_unit_never_trims_its_own_events(monkeypatch):
    from localex.store import outbox

    monkeypatch.setattr(outbox, "KEEP", 30)
    monkeypatch.setattr(outbox, "TRIM_EVERY", 10)
    engine = _engine()
    uid = demo_account(engine).uid
    before = engine.events_since(0, 10_000)[-1].seq
    with engine.tx():  # one unit of work of more events than the outbox keeps
        _trade(engine, uid, 40)
    kept = engine.events_since(0, 10_000)
    assert [e.seq for e in kept] == list(range(before + 1, before + len(kept) + 1))
    assert len(kept) >= 40 > outbox.KEEP
