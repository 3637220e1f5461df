"""mock_exchanges(): route requests to the venues' hosts into an in-process emulator.

Only the outermost active block patches the HTTP libraries and owns the emulator; an inner block
reuses it (and its settings) untouched. The patches are process-wide while active, so requests
from other threads are routed too; two independent emulators cannot be active at once.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable, Iterable, Mapping

from localex.engine import Engine
from localex.engine.clock import Clock
from localex.testing import adapters
from localex.testing.emulator import Emulator

#: Hostname -> venue.
DEFAULT_HOSTS: Mapping[str, str] = {"api.bitget.com": "bitget", "api.coinw.com": "coinw",
                                    # WebSocket streams (testing/streams.py)
                                    "ws.bitget.com": "bitget", "wspap.bitget.com": "bitget",
                                    "ws.futurescw.com": "coinw"}


class UnmockedRequestError(ConnectionError):
    """A request to a host that is not emulated, made in strict mode."""


class _Active:
    lock = threading.RLock()
    depth = 0
    owner: "MockExchanges | None" = None


def current() -> Emulator:
    """The emulator of the active mock_exchanges() block (for decorated functions)."""
    owner = _Active.owner
    if owner is None or owner.emulator is None:
        raise RuntimeError("no localex mock_exchanges() block is active")
    return owner.emulator


def route(host: str | None) -> tuple[Emulator, str] | None:
    """Where a request to `host` goes: (emulator, venue), or None to pass through.
    Raises UnmockedRequestError for a non-venue host in strict mode."""
    owner = _Active.owner
    if owner is None or host is None:
        return None
    host = host.lower().rstrip(".")
    venue = owner.hosts.get(host)
    if venue is not None:
        return owner.emulator, venue
    if owner.strict and host not in owner.allow_hosts:
        raise UnmockedRequestError(
            f"localex strict mode: a request to {host!r} is not to an emulated venue host "
            f"({', '.join(sorted(owner.hosts))}); pass allow_hosts=[...] to let it through")
    return None


class MockExchanges:
    """Context manager and decorator. See mock_exchanges()."""

    def __init__(self, *, hosts: Mapping[str, str] | None = None, strict: bool = False,
                 allow_hosts: Iterable[str] = (), keep_state: bool = False,
                 emulator: Emulator | None = None, engine: Engine | None = None, seed: int = 0,
                 clock: Clock | str | None = None, rate_limits: bool = True,
                 demo_market: bool = True) -> None:
        if emulator is not None and engine is not None:
            raise ValueError("pass either an emulator or an engine, not both")
        self.hosts = {h.lower(): v for h, v in (DEFAULT_HOSTS if hosts is None else hosts).items()}
        self.strict = strict
        self.allow_hosts = frozenset(h.lower() for h in allow_hosts)
        self.keep_state = keep_state
        self.emulator = emulator
        self._options = dict(engine=engine, seed=seed, clock=clock, rate_limits=rate_limits,
                             demo_market=demo_market)
        self._fresh = False  # True while an emulator built here on a new engine is untouched

    def _own_emulator(self) -> Emulator:
        if self.emulator is None:
            self.emulator = Emulator(**self._options)
            self._fresh = self._options["engine"] is None
        return self.emulator

    def __enter__(self) -> Emulator:
        with _Active.lock:
            outer = _Active.owner
            if outer is not None:
                if self.emulator is not None and self.emulator is not outer.emulator:
                    raise RuntimeError("a localex mock is already active with another emulator; "
                                       "an inner mock_exchanges() reuses the outer one")
                if self._options["engine"] is not None and self._options["engine"] is not outer.emulator.engine:
                    raise RuntimeError("a localex mock is already active with another engine")
                _Active.depth += 1
                return outer.emulator
            emulator = self._own_emulator()
            if not self.keep_state and not self._fresh:
                emulator.reset()
            self._fresh = False
            adapters.install(route)
            _Active.owner = self
            _Active.depth = 1
            return emulator

    def __exit__(self, *exc: Any) -> None:
        with _Active.lock:
            _Active.depth -= 1
            if _Active.depth == 0:
                _Active.owner = None
                adapters.uninstall()

    def __call__(self, func: Callable) -> Callable:
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args, **kwargs):
                with self:
                    return await func(*args, **kwargs)
            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return wrapper


def mock_exchanges(func: Callable | None = None, /, **options: Any) -> Any:
    """Route every request to a venue host, made through httpx, requests or aiohttp, to an
    in-process emulator: the same LocalexApp and engine `localex serve` runs.

        with mock_exchanges() as emu:            # or @mock_exchanges() / @mock_exchanges
            creds = emu.create_user()
            ...

    Options: hosts (hostname -> venue, default DEFAULT_HOSTS), strict (other hosts raise
    UnmockedRequestError instead of passing through), allow_hosts (let these through in strict
    mode), keep_state (do not reset on enter), emulator (use this Emulator), engine (build the
    emulator on this Engine), seed, clock (None, "manual" or a Clock), rate_limits (default on),
    demo_market (default on).

    State is reset on every outermost enter of the same object unless keep_state=True; a nested
    block reuses the outer one's emulator without resetting it.
    """
    mock = MockExchanges(**options)
    if func is not None:
        return mock(func)
    return mock
