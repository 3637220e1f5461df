"""Header names reach the handlers in lower case whatever the client sent, decoded once per name."""

from __future__ import annotations

import asyncio
import json

import pytest

from localex.cli import build_app
from localex.server import app as app_module
from wire_signing import signed_headers

PATH = "/api/v2/spot/trade/orderInfo"


def _order_info(app, account, order_id: str) -> tuple[int, dict]:
    query = f"orderId={order_id}"
    headers = signed_headers(account.api_key, account.secret_key, account.passphrase, "GET", PATH, query)
    headers = {name.upper() if i % 2 else name.title(): v for i, (name, v) in enumerate(headers.items())}
    scope = {"type": "http", "method": "GET", "path": PATH, "raw_path": PATH.encode(),
             "query_string": query.encode(), "client": ("127.0.0.1", 1),
             "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}
    sent: list = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent[0]["status"], json.loads(sent[1]["body"])


@pytest.mark.parametrize("names_kept", [app_module._MAX_HEADER_NAMES, 0])
def test_a_request_signed_with_header_names_in_any_case_is_read(monkeypatch, names_kept):
    # with the names decoded once and kept, and with no room left to keep them
    monkeypatch.setattr(app_module, "_HEADER_NAMES", {})
    monkeypatch.setattr(app_module, "_MAX_HEADER_NAMES", names_kept)
    app, accounts = build_app(":memory:", seed=0, rate_limits=False)
    account = next(a for a in accounts if a.venue == "bitget")
    for _ in range(2):
        status, body = _order_info(app, account, "1")
        assert (status, body["code"], body["data"]) == (200, "00000", [])
    assert len(app_module._HEADER_NAMES) == min(names_kept, 5)
    assert all(name == name.lower() for name in app_module._HEADER_NAMES.values())
    entry = app.journal.entries()[-1]
    assert set(entry.headers) == {"access-key", "access-sign", "access-timestamp",
                                  "access-passphrase", "content-type"}
