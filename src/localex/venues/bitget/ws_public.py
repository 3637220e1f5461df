"""Bitget V2 WebSocket public channels (spot/websocket/public and contract/websocket/public):
ticker, candle<interval>, books / books1 / books5 / books15, trade.

What they show is the engine's market tape (engine/tape.py), the same source the REST market
pages read: 24-hour statistics for the ticker, its bars for candles, its book (the fill model's
ladder around the mark plus the users' resting limit orders) and its prints. A push is made when
a committed event changes what a channel shows: a mark move (ticker, candles, books), a fill
(trade, candles, and the book its order left), a resting order placed or gone (books). The
tape's synthetic prints are served in the trade snapshot, not pushed.

`books` sends a full snapshot, then `update` deltas (changed levels; a size of "0" removes one)
with a rising `seq` and Bitget's checksum: CRC32, as a signed 32-bit integer, of the first 25
levels interleaved bid:size:ask:size with the prices and sizes exactly as sent. `books1/5/15`
send a snapshot every time.
"""

from __future__ import annotations

import threading
import zlib
from decimal import Decimal

from localex.engine.events import EventKind
from localex.engine.model import Instrument, Liquidity, OrderType, Side
from localex.venues.bitget import fmt
from localex.venues.bitget.contract_market import next_funding
from localex.venues.bitget.spot_market import MIX_GRANULARITIES
from localex.venues.bitget.ws_common import (
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
RECENT_TRADES = 50
CANDLE_HISTORY = 500  # rows in a candle channel's first push (live v2 sends up to 500)
DEPTHS = {"books1": 1, "books5": 5, "books15": 15}
# candle<suffix> -> the tape's interval (the same names as the mix candles' granularity)
CANDLES = {name: interval for name, interval in MIX_GRANULARITIES.items() if name != "2H"}


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
        stats = self.engine.stats_24h(inst)
        now = self.engine.now_ms()
        mark = self.mark(inst)
        if stats is None:
            last = o = h = lo = open_utc = mark
            base = quote = Decimal(0)
            bid = ask = None
        else:
            last, o, h, lo, open_utc = stats.last, stats.open, stats.high, stats.low, stats.open_utc
            base, quote, bid, ask = stats.base_volume, stats.quote_volume, stats.bid, stats.ask
        change = (last - o) / o if o else Decimal(0)
        change_utc = (last - open_utc) / open_utc if open_utc else Decimal(0)
        row = {"instId": inst.symbol, "lastPr": self.price(inst, last), "open24h": self.price(inst, o),
               "high24h": self.price(inst, h), "low24h": self.price(inst, lo),
               "change24h": fmt.trimmed_half_up(change, 5),
               "bidPr": self.price(inst, bid.price if bid else last),
               "askPr": self.price(inst, ask.price if ask else last),
               "bidSz": self.size(inst, bid.size) if bid else "0",
               "askSz": self.size(inst, ask.size) if ask else "0",
               "baseVolume": fmt.plain(base), "quoteVolume": fmt.plain(quote),
               "openUtc": self.price(inst, open_utc), "changeUtc24h": fmt.trimmed_half_up(change_utc, 5),
               "ts": str(now)}
        if inst.is_contract:
            row.update({"fundingRate": fmt.plain(inst.funding_rate),
                        "nextFundingTime": str(next_funding(inst, now)),
                        "markPrice": self.price(inst, mark), "indexPrice": self.price(inst, mark),
                        "holdingAmount": fmt.plain(self.engine.open_interest(inst)),
                        "symbolType": 1, "symbol": inst.symbol, "deliveryPrice": "0"})
        return row

    def book(self, inst: Instrument, depth: int) -> tuple[list, list]:
        book = self.engine.order_book(inst, depth)
        return ([[self.price(inst, lv.price), self.size(inst, lv.size)] for lv in book.bids],
                [[self.price(inst, lv.price), self.size(inst, lv.size)] for lv in book.asks])

    def book_row(self, bids: list, asks: list, seq: int | None) -> dict:
        row = {"asks": asks, "bids": bids, "checksum": checksum(bids, asks),
               "ts": str(self.engine.now_ms())}
        if seq is not None:
            row["seq"] = seq
        return row

    def candle_rows(self, inst: Instrument, name: str, limit: int) -> list:
        rows = []
        for c in self.engine.candles(inst, CANDLES[name], limit=limit):
            quote = fmt.plain(c.quote_volume)
            rows.append([str(c.ts), self.price(inst, c.open), self.price(inst, c.high),
                         self.price(inst, c.low), self.price(inst, c.close), fmt.plain(c.base_volume),
                         quote, quote])
        return rows

    def trade_row(self, inst: Instrument, f) -> dict:
        side = f.side if f.liquidity is Liquidity.TAKER else (
            Side.SELL if f.side is Side.BUY else Side.BUY)
        return {"ts": str(f.created_ms), "price": self.price(inst, f.price),
                "size": self.size(inst, f.size), "side": side.value, "tradeId": str(f.trade_id)}

    # snapshots -----------------------------------------------------------------------------------
    def snapshot(self, sub: Sub) -> list | None:
        inst = self.inst(sub.inst_type, sub.inst_id)
        name = sub.channel
        if name == "ticker":
            return [self.ticker_row(inst)]
        if name == "trade":  # the recent prints, newest first
            return [{"ts": str(tr.ts), "price": self.price(inst, tr.price), "size": self.size(inst, tr.size),
                     "side": tr.side.value, "tradeId": str(tr.trade_id)}
                    for tr in self.engine.public_trades(inst, limit=RECENT_TRADES)] or None
        if name.startswith("candle"):
            return self.candle_rows(inst, name[6:], CANDLE_HISTORY)
        if name == "books":
            topic = ("public", name, sub.inst_type, sub.inst_id)
            with self._lock:
                bids, asks = self.book(inst, BOOK_LEVELS)
                if topic not in self.books or len(self.streams.subs.get(topic)) <= 1:  # a fresh start
                    self.books[topic] = (dict(map(tuple, bids)), dict(map(tuple, asks)), 0)
                sent_bids, sent_asks, seq = self.books[topic]
                bids = sorted(([p, s] for p, s in sent_bids.items()), key=lambda l: -Decimal(l[0]))
                asks = sorted(([p, s] for p, s in sent_asks.items()), key=lambda l: Decimal(l[0]))
                return [self.book_row(bids, asks, seq)]
        bids, asks = self.book(inst, DEPTHS[name])
        return [self.book_row(bids, asks, None)]

    # events -> pushes ----------------------------------------------------------------------------
    def route(self, streams, events: list):
        if not streams.watched:
            return
        moved: dict[str, None] = {}  # instruments whose price moved
        booked: dict[str, None] = {}  # instruments whose book (users' resting orders) changed
        traded: dict[str, None] = {}
        for e in events:
            kind, obj = e.kind, e.obj
            if kind is EventKind.MARK:
                if obj.instrument.startswith("bitget:"):
                    moved[obj.instrument] = None
            elif kind in (EventKind.SPOT_FILL, EventKind.FUTURES_FILL) and obj.venue == VENUE:
                market = getattr(obj, "market", "spot")
                key = f"{VENUE}:{market}:{obj.symbol}"
                traded[key] = None
                topic = ("public", "trade", MARKET_TYPES.get(market), obj.symbol)
                if streams.has(topic):
                    inst = self.engine.instrument(VENUE, market, obj.symbol)
                    yield topic, "update", [self.trade_row(inst, obj)]
            elif kind in (EventKind.SPOT_ORDER, EventKind.FUTURES_ORDER) and obj.venue == VENUE \
                    and obj.order_type is OrderType.LIMIT:
                booked[f"{VENUE}:{getattr(obj, 'market', 'spot')}:{obj.symbol}"] = None
        for key in {**moved, **traded, **booked}:
            _venue, market, symbol = key.split(":", 2)
            inst_type = MARKET_TYPES.get(market)
            if inst_type is None or (inst_type, symbol) not in streams.watched:
                continue
            inst = None
            if key in moved or key in traded:
                topic = ("public", "ticker", inst_type, symbol)
                if streams.has(topic):
                    inst = inst or self.engine.instrument(VENUE, market, symbol)
                    yield topic, "snapshot", [self.ticker_row(inst)]
                for name in CANDLES:
                    topic = ("public", "candle" + name, inst_type, symbol)
                    if streams.has(topic):
                        inst = inst or self.engine.instrument(VENUE, market, symbol)
                        yield topic, "update", self.candle_rows(inst, name, 1)
            for name, depth in DEPTHS.items():
                topic = ("public", name, inst_type, symbol)
                if streams.has(topic):
                    inst = inst or self.engine.instrument(VENUE, market, symbol)
                    bids, asks = self.book(inst, depth)
                    yield topic, "snapshot", [self.book_row(bids, asks, None)]
            topic = ("public", "books", inst_type, symbol)
            if streams.has(topic):
                inst = inst or self.engine.instrument(VENUE, market, symbol)
                update = self._book_update(topic, inst)
                if update is not None:
                    yield topic, "update", [update]

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
            return {"asks": d_asks, "bids": d_bids, "checksum": checksum(bids, asks), "seq": seq,
                    "ts": str(self.engine.now_ms())}


def _snapshot(streams, session, sub):
    return streams.public.snapshot(sub)


channel(Channel("ticker", False, "instId", INST_TYPES, _snapshot))
channel(Channel("trade", False, "instId", INST_TYPES, _snapshot))
channel(Channel("candle*", False, "instId", INST_TYPES, _snapshot))
for _name in ("books", "books1", "books5", "books15"):
    channel(Channel(_name, False, "instId", INST_TYPES, _snapshot))
