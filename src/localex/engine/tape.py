"""The market tape: every instrument's one-minute bars, its public trades and its order book.

One source of truth for what a bot reads about the market (candles, trades, book, 24-hour
statistics), so that it agrees with what its orders get (fills).

- **Bars.** Every mark price the market takes (Engine.set_mark: the control plane, price paths,
  candle replay, a running clock) is recorded into the instrument's one-minute bar: open, high,
  low and close, each with the time it was taken. The newest bar of each instrument is kept in
  memory (as committed: a unit of work that rolls back changes nothing) and written to the
  store once, when its minute is over, when the tape is flushed (Engine.flush_tape: snapshots,
  shutdown) or, for an older minute, at once; `record` takes any number of points. Real fills add their volume (and stretch the bar's high and low to their price).
  With several processes writing the store nothing is kept between units of work (see
  _committed). Coarser bars are aggregated from the minutes on read, every whole final hour
  folded once and kept (_spans). A minute without a recorded point reads as a flat bar at the
  previous close.
- **Synthetic volume.** So that charts are not empty, each minute carries four seeded synthetic
  prints, at the bar's open, high, low and close (a flat minute: at 0, 15, 30 and 45 seconds);
  their sizes are a function of the engine's seed, the instrument and the minute, so reading
  changes nothing and the same seed gives the same bytes. A minute a replayed candle file gave a
  volume splits that volume over its prints instead, so the file is served back exactly.
- **Trades.** Every real fill is a print (as the taker saw it: the user's side when the user
  took, the other side when the user's resting order made); the synthetic prints are merged in
  on read.
- **Book.** Synthesized from the liquidity fill model's ladder (engine/fills.py): `size` at the
  mark, one `step` further, ... on each side, so that a market buy of the best ask's size fills
  at the best ask and a larger one walks the levels shown. Without a liquidity model the book
  shows a default ladder (DEFAULT_LEVEL_NOTIONAL a level, one tick apart, DEFAULT_BOOK_LEVELS
  levels); orders then fill whole at the mark, which is its best level. The users' own resting
  limit orders are added at their prices and sizes.
- **History** is bounded: bars and prints older than `history_days` (default 30 days) are
  pruned when a new hour of an instrument's market starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Iterable, Iterator, Sequence

from localex.engine.fills import LIQUIDITY, Ladder, size_grid
from localex.engine.ids import ID_FORMATS
from localex.engine.model import (
    ZERO,
    BookLevel,
    Candle,
    Instrument,
    MinuteBar,
    OrderBook,
    PublicTrade,
    Side,
    Stats24h,
)

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
DEFAULT_HISTORY_DAYS = 30
DEFAULT_LEVEL_NOTIONAL = Decimal(20_000)  # quote value of one level of the default book
DEFAULT_BOOK_LEVELS = 150
SYNTHETIC_PRINTS = 4  # per minute
SYNTHETIC_UNIT = Decimal(1) / 20  # a synthetic print is 1..20 of these parts of a default level
MAX_SCAN_MINUTES = 45 * 24 * 60  # the most minutes one read walks (beyond the history kept)
_MASK = (1 << 64) - 1
_PENDING = "_tape_bars"  # the bars a unit of work has touched, kept on it


def _copy(bar: MinuteBar, _new=object.__new__) -> MinuteBar:
    """A copy of a bar (what copy.copy makes of the dataclass, without its detour through
    __reduce_ex__)."""
    twin = _new(MinuteBar)
    twin.__dict__.update(bar.__dict__)
    return twin


def _mix(x: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


@dataclass(frozen=True)
class Interval:
    """A candle length: `length` ms ("ms"), weeks starting Monday ("week") or calendar months
    ("month", `length` months), each aligned in a time zone `offset_ms` east of UTC."""

    unit: str
    length: int
    offset_ms: int = 0

    def start(self, t: int) -> int:
        """The opening time of the candle holding t."""
        off = self.offset_ms
        if self.unit == "ms":
            return (t + off) // self.length * self.length - off
        if self.unit == "week":  # 1970-01-05 was a Monday
            return (t + off - 4 * DAY_MS) // WEEK_MS * WEEK_MS + 4 * DAY_MS - off
        day = dt.datetime.fromtimestamp((t + off) // 1000, dt.timezone.utc)
        months = (day.year * 12 + day.month - 1) // self.length * self.length
        first = dt.datetime(months // 12, months % 12 + 1, 1, tzinfo=dt.timezone.utc)
        return int(first.timestamp()) * 1000 - off

    def next(self, start: int) -> int:
        """The opening time of the candle after the one opening at `start`."""
        if self.unit == "ms":
            return start + self.length
        if self.unit == "week":
            return start + WEEK_MS
        local = dt.datetime.fromtimestamp((start + self.offset_ms) // 1000, dt.timezone.utc)
        months = local.year * 12 + local.month - 1 + self.length
        first = dt.datetime(months // 12, months % 12 + 1, 1, tzinfo=dt.timezone.utc)
        return int(first.timestamp()) * 1000 - self.offset_ms

    def previous(self, start: int) -> int:
        return self.start(start - 1)


@dataclass
class _Minute:
    """One minute as read: its bar (stored or flat) and its prints."""

    ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    base: Decimal
    quote: Decimal
    prints: list  # (time, price, size, k) synthetic prints


class Tape:
    def __init__(self, engine, history_days: int = DEFAULT_HISTORY_DAYS) -> None:
        if history_days <= 0:
            raise ValueError("history is kept for a positive number of days")
        self.engine = engine
        self.retention_ms = history_days * DAY_MS
        # the newest bar per instrument as committed: (bar, in the store, changed since written)
        self._live: dict[str, tuple[MinuteBar, bool, bool]] = {}
        self._pruned: dict[str, int] = {}  # the hour each instrument's history was last cut at
        self._salts: dict[tuple[int, str], int] = {}
        # each instrument's final hours as read, folded into one _Minute (None: no minute):
        # {key: {hour: _Minute | None}}; see _spans
        self._hours: dict[str, dict[int, _Minute | None]] = {}
        self._top: dict[str, int] = {}  # the newest hour folded per instrument
        # other processes write the same store (several workers): nothing is kept unwritten
        # between units of work, and only minutes before the newest stored bar are final
        self.shared = False

    def _sole_writer(self, uow) -> bool:
        """Whether this process is the only one writing the store: not when it is one of several
        workers (`shared`, set by a cluster) or the store says it is not (PostgreSQL)."""
        return not self.shared and getattr(uow.store, "sole_writer", True)

    def forget_folded(self) -> None:
        """Forget the folded hours (another process may have recorded into them: a clock set
        back there)."""
        self._hours.clear()
        self._top.clear()

    def invalidate(self) -> None:
        """Forget what was read: the store changed under us (a snapshot restored, a reset)."""
        self._live.clear()
        self._pruned.clear()
        self._hours.clear()
        self._top.clear()

    # ---- writing ------------------------------------------------------------------------------
    # Each instrument's newest bar lives in memory (self._live, as committed): points and fills
    # change it there, and it is written to the store when its minute is over (the next minute's
    # first point or fill writes it), when the tape is flushed (snapshots, shutdown) — so a
    # price walk writes one bar row per minute touched, not one per point. Reads overlay it.
    def _work(self, uow, key: str) -> list:
        """This unit of work's copy of an instrument's live bar: [bar or None, stored, dirty]."""
        # looked up in the unit's own attributes: getattr on the engine's Recorder would ask the
        # store's unit of work first and pay for its AttributeError (~4 µs a unit of work)
        work = uow.__dict__.get(_PENDING)
        if work is None:
            work = {}
            setattr(uow, _PENDING, work)
            if self._sole_writer(uow):  # see _committed
                uow.on_commit(lambda: self._committed(work))
        entry = work.get(key)
        if entry is None:
            live = self._live.get(key) if self._sole_writer(uow) else None  # see _committed
            entry = work[key] = [_copy(live[0]), live[1], live[2]] if live else [None, False, False]
        return entry

    @staticmethod
    def _store(uow, entry: list) -> None:
        if entry[2]:
            uow.put_bar(entry[0], new=not entry[1])
            entry[1], entry[2] = True, False

    def _minute_bar(self, uow, key: str, minute: int, t: int, price: Decimal) -> tuple[MinuteBar, list | None]:
        """The bar of `minute` to change, and the live entry it is (None: an older minute's bar,
        to be written at once)."""
        top = self._top.get(key)
        if top is not None and minute < top + HOUR_MS:  # a minute a folded hour holds (a clock
            self._unfold(key, minute)  # set back): read it again
        entry = self._work(uow, key)
        if entry[0] is None:  # a cold start: the newest stored bar is the live one
            last = uow.last_bar_ts(key)
            if last is not None:
                entry[:] = [uow.get_bar(key, last), True, False]
        bar = entry[0]
        if bar is not None and bar.ts == minute:
            entry[2] = True
            return bar, entry
        if bar is None or bar.ts < minute:
            self._store(uow, entry)
            entry[:] = [MinuteBar(key, minute, price, price, price, price, t, t, t, t), False, True]
            hour = minute // HOUR_MS
            if self._pruned.get(key) != hour:  # history is cut once an hour of market time
                cutoff = minute - self.retention_ms
                uow.prune_tape(key, cutoff)
                uow.on_commit(lambda: self._cut(key, hour, cutoff))
            return entry[0], entry
        # a point in an older minute (a clock set back): that bar is changed in the store
        self._store(uow, entry)
        old = uow.get_bar(key, minute)
        if old is None:
            old = MinuteBar(key, minute, price, price, price, price, t, t, t, t)
            uow.put_bar(old, new=True)
        return old, None

    def _cut(self, key: str, hour: int, cutoff: int) -> None:
        """History before cutoff is gone: so are the hours folded from it."""
        self._pruned[key] = hour
        hours = self._hours.get(key)
        if hours:
            for old in [h for h in hours if h < cutoff]:
                del hours[old]
            if not hours:
                self._top.pop(key, None)

    def _unfold(self, key: str, minute: int) -> None:
        """Forget the folded hours from the one holding `minute` on."""
        hours = self._hours.get(key, {})
        for hour in [h for h in hours if h + HOUR_MS > minute]:
            del hours[hour]
        if hours:
            self._top[key] = max(hours)
        else:
            self._top.pop(key, None)

    def _committed(self, work: dict) -> None:
        """The unit of work committed: its live bars are the newest as committed. (With several
        processes writing to one store the live bar is not kept: each unit of work reads the
        newest bar from the store and writes what it changed before it commits, so no process
        holds a minute the others cannot read.)"""
        for key, entry in work.items():
            if entry[0] is not None:
                self._live[key] = (entry[0], entry[1], entry[2])

    def flush(self, uow) -> None:
        """Write every live bar the store has not seen yet."""
        for key in sorted(self._live):
            self._store(uow, self._work(uow, key))

    def record(self, uow, inst: Instrument, points: Iterable[tuple[int, Decimal]],
               volumes: Sequence[Decimal | None] | None = None) -> None:
        """Record the mark prices an instrument took, (time, price) in time order, with the
        volume a replayed candle file gave each (or None)."""
        key = inst.key
        bar = entry = minute = None
        for i, (t, price) in enumerate(points):
            if t - t % MINUTE_MS != minute:  # the minute's bar is looked up once, not per point
                if bar is not None and entry is None:
                    uow.put_bar(bar, new=False)
                minute = t - t % MINUTE_MS
                bar, entry = self._minute_bar(uow, key, minute, t, price)
            bar.add(t, price)
            if volumes is not None:
                volume = volumes[i]
                if volume is not None:
                    bar.path_volume = (bar.path_volume or ZERO) + volume
        if bar is not None and entry is None:
            uow.put_bar(bar, new=False)
        elif entry is not None and not self._sole_writer(uow):
            self._store(uow, entry)  # several writers: nothing stays unwritten past this unit

    def on_fill(self, uow, inst: Instrument, taker_side: Side, price: Decimal, size: Decimal,
                t: int, trade_id: int) -> None:
        """A real fill: a print on the tape and volume in its minute."""
        key = inst.key
        uow.insert_public_trade(PublicTrade(trade_id, key, t, taker_side, price, size))
        minute = t - t % MINUTE_MS
        mark = uow.get_mark(key)
        bar, entry = self._minute_bar(uow, key, minute, t, mark.price if mark is not None else price)
        if price > bar.high:
            bar.high, bar.high_ms = price, t
        if price < bar.low:
            bar.low, bar.low_ms = price, t
        bar.fill_base += size
        bar.fill_quote += price * size
        bar.fills += 1
        if entry is None:
            uow.put_bar(bar, new=False)
        elif not self._sole_writer(uow):
            self._store(uow, entry)

    def _overlay(self, key: str) -> MinuteBar | None:
        """The live bar, when the store does not hold it as it is."""
        live = self._live.get(key)
        return live[0] if live is not None and live[2] else None

    def _first_ts(self, uow, key: str) -> int | None:
        first = uow.first_bar_ts(key)
        live = self._overlay(key)
        if live is not None and (first is None or live.ts < first):
            return live.ts
        return first

    # ---- synthetic prints ------------------------------------------------------------------------
    def _salt(self, key: str) -> int:
        seed = self.engine.seed
        salt = self._salts.get((seed, key))
        if salt is None:
            digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
            salt = self._salts[(seed, key)] = int.from_bytes(digest, "big")
        return salt

    @staticmethod
    def level_size(inst: Instrument, price: Decimal) -> Decimal:
        """The default book's size per level at a price: DEFAULT_LEVEL_NOTIONAL on the size grid."""
        grid = size_grid(inst)
        if price <= 0:
            return grid
        return max((DEFAULT_LEVEL_NOTIONAL / price / grid).to_integral_value(ROUND_DOWN) * grid, grid)

    def _synthetic(self, inst: Instrument, minute: int, points: list[tuple[int, Decimal]],
                   given: Decimal | None, now: int) -> list[tuple[int, Decimal, Decimal, int]]:
        if given is not None:
            if given <= 0:
                return []
            grid = Decimal(1).scaleb(-inst.size_scale)
            part = (given / len(points)).quantize(grid, ROUND_DOWN)
            sizes = [part] * (len(points) - 1) + [given - part * (len(points) - 1)]
        else:
            grid = size_grid(inst)
            unit = max((self.level_size(inst, points[-1][1]) * SYNTHETIC_UNIT / grid)
                       .to_integral_value(ROUND_DOWN) * grid, grid)
            base = self._salt(inst.key) ^ (minute // MINUTE_MS * SYNTHETIC_PRINTS)
            sizes = [unit * (1 + _mix(base + k) % 20) for k in range(len(points))]
        return [(t, p, size, k) for k, ((t, p), size) in enumerate(zip(points, sizes)) if t <= now]

    def _minutes(self, uow, inst: Instrument, start: int, end: int, now: int,
                 with_prints: bool = False) -> Iterator[_Minute]:
        """Every minute from `start` to `end` (minute times, inclusive) that the tape covers, up
        to now: stored bars, and flat minutes between them at the previous close."""
        key = inst.key
        now_minute = now - now % MINUTE_MS
        end = min(end, now_minute)
        start = max(start, end - MAX_SCAN_MINUTES * MINUTE_MS)
        if end < start:
            return
        bars = uow.list_bars(key, start, end + MINUTE_MS)
        live = self._overlay(key)
        if live is not None and start <= live.ts <= end:
            if bars and bars[-1].ts == live.ts:
                bars[-1] = live
            elif not bars or bars[-1].ts < live.ts:
                bars.append(live)
        prev = uow.bar_before(key, start) if not bars or bars[0].ts > start else None
        if live is not None and live.ts < start and (prev is None or live.ts >= prev.ts):
            prev = live
        if prev is None:
            if not bars:
                return
            start = bars[0].ts
            close = bars[0].open
        else:
            close = prev.close
        index = 0
        minute = start
        while minute <= end:
            if index < len(bars) and bars[index].ts == minute:
                bar = bars[index]
                index += 1
                points = sorted([(bar.open_ms, bar.open), (bar.high_ms, bar.high),
                                 (bar.low_ms, bar.low), (bar.close_ms, bar.close)], key=lambda p: p[0])
                prints = self._synthetic(inst, minute, points, bar.path_volume, now)
                base, quote = bar.fill_base, bar.fill_quote
                for _t, p, size, _k in prints:
                    base += size
                    quote += p * size
                close = bar.close
                yield _Minute(minute, bar.open, bar.high, bar.low, bar.close, base, quote,
                              prints if with_prints else [])
            else:
                points = [(minute + k * 15_000, close) for k in range(SYNTHETIC_PRINTS)]
                prints = self._synthetic(inst, minute, points, None, now)
                base = sum((size for _t, _p, size, _k in prints), ZERO)
                yield _Minute(minute, close, close, close, close, base, base * close,
                              prints if with_prints else [])
            minute += MINUTE_MS

    def _spans(self, uow, inst: Instrument, start: int, end: int, now: int) -> Iterator[_Minute]:
        """What _minutes yields, but with every whole hour that is final folded into one
        _Minute (the hour's open, high, low, close and volumes, at its first minute), kept in
        memory once read: a read of many minutes costs the hours it spans plus the minutes of
        the hours at its ends. A minute is final once a later minute has a bar (nothing is
        recorded in the past, but by a clock set back, which forgets the folded hours); with
        several processes that is a bar in the store, so a process that does not run the
        market folds only what the market process has written. Folding is exact: volumes are
        sums of exact decimals, and high / low keep the first of equal extremes, as candles do."""
        key = inst.key
        now_minute = now - now % MINUTE_MS
        end = min(end, now_minute)
        start = max(start, end - MAX_SCAN_MINUTES * MINUTE_MS)
        if end < start:
            return
        # every minute before `final` is final: before now when this process is the only one
        # writing (it overlays the minute it has not written yet); else before the newest bar
        # in the store (another process may be recording the minute after it)
        final = now_minute if self._sole_writer(uow) else uow.last_bar_ts(key)
        first = self._first_ts(uow, key) if final is not None else None
        if final is None or first is None:
            yield from self._minutes(uow, inst, start, end, now)
            return
        lo = max(-(-start // HOUR_MS), -(-first // HOUR_MS)) * HOUR_MS  # whole hours from here
        hi = min(end + MINUTE_MS, final, now_minute) // HOUR_MS * HOUR_MS  # ... up to here
        if hi <= lo:
            yield from self._minutes(uow, inst, start, end, now)
            return
        if start < lo:
            yield from self._minutes(uow, inst, start, lo - MINUTE_MS, now)
        hours = self._hours.setdefault(key, {})
        hour = lo
        while hour < hi:
            if hour in hours:
                folded = hours[hour]
                if folded is not None:
                    yield folded
                hour += HOUR_MS
                continue
            run = hour  # the hours not folded yet, read in one pass
            while run < hi and run not in hours:
                run += HOUR_MS
            folded_run: dict[int, _Minute | None] = dict.fromkeys(range(hour, run, HOUR_MS))
            acc: _Minute | None = None  # (None: an hour without a minute)
            for m in self._minutes(uow, inst, hour, run - MINUTE_MS, now):
                if acc is None or m.ts - m.ts % HOUR_MS != acc.ts:  # every hour from its first
                    acc = folded_run[m.ts - m.ts % HOUR_MS] = _Minute(  # minute (lo >= first)
                        m.ts, m.open, m.high, m.low, m.close, m.base, m.quote, [])
                else:
                    acc.high = max(acc.high, m.high)
                    acc.low = min(acc.low, m.low)
                    acc.close = m.close
                    acc.base += m.base
                    acc.quote += m.quote
            hours.update(folded_run)  # kept only once the whole run is read
            if self._top.get(key, -1) < run - HOUR_MS:
                self._top[key] = run - HOUR_MS
            yield from (folded for folded in folded_run.values() if folded is not None)
            hour = run
        if hi <= end:
            yield from self._minutes(uow, inst, hi, end, now)

    # ---- reading ------------------------------------------------------------------------------
    def candles(self, uow, inst: Instrument, interval: Interval, now: int, start: int | None = None,
                end: int | None = None, limit: int = 100, kind: str = "market") -> list[Candle]:
        """Up to `limit` candles, oldest first: the newest whose opening time is in
        [start, end] (end default now; a candle still forming is included). kind "market" is
        the tape; "mark" and "index" are the same prices (localex has one price per
        instrument) without volume."""
        end = now if end is None or end > now else end
        if start is not None and start > end:
            return []
        first = self._first_ts(uow, inst.key)
        if first is None or limit <= 0:
            return []
        floor = max(interval.start(first), interval.start(start if start is not None else first),
                    interval.start(now - self.retention_ms - DAY_MS))
        if start is not None and interval.start(start) < start:
            floor = max(floor, interval.next(interval.start(start)))
        opens = []
        bucket = interval.start(end)
        while bucket >= floor and len(opens) < limit:
            opens.append(bucket)
            bucket = interval.previous(bucket)
        if not opens:
            return []
        opens.reverse()
        out: list[Candle] = []
        bounds = opens + [interval.next(opens[-1])]
        index = 0
        acc: list | None = None
        hourly = interval.unit != "ms" or interval.length % HOUR_MS == 0
        read = self._spans if hourly and interval.offset_ms % HOUR_MS == 0 else self._minutes
        for m in read(uow, inst, opens[0], bounds[-1] - MINUTE_MS, now):
            while m.ts >= bounds[index + 1]:
                if acc is not None:
                    out.append(_candle(acc, kind))
                    acc = None
                index += 1
            if acc is None:
                acc = [bounds[index], m.open, m.high, m.low, m.close, m.base, m.quote]
            else:
                acc[2] = max(acc[2], m.high)
                acc[3] = min(acc[3], m.low)
                acc[4] = m.close
                acc[5] += m.base
                acc[6] += m.quote
        if acc is not None:
            out.append(_candle(acc, kind))
        return out

    def trades(self, uow, inst: Instrument, now: int, start: int | None = None,
               end: int | None = None, limit: int = 100,
               before_id: int | None = None) -> list[PublicTrade]:
        """Up to `limit` prints, newest first, with start <= time <= end (end default now),
        older than trade id before_id if given: real fills and the synthetic prints."""
        end = now if end is None or end > now else end
        first = self._first_ts(uow, inst.key)
        if first is None or limit <= 0:
            return []
        floor = max(first, start if start is not None else first, now - self.retention_ms)
        per_ms = ID_FORMATS[inst.venue].per_ms if inst.venue in ID_FORMATS else 1_000_000
        out: list[PublicTrade] = []
        window_end = end - end % MINUTE_MS
        window = 240 * MINUTE_MS
        while window_end >= floor - floor % MINUTE_MS and len(out) < limit:
            window_start = max(window_end - window + MINUTE_MS, floor - floor % MINUTE_MS)
            found = uow.list_public_trades(inst.key, window_start, min(end, window_end + MINUTE_MS - 1))
            for m in self._minutes(uow, inst, window_start, window_end, now, with_prints=True):
                previous = m.open
                for t, price, size, k in m.prints:
                    side = Side.BUY if price > previous or (price == previous and k % 2 == 0) else Side.SELL
                    previous = price
                    found.append(PublicTrade(t * per_ms + per_ms // 2 + k, inst.key, t, side, price,
                                             size, synthetic=True))
            found.sort(key=lambda tr: (tr.ts, tr.trade_id), reverse=True)
            for tr in found:
                if tr.ts > end or (start is not None and tr.ts < start) or tr.ts < floor:
                    continue
                if before_id is not None and tr.trade_id >= before_id:
                    continue
                out.append(tr)
                if len(out) >= limit:
                    break
            window_end = window_start - MINUTE_MS
        return out

    def book(self, uow, inst: Instrument, depth: int, now: int) -> OrderBook:
        """The order book: the fill model's ladder around the mark, the users' resting limit
        orders added at their prices; `depth` levels a side."""
        mark_row = uow.get_mark(inst.key)
        if mark_row is None or depth <= 0:
            return OrderBook((), (), now)
        mark = mark_row.price
        model = self.engine.fill_models.for_instrument(uow, inst)
        if model.kind == LIQUIDITY:
            ladder = Ladder.of(model, inst)
        else:
            ladder = Ladder(size=self.level_size(inst, mark), step=Decimal(1).scaleb(-inst.price_scale),
                            levels=max(DEFAULT_BOOK_LEVELS, depth))
        asks: dict[Decimal, Decimal] = {}
        bids: dict[Decimal, Decimal] = {}
        for levels, side in ((asks, Side.BUY), (bids, Side.SELL)):
            # the ladder's prices run outwards (a price may repeat): past its depth-th distinct
            # price none can be among the best `depth` levels
            for price in ladder.prices(inst, side, mark):
                if price not in levels and len(levels) >= depth:
                    break
                levels[price] = levels.get(price, ZERO) + ladder.size
        for side, price, size in uow.resting_limits(inst):
            levels = bids if side is Side.BUY else asks
            levels[price] = levels.get(price, ZERO) + size
        return OrderBook(
            bids=tuple(BookLevel(p, bids[p]) for p in sorted(bids, reverse=True)[:depth]),
            asks=tuple(BookLevel(p, asks[p]) for p in sorted(asks)[:depth]),
            ts=now)

    def stats_24h(self, uow, inst: Instrument, now: int) -> Stats24h | None:
        mark_row = uow.get_mark(inst.key)
        if mark_row is None:
            return None
        last = mark_row.price
        since = now - DAY_MS
        midnight = now - now % DAY_MS
        open_ = open_utc = None
        high = low = last
        base = quote = ZERO
        for m in self._spans(uow, inst, -(-since // MINUTE_MS) * MINUTE_MS, now, now):
            if open_ is None:
                open_ = m.open
            if open_utc is None and m.ts >= midnight:
                open_utc = m.open
            high = max(high, m.high)
            low = min(low, m.low)
            base += m.base
            quote += m.quote
        book = self.book(uow, inst, 1, now)
        return Stats24h(last=last, open=open_ if open_ is not None else last, high=high, low=low,
                        base_volume=base, quote_volume=quote,
                        open_utc=open_utc if open_utc is not None else last,
                        bid=book.bids[0] if book.bids else None, ask=book.asks[0] if book.asks else None,
                        ts=now)




def _candle(acc: list, kind: str) -> Candle:
    if kind != "market":
        return Candle(acc[0], acc[1], acc[2], acc[3], acc[4], ZERO, ZERO)
    return Candle(*acc)
