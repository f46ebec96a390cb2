"""A fast `leadflow` command: `--help` and the commands that only read the CRM start without
the LLM and graph stack (chromadb, LangChain, LangGraph, OpenAI, numpy: seconds of imports),
and without Alembic once the CRM is at the head revision. What they import is read from
`sys.modules` in a real subprocess that starts the CLI as the `leadflow` entry point does;
how long that takes is `benchmarks/cli_startup.py`'s business, not a test's.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from leadflow.db import (
    alembic_config,
    at_numbered_head,
    head_revision,
    numbered_head,
    sqlalchemy_url,
)
from leadflow.toolbox import Toolbox
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


def leadflow(tmp_path: Path, *args: str, database_url: str | None = None) -> dict[str, Any]:
    """Run `leadflow ARGS` in a fresh interpreter: exit code, output, top-level packages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    env.update(LEADFLOW_HOME=str(tmp_path / "home"), COLUMNS="200")
    if database_url:
        env["LEADFLOW_DATABASE_URL"] = database_url
    report = tmp_path / "modules.json"
    done = subprocess.run([sys.executable, "-c", DRIVER, str(report), *args], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
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


@pytest.mark.db_backends
def test_crm_commands_load_no_llm_graph_or_alembic(tmp_path: Path, database_url: str,
                                                   run_items: RunItems) -> None:
    """`leads list`, `queues` and `review list` read the CRM (already at head: the fixture
    migrated it) with SQLAlchemy alone, and show what is there."""
    [outcome] = run_items([form_item("LIGHT-1")])
    listed = leadflow(tmp_path, "leads", "list", database_url=database_url)
    assert listed["code"] == 0, listed["err"]
    assert outcome["lead_id"] in listed["out"] and outcome["contact"]["email"] in listed["out"]
    assert not heavy(listed["packages"])
    assert "alembic" not in listed["packages"]
    for args in (["queues"], ["review", "list"]):
        result = leadflow(tmp_path, *args, database_url=database_url)
        assert result["code"] == 0, result["err"]
        assert not heavy(result["packages"]) and "alembic" not in result["packages"]


def test_a_fresh_crm_is_still_migrated(tmp_path: Path) -> None:
    """No CRM yet: `leads list` creates it through Alembic, then lists nothing."""
    result = leadflow(tmp_path, "leads", "list")
    assert result["code"] == 0, result["err"]
    assert "alembic" in result["packages"]
    assert not heavy(result["packages"])
    engine = create_engine(f"sqlite:///{tmp_path / 'home' / 'crm.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == \
            head_revision()
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
