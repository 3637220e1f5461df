"""CoinW doc family "futures-trading / market": instruments, tickers, order book, trades, klines
and the funding rate. Public; the book, trades, klines and 24-hour statistics come from the
engine's market tape (engine/tape.py), the same source Bitget's market pages read."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.model import Instrument
from localex.engine.tape import Interval
from localex.venues.coinw import fmt
from localex.venues.coinw.common import contract_id, contracts, find_contract
from localex.venues.coinw.errors import CoinWError
from localex.venues.coinw.fmt import num
from localex.venues.coinw.params import MAX_IDS
from localex.venues.coinw.routes import Call, route

LEVERAGE_STEPS = (5, 10, 20, 50, 100, 125, 200)
DEPTH_LEVELS = 20  # the venue's fixed depth per side
TRADES_SHOWN = 20  # the most recent trades the trades endpoint lists
HOUR_MS = 3_600_000
# granularity codes -> candle length (the venue's codes; 0 is one minute)
GRANULARITY_MS = {"0": 60_000, "7": 180_000, "1": 300_000, "2": 900_000, "8": 1_800_000,
                  "3": HOUR_MS, "4": 4 * HOUR_MS, "5": 24 * HOUR_MS, "6": 7 * 24 * HOUR_MS,
                  "9": 30 * 24 * HOUR_MS}
KLINE_LIMIT_DEFAULT, KLINE_LIMIT_MAX = 100, 1500
CREATED_MS = 1_548_950_400_000  # listing date shown for every contract


def next_settlement(inst: Instrument, now_ms: int) -> int:
    period = inst.funding_interval_h * HOUR_MS
    return (now_ms // period + 1) * period


def instrument_row(call: Call, inst: Instrument) -> dict:
    ident = contract_id(call.engine, inst)
    maint = inst.maintenance_margin_rate
    steps = [s for s in LEVERAGE_STEPS if inst.min_leverage <= s <= inst.max_leverage]
    return {
        "base": inst.base.lower(),
        "closeSpread": num(Decimal("0.0002")),
        "commissionRate": num(inst.taker_fee),
        "configBo": {"margins": {str(s): num(maint) for s in steps}, "simulatedMargins": {}},
        "createdDate": CREATED_MS,
        "defaultLeverage": min(20, inst.max_leverage),
        "defaultStopLossRate": num(Decimal("0.99")),
        "defaultStopProfitRate": 100,
        "depthPrecision": ",".join(fmt.plain(Decimal(1).scaleb(-inst.price_scale) * m)
                                   for m in (1, 10, 100, 500, 1000)),
        "id": ident,
        "indexId": ident,
        "leverage": steps,
        "makerFee": fmt.plain(inst.maker_fee),
        "maxLeverage": inst.max_leverage,
        "maxPosition": fmt.pieces(inst.max_size / inst.contract_size),
        "minLeverage": inst.min_leverage,
        "minSize": fmt.pieces(inst.min_size / inst.contract_size),
        "name": inst.symbol,
        "oneLotMargin": 1,
        "oneLotSize": num(inst.contract_size),
        "oneMaxPosition": fmt.pieces(inst.max_size / inst.contract_size * 3 / 4),
        "openSpread": num(Decimal("0.0003")),
        "pricePrecision": inst.price_scale,
        "quote": inst.settle.lower(),
        "selected": 0,
        "settledAt": next_settlement(inst, call.now_ms),
        "settledPeriod": inst.funding_interval_h,
        "settlementRate": num(Decimal("0.0004")),
        "sort": ident,
        "status": inst.status,
        "stopCrossPositionRate": num(Decimal("0.1")),
        "stopSurplusRate": num(Decimal("0.01")),
        "takerFee": fmt.plain(inst.taker_fee),
        "updatedDate": CREATED_MS,
    }


@route("GET", "/v1/perpum/instruments", signed=False, limit=5)
def instruments(call: Call) -> list:
    name = call.params.text("name")
    insts = contracts(call.engine)
    if name is not None:
        insts = [i for i in insts if i.symbol == name.strip().upper()]
    return [instrument_row(call, i) for i in insts]


@route("GET", "/v1/perpum/instrumentList", signed=False, limit=2)
def instrument_list(call: Call) -> list:
    names = call.params.text("symbols")
    insts = contracts(call.engine)
    if names is not None:
        wanted = [n.strip().upper() for n in names.split(",")]
        if len(wanted) > MAX_IDS:
            raise CoinWError(9016)
        insts = [i for i in insts if i.symbol in wanted]
    return [instrument_row(call, i) for i in insts]


def ticker_row(call: Call, inst: Instrument) -> dict:
    """The last 24 hours from the tape: high, low, the change since the price a day ago
    (rise_fall_rate, a fraction) and the base-coin volume (total_volume)."""
    stats = call.engine.stats_24h(inst)
    mark = stats.last if stats is not None else Decimal(0)
    return {
        "base_coin": inst.base.lower(),
        "contract_id": contract_id(call.engine, inst),
        "contract_size": num(inst.contract_size),
        "fair_price": num(mark),
        "high": num(stats.high if stats is not None else mark),
        "last_price": num(mark),
        "low": num(stats.low if stats is not None else mark),
        "max_leverage": inst.max_leverage,
        "name": f"{inst.base}{inst.settle}",
        "price_coin": inst.base.lower(),
        "quote_coin": inst.settle.lower(),
        "rise_fall_rate": num(fmt.round_to(stats.change, 4)) if stats is not None else 0,
        "total_volume": num(stats.base_volume) if stats is not None else 0,
    }


@route("GET", "/v1/perpumPublic/ticker", signed=False, limit=5, market_group=True)
def ticker(call: Call) -> list:
    inst = find_contract(call.engine, call.params.text("instrument", required=True))
    return [ticker_row(call, inst)] if inst is not None else []


@route("GET", "/v1/perpumPublic/tickers", signed=False, limit=5, market_group=True)
def tickers(call: Call) -> list:
    return [ticker_row(call, i) for i in contracts(call.engine)]


def _book_contract(call: Call, name: str) -> tuple[Instrument, Decimal]:
    inst = find_contract(call.engine, call.params.text(name, required=True))
    mark = call.engine.mark(inst) if inst is not None else None
    if inst is None or mark is None:
        raise CoinWError(9016)
    return inst, mark


@route("GET", "/v1/perpumPublic/depth", signed=False, limit=10, window_ms=2000, market_group=True)
def depth(call: Call) -> dict:
    """20 levels a side of the engine's book (the fill model's ladder around the mark, with the
    users' resting orders): `p` the price, `m` the size in the base coin."""
    inst, _mark = _book_contract(call, "base")
    book = call.engine.order_book(inst, DEPTH_LEVELS)
    return {"asks": [{"m": num(lv.size), "p": num(lv.price)} for lv in book.asks],
            "bids": [{"m": num(lv.size), "p": num(lv.price)} for lv in book.bids],
            "n": inst.symbol.lower(), "t": call.now_ms}


@route("GET", "/v1/perpumPublic/trades", signed=False, limit=10, window_ms=2000, market_group=True)
def trades(call: Call) -> list:
    """The most recent trades of the tape, newest first: direction the taker's (long buys,
    short sells), piece the contracts, quantity the base coin."""
    inst, _mark = _book_contract(call, "base")
    return [{"createdDate": tr.ts, "direction": "long" if tr.side.value == "buy" else "short",
             "id": tr.trade_id, "piece": fmt.plain(tr.size / inst.contract_size),
             "price": fmt.plain(tr.price), "quantity": fmt.plain(tr.size)}
            for tr in call.engine.public_trades(inst, limit=TRADES_SHOWN)]


@route("GET", "/v1/perpumPublic/klines", signed=False, limit=20, window_ms=2000, market_group=True)
def klines(call: Call) -> list:
    """Candles from the tape, oldest first, the last one the candle now forming:
    [time, open, high, low, close, volume (base coin)]."""
    p = call.params
    inst, _mark = _book_contract(call, "currencyCode")
    granularity = p.text("granularity", required=True).strip()
    if granularity not in GRANULARITY_MS:
        raise CoinWError(9016)
    limit = p.integer("limit", default=KLINE_LIMIT_DEFAULT)
    if limit < 1:
        raise CoinWError(9016)
    limit = min(limit, KLINE_LIMIT_MAX)
    length = GRANULARITY_MS[granularity]
    interval = Interval("week", 1) if granularity == "6" else (
        Interval("month", 1) if granularity == "9" else Interval("ms", length))
    return [[c.ts, num(c.open), num(c.high), num(c.low), num(c.close), num(c.base_volume)]
            for c in call.engine.candles(inst, interval, limit=limit)]


@route("GET", "/v1/perpum/fundingRate", signed=False, limit=8)
def funding_rate(call: Call) -> dict:
    """The funding rate (the instrument's configured rate, which the next settlement charges),
    a JSON number. USDC-margined contracts answer 9001, as the venue does for BTC_USDC."""
    inst = find_contract(call.engine, call.params.text("instrument", required=True))
    if inst is None or inst.settle != "USDT":
        raise CoinWError(9001)
    return {"value": num(inst.funding_rate)}


@route("GET", "/v1/perpum/ladders", limit=10, window_ms=2000)
def ladders(call: Call) -> dict:
    """Tiered margin requirements: each contract's position tiers (the engine's, by position
    value) with their bounds in contracts at the mark; a contract without tiers, or without a
    mark, shows one tier (its maintenance rate, highest leverage and largest size)."""
    marks = call.engine.marks()
    out, ident = [], 0
    for inst in contracts(call.engine):
        rows = []
        for level, keep, leverage, pieces in ladder_tiers(inst, marks.get(inst.key)):
            ident += 1
            rows.append({"id": ident, "instrument": inst.symbol, "ladder": level, "lastLadder": False,
                         "marginKeepRate": num(keep),
                         "marginStartRate": num((Decimal(1) / leverage).quantize(Decimal("1e-8"))),
                         "maxLeverage": leverage, "maxPiece": pieces})
        rows[-1]["lastLadder"] = True
        out.append({"name": inst.symbol, "ladderList": rows})
    return {"ladderConfig": out}


def ladder_tiers(inst: Instrument, mark: Decimal | None) -> list[tuple[int, Decimal, int, int]]:
    """(ladder, maintenance rate, max leverage, max contracts) per tier, lowest first. A tier's
    value bound in contracts at the mark, rounded down; the last tier ends at the largest size."""
    largest = int((inst.max_size / inst.contract_size).to_integral_value())
    if not inst.tiers or mark is None or mark <= 0:
        return [(1, inst.maintenance_margin_rate, inst.max_leverage, largest)]
    out = []
    for tier in inst.tiers[:-1]:
        pieces = min(largest, int(tier.end / (inst.contract_size * mark)))
        out.append((tier.level, tier.maintenance_rate, tier.max_leverage, pieces))
    last = inst.tiers[-1]
    out.append((last.level, last.maintenance_rate, last.max_leverage, largest))
    return out


TRADES_PAGE_MAX = 500


@route("GET", "/v1/perpum/orders/trades", limit=10, window_ms=2000)
def trade_history(call: Call) -> dict:
    """Historical public trades of one instrument, paged: the engine keeps no tape, so (as
    /v1/perpumPublic/trades) the one trade there is is the mark, now."""
    p = call.params
    inst, mark = _book_contract(call, "instrument")
    page, size = p.page(default_size=100, max_size=TRADES_PAGE_MAX)
    rows = [{"closedPiece": 0, "createdDate": call.now_ms, "dealPrice": num(mark), "direction": "long",
             "id": call.now_ms * 10_000}]
    return {"nextId": 0, "prevId": 0, "rows": rows[(page - 1) * size: page * size], "total": len(rows)}
