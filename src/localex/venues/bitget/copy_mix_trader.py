"""Bitget doc family "copy trading / future copy trade / trader" (/api/v2/copy/mix-trader/...):
current and history tracking orders, closing them, their TP/SL, the trader's summary, profit
shares, copy-symbol and global settings, followers.

Every endpoint needs a key with the copy-trading permission and is limited to 5 requests per
second per UID. Choices made where the pages are silent are in docs/fidelity.md.
"""

from __future__ import annotations

from decimal import Decimal

from localex.engine.copy import SymbolChange, TraderSummary, Tracking
from localex.engine.futures import UNCHANGED
from localex.engine.model import Instrument, Permission
from localex.venues.bitget import fmt
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.params import Params, is_long
from localex.venues.bitget.routes import Call, route

VENUE = "bitget"
TRADER = "/api/v2/copy/mix-trader/"
COPY = Permission.COPY_TRADE
RATE = 5  # requests per second per UID, every trader page
PRODUCT_TYPES = ("USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES")
THREE_MONTHS_DAYS = 90
RATIO_MIN, RATIO_MAX = 1, 400
SETTING_LIST_MAX = 50
YES_NO = {"yes": True, "no": False}
ORDERS = {"asc": "asc", "desc": "desc"}
SETTING_TYPES = {"add": "add", "delete": "delete", "update": "update"}


# ---- shared by the trader and follower pages ---------------------------------------------------

def product_type(p: Params, name: str = "productType") -> str:
    """Canonical product type (any case accepted); its engine market is the lower-case form."""
    value = p.text(name, required=True)
    canonical = value.upper()
    if canonical not in PRODUCT_TYPES:
        raise BitgetError("40019", value)  # the venue's answer to an unknown product type (sic)
    return canonical


def market_of(product: str) -> str:
    return product.lower()


def tracking_no(p: Params, name: str = "trackingNo", required: bool = False) -> int | None:
    value = p.text(name, required)
    if value is None:
        return None
    if not is_long(value):
        raise BitgetError("43065")
    return int(value)


def cursor(p: Params, name: str) -> int | None:
    value = p.text(name)
    if value is None:
        return None
    if not is_long(value):
        raise BitgetError("40020", name)
    return int(value)


def page_number(p: Params, name: str, default: int, maximum: int | None = None) -> int:
    value = p.text(name)
    if value is None:
        return default
    if not is_long(value) or int(value) == 0:
        raise BitgetError("40020", name)
    number = int(value)
    if maximum is not None and number > maximum:
        raise BitgetError("40053", name, f"(0, {maximum}]")
    return number


def time_window(call: Call, default_days: int | None = THREE_MONTHS_DAYS) -> tuple[int | None, int | None]:
    """startTime / endTime: start after end is 40707, a span over three months 40705; with a
    default window, a missing start means three months before the end (or now)."""
    start, end = call.params.time_range(call.now_ms, default_days)
    if default_days is not None and start is None:
        start = (end if end is not None else call.now_ms) - default_days * 86_400_000
    return start, end


def contract_symbol(call: Call, market: str, required: bool = False, case_sensitive: bool = False) -> str | None:
    """A symbol of the product type; one that is not a contract there cannot be copied (40854)."""
    value = call.params.text("symbol", required)
    if value is None:
        return None
    symbol = value if case_sensitive else value.upper()
    inst = call.engine.instrument(VENUE, market, symbol)
    if inst is None or not inst.is_contract:
        if case_sensitive:
            return symbol  # filters nothing in; the venue answers an empty page
        raise BitgetError("40854")
    return symbol


def paged(fetch, lt: int | None, gt: int | None, newest_first: bool = True):
    """Cursor paging by id: rows nearest the cursor first, shown newest first (or oldest first);
    the end id is the row farthest along the way the pages travel, so passing it back as the
    same cursor continues without a gap or a repeat."""
    toward_newer = (gt is not None and lt is None) or (lt is None and gt is None and not newest_first)
    rows = fetch(ascending=toward_newer)
    end = rows[-1] if rows else None
    if toward_newer == newest_first:
        rows.reverse()
    return rows, end


class Instruments:
    """Instruments looked up once per request."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.cache: dict[tuple[str, str], Instrument] = {}

    def __call__(self, market: str, symbol: str) -> Instrument:
        key = (market, symbol)
        if key not in self.cache:
            self.cache[key] = self.engine.instrument(VENUE, market, symbol)
        return self.cache[key]


def fixed(value: Decimal, scale: int) -> str:
    return format(value.quantize(Decimal(1).scaleb(-scale)), "f")


def fee(value: Decimal, scale: int | None = None) -> str:
    """Fees read negative: "-2.62489" (trimmed) or, with a scale, "-3.20005000"."""
    if scale is not None:
        return fixed(-value, scale)
    return "-" + fmt.plain(value) if value else "0"


def price_or_blank(value: Decimal | None) -> str:
    return fmt.plain(value) if value is not None else ""


def percent(value: Decimal, places: int = 2) -> str:
    return fixed(value, places)


def stop_price(p: Params, name: str):
    """TP/SL on copy pages: absent or empty leaves it, 0 cancels it, a positive price sets it."""
    value = p.decimal(name)
    if value is None:
        return UNCHANGED
    if value < 0:
        raise BitgetError("40020", name)
    return None if value == 0 else value


def ratio(p: Params, name: str, code: str):
    """A TP/SL ratio: empty is UNCHANGED, 0 cancels (None), otherwise an integer 1..400."""
    value = p.text(name)
    if value is None:
        return UNCHANGED
    if not is_long(value):
        raise BitgetError(code, RATIO_MIN, RATIO_MAX)
    number = int(value)
    if number == 0:
        return None
    if not RATIO_MIN <= number <= RATIO_MAX:
        raise BitgetError(code, RATIO_MIN, RATIO_MAX)
    return number


def sub_params(call: Call, name: str, maximum: int) -> list[Params]:
    value = call.params.values.get(name)
    if value is None or value == []:
        raise BitgetError("40019", name)
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise BitgetError("40020", name)
    if len(value) > maximum:
        raise BitgetError("40058", name, maximum)
    return [Params(v) for v in value]


# ---- rows --------------------------------------------------------------------------------------

def current_row(tr: Tracking, inst: Instrument) -> dict:
    """Exactly the fields of order-current-track (seed 000), in the page's order."""
    return {
        "trackingNo": str(tr.tracking_no),
        "openOrderId": str(tr.open_order_id),
        "symbol": tr.symbol,
        "posSide": tr.pos_side,
        "openLeverage": str(tr.leverage),
        "openPriceAvg": fixed(tr.open_price, inst.price_scale),
        "openTime": str(tr.open_ms),
        "openSize": fmt.dp16(tr.open_size),
        "presetStopSurplusPrice": price_or_blank(tr.tp_price),
        "presetStopLossPrice": price_or_blank(tr.sl_price),
        "openFee": fee(tr.open_fee),
        "followCount": str(tr.follow_count),
    }


def history_row(tr: Tracking, inst: Instrument) -> dict:
    """The fields of order-history-track, in the page example's order."""
    return {
        "trackingNo": str(tr.tracking_no),
        "symbol": tr.symbol,
        "openOrderId": str(tr.open_order_id),
        "closeOrderId": str(tr.close_order_id) if tr.close_order_id is not None else "",
        "productType": tr.market,
        "posSide": tr.pos_side,
        "openLeverage": str(tr.leverage),
        "openPriceAvg": fixed(tr.open_price, inst.price_scale),
        "openTime": str(tr.open_ms),
        "openSize": fixed(tr.open_size, inst.size_scale),
        "closeSize": fixed(tr.close_size, inst.size_scale),
        "closeTime": str(tr.close_ms or 0),
        "closePriceAvg": fixed(tr.close_price, inst.price_scale),
        "stopType": tr.stop_type,
        "achievedPL": fixed(tr.achieved_pl, 8),
        "openFee": fee(tr.open_fee, 8),
        "closeFee": fee(tr.close_fee, 8),
        "cTime": str(tr.open_ms),
    }


def tracking_page(rows: list[Tracking], end: Tracking | None, instruments: Instruments, row) -> dict:
    return {"trackingList": [row(tr, instruments(tr.market, tr.symbol)) for tr in rows],
            "endId": str(end.tracking_no) if end is not None else ""}


# ---- tracking orders ---------------------------------------------------------------------------

@route("GET", TRADER + "order-current-track", permission=COPY, limit=RATE)
def order_current_track(call: Call) -> dict:
    p = call.params
    market = market_of(product_type(p))
    symbol = contract_symbol(call, market)
    start, end = time_window(call, default_days=None)
    limit = p.limit(20, 50, clamp=False)
    lt, gt = cursor(p, "idLessThan"), cursor(p, "idGreaterThan")
    rows, last = paged(lambda ascending: call.engine.copy.tracking_orders(
        call.uid, market, symbol=symbol, open_only=True, start_ms=start, end_ms=end,
        id_less_than=lt, id_greater_than=gt, limit=limit, ascending=ascending), lt, gt)
    return tracking_page(rows, last, Instruments(call.engine), current_row)


@route("GET", TRADER + "order-history-track", permission=COPY, limit=RATE)
def order_history_track(call: Call) -> dict:
    p = call.params
    market = market_of(product_type(p))
    symbol = contract_symbol(call, market)
    start, end = time_window(call)
    limit = p.limit(20, 100, clamp=False)
    order = p.enum("order", ORDERS, default="desc")
    lt, gt = cursor(p, "idLessThan"), cursor(p, "idGreaterThan")
    rows, last = paged(lambda ascending: call.engine.copy.tracking_orders(
        call.uid, market, symbol=symbol, open_only=False, start_ms=start, end_ms=end,
        id_less_than=lt, id_greater_than=gt, limit=limit, ascending=ascending), lt, gt,
        newest_first=order == "desc")
    return tracking_page(rows, last, Instruments(call.engine), history_row)


@route("POST", TRADER + "order-close-positions", permission=COPY, limit=RATE)
def order_close_positions(call: Call) -> list:
    """Seed 001: by trackingNo, by symbol, or every tracking order of the product type."""
    p = call.params
    product = product_type(p)
    market = market_of(product)
    number = tracking_no(p)
    symbol = contract_symbol(call, market)
    closed = call.engine.copy.close(call.uid, market, tracking_no=number, symbol=symbol)
    return [{"trackingNo": str(tr.tracking_no), "symbol": tr.symbol, "productType": product}
            for tr in closed]


@route("POST", TRADER + "order-modify-tpsl", permission=COPY, limit=RATE)
def order_modify_tpsl(call: Call) -> str:
    p = call.params
    number = tracking_no(p, required=True)
    market = market_of(product_type(p))
    tp, sl = stop_price(p, "stopSurplusPrice"), stop_price(p, "stopLossPrice")
    if p.text("stopSurplusPrice") is None and p.text("stopLossPrice") is None:
        raise BitgetError("40019", "stopSurplusPrice")
    call.engine.copy.modify_tpsl(call.uid, market, number, tp=tp, sl=sl)
    return "success"


# ---- summary and profit share --------------------------------------------------------------------

def _days(days: list[tuple[int, Decimal, Decimal]], key: str) -> list[dict]:
    if key == "rate":
        return [{"rate": fmt.plain(roi.quantize(Decimal("1e-6"))), "ctime": str(day)} for day, roi, _ in days]
    return [{"amount": fixed(profit, 2), "ctime": str(day)} for day, _, profit in days]


def summary_data(s: TraderSummary) -> dict:
    return {
        "roi": percent(s.roi),
        "tradingOrderNum": str(s.tracking_count),
        "totalFollowerNum": str(s.total_followers),
        "currentFollowerNum": str(s.current_followers),
        "totalpl": "$" + fixed(s.total_pl, 2),
        "gainNum": str(s.gains),
        "lossNum": str(s.losses),
        "winRate": fmt.plain(s.win_rate.quantize(Decimal("0.001"))),
        "tradingPairsAvailableList": s.symbols,
        "lastWeekRoiList": _days(s.week, "rate"),
        "lastWeekProfitList": _days(s.week, "amount"),
        "lastMonthRoiList": _days(s.month, "rate"),
        "lastMonthProfitList": _days(s.month, "amount"),
        "totalEquity": fixed(s.equity, 2),
    }


@route("GET", TRADER + "order-total-detail", permission=COPY, limit=RATE)
def order_total_detail(call: Call) -> dict:
    return summary_data(call.engine.copy.summary(call.uid))


@route("GET", TRADER + "profit-history-summarys", permission=COPY, limit=RATE)
def profit_history_summarys(call: Call) -> dict:
    s = call.engine.copy.profit_summary(call.uid)
    return {
        "profitSummary": {"yesterdayProfit": fmt.plain(s.yesterday), "sumProfit": fmt.plain(s.total),
                          "waitProfit": fmt.plain(s.pending), "yesterdayTime": str(s.yesterday_ms)},
        "profitHistoryList": [{"coin": coin, "profitCount": fmt.plain(total), "lastProfitTime": str(last)}
                              for coin, total, last in s.per_coin],
    }


@route("GET", TRADER + "profit-history-details", permission=COPY, limit=RATE)
def profit_history_details(call: Call) -> dict:
    p = call.params
    coin = p.text("coin")
    start, end = time_window(call)
    limit = p.limit(100, 100, clamp=False)
    lt, gt = cursor(p, "idLessThan"), cursor(p, "idGreaterThan")
    rows, last = paged(lambda ascending: call.engine.copy.profit_shares(
        call.uid, coin=coin.upper() if coin else None, start_ms=start, end_ms=end,
        id_less_than=lt, id_greater_than=gt, limit=limit, ascending=ascending), lt, gt)
    names = call.engine.copy.user_names(r.follower_uid for r in rows)
    return {"profitList": [{"profitId": str(r.profit_id), "coin": r.coin.lower(), "profit": fmt.plain(r.amount),
                            "nickName": names[r.follower_uid], "profitTime": str(r.created_ms)}
                           for r in rows],
            "endId": str(last.profit_id) if last is not None else ""}


def _page(rows: list, p: Params, size_default: int, size_max: int) -> list:
    size = page_number(p, "pageSize", size_default, size_max)
    number = page_number(p, "pageNo", 1)
    return rows[(number - 1) * size: number * size]


@route("GET", TRADER + "profit-details", permission=COPY, limit=RATE)
def profit_details(call: Call) -> list:
    p = call.params
    coin = p.text("coin")
    shares = [s for s in call.engine.copy.pending_shares(call.uid)
              if coin is None or s[1] == coin.upper()]
    names = call.engine.copy.user_names(s[0] for s in shares)
    rows = [{"coin": c.lower(), "profit": fmt.plain(amount), "nickName": names[f]} for f, c, amount in shares]
    return _page(rows, p, 20, 100)


@route("GET", TRADER + "profits-group-coin-date", permission=COPY, limit=RATE)
def profits_group_coin_date(call: Call) -> list:
    rows = [{"coin": coin.lower(), "profit": fmt.plain(amount), "profitTime": str(day)}
            for coin, amount, day in call.engine.copy.profit_by_coin_date(call.uid)]
    return _page(rows, call.params, 20, 50)


# ---- settings and followers -----------------------------------------------------------------------

@route("GET", TRADER + "config-query-symbols", permission=COPY, limit=RATE)
def config_query_symbols(call: Call) -> list:
    market = market_of(product_type(call.params))
    out = []
    for inst, cs in call.engine.copy.symbols(call.uid, VENUE, market):
        enabled = cs is not None and cs.enabled
        out.append({
            "symbol": inst.symbol,
            "openTrader": "yes" if enabled else "no",
            "minOpenCount": fmt.plain(cs.min_open_size if cs else inst.min_size),
            "maxLeverage": str(cs.max_leverage if cs else inst.max_leverage),
            "stopSurplusRatio": str(cs.tp_ratio) if cs and cs.tp_ratio else "",
            "stopLossRatio": str(cs.sl_ratio) if cs and cs.sl_ratio else "",
        })
    return out


@route("POST", TRADER + "config-setting-symbols", permission=COPY, limit=RATE)
def config_setting_symbols(call: Call) -> str:
    changes = []
    for entry in sub_params(call, "settingList", SETTING_LIST_MAX):
        symbol = entry.symbol(required=True)
        market = market_of(product_type(entry))
        action = entry.enum("settingType", SETTING_TYPES, required=True)
        tp, sl = ratio(entry, "stopSurplusRatio", "43056"), ratio(entry, "stopLossRatio", "43055")
        if action == "delete":
            tp = sl = UNCHANGED
        elif action == "add":  # on ADD, 0 or empty leaves it unset
            tp, sl = (None if v is UNCHANGED else v for v in (tp, sl))
        elif tp is UNCHANGED and sl is UNCHANGED:
            raise BitgetError("40019", "stopSurplusRatio")
        changes.append(SymbolChange(market, symbol, action, tp, sl))
    call.engine.copy.set_symbols(call.uid, VENUE, changes)
    return "success"


@route("POST", TRADER + "config-settings-base", permission=COPY, limit=RATE)
def config_settings_base(call: Call) -> str:
    p = call.params
    flags = {"enabled": p.enum("enable", YES_NO), "show_total_equity": p.enum("showTotalEquity", YES_NO),
             "show_tpsl": p.enum("showTpsl", YES_NO)}
    if all(v is None for v in flags.values()):
        raise BitgetError("40019", "enable")
    call.engine.copy.set_base(call.uid, **flags)
    return "success"


@route("GET", TRADER + "config-query-followers", permission=COPY, limit=RATE)
def config_query_followers(call: Call) -> list:
    start, end = time_window(call, default_days=None)
    views = call.engine.copy.followers(call.uid, start, end)
    rows = [{"accountEquity": fixed(v.equity, 4), "isRemove": "yes", "followerHeadPic": "",
             "followerName": v.user.name, "followerUid": v.user.uid,
             "followerTime": str(v.follow.first_followed_ms)} for v in views]
    return _page(rows, call.params, 20, 100)


@route("POST", TRADER + "config-remove-follower", permission=COPY, limit=RATE)
def config_remove_follower(call: Call) -> str:
    follower = call.params.text("followerUid", required=True)
    call.engine.copy.remove_follower(call.uid, follower)
    return "success"

