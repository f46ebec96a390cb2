"""The promoted model's score acting (icp.yaml `scoring.mode`, docs/models.md): in `advise`
it orders a rep's queue and the dashboard's, the tier stands; in `blend` it moves a lead one
tier with the reason in the outcome and a notice to the owner, never a lead a person
reviewed; `model drift` tells sales ops."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from leadflow import cli
from leadflow.scoring import live
from leadflow.scoring.features import ScoringConfig
from leadflow.scoring.model import ConversionModel, digest, train
from leadflow.scoring.policy import ScoringPolicy
from leadflow.toolbox import Toolbox
from tests.conftest import RunItems, form_item
from tests.scoring_fakes import history

CONFIG = ScoringConfig(min_leads=50, min_conversions=10, routing_flags=("freemail",))
WARM = ("Our scheduling system keeps failing and we need to replace it. We have some budget "
        "and plan to decide next quarter.")  # BANT 74: warm


def leadflow(url: str, *args: str) -> Any:
    return CliRunner().invoke(cli.app, list(args),
                              env={"LEADFLOW_DATABASE_URL": url, "COLUMNS": "200"})


def person(n: int, message: str | None = None) -> dict[str, Any]:
    fields = {"Work Email": f"dana.ruiz{n}@northwind{n}.com", "First Name": "Dana",
              "Last Name": f"Ruiz{n}", "Company": f"Northwind Labs {n}"}
    if message is not None:
        fields["message"] = message
    return form_item(f"F-{n}", **fields)


def promote(tools: Toolbox, *, cuts: tuple[float, float, float] | None = None,
            tier_rates: dict[str, float] | None = None,
            metrics: dict[str, Any] | None = None) -> int:
    """Train on a hand-built history, optionally fix its quartile cuts and tier rates (so a
    test knows which priority and move a lead gets), store it and promote it."""
    trained = train(history(300, seed=4), CONFIG)
    model: ConversionModel = trained.model
    if cuts is not None:
        model.cuts = cuts
    if tier_rates is not None:
        model.tier_rates = tier_rates
    data = model.dumps()
    version = tools.crm.save_model(
        kind=model.kind, now=tools.clock.now(), trained_through=tools.clock.now(),
        horizon_days=30, n_train=trained.n_train, n_test=trained.n_test,
        metrics={**trained.metrics, **(metrics or {})}, features=trained.features,
        artefact=data, sha256=digest(data))
    tools.crm.promote_model(version, tools.clock.now())
    return version


@pytest.fixture
def blend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "scoring_policy", lambda: ScoringPolicy(mode="blend"))


def test_advise_scores_without_moving_the_tier(tools: Toolbox, run_items: RunItems) -> None:
    promote(tools, cuts=(0.0, 0.0, 0.0), tier_rates={"hot": 0.0, "warm": 0.0})
    [warm] = run_items([person(1, WARM)])
    assert warm["bant"]["tier"] == "warm", warm["bant"]
    assert warm["conversion"]["mode"] == "advise" and warm["conversion"]["priority"] == "A"
    assert "tier_change" not in warm["conversion"]
    assert not {"model_raised_tier", "model_lowered_tier"} & set(warm["flags"])
    # the owner's first notice, queued by routing before the score existed, carries it
    [new] = [n for n in tools.crm.notifications(warm["lead_id"])
             if n["subject"].startswith("New warm lead")]
    assert new["subject"].endswith(" — priority A ("
                                   f"{warm['conversion']['probability']:.0%})"), new
    lead_id = warm["lead_id"]
    assert tools.crm.amend_unsent_subject(lead_id, "routing", ("rep",), new["subject"][-5:]) == 0
    assert tools.crm.amend_unsent_subject(lead_id, "routing", ("rep",), "!") == 1
    # once a worker has tried a notice, it is left as it went
    tools.crm.mark_delivery(new["id"], tools.clock.now(), delivered=False, error="down")
    assert tools.crm.amend_unsent_subject(lead_id, "routing", ("rep",), "?") == 0


@pytest.mark.db_backends
@pytest.mark.usefixtures("blend")
def test_blend_raises_a_warm_lead_the_model_rates_highly(
        tools: Toolbox, run_items: RunItems, database_url: str) -> None:
    # every probability is in the top quarter and above the hot training leads' 0 %
    promote(tools, cuts=(0.0, 0.0, 0.0), tier_rates={"hot": 0.0, "warm": 0.0})
    [lead] = run_items([person(1, WARM)])
    change = lead["conversion"]["tier_change"]
    assert (change["from"], change["to"], change["direction"]) == ("warm", "hot", "up")
    assert "top quarter (A)" in change["reason"]
    assert lead["bant"]["tier"] == "hot" and "model_raised_tier" in lead["flags"]
    stored = tools.crm.get_lead(lead["lead_id"])
    assert stored is not None and stored["tier"] == "hot"
    # the follow-up ran on the new tier: a hot lead's first-touch SLA (1 h, icp.yaml)
    sla = tools.crm.sla_for(lead["lead_id"])
    assert sla is not None and sla["due_at"] - sla["started_at"] <= timedelta(hours=1)
    told = [n for n in tools.crm.notifications(lead["lead_id"])
            if n["subject"].startswith("Tier warm → hot")]
    assert len(told) == 1 and "priority A" in told[0]["subject"]


@pytest.mark.usefixtures("blend")
def test_blend_lowers_a_hot_lead_the_model_rates_poorly(tools: Toolbox,
                                                        run_items: RunItems) -> None:
    # every probability is in the bottom quarter and below the warm training leads' 100 %
    promote(tools, cuts=(1.0, 1.0, 1.0), tier_rates={"hot": 1.0, "warm": 1.0})
    [lead] = run_items([person(1)])
    assert lead["conversion"]["tier_change"]["from"] == "hot", lead["bant"]
    assert lead["bant"]["tier"] == "warm" and "model_lowered_tier" in lead["flags"]


@pytest.mark.usefixtures("blend")
def test_blend_keeps_the_tier_when_the_probability_is_not_far_off(
        tools: Toolbox, run_items: RunItems) -> None:
    # top quarter, but below what the hot training leads converted: no move
    promote(tools, cuts=(0.0, 0.0, 0.0), tier_rates={"hot": 1.0, "warm": 0.0})
    [lead] = run_items([person(1, WARM)])
    assert lead["conversion"]["priority"] == "A" and "tier_change" not in lead["conversion"]
    assert lead["bant"]["tier"] == "warm"


@pytest.mark.usefixtures("blend")
def test_blend_never_moves_a_lead_a_person_decided(tools: Toolbox,
                                                   run_items: RunItems) -> None:
    promote(tools, cuts=(0.0, 0.0, 0.0), tier_rates={"hot": 0.0, "warm": 0.0})
    [lead] = run_items([person(1, WARM)])  # stored, scored: now as if a reviewer approved it
    stored = tools.crm.get_lead(lead["lead_id"])
    assert stored is not None
    for flags, steps in ((["human_approve"], []), ([], [{"decided_by": "human"}])):
        record = {**lead, "flags": flags, "decisions": steps, "conversion": None}
        conversion = live.conversion_for(tools, record, stored["record"])
        assert conversion is not None and conversion["priority"] == "A"
        assert "tier_change" not in conversion


def test_the_rep_queue_and_the_dashboard_put_priority_first(
        tools: Toolbox, run_items: RunItems, database_url: str) -> None:
    from leadflow.dashboard import create_app

    promote(tools)
    leads = run_items([person(n, WARM if n % 2 else None) for n in range(1, 7)])
    rep = leads[0]["assignment"]["rep_id"]
    mine = [o for o in leads if o["assignment"]["rep_id"] == rep]
    expected = sorted(mine, key=lambda o: ("ABCD".index(o["conversion"]["priority"]),
                                           -o["conversion"]["probability"], o["lead_id"]))
    assert expected[0]["conversion"]["priority"] < expected[-1]["conversion"]["priority"]
    shown = leadflow(database_url, "leads", "queue", rep)
    assert shown.exit_code == 0, shown.output
    at = [shown.stdout.index(o["lead_id"]) for o in expected]
    assert at == sorted(at), shown.stdout

    data = TestClient(create_app(tools)).get("/dashboard/data.json").json()["priority_queue"]
    order = [i["lead_id"] for i in data["items"]]
    everyone = sorted(leads, key=lambda o: ("ABCD".index(o["conversion"]["priority"]),
                                            -o["conversion"]["probability"], o["lead_id"]))
    assert order == [o["lead_id"] for o in everyone]
    assert data["open"] == 6 and sum(data["by_priority"].values()) == 6
    assert data["items"][0]["probability"] == everyone[0]["conversion"]["probability"]


def test_drift_tells_sales_ops_once(tools: Toolbox, database_url: str) -> None:
    # the training leads' deciles are all near 0.9; 60 recent leads score 0.1: moved
    version = promote(tools, metrics={"score_deciles": [0.9] * 9})
    now = tools.clock.now()
    for i in range(60):
        tools.crm.record_score(f"X-{i}", version, "promoted",
                               {"probability": 0.1, "priority": "D"}, now - timedelta(days=1))
    first = leadflow(database_url, "model", "drift")
    assert first.exit_code == 4, first.output
    assert "DRIFT: score distribution moved" in first.stdout
    again = leadflow(database_url, "model", "drift", "--json")
    assert again.exit_code == 4 and json.loads(again.stdout)["drifted"] is True
    notices = [n for n in tools.crm.notifications() if n["audience"] == "sales_operations"
               and n["subject"] == f"Conversion model {version} has drifted"]
    assert len(notices) == 1  # once per model and day


def test_no_drift_when_recent_scores_look_like_training(tools: Toolbox,
                                                        database_url: str) -> None:
    deciles = [round(0.1 * k, 2) for k in range(1, 10)]
    version = promote(tools, metrics={"score_deciles": deciles})
    now = tools.clock.now()
    for i in range(100):  # evenly over the ten bins
        tools.crm.record_score(f"X-{i}", version, "promoted",
                               {"probability": 0.05 + 0.1 * (i % 10), "priority": "B"},
                               now - timedelta(hours=i))
    result = leadflow(database_url, "model", "drift")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("— ok")
    assert not [n for n in tools.crm.notifications() if n["audience"] == "sales_operations"]
