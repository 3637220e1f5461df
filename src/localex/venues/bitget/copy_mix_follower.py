"""Bitget doc family "copy trading / future copy trade / follower" (/api/v2/copy/mix-follower/...):
follow settings (per symbol, or the newer copy amount), the traders followed, the follower's
current and history tracking orders, their TP/SL, closing them, unfollowing, follow limits.

Every endpoint needs a key with the copy-trading permission; 5 requests per second per UID,
copy-settings 1 per second, query-quantity-limit 10 per second per IP.
"""

from __future__ import annotations

from decimal import Decimal

from localex.engine.copy import FollowerCopy, FollowerSetting, TraceType
from localex.engine.model import Instrument, MarginMode, Permission, PositionSide
from localex.venues.bitget import fmt
from localex.venues.bitget.copy_mix_trader import (
    VENUE,
    Instruments,
    contract_symbol,
    fee,
    fixed,
    market_of,
    paged,
    product_type,
    ratio,
    stop_price,
    sub_params,
    time_window,
    tracking_no,
    cursor,
    _page,
)
from localex.engine.futures import UNCHANGED
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.params import Params, is_long
from localex.venues.bitget.routes import Call, route

FOLLOWER = "/api/v2/copy/mix-follower/"
COPY = Permission.COPY_TRADE
RATE = 5
SETTINGS_MAX = 10
COPY_AMOUNT_MIN = 50
MAX_FOLLOW_LIMIT = 1000  # traders a follower may follow (the page's example)
BGB_MAX_FOLLOW_LIMIT = 100

MODES = {"basic": "basic", "advanced": "advanced"}
ON_OFF = {"on": True, "off": False}
YES_NO = {"yes": True, "no": False}
MARGIN_TYPES = {"trader": "trader", "specify": "specify"}
LEVER_TYPES = {"position": "position", "specify": "specify", "trader": "trader"}
TRACE_TYPES = {"percent": TraceType.MULTIPLE, "amount": TraceType.FIXED_AMOUNT, "count": TraceType.FIXED_SIZE}
TRACE_NAMES = {v.value: k for k, v in TRACE_TYPES.items()}
COPY_MARGIN_MODES = {"follow_trader": "follow_trader", "crossed_margin": "crossed",
                     "isolated_margin": "isolated"}
COPY_LEVERAGES = {"follow_trader": "follow_trader", "fixed_leverage": "fixed"}
GUARDIAN_MODES = {"amount": "amount", "percentage": "percentage"}
CLOSE_MARGIN_MODES = {"isolated": MarginMode.ISOLATED, "cross": MarginMode.CROSSED,
                      "crossed": MarginMode.CROSSED}
HOLD_SIDES = {"long": PositionSide.LONG, "short": PositionSide.SHORT}


def trader_id(p: Params) -> str:
    return p.text("traderId", required=True)


def leverage_value(p: Params, name: str) -> int | None:
    value = p.text(name)
    if value is None:
        return None
    if not is_long(value) or not 1 <= int(value) <= 125:
        raise BitgetError("40020", name)
    return int(value)


def positive(p: Params, name: str, required: bool = False) -> Decimal | None:
    value = p.decimal(name, required)
    if value is not None and value <= 0:
        raise BitgetError("40020", name)
    return value


# ---- rows ----------------------------------------------------------------------------------------

def current_row(c: FollowerCopy, inst: Instrument, trader_name: str) -> dict:
    """query-current-orders: the page example's fields in its order, then openPriceAvg and
    openFee, which its field table adds."""
    return {
        "trackingNo": str(c.tracking_no),
        "traderName": trader_name,
        "openOrderId": str(c.open_order_id),
        "closeOrderId": "",
        "traderId": c.trader_uid,
        "symbol": c.symbol,
        "posSide": c.pos_side,
        "openLeverage": str(c.leverage),
        "openAvgPrice": fixed(c.open_price, inst.price_scale),
        "openTime": str(c.open_ms),
        "openSize": fmt.dp16(c.open_size),
        "closeAvgPrice": "0",
        "closeSize": fmt.dp16(c.close_size),
        "openMarginSz": fmt.plain(c.open_margin.quantize(Decimal("1e-8"))),
        "closeTime": "0",
        "openPriceAvg": fixed(c.open_price, inst.price_scale),
        "openFee": fee(c.open_fee),
    }


def history_row(c: FollowerCopy, inst: Instrument) -> dict:
    rate = c.achieved_pl / c.open_margin * 100 if c.open_margin else Decimal(0)
    return {
        "trackingNo": str(c.tracking_no),
        "posSide": c.pos_side,
        "openLeverage": str(c.leverage),
        "openSize": fixed(c.open_size, inst.size_scale),
        "closeSize": fixed(c.close_size, inst.size_scale),
        "openPriceAvg": fixed(c.open_price, inst.price_scale),
        "closePriceAvg": fixed(c.close_price, inst.price_scale),
        "achievedPL": fixed(c.achieved_pl, 8),
        "openFee": fee(c.open_fee, 8),
        "closeFee": fee(c.close_fee, 8),
        "symbol": c.symbol,
        "profitRate": fixed(rate, 2),
        "netProfit": fixed(c.net_profit, 8),
        "openOrderId": str(c.open_order_id),
        "closeOrderId": str(c.close_order_id) if c.close_order_id is not None else "",
        "openTime": str(c.open_ms),
        "closeTime": str(c.close_ms or 0),
        "traderId": c.trader_uid,
        "productType": c.market,
    }


def setting_row(st: FollowerSetting) -> dict:
    return {
        "symbol": st.symbol,
        "productType": st.market.upper(),
        "marginType": st.margin_type,
        "marginCoin": st.margin_coin,
        "leverType": st.lever_type,
        "longLeverage": str(st.long_leverage) if st.long_leverage else "",
        "shortLeverage": str(st.short_leverage) if st.short_leverage else "",
        "traceType": TRACE_NAMES[st.trace_type],
        "traceValue": fmt.plain(st.trace_value),
        "maxHoldSize": fmt.plain(st.max_hold_size) if st.max_hold_size is not None else "",
        "stopSurplusRatio": str(st.tp_ratio) if st.tp_ratio else "",
        "stopLossRatio": str(st.sl_ratio) if st.sl_ratio else "",
    }


# ---- settings ------------------------------------------------------------------------------------

@route("POST", FOLLOWER + "settings", permission=COPY, limit=RATE)
def settings(call: Call) -> str:
    p = call.params
    trader = trader_id(p)
    auto_copy = p.enum("autoCopy", ON_OFF)
    mode = p.enum("mode", MODES, default="advanced")
    parsed = []
    for entry in sub_params(call, "settings", SETTINGS_MAX):
        symbol = entry.symbol(required=True)
        market = market_of(product_type(entry))
        margin_type = entry.enum("marginType", MARGIN_TYPES, required=True)
        lever_type = entry.enum("leverType", LEVER_TYPES, required=True)
        trace = entry.enum("traceType", TRACE_TYPES, required=True)
        value = positive(entry, "traceValue", required=True)
        tp, sl = ratio(entry, "stopSurplusRatio", "43056"), ratio(entry, "stopLossRatio", "43055")
        parsed.append(FollowerSetting(
            trader_uid=trader, follower_uid=call.uid, market=market, symbol=symbol,
            margin_type=margin_type, margin_coin=(entry.text("marginCoin") or "").upper(),
            lever_type=lever_type, long_leverage=leverage_value(entry, "longLeverage"),
            short_leverage=leverage_value(entry, "shortLeverage"), trace_type=trace.value,
            trace_value=value, max_hold_size=positive(entry, "maxHoldSize"),
            tp_ratio=None if tp is UNCHANGED else tp, sl_ratio=None if sl is UNCHANGED else sl))
    call.engine.copy.follow(call.uid, trader, parsed, mode=mode, auto_copy=auto_copy)
    return "success"


@route("POST", FOLLOWER + "copy-settings", permission=COPY, limit=1)
def copy_settings(call: Call) -> str:
    p = call.params
    trader = trader_id(p)
    amount_text = p.text("copyAmount", required=True)
    if not is_long(amount_text):
        raise BitgetError("40020", "copyAmount")
    if int(amount_text) < COPY_AMOUNT_MIN:
        raise BitgetError("40053", "copyAmount", f"[{COPY_AMOUNT_MIN}, +∞)")
    p.enum("copyAllPostions", YES_NO)
    auto_copy = p.enum("autoCopy", ON_OFF)
    if p.enum("equityGuardian", ON_OFF, default=False):
        p.enum("equityGuardianMode", GUARDIAN_MODES)
        p.text("equity", required=True)
    margin_mode = p.enum("marginMode", COPY_MARGIN_MODES, default="follow_trader")
    leverage_type = p.enum("leverage", COPY_LEVERAGES, default="follow_trader")
    multiple = leverage_value(p, "multiple") or 10
    call.engine.copy.copy_settings(call.uid, trader, Decimal(int(amount_text)), margin_mode=margin_mode,
                                   leverage_type=leverage_type, leverage=multiple, auto_copy=auto_copy)
    return "success"


@route("GET", FOLLOWER + "query-settings", permission=COPY, limit=RATE)
def query_settings(call: Call) -> dict:
    follow, rows = call.engine.copy.follower_settings(call.uid, trader_id(call.params))
    following = follow is not None and follow.active
    return {"followerEnable": "YES" if following else "NO",
            "detailList": [setting_row(st) for st in rows] if following else []}


@route("GET", FOLLOWER + "query-traders", permission=COPY, limit=RATE)
def query_traders(call: Call) -> list:
    start, end = time_window(call, default_days=None)
    views = call.engine.copy.my_traders(call.uid, start, end)
    rows = [{
        "certificationType": "Uncertified",
        "traderId": v.trader.uid,
        "traderName": v.trader.name,
        "maxFollowLimit": str(MAX_FOLLOW_LIMIT),
        "followCount": str(len(views)),
        "traceTotalMarginAmount": fixed(v.margin, 4),
        "traceTotalNetProfit": fixed(v.net_profit, 4),
        "traceTotalProfit": fixed(v.profit, 4),
        "currentTradingPairs": v.symbols,
        "followerTime": str(v.follow.first_followed_ms),
        "bgbMaxFollowLimit": str(BGB_MAX_FOLLOW_LIMIT),
        "bgbFollowCount": "0",
    } for v in views]
    return _page(rows, call.params, 20, 50)


# ---- tracking orders -------------------------------------------------------------------------------

def _orders(call: Call, open_only: bool):
    p = call.params
    market = market_of(product_type(p))
    symbol = contract_symbol(call, market, case_sensitive=True)  # "case sensitive" here
    trader = p.text("traderId")
    start, end = time_window(call)
    limit = p.limit(20, 100, clamp=False)
    lt, gt = cursor(p, "idLessThan"), cursor(p, "idGreaterThan")
    return paged(lambda ascending: call.engine.copy.follower_copies(
        call.uid, trader_uid=trader, market=market, symbol=symbol, open_only=open_only,
        start_ms=start, end_ms=end, id_less_than=lt, id_greater_than=gt, limit=limit,
        ascending=ascending), lt, gt)


@route("GET", FOLLOWER + "query-current-orders", permission=COPY, limit=RATE)
def query_current_orders(call: Call) -> dict:
    rows, last = _orders(call, open_only=True)
    instruments = Instruments(call.engine)
    names = call.engine.copy.user_names(c.trader_uid for c in rows)
    return {"trackingList": [current_row(c, instruments(c.market, c.symbol), names[c.trader_uid])
                             for c in rows],
            "endId": str(last.tracking_no) if last is not None else ""}


@route("GET", FOLLOWER + "query-history-orders", permission=COPY, limit=RATE)
def query_history_orders(call: Call) -> dict:
    rows, last = _orders(call, open_only=False)
    instruments = Instruments(call.engine)
    return {"trackingList": [history_row(c, instruments(c.market, c.symbol)) for c in rows],
            "endId": str(last.tracking_no) if last is not None else ""}


@route("POST", FOLLOWER + "setting-tpsl", permission=COPY, limit=RATE)
def setting_tpsl(call: Call) -> str:
    p = call.params
    number = tracking_no(p, required=True)
    market = market_of(product_type(p))
    symbol = p.symbol()
    tp, sl = stop_price(p, "stopSurplusPrice"), stop_price(p, "stopLossPrice")
    call.engine.copy.follower_tpsl(call.uid, market, number, symbol=symbol, tp=tp, sl=sl)
    return "success"


@route("POST", FOLLOWER + "close-positions", permission=COPY, limit=RATE)
def close_positions(call: Call) -> dict:
    p = call.params
    market = market_of(product_type(p))
    number = tracking_no(p)
    symbol = p.symbol()
    p.text("marginCoin")
    margin_mode = p.enum("marginMode", CLOSE_MARGIN_MODES)
    side = p.enum("holdSide", HOLD_SIDES)
    closed = call.engine.copy.follower_close(call.uid, market, tracking_no=number, symbol=symbol,
                                             margin_mode=margin_mode, side=side)
    return {"orderIdList": [str(c.close_order_id) for c in closed if c.close_order_id is not None]}


@route("POST", FOLLOWER + "cancel-trader", permission=COPY, limit=RATE)
def cancel_trader(call: Call) -> str:
    call.engine.copy.unfollow(call.uid, trader_id(call.params))
    return "success"


@route("GET", FOLLOWER + "query-quantity-limit", permission=COPY, limit=10, per="ip")
def query_quantity_limit(call: Call) -> list:
    p = call.params
    market = market_of(product_type(p))
    symbol = contract_symbol(call, market)
    out = []
    for inst in call.engine.instruments(VENUE, market):
        if inst.is_contract and (symbol is None or inst.symbol == symbol):
            out.append({"maxFollowSize": fmt.plain(inst.max_size), "minFollowSize": fmt.plain(inst.min_size),
                        "symbol": inst.symbol})
    return out

