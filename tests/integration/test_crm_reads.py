"""The CRM reads without SQLAlchemy (`leadflow.tools.crm_reads`): on both backends their rows
are exactly what SQLAlchemy's table types return (JSON decoded, datetimes aware UTC), and a
CRM they cannot read as it stands is left to the store, which creates or migrates it."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, create_engine, func, select
from sqlalchemy.sql import Select

from leadflow.clock import FrozenClock
from leadflow.db import head_revision, sqlalchemy_url, sqlite_file
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import CrmReader, Lead, QueueItem, UtcDateTime
from leadflow.tools.crm_reads import (
    JSON_COLUMNS,
    LEAD_COLUMNS,
    QUEUE_ITEM_COLUMNS,
    UTC_COLUMNS,
    CrmUnavailable,
    open_reader,
)
from tests.conftest import RunItems, form_item

COLD = {"Work Email": "li.wei@northwind-analytics.com", "Company": "Northwind Analytics",
        "Job Title": "Sales Manager", "message": "Interested in a demo, maybe within 6 months."}
JUNK = {"Work Email": "kid@pixelharbor.io", "Company": "Pixel Harbor", "Job Title": "Intern",
        "message": "student homework, no budget"}
# Stored text a reader must hand back as stored: markup, escapes, astral and RTL characters.
ODD = "[red]Ünïcødé[/red] \\x1b 😀 \u202e \"quoted\" 'single' %s ? :name"


def sqlalchemy_rows(url: str, query: Select[Any]) -> list[dict[str, Any]]:
    """What SQLAlchemy's types make of the rows (the store's reads before crm_reads)."""
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings().all()]
    finally:
        engine.dispose()


@pytest.fixture
def filled(run_items: RunItems, tools: Toolbox, clock: FrozenClock) -> Toolbox:
    """Leads of every kind, one minute apart (the list is newest first), and queue items
    open and resolved, with and without a payload."""
    for item in (form_item("R-1"), form_item("C-1", **COLD), form_item("U-1", **JUNK),
                 form_item("M-1", **{"Work Email": None, "Last Name": ODD})):
        run_items([item])
        clock.advance(timedelta(minutes=1))
    first, *_ = [lead["id"] for lead in tools.crm.list_leads()]
    tools.crm.enqueue("rules_review", first, ODD, clock.now(), payload={"rule": ODD, "n": [1]})
    clock.advance(timedelta(minutes=1))
    tools.crm.enqueue("retry_later", first, "resolved later", clock.now())
    tools.crm.resolve("retry_later", first, clock.now(), "done")
    return tools


@pytest.mark.db_backends
def test_the_reads_return_what_sqlalchemy_returns(filled: Toolbox, database_url: str) -> None:
    reader = open_reader(database_url)
    assert reader is not None, "a CRM at the head revision is read without SQLAlchemy"
    leads = select(Lead.__table__).order_by(Lead.ingested_at.desc(), Lead.id.desc())
    for status, tier, limit in ((None, None, 50), (None, None, 2), ("nurture", None, 50),
                                (None, "hot", 50), ("manual_review", "hot", 50)):
        query = leads.limit(limit)
        query = query.where(Lead.status == status) if status else query
        query = query.where(Lead.tier == tier) if tier else query
        expected = sqlalchemy_rows(database_url, query)
        got = reader.list_leads(status=status, tier=tier, limit=limit)
        # repr: the same values of the same types, datetimes in UTC itself (== alone would
        # let a datetime in another zone pass), keys in the table's order
        assert repr(got) == repr(expected), (status, tier, limit)
    assert len(reader.list_leads()) == 4
    assert [lead["record"]["contact"]["last_name"] for lead in reader.list_leads()
            if lead["status"] == "manual_review"] == [ODD]

    open_items = select(QueueItem.__table__).where(QueueItem.resolved_at.is_(None))
    for queue in ("nurture", "marketing", "manual_review", "rules_review", "retry_later"):
        expected = sqlalchemy_rows(database_url, open_items.where(QueueItem.queue == queue)
                                   .order_by(QueueItem.created_at))
        assert repr(reader.queue_items(queue)) == repr(expected), queue
    assert reader.queue_items("rules_review")[0]["payload"] == {"rule": ODD, "n": [1]}
    assert reader.queue_items("retry_later") == []
    counted = sqlalchemy_rows(database_url, select(QueueItem.queue, func.count().label("n"))
                              .where(QueueItem.resolved_at.is_(None)).group_by(QueueItem.queue))
    assert reader.queue_counts() == {"manual_review": 0, "nurture": 0, "marketing": 0,
                                     "retry_later": 0, "rules_review": 0, "intake": 0,
                                     **{row["queue"]: row["n"] for row in counted}}
    assert reader.queue_counts()["rules_review"] == 1
    # the store answers through the same reader, on its own engine
    assert repr(filled.crm.list_leads()) == repr(reader.list_leads())
    assert isinstance(filled.crm.reads, CrmReader)


@pytest.mark.db_backends("postgres")
def test_postgres_times_come_back_in_utc_whatever_the_session_zone(filled: Toolbox,
                                                                   database_url: str) -> None:
    """psycopg returns timestamptz in the session's zone; the rows are UTC all the same."""
    elsewhere = database_url + "%20-cTimeZone%3DPacific/Chatham"  # +13:45 in November
    reader = open_reader(elsewhere)
    assert reader is not None
    leads = reader.list_leads()
    assert repr(leads) == repr(sqlalchemy_rows(database_url, select(Lead.__table__)
                                               .order_by(Lead.ingested_at.desc(),
                                                         Lead.id.desc())))
    assert all(lead["ingested_at"].utcoffset() == timedelta(0) for lead in leads)


def test_the_columns_read_are_the_tables() -> None:
    """crm_reads names the columns without the schema's SQLAlchemy tables: the same ones."""
    for columns, table in ((LEAD_COLUMNS, Lead.__table__), (QUEUE_ITEM_COLUMNS,
                                                            QueueItem.__table__)):
        assert columns == tuple(c.name for c in table.columns)
        assert {c.name for c in table.columns if isinstance(c.type, JSON)} == \
            JSON_COLUMNS & set(columns)
        assert {c.name for c in table.columns if isinstance(c.type, UtcDateTime)} == \
            UTC_COLUMNS & set(columns)


def test_a_crm_to_create_or_migrate_is_left_to_the_store(tmp_path: Path) -> None:
    missing = tmp_path / "new" / "crm.db"
    missing.parent.mkdir()
    assert open_reader(f"sqlite:///{missing}") is None
    assert not missing.exists(), "the reader must not create the file the store migrates"

    older = tmp_path / "older.db"
    with sqlite3.connect(older) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        conn.execute("INSERT INTO alembic_version VALUES ('0001')")
    assert open_reader(f"sqlite:///{older}") is None
    with sqlite3.connect(older) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (head_revision(),))
    assert open_reader(f"sqlite:///{older}") is not None

    for url in ("sqlite://", "sqlite:///:memory:", f"sqlite:///{older}?timeout=3",
                "mysql://u:p@127.0.0.1/db", "not a url"):
        assert open_reader(url) is None, url


def test_a_database_that_does_not_open_says_why(tmp_path: Path) -> None:
    with pytest.raises(CrmUnavailable) as refused:
        open_reader("postgresql://postgres:hunter2@127.0.0.1:9/test")  # nothing listens
    assert "Connection refused" in str(refused.value)
    not_a_database = tmp_path / "crm.db"
    not_a_database.write_text("this is not SQLite\n" * 100)
    with pytest.raises(CrmUnavailable, match="not a database"):
        open_reader(f"sqlite:///{not_a_database}")


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite:///crm.db", "crm.db"),
    ("sqlite:////tmp/a%20b/crm.db", "/tmp/a b/crm.db"),
    ("sqlite+pysqlite:///x/crm.db", "x/crm.db"),
    ("sqlite:///crm.db?timeout=3", None),
    ("sqlite://", None),
    ("sqlite:///:memory:", None),
    ("sqlite+aiosqlite:///crm.db", None),
    ("postgresql://postgres@127.0.0.1/test", None),
])
def test_sqlite_file_reads_the_url_as_sqlalchemy_does(url: str, path: str | None) -> None:
    assert sqlite_file(url) == path
    if path is not None:
        from sqlalchemy.engine import make_url

        assert make_url(url).database == path
