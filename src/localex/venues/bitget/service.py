"""The Bitget venue: route lookup, signature check, rate limit, parameters, handler, envelope."""

from __future__ import annotations

import logging
import re

import orjson

from localex.engine.clock import Clock, SystemClock
from localex.engine.errors import DomainError
from localex.wire.http import Request, Response
from localex.wire.ratelimit import RateLimiter
from localex.venues.bitget import envelope
from localex.venues.bitget.auth import KEY_KINDS, authenticate
from localex.venues.bitget.errors import MESSAGES, PERMISSION_NAMES, BitgetError, from_domain
from localex.venues.bitget.params import Params
from localex.venues.bitget.routes import ROUTES, Call
from localex.venues.bitget.ws_common import HOSTS as STREAM_HOSTS, PATHS, BitgetStreams

# endpoint modules register their routes on import
from localex.venues.bitget import (  # noqa: F401,E402  isort: skip
    common, contract_account, contract_market, contract_plan, contract_position, contract_trade,
    margin_common, spot_account, spot_market, spot_trade,
)
from localex.venues.bitget import spot_plan, spot_wallet  # noqa: F401,E402  isort: skip
from localex.venues.bitget import copy_mix_follower, copy_mix_trader  # noqa: F401,E402  isort: skip

log = logging.getLogger("localex.bitget")

RATE_WINDOW_MS = 1000
V1_PATH = re.compile(r"^/api/[a-z]+/v1/")  # the decommissioned V1 API: 30032 before anything else
REMAIN_HEADER = b"x-mbx-used-remain-limit"
UNROUTED_LIMIT = 20  # what the header shows on a path with no endpoint (the public default)


def _params(request: Request) -> Params:
    if request.method == "GET":
        return Params(request.query)
    if not request.body.strip():
        return Params({})
    try:
        body = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise BitgetError("40017", msg="Parameter verification failed") from None
    if not isinstance(body, dict):
        raise BitgetError("40017", msg="Parameter verification failed")
    return Params(body)


class BitgetVenue:
    name = "bitget"
    hosts = ("api.bitget.com",)
    key_header = "access-key"  # names the API key a request is signed with

    stream_paths = PATHS
    stream_hosts = STREAM_HOSTS

    def __init__(self, engine, limiter: RateLimiter, wall_clock: Clock | None = None,
                 stream_limits: bool = True) -> None:
        self.engine = engine
        self.limiter = limiter
        self.wall_clock = wall_clock or SystemClock()
        self.streams = BitgetStreams(engine, self.wall_clock, stream_limits)
        engine.key_kinds[self.name] = KEY_KINDS  # keys of a kind this venue cannot verify are refused

    def owns(self, path: str) -> bool:
        return path.startswith("/api/")

    def handle(self, request: Request) -> Response:
        """Every answer carries x-mbx-used-remain-limit: the requests left in the current window
        of the endpoint's limit for the caller (UID or IP), as Bitget sends it."""
        now = self.engine.now_ms()
        wall = self.wall_clock.now_ms()
        # the window reported: bitget|<endpoint>|<UID or IP>, and its limit
        where, who, limit = "-", request.client_ip or "-", UNROUTED_LIMIT
        remain = None  # what is left in it, when the limiter said so while counting
        try:
            route = ROUTES.get((request.method, request.path))
            if route is None:
                # the decommissioned V1 API (never a route) is 30032 before anything else
                raise BitgetError("30032" if V1_PATH.match(request.path) else "40404")
            where, limit = route.path, route.limit
            key = None
            if route.signed:
                key = authenticate(request, self.engine.get_api_key, wall)
                if not key.allows(route.permission):
                    raise BitgetError("40014", PERMISSION_NAMES[route.permission])
                if route.trader_limit is not None and self.engine.is_elite_trader(key.uid):
                    limit = route.trader_limit  # copy-trading elite traders have a limit of their own
                who = key.uid
            allowed, remain = self.limiter.check(f"bitget|{where}|{who}", limit, RATE_WINDOW_MS, wall)
            if not allowed:
                raise BitgetError("429", status=429)
            call = Call(self.engine, request, _params(request), key, now, wall)
            response = envelope.success(route.handler(call), now)
        except BitgetError as err:
            response = envelope.failure(err, now)
        except DomainError as err:
            response = envelope.failure(from_domain(err, request.path), now)
        if remain is None:
            remain = self.limiter.remaining(f"bitget|{where}|{who}", limit, RATE_WINDOW_MS, wall)
        response.headers.append((REMAIN_HEADER, str(remain).encode()))
        return response

    def error_response(self, code: str, message: str | None, status: int | None) -> Response:
        """Bitget's envelope for a given code (an injected fault)."""
        msg = message if message is not None else MESSAGES.get(code, "").replace("{0}", "").strip()
        return envelope.failure(BitgetError(code, msg=msg, status=status or 400), self.engine.now_ms())

    def rate_limited_response(self) -> Response:
        return envelope.failure(BitgetError("429", status=429), self.engine.now_ms())

    def unreadable_response(self, status: int) -> Response:
        """A body too large (413) or too slow (408) to read: refused before it is parsed."""
        return envelope.failure(BitgetError("40017", msg="Parameter verification failed", status=status),
                                self.engine.now_ms())

    def internal_error(self) -> Response:
        return envelope.failure(BitgetError("40725", status=500), self.engine.now_ms())
