"""CoinW doc family "futures-trading / account": assets, fees, transferable amount, position
layout and margin mode, leverage, and the largest order sizes."""

from __future__ import annotations

from decimal import Decimal

from localex.engine.model import ZERO, MarginMode, Permission, PositionSide, TradeSide
from localex.venues.coinw import calc
from localex.venues.coinw.common import MARKET, VENUE, contract, contracts, user_id
from localex.venues.coinw.errors import CoinWError
from localex.venues.coinw.fmt import num, text
from localex.venues.coinw.routes import Call, route
from localex.venues.coinw.rows import MODEL, Book
from localex.engine.futures import notional, unrealized_pnl

SETTLE = "USDT"  # the account getUserAssets and available describe
MODELS = {"0": MarginMode.ISOLATED, "1": MarginMode.CROSSED}
LAYOUTS = {"0": True, "1": False}  # layout 0 merges positions, 1 keeps each opening apart


@route("GET", "/v1/perpum/account/getUserAssets", limit=5, window_ms=2000)
def user_assets(call: Call) -> dict:
    bal = call.engine.balance(call.uid, SETTLE, account=MARKET)
    held = sum((pos.margin for pos in call.engine.positions(call.uid, market=MARKET)
                if call.engine.instrument(VENUE, MARKET, pos.symbol).settle == SETTLE), ZERO)
    return {"alFreeze": num(bal.frozen), "alMargin": num(held), "almightyGold": 0,
            "availableMargin": num(bal.available), "availableUsdt": num(bal.available),
            "time": call.now_ms, "userId": user_id(call.uid)}


@route("GET", "/v1/perpum/account/fees", limit=2, window_ms=2000)
def fees(call: Call) -> dict:
    insts = contracts(call.engine)
    maker = insts[0].maker_fee if insts else Decimal("0.0001")
    taker = insts[0].taker_fee if insts else Decimal("0.0006")
    return {"makerFee": text(maker), "takerFee": text(taker), "userId": user_id(call.uid)}


@route("GET", "/v1/perpum/account/available", limit=5)
def available(call: Call) -> dict:
    """What can be transferred out: the available USDT, as a string."""
    return {"value": text(call.engine.balance(call.uid, SETTLE, account=MARKET).available)}


@route("GET", "/v1/perpum/positions/type", limit=5, window_ms=2000)
def position_type(call: Call) -> dict:
    acct = call.engine.futures_account(call.uid, MARKET)
    insts = contracts(call.engine)
    mode = (call.engine.symbol_settings(call.uid, VENUE, MARKET, insts[0].symbol).margin_mode
            if insts else MarginMode.ISOLATED)
    return {"layout": 0 if acct.merge_positions else 1, "positionModel": MODEL[mode]}


@route("POST", "/v1/perpum/positions/type", permission=Permission.FUTURES_TRADE, limit=2,
       window_ms=2000)
def set_position_type(call: Call) -> str:
    """The margin mode of every contract and the position layout; 9042 while orders or positions
    are open (and the setting would change)."""
    p = call.params
    mode = p.enum("positionModel", MODELS)
    merge = p.enum("layout", LAYOUTS)
    if mode is None and merge is None:
        raise p.missing("positionModel")
    engine = call.engine
    insts = contracts(engine)
    acct = engine.futures_account(call.uid, MARKET)
    changes = (merge is not None and merge != acct.merge_positions) or (mode is not None and any(
        engine.symbol_settings(call.uid, VENUE, MARKET, i.symbol).margin_mode is not mode for i in insts))
    if changes and (engine.positions(call.uid, market=MARKET)
                    or engine.futures_orders(call.uid, market=MARKET, open_only=True)):
        raise CoinWError(9042)
    if merge is not None:
        engine.set_merge_positions(call.uid, MARKET, merge)
    if mode is not None:
        for inst in insts:
            engine.set_margin_mode(call.uid, VENUE, MARKET, inst.symbol, mode)
    return "TRANSACTION_SUCCESS"


@route("GET", "/v1/perpum/positions/leverage", limit=10)
def leverage(call: Call) -> dict:
    """The leverage of a position (positionId) or of an order (orderId)."""
    p = call.params
    position_id, order_id = p.ident("positionId"), p.ident("orderId")
    if position_id is None and order_id is None:
        raise p.missing("positionId")
    if position_id is not None:
        pos = next((x for x in call.engine.positions(call.uid, market=MARKET, open_only=None)
                    if x.position_id == position_id), None)
        if pos is None:
            raise CoinWError(9003)
        return {"value": pos.leverage}
    order = call.engine.futures_order(call.uid, order_id=order_id)
    if order is None or order.venue != VENUE:
        raise CoinWError(9002)
    return {"value": order.leverage}


@route("GET", "/v1/perpum/orders/maxSize", limit=8)
def max_size(call: Call) -> dict:
    """The most contracts the available balance opens, at a leverage and price (the mark by
    default), margin plus taker fee."""
    p = call.params
    inst = contract(call.engine, p.text("instrument", required=True))
    settings = call.engine.symbol_settings(call.uid, VENUE, MARKET, inst.symbol)
    lev = p.integer("leverage", default=settings.long_leverage)
    p.enum("positionModel", MODELS)
    price = p.positive("orderPrice") or call.engine.mark(inst)
    if not inst.min_leverage <= lev <= inst.max_leverage:
        raise CoinWError(9006)
    if price is None:
        raise CoinWError(9111)
    avail = call.engine.balance(call.uid, inst.settle, account=MARKET).available
    per_contract = inst.contract_size * price * (Decimal(1) / lev + inst.taker_fee)
    most = calc.floor(avail / per_contract)
    return {"maxBuy": most, "maxSell": most}


@route("GET", "/v1/perpum/orders/availSize", limit=10, window_ms=2000)
def avail_size(call: Call) -> dict:
    """Contracts that can be closed: availBuy closes shorts, availSell closes longs (less what
    resting close orders already hold)."""
    inst = contract(call.engine, call.params.text("instrument", required=True))
    book = Book(call.engine, call.uid)
    held = {PositionSide.LONG: ZERO, PositionSide.SHORT: ZERO}
    for pos in book.positions():
        if pos.symbol == inst.symbol:
            held[pos.side] += pos.size
    for order in book.open_orders():
        if order.symbol == inst.symbol and order.trade_side is TradeSide.CLOSE:
            held[order.pos_side] -= order.size - order.filled_size
    pieces = {side: max(ZERO, size) / inst.contract_size for side, size in held.items()}
    return {"availBuy": num(pieces[PositionSide.SHORT]), "availSell": num(pieces[PositionSide.LONG])}


MARGIN_RATE_PLACES = 8


@route("GET", "/v1/perpum/positions/marginRate", limit=10, window_ms=2000)
def margin_rate(call: Call) -> dict:
    """A position's margin rate: its margin plus unrealized PnL over its value at the mark (the
    inverse of its effective leverage), a number cut to 8 places."""
    p = call.params
    position_id = p.ident("positionId", required=True)
    pos = next((x for x in call.engine.positions(call.uid, market=MARKET) if x.position_id == position_id), None)
    if pos is None:
        raise CoinWError(9003)
    inst = call.engine.instrument(VENUE, MARKET, pos.symbol)
    mark = call.engine.mark(inst) or pos.entry_price
    value = notional(inst, mark, pos.size)
    rate = (pos.margin + unrealized_pnl(inst, pos, mark)) / value if value else ZERO
    return {"value": num(rate.quantize(Decimal(1).scaleb(-MARGIN_RATE_PLACES)))}
