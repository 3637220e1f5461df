"""The console request log: one line per venue request, and one per market event (fills,
liquidations, funding), as `localex serve` prints them.

A line for people:

    09:12:03.481 bitget POST /api/v2/spot/trade/place-order 200 00000 1.2ms bg_d18fc9…
    09:12:05.002 fill bitget spot BTCUSDT buy 0.01 @ 94000 maker uid 8921731533 order 1767225600000000699

coloured when the stream is a terminal (and NO_COLOR is not set), or with --log-json one JSON object
a line for machines. Times are the wall clock's (the journal keeps market time).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from decimal import Decimal
from typing import IO

import orjson

from localex.engine.events import Event, EventKind
from localex.server.journal import JournalEntry

RESET, DIM, GREEN, YELLOW, RED, CYAN, MAGENTA = (
    "\x1b[0m", "\x1b[2m", "\x1b[32m", "\x1b[33m", "\x1b[31m", "\x1b[36m", "\x1b[35m")
SUCCESS_CODES = frozenset({"", "00000", "0", "200"})
FILL, LIQUIDATION, FUNDING = "fill", "liquidation", "funding"  # the market events printed
KEY_PREFIX = 10  # characters of an API key shown (never the whole key)


def key_prefix(key: str) -> str:
    return key if len(key) <= KEY_PREFIX else key[:KEY_PREFIX] + "…"


def _num(value: Decimal) -> str:
    return format(value, "f")


class RequestLog:
    def __init__(self, stream: IO[str], *, json_lines: bool = False, color: bool | None = None,
                 wall_clock=None) -> None:
        self.stream = stream
        self.json_lines = json_lines
        if color is None:
            color = not json_lines and hasattr(stream, "isatty") and stream.isatty() and (
                "NO_COLOR" not in os.environ)
        self.color = color
        self._now = wall_clock or (lambda: dt.datetime.now().astimezone())
        self._lock = threading.Lock()
        self._funding: dict[int, Decimal] = {}  # open positions' funding totals, to see payments

    # writing ---------------------------------------------------------------------------------
    def _paint(self, text: str, colour: str) -> str:
        return f"{colour}{text}{RESET}" if self.color else text

    def _write(self, line: str) -> None:
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (OSError, ValueError):  # a closed or broken console never stops the server
                pass

    def _stamp(self) -> tuple[str, str]:
        now = self._now()
        return now.strftime("%H:%M:%S.") + f"{now.microsecond // 1000:03d}", now.isoformat(
            timespec="milliseconds")

    # requests --------------------------------------------------------------------------------
    def request(self, entry: JournalEntry) -> None:
        short, iso = self._stamp()
        if self.json_lines:
            self._write(orjson.dumps({
                "type": "request", "time": iso, "marketTime": entry.time_ms, "venue": entry.venue,
                "method": entry.method, "path": entry.path, "status": entry.status,
                "code": entry.code, "latencyMs": round(entry.latency_ms, 3),
                "key": key_prefix(entry.api_key)}).decode())
            return
        status_colour = GREEN if entry.status < 400 else YELLOW if entry.status < 500 else RED
        code = entry.code or "-"
        code_colour = GREEN if entry.code in SUCCESS_CODES else YELLOW
        parts = [self._paint(short, DIM), entry.venue, entry.method, entry.path,
                 self._paint(str(entry.status), status_colour), self._paint(code, code_colour),
                 f"{entry.latency_ms:.1f}ms"]
        if entry.api_key:
            parts.append(self._paint(key_prefix(entry.api_key), DIM))
        self._write(" ".join(parts))

    # market events (a subscriber of the engine's event feed) -----------------------------
    def events(self, events: list[Event]) -> None:
        """Print a committed batch's fills, liquidations and funding payments (not every mark
        move: that would drown the rest)."""
        liquidations = {e.obj.order_id for e in events
                        if e.kind is EventKind.FUTURES_ORDER and e.obj.source == "liquidation"}
        for e in events:
            if e.kind is EventKind.SPOT_FILL:
                self._fill(FILL, e, "spot")
            elif e.kind is EventKind.FUTURES_FILL:
                self._fill(LIQUIDATION if e.obj.order_id in liquidations else FILL, e, e.obj.market)
            elif e.kind is EventKind.POSITION:
                self._position(e)

    def _position(self, e: Event) -> None:
        """A funding payment shows as a change of the position's funding total."""
        pos = e.obj
        before = self._funding.get(pos.position_id)
        if pos.open:
            self._funding[pos.position_id] = pos.funding
        else:
            self._funding.pop(pos.position_id, None)
        if before is None or pos.funding == before:
            return
        paid = pos.funding - before  # positive: the position paid
        inst_settle = getattr(pos, "settle", None) or ""
        fields = {"positionId": str(pos.position_id), "amount": _num(-paid), "posSide": pos.side.value}
        text = (f"{'paid' if paid > 0 else 'received'} {_num(abs(paid))}{(' ' + inst_settle) if inst_settle else ''}"
                f" {pos.side.value} position {pos.position_id} uid {pos.uid}")
        self._emit(FUNDING, e, pos.venue, pos.market, pos.symbol, fields, text, MAGENTA)

    def _fill(self, kind: str, e: Event, market: str) -> None:
        d = e.obj
        fields = {"orderId": str(d.order_id), "tradeId": str(d.trade_id), "side": d.side.value,
                  "size": _num(d.size), "price": _num(d.price), "liquidity": d.liquidity.value}
        pos_side = getattr(d, "pos_side", None)
        if pos_side is not None:
            fields["posSide"] = pos_side.value
            fields["tradeSide"] = d.trade_side.value
        text = (f"{d.side.value} {_num(d.size)} @ {_num(d.price)} {d.liquidity.value}"
                + (f" {d.trade_side.value} {pos_side.value}" if pos_side is not None else "")
                + f" uid {d.uid} order {d.order_id}")
        self._emit(kind, e, d.venue, market, d.symbol, fields, text, RED if kind == LIQUIDATION else CYAN)

    def _emit(self, kind, e: Event, venue, market, symbol, fields, text, colour) -> None:
        short, iso = self._stamp()
        if self.json_lines:
            self._write(orjson.dumps({"type": kind, "time": iso, "marketTime": e.at_ms, "venue": venue,
                                      "market": market, "symbol": symbol, "uid": e.uid, **fields}).decode())
            return
        self._write(" ".join([self._paint(short, DIM), self._paint(kind, colour), venue, market, symbol, text]))
