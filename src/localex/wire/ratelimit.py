"""Request-rate limits: a sliding window per key. A shared store (Redis) can implement the same
interface for several workers."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from typing import Protocol

# how many keys (one per endpoint and caller) the in-memory limiter remembers at most
MAX_KEYS = 20_000


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> bool:
        """Count one request under key; False when it goes over `limit` per `window_ms`."""

    def remaining(self, key: str, limit: int, window_ms: int, now_ms: int) -> int:
        """How many more requests `key` may make in the current window (nothing counted)."""


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

    def reset(self) -> None:
        pass
