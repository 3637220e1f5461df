"""Fault injection: each kind, over HTTP and in-process."""

from __future__ import annotations

import time

import httpx
import pytest
import requests

from localex.testing import mock_exchanges

SYMBOLS = "/api/v2/spot/public/symbols"


@pytest.fixture
def faults(http):
    http.delete("/localex/faults")
    yield lambda **body: http.post("/localex/faults", json=body)
    http.delete("/localex/faults")


def test_a_venue_error_for_the_next_n_requests(world, http, faults):
    added = faults(kind="error", venue="bitget", path="/api/v2/spot/*", code="40725",
                   message="service return an error", status=500, count=2)
    assert added.status_code == 200 and added.json()["remaining"] == 2
    for _ in range(2):
        resp = http.get(SYMBOLS)
        assert resp.status_code == 500
        body = resp.json()
        assert (body["code"], body["msg"], body["data"]) == ("40725", "service return an error", None)
        assert isinstance(body["requestTime"], int)
    assert http.get(SYMBOLS).json()["code"] == "00000"
    assert http.get("/localex/faults").json() == []
    # the journal shows what the bot saw
    assert http.get("/localex/journal", params={"path": SYMBOLS}).json()[-2]["status"] == 500


def test_an_error_with_the_tables_message(world, http, faults):
    faults(kind="error", path=SYMBOLS, code="43012", count=1)
    assert http.get(SYMBOLS).json()["msg"] == "Insufficient balance"


def test_http_5xx_and_rate_limits(world, http, faults):
    faults(kind="http", path=SYMBOLS, status=502, count=1)
    resp = http.get(SYMBOLS)
    assert resp.status_code == 502 and resp.headers["content-type"] == "text/html"
    assert b"502 Bad Gateway" in resp.content
    faults(kind="rate_limit", path=SYMBOLS, count=1)
    resp = http.get(SYMBOLS)
    assert resp.status_code == 429 and resp.json()["code"] == "429"
    assert resp.json()["msg"] == "Too Many Requests"
    assert http.get(SYMBOLS).status_code == 200


def test_latency_and_a_dropped_connection(world, http, faults):
    faults(kind="latency", path=SYMBOLS, latencyMs=300, count=1)
    start = time.monotonic()
    assert http.get(SYMBOLS).status_code == 200
    assert time.monotonic() - start >= 0.3
    faults(kind="drop", path=SYMBOLS, count=1)
    with pytest.raises(httpx.HTTPError):
        http.get(SYMBOLS)
    assert http.get(SYMBOLS).status_code == 200


def test_a_seeded_probability_is_the_same_every_run(world, http, faults):
    def run() -> list[int]:
        http.delete("/localex/faults")  # clearing restarts the faults' random source
        faults(kind="http", path=SYMBOLS, status=503, probability=0.5)
        return [http.get(SYMBOLS).status_code for _ in range(20)]
    first = run()
    assert first == run()
    assert {200, 503} == set(first)


def test_bad_fault_definitions_are_refused(world, http, faults):
    for body in ({"kind": "explode"}, {"kind": "error"}, {"kind": "http", "status": 200},
                 {"kind": "latency"}, {"kind": "drop", "count": 0}, {"kind": "drop", "probability": 2},
                 {"kind": "drop", "count": "1"}, {}):
        resp = faults(**body)
        assert resp.status_code == 400, body
        assert resp.json()["error"]["code"] in ("bad_field", "missing_field")
    assert http.get("/localex/faults").json() == []
    one = faults(kind="drop", path="/nothing").json()
    assert http.delete("/localex/faults", params={"id": "999"}).status_code == 404
    assert http.delete("/localex/faults", params={"id": str(one["id"])}).json()["status"] == "removed"


def test_faults_in_process_reach_each_library():
    with mock_exchanges() as emu:
        emu.app.faults.add("drop", path=SYMBOLS, count=3)
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get("https://api.bitget.com" + SYMBOLS)
        with pytest.raises(requests.ConnectionError):
            requests.get("https://api.bitget.com" + SYMBOLS)

        async def aio():
            import aiohttp
            async with aiohttp.ClientSession() as session:
                with pytest.raises(aiohttp.ServerDisconnectedError):
                    await session.get("https://api.bitget.com" + SYMBOLS)
        import asyncio
        asyncio.run(aio())
        emu.app.faults.add("latency", path=SYMBOLS, latency_ms=200, count=1)
        start = time.monotonic()
        assert httpx.get("https://api.bitget.com" + SYMBOLS).status_code == 200
        assert time.monotonic() - start >= 0.2
