"""Bitget V2 WebSocket public channels (spot/websocket/public and contract/websocket/public):
ticker, candle<interval>, books / books1 / books5 / books15, trade.

What they show comes from the engine: the mark price (every mark move is an event), and the
trades users make (each fill is one print, on the taker's side). Until the engine keeps a market
tape of its own, this module keeps what the streams need since the server started: the candle
forming per interval (open, high, low, close of the marks seen, the fills' volume) and the last
trades per instrument. The book is the one the fill model trades against: levels one tick apart
from the mark outwards, the best bid and the best ask at the mark itself (where market orders
fill), the same size at every level (the liquidity model's size where one is set, else about
100,000 in the quote coin).

`books` sends a full snapshot, then `update` deltas (changed levels; a size of "0" removes one)
with a rising `seq` and Bitget's checksum: CRC32, as a signed 32-bit integer, of the first 25
levels interleaved bid:size:ask:size with the prices and sizes exactly as sent. `books1/5/15`
send a snapshot every time.
"""

from __future__ import annotations

import threading
import zlib
from collections import deque
from decimal import ROUND_DOWN, Decimal

from localex.engine.events import EventKind
from localex.engine.fills import Ladder
from localex.engine.model import Instrument, Liquidity, Side
from localex.venues.bitget import fmt
from localex.venues.bitget.contract_market import next_funding
from localex.venues.bitget.ws_common import (
    CANDLE_INTERVALS,
    FUTURES_TYPES,
    INST_TYPES,
    MARKET_TYPES,
    Channel,
    Sub,
    channel,
)

VENUE = "bitget"
BOOK_LEVELS = 50  # levels a side in the `books` channel
CHECKSUM_LEVELS = 25
LEVEL_VALUE = Decimal(100_000)  # quote value of a level, when no liquidity model says otherwise
RECENT_TRADES = 50
DEPTHS = {"books1": 1, "books5": 5, "books15": 15}
UTC8_MS = 8 * 3_600_000


def checksum(bids: list, asks: list) -> int:
    parts = []
    for i in range(CHECKSUM_LEVELS):
        if i < len(bids):
            parts += bids[i]
        if i < len(asks):
            parts += asks[i]
    value = zlib.crc32(":".join(parts).encode())
    return value - (1 << 32) if value >= 1 << 31 else value


class PublicFeed:
    """The public side of BitgetStreams."""

    def __init__(self, streams) -> None:
        self.streams = streams
        self.engine = streams.engine
        self._lock = threading.RLock()
        self.books: dict[tuple, tuple[dict, dict, int]] = {}  # topic -> (bids, asks, seq) as sent
        self.candles: dict[tuple, list] = {}  # (inst key, interval) -> [start, o, h, l, c, vol, quote]
        self.trades: dict[str, deque] = {}

    # look-ups ----------------------------------------------------------------------------------
    def inst(self, inst_type: str, inst_id: str) -> Instrument | None:
        market = "spot" if inst_type == "SPOT" else FUTURES_TYPES.get(inst_type)
        return self.engine.instrument(VENUE, market, inst_id) if market else None

    def known(self, inst_type: str, inst_id: str) -> bool:
        return self.inst(inst_type, inst_id) is not None

    def mark(self, inst: Instrument) -> Decimal:
        return self.engine.mark(inst) or Decimal(0)

    # rows ----------------------------------------------------------------------------------------
    def price(self, inst: Instrument, value: Decimal) -> str:
        return format(value.quantize(Decimal(1).scaleb(-inst.price_scale)), "f")

    def size(self, inst: Instrument, value: Decimal) -> str:
        return format(value.quantize(Decimal(1).scaleb(-inst.size_scale)), "f")

    def ticker_row(self, inst: Instrument) -> dict:
        mark = self.mark(inst)
        last = self.price(inst, mark)
        level = self.size(inst, self.level_size(inst))
        candle = self._candle(inst, "1D", mark, self.engine.now_ms())
        o, h, lo, vol, quote = candle[1], candle[2], candle[3], candle[5], candle[6]
        change = (mark - o) / o if o else Decimal(0)
        row = {"instId": inst.symbol, "lastPr": last, "open24h": self.price(inst, o),
               "high24h": self.price(inst, h), "low24h": self.price(inst, lo),
               "change24h": fmt.trimmed_half_up(change, 5), "bidPr": last, "askPr": last,
               "bidSz": level, "askSz": level, "baseVolume": fmt.plain(vol),
               "quoteVolume": fmt.plain(quote), "openUtc": self.price(inst, o),
               "changeUtc24h": fmt.trimmed_half_up(change, 5), "ts": str(self.engine.now_ms())}
        if inst.is_contract:
            row.update({"fundingRate": fmt.plain(inst.funding_rate),
                        "nextFundingTime": str(next_funding(inst, self.engine.now_ms())),
                        "markPrice": last, "indexPrice": last, "holdingAmount": "0",
                        "symbolType": 1, "symbol": inst.symbol, "deliveryPrice": "0"})
        return row

    def level_size(self, inst: Instrument) -> Decimal:
        model = self.engine.fill_model_for(inst.venue, inst.market, inst.symbol)
        if model.kind == "liquidity":
            return Ladder.of(model, inst).size
        step = inst.contract_size if inst.is_contract else Decimal(1).scaleb(-inst.size_scale)
        mark = self.mark(inst)
        steps = (LEVEL_VALUE / mark / step).to_integral_value(ROUND_DOWN) if mark > 0 else 1
        return max(inst.min_size, step * max(steps, 1))

    def book(self, inst: Instrument, depth: int) -> tuple[list, list]:
        mark = self.mark(inst)
        if mark <= 0:
            return [], []
        tick = Decimal(1).scaleb(-inst.price_scale)
        size = self.size(inst, self.level_size(inst))
        asks = [[self.price(inst, mark + tick * i), size] for i in range(depth)]
        bids = [[self.price(inst, mark - tick * i), size] for i in range(depth) if mark - tick * i > 0]
        return bids, asks

    def book_row(self, bids: list, asks: list, seq: int | None) -> dict:
        row = {"asks": asks, "bids": bids, "checksum": checksum(bids, asks),
               "ts": str(self.engine.now_ms())}
        if seq is not None:
            row["seq"] = seq
        return row

    def _candle(self, inst: Instrument, interval: str, mark: Decimal, now: int) -> list:
        length = CANDLE_INTERVALS[interval]
        offset = UTC8_MS if length >= CANDLE_INTERVALS["6H"] and not interval.endswith("utc") else 0
        start = (now + offset) // length * length - offset
        key = (inst.key, interval)
        c = self.candles.get(key)
        if c is None or c[0] != start:
            c = self.candles[key] = [start, mark, mark, mark, mark, Decimal(0), Decimal(0)]
        return c

    def candle_row(self, inst: Instrument, c: list) -> list:
        quote = fmt.plain(c[6])
        return [str(c[0]), self.price(inst, c[1]), self.price(inst, c[2]), self.price(inst, c[3]),
                self.price(inst, c[4]), fmt.plain(c[5]), quote, quote]

    def trade_row(self, inst: Instrument, f) -> dict:
        side = f.side if f.liquidity is Liquidity.TAKER else (
            Side.SELL if f.side is Side.BUY else Side.BUY)
        return {"ts": str(f.created_ms), "price": self.price(inst, f.price),
                "size": self.size(inst, f.size), "side": side.value, "tradeId": str(f.trade_id)}

    # snapshots -----------------------------------------------------------------------------------
    def snapshot(self, sub: Sub) -> list | None:
        inst = self.inst(sub.inst_type, sub.inst_id)
        name = sub.channel
        with self._lock:
            if name == "ticker":
                return [self.ticker_row(inst)]
            if name == "trade":  # the recent prints, newest first (nothing when there are none)
                return list(reversed(self.trades.get(inst.key, ()))) or None
            if name.startswith("candle"):
                c = self._candle(inst, name[6:], self.mark(inst), self.engine.now_ms())
                return [self.candle_row(inst, c)]
            if name == "books":
                topic = ("public", name, sub.inst_type, sub.inst_id)
                bids, asks = self.book(inst, BOOK_LEVELS)
                if topic not in self.books:
                    self.books[topic] = (dict(map(tuple, bids)), dict(map(tuple, asks)), 0)
                sent_bids, sent_asks, seq = self.books[topic]
                bids = sorted(([p, s] for p, s in sent_bids.items()), key=lambda l: -Decimal(l[0]))
                asks = sorted(([p, s] for p, s in sent_asks.items()), key=lambda l: Decimal(l[0]))
                return [self.book_row(bids, asks, seq)]
            bids, asks = self.book(inst, DEPTHS[name])
            return [self.book_row(bids, asks, None)]

    # events -> pushes ----------------------------------------------------------------------------
    def route(self, streams, events: list):
        marks: dict[str, None] = {}
        for e in events:
            if e.kind is EventKind.MARK:
                venue, market, symbol = e.obj.instrument.split(":", 2)
                if venue == VENUE:
                    marks[e.obj.instrument] = None
                    self._mark_moved(venue, market, symbol, e.obj.price, e.at_ms)
            elif e.kind in (EventKind.SPOT_FILL, EventKind.FUTURES_FILL) and e.obj.venue == VENUE:
                market = getattr(e.obj, "market", "spot")
                inst = self.engine.instrument(VENUE, market, e.obj.symbol)
                if inst is None:
                    continue
                row = self.trade_row(inst, e.obj)
                with self._lock:
                    self.trades.setdefault(inst.key, deque(maxlen=RECENT_TRADES)).append(row)
                    for interval in CANDLE_INTERVALS:
                        c = self._candle(inst, interval, self.mark(inst), e.obj.created_ms)
                        c[5] += e.obj.size
                        c[6] += e.obj.quote
                topic = ("public", "trade", MARKET_TYPES.get(market), inst.symbol)
                if streams.has(topic):
                    yield topic, "update", [row]
        for key in marks:
            venue, market, symbol = key.split(":", 2)
            inst = self.engine.instrument(venue, market, symbol)
            inst_type = MARKET_TYPES.get(market)
            base = ("public",)
            if streams.has(base + ("ticker", inst_type, symbol)):
                yield base + ("ticker", inst_type, symbol), "snapshot", [self.ticker_row(inst)]
            for interval in CANDLE_INTERVALS:
                topic = base + ("candle" + interval, inst_type, symbol)
                if streams.has(topic):
                    with self._lock:
                        c = self._candle(inst, interval, self.mark(inst), self.engine.now_ms())
                        row = self.candle_row(inst, c)
                    yield topic, "update", [row]
            for name, depth in DEPTHS.items():
                topic = base + (name, inst_type, symbol)
                if streams.has(topic):
                    bids, asks = self.book(inst, depth)
                    yield topic, "snapshot", [self.book_row(bids, asks, None)]
            topic = base + ("books", inst_type, symbol)
            if streams.has(topic):
                update = self._book_update(topic, inst)
                if update is not None:
                    yield topic, "update", [update]

    def _mark_moved(self, venue: str, market: str, symbol: str, price: Decimal, at_ms: int) -> None:
        inst = self.engine.instrument(venue, market, symbol)
        if inst is None:
            return
        with self._lock:
            for interval in CANDLE_INTERVALS:
                c = self._candle(inst, interval, price, at_ms)
                c[2] = max(c[2], price)
                c[3] = min(c[3], price)
                c[4] = price

    def _book_update(self, topic: tuple, inst: Instrument) -> dict | None:
        with self._lock:
            bids, asks = self.book(inst, BOOK_LEVELS)
            new_bids, new_asks = dict(map(tuple, bids)), dict(map(tuple, asks))
            old_bids, old_asks, seq = self.books.get(topic, ({}, {}, 0))
            zero = self.size(inst, Decimal(0))
            d_bids = [[p, s] for p, s in new_bids.items() if old_bids.get(p) != s]
            d_bids += [[p, zero] for p in old_bids if p not in new_bids]
            d_asks = [[p, s] for p, s in new_asks.items() if old_asks.get(p) != s]
            d_asks += [[p, zero] for p in old_asks if p not in new_asks]
            if not d_bids and not d_asks:
                return None
            seq += 1
            self.books[topic] = (new_bids, new_asks, seq)
            d_bids.sort(key=lambda l: -Decimal(l[0]))
            d_asks.sort(key=lambda l: Decimal(l[0]))
            row = {"asks": d_asks, "bids": d_bids, "checksum": checksum(bids, asks), "seq": seq,
                   "ts": str(self.engine.now_ms())}
            return row


def _snapshot(streams, session, sub):
    return streams.public.snapshot(sub)


channel(Channel("ticker", False, "instId", INST_TYPES, _snapshot))
channel(Channel("trade", False, "instId", INST_TYPES, _snapshot))
channel(Channel("candle*", False, "instId", INST_TYPES, _snapshot))
for _name in ("books", "books1", "books5", "books15"):
    channel(Channel(_name, False, "instId", INST_TYPES, _snapshot))
