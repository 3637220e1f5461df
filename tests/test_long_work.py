"""Long market work never holds the server: a clock advance runs in slices with requests served
in between; a running clock's catch-up stops at its budget and goes on at the next tick."""

from __future__ import annotations

import asyncio
import json

from localex.demo import install_market, set_price_paths
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.server import app as app_module
from localex.server.app import LocalexApp
from localex.store import open_store

HOUR_MS = 3_600_000


async def asgi(app, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    raw = json.dumps(body).encode() if body is not None else b""
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"content-type", b"application/json")], "client": ("127.0.0.1", 1)}
    sent: list = []

    async def receive():
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


def _walking_app(monkeypatch):
    """A demo world on a manual clock with a random walk everywhere, served by an app that
    yields at every clean cut: (its start time, the engine, the app)."""
    monkeypatch.setattr(app_module, "SLICE_S", 0.0)  # yield at every clean cut
    start = 1_767_225_600_000
    engine = Engine(open_store(":memory:"), clock=ManualClock(start), seed=2)
    install_market(engine)
    set_price_paths(engine, "random")
    return start, engine, LocalexApp(engine, rate_limits=False)


def test_a_request_is_answered_while_a_long_advance_runs(monkeypatch):
    start, engine, app = _walking_app(monkeypatch)

    async def scenario():
        advance = asyncio.create_task(asgi(app, "POST", "/localex/clock", {"advance": 6 * HOUR_MS}))
        await asyncio.sleep(0)
        status, clock = await asgi(app, "GET", "/localex/clock")  # served between two slices
        assert status == 200 and not advance.done()
        assert start < clock["now"] < start + 6 * HOUR_MS  # market time as far as the walk got
        status, prices = await asgi(app, "GET", "/localex/prices")
        assert status == 200
        status, moved = await advance
        return clock, prices, moved

    clock, prices, moved = asyncio.run(scenario())
    assert moved["now"] == start + 6 * HOUR_MS
    # the same walk without slices applies the same prices and ends in the same state
    other = Engine(open_store(":memory:"), clock=ManualClock(start), seed=2)
    install_market(other)
    set_price_paths(other, "random")
    assert other.advance_clock(6 * HOUR_MS) == moved["pricesApplied"]
    assert other.marks() == engine.marks()


def test_a_running_clock_catches_up_in_bounded_ticks():
    start = 1_767_225_600_000
    engine = Engine(open_store(":memory:"), clock=ManualClock(start), seed=2)
    install_market(engine)
    set_price_paths(engine, "random")
    engine.clock.set(start + 5 * HOUR_MS)  # the clock ran ahead: five hours to catch up
    first = engine.simulation.catch_up(budget_s=0.0)  # one step, then the tick is over
    assert 0 < first and engine.simulation.applied_ms < start + 5 * HOUR_MS
    total, ticks = first, 1
    while engine.simulation.applied_ms < start + 5 * HOUR_MS and ticks < 100:
        total += engine.simulation.catch_up(budget_s=0.0)
        ticks += 1
    assert engine.simulation.applied_ms == start + 5 * HOUR_MS and ticks > 1
    other = Engine(open_store(":memory:"), clock=ManualClock(start), seed=2)
    install_market(other)
    set_price_paths(other, "random")
    other.clock.set(start + 5 * HOUR_MS)
    assert other.simulation.catch_up() == total
    assert other.marks() == engine.marks()


def test_a_stop_ends_a_long_advance_at_a_clean_cut_from_which_the_walk_goes_on(monkeypatch):
    start, engine, app = _walking_app(monkeypatch)

    async def scenario():
        advance = asyncio.create_task(asgi(app, "POST", "/localex/clock", {"advance": 6 * HOUR_MS}))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert not advance.done()
        app.stop()  # what SIGINT / SIGTERM does (server/serving.py)
        return await advance

    status, answer = asyncio.run(scenario())
    assert status == 503 and answer["error"]["code"] == "stopping"
    cut = engine.now_ms()
    assert start < cut < start + 6 * HOUR_MS
    assert f"market time {cut}" in answer["error"]["message"]
    assert engine.simulation.applied_ms == cut  # every point up to the cut, none beyond
    # a later advance goes on from the cut: the same prices as one uninterrupted walk
    engine.advance_clock(start + 6 * HOUR_MS - cut)
    other = Engine(open_store(":memory:"), clock=ManualClock(start), seed=2)
    install_market(other)
    set_price_paths(other, "random")
    other.advance_clock(6 * HOUR_MS)
    assert other.marks() == engine.marks()
    assert other.now_ms() == engine.now_ms()


def test_a_stopped_app_starts_no_more_long_work():
    start = 1_767_225_600_000
    engine = Engine(open_store(":memory:"), clock=ManualClock(start), seed=2)
    install_market(engine)
    set_price_paths(engine, "random")
    app = LocalexApp(engine, rate_limits=False)
    app.stop()
    status, answer = asyncio.run(asgi(app, "POST", "/localex/clock", {"advance": HOUR_MS}))
    assert status == 503 and answer["error"]["code"] == "stopping"
    assert engine.now_ms() == start and engine.simulation.applied_ms == start
