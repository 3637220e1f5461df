"""The route table: every CoinW futures endpoint with its method, path, auth, permission, body
shape and rate limit.

Endpoint modules (named after CoinW's doc families: market, trade, check, position, account)
register handlers with @route; the dispatcher (service.py) does the rest.

Rate limits: each endpoint's own limit (requests per window, counted per UID and / or per IP as
its page says), plus the global groups of the "Frequency Limit" page: every private endpoint
counts towards 100 requests/s per UID, and the five public market-data endpoints under
/v1/perpumPublic/ towards 30 requests/s per IP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from localex.engine.model import ApiKey, Permission
from localex.wire.http import Request
from localex.venues.coinw.params import Params

GLOBAL_UID_LIMIT = (100, 1000)  # group B: every private futures endpoint, per UID
GLOBAL_MARKET_LIMIT = (30, 1000)  # group A: klines, tickers, ticker, trades, depth, per IP


@dataclass
class Call:
    """What a handler gets: the engine, the parsed parameters and, when signed, the key."""

    engine: object
    request: Request
    params: Params
    key: ApiKey | None
    now_ms: int  # the engine's clock (market time)
    wall_ms: int  # the clock signatures are checked against
    body: object = None  # the parsed JSON body (a list for the batch endpoints)

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
    limit: int  # requests per window
    window_ms: int
    per: tuple[str, ...]  # "uid" and / or "ip"
    market_group: bool  # counts towards the 30/s per IP of the public market-data group
    body: type  # dict, or list for endpoints whose body is a JSON array


ROUTES: dict[tuple[str, str], Route] = {}


def route(method: str, path: str, *, signed: bool = True, permission: Permission = Permission.READ,
          limit: int = 10, window_ms: int = 1000, per: tuple[str, ...] | None = None,
          market_group: bool = False, body: type = dict):
    def register(handler):
        ROUTES[(method, path)] = Route(method, path, handler, signed, permission, limit, window_ms,
                                       per or (("uid",) if signed else ("ip",)), market_group, body)
        return handler

    return register
