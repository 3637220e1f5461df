"""kill -9 of the market leader: another worker leads within a few seconds and walks on from the
stored state; no fill is doubled or lost."""

from __future__ import annotations

import time

import pytest

from redis_support import redis_prefix  # noqa: F401 (fixture)
from scale_support import Workers, check_fills_once, demo_credentials, straddle, wait_for


@pytest.fixture
def workers(tmp_path, redis_prefix):
    started = Workers(tmp_path, redis_prefix, "--price-path", "random", "--no-rate-limits")
    yield started
    started.stop()


def test_kill_9_of_the_leader_a_new_leader_and_no_fill_doubled_or_lost(workers):
    a = workers.start("a")
    wait_for(a.leads, 10, "the first worker leads")
    b = workers.start("b")
    assert not b.leads()
    creds = demo_credentials(a.out_path.parent)

    def signed(method, path, body):
        return b.signed(creds, method, path, body)

    placed = straddle(b.url, signed, 6)  # through the follower; the leader's walk fills them
    wait_for(lambda: b.http.get("/localex/fills", params={"uid": creds["uid"]}).json(), 15,
             "a fill by the first leader")
    a.kill9()
    killed_at = time.monotonic()
    killed_ms = int(time.time() * 1000)
    wait_for(b.leads, 15, "the second worker leads")
    failover_s = time.monotonic() - killed_at
    print(f"failover after kill -9: {failover_s:.2f} s")
    placed += straddle(b.url, signed, 6)
    wait_for(lambda: any(int(f["createdMs"]) > killed_ms
                         for f in b.http.get("/localex/fills", params={"uid": creds["uid"]}).json()),
             20, "a fill by the new leader")
    b.stop()  # the walk stops; the store holds the final state
    check_fills_once(workers.db, creds["uid"], placed, killed_ms)
