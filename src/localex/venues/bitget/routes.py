"""The route table: every Bitget endpoint with its method, path, auth, permission and rate limit.

Endpoint modules (named after Bitget's doc families) register handlers with @route; the venue
dispatcher (service.py) does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from localex.engine.model import ApiKey, Permission
from localex.wire.http import Request
from localex.venues.bitget.params import Params


@dataclass
class Call:
    """What a handler gets: the engine, the parsed parameters and, when signed, the key."""

    engine: object
    request: Request
    params: Params
    key: ApiKey | None
    now_ms: int  # the engine's clock (market time)
    wall_ms: int  # the clock signatures are checked against

    @property
    def uid(self) -> str:
        assert self.key is not None
        return self.key.uid


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[[Call], object]
    signed: bool
    permission: Permission
    limit: int  # requests per second
    per: str  # "uid" or "ip"
    trader_limit: int | None = None  # requests per second for copy-trading elite traders


ROUTES: dict[tuple[str, str], Route] = {}


def route(method: str, path: str, *, signed: bool = True, permission: Permission = Permission.READ,
          limit: int = 10, per: str | None = None, trader_limit: int | None = None):
    def register(handler):
        ROUTES[(method, path)] = Route(method, path, handler, signed, permission, limit,
                                       per or ("uid" if signed else "ip"), trader_limit)
        return handler

    return register
