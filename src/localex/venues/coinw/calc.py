"""CoinW's contract arithmetic: quantity units, contracts, margins and fees as the venue shows them.

A contract ("piece") is `oneLotSize` of the base coin (the engine instrument's contract_size).
Orders carry a quantity in one of three units (`quantityUnit`):

- 1: contracts;
- 2: base coin: contracts = floor(quantity / oneLotSize);
- 0: the quote coin (USDT) as **margin**: contracts = floor(quantity * leverage / (price * oneLotSize)).
  The seed's own example settles it: 100 USDT at leverage 2 and price 84000 is 2 contracts
  (100 * 2 / 84 = 2.38), where a notional reading would give 1.

Shown amounts (the worked examples of the CoinW reference, section 4.5):

- notional = contracts * oneLotSize * price;  positionMargin = notional / leverage;
- an order's frozenFee = notional * makerFee (95.4 * 0.0001 = 0.00954);
- a position's fee is the opening fee cut to 4 decimals (108.8279 * 0.0006 = 0.06529674 -> "0.0652"),
  and its margin is positionMargin less that fee, cut to 4 decimals (54.41395 - 0.06529674 -> 54.3486);
- TP / SL rates are the return on margin at the level: |level - price| / price * leverage, to seven
  significant digits (0.02380952).
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from localex.engine.model import Instrument, PositionSide
from localex.venues.coinw import fmt
from localex.venues.coinw.errors import CoinWError

UNIT_QUOTE, UNIT_CONTRACTS, UNIT_BASE = 0, 1, 2


def floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def contracts_for(quantity: Decimal, unit: int, inst: Instrument, leverage: int,
                  price: Decimal | None) -> int:
    """Contracts an order of `quantity` in `unit` asks for (refused when fewer than one)."""
    if quantity <= 0:
        raise CoinWError(9016)
    if unit == UNIT_CONTRACTS:
        if quantity != quantity.to_integral_value():
            raise CoinWError(9016)
        pieces = int(quantity)
    elif unit == UNIT_BASE:
        pieces = floor(quantity / inst.contract_size)
    else:
        if price is None or price <= 0:
            raise CoinWError(9111)
        pieces = floor(quantity * leverage / (price * inst.contract_size))
    if pieces < 1:
        raise CoinWError(9009)
    return pieces


def pieces_of(size: Decimal, inst: Instrument) -> Decimal:
    """Base-coin size -> contracts."""
    return size / inst.contract_size


def base_of(pieces: Decimal | int, inst: Instrument) -> Decimal:
    return Decimal(pieces) * inst.contract_size


def notional(pieces: Decimal | int, inst: Instrument, price: Decimal) -> Decimal:
    return Decimal(pieces) * inst.contract_size * price


def position_margin(pieces: Decimal | int, inst: Instrument, price: Decimal, leverage: int) -> Decimal:
    return notional(pieces, inst, price) / leverage


def frozen_fee(pieces: Decimal | int, inst: Instrument, price: Decimal, rate: Decimal) -> Decimal:
    return notional(pieces, inst, price) * rate


def shown_fee(fee: Decimal) -> Decimal:
    """A position's fee as the positions endpoints show it: cut to 4 decimals."""
    return fmt.cut(fee, 4)


def shown_funding(funding: Decimal) -> Decimal:
    """A position's funding as the positions endpoints show it (fundingFee): paid positive,
    received negative, cut to 8 decimals."""
    return fmt.cut(funding, 8)


def shown_margin(margin: Decimal, open_fee: Decimal) -> Decimal:
    """A position's margin as shown: its position margin less the opening fee, cut to 4 decimals."""
    return fmt.cut(margin - open_fee, 4)


def roe_rate(price: Decimal, level: Decimal | None, leverage: int) -> Decimal | None:
    """The return on margin at a TP / SL level, seven significant digits."""
    if level is None or price is None or price == 0:
        return None
    return fmt.sig7(abs(level - price) / price * leverage)


def level_from_rate(price: Decimal, rate: Decimal, leverage: int, side: PositionSide,
                    profit: bool, inst: Instrument) -> Decimal:
    """The TP (profit=True) or SL price whose return on margin is `rate`."""
    move = price * rate / leverage
    up = (side is PositionSide.LONG) == profit
    return fmt.round_to(price + move if up else price - move, inst.price_scale)
