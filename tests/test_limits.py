"""Bounded resources: request bodies, slow or idle connections, the journal's bytes, and a
malformed candle file, each answered clearly and never by holding memory or a connection."""

from __future__ import annotations

import socket

import httpx
import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.server.app import LocalexApp
from localex.server.journal import Journal
from localex.store import open_store
from localex.testing import ServerThread
from localex.wire.http import Request, Response
from localex.server.serving import IDLE_TIMEOUT_S, uvicorn_config


@pytest.fixture
def small():
    """A server of its own with small bounds (bodies 4 kB, body timeout 0.3 s, header timeout
    0.3 s), so the tests wait for nothing long."""
    engine = Engine(open_store(":memory:"), clock=ManualClock(), seed=1)
    install_market(engine)
    app = LocalexApp(engine, max_body=4096, max_control_body=8192, body_timeout_s=0.3)
    server = ServerThread(app)
    server.server.config.header_timeout = 0.3
    server.start()
    yield app, server
    server.stop()


def closed_by_server(sock: socket.socket, limit_s: float = 20) -> bytes:
    """Read until the server closes (bounded: a server that never closes fails the test)."""
    sock.settimeout(limit_s)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_a_body_over_the_limit_gets_the_venues_envelope(small):
    app, server = small
    with httpx.Client(base_url=server.url, timeout=10) as http:
        big = b'{"symbol":"' + b"A" * 5000 + b'"}'
        bitget = http.post("/api/v2/spot/trade/place-order", content=big,
                           headers={"Content-Type": "application/json"})
        assert bitget.status_code == 413
        payload = bitget.json()
        assert (payload["code"], payload["msg"], payload["data"]) == ("40017", "Parameter verification failed", None)
        coinw = http.post("/v1/perpum/order", content=big, headers={"Content-Type": "application/json"})
        assert coinw.status_code == 413 and coinw.json()["code"] == 9016
        control = http.post("/localex/balances", content=b"{" + b" " * 9000 + b"}",
                            headers={"Content-Type": "application/json"})
        assert control.status_code == 413 and control.json()["error"]["code"] == "too_large"
    assert app.journal.stats()["entries"] == 0  # refused before it was read: nothing kept


def test_a_chunked_body_over_the_limit_is_cut_off(small):
    _, server = small
    def chunks():
        for _ in range(10):
            yield b"x" * 1000
    with httpx.Client(base_url=server.url, timeout=10) as http:
        response = http.post("/api/v2/spot/trade/place-order", content=chunks())
        assert response.status_code == 413 and response.json()["code"] == "40017"


def test_a_body_shorter_than_its_content_length_is_answered_not_held(small):
    _, server = small
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"POST /api/v2/spot/trade/place-order HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":")
        answer = closed_by_server(sock)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408") and b'"code":"40017"' in body


def test_headers_that_never_end_are_cut_off(small):
    _, server = small
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"GET /localex/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert closed_by_server(sock) == b""


def test_an_idle_connection_is_closed_by_the_server(small):
    _, server = small
    server.server.config.timeout_keep_alive = 0.3  # (the default is IDLE_TIMEOUT_S)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        assert closed_by_server(sock) == b""  # never sent a byte


def test_the_keep_alive_outlasts_a_minute():
    config = uvicorn_config(object(), host="127.0.0.1", port=0)
    assert config.timeout_keep_alive == IDLE_TIMEOUT_S >= 60
    assert config.proxy_headers is False
    assert uvicorn_config(object(), host="127.0.0.1", port=0,
                          forwarded_allow_ips="10.0.0.2").proxy_headers is True


def _request(body: bytes) -> Request:
    return Request("POST", "/api/v2/spot/trade/place-order", "", {"access-key": "k"}, body)


def test_the_journal_is_bounded_in_bytes_oldest_dropped_first():
    journal = Journal(capacity=10_000, max_bytes=1_000_000)
    answer = Response(200, b"{}")
    for i in range(300):
        journal.record("bitget", "access-key", i, _request(b"x" * 100_000), answer)
    stats = journal.stats()
    assert stats["bytes"] <= 1_000_000 and stats["entries"] == 9 and stats["dropped"] == 291
    assert [e.time_ms for e in journal.entries()] == list(range(291, 300))  # the newest kept
    journal.clear()
    assert journal.stats() == {"entries": 0, "bytes": 0, "maxEntries": 10_000, "maxBytes": 1_000_000,
                               "dropped": 0}


def test_the_journal_figure_is_on_the_control_plane(world, http):
    http.delete("/localex/journal")
    http.get("/api/v2/spot/market/tickers")
    stats = http.get("/localex/journal/stats").json()
    assert stats["entries"] == 1 and stats["bytes"] > 0 and stats["maxBytes"] == 32 << 20


@pytest.mark.parametrize("csv, message", [
    ("1767225600000\n", "candle line 1: 1 field(s); a candle is timestamp (ms), open, high, low, close, volume"),
    ("ts,o,h,l,c,v\n1767225600000,1,2,0.5,1.5,10\nlater,1,2,0.5,1.5,10\n",
     "candle line 3: the timestamp must be whole milliseconds and open, high, low, close, volume decimal numbers"),
    ("1767225600000,1,2,0.5,1.5,NaN\n", "candle line 1: prices and volume must be finite, not negative"),
    ("1767225600000,1,2,0.5,3,10\n", "candle at 1767225600000: high/low do not bound open/close"),
])
def test_a_malformed_candle_file_is_a_clear_control_plane_error(world, http, csv, message):
    response = http.post("/localex/paths", json={"venue": "bitget", "symbol": "BTCUSDT", "kind": "candles",
                                                 "csv": csv})
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "bad_field", "message": message}
