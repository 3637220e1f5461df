"""Shared fixtures: one engine and one real HTTP server per session, fresh state per test."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from localex.client import BitgetClient
from localex.demo import install_market
from localex.engine import Engine
from localex.engine.clock import ManualClock
from localex.server.app import LocalexApp
from localex.store import open_store
from localex.testing import ServerThread


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request):
    """Runs a test once per store: SQLite in memory, and PostgreSQL (tests/stores.py: skipped
    with its reason when no server is named, failed on CI). Tests make their stores with
    stores.new_store()."""
    import stores

    if request.param == "postgresql":
        stores.require_pg()
    stores.set_backend(request.param)
    yield request.param
    stores.set_backend("sqlite")
    stores.close_opened()


@pytest.fixture(scope="session", autouse=True)
def _pg_session_database():
    """The session's PostgreSQL database (if a test made one) is dropped when the run ends."""
    import stores

    yield
    stores.drop_session_database()


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine(open_store(":memory:"), clock=ManualClock(), seed=7)


@pytest.fixture(scope="session")
def app(engine) -> LocalexApp:
    return LocalexApp(engine, rate_limits=True)


@pytest.fixture(scope="session")
def server(app):
    srv = ServerThread(app).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def http(server):
    """A plain HTTP client on the session server (tests sign requests themselves)."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@dataclass
class Trader:
    uid: str
    api_key: str
    secret_key: str
    passphrase: str


@dataclass
class World:
    engine: Engine
    app: LocalexApp
    url: str

    def trader(self, name: str = "alice", funds: dict | None = None, **key_options) -> Trader:
        from decimal import Decimal

        user = self.engine.create_user("bitget", name=name)
        for asset, amount in (funds if funds is not None else {"USDT": "10000", "BTC": "1"}).items():
            self.engine.fund(user.uid, asset, Decimal(amount))
        key = self.engine.create_api_key(user.uid, **key_options)
        return Trader(user.uid, key.key, key.secret, key.passphrase)

    def client(self, trader: Trader) -> BitgetClient:
        return BitgetClient(self.url, trader.api_key, trader.secret_key, trader.passphrase)


@pytest.fixture
def world(engine, app, server) -> World:
    """Fresh state: the demo market (BTCUSDT 95000, ETHUSDT 3200, BGBUSDT 5), no users."""
    engine.reset()
    app.limiter.reset()
    install_market(engine)
    return World(engine, app, server.url)
