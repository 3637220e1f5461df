"""Bitget doc family "common": public endpoints shared by every product."""

from __future__ import annotations

from localex.venues.bitget.routes import Call, route


@route("GET", "/api/v2/public/time", signed=False, limit=20)
def server_time(call: Call) -> dict:
    # Served from the clock signatures are checked against, so clients that sync their
    # timestamps to it (ccxt's adjustForTimeDifference) keep signing valid requests.
    return {"serverTime": str(call.wall_ms)}


BUSINESS_TYPES = {"spot": "spot", "margin": "margin", "mix": "mix", "contract": "mix"}


@route("GET", "/api/v2/common/trade-rate", limit=10)
def trade_rate(call: Call) -> dict:
    """The user's maker and taker rates for a symbol and business type (spot, margin, mix):
    the instrument's own rates (localex has no VIP tiers). Margin is not emulated: its rates
    are the spot symbol's."""
    from localex.engine.spot import SPOT
    from localex.venues.bitget import fmt
    from localex.venues.bitget.contract_market import MARKETS
    from localex.venues.bitget.errors import BitgetError

    symbol = call.params.symbol(required=True)
    business = call.params.enum("businessType", BUSINESS_TYPES, required=True)
    markets = [SPOT] if business in ("spot", "margin") else list(MARKETS.values())
    for market in markets:
        inst = call.engine.instrument("bitget", market, symbol)
        if inst is not None:
            return {"makerFeeRate": fmt.plain(inst.maker_fee), "takerFeeRate": fmt.plain(inst.taker_fee)}
    raise BitgetError("40034", symbol)
