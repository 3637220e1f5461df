"""Bitget doc family "contract / market" (futures public data)."""

from __future__ import annotations

from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route

PRODUCT_TYPES = ("USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES",
                 "SUSDT-FUTURES", "SCOIN-FUTURES", "SUSDC-FUTURES")


def product_type(call: Call) -> str:
    value = call.params.text("productType", required=True)
    canonical = value.upper()
    if canonical not in PRODUCT_TYPES:
        # the venue answers an unknown product type this way (sic)
        raise BitgetError("40019", value)
    return canonical


@route("GET", "/api/v2/mix/market/contracts", signed=False, limit=20)
def contracts(call: Call) -> list:
    product_type(call)
    return []
