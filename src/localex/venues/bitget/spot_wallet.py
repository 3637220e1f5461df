"""Bitget doc family "spot / wallet" (asset transfers between a user's own accounts): transfer,
transfer-coin-info. Their records and bills are in spot_account.py."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.model import Permission
from localex.engine.spot import scale_of
from localex.venues.bitget.contract_market import VENUE
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.params import Params
from localex.venues.bitget.routes import Call, route
from localex.venues.bitget.spot_trade import CLIENT_OID_MAX

# the account types localex keeps, as the engine names them
ACCOUNT_TYPES = {"spot": "spot", "usdt_futures": "usdt-futures", "coin_futures": "coin-futures",
                 "usdc_futures": "usdc-futures"}
ACCOUNT_NAMES = {account: name for name, account in ACCOUNT_TYPES.items()}
# p2p, crossed_margin and isolated_margin are the venue's too, but not kept here: refused like an
# unknown value (docs/fidelity.md)
AMOUNT_PLACES = 8


def account_type(p: Params, name: str) -> str:
    value = p.text(name, required=True).lower()  # type: ignore[union-attr]
    if value not in ACCOUNT_TYPES:
        raise BitgetError("40020", name)
    return ACCOUNT_TYPES[value]


@route("POST", "/api/v2/spot/wallet/transfer", permission=Permission.TRANSFER, limit=10)
def transfer(call: Call) -> dict:
    """Move a coin between the spot account and a futures account (usdt_futures, coin_futures,
    usdc_futures), balances checked; a clientOid already used answers that transfer again."""
    p = call.params
    from_account = account_type(p, "fromType")
    to_account = account_type(p, "toType")
    amount = p.decimal("amount", required=True)
    if amount <= 0 or scale_of(amount) > AMOUNT_PLACES:  # type: ignore[operator,arg-type]
        raise BitgetError("40020", "amount")
    coin = p.text("coin", required=True).upper()  # type: ignore[union-attr]
    p.symbol()  # isolated margin's, which is not kept here
    client_oid = p.text("clientOid")
    if client_oid is not None and len(client_oid) > CLIENT_OID_MAX:
        raise BitgetError("40020", "clientOid")
    done = call.engine.transfer(call.uid, coin, Decimal(amount), from_account, to_account, client_oid)
    return {"transferId": str(done.transfer_id), "clientOid": client_oid}


@route("GET", "/api/v2/spot/wallet/transfer-coin-info", limit=10)
def transfer_coin_info(call: Call) -> list:
    """The coins that can move from fromType to toType: those both accounts hold."""
    p = call.params
    from_account = account_type(p, "fromType")
    to_account = account_type(p, "toType")
    if from_account == to_account:
        return []
    coins = call.engine.transferable(VENUE, from_account) & call.engine.transferable(VENUE, to_account)
    return sorted(coins)
