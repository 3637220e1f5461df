"""Bitget doc family "contract / account": accounts, account, set-leverage, set-margin,
set-margin-mode, set-position-mode, bill.

A futures account lives in the engine under the market's name ("usdt-futures", ...), one balance
per margin coin; position margin lives on the positions (engine/futures.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from localex.engine.accounts import TRANSFER_IN, TRANSFER_OUT
from localex.engine.errors import InsufficientBalance
from localex.engine.futures import FUNDING_KIND, maintenance_rate, notional, unrealized_pnl
from localex.engine.model import (
    ZERO,
    Instrument,
    MarginMode,
    Permission,
    Position,
    PositionMode,
    PositionSide,
    SymbolSettings,
)
from localex.venues.bitget import fmt
from localex.venues.bitget.contract_market import (
    VENUE,
    contracts_of,
    market_of,
    product_type,
    required_contract,
)
from localex.venues.bitget.errors import BitgetError
from localex.venues.bitget.routes import Call, route

POS_MODES = {"one_way_mode": PositionMode.ONE_WAY, "hedge_mode": PositionMode.HEDGE}
POS_MODE_NAMES = {mode: name for name, mode in POS_MODES.items()}
MARGIN_MODES = {"isolated": MarginMode.ISOLATED, "crossed": MarginMode.CROSSED}
HOLD_SIDES = {"long": PositionSide.LONG, "short": PositionSide.SHORT}
USD_COINS = ("USDT", "USDC")  # valued at one USDT each
MONEY_PLACES = 8  # balances, fees and PnL on the mix wire
# the engine's bill kinds as the venue's businessType names them
BUSINESS_TYPES = {FUNDING_KIND: "contract_settle_fee"}
# transfers with the spot account (POST /api/v2/spot/wallet/transfer)
BUSINESS_TYPES.update({TRANSFER_IN: "trans_from_exchange", TRANSFER_OUT: "trans_to_exchange"})
# trades, liquidations and isolated margin changes (engine/futures.py records them)
BUSINESS_TYPES.update({"open_long": "open_long", "open_short": "open_short", "close_long": "close_long",
                       "close_short": "close_short", "liquidation_long": "burst_long_loss_query",
                       "liquidation_short": "burst_short_loss_query", "margin_add": "append_margin",
                       "margin_reduce": "reduce_margin"})
BILL_KINDS = {name: kind for kind, name in BUSINESS_TYPES.items()}
BILL_DAYS = 90  # the endpoint serves the last 90 days
YES_NO = {"yes": True, "no": False}
RATIO_PLACES = 16  # the venue's quotients


def money(value: Decimal) -> str:
    return fmt.trimmed_down(value, MONEY_PLACES)


def ratio(value: Decimal) -> str:
    return fmt.trimmed_half_up(value, RATIO_PLACES)


def pos_mode(call: Call, market: str | None) -> PositionMode:
    if market is None:
        return PositionMode.ONE_WAY
    return call.engine.futures_account(call.uid, market).position_mode


def margin_coin(call: Call, inst: Instrument, required: bool = True) -> None:
    """`marginCoin` must name the contract's margin coin (any case)."""
    coin = call.params.text("marginCoin", required=required)
    if coin is not None and coin.upper() != inst.settle:
        raise BitgetError("40778", inst.symbol, coin.upper())


def usdt_rate(call: Call, coin: str, marks: dict[str, Decimal]) -> Decimal:
    """What one `coin` is worth in USDT: the spot mark of COINUSDT (USDT and USDC at par)."""
    if coin in USD_COINS:
        return Decimal(1)
    return marks.get(f"{VENUE}:spot:{coin}USDT", ZERO)


@dataclass
class Figures:
    """One margin coin of one futures account, valued at the mark prices."""

    coin: str
    available: Decimal = ZERO
    frozen: Decimal = ZERO
    margin: dict[MarginMode, Decimal] = field(default_factory=lambda: {m: ZERO for m in MarginMode})
    upnl: dict[MarginMode, Decimal] = field(default_factory=lambda: {m: ZERO for m in MarginMode})
    maintenance: Decimal = ZERO  # crossed positions' maintenance margin at the mark
    has_isolated: bool = False

    @property
    def unrealized(self) -> Decimal:
        return sum(self.upnl.values(), ZERO)

    @property
    def equity(self) -> Decimal:
        return self.available + self.frozen + sum(self.margin.values(), ZERO) + self.unrealized

    @property
    def max_available(self) -> Decimal:
        """What new positions (or a transfer out) may use: the free balance, less crossed losses."""
        return max(ZERO, self.available + min(ZERO, self.upnl[MarginMode.CROSSED]))


def figures(call: Call, market: str, coin: str, marks: dict[str, Decimal],
            positions: list[Position] | None = None) -> Figures:
    bal = call.engine.balance(call.uid, coin, account=market)
    out = Figures(coin, bal.available, bal.frozen)
    if positions is None:
        positions = call.engine.positions(call.uid, market=market)
    for pos in positions:
        inst = call.engine.instrument(pos.venue, pos.market, pos.symbol)
        if inst.settle != coin:
            continue
        mark = marks.get(inst.key, pos.entry_price)
        out.margin[pos.margin_mode] += pos.margin
        out.upnl[pos.margin_mode] += unrealized_pnl(inst, pos, mark)
        if pos.margin_mode is MarginMode.ISOLATED:
            out.has_isolated = True
        else:
            out.maintenance += notional(inst, mark, pos.size) * maintenance_rate(inst, pos)
    return out


def equity_rows(call: Call, f: Figures, marks: dict[str, Decimal]) -> tuple[str, str, str]:
    """(usdtEquity, btcEquity, crossedRiskRate)"""
    usdt = f.equity * usdt_rate(call, f.coin, marks)
    btc_price = marks.get(f"{VENUE}:spot:BTCUSDT")
    btc = usdt / btc_price if btc_price else ZERO
    risk = f.maintenance / f.equity if f.maintenance and f.equity > 0 else ZERO
    return ratio(usdt), ratio(btc), ratio(risk)


def settle_coins(call: Call, product: str) -> list[str]:
    coins: list[str] = []
    for inst in contracts_of(call, product):
        if inst.settle not in coins:
            coins.append(inst.settle)
    return coins


def leverage_row(inst: Instrument, st: SymbolSettings, crossed_leverage: bool = True) -> dict:
    row = {
        "symbol": inst.symbol,
        "marginCoin": inst.settle,
        "longLeverage": str(st.long_leverage),
        "shortLeverage": str(st.short_leverage),
    }
    if crossed_leverage:
        row["crossMarginLeverage"] = str(st.long_leverage) if st.margin_mode is MarginMode.CROSSED else ""
    row["marginMode"] = st.margin_mode.value
    return row


def leverage_value(call: Call, name: str) -> int | None:
    """A leverage: a positive whole number (the venue sends them as strings)."""
    value = call.params.decimal(name)
    if value is None:
        return None
    if value != value.to_integral_value() or value < 1:
        raise BitgetError("40020", name)
    return int(value)


# ---- endpoints -----------------------------------------------------------------------------

@route("GET", "/api/v2/mix/account/accounts", limit=10)
def accounts(call: Call) -> list:
    product = product_type(call)
    market = market_of(product)
    if market is None:
        return []
    marks = call.engine.marks()
    positions = call.engine.positions(call.uid, market=market)
    rows = []
    for coin in settle_coins(call, product):
        f = figures(call, market, coin, marks, positions)
        usdt, btc, risk = equity_rows(call, f, marks)
        rows.append({
            "marginCoin": coin,
            "locked": money(f.frozen),
            "available": money(f.available),
            "crossedMaxAvailable": money(f.max_available),
            "isolatedMaxAvailable": money(f.max_available),
            "maxTransferOut": money(f.max_available),
            "accountEquity": money(f.equity),
            "usdtEquity": usdt,
            "btcEquity": btc,
            "crossedRiskRate": risk,
            "unrealizedPL": money(f.unrealized),
            "coupon": "0",
            "unionTotalMargin": money(f.equity),
            "unionAvailable": money(f.max_available),
            "unionMm": money(f.maintenance),
            "assetList": [{"coin": coin, "balance": money(f.equity), "available": money(f.max_available)}],
            "isolatedMargin": money(f.margin[MarginMode.ISOLATED]),
            "crossedMargin": money(f.margin[MarginMode.CROSSED]),
            "crossedUnrealizedPL": money(f.upnl[MarginMode.CROSSED]),
            "isolatedUnrealizedPL": money(f.upnl[MarginMode.ISOLATED]) if f.has_isolated else "",
            "assetMode": "single",
        })
    return rows


@route("GET", "/api/v2/mix/account/account", limit=10)
def account(call: Call) -> dict:
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst)
    marks = call.engine.marks()
    f = figures(call, inst.market, inst.settle, marks)
    usdt, btc, risk = equity_rows(call, f, marks)
    st = call.engine.symbol_settings(call.uid, VENUE, inst.market, inst.symbol)
    return {
        "marginCoin": inst.settle,
        "locked": money(f.frozen),
        "available": money(f.available),
        "crossedMaxAvailable": money(f.max_available),
        "isolatedMaxAvailable": money(f.max_available),
        "maxTransferOut": money(f.max_available),
        "accountEquity": money(f.equity),
        "usdtEquity": usdt,
        "btcEquity": btc,
        "crossedRiskRate": risk,
        # the venue sends these three as JSON numbers (LIVE)
        "crossedMarginLeverage": st.long_leverage,
        "isolatedLongLever": st.long_leverage,
        "isolatedShortLever": st.short_leverage,
        "marginMode": st.margin_mode.value,
        "posMode": POS_MODE_NAMES[pos_mode(call, inst.market)],
        "unrealizedPL": money(f.unrealized),
        "coupon": "0",
        "crossedUnrealizedPL": money(f.upnl[MarginMode.CROSSED]),
        "isolatedUnrealizedPL": money(f.upnl[MarginMode.ISOLATED]) if f.has_isolated else "",
        "grant": "",
        "assetMode": "single",
        "isolatedMargin": None,
        "crossedMargin": None,
    }


@route("POST", "/api/v2/mix/account/set-leverage", permission=Permission.FUTURES_TRADE, limit=5)
def set_leverage(call: Call) -> dict:
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst)
    leverage = leverage_value(call, "leverage")
    long_leverage = leverage_value(call, "longLeverage")
    short_leverage = leverage_value(call, "shortLeverage")
    hold_side = p.enum("holdSide", HOLD_SIDES)
    if leverage is None and long_leverage is None and short_leverage is None:
        raise BitgetError("40019", "leverage")
    engine, args = call.engine, (call.uid, VENUE, inst.market, inst.symbol)
    st = engine.symbol_settings(*args)
    if st.margin_mode is MarginMode.CROSSED:
        # one leverage in crossed mode; longLeverage, when sent, takes priority (DOC)
        st = engine.set_leverage(*args, long_leverage or leverage or short_leverage)
    else:
        sides = {}
        if leverage is not None:
            if hold_side is None:
                sides = {PositionSide.LONG: leverage, PositionSide.SHORT: leverage}
            else:
                sides = {hold_side: leverage}
        if long_leverage is not None:
            sides[PositionSide.LONG] = long_leverage
        if short_leverage is not None:
            sides[PositionSide.SHORT] = short_leverage
        for value in sides.values():  # each is checked before any is set
            if not inst.min_leverage <= value <= inst.max_leverage:
                raise BitgetError("40797")
        for side, value in sides.items():
            st = engine.set_leverage(*args, value, side)
    return leverage_row(inst, st)


@route("POST", "/api/v2/mix/account/set-margin", permission=Permission.FUTURES_TRADE, limit=5)
def set_margin(call: Call) -> str:
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst)
    side = p.enum("holdSide", HOLD_SIDES, required=True)
    amount = p.decimal("amount", required=True)
    if amount == 0:
        raise BitgetError("40020", "amount")
    positions = call.engine.positions(call.uid, market=inst.market, symbol=inst.symbol, side=side)
    if not positions:
        raise BitgetError("40802")
    try:
        call.engine.adjust_margin(call.uid, positions[0].position_id, amount)
    except InsufficientBalance:
        # adding more than the account holds, or taking out margin the position needs
        raise BitgetError("40754" if amount > 0 else "40800") from None
    return ""


@route("POST", "/api/v2/mix/account/set-margin-mode", permission=Permission.FUTURES_TRADE, limit=5)
def set_margin_mode(call: Call) -> dict:
    p = call.params
    product = product_type(call)
    inst = required_contract(call, product)
    margin_coin(call, inst)
    mode = p.enum("marginMode", MARGIN_MODES, required=True)
    st = call.engine.set_margin_mode(call.uid, VENUE, inst.market, inst.symbol, mode)
    return leverage_row(inst, st, crossed_leverage=False)


@route("POST", "/api/v2/mix/account/set-position-mode", permission=Permission.FUTURES_TRADE, limit=5)
def set_position_mode(call: Call) -> dict:
    product = product_type(call)
    mode = call.params.enum("posMode", POS_MODES, required=True)
    market = market_of(product)
    if market is not None:  # the demo product lines hold nothing: there is nothing to switch
        call.engine.set_position_mode(call.uid, market, mode)
    return {"posMode": POS_MODE_NAMES[mode]}


@route("GET", "/api/v2/mix/account/bill", limit=10)
def bill(call: Call) -> dict:
    """The account's bills, newest first, paged by idLessThan / endId: opens and closes
    (open_long ... close_short: amount the realized PnL, fee the trading fee), liquidations
    (burst_long_loss_query / burst_short_loss_query), isolated margin changes (append_margin /
    reduce_margin), funding fees (contract_settle_fee) and transfers with the spot account.
    `coin` applies to transfers only (DOC), so it filters nothing here; `symbol` (which ccxt
    sends) narrows to one contract."""
    p = call.params
    product = product_type(call)
    p.text("coin")
    symbol = p.symbol()
    business = p.text("businessType")
    p.enum("onlyFunding", YES_NO)
    start, end = p.time_range(call.now_ms)
    id_less_than = p.order_id("idLessThan")
    limit = p.limit(20, 100)
    market = market_of(product)
    kinds = [BILL_KINDS.get(business.lower(), "")] if business is not None else list(BUSINESS_TYPES)
    oldest = call.now_ms - BILL_DAYS * 86_400_000
    rows = []
    if market is not None and any(kinds):
        bills = call.engine.bills(call.uid, account=market, kinds=kinds, symbol=symbol,
                                  start_ms=max(start or oldest, oldest), end_ms=end,
                                  id_less_than=id_less_than, limit=limit)
        rows = [{"billId": str(b.bill_id),
                 "symbol": b.symbol,
                 "amount": money(b.amount),
                 "fee": money(b.fee) if b.fee else "0",
                 "feeByCoupon": "",
                 "businessType": BUSINESS_TYPES[b.kind],
                 "coin": b.asset,
                 "balance": money(b.balance),
                 "cTime": str(b.created_ms)} for b in bills]
    return {"bills": rows, "endId": rows[-1]["billId"] if rows else None}
