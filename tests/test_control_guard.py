"""The control plane refuses what a web page could make a browser send: cross-origin requests,
foreign Host names (DNS rebinding) and non-JSON writes, before touching any state; the
project's own clients and a same-origin dashboard pass unchanged."""

from __future__ import annotations

import json

import httpx
import pytest

from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.server.app import LocalexApp
from localex.store import open_store
from localex.testing import Emulator, ServerThread
from localex.wire.http import Request


def state(world) -> str:
    return json.dumps(world.engine.snapshot(), sort_keys=True)


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def test_a_text_plain_post_from_another_origin_changes_no_balance(world, http):
    alice = world.trader("alice")
    before = state(world)
    body = json.dumps({"uid": alice.uid, "asset": "USDT", "amount": "1000000"})
    refused(http.post("/localex/balances", content=body,
                      headers={"Content-Type": "text/plain", "Origin": "http://evil.example"}),
            403, "cross_origin")
    refused(http.post("/localex/reset", headers={"Origin": "http://evil.example"}), 403, "cross_origin")
    refused(http.post("/localex/reset", headers={"Origin": "null"}), 403, "cross_origin")
    refused(http.post("/localex/reset", headers={"Sec-Fetch-Site": "cross-site"}), 403, "cross_origin")
    assert state(world) == before


def test_a_foreign_host_reads_no_snapshot(world, http):
    world.trader("alice")
    for host in ("attacker.example:8700", "attacker.example", "127.0.0.1.evil.example", "10.0.0.5"):
        response = http.get("/localex/snapshot", headers={"Host": host})
        refused(response, 403, "forbidden_host")
        assert "secret" not in response.text


def test_a_non_json_write_is_refused_even_same_origin(world, http):
    alice = world.trader("alice")
    before = state(world)
    body = json.dumps({"uid": alice.uid, "asset": "USDT", "amount": "5"})
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        refused(http.post("/localex/balances", content=body, headers={"Content-Type": content_type}),
                415, "json_required")
    # a browser's write without a Content-Type, same origin or not
    refused(http.post("/localex/balances", content=body, headers={"Sec-Fetch-Mode": "no-cors"}),
            415, "json_required")
    assert state(world) == before


def test_same_origin_json_from_the_dashboard_passes(world, http, server):
    alice = world.trader("alice")
    origin = server.url  # http://127.0.0.1:PORT, the page /localex/ui/ is served from
    response = http.post("/localex/balances", json={"uid": alice.uid, "asset": "USDT", "amount": "5"},
                         headers={"Origin": origin, "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 200, response.text
    assert http.get("/localex/users", headers={"Origin": origin}).status_code == 200


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "127.1.2.3", "app.localhost"])
def test_loopback_names_on_any_port_pass(world, http, host):
    assert http.get("/localex/health", headers={"Host": f"{host}:8700"}).status_code == 200


def test_with_an_admin_token_any_host_name_reaches_the_plane():
    engine = Engine(open_store(":memory:"), clock=ManualClock(), seed=1)
    app = LocalexApp(engine, admin_token="t")
    ok = app.handle(Request("GET", "/localex/users", "", {"host": "box.lan:8700", "authorization": "Bearer t"}))
    assert ok.status == 200
    foreign = app.handle(Request("GET", "/localex/users", "", {"host": "box.lan:8700",
                                                                "origin": "http://evil.example",
                                                                "authorization": "Bearer t"}))
    assert foreign.status == 403


def test_an_empty_admin_token_guards_nothing_so_is_no_token():
    engine = Engine(open_store(":memory:"), clock=ManualClock(), seed=1)
    app = LocalexApp(engine, admin_token="")
    response = app.handle(Request("GET", "/localex/snapshot", "", {"host": "attacker.example"}))
    assert response.status == 403 and response.json_body()["error"]["code"] == "forbidden_host"


def test_the_projects_own_clients_pass(world):
    """The Emulator served over HTTP and a plain script posting raw JSON bytes."""
    emulator = Emulator(clock="manual")
    server = emulator.serve()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            user = http.post("/localex/users", json={"venue": "bitget", "name": "x"}).json()
            assert http.post("/localex/balances", content=json.dumps(
                {"uid": user["uid"], "asset": "USDT", "amount": "5"})).status_code == 200
            assert http.post("/localex/reset").status_code == 200  # curl -X POST, no body
    finally:
        server.stop()
