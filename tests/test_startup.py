"""Start-up: two runs of one script from `--clock manual --start TIME` give the same bytes (the
demo world included); beyond loopback the demo keys' secrets are new every time."""

from __future__ import annotations

import json

import pytest
import uvicorn
from click.testing import CliRunner

from localex.cli import build_app, main
from localex.engine.clock import parse_time
from localex.wire.http import Request
from wire_signing import signed_headers

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def run_script(start: int | None = T0, seed: int = 5) -> str:
    """`localex serve --clock manual --start T0 --seed 5`, then one script of requests."""
    app, accounts = build_app(":memory:", seed, clock="manual", start=start, sign_with_market_clock=True)
    demo = accounts[0]
    engine = app.engine

    def call(method, path, query="", body=None):
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        headers = {k.lower(): v for k, v in signed_headers(
            demo.api_key, demo.secret_key, demo.passphrase, method, path, query, raw,
            str(engine.now_ms())).items()}
        headers["host"] = "127.0.0.1:8700"
        return app.handle(Request(method, path, query, headers, raw, "127.0.0.1"))

    call("GET", "/api/v2/spot/account/assets")  # untouched balances: their uTime is start-up's
    call("POST", "/api/v2/spot/trade/place-order", body={"symbol": "BTCUSDT", "side": "buy",
                                                         "orderType": "limit", "force": "gtc",
                                                         "price": "94000", "size": "0.01"})
    engine.advance_clock(5_000)
    call("GET", "/api/v2/spot/trade/unfilled-orders", "symbol=BTCUSDT")
    control = app.handle(Request("GET", "/localex/users", "", {"host": "127.0.0.1:8700"}))
    snapshot = engine.snapshot()
    return json.dumps({"journal": [e.as_json() for e in app.journal.entries()],
                       "users": control.json_body(), "snapshot": snapshot,
                       "accounts": [a.as_json() for a in accounts]}, sort_keys=True)


def test_two_runs_from_one_start_give_the_same_bytes():
    first, second = run_script(), run_script()
    assert first == second
    data = json.loads(first)
    assert {u["createdMs"] for u in data["users"]} == {T0}
    assert '"uTime":"%d"' % T0 in data["journal"][0]["response"]


def test_another_start_gives_other_bytes():
    assert run_script(T0) != run_script(T0 + 1)


def test_reset_with_a_start_is_the_control_plane_equivalent():
    app, _ = build_app(":memory:", 5, clock="manual", start=T0 + 999, demo=False)
    response = app.handle(Request("POST", "/localex/reset", "", {"content-type": "application/json"},
                                  b'{"seed": 5, "start": "2026-01-01T00:00:00Z"}'))
    assert response.status == 200
    assert app.engine.now_ms() == T0
    user = app.engine.create_user("bitget", name="x")
    assert user.created_ms == T0
    bad = app.handle(Request("POST", "/localex/reset", "", {"content-type": "application/json"},
                             b'{"start": "soon"}'))
    assert bad.status == 400 and bad.json_body()["error"]["code"] == "bad_field"
    system, _ = build_app(":memory:", 5, demo=False)
    refused = system.handle(Request("POST", "/localex/reset", "", {}, b'{"start": 1}'))
    assert refused.status == 409


def test_start_goes_with_a_manual_clock_only():
    with pytest.raises(Exception, match="--clock manual"):
        build_app(":memory:", 0, start=T0)


@pytest.mark.parametrize("text, ms", [("1767225600000", T0), ("2026-01-01T00:00:00Z", T0),
                                      ("2026-01-01T01:00:00+01:00", T0), ("2026-01-01T00:00:00.250", T0 + 250)])
def test_start_times(text, ms):
    assert parse_time(text) == ms


def serve_output(monkeypatch, *args) -> str:
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, *a, **k: None)  # no socket opened
    result = CliRunner().invoke(main, ["serve", "--db", ":memory:", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def secrets_in(output: str) -> list[str]:
    return [line.split()[1] for line in output.splitlines() if line.strip().startswith(("secretKey", "passphrase"))]


def test_beyond_loopback_the_demo_secrets_are_new_every_time(monkeypatch):
    loopback = secrets_in(serve_output(monkeypatch))
    assert loopback == secrets_in(serve_output(monkeypatch))  # seeded on loopback: repeatable
    first = secrets_in(serve_output(monkeypatch, "--host", "0.0.0.0"))
    second = secrets_in(serve_output(monkeypatch, "--host", "0.0.0.0"))
    assert len(first) == len(loopback) == 11  # 5 Bitget secrets and passphrases, 1 CoinW secret
    assert not set(first) & set(second) and not set(first) & set(loopback)


def test_an_empty_admin_token_beyond_loopback_is_replaced_by_a_generated_one(monkeypatch):
    output = serve_output(monkeypatch, "--host", "0.0.0.0", "--admin-token", "")
    token = next(line.split()[2] for line in output.splitlines() if "admin token:" in line)
    assert len(token) >= 24
