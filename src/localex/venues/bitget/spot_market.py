"""Bitget doc family "spot / market": coins, symbols, tickers."""

from __future__ import annotations

from localex.engine.model import Instrument
from localex.engine.spot import SPOT
from localex.venues.bitget import fmt
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route

CHAINS = {"BTC": "BTC", "ETH": "ERC20", "USDT": "TRC20", "USDC": "ERC20", "BGB": "ERC20"}


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
            "openTime": "",
            "offTime": "",
        }
        for inst in spot_instruments(call)
    ]


@route("GET", "/api/v2/spot/market/tickers", signed=False, limit=20)
def tickers(call: Call) -> list:
    marks = call.engine.marks()
    rows = []
    for inst in spot_instruments(call):
        mark = marks.get(inst.key)
        last = fmt.plain(mark) if mark is not None else "0"
        rows.append({
            "open": last,
            "symbol": inst.symbol,
            "high24h": last,
            "low24h": last,
            "lastPr": last,
            "quoteVolume": "0",
            "baseVolume": "0",
            "usdtVolume": "0",
            "ts": str(call.now_ms),
            "bidPr": last,
            "askPr": last,
            "bidSz": "0",
            "askSz": "0",
            "openUtc": last,
            "changeUtc24h": "0",
            "change24h": "0",
        })
    return rows
