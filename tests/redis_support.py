"""Redis for the scale-out tests: a real server (127.0.0.1:6379 unless LOCALEX_TEST_REDIS says
otherwise), a key prefix of its own per test, every key under it deleted afterwards.

Without a Redis the tests skip, saying why; on CI (CI=true) they fail instead, since CI runs a
Redis and a missing one is a broken run, not a reason to test less."""

from __future__ import annotations

import os
import uuid

import pytest

from localex.scale import redis_available

REDIS_URL = os.environ.get("LOCALEX_TEST_REDIS", "redis://127.0.0.1:6379/0")


def need_redis() -> None:
    why = redis_available(REDIS_URL)
    if why is None:
        return
    message = f"no Redis at {REDIS_URL}: {why}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI runs one: it must be up)")
    pytest.skip(message)


def drop_prefix(prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=prefix + ":*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
    return len(keys)


@pytest.fixture
def redis_prefix():
    """A fresh key prefix on the test Redis; its keys are gone after the test."""
    need_redis()
    prefix = f"localex-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    drop_prefix(prefix)


@pytest.fixture
def redis_client(redis_prefix):
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()
