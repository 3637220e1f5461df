"""The CoinW futures venue: route lookup, signature check, rate limits, parameters, handler,
envelope. It owns every path under /v1/perpum (private) and /v1/perpumPublic (public)."""

from __future__ import annotations

import logging

from localex.engine.clock import Clock, SystemClock
from localex.engine.errors import DomainError
from localex.wire.http import Request, Response
from localex.wire.ratelimit import RateLimiter
from localex.venues.coinw import envelope
from localex.venues.coinw.auth import KEY_KINDS, authenticate
from localex.venues.coinw.errors import MESSAGES, CoinWError, from_domain
from localex.venues.coinw.params import Params, parse_body
from localex.venues.coinw.routes import GLOBAL_MARKET_LIMIT, GLOBAL_UID_LIMIT, ROUTES, Call, Route

# endpoint modules register their routes on import
from localex.venues.coinw import account, check, market, position, trade  # noqa: F401,E402  isort: skip

log = logging.getLogger("localex.coinw")

PREFIX = "/v1/perpum"  # also covers /v1/perpumPublic


from localex.venues.coinw.ws import HOSTS as STREAM_HOSTS, PATHS as STREAM_PATHS, CoinWStreams  # noqa: E402


class CoinWVenue:
    name = "coinw"
    hosts = ("api.coinw.com",)
    key_header = "api_key"  # names the API key a request is signed with

    stream_paths = STREAM_PATHS
    stream_hosts = STREAM_HOSTS

    def __init__(self, engine, limiter: RateLimiter, wall_clock: Clock | None = None) -> None:
        self.engine = engine
        self.limiter = limiter
        self.wall_clock = wall_clock or SystemClock()
        self.streams = CoinWStreams(engine)
        engine.key_kinds[self.name] = KEY_KINDS  # keys of a kind this venue cannot verify are refused

    def owns(self, path: str) -> bool:
        return path.startswith(PREFIX)

    def handle(self, request: Request) -> Response:
        try:
            route = ROUTES.get((request.method, request.path))
            if route is None:
                raise CoinWError(404)
            wall = self.wall_clock.now_ms()
            key = None
            if route.signed:
                key = authenticate(request, self.engine.get_api_key, wall)
                if not key.allows(route.permission):
                    raise CoinWError(6003)
            self._limit(route, key.uid if key else None, request.client_ip or "-", wall)
            missing = 402 if route.signed else 904
            body = None
            if request.method == "GET":
                params = Params(request.query, missing)
            else:
                body = parse_body(request.body, route.body)
                params = Params(body if isinstance(body, dict) else {}, missing)
            call = Call(self.engine, request, params, key, self.engine.now_ms(), wall, body)
            return envelope.success(route.handler(call))
        except CoinWError as err:
            return envelope.failure(err)
        except DomainError as err:
            return envelope.failure(from_domain(err))

    def _limit(self, route: Route, uid: str | None, ip: str, wall: int) -> None:
        """The endpoint's own limit (per UID and / or IP), then the global group it belongs to."""
        checks = [(f"coinw|{route.method} {route.path}|{who}:{uid if who == 'uid' else ip}",
                   route.limit, route.window_ms) for who in route.per]
        if uid is not None:
            checks.append((f"coinw|global|uid:{uid}", *GLOBAL_UID_LIMIT))
        if route.market_group:
            checks.append((f"coinw|market|ip:{ip}", *GLOBAL_MARKET_LIMIT))
        if not self.limiter.hit_all(checks, wall):  # in turn, up to the first full one: one round trip
            raise CoinWError(29001)

    def error_response(self, code: str | None, message: str | None, status: int | None) -> Response:
        """CoinW's envelope for a given code (an injected fault)."""
        number = int(code) if code is not None and code.lstrip("-").isdigit() else 500
        err = CoinWError(number, message if message is not None else MESSAGES.get(number, ""),
                         status=status)
        return envelope.failure(err)

    def rate_limited_response(self) -> Response:
        return envelope.failure(CoinWError(29001))

    def unreadable_response(self, status: int) -> Response:
        """A body too large (413) or too slow (408) to read: refused before it is parsed."""
        return envelope.failure(CoinWError(9016, status=status))

    def internal_error(self) -> Response:
        return envelope.failure(CoinWError(500))
