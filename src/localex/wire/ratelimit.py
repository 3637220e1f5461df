"""Request-rate limits: a sliding window per key. A shared store (Redis) can implement the same
interface for several workers."""

from __future__ import annotations

import threading
from collections import deque
from typing import Protocol


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> bool:
        """Count one request under key; False when it goes over `limit` per `window_ms`."""

    def remaining(self, key: str, limit: int, window_ms: int, now_ms: int) -> int:
        """How many more requests `key` may make in the current window (nothing counted)."""


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._windows: dict[str, deque[int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_ms: int, now_ms: int) -> bool:
        with self._lock:
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = deque()
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
