"""Spot trading: placing, cancelling and filling orders against the mark price.

The immediate fill model (the default):
- a market order fills whole, at once, at the mark price, as taker;
- a limit order that is marketable when placed fills whole at the mark price as taker
  (post_only is cancelled instead); otherwise gtc and post_only rest, ioc and fok cancel;
- a resting limit order fills whole, at its own price, as maker, when the mark price reaches it.
The latency, liquidity and manual models (engine/fills.py) change when and how much fills.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from localex.engine import accounts
from localex.engine.errors import (
    BelowMinimumNotional,
    BelowMinimumSize,
    DomainError,
    DuplicateClientOid,
    InstrumentNotTrading,
    InsufficientBalance,
    InvalidOrder,
    NoMarkPrice,
    NonPositive,
    OrderNotCancellable,
    OrderNotFound,
    PlanNotFound,
    PresetWrongSide,
    PricePrecision,
    SizePrecision,
    UnknownInstrument,
)
from localex.engine.fills import (
    IMMEDIATE,
    LATENCY,
    LIQUIDITY,
    MANUAL,
    Ladder,
    immediate,
    size_grid,
    takes_liquidity,
)
from localex.engine.model import (
    ZERO,
    Bill,
    CancelReason,
    Fill,
    FillModel,
    Instrument,
    Liquidity,
    OrderStatus,
    OrderType,
    PlanKind,
    PlanStatus,
    Side,
    SpotOrder,
    SpotPlanOrder,
    TimeInForce,
    User,
)
from localex.engine.orders import cancellable, find_order

SPOT = "spot"
SPOT_ACCOUNT = "spot"
# the bills a fill writes in the spot account: each coin's move (the coin received gross), and
# the fee apart (in the coin received, or in the fee token)
TRADE_BUY, TRADE_SELL, TRADE_FEE = "trade_buy", "trade_sell", "trade_fee"
# what fires first when a price move meets several events at one price (as the futures book)
PRIORITY_PLAN, PRIORITY_LIMIT = 2, 4


@dataclass
class Event:
    """Something a price move meets: fired at `price`, in path order."""

    price: Decimal
    priority: int
    ident: int
    fire: object  # fire(uow) -> None

    def key(self, rising: bool) -> tuple:
        return (self.price if rising else -self.price, self.priority, self.ident)


def crossed(old: Decimal, new: Decimal, level: Decimal, upward: bool) -> bool:
    """Does the move old -> new reach `level` going the given way?"""
    return new >= level if upward else new <= level


@dataclass(frozen=True)
class FeeToken:
    """A venue's own coin that pays trading fees at a discount when the user opts in (BGB)."""

    asset: str
    discount: Decimal  # 0.2 = fees are 20% cheaper paid this way
    quote: str  # priced through the spot instrument asset+quote


@dataclass
class SpotOrderRequest:
    """One order of a batch, as the engine takes it (the venue has parsed the wire already)."""

    symbol: str
    side: Side
    order_type: OrderType
    size: Decimal
    price: Decimal | None = None
    force: TimeInForce = TimeInForce.GTC
    client_oid: str | None = None
    enter_point: str = "API"
    presets: "Presets | None" = None
    stp_mode: str = "none"


@dataclass(frozen=True)
class OrderRef:
    """An order named by id or client id (and, optionally, the symbol it must be on)."""

    order_id: int | None = None
    client_oid: str | None = None
    symbol: str | None = None


@dataclass(frozen=True)
class Presets:
    """Take-profit and stop-loss set on an order: when it has filled, trigger orders of the
    opposite side for what it bought (or sold), one cancelling the other when it fires."""

    tp_price: Decimal | None = None
    tp_execute: Decimal | None = None  # limit price; None: market
    sl_price: Decimal | None = None
    sl_execute: Decimal | None = None

    def check(self, inst: Instrument, side: Side, ref: Decimal | None) -> None:
        for name, value in (("presetTakeProfitPrice", self.tp_price), ("executeTakeProfitPrice", self.tp_execute),
                            ("presetStopLossPrice", self.sl_price), ("executeStopLossPrice", self.sl_execute)):
            if value is None:
                continue
            if value <= 0:
                raise NonPositive(f"{name} must be positive", field=name)
            if scale_of(value) > inst.price_scale:
                raise PricePrecision("price scale", value=value, scale=inst.price_scale)
        if ref is None:
            return
        up = side == Side.BUY  # a buy takes profit above its price and stops a loss below it
        if self.tp_price is not None and (self.tp_price <= ref if up else self.tp_price >= ref):
            raise PresetWrongSide("take-profit on the wrong side", field="presetTakeProfitPrice")
        if self.sl_price is not None and (self.sl_price >= ref if up else self.sl_price <= ref):
            raise PresetWrongSide("stop-loss on the wrong side", field="presetStopLossPrice")


def scale_of(value: Decimal) -> int:
    """Digits after the point, trailing zeros not counted (what normalize() leaves)."""
    _sign, digits, exponent = value.as_tuple()
    if isinstance(exponent, int):
        if exponent >= 0:
            return 0
        if digits[-1] and len(digits) < 28:  # nothing for normalize() to strip or round
            return -exponent
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def validate_order(inst: Instrument, side: Side, order_type: OrderType, price: Decimal | None,
                   size: Decimal, mark: Decimal | None) -> None:
    if inst.status != "online":
        raise InstrumentNotTrading(f"{inst.symbol} is not trading", symbol=inst.symbol)
    if size <= 0:
        raise NonPositive("size must be positive", field="size")
    if order_type == OrderType.LIMIT:
        if price is None or price <= 0:
            raise NonPositive("price must be positive", field="price")
        if scale_of(price) > inst.price_scale:
            raise PricePrecision("price scale", value=price, scale=inst.price_scale)
    market_buy = order_type == OrderType.MARKET and side == Side.BUY
    size_scale = inst.quote_scale if market_buy else inst.size_scale
    if scale_of(size) > size_scale:
        raise SizePrecision("size scale", value=size, scale=size_scale)
    if not market_buy and size < inst.min_size:
        raise BelowMinimumSize("size below minimum", minimum=inst.min_size)
    if order_type == OrderType.MARKET and mark is None:
        raise NoMarkPrice(f"{inst.symbol} has no price yet", symbol=inst.symbol)
    if market_buy:
        notional = size
    elif order_type == OrderType.LIMIT:
        notional = price * size  # type: ignore[operator]
    else:
        notional = mark * size  # type: ignore[operator]
    if notional < inst.min_notional:
        raise BelowMinimumNotional("notional below minimum", minimum=inst.min_notional, quote=inst.quote)


class SpotBook:
    """Spot rules over one unit of work. Stateless: every call gets the uow it works in."""

    def __init__(self, ids, clock, fee_tokens: dict[str, FeeToken], models=None) -> None:
        self.ids = ids
        self.clock = clock
        self.fee_tokens = fee_tokens
        self.models = models  # FillModels; None: every instrument fills immediately
        self.tape = None  # the market tape, told of every fill (engine/tape.py)

    def _model(self, uow, inst: Instrument) -> FillModel:
        return self.models.for_instrument(uow, inst) if self.models is not None else immediate()

    # placing -----------------------------------------------------------------------------
    def place(self, uow, user: User, symbol: str, side: Side, order_type: OrderType,
              force: TimeInForce, price: Decimal | None, size: Decimal, client_oid: str | None,
              enter_point: str = "API", at_price: Decimal | None = None,
              presets: "Presets | None" = None, stp_mode: str = "none") -> SpotOrder:
        """at_price: the market price the order meets (a trigger firing along a price move);
        default the mark. presets: take-profit / stop-loss placed for what the order fills."""
        inst = uow.get_instrument(user.venue, SPOT, symbol)
        if inst is None:
            raise UnknownInstrument(symbol, symbol=symbol)
        if at_price is not None:
            mark = at_price
        else:
            mark_row = uow.get_mark(inst.key)
            mark = mark_row.price if mark_row else None
        if order_type == OrderType.MARKET:
            price = None
        validate_order(inst, side, order_type, price, size, mark)
        if presets is not None:
            presets.check(inst, side, price if price is not None else mark)
        if client_oid and uow.get_spot_order_by_client_oid(user.uid, client_oid) is not None:
            raise DuplicateClientOid(client_oid, client_oid=client_oid)
        now = self.clock.now_ms()
        order_id = self.ids.next_id(uow, user.venue, now)
        if side == Side.BUY:
            frozen_asset = inst.quote
            frozen_amount = size if order_type == OrderType.MARKET else price * size  # type: ignore[operator]
        else:
            frozen_asset, frozen_amount = inst.base, size
        try:
            accounts.freeze(uow, user.uid, SPOT_ACCOUNT, frozen_asset, frozen_amount, now)
        except InsufficientBalance:
            raise InsufficientBalance("insufficient balance", asset=frozen_asset) from None
        order = SpotOrder(
            order_id=order_id, uid=user.uid, venue=user.venue, symbol=inst.symbol,
            client_oid=client_oid or str(self.ids.next_id(uow, user.venue, now)),
            side=side, order_type=order_type, force=force, price=price, size=size,
            status=OrderStatus.LIVE, filled_size=ZERO, filled_quote=ZERO, fee=ZERO, fee_asset="",
            fee_value=ZERO, frozen_asset=frozen_asset, frozen_amount=frozen_amount,
            enter_point=enter_point, cancel_reason=CancelReason.NONE, created_ms=now, updated_ms=now,
            stp_mode=stp_mode,
        )
        if presets is not None:
            order.tp_price, order.tp_execute = presets.tp_price, presets.tp_execute
            order.sl_price, order.sl_execute = presets.sl_price, presets.sl_execute
        uow.insert_spot_order(order)
        if stp_mode != "none" and self._self_trade(uow, inst, order, mark):
            return order  # cancelled by its own self-trade prevention
        model = self._model(uow, inst)
        if model.kind == LATENCY and model.params["ms"] > 0 and takes_liquidity(order.side, order.price, mark):
            # it reaches the book later (arrive); until then it is live and can be cancelled
            order.due_ms = now + model.params["ms"]
            uow.update_spot_order(order)
            self.models.scheduled(order.due_ms)
            return order
        self._on_placed(uow, user, inst, order, mark, model, inserted=True)
        return order

    def _self_trade(self, uow, inst: Instrument, order: SpotOrder, mark: Decimal | None) -> bool:
        """Self-trade prevention, by the new (taking) order's mode: it would meet the owner's own
        resting orders of the other side priced within its reach (up to its limit price; a market
        order reaches the mark). cancel_taker cancels the new order, cancel_maker those resting
        orders, cancel_both all of them. True when the new order was cancelled."""
        if mark is None or not takes_liquidity(order.side, order.price, mark):
            return False
        reach = order.price if order.price is not None else mark
        own = [o for o in uow.resting_spot_orders(inst.venue, inst.symbol, uid=order.uid)
               if o.order_id != order.order_id and o.side != order.side and o.price is not None
               and (o.price <= reach if order.side == Side.BUY else o.price >= reach)]
        if not own:
            return False
        if order.stp_mode in ("cancel_maker", "cancel_both"):
            for maker in own:
                self._cancel(uow, maker, CancelReason.STP)
        if order.stp_mode in ("cancel_taker", "cancel_both"):
            self._cancel(uow, order, CancelReason.STP)
            return True
        return False

    def _on_placed(self, uow, user: User, inst: Instrument, order: SpotOrder, mark: Decimal | None,
                   model: FillModel | None = None, inserted: bool = False) -> None:
        """inserted: the order is as this unit just inserted it (nothing to write if it rests)."""
        kind = model.kind if model is not None else IMMEDIATE
        if kind == MANUAL:  # waits for the control plane
            if not inserted:
                uow.update_spot_order(order)
            return
        if kind == LIQUIDITY and takes_liquidity(order.side, order.price, mark) and (
                order.order_type == OrderType.MARKET or order.force != TimeInForce.POST_ONLY):
            self._sweep(uow, user, inst, order, mark, Ladder.of(model, inst))  # type: ignore[arg-type]
            return
        if order.order_type == OrderType.MARKET:
            assert mark is not None
            if order.side == Side.BUY:  # what the quote still frozen for it buys
                base = (order.frozen_amount / mark).quantize(Decimal(1).scaleb(-inst.size_scale), ROUND_DOWN)
            else:
                base = order.size - order.filled_size
            if base <= 0:
                self._cancel(uow, order, CancelReason.IOC)
                return
            self._fill(uow, user, inst, order, mark, base, Liquidity.TAKER)
            return
        marketable = mark is not None and (
            (order.side == Side.BUY and mark <= order.price)  # type: ignore[operator]
            or (order.side == Side.SELL and mark >= order.price)  # type: ignore[operator]
        )
        if marketable and order.force == TimeInForce.POST_ONLY:
            self._cancel(uow, order, CancelReason.POST_ONLY)
        elif marketable:
            self._fill(uow, user, inst, order, mark, order.size - order.filled_size,  # type: ignore[arg-type]
                       Liquidity.TAKER)
        elif order.force == TimeInForce.IOC:
            self._cancel(uow, order, CancelReason.IOC)
        elif order.force == TimeInForce.FOK:
            self._cancel(uow, order, CancelReason.FOK)
        elif not inserted:
            uow.update_spot_order(order)

    # filling -----------------------------------------------------------------------------
    def _fee(self, uow, user: User, inst: Instrument, side: Side, base: Decimal, quote: Decimal,
             rate: Decimal, now: int) -> tuple[Decimal, str, Decimal]:
        """(fee charged, its asset, the fee valued in the coin received)."""
        received = inst.base if side == Side.BUY else inst.quote
        fee_value = (base if side == Side.BUY else quote) * rate
        token = self.fee_tokens.get(user.venue)
        if user.fee_deduction and token is not None and fee_value > 0:
            token_mark = uow.get_mark(f"{user.venue}:{SPOT}:{token.asset}{token.quote}")
            quote_mark = Decimal(1) if inst.quote == token.quote else None
            if token_mark is not None and quote_mark is not None and token_mark.price > 0:
                in_quote = quote * rate
                amount = (in_quote * (1 - token.discount) / token_mark.price).quantize(
                    Decimal("1e-8"), ROUND_DOWN)
                bal = uow.get_balance(user.uid, SPOT_ACCOUNT, token.asset)
                # buying the fee token itself: the fee comes off the coins received (_fill), once
                from_received = token.asset == received
                if amount > 0 and (from_received or bal.available >= amount):
                    if not from_received:
                        accounts.move(uow, user.uid, SPOT_ACCOUNT, token.asset, available=-amount,
                                      now_ms=now)
                    return amount, token.asset, fee_value
        return fee_value, received, fee_value

    def _sweep(self, uow, user: User, inst: Instrument, order: SpotOrder, mark: Decimal,
               ladder: Ladder) -> None:
        """A taking order under the liquidity model: fill level by level from the mark, up to
        `ladder.size` each, never beyond a limit order's price; then settle what is left."""
        grid = size_grid(inst)
        plan: list[tuple[Decimal, Decimal]] = []
        if order.is_market_buy:  # size is quote coin: buy what it pays for
            budget, whole = order.frozen_amount, False
            for price in ladder.prices(inst, order.side, mark):
                qty = min(ladder.size, (budget / price / grid).to_integral_value(ROUND_DOWN) * grid)
                if qty > 0:
                    plan.append((price, qty))
                    budget -= price * qty
                if qty < ladder.size:  # the money ran out before the liquidity did
                    whole = True
                    break
            if plan and budget < plan[-1][0] * grid:  # spent to the last step
                whole = True
        else:
            left = order.size - order.filled_size
            for price in ladder.prices(inst, order.side, mark, order.price):
                if left <= 0:
                    break
                qty = min(ladder.size, left)
                plan.append((price, qty))
                left -= qty
            whole = left <= 0
            if order.force == TimeInForce.FOK and not whole:
                self._cancel(uow, order, CancelReason.FOK)
                return
        if not plan:
            self._cancel(uow, order, CancelReason.IOC)
            return
        for i, (price, qty) in enumerate(plan):
            self._fill(uow, user, inst, order, price, qty, Liquidity.TAKER,
                       complete=whole if i == len(plan) - 1 else False)
        if order.status.is_open and (order.order_type == OrderType.MARKET
                                     or order.force in (TimeInForce.IOC, TimeInForce.FOK)):
            self._cancel(uow, order, CancelReason.IOC)  # the rest finds no liquidity

    def _fill(self, uow, user: User, inst: Instrument, order: SpotOrder, price: Decimal,
              base: Decimal, liquidity: Liquidity, complete: bool | None = None) -> Fill:
        """Fill `base` of the order at `price`. complete: whether this fill finishes the order
        (None: a market order's one fill does, a limit order's when nothing remains)."""
        now = self.clock.now_ms()
        quote = price * base
        rate = inst.maker_fee if liquidity == Liquidity.MAKER else inst.taker_fee
        fee, fee_asset, fee_value = self._fee(uow, user, inst, order.side, base, quote, rate, now)
        trade_id = self.ids.next_id(uow, user.venue, now)
        if order.side == Side.BUY:
            base_fee = fee if fee_asset == inst.base else ZERO
            paid = accounts.move(uow, user.uid, SPOT_ACCOUNT, inst.quote, frozen=-quote, now_ms=now)
            got = accounts.move(uow, user.uid, SPOT_ACCOUNT, inst.base, available=base - base_fee, now_ms=now)
            moves = ((inst.quote, -quote, paid.available), (inst.base, base, got.available + base_fee))
            in_fee = (inst.base, base_fee, got.available)
        else:
            quote_fee = fee if fee_asset == inst.quote else ZERO
            paid = accounts.move(uow, user.uid, SPOT_ACCOUNT, inst.base, frozen=-base, now_ms=now)
            got = accounts.move(uow, user.uid, SPOT_ACCOUNT, inst.quote, available=quote - quote_fee, now_ms=now)
            moves = ((inst.base, -base, paid.available), (inst.quote, quote, got.available + quote_fee))
            in_fee = (inst.quote, quote_fee, got.available)
        kind = TRADE_BUY if order.side == Side.BUY else TRADE_SELL
        for asset, amount, balance in moves:
            self._bill(uow, user, inst, asset, kind, amount, balance, trade_id, now)
        if in_fee[1] > 0:
            self._bill(uow, user, inst, in_fee[0], TRADE_FEE, -in_fee[1], in_fee[2], trade_id, now)
        elif fee > 0 and fee_asset not in (inst.base, inst.quote):  # paid in the fee token (BGB)
            token = uow.get_balance(user.uid, SPOT_ACCOUNT, fee_asset).available
            self._bill(uow, user, inst, fee_asset, TRADE_FEE, -fee, token, trade_id, now)
        order.frozen_amount -= quote if order.side == Side.BUY else base
        order.filled_size += base
        order.filled_quote += quote
        if order.fee_asset and order.fee_asset != fee_asset:
            # fees of one order in two coins: keep the total valued in the coin received
            order.fee_asset = inst.base if order.side == Side.BUY else inst.quote
            order.fee += fee_value
        else:
            order.fee += fee
            order.fee_asset = fee_asset
        order.fee_value += fee_value
        if complete is None:
            complete = order.order_type == OrderType.MARKET or order.filled_size >= order.size
        order.status = OrderStatus.FILLED if complete else OrderStatus.PARTIALLY_FILLED
        if complete and order.frozen_amount > 0:
            accounts.release(uow, user.uid, SPOT_ACCOUNT, order.frozen_asset, order.frozen_amount, now)
            order.frozen_amount = ZERO
        order.updated_ms = now
        uow.update_spot_order(order)
        if complete:
            self._place_presets(uow, inst, order)
        fill = Fill(
            trade_id=trade_id, order_id=order.order_id, uid=user.uid,
            venue=user.venue, symbol=inst.symbol, side=order.side, order_type=order.order_type,
            price=price, size=base, quote=quote, fee=fee, fee_asset=fee_asset, fee_value=fee_value,
            liquidity=liquidity, created_ms=now,
        )
        uow.insert_fill(fill)
        if self.tape is not None:
            taker = order.side if liquidity == Liquidity.TAKER else (
                Side.SELL if order.side == Side.BUY else Side.BUY)
            self.tape.on_fill(uow, inst, taker, price, base, now, fill.trade_id)
        return fill

    def _bill(self, uow, user: User, inst: Instrument, asset: str, kind: str, amount: Decimal,
              balance: Decimal, trade_id: int, now: int) -> None:
        uow.insert_bill(Bill(bill_id=self.ids.next_id(uow, user.venue, now), uid=user.uid, venue=user.venue,
                             account=SPOT_ACCOUNT, asset=asset, symbol=inst.symbol, kind=kind, amount=amount,
                             balance=balance, ref_id=trade_id, created_ms=now))

    # cancelling --------------------------------------------------------------------------
    def _cancel(self, uow, order: SpotOrder, reason: CancelReason) -> SpotOrder:
        now = self.clock.now_ms()
        if order.frozen_amount > 0:
            accounts.release(uow, order.uid, SPOT_ACCOUNT, order.frozen_asset, order.frozen_amount, now)
        order.frozen_amount = ZERO
        order.status = OrderStatus.CANCELLED
        order.cancel_reason = reason
        order.updated_ms = now
        uow.update_spot_order(order)
        if order.filled_size > 0:  # what it did fill keeps its protection
            self._place_presets(uow, uow.get_instrument(order.venue, SPOT, order.symbol), order)
        return order

    def cancel(self, uow, user: User, symbol: str | None, order_id: int | None,
               client_oid: str | None) -> SpotOrder:
        order = cancellable(self.find(uow, user.uid, order_id, client_oid), symbol)
        return self._cancel(uow, order, CancelReason.USER)

    def place_many(self, uow, user: User, requests: list[SpotOrderRequest]) -> list[SpotOrder | DomainError]:
        """Place each order on its own: one refused (its reason in its place in the answer) leaves
        the others as they are, all in the caller's one unit of work."""
        results: list[SpotOrder | DomainError] = []
        for req in requests:
            try:
                with uow.savepoint():
                    results.append(self.place(uow, user, req.symbol, req.side, req.order_type,
                                              req.force, req.price, req.size, req.client_oid,
                                              req.enter_point, presets=req.presets,
                                              stp_mode=req.stp_mode))
            except DomainError as exc:
                results.append(exc)
        return results

    def cancel_many(self, uow, user: User, refs: list[OrderRef]) -> list[SpotOrder | DomainError]:
        """Cancel each order named; one that cannot be cancelled is reported, not fatal."""
        results: list[SpotOrder | DomainError] = []
        for ref in refs:
            try:
                results.append(self.cancel(uow, user, ref.symbol, ref.order_id, ref.client_oid))
            except DomainError as exc:
                results.append(exc)
        return results

    def replace(self, uow, user: User, ref: OrderRef, price: Decimal, size: Decimal,
                new_client_oid: str | None, presets: Presets | None = None) -> SpotOrder | DomainError:
        """Cancel an open order and place a limit order of the same side and time in force at
        `price` for `size`. The cancellation stands even if the new order is refused (the
        refusal is returned in its place)."""
        old = self.cancel(uow, user, ref.symbol, ref.order_id, ref.client_oid)
        try:
            with uow.savepoint():
                return self.place(uow, user, old.symbol, old.side, OrderType.LIMIT, old.force, price,
                                  size, new_client_oid, old.enter_point, presets=presets,
                                  stp_mode=old.stp_mode)
        except DomainError as exc:
            return exc

    def replace_many(self, uow, user: User, items: list[tuple]) -> list[SpotOrder | DomainError]:
        """replace() for each (ref, price, size, new_client_oid, presets); a cancellation that
        fails is reported in its place like a refused placement."""
        results: list[SpotOrder | DomainError] = []
        for ref, price, size, new_client_oid, presets in items:
            try:
                results.append(self.replace(uow, user, ref, price, size, new_client_oid, presets))
            except DomainError as exc:
                results.append(exc)
        return results

    def cancel_symbol(self, uow, user: User, symbol: str) -> list[SpotOrder]:
        """Cancel every open order of one symbol (oldest first)."""
        if uow.get_instrument(user.venue, SPOT, symbol) is None:
            raise UnknownInstrument(symbol, symbol=symbol)
        return [self._cancel(uow, order, CancelReason.USER)
                for order in uow.resting_spot_orders(user.venue, symbol, uid=user.uid)]

    def find(self, uow, uid: str, order_id: int | None, client_oid: str | None) -> SpotOrder | None:
        return find_order(uid, order_id, client_oid, uow.get_spot_order,
                          uow.get_spot_order_by_client_oid)

    def fill_manually(self, uow, uid: str, order_id: int, size: Decimal | None,
                      price: Decimal | None = None, liquidity: Liquidity | None = None) -> Fill:
        """Fill part (or, size None, the rest) of an open order, as the control plane asks: how a
        test makes an order partially filled on purpose, or fills under the manual model. A limit
        order fills at its own price as maker unless told otherwise (never beyond its price); a
        market order at the mark as taker. A market buy's size is base coin, up to what its
        frozen quote pays for at that price."""
        order = uow.get_spot_order(uid, order_id)
        if order is None:
            raise OrderNotFound("order not found")
        if not order.status.is_open:
            raise OrderNotCancellable("only an open order can be filled", status=order.status.value)
        inst = uow.get_instrument(order.venue, SPOT, order.symbol)
        if price is None:
            if order.price is not None:
                price = order.price
            else:
                mark_row = uow.get_mark(inst.key)
                if mark_row is None:
                    raise NoMarkPrice(f"{inst.symbol} has no price yet", symbol=inst.symbol)
                price = mark_row.price
        else:
            if price <= 0:
                raise NonPositive("price must be positive", field="price")
            if scale_of(price) > inst.price_scale:
                raise PricePrecision("price scale", value=price, scale=inst.price_scale)
            if order.price is not None and (price > order.price if order.side == Side.BUY
                                            else price < order.price):
                raise InvalidOrder("the price is beyond the order's limit", limit=order.price)
        if liquidity is None:
            liquidity = Liquidity.MAKER if order.order_type == OrderType.LIMIT else Liquidity.TAKER
        grid = size_grid(inst)
        if order.is_market_buy:
            remaining = (order.frozen_amount / price / grid).to_integral_value(ROUND_DOWN) * grid
        else:
            remaining = order.size - order.filled_size
        size = remaining if size is None else size
        if size <= 0:
            raise NonPositive("size must be positive", field="size")
        if size > remaining:
            raise InvalidOrder("size exceeds what remains of the order", remaining=remaining)
        if scale_of(size) > inst.size_scale:
            raise SizePrecision("size scale", value=size, scale=inst.size_scale)
        complete = None
        if order.is_market_buy:  # done once what is left cannot buy another step at this price
            complete = order.frozen_amount - price * size < price * grid
        elif order.order_type == OrderType.MARKET:
            complete = order.filled_size + size >= order.size
        return self._fill(uow, uow.get_user(uid), inst, order, price, size, liquidity, complete=complete)

    def reject(self, uow, uid: str, order_id: int, reason: CancelReason = CancelReason.REJECTED) -> SpotOrder:
        """Cancel an open order as the venue would refuse it (the manual model's "no")."""
        order = uow.get_spot_order(uid, order_id)
        if order is None:
            raise OrderNotFound("order not found")
        if not order.status.is_open:
            raise OrderNotCancellable("order is finished", status=order.status.value)
        return self._cancel(uow, order, reason)

    def arrive(self, uow, order: SpotOrder) -> None:
        """A latency-delayed order reaches the book: it is treated as placed now, at the mark."""
        inst = uow.get_instrument(order.venue, SPOT, order.symbol)
        mark_row = uow.get_mark(inst.key)
        order.due_ms = None
        model = self._model(uow, inst)
        if model.kind == LATENCY:
            model = immediate(model.scope)
        self._on_placed(uow, uow.get_user(order.uid), inst, order, mark_row.price if mark_row else None, model)

    # matching on a price move ------------------------------------------------------------
    def quiet_band(self, uow, inst: Instrument, band) -> None:
        """Narrow `band` (engine/triggers.py) to the prices at which match() fires nothing."""
        if self._model(uow, inst).kind != MANUAL:
            for order in uow.resting_spot_orders(inst.venue, inst.symbol):
                if order.price is not None and order.due_ms is None:
                    (band.below if order.side == Side.BUY else band.above)(order.price)
        for plan in uow.live_spot_plans(inst.venue, inst.symbol):
            (band.above if plan.trigger_above else band.below)(plan.trigger_price)

    def match(self, uow, inst: Instrument, mark: Decimal, old: Decimal | None = None) -> list[Fill]:
        """Fire, in the order the move old -> mark meets them, every resting order the mark
        reaches (at its own price, as maker; best price first, then oldest) and every trigger
        order it crosses (its order placed at the trigger price). Under the liquidity model at
        most its size per order and move; under the manual model no resting order fills."""
        model = self._model(uow, inst)
        old = mark if old is None else old
        rising = mark >= old
        fills: list[Fill] = []
        users: dict[str, User] = {}

        def user_of(uid: str) -> User:
            if uid not in users:
                users[uid] = uow.get_user(uid)
            return users[uid]

        events: list[Event] = []
        placed: list[SpotOrder] = []  # the orders fired triggers place, in firing order
        if model.kind != MANUAL:
            cap = Ladder.of(model, inst).size if model.kind == LIQUIDITY else None
            for order in uow.resting_spot_orders(inst.venue, inst.symbol):
                if order.price is not None and order.due_ms is None and self._reached(order, mark):
                    events.append(Event(order.price, PRIORITY_LIMIT, order.order_id,
                                        self._resting_fill(inst, order, cap, user_of, fills)))
        for plan in uow.live_spot_plans(inst.venue, inst.symbol):
            if crossed(old, mark, plan.trigger_price, upward=plan.trigger_above):
                events.append(Event(plan.trigger_price, PRIORITY_PLAN, plan.order_id,
                                    self._trigger(inst, plan, user_of, fills, placed)))
        # falling: the highest buys are met first; a limit order a trigger places joins the queue
        # at its price, so the rest of the move fills it in price order with everything else
        queue = [(e.key(rising), i, e) for i, e in enumerate(events)]
        heapq.heapify(queue)
        count = len(queue)
        while queue:
            _, _, event = heapq.heappop(queue)
            event.fire(uow)  # type: ignore[operator]
            while placed and model.kind != MANUAL:
                order = uow.get_spot_order(placed[0].uid, placed.pop(0).order_id)
                if order is None or not order.status.is_open or order.price is None or order.due_ms is not None:
                    continue
                ahead = order.price >= event.price if rising else order.price <= event.price
                if ahead and self._reached(order, mark):
                    cap = Ladder.of(model, inst).size if model.kind == LIQUIDITY else None
                    reached = Event(order.price, PRIORITY_LIMIT, order.order_id,
                                    self._resting_fill(inst, order, cap, user_of, fills))
                    heapq.heappush(queue, (reached.key(rising), count, reached))
                    count += 1
        return fills

    @staticmethod
    def _reached(order: SpotOrder, mark: Decimal) -> bool:
        return (order.side == Side.BUY and order.price >= mark) or (
            order.side == Side.SELL and order.price <= mark)  # type: ignore[operator]

    def _resting_fill(self, inst: Instrument, order: SpotOrder, cap: Decimal | None, user_of, fills: list):
        def fire(uow) -> None:
            current = uow.get_spot_order(order.uid, order.order_id)
            if current is None or not current.status.is_open:
                return
            remaining = current.size - current.filled_size
            fills.append(self._fill(uow, user_of(current.uid), inst, current, current.price,
                                    remaining if cap is None else min(cap, remaining), Liquidity.MAKER))
        return fire

    # trigger (plan) orders ---------------------------------------------------------------
    @staticmethod
    def plan_order_size(inst: Instrument, side: Side, order_type: OrderType, size: Decimal,
                        size_in_quote: bool, price: Decimal) -> Decimal:
        """The size of the order a trigger places at `price` (its execute price, or the market
        price it fires at): base coin, except market buys, whose size is quote coin."""
        if order_type == OrderType.MARKET and side == Side.BUY:
            if size_in_quote:
                return size
            return (size * price).quantize(Decimal(1).scaleb(-inst.quote_scale), ROUND_DOWN)
        if size_in_quote:
            return (size / price).quantize(Decimal(1).scaleb(-inst.size_scale), ROUND_DOWN)
        return size

    def _check_plan(self, uow, inst: Instrument, side: Side, order_type: OrderType,
                    trigger_price: Decimal, execute_price: Decimal | None, size: Decimal,
                    size_in_quote: bool) -> Decimal:
        """Validate a trigger order as the order it will place; returns the mark."""
        if inst.status != "online":
            raise InstrumentNotTrading(f"{inst.symbol} is not trading", symbol=inst.symbol)
        if trigger_price <= 0:
            raise NonPositive("trigger price must be positive", field="triggerPrice")
        if scale_of(trigger_price) > inst.price_scale:
            raise PricePrecision("price scale", value=trigger_price, scale=inst.price_scale)
        if size <= 0:
            raise NonPositive("size must be positive", field="size")
        size_scale = inst.quote_scale if size_in_quote else inst.size_scale
        if scale_of(size) > size_scale:
            raise SizePrecision("size scale", value=size, scale=size_scale)
        mark_row = uow.get_mark(inst.key)
        if mark_row is None:
            raise NoMarkPrice(f"{inst.symbol} has no price yet", symbol=inst.symbol)
        at = execute_price if order_type == OrderType.LIMIT else trigger_price
        if order_type == OrderType.LIMIT and (at is None or at <= 0):
            raise NonPositive("price must be positive", field="executePrice")
        placed = self.plan_order_size(inst, side, order_type, size, size_in_quote, at)  # type: ignore[arg-type]
        validate_order(inst, side, order_type, at, placed if placed > 0 else size, trigger_price)
        return mark_row.price

    def place_plan(self, uow, user: User, symbol: str, side: Side, order_type: OrderType,
                   trigger_price: Decimal, execute_price: Decimal | None, size: Decimal,
                   size_in_quote: bool = False, trigger_type: str = "", force: TimeInForce = TimeInForce.GTC,
                   client_oid: str | None = None, stp_mode: str = "none", enter_point: str = "API",
                   kind: PlanKind = PlanKind.PLAN, parent_id: int | None = None) -> SpotPlanOrder:
        """A trigger order: nothing is frozen until it fires (then its order freezes what any
        order does, or fails). It fires when the mark crosses trigger_price from where it is now."""
        inst = uow.get_instrument(user.venue, SPOT, symbol)
        if inst is None:
            raise UnknownInstrument(symbol, symbol=symbol)
        if order_type == OrderType.MARKET:
            execute_price = None
        mark = self._check_plan(uow, inst, side, order_type, trigger_price, execute_price, size, size_in_quote)
        if client_oid and uow.get_spot_plan_by_client_oid(user.uid, client_oid) is not None:
            raise DuplicateClientOid(client_oid, client_oid=client_oid)
        now = self.clock.now_ms()
        order_id = self.ids.next_id(uow, user.venue, now)
        plan = SpotPlanOrder(
            order_id=order_id, uid=user.uid, venue=user.venue, symbol=inst.symbol,
            client_oid=client_oid or str(self.ids.next_id(uow, user.venue, now)), kind=kind,
            side=side, order_type=order_type, execute_price=execute_price,
            trigger_price=trigger_price, trigger_above=trigger_price >= mark, trigger_type=trigger_type,
            size=size, size_in_quote=size_in_quote, force=force, status=PlanStatus.LIVE,
            sub_order_id=None, parent_id=parent_id, stp_mode=stp_mode, enter_point=enter_point,
            created_ms=now, updated_ms=now)
        uow.insert_spot_plan(plan)
        return plan

    def _place_presets(self, uow, inst: Instrument, order: SpotOrder) -> None:
        """The take-profit / stop-loss an order preset, for what it filled (a buy: the base
        received, net of a fee taken in it)."""
        if order.tp_price is None and order.sl_price is None:
            return
        size = order.filled_size
        if order.side == Side.BUY and order.fee_asset == inst.base:
            size -= order.fee
        size = size.quantize(Decimal(1).scaleb(-inst.size_scale), ROUND_DOWN)
        if size <= 0:
            return
        now = self.clock.now_ms()
        side = Side.SELL if order.side == Side.BUY else Side.BUY
        up = order.side == Side.BUY
        for kind, trigger, execute, above in ((PlanKind.TP, order.tp_price, order.tp_execute, up),
                                              (PlanKind.SL, order.sl_price, order.sl_execute, not up)):
            if trigger is None:
                continue
            plan_id = self.ids.next_id(uow, order.venue, now)
            uow.insert_spot_plan(SpotPlanOrder(
                order_id=plan_id, uid=order.uid, venue=order.venue, symbol=order.symbol,
                client_oid=str(self.ids.next_id(uow, order.venue, now)), kind=kind, side=side,
                order_type=OrderType.LIMIT if execute is not None else OrderType.MARKET,
                execute_price=execute, trigger_price=trigger, trigger_above=above,
                trigger_type="fill_price", size=size, size_in_quote=False, force=TimeInForce.GTC,
                status=PlanStatus.LIVE, sub_order_id=None, parent_id=order.order_id,
                stp_mode=order.stp_mode, enter_point=order.enter_point, created_ms=now, updated_ms=now))
        order.tp_price = order.sl_price = order.tp_execute = order.sl_execute = None  # placed, once
        uow.update_spot_order(order)

    def find_plan(self, uow, uid: str, order_id: int | None, client_oid: str | None) -> SpotPlanOrder | None:
        return find_order(uid, order_id, client_oid, uow.get_spot_plan, uow.get_spot_plan_by_client_oid)

    def _live_plan(self, uow, uid: str, order_id: int | None, client_oid: str | None,
                   kinds: tuple = (PlanKind.PLAN,)) -> SpotPlanOrder:
        plan = self.find_plan(uow, uid, order_id, client_oid)
        if plan is None or plan.status is not PlanStatus.LIVE or plan.kind not in kinds:
            raise PlanNotFound("no live trigger order")
        return plan

    def modify_plan(self, uow, uid: str, order_id: int | None, client_oid: str | None,
                    trigger_price: Decimal, order_type: OrderType, execute_price: Decimal | None,
                    size: Decimal) -> SpotPlanOrder:
        """New trigger, type, execute price and size for a live trigger order (same id)."""
        plan = self._live_plan(uow, uid, order_id, client_oid)
        inst = uow.get_instrument(plan.venue, SPOT, plan.symbol)
        if order_type == OrderType.MARKET:
            execute_price = None
        mark = self._check_plan(uow, inst, plan.side, order_type, trigger_price, execute_price, size,
                                plan.size_in_quote)
        plan.trigger_price, plan.order_type, plan.execute_price, plan.size = (
            trigger_price, order_type, execute_price, size)
        plan.trigger_above = trigger_price >= mark
        plan.updated_ms = self.clock.now_ms()
        uow.update_spot_plan(plan)
        return plan

    def cancel_plan(self, uow, uid: str, order_id: int | None, client_oid: str | None,
                    kinds: tuple = (PlanKind.PLAN,)) -> SpotPlanOrder:
        """Cancel a live trigger order of one of `kinds` (trigger orders, or take-profit /
        stop-loss ones)."""
        plan = self._live_plan(uow, uid, order_id, client_oid, kinds)
        return self._end_plan(uow, plan, PlanStatus.CANCELLED)

    def cancel_plans(self, uow, uid: str, symbols: list[str] | None) -> list[SpotPlanOrder]:
        """Cancel every live trigger order of the symbols (None: of every symbol), oldest first."""
        plans = uow.list_spot_plans(uid, open_only=True, kinds=[PlanKind.PLAN.value], limit=None)
        if symbols is not None:
            plans = [p for p in plans if p.symbol in symbols]
        return [self._end_plan(uow, p, PlanStatus.CANCELLED) for p in reversed(plans)]

    def _end_plan(self, uow, plan: SpotPlanOrder, status: PlanStatus) -> SpotPlanOrder:
        plan.status = status
        plan.updated_ms = self.clock.now_ms()
        uow.update_spot_plan(plan)
        return plan

    def _trigger(self, inst: Instrument, plan: SpotPlanOrder, user_of, fills: list,
                 placed: list | None = None):
        def fire(uow) -> None:
            current = uow.get_spot_plan(plan.uid, plan.order_id)
            if current is None or current.status is not PlanStatus.LIVE:
                return
            at = current.trigger_price
            price = current.execute_price if current.order_type == OrderType.LIMIT else None
            size = self.plan_order_size(inst, current.side, current.order_type, current.size,
                                        current.size_in_quote, price if price is not None else at)
            try:
                with uow.savepoint():
                    order = self.place(uow, user_of(current.uid), current.symbol, current.side,
                                       current.order_type, current.force, price, size, None,
                                       current.enter_point, at_price=at, stp_mode=current.stp_mode)
            except DomainError:
                self._end_plan(uow, current, PlanStatus.FAILED)
                return
            current.sub_order_id = order.order_id
            if placed is not None:
                placed.append(order)
            self._end_plan(uow, current, PlanStatus.EXECUTED)
            if current.parent_id is not None:  # a take-profit / stop-loss: its twin is done
                for twin in uow.list_spot_plans(current.uid, open_only=True, parent_id=current.parent_id,
                                                limit=None):
                    self._end_plan(uow, twin, PlanStatus.CANCELLED)
            fills.extend(uow.list_fills(current.uid, order_id=order.order_id, limit=1000)[::-1])
        return fire
