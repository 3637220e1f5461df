"""Moving the market along price paths.

A Simulation holds a price path per instrument. Advancing market time walks every path's
points in time order (instruments interleaved; same-time points in instrument order) and sets
each as the mark price, so every order, trigger, stop and liquidation a point crosses fires,
in price order within the move, exactly as when the control plane sets a price. With a manual
clock the clock is set to each point's time as it is applied, so what fires carries that time.
Funding settles at each settlement time on the way (Engine.funding_times), in the same time
order, before the path points of that same time. Orders a latency fill model holds back
arrive at their due times on the way (Engine.settle_arrivals), before anything else at that time.

The walk costs what it fires, not how many points it passes (engine/triggers.py): for each
instrument the levels of everything that could fire give a band of quiet prices, and a stretch
of points inside every band (up to the next point outside one, the next funding time, the next
arrival) is applied as one step: each instrument's mark becomes its last point there, with that
point's time, in one transaction — the same state, event for event, as setting every point in
turn, because a point inside the band fires nothing. Points outside a band are applied exactly
as before, one by one. Bands are read again whenever a committed unit of work changed more than
mark prices (SqlStore.changes).

Every price the walk passes stays visible. The market tape (engine/tape.py) records each quiet
stretch in the same transaction as its marks, from the points that make each minute's bar (its
first and last points and the first points at its high and low: the bar is the same as from
every point); and `listeners` are called with a Segment per instrument and stretch (and per
single point applied one by one), from which the points or per-interval bars can be read.

Walk steps end at clean cuts of market time (everything up to a time applied, nothing after),
so a long walk can run in slices with requests served in between (Walk.step / Walk.pause), and a
running clock's catch-up can stop at a budget and resume on the next tick.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from localex.engine import pricepaths
from localex.engine.clock import ManualClock
from localex.engine.model import Instrument
from localex.engine.pricepaths import HOUR_MS, PricePath

MAX_STEP_MS = 5 * 60_000  # the longest stretch of market time one step covers (a slice is at least one)


@dataclass(frozen=True)
class Segment:
    """The points one instrument's path visited in (start_ms, end_ms] during a walk."""

    inst: Instrument
    path: PricePath
    start_ms: int
    end_ms: int

    def points(self):
        return self.path.points(self.start_ms, self.end_ms)

    def bars(self, interval_ms: int = 60_000):
        """(bucket start, open, high, low, close) per interval of market time."""
        return pricepaths.bars(self.path, self.start_ms, self.end_ms, interval_ms)


class Walk:
    """One walk of market time over (start_ms, end_ms], step by step."""

    def __init__(self, sim: "Simulation", start_ms: int, end_ms: int, manual: bool) -> None:
        self.sim, self.engine = sim, sim.engine
        self.end_ms, self.manual = end_ms, manual
        self.position = start_ms  # every point and settlement up to here is applied
        self.paths = {key: sim.paths[key] for key in sorted(sim.paths)}
        self.fundings = [t for t in self.engine.funding_times(start_ms, end_ms)]
        self.fi = 0
        self.deferred: dict[str, tuple[Instrument, int, object]] = {}
        self.tape: dict[str, tuple[Instrument, list, list | None]] = {}  # points the tape is owed
        self.bands: dict[str, object] = {}
        self.changes: object = None
        self.applied = 0

    # ---- bands ----------------------------------------------------------------------------
    def _band(self, key: str, inst: Instrument):
        changes = getattr(self.engine.store, "changes", None)
        if changes is None or changes != self.changes:
            self.bands.clear()
            self.changes = changes
        band = self.bands.get(key)
        if band is None:
            band = self.bands[key] = self.engine.quiet_band(inst)
            if changes is None:
                self.bands.pop(key)  # a store that cannot say when it changed: read every time
        return band

    def _arrival(self):
        return self.engine.next_arrival_ms()

    def _notify(self, inst: Instrument, path, start_ms: int, end_ms: int) -> None:
        for listener in self.sim.listeners:
            listener(Segment(inst, path, start_ms, end_ms))

    # ---- applying ---------------------------------------------------------------------------
    def _owe_tape(self, key: str, inst: Instrument, path, points: list) -> None:
        """Points applied quietly, for the market tape (recorded when the marks are written)."""
        entry = self.tape.get(key)
        if entry is None:
            volumes = [] if getattr(path, "volume_at", None) is not None else None
            entry = self.tape[key] = (inst, [], volumes)
        entry[1].extend(points)
        if entry[2] is not None:
            entry[2].extend(path.volume_at(t) for t, _price in points)

    def flush(self) -> None:
        """Write the marks of the quiet stretches applied so far (and their points on the tape)."""
        if self.deferred:
            now = None if self.manual else self.engine.now_ms()
            marks = [(inst, price, t if now is None else now) for inst, t, price in self.deferred.values()]
            tape = [(inst, points if now is None else [(now, p) for _t, p in points], volumes)
                    for inst, points, volumes in self.tape.values()]
            self.deferred.clear()
            self.tape.clear()
            self.engine.set_quiet_marks(marks, tape, self.changes)

    def _real(self, t: int) -> None:
        """Before something is applied for real: the quiet marks, then orders due by t."""
        self.flush()
        self.engine.settle_arrivals(t)
        if self.manual:
            self.engine.clock.set(t)

    def step(self) -> bool:
        """Apply the next stretch: the quiet points up to just before the next time something
        may fire, then everything at that time. False once the walk has reached its end."""
        start = self.position
        if start >= self.end_ms:
            return False
        cut = min(self.end_ms, start + MAX_STEP_MS)
        if self.fi < len(self.fundings):
            cut = min(cut, self.fundings[self.fi])
        arrival = self._arrival()
        for key, (inst, path) in self.paths.items():
            if cut <= start + 1:
                break
            hit = pricepaths.first_exit(path, start, cut, self._band(key, inst), stop_at=arrival)
            if hit is not None:
                cut = min(cut, hit[0])
        # 1. quiet: every point in (start, cut - 1]
        if cut - 1 > start:
            for key, (inst, path) in self.paths.items():
                last = pricepaths.last_point(path, start, cut - 1)
                if last is not None:
                    self.deferred[key] = (inst, last[0], last[1])
                    self._owe_tape(key, inst, path, pricepaths.tape_points(path, start, cut - 1))
                    self.applied += pricepaths.count(path, start, cut - 1)
                    if self.sim.listeners:
                        self._notify(inst, path, start, cut - 1)
        # 2. everything at time cut, in timeline order: a settlement, then each instrument's point
        if self.fi < len(self.fundings) and self.fundings[self.fi] == cut:
            self._real(cut)
            self.engine.settle_funding(cut)
            self.fi += 1
        for key, (inst, path) in self.paths.items():
            point = pricepaths.last_point(path, cut - 1, cut)
            if point is None:
                continue
            arrival = self._arrival()
            if (arrival is None or arrival > cut) and self._band(key, inst).quiet(point[1]):
                self.deferred[key] = (inst, point[0], point[1])
                self._owe_tape(key, inst, path, [point])
            else:
                self._real(cut)
                volume_at = getattr(path, "volume_at", None)
                volume = volume_at(cut) if volume_at is not None else None
                self.engine.set_mark(inst.venue, inst.market, inst.symbol, point[1],
                                     at_ms=None if self.manual else cut, volume=volume)
            self.applied += 1
            if self.sim.listeners:
                self._notify(inst, path, cut - 1, cut)
        self.position = cut
        return cut < self.end_ms

    def pause(self) -> None:
        """A clean cut: the quiet marks written, a manual clock at the walk's position."""
        self.flush()
        clock = self.engine.clock
        if self.manual and clock.now_ms() < self.position:
            clock.set(self.position)


class Simulation:
    def __init__(self, engine) -> None:
        self.engine = engine
        self.paths: dict[str, tuple[Instrument, PricePath]] = {}
        self.applied_ms = engine.now_ms()  # every path point up to here has been applied
        self.listeners: list = []  # called with a Segment for every stretch of points applied
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

    def start_advance(self, ms: int) -> Walk:
        """A walk moving a manual clock forward by `ms`; run it with step(), end it with
        finish_advance()."""
        clock = self.engine.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("advancing needs a manual clock")
        if ms < 0:
            raise ValueError("a clock only advances forward")
        return Walk(self, self.applied_ms, clock.now_ms() + ms, manual=True)

    def finish_advance(self, walk: Walk) -> int:
        """Apply whatever is left of the walk; returns how many prices were set."""
        while walk.step():
            pass
        walk.flush()
        self.engine.settle_arrivals(walk.end_ms)
        self.engine.clock.set(walk.end_ms)
        self.applied_ms = walk.end_ms
        return walk.applied

    def advance(self, ms: int) -> int:
        """Move a manual clock forward by `ms`, applying every path point on the way.
        Returns how many prices were set."""
        with self._lock:
            return self.finish_advance(self.start_advance(ms))

    def advancing(self, ms: int):
        """advance() in slices: a generator that yields at each clean cut (the marks written, the
        clock at the cut), so that whoever drives it may serve requests in between; its return
        value is how many prices were set. What happens in between is seen by the rest of the
        walk, as if it had arrived at that market time."""
        walk = self.start_advance(ms)
        while walk.step():
            walk.pause()
            try:
                yield walk.position
            except GeneratorExit:  # stopped at this cut: every point up to it is applied
                self.applied_ms = max(self.applied_ms, walk.position)
                raise
        return self.finish_advance(walk)

    def catch_up(self, budget_s: float | None = None) -> int:
        """Apply every path point up to the clock's present (for clocks that move by
        themselves, such as the system clock or a sped-up one). With a budget, stop at the
        first clean cut after budget_s seconds of work; the next call goes on from there."""
        with self._lock:
            now = self.engine.now_ms()
            walk = Walk(self, self.applied_ms, now, manual=False)
            deadline = None if budget_s is None else time.perf_counter() + budget_s
            while walk.step():
                if deadline is not None and time.perf_counter() >= deadline:
                    walk.flush()
                    self.applied_ms = max(self.applied_ms, walk.position)
                    return walk.applied
            walk.flush()
            self.engine.settle_arrivals(now)
            self.applied_ms = max(self.applied_ms, now)
            return walk.applied
