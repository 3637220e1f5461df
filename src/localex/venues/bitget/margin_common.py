"""Bitget doc family "margin / common". Margin trading is not emulated: no pair is marginable."""

from __future__ import annotations

from localex.venues.bitget.routes import Call, route


@route("GET", "/api/v2/margin/currencies", signed=False, limit=10)
def currencies(call: Call) -> list:
    return []
