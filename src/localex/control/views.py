"""Read-only control-plane views the dashboard shows (and any script may read): a user's API keys
(secrets never), fills, futures accounts with equity, positions with their PnL and liquidation
price, price paths, the mark history, copy-trading traders, the clock's kind.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from localex.control import ControlError, to_json
from localex.engine.clock import ManualClock, ScaledClock
from localex.engine.events import EventKind
from localex.engine.futures import liquidation_price, unrealized_pnl

FUTURES_MARKETS = {"bitget": ("usdt-futures", "coin-futures", "usdc-futures"), "coinw": ("futures",)}
HISTORY_POINTS = 2000  # mark prices kept per instrument for the chart


class MarkHistory:
    """The last HISTORY_POINTS mark prices of each instrument (market time, price), as committed
    (a subscriber of the engine's event feed)."""

    def __init__(self, capacity: int = HISTORY_POINTS) -> None:
        self.capacity = capacity
        self._points: dict[str, deque] = {}

    def __call__(self, events) -> None:
        for e in events:
            if e.kind is EventKind.MARK:
                key = e.obj.instrument
                points = self._points.get(key)
                if points is None:
                    points = self._points[key] = deque(maxlen=self.capacity)
                points.append((e.obj.updated_ms, e.obj.price))

    def points(self, key: str) -> list[tuple[int, Decimal]]:
        return list(self._points.get(key, ()))

    def clear(self) -> None:
        self._points.clear()


def _uid(query) -> str:
    uid = query.get("uid")
    if not uid:
        raise ControlError(400, "missing_field", "'uid' is required")
    return uid


def clock(engine) -> dict:
    c = engine.clock
    kind = "manual" if isinstance(c, ManualClock) else "speed" if isinstance(c, ScaledClock) else "system"
    return {"now": engine.now_ms(), "manual": kind == "manual", "kind": kind,
            "speed": c.speed if isinstance(c, ScaledClock) else 1}


def keys(engine, query) -> list:
    uid = _uid(query)
    engine.get_user(uid)
    return [{"apiKey": k.key, "uid": k.uid, "venue": k.venue, "kind": k.kind.value,
             "label": k.label, "permissions": sorted(p.value for p in k.permissions),
             "ipWhitelist": list(k.ip_whitelist), "hasPassphrase": bool(k.passphrase)}
            for k in engine.list_api_keys(uid)]


def futures_accounts(engine, query) -> list:
    """Each futures account of a user with a balance or a position: available, frozen, position
    margin, unrealized PnL and equity (all of it), in the market's settle coins."""
    uid = _uid(query)
    user = engine.get_user(uid)
    out = []
    for market in FUTURES_MARKETS.get(user.venue, ()):
        coins = {b.asset for b in engine.balances(uid, market)}
        coins |= {i.settle for i in engine.instruments(user.venue, market)
                  if any(p.symbol == i.symbol for p in engine.positions(uid, market=market))}
        for coin in sorted(coins):
            bal = engine.balance(uid, coin, account=market)
            _, margin, upnl = engine.futures_equity(uid, market, coin)
            out.append({"market": market, "asset": coin, "available": format(bal.available, "f"),
                        "frozen": format(bal.frozen, "f"), "margin": format(margin, "f"),
                        "unrealizedPnl": format(upnl, "f"),
                        "equity": format(bal.available + bal.frozen + margin + upnl, "f")})
    return out


def positions(engine, rows) -> list:
    """Positions as the control plane sends them, with markPrice, unrealizedPnl and
    liquidationPrice (null where none: crossed margin, or no price yet)."""
    out = []
    insts: dict = {}
    for pos in rows:
        key = (pos.venue, pos.market, pos.symbol)
        if key not in insts:
            inst = engine.instrument(*key)
            insts[key] = (inst, engine.mark(inst) if inst else None)
        inst, mark = insts[key]
        row = to_json(pos)
        upnl = unrealized_pnl(inst, pos, mark) if (inst and mark and pos.open) else None
        liq = liquidation_price(inst, pos) if (inst and pos.open) else None
        row.update({"markPrice": None if mark is None else format(mark, "f"),
                    "unrealizedPnl": None if upnl is None else format(upnl, "f"),
                    "liquidationPrice": None if liq is None else format(liq, "f")})
        out.append(row)
    return out


def fills(engine, query) -> list:
    """A user's fills, newest first: ?uid=&market=(spot default)&symbol=&orderId=&limit="""
    uid = _uid(query)
    engine.get_user(uid)
    market = query.get("market", "spot")
    symbol = query.get("symbol").upper() if query.get("symbol") else None
    order_id = query.get("orderId")
    if order_id is not None and not order_id.isdigit():
        raise ControlError(400, "bad_field", "'orderId' must be a numeric order id")
    limit = query.get("limit", "500")
    if not limit.isdigit():
        raise ControlError(400, "bad_field", "'limit' must be a non-negative integer")
    filters = {"symbol": symbol, "order_id": int(order_id) if order_id else None, "limit": int(limit)}
    if market == "spot":
        return to_json(engine.spot_fills(uid, **filters))
    return to_json(engine.futures_fills(uid, market=market, **filters))


def paths(engine) -> list:
    out = []
    for key, (inst, path) in sorted(engine.simulation.paths.items()):
        kind = {"RandomWalk": "random_walk", "CandleReplay": "candles"}.get(type(path).__name__,
                                                                            type(path).__name__)
        row = {"venue": inst.venue, "market": inst.market, "symbol": inst.symbol, "kind": kind}
        if kind == "random_walk":
            row.update({"drift": path.drift, "volatility": path.volatility, "stepMs": path.step_ms})
        elif kind == "candles":
            row["intervalMs"] = path.interval_ms
        out.append(row)
    return out


def mark_history(engine, history: MarkHistory, query) -> dict:
    """?venue=&market=&symbol= -> {"points": [[marketMs, "price"], ...]} oldest first."""
    venue, symbol = query.get("venue"), query.get("symbol")
    if not venue or not symbol:
        raise ControlError(400, "missing_field", "'venue' and 'symbol' are required")
    market = query.get("market", "spot")
    inst = engine.instrument(venue, market, symbol.upper())
    if inst is None:
        raise ControlError(404, "not_found", f"no instrument {venue} {market} {symbol}")
    points = history.points(inst.key)
    mark = engine.mark(inst)
    if not points and mark is not None:
        points = [(engine.now_ms(), mark)]
    return {"venue": venue, "market": market, "symbol": inst.symbol,
            "points": [[t, format(p, "f")] for t, p in points]}


def copy_traders(engine, query) -> list:
    """Every elite trader of a venue (bitget by default) with their followers and profit shares."""
    venue = query.get("venue", "bitget")
    out = []
    for user in engine.list_users(venue):
        if not engine.copy.is_trader(user.uid):
            continue
        trader = engine.copy.trader(user.uid)
        followers = [{"uid": f.user.uid, "name": f.user.name, "active": f.follow.active,
                      "mode": f.follow.mode, "equity": format(f.equity, "f")}
                     for f in engine.copy.followers(user.uid)]
        shares = [{"profitId": str(s.profit_id), "followerUid": s.follower_uid, "coin": s.coin,
                   "amount": format(s.amount, "f"), "followerTrackingNo": str(s.follower_tracking_no),
                   "createdMs": s.created_ms} for s in engine.copy.profit_shares(user.uid)]
        out.append({"uid": user.uid, "name": user.name,
                    "profitShareRatio": format(trader.profit_share_ratio, "f"),
                    "maxFollowers": trader.max_followers, "followers": followers,
                    "profitShares": shares})
    return out


CANDLE_INTERVALS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "4h": 14_400_000,
                    "1d": 86_400_000}


def candles(engine, query) -> dict:
    """The market tape's candles of one instrument, oldest first:
    ?venue=&market=(spot)&symbol=&interval=1m|5m|15m|1h|4h|1d&limit=(1..1000, 200)"""
    from localex.engine.tape import Interval

    venue, symbol = query.get("venue"), query.get("symbol")
    if not venue or not symbol:
        raise ControlError(400, "missing_field", "'venue' and 'symbol' are required")
    market = query.get("market", "spot")
    inst = engine.instrument(venue, market, symbol.upper())
    if inst is None:
        raise ControlError(404, "not_found", f"no instrument {venue} {market} {symbol}")
    interval = query.get("interval", "1m")
    if interval not in CANDLE_INTERVALS:
        raise ControlError(400, "bad_field", f"'interval' is one of {', '.join(CANDLE_INTERVALS)}")
    limit = query.get("limit", "200")
    if not limit.isdigit() or not 1 <= int(limit) <= 1000:
        raise ControlError(400, "bad_field", "'limit' is a whole number from 1 to 1000")
    rows = engine.candles(inst.key, Interval("ms", CANDLE_INTERVALS[interval]), limit=int(limit))
    return {"venue": venue, "market": market, "symbol": inst.symbol, "interval": interval,
            "candles": [[c.ts, format(c.open, "f"), format(c.high, "f"), format(c.low, "f"),
                         format(c.close, "f"), format(c.base_volume, "f")] for c in rows]}
