"""Where LangGraph keeps its checkpoints: a WAL-mode SQLite file by default, or the same
PostgreSQL database as the CRM when `LEADFLOW_DATABASE_URL` is `postgresql://…`."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres import _ainternal
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from leadflow.db import (
    LOCK_KEY_SQL,
    LOCK_POLL_SECONDS,
    LOCK_WAIT_SECONDS,
    create_schema_sql,
    is_postgres,
    libpq_conninfo,
    use_wal,
)
from leadflow.identity import thread_config
from leadflow.settings import Settings, checkpoint_history


def _wal_file(path: Path) -> None:
    with closing(sqlite3.connect(str(path))) as conn:
        use_wal(conn)


@asynccontextmanager
async def sqlite_checkpointer(path: Path) -> AsyncIterator[AsyncSqliteSaver]:
    """AsyncSqliteSaver on a WAL-mode file (readers don't block the writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(_wal_file, path)  # the CRM's retrying switch, not a second copy
    conn = await aiosqlite.connect(str(path))
    await conn.execute("PRAGMA busy_timeout=10000")
    await conn.execute("PRAGMA synchronous=NORMAL")
    # A deleted checkpoint (an erased person's thread) leaves zeros in the file, not its
    # bytes in free space (see leadflow/tools/crm/erasure.py).
    await conn.execute("PRAGMA secure_delete=ON")
    saver = AsyncSqliteSaver(conn)
    await saver.setup()
    try:
        yield saver
    finally:
        await conn.close()


class AtomicPostgresSaver(AsyncPostgresSaver):
    """AsyncPostgresSaver whose multi-statement writes (a task's pending writes, a
    checkpoint with its blobs) commit together or not at all. The stock saver pipelines them
    on an autocommit connection, where each statement commits alone: a connection cut
    between two of a task's rows kept its hand-off to the next node without its result, and
    the resumed lead found a step with no output. The statements still go in one pipeline,
    inside one transaction."""

    @asynccontextmanager
    async def _cursor(self, *, pipeline: bool = False) -> AsyncIterator[AsyncCursor[DictRow]]:
        if not pipeline or self.pipe is not None:
            async with super()._cursor(pipeline=pipeline) as cur:
                yield cur
            return
        async with (self.lock, _ainternal.get_connection(self.conn) as conn,
                    conn.transaction(), conn.pipeline(),
                    conn.cursor(binary=True, row_factory=dict_row) as cur):
            yield cur


@asynccontextmanager
async def postgres_checkpointer(url: str, max_size: int = 10) -> AsyncIterator[AsyncPostgresSaver]:
    """AsyncPostgresSaver on our own pool. Autocommit because the saver manages its own
    statements (and its migrations create indexes CONCURRENTLY); no prepared statements, so
    it also works behind a transaction-mode pooler such as PgBouncer."""
    conninfo = libpq_conninfo(url)
    kwargs: dict[str, Any] = {"autocommit": True, "prepare_threshold": None,
                              "row_factory": dict_row}
    # `check`: a pooled connection the server dropped (restart, failover, idle kill) is
    # replaced at checkout instead of failing the next checkpoint read or write.
    pool: AsyncConnectionPool[AsyncConnection[DictRow]] = AsyncConnectionPool(
        conninfo, min_size=1, max_size=max(2, max_size), kwargs=kwargs, open=False,
        check=AsyncConnectionPool.check_connection)
    await pool.open()
    try:
        saver = AtomicPostgresSaver(pool)
        async with pool.connection() as lock:
            # Several processes may open at once: one creates and migrates at a time (the
            # CRM's migrations take the same lock; see leadflow.db.LOCK_KEY_SQL).
            await _wait_for_lock(lock)
            try:
                await _ensure_schema(lock)
                await saver.setup()
            finally:
                await lock.execute(f"SELECT pg_advisory_unlock({LOCK_KEY_SQL})")
        yield saver
    finally:
        await pool.close()


async def _wait_for_lock(conn: AsyncConnection[DictRow]) -> None:
    """Poll the schema's advisory lock (autocommit: nothing held while waiting)."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        cur = await conn.execute(f"SELECT pg_try_advisory_lock({LOCK_KEY_SQL}) AS got")
        row = await cur.fetchone()
        if row is not None and row["got"]:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"another process held the schema lock for over "
                               f"{LOCK_WAIT_SECONDS:.0f} s")
        await asyncio.sleep(LOCK_POLL_SECONDS)


async def _ensure_schema(conn: AsyncConnection[DictRow]) -> None:
    """Create the search_path's schema if the URL names one that is not there yet (the
    CRM does the same), so the checkpointer may be opened first."""
    row = await (await conn.execute("SELECT current_schema() AS name")).fetchone()
    if row is not None and row["name"] is not None:
        return
    row = await (await conn.execute("SELECT current_setting('search_path') AS path")).fetchone()
    await conn.execute(create_schema_sql(str(row["path"]) if row else ""))


@asynccontextmanager
async def open_checkpointer(
    target: Settings | str | Path,
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The app's checkpointer: Settings (PostgreSQL when its database URL is, else the
    SQLite checkpoint file), a `postgresql://…` / `sqlite:///…` URL, or a SQLite path."""
    if isinstance(target, Settings):
        target = (target.database_url if is_postgres(target.database_url)
                  else target.checkpoint_path)
    if isinstance(target, str):
        if is_postgres(target):
            async with postgres_checkpointer(target) as pg_saver:
                yield pg_saver
            return
        target = Path(target.removeprefix("sqlite:///"))
    async with sqlite_checkpointer(target) as sqlite_saver:
        yield sqlite_saver


# A settled or paused thread keeps its latest checkpoint per namespace and that checkpoint's
# pending writes (an interrupt's among them): what resuming and the outcome need.
_SQLITE_KEEP_LATEST = (
    "DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id < (SELECT MAX(c.checkpoint_id)"
    " FROM checkpoints c WHERE c.thread_id = checkpoints.thread_id"
    " AND c.checkpoint_ns = checkpoints.checkpoint_ns)",
    "DELETE FROM writes WHERE thread_id = ? AND checkpoint_id < (SELECT MAX(c.checkpoint_id)"
    " FROM checkpoints c WHERE c.thread_id = writes.thread_id"
    " AND c.checkpoint_ns = writes.checkpoint_ns)",
)


async def compact_thread(saver: BaseCheckpointSaver[Any] | None | bool, thread_id: str) -> None:
    """Drop a thread's intermediate checkpoints once its lead settled or paused (a setting:
    LEADFLOW_CHECKPOINT_HISTORY). Call it only while no run of the thread is going on (the
    lead's lease is held): a run in progress needs its step's checkpoint to resume at it."""
    if not isinstance(saver, BaseCheckpointSaver) or checkpoint_history() == "all":
        return
    if isinstance(saver, AsyncPostgresSaver):
        await saver.aprune([thread_id], strategy="keep_latest")
    elif isinstance(saver, AsyncSqliteSaver):
        async with saver.lock, saver.conn.cursor() as cur:
            for sql in _SQLITE_KEEP_LATEST:
                await cur.execute(sql, (thread_id,))
            await saver.conn.commit()


async def delete_threads(saver: BaseCheckpointSaver[Any], thread_ids: Iterable[str]) -> int:
    """Delete every checkpoint and pending write of these threads (an erased person's);
    how many of them had checkpoints."""
    found = 0
    for thread_id in thread_ids:
        if await saver.aget_tuple(thread_config(thread_id)) is not None:
            found += 1
        await saver.adelete_thread(thread_id)
    return found


async def settle_wal(saver: BaseCheckpointSaver[Any]) -> None:
    """SQLite: copy the write-ahead log into the file and empty it, so pages a deletion
    replaced are not left in the log (a no-op on PostgreSQL)."""
    if isinstance(saver, AsyncSqliteSaver):
        async with saver.lock:
            await saver.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
