"""Bitget doc family "spot / account": assets, info, bills, transferRecords."""

from __future__ import annotations

from localex.engine.accounts import TRANSFER_IN, TRANSFER_OUT
from localex.engine.model import ZERO, Permission
from localex.engine.spot import SPOT_ACCOUNT, TRADE_BUY, TRADE_FEE, TRADE_SELL
from localex.venues.bitget import fmt
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route

# the engine's bill kinds on the spot account: (groupType, businessType)
SPOT_BILLS = {TRANSFER_IN: ("transfer", "transfer_in"), TRANSFER_OUT: ("transfer", "transfer_out"),
              TRADE_BUY: ("transaction", "buy"), TRADE_SELL: ("transaction", "sell"),
              TRADE_FEE: ("transaction", "deduction_of_handling_fee")}
GROUP_TYPES = ("deposit", "withdraw", "transaction", "transfer", "loan", "financial", "fait", "convert",
               "c2c", "pre_c2c", "on_chain", "strategy", "other")
QUERY_DAYS = 90

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


def _business(value: str) -> str:
    """businessType as the docs spell it in any of their versions ("transfer-in", "TRANSFER_IN",
    "transfer_in") in one form."""
    return value.lower().replace("-", "_").replace(" ", "_")


@route("GET", "/api/v2/spot/account/bills", limit=10)
def bills(call: Call) -> list:
    """The spot account's bills, newest first, cursor idLessThan (a billId), limit ≤ 500."""
    p = call.params
    coin = p.text("coin")
    group = p.text("groupType")
    if group is not None and group.lower() not in GROUP_TYPES:
        raise BitgetError("40020", "groupType")
    business = p.text("businessType")
    start, end = p.time_range(call.now_ms, QUERY_DAYS)
    limit = p.limit(100, 500)
    kinds = [k for k, (g, b) in SPOT_BILLS.items()
             if (group is None or g == group.lower()) and (business is None or b == _business(business))]
    if not kinds:
        return []
    rows = call.engine.bills(call.uid, account=SPOT_ACCOUNT, kinds=kinds,
                             asset=coin.upper() if coin else None, start_ms=start, end_ms=end,
                             id_less_than=p.order_id("idLessThan"), limit=limit)
    return [{"cTime": str(b.created_ms), "coin": b.asset, "groupType": SPOT_BILLS[b.kind][0],
             "businessType": SPOT_BILLS[b.kind][1], "size": fmt.dp8(b.amount), "balance": fmt.dp8(b.balance),
             "fees": fmt.dp8(ZERO), "billId": str(b.bill_id)} for b in rows]


@route("GET", "/api/v2/spot/account/transferRecords", limit=20)
def transfer_records(call: Call) -> list:
    """Transfers out of `fromType` in `coin` (both required), newest first, cursor idLessThan
    (a transferId), limit ≤ 500, 90-day span."""
    from localex.venues.bitget.spot_wallet import ACCOUNT_NAMES, account_type

    p = call.params
    coin = p.text("coin", required=True).upper()  # type: ignore[union-attr]
    from_account = account_type(p, "fromType")
    start, end = p.time_range(call.now_ms, QUERY_DAYS)
    limit = p.limit(100, 500)
    rows = call.engine.transfers(call.uid, asset=coin, from_account=from_account,
                                 client_oid=p.text("clientOid"), start_ms=start, end_ms=end,
                                 id_less_than=p.order_id("idLessThan"), limit=limit)
    return [{"coin": t.asset, "status": "Successful", "toType": ACCOUNT_NAMES[t.to_account], "toSymbol": "",
             "fromType": ACCOUNT_NAMES[t.from_account], "fromSymbol": "", "size": fmt.dp8(t.amount),
             "ts": str(t.created_ms), "clientOid": t.client_oid, "transferId": str(t.transfer_id)}
            for t in rows]
