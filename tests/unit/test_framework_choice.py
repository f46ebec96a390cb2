"""Which framework qualifies a run (SPEC §4.3: `LEADFLOW_FRAMEWORK=bant|meddic`, the run
context's `framework`), and the outcome record saying which one scored the lead."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import TypeAdapter

from leadflow.agents.meddic import MEDDIC_CRITERIA
from leadflow.agents.qualification import CRITERIA, QualificationAgent
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.outcome import outcome_record
from leadflow.settings import FRAMEWORKS, Framework, qualification_framework
from leadflow.toolbox import Toolbox
from tests.unit.test_qualification import make_lead


def test_the_environment_sets_the_default_framework(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADFLOW_FRAMEWORK", raising=False)
    assert qualification_framework() == "bant"
    assert LeadflowContext().framework == "bant"
    monkeypatch.setenv("LEADFLOW_FRAMEWORK", "MEDDIC ")
    assert qualification_framework() == "meddic"
    assert LeadflowContext().framework == "meddic"
    assert LeadflowContext(framework="bant").framework == "bant"  # the run's choice wins
    assert DEFAULT_RUN.framework == "bant"  # no context at all: the offline defaults


def test_an_unknown_framework_is_refused_with_a_clear_message(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_FRAMEWORK", "spiced")
    with pytest.raises(ValueError, match="LEADFLOW_FRAMEWORK='spiced' is not a qualification "
                                         "framework: use bant or meddic"):
        LeadflowContext()
    with pytest.raises(ValueError, match="framework 'champ' is not a qualification framework"):
        LeadflowContext(framework="champ")  # type: ignore[arg-type]


def test_studio_shows_the_framework_as_a_choice_with_the_current_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_FRAMEWORK", "meddic")
    field = TypeAdapter(LeadflowContext).json_schema()["properties"]["framework"]
    assert field["enum"] == ["bant", "meddic"]
    assert field["default"] == "meddic"


def test_the_same_agent_scores_by_each_runs_framework(tools: Toolbox,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_FRAMEWORK", "meddic")
    lead = make_lead("We need a reporting tool; budget approved: $40k.")
    agent = QualificationAgent()
    env_run = asyncio.run(agent.run({"lead": lead}, tools, LeadflowContext(model="rules")))
    bant_run = asyncio.run(agent.run({"lead": lead}, tools,
                                     LeadflowContext(model="rules", framework="bant")))
    assert env_run.update["bant"]["framework"] == "MEDDIC"
    assert bant_run.update["bant"]["framework"] == "BANT"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_the_outcome_record_says_which_framework_scored_the_lead(tools: Toolbox,
                                                                 framework: Framework) -> None:
    lead = make_lead("We need a reporting tool; budget approved: $40k.")
    out = asyncio.run(QualificationAgent().run(
        {"lead": lead}, tools, LeadflowContext(model="rules", framework=framework)))
    record = outcome_record({"lead_id": "LEAD-1", "lead": lead, "bant": out.update["bant"],
                             "status": "nurture"})
    names = MEDDIC_CRITERIA if framework == "meddic" else CRITERIA
    assert record["bant"]["framework"] == framework.upper()
    assert set(record["bant"]) == {"framework", *names, "total", "tier"}
    for name in names:
        assert set(record["bant"][name]) == {"score", "band", "evidence"}
    assert record["bant"]["total"] == out.update["bant"]["total"]
    assert outcome_record({"lead_id": "LEAD-2", "status": "marketing"})["bant"] is None
