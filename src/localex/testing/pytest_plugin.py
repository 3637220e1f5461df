"""pytest plugin (registered as the `localex` pytest11 entry point).

Fixtures:
    localex         an active in-process emulator (mock_exchanges()), fresh for every test
    localex_server  a real uvicorn server on a free loopback port, `.url`, fresh state per test

Both give a localex.testing.Emulator. Per-test options go in a marker:

    @pytest.mark.localex(seed=7, clock="manual", rate_limits=False, demo_market=True,
                         strict=True, allow_hosts=["127.0.0.1"], hosts={...})

(strict, allow_hosts and hosts concern interception, so only the `localex` fixture uses them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

import pytest

if TYPE_CHECKING:  # the plugin loads in every pytest run: import localex only when used
    from localex.testing import Emulator, ServerThread

ENGINE_OPTIONS = ("seed", "clock", "rate_limits", "demo_market")
MOCK_OPTIONS = ("hosts", "strict", "allow_hosts")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "localex(seed=0, clock=None, rate_limits=True, demo_market=True, strict=False, "
        "allow_hosts=(), hosts=None): options for the localex and localex_server fixtures",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("localex")
    options = dict(marker.kwargs) if marker is not None else {}
    unknown = set(options) - set(ENGINE_OPTIONS) - set(MOCK_OPTIONS)
    if unknown:
        raise pytest.UsageError(f"unknown localex marker option(s): {', '.join(sorted(unknown))}")
    return options


@pytest.fixture
def localex(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """An in-process emulator: requests to api.bitget.com (httpx, requests, aiohttp) reach it."""
    from localex.testing import mock_exchanges

    with mock_exchanges(**_options(request)) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def _localex_server_thread() -> Iterator[ServerThread]:
    from localex.testing import Emulator, ServerThread

    server = ServerThread(Emulator(demo_market=False).app).start()
    yield server
    server.stop()


@pytest.fixture
def localex_server(request: pytest.FixtureRequest,
                   _localex_server_thread: ServerThread) -> Iterator[Emulator]:
    """An emulator served over real HTTP on 127.0.0.1 (one server per session, a fresh emulator
    per test); point the client at `localex_server.url`."""
    from localex.testing import Emulator

    options = {k: v for k, v in _options(request).items() if k in ENGINE_OPTIONS}
    emulator = Emulator(**options)
    _localex_server_thread.set_app(emulator.app)
    emulator.url = _localex_server_thread.url
    try:
        yield emulator
    finally:
        emulator.url = None
