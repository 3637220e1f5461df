"""Moving the market along price paths.

A Simulation holds a price path per instrument. Advancing market time walks every path's
points in time order (instruments interleaved; same-time points in instrument order) and sets
each as the mark price, so every order, trigger, stop and liquidation a point crosses fires,
in price order within the move, exactly as when the control plane sets a price. With a manual
clock the clock is set to each point's time as it is applied, so what fires carries that time.
Funding settles at each settlement time on the way (Engine.funding_times), in the same time
order, before the path points of that same time. Orders a latency fill model holds back
arrive at their due times on the way (Engine.settle_arrivals), before anything else at that time.
"""

from __future__ import annotations

import heapq
import threading

from localex.engine.clock import ManualClock
from localex.engine.model import Instrument
from localex.engine.pricepaths import PricePath


class Simulation:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.paths: dict[str, tuple[Instrument, PricePath]] = {}
        self.applied_ms = engine.now_ms()  # every path point up to here has been applied
        self._lock = threading.RLock()

    def reset(self) -> None:
        with self._lock:
            self.paths.clear()
            self.applied_ms = self.engine.now_ms()

    def set_path(self, inst: Instrument, path: PricePath | None) -> None:
        """Give an instrument a price path (None: back to static, set by hand)."""
        with self._lock:
            if path is None:
                self.paths.pop(inst.key, None)
            else:
                self.paths[inst.key] = (inst, path)

    def _due(self, start_ms: int, end_ms: int):
        def stream(key: str):
            inst, path = self.paths[key]
            volume = getattr(path, "volume_at", None)  # a replayed candle file's volume
            return [(t, key, price, inst, volume(t) if volume else None)
                    for t, price in path.points(start_ms, end_ms)]

        return heapq.merge(*(stream(key) for key in sorted(self.paths)),
                           key=lambda item: (item[0], item[1]))

    def _timeline(self, start_ms: int, end_ms: int):
        """Path points and funding settlements (inst None) in (start_ms, end_ms], in time order;
        a settlement goes before the path points of its own time."""
        settlements = [(t, "", None, None, None) for t in self.engine.funding_times(start_ms, end_ms)]
        return heapq.merge(settlements, self._due(start_ms, end_ms), key=lambda item: (item[0], item[1]))

    def advance(self, ms: int) -> int:
        """Move a manual clock forward by `ms`, applying every path point on the way.
        Returns how many prices were set."""
        clock = self.engine.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("advancing needs a manual clock")
        if ms < 0:
            raise ValueError("a clock only advances forward")
        with self._lock:
            target = clock.now_ms() + ms
            applied = 0
            for t, _key, price, inst, volume in self._timeline(self.applied_ms, target):
                self.engine.settle_arrivals(t)  # orders due by t reach the book first, each at its time
                clock.set(t)
                if inst is None:
                    self.engine.settle_funding(t)
                    continue
                self.engine.set_mark(inst.venue, inst.market, inst.symbol, price, volume=volume)
                applied += 1
            self.engine.settle_arrivals(target)
            clock.set(target)
            self.applied_ms = target
            return applied

    def catch_up(self) -> int:
        """Apply every path point up to the clock's present (for clocks that move by
        themselves, such as the system clock or a sped-up one)."""
        with self._lock:
            now = self.engine.now_ms()
            applied = 0
            for t, _key, price, inst, volume in self._timeline(self.applied_ms, now):
                self.engine.settle_arrivals(t)  # orders due by t reach the book first
                if inst is None:
                    self.engine.settle_funding(t)
                    continue
                self.engine.set_mark(inst.venue, inst.market, inst.symbol, price, at_ms=t, volume=volume)
                applied += 1
            self.engine.settle_arrivals(now)
            self.applied_ms = max(self.applied_ms, now)
            return applied
