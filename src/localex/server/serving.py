"""How localex is served over HTTP: uvicorn's settings in one place (`localex serve` and the test
server use the same ones), and the connection timeout uvicorn lacks.

- Forwarded headers (X-Forwarded-For, X-Forwarded-Proto) are believed only from the proxies
  the user names; by default from nobody, so a caller cannot choose the address an IP whitelist
  or a per-IP rate limit sees.
- An idle connection (fresh, or kept alive between requests) is closed after IDLE_TIMEOUT_S:
  longer than the minute common proxies and client pools keep connections, so a bot reusing
  its session never meets a reset.
- A request's headers must arrive within HEADER_TIMEOUT_S of its first byte (slow headers hold
  a connection open for nothing); its body within the app's body timeout (server/app.py).
"""

from __future__ import annotations

import asyncio
import signal

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 75


class TimedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with two more deadlines: a connection that sends nothing is
    closed after the keep-alive timeout, and a request's headers must be complete within
    `header_timeout` of its first byte."""

    def __init__(self, config, *args, **kwargs) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout = getattr(config, "header_timeout", HEADER_TIMEOUT_S)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # nothing sent yet: idle, so the keep-alive timeout applies as between requests
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                            self.timeout_keep_alive_handler)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._cancel_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def on_headers_complete(self) -> None:
        self._cancel_header_deadline()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def uvicorn_config(app, *, host: str, port: int, log_level: str = "warning",
                   forwarded_allow_ips: str | None = None, lifespan: str = "on",
                   header_timeout: float = HEADER_TIMEOUT_S, idle_timeout: float = IDLE_TIMEOUT_S,
                   **options):
    """The uvicorn.Config localex is served with. forwarded_allow_ips: the proxies (addresses or
    networks, comma-separated; "*" for any) whose X-Forwarded-* headers are believed; None or ""
    for none. options: any other uvicorn.Config setting."""
    trusted = (forwarded_allow_ips or "").strip()
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, access_log=False, lifespan=lifespan,
        http=TimedHttpProtocol, timeout_keep_alive=idle_timeout,
        proxy_headers=bool(trusted), forwarded_allow_ips=trusted or "", **options,
    )
    config.header_timeout = header_timeout
    return config


class Server(uvicorn.Server):
    """uvicorn's server, told how to stop localex: on SIGINT / SIGTERM `on_stop` is called at
    once (LocalexApp.stop: long work ends at its next clean cut, within a slice), uvicorn
    shuts down as usual (lifespan shutdown writes the market tape's newest minutes), and the
    process then exits normally, with status 0, instead of re-raising the signal. A second
    SIGINT stops at once, without waiting for connections."""

    def __init__(self, config, on_stop=None) -> None:
        super().__init__(config)
        self.on_stop = on_stop

    def handle_exit(self, sig, frame) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True
        if self.on_stop is not None:
            self.on_stop()
