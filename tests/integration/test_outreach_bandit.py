"""The outreach bandit through the graph (issue 16, item 4): a small simulated market whose
prospects answer one style far more often; every first email the follow-up step sends is the
bandit's choice, recorded with why; the rewards reach the running counts as the events are
recorded; `leadflow report outreach` shows the posteriors and the traffic; the regret is
scored from the truth. And migration 0011 counts the history a CRM already holds."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, insert
from typer.testing import CliRunner

from leadflow import cli
from leadflow.agents.outreach import STYLES, choose_sent_draft
from leadflow.agents.style_choice import BanditSettings
from leadflow.config import CONFIG_DIR
from leadflow.db import sqlalchemy_url
from leadflow.events import REPLY_EVENTS
from leadflow.sim.regret import outreach_regret
from leadflow.tools.crm import CrmStore, EngagementEvent, Lead
from leadflow.tools.crm.schema import OutreachDraftRow
from tests.conftest import database_at

# Prospects who answer the emotional email and hardly any other, in every segment.
STRONG = {"data_driven": -3.0, "emotional": 3.0, "benefit_focused": -3.0}


def env(home: Path) -> dict[str, str | None]:
    return {"LEADFLOW_HOME": str(home), "LEADFLOW_DATABASE_URL": None,
            "LEADFLOW_CHECKPOINT_DB": None, "LEADFLOW_MODEL": None, "COLUMNS": "160"}


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("bandit")
    raw = yaml.safe_load((CONFIG_DIR / "market.yaml").read_text(encoding="utf-8"))
    raw["outreach_styles"] = {segment: dict(STRONG) for segment in raw["outreach_styles"]}
    raw["no_reply_close_days"] = 3  # a no-reply is known sooner: more outcomes in a short run
    (home / "market.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    result = CliRunner().invoke(cli.app, [
        "simulate", "--days", "12", "--leads-per-day", "14", "--drain-days", "10",
        "--seed", "11", "--market", str(home / "market.yaml")], env=env(home))
    assert result.exit_code == 0, result.output
    return home


def open_crm(home: Path) -> CrmStore:
    return CrmStore(f"sqlite:///{home / 'crm.db'}")


def test_every_first_email_is_the_bandits_choice_and_the_outcome_says_why(
        market: Path) -> None:
    crm = open_crm(market)
    try:
        truths = {t["lead_id"]: t["truth"] for t in crm.sim_truth()}
        choices = crm.sent_choices()
        assert len(choices) >= 20
        reasons = Counter(c["chosen_by"] for c in choices.values())
        assert reasons["bandit"] > 0 and set(reasons) <= {"bandit", "exploration"}
        for lead_id, choice in choices.items():
            lead = crm.get_lead(lead_id)
            assert lead is not None
            outcome = lead["outcome"]["outreach"]
            assert outcome["style"] == choice["style"] and outcome["chosen_by"] == choice[
                "chosen_by"] and outcome["judge_pick"] == choice["judge_pick"]
            assert set(outcome["posterior"]) == set(STYLES)
            assert choice["segment"] == lead["record"]["company"]["segment"]
            drafts = crm.drafts_for(lead_id)
            assert [d["style"] for d in drafts if d["chosen"]] == [choice["style"]]
            [judged] = [d for d in drafts if d["judge_reasons"]]
            assert judged["style"] == choice["judge_pick"]
            if truths[lead_id].get("outreach_style"):  # the simulated prospect read it
                assert truths[lead_id]["outreach_style"] == choice["style"]
            # a resumed step keeps the stored choice, whatever the counts say now
            again = choose_sent_draft({"lead_id": lead_id, "lead": lead["record"]},
                                      {"chosen": "data_driven"}, crm, BanditSettings())
            assert again["choice"] == choice
    finally:
        crm.close()


def test_rewards_reach_the_running_counts_as_events_are_recorded(market: Path) -> None:
    crm = open_crm(market)
    try:
        expected: Counter[tuple[str, str, str]] = Counter()
        for lead_id, choice in crm.sent_choices().items():
            key = (choice["segment"], choice["style"])
            expected[(*key, "sent")] += 1
            events = {e["event_type"] for e in crm.events_for(lead_id)}
            if events & set(REPLY_EVENTS):
                expected[(*key, "replies")] += 1
            elif "closed_lost" in events:
                expected[(*key, "no_replies")] += 1
        counted: Counter[tuple[str, str, str]] = Counter()
        for row in crm.style_count_rows():
            for column in ("sent", "replies", "no_replies"):
                counted[(row["segment"], row["style"], column)] += row[column]
        assert +counted == +expected
        assert sum(v for k, v in expected.items() if k[2] == "replies") >= 5
    finally:
        crm.close()


def test_the_bandit_learns_the_strong_style_and_the_report_shows_it(market: Path) -> None:
    result = CliRunner().invoke(cli.app, ["report", "outreach", "--json"],
                                env={**env(market),
                                     "LEADFLOW_DATABASE_URL": f"sqlite:///{market / 'crm.db'}"})
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    learned = [seg for seg, arms in report["posteriors"].items()
               if arms["emotional"]["n"] >= 3]
    assert learned, report["posteriors"]
    for segment in learned:
        arms = report["posteriors"][segment]
        assert arms["emotional"]["mean"] == max(a["mean"] for a in arms.values()), arms
        assert arms["emotional"]["low"] < arms["emotional"]["mean"] < arms["emotional"]["high"]
    weeks = report["traffic"]
    assert len(weeks) >= 2 and sum(w["sent"] for w in weeks) == sum(
        arm["sent"] for arms in report["posteriors"].values() for arm in arms.values())
    assert weeks[-1]["share"]["emotional"] > weeks[0]["share"]["emotional"]  # traffic moved
    table = CliRunner().invoke(cli.app, ["report", "outreach"], env={
        **env(market), "LEADFLOW_DATABASE_URL": f"sqlite:///{market / 'crm.db'}"})
    assert table.exit_code == 0 and "90% interval" in table.stdout and weeks[0]["week"] in \
        table.stdout
    crm = open_crm(market)
    try:
        regret = outreach_regret(crm.sim_truth(), crm.sent_choices())
    finally:
        crm.close()
    assert regret.leads >= 10
    assert regret.total["bandit"] < regret.total["uniform"]


# ------------------------------------------------------------------- migration 0011

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # a Tuesday of ISO week 45


@pytest.fixture
def at_0010(backend: str, tmp_path: Path) -> Iterator[str]:
    """A CRM at revision 0010 (before the outreach counts), dropped afterwards."""
    yield from database_at(backend, tmp_path, "0010")


@pytest.mark.db_backends
def test_migration_0011_counts_the_history_once(at_0010: str) -> None:
    engine = create_engine(sqlalchemy_url(at_0010))
    sent = {"L-1": ("smb", "emotional", "meeting_booked"), "L-2": ("smb", "emotional", None),
            "L-3": ("enterprise", "data_driven", "contacted"), "L-4": ("smb", "emotional", None)}
    with engine.begin() as conn:
        for lead_id, (segment, style, engagement) in sent.items():
            conn.execute(insert(Lead).values(id=lead_id, record={"company": {
                "segment": segment}}, ingested_at=T0, updated_at=T0))
            for other in STYLES:
                conn.execute(insert(OutreachDraftRow.__table__).values(
                    lead_id=lead_id, style=other, subject="s", body="b", written_by="rules",
                    chosen=other == style, engagement=engagement if other == style else None,
                    created_at=T0))
        for lead_id in ("L-2", "L-3"):  # lost without a reply; L-4 is still in flight
            conn.execute(insert(EngagementEvent).values(
                dedupe_key=f"{lead_id}:closed_lost", lead_id=lead_id,
                event_type="closed_lost", occurred_at=T0))
    engine.dispose()
    crm = CrmStore(at_0010)  # migrates to the head
    try:
        assert crm.migrated_from == "0010"
        rows = {(r["segment"], r["style"], r["week"]): (r["sent"], r["replies"], r["no_replies"])
                for r in crm.style_count_rows()}
        assert rows == {("smb", "emotional", "2026-W45"): (3, 1, 1),
                        ("enterprise", "data_driven", "2026-W45"): (1, 0, 1)}
        assert crm.style_counts("smb") == {"emotional": (1, 1)}
        assert crm.sent_choice("L-1") == {"style": "emotional", "chosen_by": "judge",
                                          "judge_pick": "emotional", "segment": "smb",
                                          "counted_by_migration": True}
        crm.credit_outreach("L-4", "replied", {"replied": 2})  # in flight: counted now
        crm.credit_outreach("L-1", "closed_won", {"closed_won": 4})  # rewarded already
        assert crm.style_counts("smb") == {"emotional": (2, 1)}
    finally:
        crm.close()
