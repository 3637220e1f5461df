"""The request journal and snapshots through the control plane."""

from __future__ import annotations

import json

from wire_signing import signed_headers

ORDER_INFO = "/api/v2/spot/trade/orderInfo"


def signed_get(http, trader, path, query):
    headers = signed_headers(trader.api_key, trader.secret_key, trader.passphrase, "GET", path, query)
    return http.get(path + "?" + query, headers=headers)


def test_the_journal_keeps_what_a_bot_sent_with_secrets_redacted(world, http):
    http.delete("/localex/journal")
    alice, bob = world.trader("alice"), world.trader("bob")
    assert signed_get(http, alice, ORDER_INFO, "orderId=1").status_code == 200
    assert signed_get(http, bob, "/api/v2/spot/account/assets", "coin=USDT").status_code == 200
    assert http.get("/api/v2/spot/public/symbols").status_code == 200
    http.get("/localex/health")  # the control plane is not journaled
    everything = http.get("/localex/journal").json()
    assert [e["path"] for e in everything] == [ORDER_INFO, "/api/v2/spot/account/assets",
                                               "/api/v2/spot/public/symbols"]
    first = everything[0]
    assert first["seq"] == 1 and first["venue"] == "bitget" and first["apiKey"] == alice.api_key
    assert first["query"] == "orderId=1" and first["method"] == "GET" and first["status"] == 200
    assert first["headers"]["access-sign"] == "<redacted>"
    assert first["headers"]["access-passphrase"] == "<redacted>"
    assert first["headers"]["access-key"] == alice.api_key
    assert json.loads(first["response"])["data"] == []
    assert first["time"] == world.engine.now_ms()
    assert alice.passphrase not in json.dumps(everything)
    mine = http.get("/localex/journal", params={"apiKey": bob.api_key}).json()
    assert [e["path"] for e in mine] == ["/api/v2/spot/account/assets"]
    spot = http.get("/localex/journal", params={"path": "/api/v2/spot/*/assets", "afterSeq": "1"}).json()
    assert [e["seq"] for e in spot] == [2]
    assert http.get("/localex/journal", params={"limit": "1"}).json()[0]["seq"] == 1
    assert http.get("/localex/journal", params={"venue": "coinw"}).json() == []
    assert http.get("/localex/journal", params={"since": "x"}).status_code == 400
    http.delete("/localex/journal")
    assert http.get("/localex/journal").json() == []


def test_a_snapshot_taken_and_restored_over_http(world, http):
    alice = world.trader("alice")
    snap = http.get("/localex/snapshot").json()
    assert snap["format"] == "localex-snapshot"
    world.trader("bob")
    assert http.post("/localex/snapshot", json=snap).json()["status"] == "restored"
    names = {u["name"] for u in http.get("/localex/users").json()}
    assert names == {"alice"}
    assert signed_get(http, alice, ORDER_INFO, "orderId=1").json()["code"] == "00000"
    bad = http.post("/localex/snapshot", json={"format": "nope"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_snapshot"
