"""The emulator handle: one engine and one LocalexApp, the control plane as Python calls, and a
log of what reached the venues."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

import orjson

from localex.demo import COINW_DEMO_FUNDS, DEMO_FUNDS, install_market
from localex.engine import Engine
from localex.engine.clock import Clock, ManualClock
from localex.engine.model import Balance, FillModel, KeyKind, Permission, Position
from localex.engine.spot import SPOT, SPOT_ACCOUNT
from localex.server.app import NOT_FOUND_HTML, LocalexApp
from localex.wire.http import Request, Response
from localex.store import open_store

#: Request headers the log never shows (they would let a reader replay or forge a request).
REDACTED_HEADERS = frozenset({"access-sign", "access-passphrase", "sign"})
REDACTED = "<redacted>"


@dataclass(frozen=True)
class Credentials:
    """An API key as a bot needs it."""

    venue: str
    uid: str
    name: str
    api_key: str
    secret_key: str | None  # None for an RSA key (the emulator keeps only the public key)
    passphrase: str | None

    @property
    def ccxt(self) -> dict[str, str]:
        """The key as ccxt's exchange config: {"apiKey", "secret", "password"}."""
        out = {"apiKey": self.api_key}
        if self.secret_key is not None:
            out["secret"] = self.secret_key
        if self.passphrase is not None:
            out["password"] = self.passphrase
        return out


@dataclass(frozen=True)
class LoggedRequest:
    """One request as a venue received it, and what it answered.

    `query` is the raw query string and `body` the raw body bytes, exactly as sent; `headers`
    has lower-cased names, with ACCESS-SIGN, ACCESS-PASSPHRASE and sign replaced by "<redacted>".
    """

    method: str
    host: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int
    response: bytes

    def json(self) -> Any:
        """The response body, decoded."""
        return orjson.loads(self.response)

    def params(self) -> dict[str, str]:
        """The decoded query parameters (a repeated name keeps its first value)."""
        return Request(self.method, self.path, self.query, {}).query


class _RecordingApp(LocalexApp):
    """LocalexApp that also logs every venue request (control-plane calls are not logged)."""

    recorder: "Emulator | None" = None

    def handle(self, request: Request) -> Response:
        response = super().handle(request)
        recorder = self.recorder
        if recorder is not None and not (request.path == "/localex"
                                         or request.path.startswith("/localex/")):
            recorder._record(request, response)
        return response


def _host_of(headers: Mapping[str, str]) -> str:
    host = headers.get("host", "")
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if ":" in host else host


class Emulator:
    """A whole emulator in this process: `engine`, `app` (the LocalexApp `localex serve` runs),
    and the control plane as methods.

    clock: None (the system clock), "manual" (a ManualClock at 2026-01-01T00:00:00Z) or a Clock.
    A manual clock goes back to where it started on reset().
    """

    def __init__(self, *, engine: Engine | None = None, seed: int = 0,
                 clock: Clock | str | None = None, rate_limits: bool = True,
                 demo_market: bool = True, db: str = ":memory:") -> None:
        if engine is None:
            if clock == "manual":
                clock = ManualClock()
            elif isinstance(clock, str):
                raise ValueError(f"clock is None, 'manual' or a Clock, not {clock!r}")
            engine = Engine(open_store(db), clock=clock, seed=seed)
        elif clock is not None:
            raise ValueError("pass either an engine or a clock, not both")
        self.engine = engine
        self.demo_market = demo_market
        self._clock_start = engine.clock.now_ms() if isinstance(engine.clock, ManualClock) else None
        self.app = _RecordingApp(engine, rate_limits=rate_limits)
        self.app.recorder = self
        self.url: str | None = None  # set while served over HTTP (see serve())
        self._log: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        if demo_market:
            install_market(engine)

    # the in-process entry point ----------------------------------------------------------
    def dispatch(self, venue: str, request: Request) -> Response:
        """Answer a request that was sent to `venue`'s host, as the real server would."""
        control = request.path == "/localex" or request.path.startswith("/localex/")
        if control or not any(v.name == venue for v in self.app.venues):
            # the control plane is the emulator's own: no venue host serves it; nor does a host
            # whose venue is not emulated (yet) answer anything but a plain 404
            response = Response(404, NOT_FOUND_HTML, content_type=b"text/html")
            self._record(request, response)
            return response
        return self.app.handle(request)

    # state ------------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        """Forget everything (users, keys, balances, orders, rate-limit windows, the request log);
        reinstall the demo market unless it was switched off; a manual clock goes back to its
        start."""
        if self._clock_start is not None and isinstance(self.engine.clock, ManualClock):
            self.engine.clock.set(self._clock_start)
        self.engine.reset(seed)
        self.app.limiter.reset()
        self.clear_requests()
        if self.demo_market:
            install_market(self.engine)

    # users, keys, funds -----------------------------------------------------------------
    def create_user(self, venue: str = "bitget", name: str | None = None, *,
                    funds: Mapping[str, Any] | None = None,
                    futures: Mapping[str, Mapping[str, Any]] | None = None,
                    permissions: Iterable[str | Permission] | None = None,
                    ip_whitelist: Iterable[str] = (), passphrase: str | None = None,
                    fee_deduction: bool = False) -> Credentials:
        """A user with one HMAC API key. `funds` (asset -> amount) defaults to the demo account's
        100,000 USDT, 1 BTC, 10 ETH and 100 BGB; pass {} for none. A CoinW user's funds go to
        its futures account (100,000 USDT and 100,000 USDC by default).

        `futures` funds Bitget futures accounts: market -> {asset: amount}, e.g.
        {"usdt-futures": {"USDT": 10000}, "coin-futures": {"BTC": 1}} (none by default)."""
        user = self.engine.create_user(venue, name=name, fee_deduction=fee_deduction)
        coinw = venue == "coinw"
        default = COINW_DEMO_FUNDS if coinw else DEMO_FUNDS
        for asset, amount in (default if funds is None else funds).items():
            self.engine.fund(user.uid, asset.upper(), Decimal(str(amount)),
                             "futures" if coinw else SPOT_ACCOUNT)
        for market, assets in (futures or {}).items():
            for asset, amount in assets.items():
                self.engine.fund(user.uid, asset.upper(), Decimal(str(amount)), market)
        return self.create_key(user.uid, permissions=permissions, ip_whitelist=ip_whitelist,
                               passphrase=passphrase)

    def create_key(self, uid: str, *, permissions: Iterable[str | Permission] | None = None,
                   ip_whitelist: Iterable[str] = (), passphrase: str | None = None,
                   kind: str | KeyKind = KeyKind.HMAC, public_key: str | None = None) -> Credentials:
        """Another API key for an existing user (RSA: pass kind="rsa" and the PEM public key)."""
        perms = None if permissions is None else [Permission(p) for p in permissions]
        key = self.engine.create_api_key(uid, permissions=perms, ip_whitelist=ip_whitelist,
                                         kind=KeyKind(kind), passphrase=passphrase,
                                         public_key=public_key)
        user = self.engine.get_user(uid)
        return Credentials(venue=user.venue, uid=uid, name=user.name, api_key=key.key,
                           secret_key=key.secret if key.kind == KeyKind.HMAC else None,
                           passphrase=key.passphrase)

    def fund(self, uid: str, asset: str, amount: Any, account: str = SPOT_ACCOUNT) -> Balance:
        """Credit (negative: debit) a user's available balance. `account` is "spot" or a futures
        account: "usdt-futures", "coin-futures", "usdc-futures" (Bitget), "futures" (CoinW)."""
        return self.engine.fund(uid, asset.upper(), Decimal(str(amount)), account)

    def balances(self, uid: str, account: str = SPOT_ACCOUNT) -> dict[str, Balance]:
        """A user's balances in one account ("spot" or a futures account, as for fund())."""
        return {b.asset: b for b in self.engine.balances(uid, account)}

    def orders(self, uid: str, status: str = "all", symbol: str | None = None,
               market: str = SPOT) -> list:
        """A user's orders, newest first; status is "all", "open" or "closed"; market "spot"
        (SpotOrders) or a futures market such as "usdt-futures" or CoinW's "futures"
        (FuturesOrders)."""
        open_only = {"all": None, "open": True, "closed": False}[status]
        symbol = symbol.upper() if symbol else None
        if market == SPOT:
            return self.engine.spot_orders(uid, open_only=open_only, symbol=symbol, limit=1000)
        return self.engine.futures_orders(uid, market=market, open_only=open_only, symbol=symbol,
                                          limit=1000)

    def positions(self, uid: str, market: str | None = None, symbol: str | None = None,
                  status: str = "open") -> list[Position]:
        """A user's futures positions (open by default; "closed" or "all"), in any market or
        one ("usdt-futures", ...)."""
        open_only = {"all": None, "open": True, "closed": False}[status]
        return self.engine.positions(uid, market=market, symbol=symbol.upper() if symbol else None,
                                     open_only=open_only)

    # market ------------------------------------------------------------------------------
    def set_price(self, symbol: str, price: Any, venue: str = "bitget",
                  market: str = SPOT) -> list:
        """Move the mark price; every resting order it reaches fills, and the fills come back:
        spot Fills, or on a futures market ("usdt-futures", CoinW "futures", ...) FuturesFills,
        triggered orders, TP/SL, liquidations and copy-trading copies among them."""
        return self.engine.set_mark(venue, market, symbol.upper(), Decimal(str(price)))

    def price(self, symbol: str, venue: str = "bitget", market: str = SPOT) -> Decimal | None:
        inst = self.engine.instrument(venue, market, symbol.upper())
        return None if inst is None else self.engine.mark(inst)

    # fill models -------------------------------------------------------------------------
    def set_fill_model(self, scope: str, kind: str, **params: Any) -> FillModel:
        """How orders fill for a venue ("bitget") or an instrument ("bitget:spot:BTCUSDT"):
        immediate, latency (ms=), liquidity (size=, step=, levels=) or manual."""
        return self.engine.set_fill_model(scope, kind, {k: str(v) if isinstance(v, (Decimal, float)) else v
                                                        for k, v in params.items()})

    def fill_order(self, uid: str, order_id: int | str, size: Any = None, price: Any = None):
        """Fill part (size) or all of an open order, as the manual model's control plane does: a
        spot order answers its fill, a futures order (order, fills). `order_id` is the engine's
        int or the string the venues and the control plane send."""
        size = None if size is None else Decimal(str(size))
        price = None if price is None else Decimal(str(price))
        if self.engine.spot_order(uid, int(order_id)) is not None:
            return self.engine.fill_spot_order(uid, int(order_id), size, price)
        return self.engine.fill_futures_order(uid, int(order_id), size, price)

    def reject_order(self, uid: str, order_id: int | str):
        """Cancel an open order as refused by the venue (`order_id`: int or string)."""
        return self.engine.reject_order(uid, int(order_id))

    # clock -------------------------------------------------------------------------------
    def now_ms(self) -> int:
        """Market time (order times, requestTime)."""
        return self.engine.now_ms()

    def set_clock(self, ms: int) -> int:
        """Jump market time to `ms` (no price path is walked, no funding settles)."""
        self._manual_clock()
        self.engine.set_clock(ms)
        return self.engine.now_ms()

    def advance_clock(self, ms: int) -> int:
        """Move market time forward, walking the price paths and settling funding on the way."""
        self._manual_clock()
        self.engine.advance_clock(ms)
        return self.engine.now_ms()

    def _manual_clock(self) -> ManualClock:
        clock = self.engine.clock
        if not isinstance(clock, ManualClock):
            raise RuntimeError("the clock is the system clock; create the emulator with clock='manual'")
        return clock

    # request log -------------------------------------------------------------------------
    @property
    def requests(self) -> list[LoggedRequest]:
        """Every venue request so far, oldest first (a copy)."""
        with self._log_lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def _record(self, request: Request, response: Response) -> None:
        headers = {k: (REDACTED if k in REDACTED_HEADERS else v) for k, v in request.headers.items()}
        entry = LoggedRequest(method=request.method, host=_host_of(request.headers),
                              path=request.path, query=request.raw_query, headers=headers,
                              body=request.body, status=response.status, response=response.body)
        with self._log_lock:
            self._log.append(entry)

    # over HTTP ---------------------------------------------------------------------------
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> "ServerThread":
        """Serve this emulator over real HTTP (uvicorn in a background thread); sets `url`."""
        server = ServerThread(self.app, host, port).start()
        self.url = server.url
        return server


class _AppSlot:
    """An ASGI app that forwards to whichever app is in the slot (one server, swappable state)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


@dataclass
class ServerThread:
    """A uvicorn server on a loopback port in a daemon thread. `app` may be swapped while it runs
    (set_app), so one server can serve a fresh emulator per test."""

    app: Any
    host: str = "127.0.0.1"
    port: int = 0
    forwarded_allow_ips: str | None = None  # proxies whose X-Forwarded-For is believed (none)
    _slot: _AppSlot = field(init=False)

    def __post_init__(self) -> None:
        import uvicorn

        from localex.server.serving import uvicorn_config

        self._slot = _AppSlot(self.app)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.host, self.port))
        self.port = self._sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn_config(self._slot, host=self.host, port=self.port,
                                                    log_level="error", lifespan="off",
                                                    forwarded_allow_ips=self.forwarded_allow_ips))
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self._sock]},
                                        name=f"localex-server-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def set_app(self, app) -> None:
        self.app = self._slot.app = app

    def start(self) -> "ServerThread":
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the localex server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(5)
        self._sock.close()

    def __enter__(self) -> "ServerThread":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
