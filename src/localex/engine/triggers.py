"""Where a price may move without firing anything.

Every trigger a price move can fire (a resting order, a plan order's trigger, a position's
TP / SL, an isolated position's liquidation price, a trailing stop's activation price, a copy
trader's stop) fires when the new mark reaches its level from one side: `p >= level` (upward) or
`p <= level` (downward), whatever the mark was before. So for one instrument the levels give a
band: every price strictly inside (lo, hi) fires nothing, and a stretch of a price path that
stays inside the band can be applied as one step (its last point) with the same outcome, event
for event, as walking it point by point. A trigger whose firing depends on the path itself (an
activated trailing stop follows every new extreme) or work every move does (copy-trading orders
to reconcile) makes the band empty: then every point is applied.

The levels are read from the books' indexed queries (venue, market, symbol, status), so finding
the band costs what is open on the instrument, never its history.
"""

from __future__ import annotations

from decimal import Decimal


class Band:
    """Prices strictly between lo and hi (None: unbounded) fire nothing; closed: none is quiet."""

    __slots__ = ("lo", "hi", "closed")

    def __init__(self) -> None:
        self.lo: Decimal | None = None
        self.hi: Decimal | None = None
        self.closed = False

    def below(self, level: Decimal) -> None:
        """Something fires when the price is at or below level."""
        if self.lo is None or level > self.lo:
            self.lo = level

    def above(self, level: Decimal) -> None:
        """Something fires when the price is at or above level."""
        if self.hi is None or level < self.hi:
            self.hi = level

    def close(self) -> None:
        """Every move may fire something: no price is quiet."""
        self.closed = True

    def quiet(self, price: Decimal) -> bool:
        return not self.closed and (self.lo is None or price > self.lo) and (self.hi is None or price < self.hi)

    def __repr__(self) -> str:
        return "Band(closed)" if self.closed else f"Band({self.lo}, {self.hi})"
