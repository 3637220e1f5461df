"""The Redis rate limiter answers exactly as the in-memory one, and counts once for every worker."""

from __future__ import annotations

import random

import pytest

from localex.demo import demo_account, install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.server.app import LocalexApp
from localex.store import open_store
from localex.wire.http import Request
from localex.wire.ratelimit import MemoryRateLimiter, RedisRateLimiter
from redis_support import REDIS_URL, redis_client, redis_prefix  # noqa: F401 (fixtures)


def test_same_answers_as_the_memory_limiter(redis_client, redis_prefix):
    """A seeded random sequence of hits and look-ups on a few keys, limits and windows, with
    time moving in steps around the window's edges: both backends give the same answers."""
    mem, red = MemoryRateLimiter(), RedisRateLimiter(redis_client, redis_prefix)
    rng = random.Random(13)
    now = 1_700_000_000_000
    answers = []
    for _ in range(1500):
        now += rng.choice([0, 0, 1, 7, 99, 100, 101, 250, 999, 1000, 1001])
        key = rng.choice(["a", "b", "c"])
        limit, window = {"a": (3, 1000), "b": (10, 1000), "c": (5, 2000)}[key]
        op = rng.choice(["hit", "hit", "check", "remaining"])
        got_mem = getattr(mem, op)(key, limit, window, now)
        got_red = getattr(red, op)(key, limit, window, now)
        assert got_mem == got_red, (op, key, now)
        answers.append(got_mem)
    # the sequence did reach both sides of the limits
    assert False in answers and True in answers and 0 in answers


def test_one_window_for_every_worker(redis_client, redis_prefix):
    a = RedisRateLimiter(redis_client, redis_prefix)
    b = RedisRateLimiter(redis_client, redis_prefix)
    now = 5_000
    assert [a.hit("k", 3, 1000, now), b.hit("k", 3, 1000, now + 1), a.hit("k", 3, 1000, now + 2)] == [True] * 3
    assert b.hit("k", 3, 1000, now + 3) is False
    assert a.remaining("k", 3, 1000, now + 3) == 0
    assert a.hit("k", 3, 1000, now + 1000) is True  # the first hit left the window
    # another world (prefix) counts apart
    other = RedisRateLimiter(redis_client, redis_prefix + "-other")
    try:
        assert other.check("k", 3, 1000, now + 3) == (True, 2)
    finally:
        other.reset()


def test_a_window_expires_and_reset_forgets_only_its_world(redis_client, redis_prefix):
    limiter = RedisRateLimiter(redis_client, redis_prefix)
    limiter.hit("x", 2, 1000, 10)
    keys = sorted(k.decode() for k in redis_client.scan_iter(match=redis_prefix + ":rl:*"))
    assert keys == [f"{redis_prefix}:rl:x"]
    assert 0 < redis_client.pttl(keys[0]) <= 61_000  # a quiet caller leaves nothing behind
    redis_client.set(redis_prefix + ":other", b"1")
    limiter.reset()
    assert list(redis_client.scan_iter(match=redis_prefix + ":rl:*")) == []
    assert redis_client.get(redis_prefix + ":other") == b"1"
    assert limiter.remaining("x", 2, 1000, 10) == 2


def test_server_time_counts_on_the_redis_clock(redis_client, redis_prefix):
    limiter = RedisRateLimiter(redis_client, redis_prefix, server_time=True)
    # the caller's time is ignored (here absurd): the window is Redis's TIME, a minute long
    assert [limiter.hit("s", 2, 60_000, 0) for _ in range(3)] == [True, True, False]
    assert limiter.remaining("s", 2, 60_000, 123) == 0


def _public_get(path: str) -> Request:
    return Request(method="GET", path=path, raw_query="", headers={}, body=b"", client_ip="10.1.2.3")


@pytest.mark.parametrize("shared", [True, False])
def test_two_apps_share_the_venue_limit(redis_prefix, shared):
    """Two apps (as two workers would) on one Redis: Bitget's limit per IP counts requests to
    both, and the remaining-limit header says so; with the in-memory limiter each counts apart."""
    from localex.scale import Cluster

    apps, clusters = [], []
    for n in range(2):
        engine = Engine(open_store(":memory:"), clock=ManualClock(1_700_000_000_000), seed=1)
        install_market(engine)
        cluster = Cluster(REDIS_URL, prefix=redis_prefix, worker=f"w{n}") if shared else None
        clusters.append(cluster)
        apps.append(LocalexApp(engine, wall_clock=ManualClock(1_700_000_000_000), cluster=cluster))
    try:
        remains, codes = [], []
        for i in range(24):
            response = apps[i % 2].handle(_public_get("/api/v2/public/time"))
            codes.append(response.status)
            remains.append(int(dict(response.headers)[b"x-mbx-used-remain-limit"]))
        if shared:  # 20 a second for one IP, counted once across both
            assert codes == [200] * 20 + [429] * 4
            assert remains == list(range(19, -1, -1)) + [0] * 4
        else:
            assert codes == [200] * 24
            assert remains[:2] == [19, 19]
    finally:
        for cluster in clusters:
            if cluster is not None:
                cluster.sync.close()


def test_several_windows_in_one_call_answer_as_hits_in_turn(redis_client, redis_prefix):
    """hit_all: the windows counted in turn up to the first full one (those after it not
    counted), in one script; the same answers as the in-memory limiter and as hit() one by one."""
    mem, red = MemoryRateLimiter(), RedisRateLimiter(redis_client, redis_prefix)
    one_by_one = MemoryRateLimiter()
    rng = random.Random(29)
    windows = {"e": (3, 1000), "u": (5, 2000), "m": (4, 1000)}
    now = 1_700_000_000_000
    answers = []
    for _ in range(800):
        now += rng.choice([0, 0, 1, 99, 250, 999, 1000, 1001])
        names = rng.choice([["e"], ["e", "u"], ["e", "u", "m"], ["u", "m"], ["m", "e"]])
        checks = [(name, *windows[name]) for name in names]
        got_mem, got_red = mem.hit_all(checks, now), red.hit_all(checks, now)
        expected = True
        for key, limit, window in checks:
            if not one_by_one.hit(key, limit, window, now):
                expected = False
                break
        assert got_mem == got_red == expected, (names, now)
        for name, (limit, window) in windows.items():
            assert mem.remaining(name, limit, window, now) == red.remaining(name, limit, window, now)
        answers.append(got_red)
    assert True in answers and False in answers
