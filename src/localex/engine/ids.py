"""Identifier formats, one per venue, all drawn from the store's sequences and the seeded rng.

Bitget ids are 19-digit numbers sent as strings (e.g. "1491774628346392577"): here the market
clock's milliseconds times 10^6 plus a small seeded jitter, kept strictly increasing per store,
so ids sort by creation like the venue's and repeat exactly under the same seed and clock.
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


ID_FORMATS: dict[str, IdFormat] = {
    "bitget": IdFormat(sequence="bitget.id", per_ms=1_000_000, jitter=1000, uid_digits=10,
                       key_prefix="bg_"),
}


class Ids:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def next_id(self, uow, venue: str, now_ms: int) -> int:
        fmt = ID_FORMATS[venue]
        floor = now_ms * fmt.per_ms + self.rng.randrange(fmt.jitter)
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
