"""Bitget doc family "spot / account"."""

from __future__ import annotations

from localex.engine.model import Permission
from localex.engine.spot import SPOT_ACCOUNT
from localex.venues.bitget import fmt
from localex.venues.bitget.routes import Call, route

AUTHORITIES = {
    Permission.READ: "readonly",
    Permission.SPOT_TRADE: "trade",
    Permission.FUTURES_TRADE: "contract_trade",
    Permission.COPY_TRADE: "copytrading_trade",
    Permission.TRANSFER: "transfer",
    Permission.WITHDRAW: "withdraw",
}


@route("GET", "/api/v2/spot/account/assets", limit=10)
def assets(call: Call) -> list:
    coin = call.params.text("coin")
    asset_type = call.params.enum("assetType", {"hold_only": "hold_only", "all": "all"},
                                  default="hold_only")
    if coin is not None:
        balances = [call.engine.balance(call.uid, coin.upper(), SPOT_ACCOUNT)]
    else:
        balances = [b for b in call.engine.balances(call.uid, SPOT_ACCOUNT)
                    if asset_type == "all" or b.total != 0]
    return [
        {
            "coin": b.asset,
            "available": fmt.dp8(b.available),
            "limitAvailable": "0",
            "frozen": fmt.dp8(b.frozen),
            "locked": fmt.dp8(0 * b.frozen),
            "uTime": str(b.updated_ms or call.now_ms),
        }
        for b in balances
    ]


@route("GET", "/api/v2/spot/account/info", limit=1)
def info(call: Call) -> dict:
    key = call.key
    user = call.engine.get_user(call.uid)
    authorities = [AUTHORITIES[p] for p in sorted({Permission.READ, *key.permissions}, key=lambda p: p.value)]
    return {
        "userId": user.uid,
        "inviterId": "",
        "ips": ",".join(key.ip_whitelist),
        "authorities": authorities,
        "parentId": int(user.uid),
        "traderType": "not_trader",
        "channelCode": "",
        "channel": "",
        "regisTime": str(user.created_ms),
    }
