"""Conversion models as a user meets them: the cold-start refusal, a model in shadow scoring
new leads through the real graph without acting, `promote` putting its score in the outcome
record and `leads show`, `rollback`, and a broken model that never fails a lead. The slow
test trains on a short simulated market."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadflow import cli
from leadflow.scoring.features import ScoringConfig
from leadflow.scoring.model import digest, train
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import CrmStore
from tests.conftest import RunItems, form_item
from tests.scoring_fakes import history

CONFIG = ScoringConfig(min_leads=50, min_conversions=10, routing_flags=("freemail",))


def leadflow(url: str, *args: str) -> Any:
    return CliRunner().invoke(cli.app, list(args),
                              env={"LEADFLOW_DATABASE_URL": url, "COLUMNS": "200"})


def person(n: int) -> dict[str, Any]:
    """A new person at a new company each time (no duplicate, no repeat inquiry)."""
    return form_item(f"F-{n}", **{"Work Email": f"dana.ruiz{n}@northwind{n}.com",
                                  "First Name": "Dana", "Last Name": f"Ruiz{n}",
                                  "Company": f"Northwind Labs {n}"})


def save(tools: Toolbox, artefact: bytes | None = None, sha: str | None = None) -> int:
    trained = train(history(300, seed=4), CONFIG)
    data = artefact if artefact is not None else trained.model.dumps()
    return tools.crm.save_model(
        kind=trained.model.kind, now=tools.clock.now(), trained_through=tools.clock.now(),
        horizon_days=30, n_train=trained.n_train, n_test=trained.n_test,
        metrics=trained.metrics, features=trained.features, artefact=data,
        sha256=sha or digest(data))


def test_a_tiny_crm_is_refused_and_the_rules_stay_in_charge(
        tools: Toolbox, run_items: RunItems, database_url: str) -> None:
    run_items([person(1), person(2)])
    result = leadflow(database_url, "model", "train")
    assert result.exit_code == 3, result.output
    refusal = result.stderr.strip().splitlines()
    assert len(refusal) == 1 and refusal[0].startswith("error: cold start: ")
    assert "the rules stay in charge" in refusal[0]
    assert tools.crm.models() == []
    assert leadflow(database_url, "model", "list").stdout.startswith("no models yet")


@pytest.mark.db_backends
def test_shadow_scores_then_promote_then_rollback(
        tools: Toolbox, run_items: RunItems, database_url: str) -> None:
    [before] = run_items([person(1)])  # no model: nothing scored
    assert "conversion" not in before and tools.crm.scores_for(before["lead_id"]) == []

    assert save(tools) == 1
    [shadowed] = run_items([person(2)])
    assert shadowed["status"] == "awaiting_followup"
    assert "conversion" not in shadowed  # in shadow: stored, not acted on
    [stored] = tools.crm.scores_for(shadowed["lead_id"])
    assert stored["mode"] == "shadow" and stored["model_version"] == 1
    assert 0.0 < stored["probability"] < 1.0 and stored["priority"] in "ABCD"

    promoted = leadflow(database_url, "model", "promote")
    assert promoted.exit_code == 0 and "model 1 promoted" in promoted.stdout
    [scored] = run_items([person(3)])
    conversion = scored["conversion"]
    assert conversion["model_version"] == 1 and conversion["priority"] in "ABCD"
    assert 0.0 < conversion["probability"] < 1.0
    assert conversion["factors"] and all(f["direction"] in ("raises", "lowers")
                                         for f in conversion["factors"])
    assert tools.crm.get_lead(scored["lead_id"])["outcome"]["conversion"] == conversion  # type: ignore[index]
    shown = json.loads(leadflow(database_url, "leads", "show", scored["lead_id"]).stdout)
    assert shown["conversion"]["probability"] == conversion["probability"]
    assert [s["mode"] for s in shown["conversion_scores"]] == ["promoted"]

    explained = leadflow(database_url, "explain", scored["lead_id"]).stdout
    assert "Likely to convert" in explained and "Conversion model 1:" in explained

    listed = leadflow(database_url, "model", "list").stdout
    assert "promoted" in listed
    show = json.loads(leadflow(database_url, "model", "show", "1").stdout)
    assert show["status"] == "promoted" and "artefact" not in show
    assert show["metrics"]["chosen"] in show["metrics"]["candidates"]

    rolled = leadflow(database_url, "model", "rollback")
    assert rolled.exit_code == 0 and "rules alone are in charge" in rolled.stdout
    [after] = run_items([person(4)])
    assert "conversion" not in after and tools.crm.scores_for(after["lead_id"]) == []
    assert leadflow(database_url, "model", "rollback").exit_code == 1  # nothing to roll back


def test_a_broken_model_never_fails_a_lead(tools: Toolbox, run_items: RunItems,
                                           caplog: pytest.LogCaptureFixture) -> None:
    save(tools, artefact=b"not a model")  # its digest matches, its bytes do not load
    tools.crm.promote_model(1, tools.clock.now())
    save(tools, sha="0" * 64)  # a model whose bytes were changed after training
    with caplog.at_level(logging.WARNING, logger="leadflow.scoring.live"):
        [outcome] = run_items([person(1)])
    assert outcome["status"] == "awaiting_followup"
    assert "conversion" not in outcome and tools.crm.scores_for(outcome["lead_id"]) == []
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "model 1 could not score" in warned and "model 2 could not score" in warned


@pytest.mark.slow
def test_a_simulated_market_trains_a_model_that_scores_new_leads(tmp_path: Path) -> None:
    """A short simulated market is enough history (at lowered cold-start thresholds): the
    model trains on it; a lead routed afterwards is scored in shadow, the next one after
    `promote` carries the score, and after `rollback` the rules alone are in charge."""
    home = tmp_path / "market"
    env = {"LEADFLOW_HOME": str(home), "LEADFLOW_DATABASE_URL": None,
           "LEADFLOW_CHECKPOINT_DB": None, "LEADFLOW_MODEL": None, "COLUMNS": "160"}

    def run(*args: str) -> Any:
        return CliRunner().invoke(cli.app, list(args), env=env)

    simulated = run("simulate", "--days", "10", "--leads-per-day", "30", "--drain-days", "10",
                    "--seed", "3")
    assert simulated.exit_code == 0, simulated.output
    trained = run("model", "train", "--horizon", "7d", "--min-leads", "40",
                  "--min-conversions", "8")
    assert trained.exit_code == 0, trained.output
    [line] = trained.stdout.strip().splitlines()
    assert line.startswith("model: auc=") and " n_test=" in line

    def route(n: int) -> dict[str, Any]:
        source, out = tmp_path / f"new-{n}.jsonl", tmp_path / f"out-{n}.jsonl"
        source.write_text(json.dumps(person(n)) + "\n")
        result = run("run", "--input", str(source), "--out", str(out), "--no-progress")
        assert result.exit_code == 0, result.output
        outcome: dict[str, Any] = json.loads(out.read_text().splitlines()[0])
        assert outcome["status"] == "awaiting_followup"
        return outcome

    store = CrmStore(f"sqlite:///{home / 'crm.db'}")
    try:
        [model] = store.models()
        assert model["status"] == "shadow" and model["horizon_days"] == 7.0
        shadowed = route(1)
        assert "conversion" not in shadowed
        assert [s["mode"] for s in store.scores_for(shadowed["lead_id"])] == ["shadow"]
        assert run("model", "promote").exit_code == 0
        promoted = route(2)
        assert promoted["conversion"]["model_version"] == model["version"]
        assert run("model", "rollback").exit_code == 0
        after = route(3)
        assert "conversion" not in after and store.scores_for(after["lead_id"]) == []
    finally:
        store.close()
