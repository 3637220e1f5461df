"""Same seed, same requests: the same journal, byte for byte."""

from __future__ import annotations

import json
from decimal import Decimal as D

from wire_signing import signed_headers

from localex.demo import install_market, set_price_paths
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.server.app import LocalexApp
from localex.wire.http import Request
from localex.store import open_store

T0 = 1_767_225_600_000


def session(seed: int) -> str:
    clock = ManualClock(T0)
    engine = Engine(open_store(":memory:"), clock=clock, seed=seed)
    install_market(engine)
    set_price_paths(engine, "random")
    app = LocalexApp(engine, wall_clock=clock)  # signatures dated in market time
    user = engine.create_user("bitget", name="bot")
    engine.fund(user.uid, "USDT", D("50000"))
    engine.fund(user.uid, "BTC", D("1"))
    key = engine.create_api_key(user.uid)

    def call(method: str, path: str, query: str = "", body: dict | None = None) -> None:
        raw = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        headers = {k.lower(): v for k, v in signed_headers(
            key.key, key.secret, key.passphrase, method, path, query, raw, str(clock.now_ms())).items()}
        app.handle(Request(method, path, query, headers, raw, "127.0.0.1"))

    for i in range(6):
        call("POST", "/api/v2/spot/trade/place-order",
             body={"symbol": "BTCUSDT", "side": "buy" if i % 2 == 0 else "sell", "orderType": "limit",
                   "force": "gtc", "price": str(95000 + (i - 3) * 40), "size": "0.01"})
        call("POST", "/api/v2/spot/trade/place-order",
             body={"symbol": "ETHUSDT", "side": "buy", "orderType": "market", "size": "50"})
        engine.advance_clock(7_000)
        call("GET", "/api/v2/spot/trade/unfilled-orders", "symbol=BTCUSDT")
        call("GET", "/api/v2/spot/trade/fills", "limit=5")
    call("GET", "/api/v2/spot/account/assets")
    return json.dumps([e.as_json() for e in app.journal.entries()], sort_keys=True)


def test_two_runs_write_the_same_journal_byte_for_byte():
    first, second = session(11), session(11)
    assert first == second
    entries = json.loads(first)
    assert len(entries) == 25 and all(e["status"] == 200 for e in entries)
    assert any('"status":"filled"' in e["response"] or "tradeId" in e["response"] for e in entries)


def test_another_seed_writes_another_journal():
    assert session(11) != session(12)
