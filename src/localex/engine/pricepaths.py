"""Price paths: where an instrument's mark price is at any moment of market time.

A path is a deterministic function of time (and, for a random walk, of its seed), so the same
seed and the same clock moves give the same prices, byte for byte.

- StaticPath: no movement of its own; the control plane sets prices.
- RandomWalk: a seeded geometric random walk, one step every `step_ms`, with a drift and a
  volatility per hour.
- CandleReplay: replays candles (timestamp, open, high, low, close, volume). Within a candle the
  price visits four points, a quarter of the interval apart: open, then the extreme nearer the
  open's side of the move, then the other extreme, then close — a rising candle (close >= open)
  goes open → low → high → close, a falling one open → high → low → close. After the last
  candle the path stays at its close.
"""

from __future__ import annotations

import bisect
import csv
import math
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Iterable, Protocol

HOUR_MS = 3_600_000
_TWOPI = 2.0 * math.pi  # as random.gauss uses it
_INLINE_GAUSS = hasattr(random.Random(), "gauss_next")
CHECKPOINT_STEPS = 1 << 16  # a random walk keeps its generator's state every this many steps
KEEP_STEPS = 1 << 13  # and its floats from this many steps behind the oldest it was last asked for


class PricePath(Protocol):
    def points(self, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
        """Every (time, price) the path visits in (start_ms, end_ms], in time order."""


class StaticPath:
    def points(self, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
        return []


_EXPONENTS: dict[int, Decimal] = {}


def _quantize(value: float | Decimal, scale: int) -> Decimal:
    exponent = _EXPONENTS.get(scale)
    if exponent is None:
        exponent = _EXPONENTS[scale] = Decimal(1).scaleb(-scale)
    return Decimal(str(value)).quantize(exponent, ROUND_HALF_EVEN)


def _walk(rng, last: float, n: int, a: float, b: float) -> list:
    """The next n prices after `last`: last · exp(a + b · Z) step by step, Z = rng.gauss(0, 1)."""
    out: list = []
    append, exp = out.append, math.exp
    if not _INLINE_GAUSS:
        for _ in range(n):
            last = last * exp(a + b * rng.gauss(0.0, 1.0))
            append(last)
        return out
    # random.gauss(0, 1), inlined: the same Box-Muller pairs from the same uniforms, the second
    # of a pair kept in the generator's gauss_next (tests/test_price_paths.py checks that the
    # floats are the ones rng.gauss draws). (gauss returns mu + z * sigma = 0.0 + z * 1.0, which
    # is z but for the sign of a zero, and exp(a + b * z) is the same for either zero.) A plain
    # loop over local names: cheaper here than mapping each operation over lists.
    uniform, log, sqrt, cos, sin, twopi = rng.random, math.log, math.sqrt, math.cos, math.sin, _TWOPI
    spare, rng.gauss_next = rng.gauss_next, None
    if spare is not None and n > 0:
        last = last * exp(a + b * spare)
        append(last)
        n -= 1
        spare = None
    pairs, odd = divmod(n, 2)
    for _ in range(pairs):
        x2pi = uniform() * twopi
        g2rad = sqrt(-2.0 * log(1.0 - uniform()))
        last = last * exp(a + b * (cos(x2pi) * g2rad))
        append(last)
        last = last * exp(a + b * (sin(x2pi) * g2rad))
        append(last)
    if odd:
        x2pi = uniform() * twopi
        g2rad = sqrt(-2.0 * log(1.0 - uniform()))
        last = last * exp(a + b * (cos(x2pi) * g2rad))
        append(last)
        spare = sin(x2pi) * g2rad
    rng.gauss_next = spare
    return out


class RandomWalk:
    """p[k+1] = p[k] · exp((μ − σ²/2)·dt + σ·√dt·Z[k]), Z[k] ~ N(0, 1) from the seed; dt in hours.

    Step k is at origin_ms + k·step_ms. The path is drawn lazily, in bulk, and only a window of
    it is kept in memory: the floats from a little behind the oldest step the walk last asked
    for up to the newest drawn, plus the generator's state every CHECKPOINT_STEPS steps. A step
    older than the window is drawn again from the checkpoint before it, so any window is
    answered from the same sequence, float for float, and memory stays bounded however long
    the path runs (a checkpoint is ~5 KB: one per 18 hours of one-second steps)."""

    def __init__(self, start_price: Decimal, *, origin_ms: int, seed: int | str, drift: float = 0.0,
                 volatility: float = 0.01, step_ms: int = 1000, price_scale: int = 2) -> None:
        if step_ms <= 0:
            raise ValueError("step_ms must be positive")
        if volatility < 0:
            raise ValueError("volatility cannot be negative")
        self.origin_ms = origin_ms
        self.step_ms = step_ms
        self.drift = drift
        self.volatility = volatility
        self.price_scale = price_scale
        dt = step_ms / HOUR_MS
        self._a, self._b = (drift - volatility * volatility / 2) * dt, volatility * math.sqrt(dt)
        self._rng = random.Random(seed)
        self._base = 0  # the step of self._prices[0]
        self._prices = [float(start_price)]
        # (step, its float, the generator's state after drawing it), every CHECKPOINT_STEPS steps
        self._checkpoints = [(0, self._prices[0], self._rng.getstate())]

    def _extend(self, k: int) -> None:
        """Draw the walk up to step k (the same floats, in the same order, as one at a time),
        noting the generator's state at every checkpoint on the way."""
        prices = self._prices
        top = self._base + len(prices) - 1  # the newest step drawn
        while top < k:
            checkpoint = (top // CHECKPOINT_STEPS + 1) * CHECKPOINT_STEPS
            n = min(k, checkpoint) - top
            prices.extend(_walk(self._rng, prices[-1], n, self._a, self._b))
            top += n
            if top == checkpoint:
                self._checkpoints.append((top, prices[-1], self._rng.getstate()))

    def floats(self, first: int, last: int) -> tuple[list[float], int]:
        """The walk's floats for steps first..last: (a list, the step of its first item), so
        that step k is list[k - offset]. Steps long behind `first` are forgotten."""
        if first < self._base:  # behind the window: drawn again from the checkpoint before it
            at = bisect.bisect_right([c[0] for c in self._checkpoints], first) - 1
            step, price, state = self._checkpoints[at]
            rng = random.Random()
            rng.setstate(state)
            return [price] + _walk(rng, price, max(0, last - step), self._a, self._b), step
        self._extend(last)
        stale = first - KEEP_STEPS - self._base  # keep KEEP_STEPS behind the oldest step asked for
        if stale >= KEEP_STEPS:  # forgotten in batches, not at every call
            del self._prices[:stale]
            self._base += stale
        return self._prices, self._base

    def memory(self) -> tuple[int, int]:
        """(floats kept, checkpoints kept): what the path holds in memory."""
        return len(self._prices), len(self._checkpoints)

    def _price(self, k: int) -> Decimal:
        prices, base = self.floats(k, k)
        return _quantize(prices[k - base], self.price_scale)

    def _steps(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """The steps k of (start_ms, end_ms]: first..last (empty when last < first)."""
        first = max(1, (start_ms - self.origin_ms) // self.step_ms + 1)
        return first, (end_ms - self.origin_ms) // self.step_ms

    def points(self, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
        if end_ms <= start_ms:
            return []
        first, last = self._steps(start_ms, end_ms)
        if last < first:
            return []
        prices, base = self.floats(first, last)
        q, origin, step = self.price_scale, self.origin_ms, self.step_ms
        return [(origin + k * step, _quantize(prices[k - base], q)) for k in range(first, last + 1)]

    def count(self, start_ms: int, end_ms: int) -> int:
        first, last = self._steps(start_ms, end_ms)
        return max(0, last - first + 1) if end_ms > start_ms else 0

    def last_point(self, start_ms: int, end_ms: int) -> tuple[int, Decimal] | None:
        first, last = self._steps(start_ms, end_ms)
        if end_ms <= start_ms or last < first:
            return None
        return self.origin_ms + last * self.step_ms, self._price(last)

    def first_exit(self, start_ms: int, end_ms: int, band, stop_at: int | None = None):
        """The first point of (start_ms, end_ms] outside the band (engine/triggers.py) or at or
        after stop_at; None if there is none. The walk is scanned as floats; only a point
        within a tick of the band's edges is quantized and compared exactly."""
        if end_ms <= start_ms:
            return None
        first, last = self._steps(start_ms, end_ms)
        if last < first:
            return None
        if stop_at is not None:
            stop = max(first, -(-(stop_at - self.origin_ms) // self.step_ms))
            if stop <= last:
                last = stop - 1
        else:
            stop = None
        if band.closed and first <= last:
            return self.origin_ms + first * self.step_ms, self._price(first)
        if first <= last:
            prices, base = self.floats(first, last)
            tick = 10.0 ** -self.price_scale
            lo = float(band.lo) + tick if band.lo is not None else -math.inf
            hi = float(band.hi) - tick if band.hi is not None else math.inf
            i, end = first - base, last - base
            while i <= end:
                block = prices[i:min(end, i + 255) + 1]
                if lo < min(block) and max(block) < hi:  # the whole block is quiet
                    i += len(block)
                    continue
                for j, p in enumerate(block):
                    if lo < p < hi:
                        continue
                    price = _quantize(p, self.price_scale)
                    if not band.quiet(price):
                        return self.origin_ms + (base + i + j) * self.step_ms, price
                i += len(block)
        if stop is not None:
            return self.origin_ms + stop * self.step_ms, self._price(stop)
        return None

    def _spans(self, start_ms: int, end_ms: int, interval_ms: int):
        """(bucket start, step of the span's first float, the span's floats) per interval of
        (start_ms, end_ms]."""
        first, last = self._steps(start_ms, end_ms)
        if end_ms <= start_ms or last < first:
            return
        prices, base = self.floats(first, last)
        origin, step = self.origin_ms, self.step_ms
        k = first
        while k <= last:
            t = origin + k * step
            bucket = t - t % interval_ms
            end_k = min(last, (bucket + interval_ms - 1 - origin) // step)
            yield bucket, k, prices[k - base:end_k - base + 1]
            k = end_k + 1

    def tape_points(self, start_ms: int, end_ms: int, interval_ms: int = 60_000) -> list[tuple[int, Decimal]]:
        """The points of (start_ms, end_ms] that make each interval's bar, in time order: its
        first and last, and the first at its (quantized) high and low. Recording these gives
        the bar recording every point gives."""
        out: list = []
        for _bucket, k, points in self.tape_minutes(start_ms, end_ms, interval_ms):
            out.extend(points)
        return out

    def tape_minutes(self, start_ms: int, end_ms: int, interval_ms: int = 60_000):
        """tape_points per interval: (bucket start, step of its first point, its points)."""
        q, origin, step = self.price_scale, self.origin_ms, self.step_ms
        tick = 10.0 ** -q
        decimal, exponent = Decimal, Decimal(1).scaleb(-q)  # as _quantize quantizes
        for bucket, k, span in self._spans(start_ms, end_ms, interval_ms):
            high, low = max(span), min(span)
            top, bottom = span.index(high), span.index(low)
            # the first point whose price is the bar's (quantized) high may come before the
            # highest float: only one within a tick of it can
            if top and max(span[:top]) > high - tick:
                q_high = _quantize(high, q)
                top = next(i for i, p in enumerate(span) if p > high - tick and _quantize(p, q) == q_high)
            if bottom and min(span[:bottom]) < low + tick:
                q_low = _quantize(low, q)
                bottom = next(i for i, p in enumerate(span) if p < low + tick and _quantize(p, q) == q_low)
            chosen = sorted({0, len(span) - 1, top, bottom})
            yield bucket, k, [(origin + (k + i) * step, decimal(str(span[i])).quantize(exponent, ROUND_HALF_EVEN))
                              for i in chosen]  # _quantize, inlined

    def bars(self, start_ms: int, end_ms: int, interval_ms: int = 60_000) -> list[tuple]:
        """(bucket start, open, high, low, close) of the points in (start_ms, end_ms], per
        interval of market time; from the floats, quantized once per bar (quantizing is
        monotonic, so the extremes are exact)."""
        q = self.price_scale
        return [(bucket, _quantize(span[0], q), _quantize(max(span), q), _quantize(min(span), q),
                 _quantize(span[-1], q)) for bucket, _k, span in self._spans(start_ms, end_ms, interval_ms)]


@dataclass(frozen=True)
class Candle:
    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def path(self, interval_ms: int) -> list[tuple[int, Decimal]]:
        quarter = interval_ms // 4
        first, second = (self.low, self.high) if self.close >= self.open else (self.high, self.low)
        return [(self.ts, self.open), (self.ts + quarter, first), (self.ts + 2 * quarter, second),
                (self.ts + 3 * quarter, self.close)]


def read_candles(source: str | Path | Iterable[str]) -> list[Candle]:
    """CSV rows: timestamp (ms), open, high, low, close, volume; a header row is allowed."""
    lines = Path(source).read_text().splitlines() if isinstance(source, (str, Path)) else list(source)
    candles = []
    for number, row in enumerate(csv.reader(lines), start=1):
        if not row or not "".join(row).strip() or row[0].strip().lower() in ("timestamp", "ts", "time"):
            continue
        if len(row) < 6:
            raise ValueError(f"candle line {number}: {len(row)} field(s); a candle is timestamp "
                             "(ms), open, high, low, close, volume")
        ts, o, h, lo, c, v = (cell.strip() for cell in row[:6])
        try:
            candle = Candle(int(ts), Decimal(o), Decimal(h), Decimal(lo), Decimal(c), Decimal(v))
        except (ValueError, ArithmeticError):
            raise ValueError(f"candle line {number}: the timestamp must be whole milliseconds and "
                             "open, high, low, close, volume decimal numbers") from None
        if not all(x.is_finite() and x >= 0 for x in (candle.open, candle.high, candle.low,
                                                        candle.close, candle.volume)):
            raise ValueError(f"candle line {number}: prices and volume must be finite, not negative")
        if not (candle.low <= min(candle.open, candle.close) and candle.high >= max(candle.open, candle.close)):
            raise ValueError(f"candle at {ts}: high/low do not bound open/close")
        candles.append(candle)
    candles.sort(key=lambda c: c.ts)
    return candles


class CandleReplay:
    """Replays candles, shifted so that the first candle opens at origin_ms."""

    def __init__(self, candles: list[Candle], *, origin_ms: int | None = None,
                 interval_ms: int | None = None) -> None:
        if not candles:
            raise ValueError("no candles to replay")
        self.interval_ms = interval_ms or (candles[1].ts - candles[0].ts if len(candles) > 1 else 60_000)
        shift = 0 if origin_ms is None else origin_ms - candles[0].ts
        self._times: list[int] = []
        self._prices: list[Decimal] = []
        self._volumes: dict[int, Decimal] = {}
        for candle in candles:
            share = candle.volume / 4  # exact: each of the four points carries a quarter
            for t, p in candle.path(self.interval_ms):
                self._times.append(t + shift)
                self._prices.append(p)
                self._volumes[t + shift] = self._volumes.get(t + shift, Decimal(0)) + share
        self.candles = candles
        self.shift = shift

    def volume_at(self, t: int) -> Decimal | None:
        """The candle volume a point carries (a quarter of its candle's), for the market tape."""
        return self._volumes.get(t)

    def points(self, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
        lo = bisect.bisect_right(self._times, start_ms)
        hi = bisect.bisect_right(self._times, end_ms)
        return list(zip(self._times[lo:hi], self._prices[lo:hi]))

    def count(self, start_ms: int, end_ms: int) -> int:
        return max(0, bisect.bisect_right(self._times, end_ms) - bisect.bisect_right(self._times, start_ms))

    def last_point(self, start_ms: int, end_ms: int) -> tuple[int, Decimal] | None:
        lo = bisect.bisect_right(self._times, start_ms)
        hi = bisect.bisect_right(self._times, end_ms)
        return (self._times[hi - 1], self._prices[hi - 1]) if hi > lo else None


def count(path, start_ms: int, end_ms: int) -> int:
    """How many points a path visits in (start_ms, end_ms]."""
    own = getattr(path, "count", None)
    return own(start_ms, end_ms) if own is not None else len(path.points(start_ms, end_ms))


def last_point(path, start_ms: int, end_ms: int) -> tuple[int, Decimal] | None:
    own = getattr(path, "last_point", None)
    if own is not None:
        return own(start_ms, end_ms)
    points = path.points(start_ms, end_ms)
    return points[-1] if points else None


def first_exit(path, start_ms: int, end_ms: int, band, stop_at: int | None = None):
    """The first point of (start_ms, end_ms] outside `band` or at or after stop_at (None: none)."""
    own = getattr(path, "first_exit", None)
    if own is not None:
        return own(start_ms, end_ms, band, stop_at)
    for t, price in path.points(start_ms, end_ms):
        if (stop_at is not None and t >= stop_at) or not band.quiet(price):
            return t, price
    return None


def tape_points(path, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
    """The points of (start_ms, end_ms] the market tape needs for the same one-minute bars as
    from every point (a path that cannot say: every point)."""
    own = getattr(path, "tape_points", None)
    return own(start_ms, end_ms) if own is not None else path.points(start_ms, end_ms)


def bars(path, start_ms: int, end_ms: int, interval_ms: int = 60_000) -> list[tuple]:
    """(bucket start, open, high, low, close) per interval of the points in (start_ms, end_ms]."""
    own = getattr(path, "bars", None)
    if own is not None:
        return own(start_ms, end_ms, interval_ms)
    out: list[list] = []
    for t, price in path.points(start_ms, end_ms):
        bucket = t - t % interval_ms
        if out and out[-1][0] == bucket:
            bar = out[-1]
            bar[2], bar[3], bar[4] = max(bar[2], price), min(bar[3], price), price
        else:
            out.append([bucket, price, price, price, price])
    return [tuple(bar) for bar in out]


def sample_candles() -> list[Candle]:
    """The candle file shipped with localex (a synthetic BTCUSDT day at one-minute candles)."""
    return read_candles(Path(__file__).resolve().parent.parent / "data" / "btcusdt-1m-sample.csv")
