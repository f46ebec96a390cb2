"""`leadflow whatif` as a user runs it, on a small simulated market: an unchanged
configuration replays to zero changes (issue 16 item 7), a changed one reports its tier and
routing changes, loads and expected conversions — and the live CRM and checkpoints are the
same bytes afterwards."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from leadflow.config import CONFIG_DIR
from leadflow.scoring.features import ScoringConfig
from leadflow.scoring.model import digest, train
from leadflow.tools.crm import CrmStore
from leadflow.tools.crm.schema import Base
from tests.scoring_fakes import history

pytestmark = pytest.mark.slow


@dataclass
class Ran:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def leadflow(home: Path, *args: str) -> Ran:
    """The command in its own process, as a user runs it. In-process (CliRunner, which points
    this process's environment at `home` while the command runs), after test_model …
    test_speed_to_lead had run in the same process the live file changed bytes during the
    first replay with every row the same (a main file 20 pages shorter, 43 pages in its
    WAL); the same sequence passes with the command in its own process, where nothing else
    of the test process can see `home`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LEADFLOW_DATABASE_URL", "LEADFLOW_CHECKPOINT_DB", "LEADFLOW_MODEL")}
    env |= {"LEADFLOW_HOME": str(home), "COLUMNS": "160"}
    done = subprocess.run([sys.executable, "-m", "leadflow.cli", *args], env=env,
                          capture_output=True, text=True, timeout=1800, check=False)
    return Ran(done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six simulated days, with a promoted conversion model (trained on a hand-built
    history: any model will do to sum probabilities)."""
    home = tmp_path_factory.mktemp("market")
    result = leadflow(home, "simulate", "--days", "6", "--leads-per-day", "10", "--seed", "5")
    assert result.exit_code == 0, result.output
    trained = train(history(300, seed=4), ScoringConfig(min_leads=50, min_conversions=10))
    store = CrmStore(f"sqlite:///{home / 'crm.db'}")
    try:
        artefact = trained.model.dumps()
        now = store.latest_moment()
        assert now is not None
        store.save_model(kind=trained.model.kind, now=now, trained_through=now,
                         horizon_days=30, n_train=trained.n_train, n_test=trained.n_test,
                         metrics=trained.metrics, features=trained.features,
                         artefact=artefact, sha256=digest(artefact))
    finally:
        store.close()
    assert leadflow(home, "model", "promote").exit_code == 0
    return home


def snapshot(home: Path) -> dict[str, Any]:
    """The live files' bytes, what their write-ahead logs hold, and every table's row count.
    (A reader of a WAL-mode SQLite file may create an empty `-wal` and its `-shm` index, as
    every `leads list` does; a write would be logged in the `-wal`.)"""
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(home.glob("*.db"))}
    files |= {p.name: p.stat().st_size for p in sorted(home.glob("*.db-wal"))
              if p.stat().st_size}
    engine = create_engine(f"sqlite:///{home / 'crm.db'}")
    try:
        with engine.connect() as conn:
            rows = {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                    for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()
    return {"files": files, "rows": rows}


def whatif(home: Path, directory: Path, *args: str) -> dict[str, Any]:
    before = snapshot(home)
    result = leadflow(home, "whatif", "--config", str(directory), "--json", *args)
    assert result.exit_code == 0, result.output
    assert snapshot(home) == before, "the replay wrote to the live CRM or checkpoints"
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def copy_config(directory: Path, *names: str) -> Path:
    directory.mkdir()
    for name in names:
        shutil.copy(CONFIG_DIR / name, directory / name)
    return directory


def test_an_unchanged_configuration_replays_to_zero_changes(market: Path,
                                                            tmp_path: Path) -> None:
    same = copy_config(tmp_path / "same", "icp.yaml", "reps.yaml", "workflow.yaml")
    # the last three days: the replay starts from the reps' loads, owners and earlier
    # leads as they were when the window opened, and re-enacts what happened since
    found = whatif(market, same, "--since", "3d")
    store = CrmStore(f"sqlite:///{market / 'crm.db'}")
    try:
        total = len(store.history_leads())
    finally:
        store.close()
    assert 0 < found["window"]["leads"] < total
    assert found["changes"] == found["tier_changes"] == found["routing_changes"] == 0
    assert found["routes"] == [] and not found["errors"] and not found["missing_items"]
    assert all(c["before"] == c["after"] for c in found["tier_matrix"])
    assert all(r["before"] == r["after"] for r in found["queue_volumes"] + found["rep_loads"])
    assert sum(r["before"] for r in found["rep_loads"]) > 0, "some leads went to reps"
    expected = found["expected_conversions"]
    assert expected["model_version"] == 1 and expected["scored_before"] > 0
    assert expected["before"] == expected["after"] > 0


def test_a_changed_configuration_reports_what_moves(market: Path, tmp_path: Path) -> None:
    changed = copy_config(tmp_path / "changed", "icp.yaml", "reps.yaml")
    baseline = whatif(market, copy_config(tmp_path / "same", "icp.yaml"), "--since", "30d")
    busiest = max(baseline["rep_loads"], key=lambda r: r["before"])
    assert busiest["before"] > 0
    reps = (changed / "reps.yaml").read_text()
    anchor = f"  - id: {busiest['name']}\n"
    assert anchor in reps
    (changed / "reps.yaml").write_text(reps.replace(anchor, anchor + "    active: false\n"))
    icp = (changed / "icp.yaml").read_text()
    assert "  - {name: warm, min: 60}" in icp
    (changed / "icp.yaml").write_text(icp.replace("  - {name: warm, min: 60}",
                                                  "  - {name: warm, min: 50}"))

    found = whatif(market, changed, "--since", "30d")
    assert found["config_files"] == ["icp.yaml", "reps.yaml"]
    assert found["tier_changes"] > 0
    assert {(c["before"], c["after"]) for c in found["tier_matrix"]} >= {("cold", "warm")}
    assert all(c["before"] != "warm" or c["after"] == "warm" for c in found["tier_matrix"])
    loads = {r["name"]: r for r in found["rep_loads"]}
    assert loads[busiest["name"]]["after"] == 0
    moved = [r for r in found["routes"] if r["route_before"] == busiest["name"]]
    assert len(moved) == busiest["before"]
    volumes = {r["name"]: r for r in found["queue_volumes"]}
    assert volumes["nurture"]["after"] < volumes["nurture"]["before"]
    assert found["routing_changes"] == len(found["routes"]) >= len(moved)
    expected = found["expected_conversions"]
    assert expected["scored_after"] > expected["scored_before"]
    assert expected["after"] != expected["before"]


def test_a_directory_it_cannot_apply_is_refused(market: Path, tmp_path: Path) -> None:
    for directory, message in (
            (copy_config(tmp_path / "empty"), "holds none of"),
            (copy_config(tmp_path / "std", "icp.yaml", "standardize.yaml"),
             "cannot apply"),
            (tmp_path / "nowhere", "is not a directory")):
        result = leadflow(market, "whatif", "--config", str(directory))
        assert result.exit_code == 2 and message in result.stderr, result.output
