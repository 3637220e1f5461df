"""In-process mode: run a bot's own HTTP calls against localex inside the test process.

    from localex.testing import mock_exchanges

    with mock_exchanges() as emu:
        creds = emu.create_user()                       # funded, with an API key
        bitget = ccxt.bitget(creds.ccxt)                # no URL change
        bitget.create_order("BTC/USDT", "limit", "buy", 0.01, 94000)
        emu.set_price("BTCUSDT", 93900)                 # the order fills

Requests to api.bitget.com (and the other hosts in DEFAULT_HOSTS) made through httpx, requests
or aiohttp are answered by the same LocalexApp and engine `localex serve` runs; every other host
passes through (or raises, with strict=True). See docs/testing.md.
"""

from localex.testing.emulator import Credentials, Emulator, LoggedRequest, ServerThread
from localex.testing.mock import (
    DEFAULT_HOSTS,
    MockExchanges,
    UnmockedRequestError,
    current,
    mock_exchanges,
)

__all__ = [
    "DEFAULT_HOSTS",
    "Credentials",
    "Emulator",
    "LoggedRequest",
    "MockExchanges",
    "ServerThread",
    "UnmockedRequestError",
    "current",
    "mock_exchanges",
]
