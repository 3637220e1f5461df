"""The stores tests run on: SQLite in memory always; PostgreSQL when LOCALEX_TEST_PG names a
server (README "Tests on PostgreSQL").

LOCALEX_TEST_PG is a PostgreSQL URL whose database the run may connect to for administration
(e.g. postgresql://postgres@127.0.0.1:5432/postgres). A test session creates its own database on
that server, named localex_test_<random>, and drops it when it ends, so runs never share state
and leave nothing behind. Without the variable, tests that need the server are skipped with the
reason said, except on CI (CI=true), where they fail: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import secrets

import pytest

from localex.store import open_store

ENV = "LOCALEX_TEST_PG"
_state: dict = {"backend": "sqlite", "db": None, "opened": []}


def _admin_url() -> str | None:
    return os.environ.get(ENV) or None


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_pg() -> str:
    """The URL of this session's PostgreSQL database (created on first use), or skip / fail."""
    admin = _admin_url()
    if admin is None:
        reason = f"PostgreSQL tests need {ENV}=postgresql://user@host:port/postgres (README)"
        if on_ci():
            pytest.fail(f"{reason}: on CI they must run, not skip", pytrace=False)
        pytest.skip(reason)
    if _state["db"] is None:
        import psycopg

        name = f"localex_test_{secrets.token_hex(4)}"
        try:
            with psycopg.connect(_plain(admin), autocommit=True, connect_timeout=5) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except psycopg.Error as err:
            pytest.fail(f"{ENV}={admin}: cannot create a test database: {err}", pytrace=False)
        _state["db"] = _with_database(admin, name)
    return _state["db"]


def drop_session_database() -> None:
    url = _state["db"]
    if url is None:
        return
    import psycopg

    close_opened()
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_plain(_admin_url()), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _state["db"] = None


def _plain(url: str) -> str:
    """A libpq URL (psycopg's own) from an SQLAlchemy-style one."""
    scheme, _, rest = url.partition("://")
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def _with_database(url: str, name: str) -> str:
    scheme, _, rest = url.partition("://")
    base = rest.split("/", 1)[0]
    return f"postgresql://{base}/{name}"


def pg_store(reset: bool = True):
    """A store on this session's PostgreSQL database, emptied first (reset=True); closed when
    the test ends."""
    store = open_store(require_pg())
    _state["opened"].append(store)
    if reset:
        store.reset()
    return store


def new_store(url: str = ":memory:"):
    """The store a backend-parametrized test works on: `url` on SQLite, or the session's
    PostgreSQL database (emptied) when the test runs on PostgreSQL."""
    if _state["backend"] == "postgresql":
        return pg_store()
    return open_store(url)


def set_backend(name: str) -> None:
    _state["backend"] = name


def close_opened() -> None:
    opened, _state["opened"] = _state["opened"], []
    for store in opened:
        try:
            store.close()
        except Exception:  # noqa: BLE001  a store a test broke on purpose
            pass


def another_store(url: str):
    """A second store (a second connection, as another worker has) on the database the test's
    first store opened: `url` on SQLite, the session's PostgreSQL database otherwise."""
    if _state["backend"] == "postgresql":
        return pg_store(reset=False)
    return open_store(url)
