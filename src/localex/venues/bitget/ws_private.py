"""Bitget V2 WebSocket private channels (spot/websocket/private and contract/websocket/private):
account, orders, fill, positions, orders-algo (futures plan and trailing orders, spot trigger
orders), positions-history.

Every push comes from a committed engine event (engine/events.py), so what a stream says agrees
with what the REST API answers, once per change and in commit order. `orders`, `fill`,
`orders-algo` and `positions-history` push nothing on subscribing; `account` and `positions`
push the current state. Every push is `action: snapshot`, as the live server sends them; a
positions push carries every open position of the market (so one that closed drops out).
"""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from localex.engine.events import EventKind
from localex.engine.model import FuturesOrder, OrderKind, OrderType, SpotOrder
from localex.venues.bitget import fmt
from localex.venues.bitget.contract_account import POS_MODE_NAMES, figures, equity_rows, money, pos_mode
from localex.venues.bitget.contract_plan import plan_row
from localex.venues.bitget.contract_position import history_row, position_rows
from localex.venues.bitget.contract_trade import (
    CANCEL_REASONS as FUTURES_CANCEL_REASONS,
    STATUS_NAMES,
    average_text,
    enter_point,
    fill_row as rest_fill_row,
    order_mode,
    price_text,
    quote_text,
    side_text,
    trade_side_text,
)
from localex.venues.bitget.contract_position import fee_text
from localex.venues.bitget.routes import Call
from localex.venues.bitget.spot_plan import plan_row as spot_plan_row
from localex.venues.bitget.spot_trade import CANCEL_REASONS as SPOT_CANCEL_REASONS
from localex.venues.bitget.ws_common import FUTURES_TYPES, INST_TYPES, MARKET_TYPES, Channel, channel

SPOT = "SPOT"
FUTURES = tuple(FUTURES_TYPES)
VENUE = "bitget"


def _call(streams, uid: str) -> Call:
    """What the REST row builders read: the engine, the user, the time."""
    now = streams.engine.now_ms()
    return Call(streams.engine, None, None, SimpleNamespace(uid=uid), now, now)


def _neg(fee: Decimal) -> str:
    return fmt.plain(-fee) if fee else "0"


# rows -----------------------------------------------------------------------------------------
def spot_order_row(o: SpotOrder) -> dict:
    if o.order_type is OrderType.MARKET and o.side.value == "buy":
        notional = o.size
    else:
        notional = (o.price or Decimal(0)) * o.size
    return {
        "instId": o.symbol,
        "orderId": str(o.order_id),
        "clientOid": o.client_oid,
        "price": fmt.plain(o.price) if o.price is not None else "",
        "size": fmt.plain(o.size),
        "newSize": fmt.plain(o.size),
        "notional": fmt.plain(notional),
        "orderType": o.order_type.value,
        "force": o.force.value,
        "side": o.side.value,
        "accBaseVolume": fmt.plain(o.filled_size),
        "priceAvg": fmt.plain(o.avg_price),
        "status": o.status.value,
        "enterPointSource": o.enter_point,
        "feeDetail": [{"feeCoin": o.fee_asset, "fee": _neg(o.fee)}] if o.fee_asset else [],
        "stpMode": "none",
        "cancelReason": SPOT_CANCEL_REASONS.get(o.cancel_reason, ""),
        "cTime": str(o.created_ms),
        "uTime": str(o.updated_ms),
    }


def with_fill(row: dict, fill, fee_coin: str | None) -> dict:
    """An order row with the fill that came with its change (Bitget's orders channel fields)."""
    if fill is None or row.get("status") not in ("partially_filled", "filled"):
        return row
    coin = fee_coin if fee_coin is not None else row.get("marginCoin", "")
    row.update({"fillPrice": fmt.plain(fill.price), "tradeId": str(fill.trade_id),
                "baseVolume": fmt.plain(fill.size), "fillTime": str(fill.created_ms),
                "fillFee": _neg(fill.fee), "fillFeeCoin": getattr(fill, "fee_asset", coin) or coin,
                "tradeScope": "T" if fill.liquidity.value == "taker" else "M"})
    if "fillNotionalUsd" in row:
        row["fillNotionalUsd"] = fmt.plain(fill.quote)
    return row


def spot_fill_row(f) -> dict:
    return {
        "orderId": str(f.order_id),
        "tradeId": str(f.trade_id),
        "symbol": f.symbol,
        "orderType": f.order_type.value,
        "side": f.side.value,
        "priceAvg": fmt.plain(f.price),
        "size": fmt.plain(f.size),
        "amount": fmt.plain(f.quote),
        "tradeScope": f.liquidity.value,
        "feeDetail": [{"feeCoin": f.fee_asset, "deduction": "no", "totalDeductionFee": "0",
                       "totalFee": _neg(f.fee)}],
        "cTime": str(f.created_ms),
        "uTime": str(f.created_ms),
    }


def spot_account_row(b) -> dict:
    return {"coin": b.asset, "available": fmt.dp8(b.available), "frozen": fmt.dp8(b.frozen),
            "locked": fmt.dp8(0 * b.frozen), "limitAvailable": "0", "uTime": str(b.updated_ms)}


def futures_order_row(streams, o: FuturesOrder) -> dict:
    engine = streams.engine
    inst = engine.instrument(o.venue, o.market, o.symbol)
    mode = order_mode(o, engine.futures_account(o.uid, o.market).position_mode)
    hedge = mode.value == "hedge"
    row = {
        "instId": o.symbol,
        "orderId": str(o.order_id),
        "clientOid": o.client_oid,
        "price": price_text(o.price),
        "size": fmt.plain(o.size),
        "orderType": o.order_type.value,
        "force": o.force.value,
        "side": side_text(o.side, o.pos_side, mode),
        "posSide": o.pos_side.value if hedge else "net",
        "tradeSide": trade_side_text(o.side, o.pos_side, o.trade_side, mode, o.source == "liquidation"),
        "posMode": POS_MODE_NAMES[mode],
        "marginMode": o.margin_mode.value,
        "marginCoin": inst.settle,
        "leverage": str(o.leverage),
        "reduceOnly": "yes" if o.reduce_only else "no",
        "status": STATUS_NAMES[o.status],
        "accBaseVolume": fmt.plain(o.filled_size),
        "baseVolume": fmt.plain(o.filled_size),
        "notionalUsd": quote_text(o.filled_quote if o.filled_size else (o.price or Decimal(0)) * o.size),
        "fillNotionalUsd": quote_text(o.filled_quote),
        "totalProfits": money(o.realized_pnl),
        "enterPointSource": enter_point(o),
        "stpMode": "none",
        "cancelReason": FUTURES_CANCEL_REASONS.get(o.cancel_reason, ""),
        "feeDetail": [{"feeCoin": inst.settle, "fee": _neg(o.fee)}],
        "presetStopSurplusPrice": price_text(o.tp_price),
        "presetStopLossPrice": price_text(o.sl_price),
        "cTime": str(o.created_ms),
        "uTime": str(o.updated_ms),
    }
    if o.filled_size and o.status.value != "cancelled":
        row["priceAvg"] = average_text(o)
    return row


def algo_order_row(streams, o: FuturesOrder) -> dict:
    engine = streams.engine
    inst = engine.instrument(o.venue, o.market, o.symbol)
    mode = order_mode(o, engine.futures_account(o.uid, o.market).position_mode)
    row = plan_row(o, inst, mode)
    row["instId"] = row.pop("symbol")
    if o.kind is OrderKind.TRAILING:
        row["planType"] = "track_plan"
        row["callbackRatio"] = fmt.plain(o.callback_rate) if o.callback_rate is not None else ""
    row["status"] = {"untriggered": "live", "cancelled": "cancelled"}.get(o.status.value, "executed")
    row["planStatus"] = row["status"]
    return row


def futures_fill_row(streams, f) -> dict:
    engine = streams.engine
    inst = engine.instrument(f.venue, f.market, f.symbol)
    order = engine.futures_order(f.uid, order_id=f.order_id)
    mode = order_mode(order, engine.futures_account(f.uid, f.market).position_mode) if order else \
        engine.futures_account(f.uid, f.market).position_mode
    rest = rest_fill_row(f, inst, order, mode)
    return {
        "orderId": rest["orderId"],
        "clientOid": order.client_oid if order else "",
        "tradeId": rest["tradeId"],
        "symbol": f.symbol,
        "side": rest["side"],
        "orderType": order.order_type.value if order else "market",
        "posMode": rest["posMode"],
        "price": rest["price"],
        "baseVolume": rest["baseVolume"],
        "quoteVolume": rest["quoteVolume"],
        "profit": rest["profit"],
        "tradeSide": rest["tradeSide"],
        "tradeScope": f.liquidity.value,
        "feeDetail": [{"feeCoin": inst.settle, "deduction": "no", "totalDeductionFee": "0",
                       "totalFee": fee_text(f.fee)}],
        "cTime": str(f.created_ms),
        "uTime": str(f.created_ms),
    }


def position_push_rows(streams, uid: str, market: str) -> list[dict]:
    call = _call(streams, uid)
    positions = streams.engine.positions(uid, market=market)
    rows = []
    for pos, rest in zip(positions, position_rows(call, market, positions)):
        margin = Decimal(rest["marginSize"]) if rest["marginSize"] else Decimal(0)
        upnl = Decimal(rest["unrealizedPL"])
        rows.append({
            "posId": str(pos.position_id),
            "instId": pos.symbol,
            "marginCoin": rest["marginCoin"],
            "marginSize": rest["marginSize"],
            "marginMode": rest["marginMode"],
            "holdSide": rest["holdSide"],
            "posMode": rest["posMode"],
            "total": rest["total"],
            "available": rest["available"],
            "frozen": rest["locked"],
            "openPriceAvg": rest["openPriceAvg"],
            "leverage": pos.leverage,
            "achievedProfits": rest["achievedProfits"],
            "unrealizedPL": rest["unrealizedPL"],
            "unrealizedPLR": fmt.trimmed_half_up(upnl / margin, 8) if margin else "0",
            "liquidationPrice": rest["liquidationPrice"],
            "keepMarginRate": rest["keepMarginRate"],
            "marginRate": rest["marginRatio"],
            "breakEvenPrice": rest["breakEvenPrice"],
            "totalFee": rest["totalFee"],
            "deductedFee": rest["deductedFee"],
            "markPrice": rest["markPrice"],
            "assetMode": rest["assetMode"],
            "autoMargin": rest["autoMargin"],
            "cTime": rest["cTime"],
            "uTime": rest["uTime"],
        })
    return rows


def futures_account_row(streams, uid: str, market: str, coin: str) -> dict:
    call = _call(streams, uid)
    marks = streams.engine.marks()
    f = figures(call, market, coin, marks)
    usdt, _btc, risk = equity_rows(call, f, marks)
    return {
        "marginCoin": coin,
        "frozen": money(f.frozen),
        "available": money(f.available),
        "maxOpenPosAvailable": money(f.max_available),
        "maxTransferOut": money(f.max_available),
        "equity": money(f.equity),
        "usdtEquity": usdt,
        "crossedRiskRate": risk,
        "unrealizedPL": money(f.unrealized),
        "coupon": "0",
        "unionTotalMagin": money(f.equity),
        "unionAvailable": money(f.max_available),
        "unionMm": "0",
        "assetsMode": "single",
    }


def position_history_row(streams, pos) -> dict:
    engine = streams.engine
    inst = engine.instrument(pos.venue, pos.market, pos.symbol)
    fills = [f for f in engine.futures_fills(pos.uid, market=pos.market, symbol=pos.symbol)
             if f.position_id == pos.position_id]
    row = history_row(inst, pos, fills, POS_MODE_NAMES[pos_mode(_call(streams, pos.uid), pos.market)])
    row["posId"] = row.pop("positionId")
    row["instId"] = row.pop("symbol")
    row["uTime"] = row.pop("utime")
    row["cTime"] = row.pop("ctime")
    return row


# snapshots on subscribing -------------------------------------------------------------------
def _account_snapshot(streams, session, sub) -> list:
    uid = session.state["bitget"].key.uid
    engine = streams.engine
    if sub.inst_type == SPOT:
        return [spot_account_row(b) for b in engine.balances(uid, "spot")
                if sub.inst_id in ("default", b.asset)]
    market = FUTURES_TYPES[sub.inst_type]
    coins = sorted({b.asset for b in engine.balances(uid, market)})
    return [futures_account_row(streams, uid, market, c) for c in coins
            if sub.inst_id in ("default", c)]


def _positions_snapshot(streams, session, sub) -> list:
    return position_push_rows(streams, session.state["bitget"].key.uid, FUTURES_TYPES[sub.inst_type])


channel(Channel("account", True, "coin", INST_TYPES, _account_snapshot, any_inst_id=True))
channel(Channel("orders", True, "instId", INST_TYPES, None, any_inst_id=True))
channel(Channel("fill", True, "instId", INST_TYPES, None, any_inst_id=True))
channel(Channel("positions", True, "instId", FUTURES, _positions_snapshot))
channel(Channel("orders-algo", True, "instId", INST_TYPES, None, any_inst_id=True))
channel(Channel("positions-history", True, "instId", FUTURES, None, any_inst_id=True))


# events -> pushes ------------------------------------------------------------------------------
def _topics(streams, channel_name: str, inst_type: str, uid: str, inst_id: str):
    for key in ("default", inst_id):
        topic = ("private", channel_name, inst_type, uid, key)
        if streams.has(topic):
            yield topic


def route(streams, events: list):
    """(topic, action, rows) for every push the events make."""
    # only the events of users who hold a private topic can push anything (every topic below
    # names its user): the rest are skipped before any row is made
    watched = {t[3] for t in streams.subs.topics() if t[0] == "private"}
    if not watched:
        return
    events = [e for e in events if e.uid in watched]
    positions: dict[tuple[str, str], None] = {}
    # an order's row carries the fill its change came with (fillPrice, tradeId, ...)
    fills = {(e.kind, e.obj.order_id): e.obj for e in events
             if e.kind in (EventKind.SPOT_FILL, EventKind.FUTURES_FILL)}
    for e in events:
        kind, obj, uid = e.kind, e.obj, e.uid
        if uid is None:
            continue
        if kind is EventKind.SPOT_ORDER and obj.venue == VENUE:
            for t in _topics(streams, "orders", SPOT, uid, obj.symbol):
                yield t, "snapshot", [with_fill(spot_order_row(obj), fills.get((EventKind.SPOT_FILL, obj.order_id)),
                                                obj.fee_asset or "")]
        elif kind is EventKind.SPOT_PLAN and obj.venue == VENUE:
            for t in _topics(streams, "orders-algo", SPOT, uid, obj.symbol):
                row = spot_plan_row(obj)
                row["instId"] = row.pop("symbol", obj.symbol)
                yield t, "snapshot", [row]
        elif kind is EventKind.SPOT_FILL and obj.venue == VENUE:
            for t in _topics(streams, "fill", SPOT, uid, obj.symbol):
                yield t, "snapshot", [spot_fill_row(obj)]
        elif kind is EventKind.BALANCE:
            if obj.account == "spot":
                for t in _topics(streams, "account", SPOT, uid, obj.asset):
                    yield t, "snapshot", [spot_account_row(obj)]
            elif obj.account in MARKET_TYPES:
                inst_type = MARKET_TYPES[obj.account]
                for t in _topics(streams, "account", inst_type, uid, obj.asset):
                    yield t, "snapshot", [futures_account_row(streams, uid, obj.account, obj.asset)]
        elif kind is EventKind.FUTURES_ORDER and obj.venue == VENUE:
            inst_type = MARKET_TYPES.get(obj.market)
            if obj.kind is OrderKind.REGULAR:
                for t in _topics(streams, "orders", inst_type, uid, obj.symbol):
                    fill = fills.get((EventKind.FUTURES_FILL, obj.order_id))
                    yield t, "snapshot", [with_fill(futures_order_row(streams, obj), fill, None)]
            else:
                for t in _topics(streams, "orders-algo", inst_type, uid, obj.symbol):
                    yield t, "snapshot", [algo_order_row(streams, obj)]
        elif kind is EventKind.FUTURES_FILL and obj.venue == VENUE:
            for t in _topics(streams, "fill", MARKET_TYPES.get(obj.market), uid, obj.symbol):
                yield t, "snapshot", [futures_fill_row(streams, obj)]
        elif kind is EventKind.POSITION and obj.venue == VENUE:
            positions[(uid, obj.market)] = None
            if not obj.open:
                for t in _topics(streams, "positions-history", MARKET_TYPES.get(obj.market), uid,
                                 obj.symbol):
                    yield t, "snapshot", [position_history_row(streams, obj)]
    for uid, market in positions:
        topic = ("private", "positions", MARKET_TYPES.get(market), uid, "default")
        if streams.has(topic):
            yield topic, "snapshot", position_push_rows(streams, uid, market)
