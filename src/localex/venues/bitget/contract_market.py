"""Bitget doc family "contract / market" (futures public data): contracts, ticker, tickers,
symbol-price, current-fund-rate, history-fund-rate, funding-time. Also the product-type and
contract look-ups every mix endpoint shares."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.model import Instrument
from localex.venues.bitget import fmt
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route

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
    """The next settlement time: the next multiple of the interval since the epoch."""
    period = inst.funding_interval_h * HOUR_MS
    return (now_ms // period + 1) * period


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
        "symbolType": "perpetual",
        "minTradeUSDT": fmt.plain(inst.min_notional),
        "maxSymbolOrderNum": "200",
        "maxProductOrderNum": "1000",
        "maxPositionNum": "150",
        "symbolStatus": "normal" if inst.status == "online" else "maintain",
        "offTime": "-1",
        "limitOpenTime": "-1",
        "deliveryTime": "",
        "deliveryStartTime": "",
        "deliveryPeriod": "",
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


def ticker_row(inst: Instrument, last: str, now_ms: int) -> dict:
    """Get Ticker / Get All Tickers: every price is the mark price; no volume yet."""
    return {
        "symbol": inst.symbol,
        "lastPr": last,
        "askPr": last,
        "bidPr": last,
        "bidSz": "0",
        "askSz": "0",
        "high24h": last,
        "low24h": last,
        "ts": str(now_ms),
        "change24h": "0",
        "baseVolume": "0",
        "quoteVolume": "0",
        "usdtVolume": "0",
        "openUtc": last,
        "changeUtc24h": "0",
        "indexPrice": last,
        "fundingRate": fmt.plain(inst.funding_rate),
        "holdingAmount": "0",
        "deliveryStartTime": None,
        "deliveryTime": None,
        "deliveryStatus": "delivery_normal",
        "open24h": last,
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
    return [ticker_row(inst, mark_text(call.engine.marks(), inst), call.now_ms)]


@route("GET", "/api/v2/mix/market/tickers", signed=False, limit=20)
def tickers(call: Call) -> list:
    product = product_type(call)
    marks = call.engine.marks()
    return [ticker_row(inst, mark_text(marks, inst), call.now_ms) for inst in contracts_of(call, product)]


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
        insts = contracts_of(call, product)
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
