"""Clocks. The engine reads time only through a Clock, so tests and replays can control it."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    """Wall-clock time in milliseconds since the epoch."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class ManualClock:
    """A clock that only moves when told to: set() jumps, advance() moves forward."""

    def __init__(self, start_ms: int = 1_767_225_600_000) -> None:  # 2026-01-01T00:00:00Z
        self._now = int(start_ms)
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        return self._now

    def set(self, ms: int) -> None:
        with self._lock:
            self._now = int(ms)

    def advance(self, ms: int) -> None:
        if ms < 0:
            raise ValueError("a clock only advances forward")
        with self._lock:
            self._now += int(ms)


class ScaledClock:
    """Market time running `speed` times faster than wall time, from `start_ms`."""

    def __init__(self, speed: float, start_ms: int | None = None, wall: Clock | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.wall = wall or SystemClock()
        self.speed = speed
        self._wall0 = self.wall.now_ms()
        self._start = self._wall0 if start_ms is None else int(start_ms)

    def now_ms(self) -> int:
        return self._start + int((self.wall.now_ms() - self._wall0) * self.speed)


def parse_time(text: str) -> int:
    """Epoch milliseconds ("1767225600000"), or an ISO 8601 time ("2026-01-01T00:00:00Z"; UTC
    unless it names its offset)."""
    from datetime import datetime, timedelta, timezone

    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{text}' is neither epoch milliseconds nor an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
