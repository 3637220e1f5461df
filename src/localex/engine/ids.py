"""Identifier formats, one per venue, all drawn from the store's sequences and the seeded rng.

Bitget ids are 19-digit numbers sent as strings (e.g. "1491774628346392577"): here the market
clock's milliseconds times 10^6 plus a small seeded jitter, kept strictly increasing per store,
so ids sort by creation like the venue's and repeat exactly under the same seed and clock.

CoinW has two id shapes: orders (and fills) ~17 digits (e.g. 33308753605637070, the clock's
milliseconds times 10^4 here) and positions 19 digits (e.g. 2435521222631982507, times 10^6), each
from its own sequence; uids are 7 digits (e.g. 1162061).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass


@dataclass(frozen=True)
class IdFormat:
    sequence: str
    per_ms: int  # ids per millisecond of clock time
    jitter: int  # random offset added to the clock-derived floor
    uid_digits: int
    key_prefix: str
    # a venue whose positions carry ids of another shape: the format for kind="position"
    position: "IdFormat | None" = None


ID_FORMATS: dict[str, IdFormat] = {
    "bitget": IdFormat(sequence="bitget.id", per_ms=1_000_000, jitter=1000, uid_digits=10,
                       key_prefix="bg_"),
    "coinw": IdFormat(sequence="coinw.id", per_ms=10_000, jitter=10, uid_digits=7, key_prefix="",
                      position=IdFormat(sequence="coinw.position", per_ms=1_000_000, jitter=1000,
                                        uid_digits=7, key_prefix="")),
}


class Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # rng.randrange(n) for an int n > 0 is rng._randbelow(n): the same draw, without
        # randrange's argument handling (ids are drawn several times per fill)
        self._below = getattr(rng, "_randbelow", rng.randrange)

    def next_id(self, uow, venue: str, now_ms: int, kind: str = "order") -> int:
        """The next id of a venue; kind="position" uses the venue's position format if it has one."""
        fmt = ID_FORMATS[venue]
        if kind == "position" and fmt.position is not None:
            fmt = fmt.position
        floor = now_ms * fmt.per_ms + self._below(fmt.jitter)
        return uow.next_sequence(fmt.sequence, floor)

    def uid(self, venue: str) -> str:
        digits = ID_FORMATS[venue].uid_digits
        return str(self.rng.randrange(10 ** (digits - 1), 10**digits))

    def api_key(self, venue: str) -> str:
        return ID_FORMATS[venue].key_prefix + self.hex(32)

    def hex(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789abcdef") for _ in range(n))

    def token(self, n: int) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(n))
