"""Bitget doc family "spot / market": coins, symbols, tickers, order book, merge depth, candles,
history candles, recent trades and market trades — all drawn from the engine's market tape
(engine/tape.py). The candle, book and trade helpers here serve the futures market pages too."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from localex.engine.model import Instrument, OrderBook
from localex.engine.spot import SPOT
from localex.engine.tape import DAY_MS, HOUR_MS, MINUTE_MS, Interval
from localex.venues.bitget import fmt
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route

HK = 8 * HOUR_MS  # Bitget's non-"utc" candles of 6 hours and longer are cut in UTC+8


def _intervals(minute: str, hour: str, day: str, week: str, extra: dict) -> dict[str, Interval]:
    table = {f"{n}{minute}": Interval("ms", n * MINUTE_MS) for n in (1, 3, 5, 15, 30)}
    table.update({f"{n}{hour}": Interval("ms", n * HOUR_MS) for n in (1, 4)})
    table.update({f"{n}{hour}": Interval("ms", n * HOUR_MS, HK) for n in (6, 12)})
    table.update({f"1{day}": Interval("ms", DAY_MS, HK), f"3{day}": Interval("ms", 3 * DAY_MS, HK),
                  f"1{week}": Interval("week", 1, HK), "1M": Interval("month", 1, HK),
                  "6Hutc": Interval("ms", 6 * HOUR_MS), "12Hutc": Interval("ms", 12 * HOUR_MS),
                  "1Dutc": Interval("ms", DAY_MS), "3Dutc": Interval("ms", 3 * DAY_MS),
                  "1Wutc": Interval("week", 1), "1Mutc": Interval("month", 1)})
    table.update(extra)
    return table


# granularity -> candle interval; spellings are exact (the venue refuses "1H" on spot, "1h" on mix)
SPOT_GRANULARITIES = _intervals("min", "h", "day", "week", {})
MIX_GRANULARITIES = _intervals("m", "H", "D", "W", {"2H": Interval("ms", 2 * HOUR_MS)})
CANDLES_DEFAULT, CANDLES_MAX, HISTORY_CANDLES_MAX = 100, 1000, 200
BOOK_MAX = 150  # levels a side
MERGE_DEPTH_DEFAULT = 100


def granularity(call: Call, table: dict[str, Interval]) -> Interval:
    value = call.params.text("granularity", required=True)
    interval = table.get(value)
    if interval is None:
        raise BitgetError("400171")
    return interval


def candle_range(call: Call, end_required: bool = False) -> tuple[int | None, int | None]:
    p = call.params
    if end_required:
        p.text("endTime", required=True)
    return p.time_range(call.now_ms)


def candle_rows(candles, usdt: bool) -> list:
    """Bitget's candle arrays, strings in Bitget's order: time, open, high, low, close, base
    volume, quote volume (spot: base, USDT, quote volume)."""
    rows = []
    for c in candles:
        row = [str(c.ts), fmt.plain(c.open), fmt.plain(c.high), fmt.plain(c.low), fmt.plain(c.close),
               fmt.plain(c.base_volume), fmt.plain(c.quote_volume)]
        if usdt:
            row.append(fmt.plain(c.quote_volume))
        rows.append(row)
    return rows


def coarsen(book: OrderBook, tick: Decimal) -> tuple[list, list]:
    """Levels merged onto a coarser price step: bids down, asks up, sizes summed."""
    def merge(levels, rounding):
        out: dict[Decimal, Decimal] = {}
        for level in levels:
            price = (level.price / tick).to_integral_value(rounding) * tick
            out[price] = out.get(price, Decimal(0)) + level.size
        return list(out.items())
    return merge(book.bids, ROUND_FLOOR), merge(book.asks, ROUND_CEILING)


def book_levels(call: Call, inst: Instrument, scale_param: str, prefix: str, steps: int,
                limit: int) -> tuple[list, list, int, Decimal]:
    """(bids, asks, merge step index, tick) for a book request with `scale_param` (stepN /
    scaleN); asks and bids as (price, size) pairs, best first, `limit` a side."""
    value = call.params.text(scale_param)
    index = 0
    if value is not None:
        low = value.lower()
        if not (low.startswith(prefix) and low[len(prefix):].isdigit() and int(low[len(prefix):]) <= steps):
            raise BitgetError("40020", scale_param)
        index = int(low[len(prefix):])
    tick = Decimal(1).scaleb(index - inst.price_scale)
    if index == 0:
        book = call.engine.order_book(inst, limit)
        return ([(lv.price, lv.size) for lv in book.bids], [(lv.price, lv.size) for lv in book.asks],
                0, tick)
    bids, asks = coarsen(call.engine.order_book(inst, BOOK_MAX * 10), tick)
    return bids[:limit], asks[:limit], index, tick


def depth_limit(call: Call, default: int) -> int:
    """merge-depth's limit: 1, 5, 15, 50 or "max" (the whole book), default 100."""
    value = call.params.text("limit")
    if value is None:
        return default
    if value.lower() == "max":
        return BOOK_MAX
    return call.params.limit(default, BOOK_MAX)


def trade_rows(trades, symbol: str) -> list:
    return [{"symbol": symbol, "tradeId": str(tr.trade_id), "side": tr.side.value,
             "price": fmt.plain(tr.price), "size": fmt.plain(tr.size), "ts": str(tr.ts)}
            for tr in trades]


def change(value: Decimal) -> str:
    return fmt.trimmed_half_up(value, 5)


def required_spot(call: Call) -> Instrument:
    symbol = call.params.symbol(required=True)
    inst = call.engine.instrument("bitget", SPOT, symbol)
    if inst is None:
        raise BitgetError("40034", symbol)
    return inst

OPEN_TIME_MS = 1_532_454_360_000  # the listing time shown for every spot symbol
CHAINS = {"BTC": "BTC", "ETH": "ERC20", "USDT": "TRC20", "USDC": "ERC20", "BGB": "ERC20", "SOL": "SOL", "XRP": "XRP"}


def spot_instruments(call: Call) -> list[Instrument]:
    symbol = call.params.symbol()
    if symbol is None:
        return call.engine.instruments("bitget", SPOT)
    inst = call.engine.instrument("bitget", SPOT, symbol)
    if inst is None:
        raise BitgetError("40034", symbol)
    return [inst]


@route("GET", "/api/v2/spot/public/coins", signed=False, limit=3)
def coins(call: Call) -> list:
    wanted = call.params.text("coin")
    names: list[str] = []
    for inst in call.engine.instruments("bitget", SPOT):
        for coin in (inst.base, inst.quote):
            if coin not in names:
                names.append(coin)
    if wanted is not None and wanted.upper() not in names:
        raise BitgetError("40034", wanted)
    rows = []
    for index, coin in enumerate(names, start=1):  # a coin keeps its coinId when asked for alone
        if wanted is not None and coin != wanted.upper():
            continue
        rows.append({
            "coinId": str(index),
            "coin": coin,
            "transfer": "true",
            "chains": [{
                "chain": CHAINS.get(coin, coin),
                "needTag": "false",
                "withdrawable": "true",
                "rechargeable": "true",
                "withdrawFee": "0",
                "extraWithdrawFee": "0",
                "depositConfirm": "1",
                "withdrawConfirm": "1",
                "minDepositAmount": "0",
                "minWithdrawAmount": "0",
                "browserUrl": "",
                "contractAddress": "",
                "withdrawStep": "0",
                "withdrawMinScale": "8",
                "congestion": "normal",
            }],
            "areaCoin": "no",
        })
    return rows


@route("GET", "/api/v2/spot/public/symbols", signed=False, limit=20)
def symbols(call: Call) -> list:
    return [
        {
            "symbol": inst.symbol,
            "baseCoin": inst.base,
            "quoteCoin": inst.quote,
            "minTradeAmount": fmt.plain(inst.min_size),
            "maxTradeAmount": fmt.plain(inst.max_size),
            "takerFeeRate": fmt.plain(inst.taker_fee),
            "makerFeeRate": fmt.plain(inst.maker_fee),
            "pricePrecision": str(inst.price_scale),
            "quantityPrecision": str(inst.size_scale),
            "quotePrecision": str(inst.quote_scale),
            "status": inst.status,
            "minTradeUSDT": fmt.plain(inst.min_notional),
            "buyLimitPriceRatio": "0.05",
            "sellLimitPriceRatio": "0.05",
            "areaSymbol": "no",
            "orderQuantity": "200",
            "openTime": str(OPEN_TIME_MS),
            "offTime": "",
        }
        for inst in spot_instruments(call)
    ]


def spot_ticker_row(call: Call, inst: Instrument) -> dict:
    stats = call.engine.stats_24h(inst)
    if stats is None:
        zero = {k: "0" for k in ("open", "high24h", "low24h", "lastPr", "bidPr", "askPr", "openUtc")}
        return {"symbol": inst.symbol, **zero, "quoteVolume": "0", "baseVolume": "0", "usdtVolume": "0",
                "ts": str(call.now_ms), "bidSz": "0", "askSz": "0", "changeUtc24h": "0", "change24h": "0"}
    return {
        "open": fmt.plain(stats.open),
        "symbol": inst.symbol,
        "high24h": fmt.plain(stats.high),
        "low24h": fmt.plain(stats.low),
        "lastPr": fmt.plain(stats.last),
        "quoteVolume": fmt.plain(stats.quote_volume),
        "baseVolume": fmt.plain(stats.base_volume),
        "usdtVolume": fmt.plain(stats.quote_volume),
        "ts": str(call.now_ms),
        "bidPr": fmt.plain(stats.bid.price) if stats.bid else "0",
        "askPr": fmt.plain(stats.ask.price) if stats.ask else "0",
        "bidSz": fmt.plain(stats.bid.size) if stats.bid else "0",
        "askSz": fmt.plain(stats.ask.size) if stats.ask else "0",
        "openUtc": fmt.plain(stats.open_utc),
        "changeUtc24h": change(stats.change_utc),
        "change24h": change(stats.change),
    }


@route("GET", "/api/v2/spot/market/tickers", signed=False, limit=20)
def tickers(call: Call) -> list:
    return [spot_ticker_row(call, inst) for inst in spot_instruments(call)]


@route("GET", "/api/v2/spot/market/orderbook", signed=False, limit=20)
def orderbook(call: Call) -> dict:
    """type step0 (the instrument's tick) to step5 (10^5 ticks); limit up to 150, default 150."""
    inst = required_spot(call)
    limit = call.params.limit(BOOK_MAX, BOOK_MAX)
    bids, asks, _index, _tick = book_levels(call, inst, "type", "step", 5, limit)
    return {"asks": [[fmt.plain(p), fmt.plain(s)] for p, s in asks],
            "bids": [[fmt.plain(p), fmt.plain(s)] for p, s in bids],
            "ts": str(call.now_ms)}


@route("GET", "/api/v2/spot/market/merge-depth", signed=False, limit=20)
def merge_depth(call: Call) -> dict:
    """precision scale0 (the instrument's tick) to scale3; limit 1, 5, 15, 50 or max."""
    inst = required_spot(call)
    limit = depth_limit(call, MERGE_DEPTH_DEFAULT)
    bids, asks, index, tick = book_levels(call, inst, "precision", "scale", 3, limit)
    return {"asks": [[fmt.plain(p), fmt.plain(s)] for p, s in asks],
            "bids": [[fmt.plain(p), fmt.plain(s)] for p, s in bids],
            "ts": str(call.now_ms), "scale": fmt.plain(tick), "precision": f"scale{index}",
            "isMaxPrecision": "YES" if index == 0 else "NO"}


@route("GET", "/api/v2/spot/market/candles", signed=False, limit=20)
def candles(call: Call) -> list:
    inst = required_spot(call)
    interval = granularity(call, SPOT_GRANULARITIES)
    start, end = candle_range(call)
    limit = call.params.limit(CANDLES_DEFAULT, CANDLES_MAX, clamp=False)
    return candle_rows(call.engine.candles(inst, interval, start, end, limit), usdt=True)


@route("GET", "/api/v2/spot/market/history-candles", signed=False, limit=20)
def history_candles(call: Call) -> list:
    inst = required_spot(call)
    interval = granularity(call, SPOT_GRANULARITIES)
    _start, end = candle_range(call, end_required=True)
    limit = call.params.limit(CANDLES_DEFAULT, HISTORY_CANDLES_MAX, clamp=False)
    return candle_rows(call.engine.candles(inst, interval, None, end, limit), usdt=True)


@route("GET", "/api/v2/spot/market/fills", signed=False, limit=10)
def fills(call: Call) -> list:
    """The most recent trades, newest first: limit up to 500, default 100."""
    inst = required_spot(call)
    limit = call.params.limit(100, 500)
    return trade_rows(call.engine.public_trades(inst, limit=limit), inst.symbol)


@route("GET", "/api/v2/spot/market/fills-history", signed=False, limit=10)
def fills_history(call: Call) -> list:
    """Trades newest first, paged by idLessThan, within startTime / endTime; limit up to 1000,
    default 500."""
    inst = required_spot(call)
    p = call.params
    limit = p.limit(500, 1000)
    start, end = p.time_range(call.now_ms)
    before = p.integer("idLessThan")
    return trade_rows(call.engine.public_trades(inst, start=start, end=end, limit=limit, before_id=before),
                      inst.symbol)
