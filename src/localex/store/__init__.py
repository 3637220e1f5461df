"""Storage. The engine talks to a UnitOfWork; backends implement it (SQL today)."""

from localex.store.sql import SqlStore, SqlUnitOfWork

__all__ = ["SqlStore", "SqlUnitOfWork", "open_store"]


def open_store(url: str | None = None) -> SqlStore:
    """Open (and migrate) a store. None or ":memory:" is a private in-memory SQLite database;
    a plain path is a SQLite file; anything with "://" is an SQLAlchemy URL."""
    if url in (None, "", ":memory:"):
        return SqlStore("sqlite://")
    if "://" not in url:
        return SqlStore(f"sqlite:///{url}")
    return SqlStore(url)
