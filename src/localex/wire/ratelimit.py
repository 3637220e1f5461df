"""Request-rate limits: a sliding window per key, with two backends behind one interface: in
memory (one process) and Redis (every worker of one world counts in the same windows).

A window holds the times of the requests it counted; a request at `now_ms` is counted when fewer
than `limit` times lie in (now_ms - window_ms, now_ms]. Both backends answer the same sequence of
calls with the same answers (tests/test_redis_ratelimit.py replays random sequences through both).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque

try:
    from redis.exceptions import NoScriptError
except ImportError:  # pragma: no cover - redis is a dependency; only RedisRateLimiter needs it
    NoScriptError = Exception
from typing import Protocol

from localex.wire.redisconn import OwnConnection, bulk, command

# how many keys (one per endpoint and caller) the in-memory limiter remembers at most
MAX_KEYS = 20_000


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> bool:
        """Count one request under key; False when it goes over `limit` per `window_ms`."""

    def remaining(self, key: str, limit: int, window_ms: int, now_ms: int) -> int:
        """How many more requests `key` may make in the current window (nothing counted)."""

    def check(self, key: str, limit: int, window_ms: int, now_ms: int) -> tuple[bool, int]:
        """hit() and then remaining(), as one call (one round trip to a shared store)."""

    def hit_all(self, checks, now_ms: int) -> bool:
        """hit() for each (key, limit, window_ms) of `checks` in turn, stopping at the first that
        goes over (the windows after it are not counted), as one call (one round trip)."""

    def reset(self) -> None:
        """Forget every window."""


class MemoryRateLimiter:
    """Sliding windows in memory, bounded whatever the keys: a window holds at most `limit`
    times, and at most `max_keys` windows are kept - beyond that the least recently used is
    forgotten (after an idle second it is empty anyway), so a caller inventing a new key per
    request grows nothing."""

    def __init__(self, max_keys: int = MAX_KEYS) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be positive")
        self.max_keys = max_keys
        self._windows: OrderedDict[str, deque[int]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> bool:
        with self._lock:
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = deque()
                while len(self._windows) > self.max_keys:
                    self._windows.popitem(last=False)
            else:
                self._windows.move_to_end(key)
            cutoff = now_ms - window_ms
            while window and window[0] <= cutoff:
                window.popleft()
            if len(window) >= limit:
                return False
            window.append(now_ms)
            return True

    def remaining(self, key: str, limit: int, window_ms: int, now_ms: int) -> int:
        with self._lock:
            window = self._windows.get(key)
            if not window:
                return limit
            cutoff = now_ms - window_ms
            return max(0, limit - sum(1 for t in window if t > cutoff))

    def check(self, key: str, limit: int, window_ms: int, now_ms: int) -> tuple[bool, int]:
        allowed = self.hit(key, limit, window_ms, now_ms)
        return allowed, self.remaining(key, limit, window_ms, now_ms)

    def hit_all(self, checks, now_ms: int) -> bool:
        return all(self.hit(key, limit, window_ms, now_ms) for key, limit, window_ms in checks)

    def __len__(self) -> int:
        """How many windows are remembered."""
        return len(self._windows)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


class NoRateLimiter:
    """Rate limits switched off."""

    def hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> bool:
        return True

    def remaining(self, key: str, limit: int, window_ms: int, now_ms: int) -> int:
        return limit

    def check(self, key: str, limit: int, window_ms: int, now_ms: int) -> tuple[bool, int]:
        return True, limit

    def hit_all(self, checks, now_ms: int) -> bool:
        return True

    def reset(self) -> None:
        pass


# KEYS[1] the window (a sorted set of request times; a member is "<time>:<n>", the n-th request
# counted at that millisecond, so members stay unique while they are in the window); ARGV: limit,
# window_ms, now_ms (ignored when ARGV[4] is "1": the server's clock), count (1: a hit)
_WINDOW_LUA = """
local now = tonumber(ARGV[3])
if ARGV[4] == '1' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local allowed = 0
if ARGV[5] == '1' and n < limit then
  local same = redis.call('ZCOUNT', KEYS[1], now, now)
  redis.call('ZADD', KEYS[1], now, now .. ':' .. same)
  redis.call('PEXPIRE', KEYS[1], window + 60000)
  n = n + 1
  allowed = 1
end
local left = limit - n
if left < 0 then left = 0 end
return {allowed, left}
"""

# KEYS: the windows, in the order they are checked; ARGV: now_ms (ignored when ARGV[2] is "1"),
# then each window's limit and window_ms. Counts in each window in turn and stops at the first
# that is full: returns 0 when every window counted the request, else the full one's number.
_WINDOWS_LUA = """
local now = tonumber(ARGV[1])
if ARGV[2] == '1' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then return i end
  local same = redis.call('ZCOUNT', key, now, now)
  redis.call('ZADD', key, now, now .. ':' .. same)
  redis.call('PEXPIRE', key, window + 60000)
end
return 0
"""


class RedisRateLimiter:
    """Sliding windows in Redis, shared by every worker that uses the same `prefix`: one Lua
    script per call, so counting is atomic across workers. A window is a sorted set of request
    times that expires a minute after its window goes idle (real time: a frozen market clock
    does not keep it forever), so Redis holds nothing for a caller gone quiet.

    Times are the caller's wall-clock milliseconds (each worker's system clock), exactly as the
    in-memory limiter reads them; `server_time=True` takes Redis's own TIME instead, so workers on
    several hosts need not agree on their clocks. `client` is a synchronous redis-py client (the
    venues check limits synchronously, on the event loop)."""

    def __init__(self, client, prefix: str, server_time: bool = False) -> None:

        self.client = client
        self.prefix = f"{prefix}:rl:"
        self.server_time = "1" if server_time else "0"
        self._conn = OwnConnection(client)  # the script a request waits for, on a connection of its own
        self._load()

    def _load(self) -> None:
        self._sha = self.client.script_load(_WINDOW_LUA)
        self._sha_all = self.client.script_load(_WINDOWS_LUA).encode()
        # EVALSHA, the script, one key and five arguments (9 parts): what does not change packed once
        self._head = b"*9\r\n" + bulk(b"EVALSHA") + bulk(self._sha.encode()) + bulk(b"1")
        self._tail = {count: bulk(self.server_time.encode()) + bulk(count.encode()) for count in ("0", "1")}

    def _run(self, key: str, limit: int, window_ms: int, now_ms: int, count: str) -> tuple[bool, int]:
        rest = b"".join((bulk((self.prefix + key).encode()), bulk(b"%d" % limit), bulk(b"%d" % window_ms),
                         bulk(b"%d" % now_ms), self._tail[count]))
        try:
            allowed, left = self._conn.call(self._head + rest)
        except NoScriptError:  # the server lost its scripts (a restart, SCRIPT FLUSH)
            self._load()
            allowed, left = self._conn.call(self._head + rest)
        return allowed == 1, left

    def hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> bool:
        return self._run(key, limit, window_ms, now_ms, "1")[0]

    def hit_all(self, checks, now_ms: int) -> bool:
        """Every window in one script (CoinW's endpoint, UID and market windows: one round trip)."""
        parts = [b"EVALSHA", self._sha_all, b"%d" % len(checks)]
        parts += [(self.prefix + key).encode() for key, _limit, _window in checks]
        parts += [b"%d" % now_ms, self.server_time.encode()]
        for _key, limit, window_ms in checks:
            parts += [b"%d" % limit, b"%d" % window_ms]
        try:
            full = self._conn.call(command(*parts))
        except NoScriptError:  # the server lost its scripts (a restart, SCRIPT FLUSH)
            self._load()
            parts[1] = self._sha_all
            full = self._conn.call(command(*parts))
        return full == 0

    def remaining(self, key: str, limit: int, window_ms: int, now_ms: int) -> int:
        return self._run(key, limit, window_ms, now_ms, "0")[1]

    def check(self, key: str, limit: int, window_ms: int, now_ms: int) -> tuple[bool, int]:
        return self._run(key, limit, window_ms, now_ms, "1")

    def close(self) -> None:
        self._conn.close()

    def reset(self) -> None:
        """Forget every window of this prefix (a world's reset)."""
        batch = []
        for key in self.client.scan_iter(match=self.prefix + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                self.client.delete(*batch)
                batch = []
        if batch:
            self.client.delete(*batch)
