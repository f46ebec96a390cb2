"""Shared fixtures: a real CRM in a temp dir, a frozen clock, and a helper that runs items
through the compiled graph with a real checkpointer.

Tests marked `db_backends` run once per database backend: SQLite (a temp file) and
PostgreSQL (`LEADFLOW_TEST_POSTGRES_URL`, default the local server's `test` database, in a
fresh `lf_test_<random>` schema for the session, emptied before each test; the LangGraph
checkpointer lives there too). `LEADFLOW_TEST_BACKENDS=sqlite` runs SQLite only; an
unreachable PostgreSQL fails the postgres variants unless `LEADFLOW_SKIP_POSTGRES=1`."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.base import BaseCheckpointSaver

from leadflow.checkpoint import open_checkpointer
from leadflow.clock import FrozenClock
from leadflow.db import libpq_conninfo
from leadflow.graph import build_graph
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox

POSTGRES_URL = os.environ.get("LEADFLOW_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("LEADFLOW_TEST_BACKENDS",
                                              "sqlite,postgres").split(",") if b.strip()]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`db_backends` tests whose fixtures reach `backend` run once per backend
    (`db_backends("postgres")`: only there)."""
    marker = metafunc.definition.get_closest_marker("db_backends")
    if marker is None or "backend" not in metafunc.fixturenames:
        return
    wanted = [b for b in BACKENDS if not marker.args or b in marker.args]
    metafunc.parametrize("backend", [
        pytest.param(b, marks=[pytest.mark.postgres] if b == "postgres" else [], id=b)
        for b in wanted], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test ('sqlite' unless the test is `db_backends`)."""
    return str(getattr(request, "param", "sqlite"))


def with_search_path(url: str, schema: str) -> str:
    """The URL with every connection's search_path set to `schema` (libpq `options`)."""
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def database_at(backend: str, tmp_path: Path, revision: str) -> Iterator[str]:
    """A CRM migrated up to `revision` only (SQLite file, or a PostgreSQL schema of its
    own), for a migration's own test; yields its URL, dropped afterwards."""
    from alembic import command
    from sqlalchemy import create_engine

    from leadflow.db import alembic_config, sqlalchemy_url

    admin, schema = None, ""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        schema = f"lf_test_{uuid.uuid4().hex[:12]}"
        admin = postgres_admin()
        admin.execute(f'CREATE SCHEMA "{schema}"')
        url = with_search_path(POSTGRES_URL, schema)
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)
        yield url
    finally:
        engine.dispose()
        if admin is not None:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            admin.close()


def postgres_admin() -> psycopg.Connection[Any]:
    """A plain connection to the test server, or a loud failure (skip only on request)."""
    if os.environ.get("LEADFLOW_SKIP_POSTGRES") == "1":
        pytest.skip("LEADFLOW_SKIP_POSTGRES=1")
    try:
        return psycopg.connect(libpq_conninfo(POSTGRES_URL), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable ({exc}). Start it, point "
                    "LEADFLOW_TEST_POSTGRES_URL at one, or set LEADFLOW_SKIP_POSTGRES=1 to skip "
                    "the postgres variants.", pytrace=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh schema for this test session, dropped at the end."""
    admin = postgres_admin()
    schema = f"lf_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(POSTGRES_URL, schema)
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def empty_postgres_schema(url: str) -> None:
    """Remove every row the previous test left (tables and migration records stay)."""
    with psycopg.connect(libpq_conninfo(url), autocommit=True) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename NOT IN ('alembic_version', 'checkpoint_migrations')")]
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The CRM's URL for this test: a new SQLite file, or the session's emptied PG schema."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'crm.db'}"
    url: str = request.getfixturevalue("postgres_url")
    empty_postgres_schema(url)
    return url


OpenCheckpoints = Callable[[], AbstractAsyncContextManager[BaseCheckpointSaver[Any]]]


@pytest.fixture
def checkpoints(backend: str, database_url: str, tmp_path: Path) -> OpenCheckpoints:
    """checkpoints() → async context manager of the test's checkpointer (same backend as the
    CRM; repeated opens see the same threads, as separate CLI commands do)."""
    target: str | Path = database_url if backend == "postgres" else tmp_path / "checkpoints.db"
    return lambda: open_checkpointer(target)


START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def tools(database_url: str, clock: FrozenClock) -> Iterator[Toolbox]:
    toolbox = Toolbox.open(database_url, clock=clock)
    yield toolbox
    toolbox.crm.close()


RunItems = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def run_items(tools: Toolbox, checkpoints: OpenCheckpoints) -> RunItems:
    """run_items(items, **build_graph_kwargs) → outcome records, through the real graph."""

    def run(items: list[Any], **kwargs: Any) -> list[dict[str, Any]]:
        async def go() -> list[dict[str, Any]]:
            async with checkpoints() as saver:
                graph = build_graph(saver, toolbox=tools, **kwargs)
                return await BatchRunner(graph, tools).run(items)

        return asyncio.run(go())

    return run


def form_item(item_id: str = "F-1", **fields: Any) -> dict[str, Any]:
    payload = {
        "First Name": "Priya", "Last Name": "Nair", "Work Email": "priya.nair@lumenhealth.com",
        "Job Title": "VP of Engineering", "Company": "Lumen Health Partners", "Country": "USA",
        "message": ("Our scheduling system keeps failing and we need to replace it urgently. "
                    "Budget approved: $250k. We want to sign this month."),
    }
    payload.update(fields)
    return {"id": item_id, "source": "web_form", "received_at": "2026-11-24T08:55:00Z",
            "payload": {k: v for k, v in payload.items() if v is not None}}
