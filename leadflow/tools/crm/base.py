"""What every part of the CRM store shares: the engine (opened and migrated once), short
transactions, and the idempotent insert-or-ignore that makes replayed steps no-ops.

The concern mixins (leads, queues, assignments, engagement, outbox) build on `StoreBase`;
`store.CrmStore` puts them together.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, Engine

from leadflow.db import sqlalchemy_url, upgrade_to_head, use_wal
from leadflow.tools.crm.schema import Base
from leadflow.tools.crm_reads import CrmReader


class StoreBase:
    """The engine, its transactions and the insert-or-ignore the mixins write through."""

    def __init__(self, url: str) -> None:
        """Open the CRM at `url` (`sqlite:///…`, `postgresql://…`) and bring its schema to
        the latest migration."""
        self.url = url
        self.engine: Engine = create_engine(sqlalchemy_url(url), future=True,
                                            pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.migrated_from: str | None = upgrade_to_head(self.engine)  # None: a new database
        # the reads the CLI's light commands also run without SQLAlchemy: one SQL for both
        self.reads = CrmReader(self._raw_connection,
                               postgres=self.engine.dialect.name == "postgresql")

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _raw_connection(self) -> Iterator[Any]:
        """A pooled connection as the driver's DB-API connection (for `self.reads`)."""
        conn = self.engine.raw_connection()
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def _insert_ignore(self, conn: Connection, table: Any, values: Mapping[str, Any]) -> bool:
        """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL; True when a row was added."""
        return self._insert_ignore_key(conn, table, values) is not None

    def _insert_ignore_key(self, conn: Connection, table: Any,
                           values: Mapping[str, Any]) -> Any | None:
        """Like _insert_ignore, returning the new row's primary key (None when it existed).

        RETURNING, not rowcount: psycopg reports rowcount -1 for INSERT … RETURNING, and
        SQLite's lastrowid is stale after an ignored insert."""
        insert_ignored = dialect_insert(conn)(table).values(**values).on_conflict_do_nothing()
        row = conn.execute(insert_ignored.returning(*table.primary_key.columns)).first()
        return None if row is None else row[0]

    def count(self, model: type[Base], **where: Any) -> int:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)


def dialect_insert(conn: Connection) -> Any:
    """The dialect's INSERT, which has ON CONFLICT (SQLite and PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql  # loaded with the engine's dialect anyway

        return postgresql.insert
    return sqlite.insert


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    use_wal(dbapi_conn)  # also sets busy_timeout
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # What a row loses (an update, a deletion, an erased person) is overwritten with zeros,
    # never left readable in the file's free space (leadflow/tools/crm/erasure.py).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
