"""Bitget doc family "contract / market" (futures public data): contracts, ticker, tickers,
symbol-price, current-fund-rate, history-fund-rate, funding-time, merge-depth, candles (market,
mark and index), history candles, recent and market trades, open interest and position tiers —
the market data drawn from the engine's market tape (engine/tape.py). Also the product-type and
contract look-ups every mix endpoint shares."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.model import Instrument
from localex.venues.bitget import fmt
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route
from localex.venues.bitget.spot_market import (
    BOOK_MAX, CANDLES_DEFAULT, CANDLES_MAX, HISTORY_CANDLES_MAX, MERGE_DEPTH_DEFAULT,
    MIX_GRANULARITIES, book_levels, candle_range, candle_rows, change, depth_limit, granularity,
    trade_rows,
)

KLINE_TYPES = {"market": "market", "mark": "mark", "index": "index"}

PRODUCT_TYPES = ("USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES",
                 "SUSDT-FUTURES", "SCOIN-FUTURES", "SUSDC-FUTURES")
# product type -> the engine market holding its contracts and margin. The demo product types
# (S...) belong to Bitget's separate demo environment, which localex does not have: they are
# accepted and list nothing.
MARKETS = {"USDT-FUTURES": "usdt-futures", "COIN-FUTURES": "coin-futures", "USDC-FUTURES": "usdc-futures"}
VENUE = "bitget"
HOUR_MS = 3_600_000
# the bounds Get Current Funding Rate shows (the page's example); the emulator does not clamp
MIN_FUNDING_RATE, MAX_FUNDING_RATE = "-0.003", "0.003"
HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX = 20, 100
DELIVERY_WINDOW_MS = 600_000  # a dated contract stops opening this long before delivery (shown only)


def product_type(call: Call, required: bool = True, default: str | None = None) -> str:
    value = call.params.text("productType", required=required and default is None)
    if value is None:
        return default
    canonical = value.upper()
    if canonical not in PRODUCT_TYPES:
        # the venue answers an unknown product type this way (sic)
        raise BitgetError("40019", value)
    return canonical


def market_of(product: str) -> str | None:
    return MARKETS.get(product)


def contracts_of(call: Call, product: str) -> list[Instrument]:
    market = market_of(product)
    if market is None:
        return []
    return call.engine.instruments(VENUE, market)


def contract(call: Call, product: str, symbol: str) -> Instrument:
    """The contract `symbol` of the product type, or 40034."""
    market = market_of(product)
    inst = call.engine.instrument(VENUE, market, symbol) if market is not None else None
    if inst is None or not inst.is_contract:
        raise BitgetError("40034", symbol)
    return inst


def required_contract(call: Call, product: str) -> Instrument:
    return contract(call, product, call.params.symbol(required=True))


def next_funding(inst: Instrument, now_ms: int) -> int:
    """The next settlement time: the next multiple of the interval since the epoch (0 for a
    dated contract, which pays no funding)."""
    period = inst.funding_interval_h * HOUR_MS
    return (now_ms // period + 1) * period if period > 0 else 0


def mark_text(marks: dict[str, Decimal], inst: Instrument) -> str:
    mark = marks.get(inst.key)
    return fmt.plain(mark) if mark is not None else "0"


# ---- wire rows -----------------------------------------------------------------------------

def contract_row(inst: Instrument) -> dict:
    """Every field of Get Contract Config, in the page's order."""
    size = fmt.plain(inst.max_size)
    return {
        "symbol": inst.symbol,
        "baseCoin": inst.base,
        "quoteCoin": inst.quote,
        "buyLimitPriceRatio": "0.05",
        "sellLimitPriceRatio": "0.05",
        "feeRateUpRatio": "0.005",
        "makerFeeRate": fmt.plain(inst.maker_fee),
        "takerFeeRate": fmt.plain(inst.taker_fee),
        "openCostUpRatio": "0.01",
        "supportMarginCoins": [inst.settle],
        "minTradeNum": fmt.plain(inst.min_size),
        "priceEndStep": "1",  # in units of the last price decimal: the tick is 10^-pricePlace
        "volumePlace": str(inst.size_scale),
        "pricePlace": str(inst.price_scale),
        "sizeMultiplier": fmt.plain(inst.contract_size),
        "symbolType": "delivery" if inst.delivery_ms is not None else "perpetual",
        "minTradeUSDT": fmt.plain(inst.min_notional),
        "maxSymbolOrderNum": "200",
        "maxProductOrderNum": "1000",
        "maxPositionNum": "150",
        "symbolStatus": "normal" if inst.status == "online" else "maintain",
        "offTime": "-1",
        "limitOpenTime": "-1",
        "deliveryTime": str(inst.delivery_ms) if inst.delivery_ms is not None else "",
        "deliveryStartTime": str(inst.delivery_ms - DELIVERY_WINDOW_MS) if inst.delivery_ms is not None else "",
        "deliveryPeriod": "this_quarter" if inst.delivery_ms is not None else "",
        "launchTime": "",
        "fundInterval": str(inst.funding_interval_h),
        "minLever": str(inst.min_leverage),
        "maxLever": str(inst.max_leverage),
        "posLimit": "0.1",
        "maintainTime": "",
        "maxMarketOrderQty": size,
        "maxOrderQty": size,
        "isRwa": "NO",
    }


def ticker_row(call: Call, inst: Instrument) -> dict:
    """Get Ticker / Get All Tickers: the last, mark and index price are the mark price (localex
    has one price per instrument); the 24-hour fields from the tape, bid and ask from the book,
    holdingAmount the open interest."""
    stats = call.engine.stats_24h(inst)
    now = call.now_ms
    if stats is None:
        last = high = low = open_ = open_utc = bid = ask = "0"
        bid_sz = ask_sz = base = quote = chg = chg_utc = "0"
    else:
        last = fmt.plain(stats.last)
        high, low = fmt.plain(stats.high), fmt.plain(stats.low)
        open_, open_utc = fmt.plain(stats.open), fmt.plain(stats.open_utc)
        bid = fmt.plain(stats.bid.price) if stats.bid else "0"
        ask = fmt.plain(stats.ask.price) if stats.ask else "0"
        bid_sz = fmt.plain(stats.bid.size) if stats.bid else "0"
        ask_sz = fmt.plain(stats.ask.size) if stats.ask else "0"
        base, quote = fmt.plain(stats.base_volume), fmt.plain(stats.quote_volume)
        chg, chg_utc = change(stats.change), change(stats.change_utc)
    delivery = inst.delivery_ms
    return {
        "symbol": inst.symbol,
        "lastPr": last,
        "askPr": ask,
        "bidPr": bid,
        "bidSz": bid_sz,
        "askSz": ask_sz,
        "high24h": high,
        "low24h": low,
        "ts": str(now),
        "change24h": chg,
        "baseVolume": base,
        "quoteVolume": quote,
        "usdtVolume": quote,
        "openUtc": open_utc,
        "changeUtc24h": chg_utc,
        "indexPrice": last,
        "fundingRate": fmt.plain(inst.funding_rate) if delivery is None else "0",
        "holdingAmount": fmt.plain(call.engine.open_interest(inst)),
        "deliveryStartTime": None,
        "deliveryTime": str(delivery) if delivery is not None else None,
        "deliveryStatus": "delivery_normal",
        "open24h": open_,
        "markPrice": last,
    }


# ---- endpoints -----------------------------------------------------------------------------

@route("GET", "/api/v2/mix/market/contracts", signed=False, limit=20)
def contracts(call: Call) -> list:
    product = product_type(call)
    symbol = call.params.symbol()
    if symbol is not None:
        if market_of(product) is None:
            return []
        return [contract_row(contract(call, product, symbol))]
    return [contract_row(inst) for inst in contracts_of(call, product)]


@route("GET", "/api/v2/mix/market/ticker", signed=False, limit=20)
def ticker(call: Call) -> list:
    if call.params.text("productType") is None:
        raise BitgetError("400172")  # observed on this endpoint, where others answer 40019
    product = product_type(call)
    inst = required_contract(call, product)
    return [ticker_row(call, inst)]


@route("GET", "/api/v2/mix/market/tickers", signed=False, limit=20)
def tickers(call: Call) -> list:
    product = product_type(call)
    return [ticker_row(call, inst) for inst in contracts_of(call, product)]


@route("GET", "/api/v2/mix/market/symbol-price", signed=False, limit=20)
def symbol_price(call: Call) -> list:
    product = product_type(call)
    inst = required_contract(call, product)
    last = mark_text(call.engine.marks(), inst)
    return [{"symbol": inst.symbol, "price": last, "indexPrice": last, "markPrice": last,
             "ts": str(call.now_ms)}]


@route("GET", "/api/v2/mix/market/current-fund-rate", signed=False, limit=20)
def current_fund_rate(call: Call) -> list:
    """The rate the next settlement charges (the instrument's configured rate)."""
    product = product_type(call)
    symbol = call.params.symbol()
    if symbol is not None:
        if market_of(product) is None:
            return []
        insts = [contract(call, product, symbol)]
    else:
        insts = [inst for inst in contracts_of(call, product) if inst.delivery_ms is None]  # perpetuals
    return [{"symbol": inst.symbol,
             "fundingRate": fmt.plain(inst.funding_rate),
             "fundingRateInterval": str(inst.funding_interval_h),
             "nextUpdate": str(next_funding(inst, call.now_ms)),
             "minFundingRate": MIN_FUNDING_RATE,
             "maxFundingRate": MAX_FUNDING_RATE} for inst in insts]


@route("GET", "/api/v2/mix/market/history-fund-rate", signed=False, limit=20)
def history_fund_rate(call: Call) -> list:
    """Settled rates, newest first, a page at a time (pageNo from 1, pageSize up to 100)."""
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    size = p.integer("pageSize")
    size = HISTORY_PAGE_DEFAULT if size is None or size == 0 else min(size, HISTORY_PAGE_MAX)
    page = max(p.integer("pageNo") or 1, 1)
    settled = call.engine.funding_history(inst.venue, inst.market, inst.symbol)
    return [{"symbol": inst.symbol, "fundingRate": fmt.plain(rate), "fundingTime": str(at)}
            for at, rate in settled[(page - 1) * size:page * size]]


@route("GET", "/api/v2/mix/market/funding-time", signed=False, limit=20)
def funding_time(call: Call) -> list:
    product = product_type(call)
    inst = required_contract(call, product)
    return [{"symbol": inst.symbol, "nextFundingTime": str(next_funding(inst, call.now_ms)),
             "ratePeriod": str(inst.funding_interval_h)}]


@route("GET", "/api/v2/mix/market/merge-depth", signed=False, limit=20)
def merge_depth(call: Call) -> dict:
    """precision scale0 (the contract's tick) to scale3; limit 1, 5, 15, 50 or max, default
    100. Prices and sizes are JSON numbers here, as the venue sends them."""
    product = product_type(call)
    inst = required_contract(call, product)
    limit = depth_limit(call, MERGE_DEPTH_DEFAULT)
    bids, asks, index, tick = book_levels(call, inst, "precision", "scale", 3, limit)
    return {"asks": [[float(p), float(s)] for p, s in asks],
            "bids": [[float(p), float(s)] for p, s in bids],
            "ts": str(call.now_ms), "scale": fmt.plain(tick), "precision": f"scale{index}",
            "isMaxPrecision": "YES" if index == 0 else "NO"}


def _candles(call: Call, kind: str | None, maximum: int, history: bool) -> list:
    product = product_type(call)
    inst = required_contract(call, product)
    interval = granularity(call, MIX_GRANULARITIES)
    start, end = candle_range(call)
    if kind is None:
        kind = call.params.enum("kLineType", KLINE_TYPES, default="market")
    limit = call.params.limit(CANDLES_DEFAULT, maximum, clamp=False)
    return candle_rows(call.engine.candles(inst, interval, start, end, limit, kind), usdt=False)


@route("GET", "/api/v2/mix/market/candles", signed=False, limit=20)
def candles(call: Call) -> list:
    """kLineType MARKET (default), MARK or INDEX, in any case."""
    return _candles(call, None, CANDLES_MAX, history=False)


@route("GET", "/api/v2/mix/market/history-candles", signed=False, limit=20)
def history_candles(call: Call) -> list:
    return _candles(call, "market", HISTORY_CANDLES_MAX, history=True)


@route("GET", "/api/v2/mix/market/history-mark-candles", signed=False, limit=20)
def history_mark_candles(call: Call) -> list:
    return _candles(call, "mark", HISTORY_CANDLES_MAX, history=True)


@route("GET", "/api/v2/mix/market/history-index-candles", signed=False, limit=20)
def history_index_candles(call: Call) -> list:
    return _candles(call, "index", HISTORY_CANDLES_MAX, history=True)


@route("GET", "/api/v2/mix/market/fills", signed=False, limit=20)
def fills(call: Call) -> list:
    """The most recent trades, newest first: limit up to 100, default 100."""
    product = product_type(call)
    inst = required_contract(call, product)
    limit = call.params.limit(100, 100)
    return trade_rows(call.engine.public_trades(inst, limit=limit), inst.symbol)


@route("GET", "/api/v2/mix/market/fills-history", signed=False, limit=10)
def fills_history(call: Call) -> list:
    """Trades newest first, paged by idLessThan, within startTime / endTime; limit up to 1000,
    default 500."""
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    limit = p.limit(500, 1000)
    start, end = p.time_range(call.now_ms)
    before = p.integer("idLessThan")
    return trade_rows(call.engine.public_trades(inst, start=start, end=end, limit=limit, before_id=before),
                      inst.symbol)


@route("GET", "/api/v2/mix/market/open-interest", signed=False, limit=20)
def open_interest(call: Call) -> dict:
    """The size of every user's open positions (localex's house is the other side of each)."""
    product = product_type(call)
    inst = required_contract(call, product)
    return {"openInterestList": [{"symbol": inst.symbol, "size": fmt.plain(call.engine.open_interest(inst))}],
            "ts": str(call.now_ms)}


@route("GET", "/api/v2/mix/market/query-position-lever", signed=False, limit=10)
def query_position_lever(call: Call) -> list:
    """The contract's position tiers, lowest first: value bounds in the margin coin, maximum
    leverage, maintenance margin rate. A contract without tiers has one, the whole size range
    at its maximum leverage and maintenance margin rate."""
    product = product_type(call)
    inst = required_contract(call, product)
    if inst.tiers:
        return [{"symbol": inst.symbol, "level": str(t.level), "startUnit": fmt.plain(t.start),
                 "endUnit": fmt.plain(t.end), "leverage": str(t.max_leverage),
                 "keepMarginRate": fmt.plain(t.maintenance_rate)} for t in inst.tiers]
    mark = call.engine.mark(inst) or Decimal(0)
    return [{"symbol": inst.symbol, "level": "1", "startUnit": "0",
             "endUnit": fmt.plain((inst.max_size * mark).to_integral_value()),
             "leverage": str(inst.max_leverage),
             "keepMarginRate": fmt.plain(inst.maintenance_margin_rate)}]
