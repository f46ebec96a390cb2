"""Database URLs and schema migrations: the one place that knows SQLite from PostgreSQL.

The CRM schema is owned by Alembic (`leadflow/migrations`). Opening a CRM brings its database
to the head revision under a lock, so several processes starting at once migrate it once.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

# SQLAlchemy and Alembic are imported where they are used. Alembic's import loads every
# dialect and scans the installed packages for plugins, and opening a CRM that is already at
# the head revision does not need it (see `at_numbered_head`); SQLAlchemy's import is most of
# what `leadflow leads list` would take to start, and the CRM reads it runs
# (`leadflow.tools.crm_reads`) use this module's URL helpers and that check without it.
if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_POSTGRES_SCHEME = re.compile(r"^postgres(?:ql)?(?:\+\w+)?://")
_NUMBERED_MIGRATION = re.compile(r"^\d{4}_\w+\.py$")
# The advisory lock taken to create and migrate a schema (the CRM's and the checkpointer's
# tables): one per search_path, so separate schemas never wait for each other. It is taken
# by polling pg_try_advisory_lock between transactions, never by a blocking wait: the
# checkpointer's migrations CREATE INDEX CONCURRENTLY, which waits for every older snapshot
# in the database, and a waiter blocked inside a statement holds one — a deadlock no server
# can see, since its other half runs through the client.
LOCK_KEY_SQL = "hashtextextended('leadflow:' || current_setting('search_path'), 0)"
LOCK_WAIT_SECONDS = 300.0
LOCK_POLL_SECONDS = 0.05
# The initial revision: the schema `metadata.create_all` made before Alembic managed it.
BASELINE_REVISION = "0001"
# Tables that live beside the CRM but belong to LangGraph's Postgres checkpointer.
CHECKPOINT_TABLES = frozenset({"checkpoints", "checkpoint_blobs", "checkpoint_writes",
                               "checkpoint_migrations"})


def is_postgres(url: str) -> bool:
    return bool(_POSTGRES_SCHEME.match(url))


def sqlalchemy_url(url: str) -> str:
    """`postgresql://…` → `postgresql+psycopg://…` (psycopg 3); other URLs unchanged."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_file(url: str) -> str | None:
    """The file a plain `sqlite:///path` URL names, as SQLAlchemy reads it (percent-escapes
    decoded, a relative path from the working directory); None for any other URL, an
    in-memory database, or query options (what they mean is SQLAlchemy's to say)."""
    scheme, sep, rest = url.partition(":///")
    if not sep or scheme not in ("sqlite", "sqlite+pysqlite") or not rest or "?" in rest:
        return None
    path = unquote(rest)
    return None if path == ":memory:" else path


def libpq_conninfo(url: str) -> str:
    """The libpq URI of a PostgreSQL URL (psycopg and its pool don't take `+driver`).

    Query options such as `?options=-csearch_path%3Dmy_schema` pass through untouched."""
    if not is_postgres(url):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return _POSTGRES_SCHEME.sub("postgresql://", url, count=1)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate filter: the checkpointer's tables are not the CRM's to manage."""
    return not (type_ == "table" and name in CHECKPOINT_TABLES)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration for the packaged migrations (works from a wheel install)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "leadflow/migrations has no revisions"
    return head


def current_revision(connection: Connection) -> str | None:
    """The database's revision (None: never migrated, or created before Alembic)."""
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def numbered_head() -> str | None:
    """The head revision as the migration files' names tell it, without Alembic: each file
    is `<revision>_<slug>.py` with a four-digit revision one above its parent's (what
    `make_revision` writes; tests/unit/test_cli_imports.py checks it against Alembic's
    head). None when a file breaks that pattern: then only Alembic can say."""
    names = [p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")]
    if not names or not all(_NUMBERED_MIGRATION.match(name) for name in names):
        return None
    return max(names)[:4]


# Whether the version table is there: in the schema new tables go to (PostgreSQL's
# current_schema(), which SQLAlchemy's `has_table` and the migrations use), or in SQLite's file.
_HAS_VERSION_TABLE = {
    True: "SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() "
          "AND tablename = 'alembic_version'",
    False: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'",
}


def at_numbered_head(dbapi_connection: Any, *, postgres: bool) -> str | None:
    """The database's revision when it is the head (`numbered_head`), read on a DB-API
    connection (sqlite3, psycopg, or SQLAlchemy's `engine.raw_connection()`) with two small
    queries and neither Alembic nor SQLAlchemy; None when it is not, or when that cannot be
    told without Alembic (no version table, several rows, unnumbered migration files). Ends
    the transaction the queries opened."""
    head = numbered_head()
    if head is None:
        return None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(_HAS_VERSION_TABLE[postgres])
        if cursor.fetchone() is None:
            return None
        cursor.execute("SELECT version_num FROM alembic_version")
        stored = [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()
        dbapi_connection.rollback()
    return head if stored == [head] else None


def ensure_schema(connection: Connection) -> None:
    """Create the schema a PostgreSQL search_path names first, when it does not exist yet
    (a URL with `options=-csearch_path=…` then works on an empty database)."""
    from sqlalchemy import text

    if connection.dialect.name != "postgresql":
        return
    if connection.execute(text("SELECT current_schema()")).scalar() is not None:
        return
    search_path = connection.execute(text("SHOW search_path")).scalar() or ""
    connection.execute(text(create_schema_sql(search_path)))


def create_schema_sql(search_path: str) -> str:
    """`CREATE SCHEMA IF NOT EXISTS` for the first schema a search_path names."""
    names = [n.strip().strip('"') for n in search_path.split(",")
             if n.strip() not in ("", '"$user"', "$user")]
    if not names:
        raise RuntimeError("the PostgreSQL search_path names no schema to create tables in")
    return 'CREATE SCHEMA IF NOT EXISTS "{}"'.format(names[0].replace('"', '""'))


def upgrade_to_head(engine: Engine) -> str | None:
    """Migrate the database to the head revision; returns the revision it was at before.

    Concurrent callers serialise on a lock (PostgreSQL: the schema's advisory lock; SQLite:
    BEGIN IMMEDIATE) and re-read the revision once they hold it, so exactly one of them
    migrates. A database made by `create_all` before Alembic (tables, no alembic_version)
    is stamped at the baseline and then upgraded."""
    from sqlalchemy import text

    raw = engine.raw_connection()
    try:
        stored = at_numbered_head(raw, postgres=engine.dialect.name == "postgresql")
    finally:
        raw.close()
    if stored is not None:  # the usual case: nothing to do, and Alembic not imported
        return stored
    with engine.connect() as conn:
        before = current_revision(conn)
        conn.rollback()
    if before == head_revision():
        return before
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # waits up to busy_timeout
            return _migrate(conn)

        def try_lock() -> bool:
            got = bool(conn.execute(text(f"SELECT pg_try_advisory_lock({LOCK_KEY_SQL})"))
                       .scalar())
            conn.commit()  # wait outside any transaction (see LOCK_KEY_SQL)
            return got

        wait_for_lock(try_lock)
        try:
            ensure_schema(conn)
            return _migrate(conn)
        finally:
            conn.rollback()
            conn.execute(text(f"SELECT pg_advisory_unlock({LOCK_KEY_SQL})"))
            conn.commit()


def _migrate(conn: Connection) -> str | None:
    from alembic import command
    from sqlalchemy import inspect

    before = current_revision(conn)
    config = alembic_config(conn)
    if before is None and inspect(conn).has_table("leads"):
        command.stamp(config, BASELINE_REVISION)
    command.upgrade(config, "head")
    conn.commit()
    return before


def wait_for_lock(try_lock: Callable[[], bool]) -> None:
    """Poll a non-blocking lock until it is ours (TimeoutError after LOCK_WAIT_SECONDS)."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while not try_lock():
        if time.monotonic() > deadline:
            raise TimeoutError(f"another process held the schema lock for over "
                               f"{LOCK_WAIT_SECONDS:.0f} s")
        time.sleep(LOCK_POLL_SECONDS)


def make_revision(url: str, message: str) -> str:
    """Write the next revision (autogenerated: models vs the database at head); its path."""
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(url))
    try:
        upgrade_to_head(engine)
        head = head_revision()
        rev_id = f"{int(head) + 1:04d}" if head.isdigit() else None
        with engine.connect() as conn:
            script = command.revision(alembic_config(conn), message=message, autogenerate=True,
                                      rev_id=rev_id)
    finally:
        engine.dispose()
    assert script is not None and not isinstance(script, list)
    return str(script.path)


if __name__ == "__main__":  # python -m leadflow.db revision "message"
    import sys

    from leadflow.settings import Settings

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m leadflow.db revision "what changed"')
    print(make_revision(Settings.from_env().database_url, sys.argv[2]))


def use_wal(dbapi_conn: Any) -> None:
    """Put a SQLite file in WAL mode (readers don't block the writer). The switch needs a
    lock SQLite's busy handler does not wait for, so several processes opening a fresh
    file at once retry it briefly. WAL is a property of the file: once is enough."""
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA busy_timeout=10000")
        for attempt in range(100):
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 99:
                    raise
                time.sleep(0.02)
    finally:
        cursor.close()
