"""A fast `leadflow` command: `--help` and the commands that only read the CRM start without
the LLM and graph stack (chromadb, LangChain, LangGraph, OpenAI, numpy: seconds of imports),
and without Alembic or SQLAlchemy once the CRM is at the head revision. What they import is
read from `sys.modules` in a real subprocess that starts the CLI as the `leadflow` entry point
does; how long that takes is `benchmarks/cli_startup.py`'s business, not a test's.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from rich.console import Console
from sqlalchemy import create_engine, select

from leadflow.cli.listing import leads_view
from leadflow.db import (
    BASELINE_REVISION,
    alembic_config,
    at_numbered_head,
    head_revision,
    numbered_head,
    sqlalchemy_url,
)
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Lead
from tests.conftest import RunItems, form_item

pytestmark = pytest.mark.slow  # every test here but the last three starts a subprocess

# Top-level packages a light command must not load (prefixes: langchain covers
# langchain_core, langchain_openai …).
HEAVY = ("chromadb", "langchain", "langgraph", "langsmith", "openai", "tiktoken", "numpy",
         "onnxruntime", "tokenizers")

# Starts the CLI the way the `leadflow` console script does (`from leadflow.cli import app`,
# then `app()`), and writes the exit code and every module it loaded to a file.
DRIVER = """
import json, sys
from leadflow.cli import app
code = 0
try:
    app(sys.argv[2:], prog_name="leadflow")
except SystemExit as exc:
    code = exc.code
with open(sys.argv[1], "w") as report:
    json.dump({"code": code, "modules": sorted(sys.modules)}, report)
"""


WIDTH = 200  # the subprocess's COLUMNS


def leadflow(tmp_path: Path, *args: str, database_url: str | None = None) -> dict[str, Any]:
    """Run `leadflow ARGS` in a fresh interpreter: exit code, output, top-level packages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    env.update(LEADFLOW_HOME=str(tmp_path / "home"), COLUMNS=str(WIDTH))
    if database_url:
        env["LEADFLOW_DATABASE_URL"] = database_url
    report = tmp_path / "modules.json"
    report.unlink(missing_ok=True)  # a crash must not pass for the previous command's report
    done = subprocess.run([sys.executable, "-c", DRIVER, str(report), *args], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    if not report.exists():
        pytest.fail(f"leadflow {' '.join(args)} crashed:\n{done.stderr[-3000:]}")
    loaded = json.loads(report.read_text(encoding="utf-8"))
    return {"code": loaded["code"], "out": done.stdout, "err": done.stderr,
            "packages": {m.split(".")[0] for m in loaded["modules"]}}


def heavy(packages: set[str]) -> set[str]:
    return {p for p in packages if p.startswith(HEAVY)}


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["leads", "--help"]],
                         ids=" ".join)
def test_help_loads_no_llm_or_graph_library(tmp_path: Path, args: list[str]) -> None:
    result = leadflow(tmp_path, *args)
    assert result["code"] == 0, result["err"]
    assert "Usage: leadflow" in result["out"]
    assert not heavy(result["packages"])
    assert "sqlalchemy" not in result["packages"]  # help opens no database either


def listing_through_sqlalchemy(database_url: str) -> str:
    """`leadflow leads list`'s output as it was when the CRM was read through SQLAlchemy's
    table types (what CrmStore.list_leads ran before leadflow.tools.crm_reads)."""
    engine = create_engine(sqlalchemy_url(database_url))
    with engine.connect() as conn:
        leads = [dict(row) for row in conn.execute(
            select(Lead.__table__).order_by(Lead.ingested_at.desc(), Lead.id.desc())
            .limit(50)).mappings()]  # ties (a frozen clock) in id order, as pages have them
    engine.dispose()
    out = io.StringIO()
    Console(file=out, width=WIDTH).print(leads_view(leads))
    return out.getvalue()


@pytest.mark.db_backends
def test_crm_commands_load_no_llm_graph_alembic_or_sqlalchemy(
        tmp_path: Path, backend: str, database_url: str, run_items: RunItems) -> None:
    """`leads list`, `queues` and `review list` read the CRM (already at head: the fixture
    migrated it) through the database's own driver, and show what is there, as they did
    through SQLAlchemy."""
    outcomes = run_items([form_item("LIGHT-1"), form_item("LIGHT-2", **{"Work Email": None})])
    listed = leadflow(tmp_path, "leads", "list", database_url=database_url)
    assert listed["code"] == 0, listed["err"]
    for outcome in outcomes:
        assert outcome["lead_id"] in listed["out"]
    assert outcomes[0]["contact"]["email"] in listed["out"]
    assert listed["out"] == listing_through_sqlalchemy(database_url)
    assert not heavy(listed["packages"])
    assert "alembic" not in listed["packages"] and "sqlalchemy" not in listed["packages"]
    if backend == "sqlite":  # psycopg imports asyncio itself; no leadflow command module does
        assert "asyncio" not in listed["packages"]
    for args, shown in ((["queues"], "manual_review │          1"),
                        (["review", "list"], outcomes[1]["lead_id"])):
        result = leadflow(tmp_path, *args, database_url=database_url)
        assert result["code"] == 0, result["err"]
        assert shown in result["out"], result["out"]
        assert not heavy(result["packages"])
        assert "alembic" not in result["packages"] and "sqlalchemy" not in result["packages"]


def test_a_fresh_crm_is_still_migrated(tmp_path: Path) -> None:
    """No CRM yet: `leads list` creates it through Alembic, then lists nothing; a CRM at an
    older revision is migrated the same way."""
    crm = tmp_path / "home" / "crm.db"
    for _ in ("new", "older"):
        result = leadflow(tmp_path, "leads", "list")
        assert result["code"] == 0, result["err"]
        assert "no leads match" in result["out"]
        assert "alembic" in result["packages"]
        assert not heavy(result["packages"])
        with sqlite3.connect(crm) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == \
                [(head_revision(),)]
        engine = create_engine(f"sqlite:///{crm}")
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), BASELINE_REVISION)
        engine.dispose()


def test_a_command_that_needs_the_graph_still_loads_it(tmp_path: Path) -> None:
    """The lazy imports happen when a command runs (and the check above sees them)."""
    result = leadflow(tmp_path, "graph")
    assert result["code"] == 0, result["err"]
    assert "graph TD;" in result["out"] and "supervisor" in result["out"]  # the Mermaid diagram
    assert "langgraph" in result["packages"]


def test_the_migration_files_name_alembics_head() -> None:
    """`numbered_head` (no Alembic) and Alembic agree, and every file starts with its
    revision, so an up-to-date CRM opens without importing Alembic."""
    assert numbered_head() == head_revision()
    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        assert Path(str(script.path)).name.startswith(f"{script.revision}_"), script.path


@pytest.mark.parametrize(("rows", "at_head"), [
    (None, False), ([], False), (["head"], True), (["0000"], False), (["head", "0000"], False),
])
def test_only_a_database_at_head_skips_alembic(rows: list[str] | None, at_head: bool) -> None:
    conn = sqlite3.connect(":memory:")
    if rows is not None:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        conn.executemany("INSERT INTO alembic_version VALUES (?)",
                         [(head_revision() if row == "head" else row,) for row in rows])
        conn.commit()
    assert at_numbered_head(conn, postgres=False) == (head_revision() if at_head else None)
    conn.close()


@pytest.mark.db_backends
def test_the_head_check_reads_an_engines_connection(database_url: str, tools: Toolbox) -> None:
    """The store's engine runs the same check on its pooled DB-API connection."""
    engine = create_engine(sqlalchemy_url(database_url))
    raw = engine.raw_connection()
    try:
        assert at_numbered_head(raw, postgres=engine.dialect.name == "postgresql") == \
            head_revision()
    finally:
        raw.close()
        engine.dispose()
