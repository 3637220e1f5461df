"""The console request log: a line per venue request and per market event; colours on a terminal
only; JSON lines for machines; silence with --quiet."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal as D

from localex.engine.model import MarginMode, OrderType, PositionSide, Side, TradeSide
from localex.server.app import LocalexApp
from localex.server.requestlog import RequestLog
from localex.testing import Emulator
from localex.wire.http import Request

FIXED = dt.datetime(2026, 1, 1, 9, 12, 3, 481000, tzinfo=dt.timezone.utc)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def logged_app(stream, **options):
    emu = Emulator(clock="manual")
    log = RequestLog(stream, wall_clock=lambda: FIXED, **options)
    return emu, LocalexApp(emu.engine, request_log=log)


def test_a_line_per_request_and_per_fill_liquidation_and_funding():
    out = io.StringIO()
    emu, app = logged_app(out)
    alice = emu.create_user(name="alice", futures={"usdt-futures": {"USDT": 10000}})
    app.handle(Request("GET", "/api/v2/spot/account/assets", "", {"access-key": alice.api_key}))
    app.handle(Request("GET", "/api/v2/spot/public/symbols", "", {}))
    app.handle(Request("GET", "/localex/health", "", {}))  # the control plane is not a venue request
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"09:12:03\.481 bitget GET /api/v2/spot/account/assets 400 40002 \d+\.\dms "
                        + re.escape(alice.api_key[:10]) + "…", lines[0]), lines
    assert re.fullmatch(r"09:12:03\.481 bitget GET /api/v2/spot/public/symbols 200 00000 \d+\.\dms", lines[1])
    assert len(lines) == 2 and "\x1b[" not in out.getvalue()  # not a terminal: no colour
    e = emu.engine
    order = e.place_spot_order(alice.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D("0.01"), D("94000"))
    e.set_mark("bitget", "spot", "BTCUSDT", D("93900"))
    assert out.getvalue().splitlines()[-1] == (
        f"09:12:03.481 fill bitget spot BTCUSDT buy 0.01 @ 94000 maker uid {alice.uid} order {order.order_id}")
    e.set_margin_mode(alice.uid, "bitget", "usdt-futures", "BTCUSDT", MarginMode.ISOLATED)
    e.set_leverage(alice.uid, "bitget", "usdt-futures", "BTCUSDT", 10)
    e.place_futures_order(alice.uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                          trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.01"))
    e.set_funding_rate("bitget", "usdt-futures", "BTCUSDT", D("0.001"))
    emu.advance_clock(8 * 3_600_000)
    assert re.search(rf"^09:12:03\.481 funding bitget usdt-futures BTCUSDT paid [\d.]+ long position \d{{19}} "
                     rf"uid {alice.uid}$", out.getvalue(), re.M), out.getvalue()
    e.set_mark("bitget", "usdt-futures", "BTCUSDT", D("50000"))
    assert re.search(rf"^09:12:03\.481 liquidation bitget usdt-futures BTCUSDT sell 0\.01 @ [\d.]+ taker close long "
                     rf"uid {alice.uid} order \d{{19}}$", out.getvalue(), re.M)
    assert " mark " not in out.getvalue()  # price moves themselves are not printed


def test_json_lines_and_colours():
    out = io.StringIO()
    emu, app = logged_app(out, json_lines=True)
    app.handle(Request("GET", "/api/v2/spot/public/symbols", "", {}))
    emu.create_user(name="bob")
    line = json.loads(out.getvalue().splitlines()[0])
    assert line == {"type": "request", "time": "2026-01-01T09:12:03.481+00:00", "marketTime": emu.now_ms(),
                    "venue": "bitget", "method": "GET", "path": "/api/v2/spot/public/symbols", "status": 200,
                    "code": "00000", "latencyMs": line["latencyMs"], "key": ""}
    tty = Tty()
    _, app = logged_app(tty)
    app.handle(Request("GET", "/api/v2/spot/public/symbols", "", {}))
    assert "\x1b[32m200\x1b[0m" in tty.getvalue()  # a terminal: the status in green
    app.handle(Request("GET", "/api/v2/spot/account/assets", "", {}))
    assert "\x1b[33m400\x1b[0m" in tty.getvalue()
