"""Schema migrations (Alembic), run on every store open. Upgrading an up-to-date store is a no-op.

Opening a store does the least work that reaches the head revision: a store already at head is
left alone (its revision is read with one query, Alembic is not even imported); a new in-memory
store is created from the schema's metadata and stamped with the head revision (the migrations
build exactly that schema: tests/test_store.py compares a migrated file store with the
metadata); anything else is upgraded by Alembic.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateTable

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"

_version = Table(VERSION_TABLE, MetaData(), Column("version_num", String(32), nullable=False),
                 PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest revision of migrations/versions (the one no other revision follows)."""
    revisions, follows = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text()
        found = re.search(r'^revision\s*=\s*["\']([^"\']+)["\']', text, re.M)
        down = re.search(r'^down_revision\s*=\s*["\']([^"\']+)["\']', text, re.M)
        if found:
            revisions.add(found.group(1))
        if down:
            follows.add(down.group(1))
    heads = revisions - follows
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {sorted(heads)}")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(select(_version.c.version_num)).scalar()


MIGRATION_LOCK_KEY = 0x6C6F63616C6D67  # a PostgreSQL session advisory lock: one migrator at a time


def open_schema(engine: Engine, new_in_memory: bool) -> None:
    """Bring a store's schema to the head revision with the least work. On PostgreSQL, workers
    and hosts starting at once take turns (a session advisory lock): one migrates, the others
    then find the schema at head."""
    if engine.dialect.name != "postgresql":
        _open_schema(engine, new_in_memory)
        return
    if current_revision(engine) == head_revision():
        return
    with engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
        try:
            _open_schema(engine, new_in_memory)
        finally:
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
            conn.commit()


def _open_schema(engine: Engine, new_in_memory: bool) -> None:
    from localex.store.schema import metadata

    head = head_revision()
    current = current_revision(engine)
    if current == head:
        return
    if new_in_memory and current is None:
        with engine.begin() as conn:
            if not inspect(conn).get_table_names():
                # indexes in a fixed order (by name), so query plans never depend on set order
                for table in metadata.sorted_tables:
                    conn.execute(CreateTable(table))
                    for index in sorted(table.indexes, key=lambda i: i.name):
                        index.create(conn)
                _version.create(conn)
                conn.execute(_version.insert().values(version_num=head))
                return
    upgrade(engine)
