"""Bitget doc family "common": public endpoints shared by every product."""

from __future__ import annotations

from localex.venues.bitget.routes import Call, route


@route("GET", "/api/v2/public/time", signed=False, limit=20)
def server_time(call: Call) -> dict:
    # Served from the clock signatures are checked against, so clients that sync their
    # timestamps to it (ccxt's adjustForTimeDifference) keep signing valid requests.
    return {"serverTime": str(call.wall_ms)}
