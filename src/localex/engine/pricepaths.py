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


class PricePath(Protocol):
    def points(self, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
        """Every (time, price) the path visits in (start_ms, end_ms], in time order."""


class StaticPath:
    def points(self, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
        return []


def _quantize(value: float | Decimal, scale: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-scale), ROUND_HALF_EVEN)


class RandomWalk:
    """p[k+1] = p[k] · exp((μ − σ²/2)·dt + σ·√dt·Z[k]), Z[k] ~ N(0, 1) from the seed; dt in hours.

    Step k is at origin_ms + k·step_ms; the path is extended lazily and kept, so any window
    is answered from the same sequence."""

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
        self._rng = random.Random(seed)
        self._prices = [float(start_price)]

    def _price(self, k: int) -> Decimal:
        dt = self.step_ms / HOUR_MS
        mu, sigma = self.drift, self.volatility
        while len(self._prices) <= k:
            z = self._rng.gauss(0.0, 1.0)
            last = self._prices[-1]
            self._prices.append(last * math.exp((mu - sigma * sigma / 2) * dt + sigma * math.sqrt(dt) * z))
        return _quantize(self._prices[k], self.price_scale)

    def points(self, start_ms: int, end_ms: int) -> list[tuple[int, Decimal]]:
        if end_ms <= start_ms:
            return []
        first = max(1, (start_ms - self.origin_ms) // self.step_ms + 1)
        last = (end_ms - self.origin_ms) // self.step_ms
        return [(self.origin_ms + k * self.step_ms, self._price(k)) for k in range(first, last + 1)]


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
    for row in csv.reader(lines):
        if not row or row[0].strip().lower() in ("timestamp", "ts", "time"):
            continue
        ts, o, h, lo, c, v = (cell.strip() for cell in row[:6])
        candle = Candle(int(ts), Decimal(o), Decimal(h), Decimal(lo), Decimal(c), Decimal(v))
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


def sample_candles() -> list[Candle]:
    """The candle file shipped with localex (a synthetic BTCUSDT day at one-minute candles)."""
    return read_candles(Path(__file__).resolve().parent.parent / "data" / "btcusdt-1m-sample.csv")
