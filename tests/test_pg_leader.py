"""One market leader without Redis: several `localex serve` processes (as on several hosts), each
with several workers, sharing one PostgreSQL store elect one leader through a PostgreSQL session
advisory lock; kill -9 of it — another leads within a few seconds, no fill doubled or lost.
Needs PostgreSQL (tests/stores.py): skipped locally without it, failed on CI."""

from __future__ import annotations

import os
import signal
import time

import httpx

from scale_support import check_fills_once, pg_hosts, straddle, wait_for  # noqa: F401 (fixture)
from serving_support import START_WAIT_S


def _leaders(servers, rounds: int = 40) -> dict[int, bool]:
    """pid -> whether it leads, from health asked on new connections (any worker answers)."""
    seen: dict[int, bool] = {}
    for _ in range(rounds):
        for server in servers:
            h = httpx.get(server.url + "/localex/health", timeout=START_WAIT_S).json()["cluster"]
            seen[h["pid"]] = seen.get(h["pid"], False) or h["leader"]
    return seen


def _leading(servers, other_than: int | None = None) -> dict | None:
    for server in servers:
        h = server.health()
        if h["leader"] and h["pid"] != other_than:
            return h
    return None


def test_one_leader_across_hosts_without_redis_and_kill_9_of_it(pg_hosts):
    hosts = pg_hosts
    one = hosts("host-a", "--workers", "2", "--price-path", "random")
    two = hosts("host-b", "--workers", "2", "--price-path", "random")
    first = wait_for(lambda: _leading([one, two]), 20, "a worker that leads", step=0.02)
    assert first["lease"] == "postgresql"
    seen = _leaders([one, two])
    assert [pid for pid, leads in seen.items() if leads] == [first["pid"]], seen  # exactly one leads

    placed = straddle(two.url, two.signed, 6)  # at host b: whichever worker leads fills them
    wait_for(two.fills, 20, "a fill by the first leader")
    os.kill(first["pid"], signal.SIGKILL)
    killed_at, killed_ms = time.monotonic(), int(time.time() * 1000)

    second = wait_for(lambda: _leading([one, two], other_than=first["pid"]), 20, "another worker leads",
                      step=0.02)
    print(f"failover after kill -9 of the leader (no Redis): {time.monotonic() - killed_at:.2f} s "
          f"(worker {first['worker']} -> {second['worker']})")
    seen = _leaders([one, two])
    assert [pid for pid, leads in seen.items() if leads] == [second["pid"]], seen
    placed += straddle(one.url, one.signed, 6)
    wait_for(lambda: any(int(f["createdMs"]) > killed_ms for f in two.fills()), 20,
             "a fill by the new leader")
    one.stop()
    two.stop()
    check_fills_once(hosts.db, one.creds["uid"], placed, killed_ms)
