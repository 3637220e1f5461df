"""One market leader at a time: the Redis lease, its fencing token in the store, and the
engine's funding settled once per settlement time whoever walks."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.scale.leader import APPLIED, FENCE, Fenced, Lease, fence
from localex.store import open_store
from redis_support import REDIS_URL, redis_client, redis_prefix  # noqa: F401 (fixtures)


def test_one_holder_a_larger_token_for_each_new_one(redis_prefix):
    import redis.asyncio as aioredis

    async def scenario():
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            a = Lease(client, redis_prefix, "a", lease_ms=10_000)
            b = Lease(client, redis_prefix, "b", lease_ms=10_000)
            first = await a.acquire()
            assert first and await b.acquire() is None
            assert await a.renew() is True and await b.renew() is False
            assert await a.holder() == f"{first}:a"
            await a.release()
            second = await b.acquire()
            assert second > first and await a.renew() is False  # a is no longer the holder
            # a lease nobody renews lapses, and the next try takes it
            c = Lease(client, redis_prefix, "c", lease_ms=10_000)
            await client.pexpire(b.key, 1)
            for _ in range(100):
                if await c.acquire():
                    break
                await asyncio.sleep(0.01)
            assert c.token > second and await b.renew() is False
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_the_fence_refuses_an_older_leader():
    engine = Engine(open_store(":memory:"), clock=ManualClock(0))
    with engine.tx() as uow:
        assert fence(uow, 3, None) is None
    with engine.tx() as uow:
        fence(uow, 3, 1000)
    with engine.tx() as uow:
        assert fence(uow, 4, None) == 1000  # a new leader reads where the last one stopped
    with pytest.raises(Fenced):
        with engine.tx() as uow:
            fence(uow, 3, 2000)  # the old one, back from a pause, writes nothing
    with engine.tx(read_only=True) as uow:
        assert uow.get_sequence(FENCE) == 4 and uow.get_sequence(APPLIED) == 1000


def test_funding_once_per_settlement_time():
    from localex.demo import install_market

    def settle_twice(once: bool) -> int:
        engine = Engine(open_store(":memory:"), clock=ManualClock(0))
        engine.funding_once = once
        install_market(engine)
        inst = engine.instruments("bitget", "usdt-futures")[0]
        engine.set_funding_rate(inst.venue, inst.market, inst.symbol, Decimal("0.001"))
        at = 8 * 3_600_000
        engine.settle_funding(at)
        engine.settle_funding(at)  # a second walker passing the same time
        return len(engine.funding_history(inst.venue, inst.market, inst.symbol))

    assert settle_twice(True) == 1
    assert settle_twice(False) == 2  # one process settles whatever it is asked to
