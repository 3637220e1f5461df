"""Copy trading through the control plane: elite traders and their followers, seeded directly."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from localex.control import ControlError, to_json
from localex.engine.copy import FollowerSetting, TraceType

DEFAULT_MARKET = "usdt-futures"
TRACE_TYPES = {t.value for t in TraceType if t is not TraceType.RATIO}


def _decimal(value, name: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ControlError(400, "bad_field", f"'{name}' must be a decimal number") from None
    if not result.is_finite():
        raise ControlError(400, "bad_field", f"'{name}' must be a decimal number")
    return result


def _int(value, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not str(value).isdigit():
        raise ControlError(400, "bad_field", f"'{name}' must be a positive integer")
    return int(value)


def _uid(body: dict, name: str = "uid") -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ControlError(400, "missing_field", f"'{name}' is required")
    return value


def _market(entry: dict, default: str) -> str:
    value = entry.get("productType", entry.get("market", default))
    if not isinstance(value, str):
        raise ControlError(400, "bad_field", "'productType' must be a string")
    return value.lower()


def make_trader(engine, body: dict) -> dict:
    uid = _uid(body)
    market = _market(body, DEFAULT_MARKET)
    symbols = []
    for entry in body.get("symbols") or []:
        if isinstance(entry, str):
            symbols.append((market, entry.upper()))
        elif isinstance(entry, dict) and isinstance(entry.get("symbol"), str):
            symbols.append((_market(entry, market), entry["symbol"].upper()))
        else:
            raise ControlError(400, "bad_field", "'symbols' holds symbols or {symbol, productType}")
    ratio = body.get("profitShareRatio")
    trader = engine.copy.make_trader(
        uid, symbols, profit_share_ratio=_decimal(ratio, "profitShareRatio") if ratio is not None else None,
        max_followers=_int(body.get("maxFollowers"), "maxFollowers"),
        max_leverage=_int(body.get("maxLeverage"), "maxLeverage"))
    return {**to_json(trader), "symbols": [{"productType": m.upper(), "symbol": s} for m, s in symbols]}


def follow_trader(engine, body: dict) -> dict:
    uid, trader_uid = _uid(body), _uid(body, "traderUid")
    if body.get("copyAmount") is not None:
        follow = engine.copy.copy_settings(uid, trader_uid, _decimal(body["copyAmount"], "copyAmount"))
        return to_json(follow)
    settings = []
    for entry in body.get("settings") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("symbol"), str):
            raise ControlError(400, "bad_field", "'settings' holds {symbol, productType, traceType, traceValue}")
        trace = entry.get("traceType", TraceType.FIXED_AMOUNT.value)
        if trace not in TRACE_TYPES:
            raise ControlError(400, "bad_field", f"'traceType' is one of {', '.join(sorted(TRACE_TYPES))}")
        settings.append(FollowerSetting(
            trader_uid, uid, _market(entry, DEFAULT_MARKET), entry["symbol"].upper(),
            margin_type=entry.get("marginType", "trader"), lever_type=entry.get("leverType", "trader"),
            long_leverage=_int(entry.get("longLeverage"), "longLeverage"),
            short_leverage=_int(entry.get("shortLeverage"), "shortLeverage"), trace_type=trace,
            trace_value=_decimal(entry.get("traceValue", "100"), "traceValue"),
            max_hold_size=_decimal(entry["maxHoldSize"], "maxHoldSize") if entry.get("maxHoldSize") else None,
            tp_ratio=_int(entry.get("stopSurplusRatio"), "stopSurplusRatio"),
            sl_ratio=_int(entry.get("stopLossRatio"), "stopLossRatio")))
    if not settings:
        raise ControlError(400, "missing_field", "'settings' or 'copyAmount' is required")
    return {**to_json(engine.copy.follow(uid, trader_uid, settings)), "settings": to_json(settings)}


def tracking_orders(engine, query) -> list:
    uid = query.get("uid")
    if not uid:
        raise ControlError(400, "missing_field", "'uid' is required")
    status = query.get("status", "open")
    if status not in ("open", "closed", "all"):
        raise ControlError(400, "bad_field", "'status' is one of open, closed, all")
    rows = engine.copy.tracking_orders(uid, query.get("productType", DEFAULT_MARKET).lower(),
                                       open_only={"open": True, "closed": False, "all": None}[status],
                                       limit=1000)
    return [{**to_json(tr), "copies": to_json(engine.copy.copies_of(tr.tracking_no))} for tr in rows]
