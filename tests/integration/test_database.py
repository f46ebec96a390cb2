"""The database layer on SQLite and PostgreSQL: Alembic migrations that match the models,
opening an old or a brand-new database (also from several threads at once), a schema chosen
by the URL, UTC datetimes and JSON, and the `leadflow db` commands."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, create_engine, insert, inspect, text
from sqlalchemy.exc import StatementError
from typer.testing import CliRunner

from leadflow.checkpoint import open_checkpointer
from leadflow.cli import app
from leadflow.db import (
    LOCK_KEY_SQL,
    create_schema_sql,
    current_revision,
    ensure_schema,
    head_revision,
    include_name,
    libpq_conninfo,
    sqlalchemy_url,
)
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Base, CrmStore, Lead
from leadflow.tools.crm_reads import PAGE_INDEXES
from tests.conftest import POSTGRES_URL, RunItems, form_item, postgres_admin, with_search_path


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database nobody has opened: a new SQLite file, or a PostgreSQL schema that does not
    exist yet (opening the CRM creates it), dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin = postgres_admin()
    schema = f"lf_test_{uuid.uuid4().hex[:12]}"
    try:
        yield with_search_path(POSTGRES_URL, schema)
    finally:
        admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.close()


def schema_diff(store: CrmStore, metadata: MetaData) -> list[Any]:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "include_name": include_name})
        return list(compare_metadata(context, metadata))


@pytest.mark.db_backends
def test_the_migrations_build_exactly_the_models_schema(fresh_url: str) -> None:
    store = CrmStore(fresh_url)
    try:
        assert store.migrated_from is None
        assert schema_diff(store, Base.metadata) == []
        # the comparison does see a difference when there is one
        changed = MetaData()
        for table in Base.metadata.tables.values():
            table.to_metadata(changed)
        changed.tables["leads"].append_column(Column("score", Integer))
        assert [d[0] for d in schema_diff(store, changed)] == ["add_column"]
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            tables = set(inspect(conn).get_table_names())  # the URL's schema on PostgreSQL
        assert {"alembic_version", "leads", "assignments"} <= tables
    finally:
        store.close()


ADDED_AFTER_0001 = {"lead_leases", "metric_totals", "metric_values", "lead_facts",
                    "erasures", "mailbox_cursors",
                    "sim_truth", "meeting_bookings",
                    "models", "lead_scores",
                    "outreach_style_counts", "hubspot_objects"}  # tables later revisions create
COLUMNS_ADDED_AFTER_0001 = {"leads": ("erased_at", "rep_id"),
                            "outreach_drafts": ("choice", "reward")}  # columns they add
INDEXES_ADDED_AFTER_0001 = ("ix_leads_contact_id", "ix_queue_items_lead_id",
                            *PAGE_INDEXES)  # and indexes


@pytest.mark.db_backends
def test_a_database_made_before_migrations_is_stamped_and_kept(fresh_url: str) -> None:
    """A CRM from before Alembic (create_all, no alembic_version) opens with its data."""
    engine = create_engine(sqlalchemy_url(fresh_url))
    with engine.begin() as conn:
        ensure_schema(conn)
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    # what create_all made before Alembic: the tables of revision 0001, no later ones
    Base.metadata.create_all(engine, tables=[
        t for t in Base.metadata.sorted_tables if t.name not in ADDED_AFTER_0001])
    with engine.begin() as conn:
        for index in INDEXES_ADDED_AFTER_0001:
            conn.execute(text(f"DROP INDEX {index}"))
        for table, columns in COLUMNS_ADDED_AFTER_0001.items():
            for column in columns:
                conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(insert(Lead).values(id="OLD-1", record={"note": "before"}, ingested_at=now,
                                         updated_at=now))
    engine.dispose()
    store = CrmStore(fresh_url)
    try:
        assert store.migrated_from is None
        lead = store.get_lead("OLD-1")
        assert lead is not None and lead["record"] == {"note": "before"}
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
        assert schema_diff(store, Base.metadata) == []
    finally:
        store.close()


@pytest.mark.db_backends
def test_processes_opening_a_new_database_at_once_migrate_it_once(fresh_url: str) -> None:
    """Four openers race on an empty database: one migrates, the others wait and find it
    done (no 'table already exists')."""
    start = threading.Barrier(4)
    results: list[str | None] = []
    errors: list[BaseException] = []

    def open_crm() -> None:
        start.wait()
        try:
            store = CrmStore(fresh_url)
            results.append(store.migrated_from)
            store.close()
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_crm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results, key=lambda r: r or "") == [None] + [head_revision()] * 3


def open_crm(url: str) -> None:
    CrmStore(url).close()


def open_checkpoints(url: str) -> None:
    async def go() -> None:
        async with open_checkpointer(url):
            pass
    asyncio.run(go())


@pytest.mark.slow  # ~45 s: a real CREATE INDEX CONCURRENTLY behind a waiting opener
@pytest.mark.db_backends("postgres")
@pytest.mark.parametrize("opener", [open_crm, open_checkpoints], ids=["crm", "checkpoints"])
def test_waiting_for_the_schema_lock_never_stalls_its_holder(
        fresh_url: str, opener: Callable[[str], None]) -> None:
    """The lock holder may CREATE INDEX CONCURRENTLY (the checkpointer's migrations do),
    which waits for every older snapshot: a waiter must not hold one while it waits."""
    holder = psycopg.connect(libpq_conninfo(fresh_url), autocommit=True)
    app = f"lf-lock-wait-{uuid.uuid4().hex[:8]}"  # tags the waiter's connections
    try:
        holder.execute(create_schema_sql(fresh_url.rsplit("%3D", 1)[1]))
        assert holder.execute(f"SELECT pg_try_advisory_lock({LOCK_KEY_SQL})"
                              ).fetchone() == (True,)
        holder.execute("CREATE TABLE waiting_room (n integer)")
        errors: list[BaseException] = []

        def wait_and_open() -> None:
            try:
                opener(f"{fresh_url}&application_name={app}")
            except BaseException as exc:  # noqa: BLE001 — reported below
                errors.append(exc)

        waiter = threading.Thread(target=wait_and_open)
        waiter.start()
        # until the waiter is seen polling for the lock (its connection's last query)
        deadline = time.monotonic() + 60
        while not holder.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                "AND query LIKE %s", (app, "%pg_try_advisory_lock%")).fetchone()[0]:
            assert waiter.is_alive() and time.monotonic() < deadline, errors
            time.sleep(0.05)
        assert waiter.is_alive()
        holder.execute("SET statement_timeout = '20s'")
        holder.execute("CREATE INDEX CONCURRENTLY waiting_room_n ON waiting_room (n)")
        holder.execute(f"SELECT pg_advisory_unlock({LOCK_KEY_SQL})")
        waiter.join(timeout=60)
        assert not waiter.is_alive() and errors == []
    finally:
        holder.close()


@pytest.mark.db_backends
def test_datetimes_come_back_in_utc_and_json_round_trips(tools: Toolbox) -> None:
    at = datetime(2026, 11, 24, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    payload = {"note": "Müller & Söhne — 東京", "nested": {"n": [1, 2.5, None, True]}}
    assert tools.crm.record_event("LEAD-TZ", "replied", at, payload) is True
    assert tools.crm.record_event("LEAD-TZ", "replied", at, payload) is False  # ignored
    [event] = tools.crm.events_for("LEAD-TZ")
    assert event["occurred_at"] == at and event["occurred_at"].utcoffset() == timedelta(0)
    assert event["payload"] == payload
    with pytest.raises(StatementError, match="naive datetime"):
        tools.crm.record_event("LEAD-TZ", "contacted", datetime(2026, 11, 24, 9, 0))


@pytest.mark.db_backends("postgres")
def test_checkpoints_and_the_crm_land_in_the_urls_schema(run_items: RunItems,
                                                         database_url: str) -> None:
    [outcome] = run_items([form_item("SCHEMA-1")])
    assert outcome["status"] == "awaiting_followup", outcome["status_reason"]
    schema = database_url.rsplit("%3D", 1)[1]
    admin = postgres_admin()
    try:
        where = {row[0]: row[1] for row in admin.execute(
            "SELECT table_name, table_schema FROM information_schema.tables "
            "WHERE table_name IN ('checkpoints', 'alembic_version', 'leads') "
            "AND table_schema = %s", (schema,))}
        assert where == dict.fromkeys(("checkpoints", "alembic_version", "leads"), schema)
        [count] = admin.execute(f'SELECT count(*) FROM "{schema}".checkpoints '
                                "WHERE thread_id = %s", (outcome["lead_id"],)).fetchone() or [0]
        assert count > 0
    finally:
        admin.close()


@pytest.mark.db_backends
def test_the_db_commands_report_and_upgrade(fresh_url: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_DATABASE_URL", fresh_url)
    monkeypatch.setenv("LEADFLOW_HOME", str(tmp_path / "home"))
    runner = CliRunner()
    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 1 and "current: none" in before.output
    upgraded = runner.invoke(app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"empty → {head_revision()}" in upgraded.output
    after = runner.invoke(app, ["db", "current"])
    assert after.exit_code == 0 and f"current: {head_revision()}" in after.output
    again = runner.invoke(app, ["db", "upgrade"])
    assert f"{head_revision()} → {head_revision()}" in again.output


@pytest.mark.parametrize(("url", "engine_url", "conninfo"), [
    ("postgresql://u@h:5432/d?options=-csearch_path%3Dx", "postgresql+psycopg://u@h:5432/d"
     "?options=-csearch_path%3Dx", "postgresql://u@h:5432/d?options=-csearch_path%3Dx"),
    ("postgres://u:p@h/d", "postgresql+psycopg://u:p@h/d", "postgresql://u:p@h/d"),
    ("postgresql+psycopg://h/d", "postgresql+psycopg://h/d", "postgresql://h/d"),
    ("sqlite:///x.db", "sqlite:///x.db", None),
])
def test_urls_are_normalised_for_sqlalchemy_and_libpq(url: str, engine_url: str,
                                                      conninfo: str | None) -> None:
    assert sqlalchemy_url(url) == engine_url
    if conninfo is None:
        with pytest.raises(ValueError, match="not a PostgreSQL URL"):
            libpq_conninfo(url)
    else:
        assert libpq_conninfo(url) == conninfo
