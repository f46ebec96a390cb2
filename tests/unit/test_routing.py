"""leadflow.agents.routing: eligibility rules, specialty, load ratio, tie-breaks, manager
escalation, account owners, queues and idempotent replay (SPEC §4.4), on a real CRM (SQLite
and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadflow.agents.routing import RepCandidate, RoutingAgent, RoutingDecision, choose_rep
from leadflow.clock import FrozenClock
from leadflow.config import RepDirectoryConfig
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Assignment, QueueItem, RepStats
from leadflow.tools.notifier import Notifier
from leadflow.tools.reps import RepDirectory

pytestmark = pytest.mark.db_backends  # the CRM side: assignments, rep loads, owners, queues

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # = tests/conftest.py START
MANAGERS = {
    "NA": {"id": "mgr-na", "name": "Dana Whitfield", "email": "dana@leadflow.example"},
    "EMEA": {"id": "mgr-emea", "name": "Ingrid Halvorsen", "email": "ingrid@leadflow.example"},
    "unassigned": {"id": "mgr-ops", "name": "Morgan Ellis", "email": "salesops@leadflow.example"},
}
AUDIENCES = {"operations": "ops@leadflow.example", "marketing": "marketing@leadflow.example",
             "nurture": "nurture@leadflow.example"}


def rep(rep_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": rep_id, "name": f"Rep {rep_id}", "email": f"{rep_id}@leadflow.example",
            "region": "NA", "segments": ["mid_market"], "industries": [], "capacity": 10,
            **fields}


def use_reps(tools: Toolbox, *reps: dict[str, Any]) -> None:
    config = RepDirectoryConfig.model_validate(
        {"managers": MANAGERS, "reps": list(reps), "audiences": AUDIENCES})
    tools.reps = RepDirectory(config)
    tools.notifier = Notifier(tools.crm, tools.reps)


def make_lead(**company: Any) -> dict[str, Any]:
    return {
        "contact": {"first_name": "Priya", "last_name": "Nair", "email": "priya@acme.example",
                    "title": "CTO", "seniority": "c_level"},
        "company": {"name": "Acme Robotics", "domain": "acme.example", "region": "NA",
                    "segment": "mid_market", "industry": "software", **company},
    }


def add_lead(tools: Toolbox, lead_id: str, domain: str | None = None) -> int | None:
    """A CRM lead row (assignments reference leads); returns its account id."""
    company = {"name": f"Company {domain}", "domain": domain} if domain else {}
    write = tools.crm.capture_lead(
        lead_id=lead_id, record={"contact": {"email": f"{lead_id.lower()}@buyer.example"},
                                 "company": company, "source": {"channel": "web_form"}},
        fingerprint=f"fp-{lead_id}", source_id=lead_id, now=NOW)
    return write.account_id


def give_load(tools: Toolbox, rep_id: str, count: int, at: datetime = NOW) -> None:
    """`count` open assignments for the rep, the last one at `at`."""
    for n in range(count):
        lead_id = f"LOAD-{rep_id}-{n}"
        add_lead(tools, lead_id)
        tools.crm.assign(lead_id=lead_id, rep_id=rep_id, kind="rep", region="NA",
                         segment="mid_market", reason="seed", audit={},
                         now=at - timedelta(minutes=count - 1 - n),
                         speed_to_lead_seconds=None, account_id=None)


def by_id(decision: RoutingDecision) -> dict[str, RepCandidate]:
    return {c.rep_id: c for c in decision.candidates}


# ------------------------------------------------------------------------ eligibility


def test_each_exclusion_rule_is_named(tools: Toolbox) -> None:
    use_reps(
        tools,
        rep("r-emea", region="EMEA"),
        rep("r-smb", segments=["smb"]),
        rep("r-inactive", active=False),
        rep("r-ooo", out_of_office={"from": "2026-11-20", "until": "2026-11-30"}),
        rep("r-full", capacity=2),
        rep("r-ok", capacity=50),
    )
    give_load(tools, "r-full", 2)
    give_load(tools, "r-ok", 5)  # busier in absolute terms than everyone excluded
    decision = choose_rep(make_lead(), tools, NOW, None)
    assert (decision.kind, decision.rep_id, decision.rule) == ("rep", "r-ok", "lowest_load")
    excluded = {rep_id: c.excluded_by for rep_id, c in by_id(decision).items()}
    assert excluded == {
        "r-emea": "region EMEA != NA",
        "r-smb": "segment mid_market not covered",
        "r-inactive": "inactive",
        "r-ooo": "out of office until 2026-11-30",
        "r-full": "at capacity (2/2)",
        "r-ok": None,
    }
    assert by_id(decision)["r-full"].open_leads == 2
    assert by_id(decision)["r-ok"].load_ratio == 0.1


@pytest.mark.parametrize(
    ("day", "away"),
    [("2026-11-19", False), ("2026-11-20", True), ("2026-11-24", True), ("2026-11-30", True),
     ("2026-12-01", False)],
)
def test_out_of_office_window_is_inclusive(tools: Toolbox, day: str, away: bool) -> None:
    use_reps(tools, rep("r-ooo", out_of_office={"from": "2026-11-20", "until": "2026-11-30"}),
             rep("r-backup"))
    give_load(tools, "r-backup", 3)  # r-ooo would win on load whenever it is in
    tools.clock = FrozenClock(datetime.fromisoformat(f"{day}T23:30:00+00:00"))
    decision = choose_rep(make_lead(), tools, tools.clock.now(), None)
    assert decision.rep_id == ("r-backup" if away else "r-ooo")
    assert (by_id(decision)["r-ooo"].excluded_by is not None) is away


def test_unknown_segment_is_routed_as_smb(tools: Toolbox) -> None:
    use_reps(tools, rep("r-mid"), rep("r-smb", segments=["smb"]))
    decision = choose_rep(make_lead(segment="unknown"), tools, NOW, None)
    assert decision.rep_id == "r-smb"
    assert by_id(decision)["r-mid"].excluded_by == "segment smb not covered"


# ------------------------------------------------------------------------- preference


def test_industry_specialist_beats_a_less_loaded_generalist(tools: Toolbox) -> None:
    use_reps(tools, rep("r-generalist"), rep("r-specialist", industries=["software"]))
    give_load(tools, "r-specialist", 5)
    decision = choose_rep(make_lead(industry="software"), tools, NOW, None)
    assert decision.rep_id == "r-specialist"
    assert decision.rule == "specialty_then_load"
    assert "software specialist" in decision.reason
    assert by_id(decision)["r-specialist"].specialty_match
    assert not by_id(decision)["r-generalist"].specialty_match
    # other industry: no specialist, so the load decides
    other = choose_rep(make_lead(industry="healthcare"), tools, NOW, None)
    assert (other.rep_id, other.rule) == ("r-generalist", "lowest_load")


def test_an_ineligible_specialist_does_not_block_the_generalist(tools: Toolbox) -> None:
    use_reps(tools, rep("r-generalist"), rep("r-specialist", industries=["software"], capacity=1))
    give_load(tools, "r-specialist", 1)
    decision = choose_rep(make_lead(industry="software"), tools, NOW, None)
    assert (decision.rep_id, decision.rule) == ("r-generalist", "lowest_load")


def test_lowest_load_ratio_wins_not_lowest_count(tools: Toolbox) -> None:
    use_reps(tools, rep("r-big", capacity=20), rep("r-small", capacity=5))
    give_load(tools, "r-big", 4)  # 4/20 = 0.2
    give_load(tools, "r-small", 2)  # 2/5 = 0.4
    decision = choose_rep(make_lead(), tools, NOW, None)
    assert decision.rep_id == "r-big"
    assert by_id(decision)["r-big"].load_ratio == 0.2
    assert by_id(decision)["r-small"].load_ratio == 0.4
    assert "load 4/20" in decision.reason


@pytest.mark.parametrize("earlier", ["r-a", "r-b"])
def test_ties_go_to_the_least_recently_assigned(tools: Toolbox, earlier: str) -> None:
    use_reps(tools, rep("r-a"), rep("r-b"))
    later = "r-b" if earlier == "r-a" else "r-a"
    give_load(tools, earlier, 1, at=NOW - timedelta(hours=3))
    give_load(tools, later, 1, at=NOW - timedelta(minutes=5))
    decision = choose_rep(make_lead(), tools, NOW, None)
    assert decision.rep_id == earlier
    assert by_id(decision)[earlier].load_ratio == by_id(decision)[later].load_ratio


def test_a_team_with_room_routes_as_the_team_would(tools: Toolbox) -> None:
    """The evals' team (RepDirectory.with_room_for): one factor on every capacity keeps the
    order of the load ratios, so the same rep wins."""
    use_reps(tools, rep("r-big", capacity=20), rep("r-small", capacity=5))
    give_load(tools, "r-big", 4)
    give_load(tools, "r-small", 2)
    real = tools.reps
    roomy = real.with_room_for(300)
    assert [r.capacity for r in roomy.reps] == [1200, 300]  # factor ceil(300 / 5) = 60
    assert real.with_room_for(5) is real  # the smallest capacity already holds them
    tools.reps = roomy
    assert choose_rep(make_lead(), tools, NOW, None).rep_id == "r-big"


def test_a_team_with_room_never_fills(tools: Toolbox) -> None:
    use_reps(tools, rep("r-big", capacity=20), rep("r-small", capacity=5))
    give_load(tools, "r-big", 20)
    give_load(tools, "r-small", 5)
    assert choose_rep(make_lead(), tools, NOW, None).kind == "manager"  # the real team: full
    tools.reps = tools.reps.with_room_for(300)
    assert choose_rep(make_lead(), tools, NOW, None).kind == "rep"


def test_load_is_read_from_rep_stats(tools: Toolbox) -> None:
    use_reps(tools, rep("r-a"), rep("r-b"))
    give_load(tools, "r-a", 3)
    loads = tools.crm.rep_loads()
    assert loads["r-a"][0] == 3
    assert loads["r-a"][1] == NOW
    assert "r-b" not in loads
    assert tools.crm.count(RepStats) == 1


# ------------------------------------------------------------------------- escalation


def test_no_eligible_rep_escalates_to_the_region_manager(tools: Toolbox) -> None:
    use_reps(tools, rep("r-emea", region="EMEA"), rep("r-inactive", active=False))
    decision = choose_rep(make_lead(), tools, NOW, None)
    assert decision.kind == "manager"
    assert decision.rep_id == "mgr-na"
    assert decision.rule == "no_eligible_rep"
    assert "Dana Whitfield" in decision.reason
    assert all(c.excluded_by for c in decision.candidates)
    assert len(decision.candidates) == 2


@pytest.mark.parametrize("region", ["unassigned", None, "LATAM"])
def test_unknown_or_unmanaged_region_goes_to_the_unassigned_manager(tools: Toolbox,
                                                                    region: str | None) -> None:
    use_reps(tools, rep("r-na"))
    decision = choose_rep(make_lead(region=region), tools, NOW, None)
    assert (decision.kind, decision.rep_id) == ("manager", "mgr-ops")
    assert by_id(decision)["r-na"].excluded_by is not None
    assert by_id(decision)["r-na"].excluded_by.startswith("region NA != ")  # type: ignore[union-attr]


# ---------------------------------------------------------------------- account owner


def test_available_account_owner_comes_first(tools: Toolbox) -> None:
    # the owner covers another segment and is busier: ownership still wins
    use_reps(tools, rep("r-free"), rep("r-owner", segments=["enterprise"]))
    give_load(tools, "r-owner", 6)
    decision = choose_rep(make_lead(), tools, NOW, "r-owner")
    assert (decision.kind, decision.rep_id, decision.rule) == ("rep", "r-owner", "account_owner")
    assert "Rep r-owner" in decision.reason


@pytest.mark.parametrize(
    "owner_fields",
    [{"out_of_office": {"from": "2026-11-23", "until": "2026-12-04"}}, {"active": False},
     {"capacity": 1}],
    ids=["out_of_office", "inactive", "at_capacity"],
)
def test_unavailable_account_owner_is_skipped_with_a_note(tools: Toolbox,
                                                          owner_fields: dict[str, Any]) -> None:
    use_reps(tools, rep("r-owner", **owner_fields), rep("r-free"))
    give_load(tools, "r-owner", 1)
    decision = choose_rep(make_lead(), tools, NOW, "r-owner")
    assert (decision.kind, decision.rep_id) == ("rep", "r-free")
    assert decision.rule != "account_owner"
    assert "account owner r-owner unavailable" in decision.reason


def test_unknown_account_owner_id_is_skipped(tools: Toolbox) -> None:
    use_reps(tools, rep("r-free"))
    decision = choose_rep(make_lead(), tools, NOW, "rep-who-left")
    assert decision.rep_id == "r-free"
    assert "account owner rep-who-left unavailable" in decision.reason


# ------------------------------------------------------------------------ RoutingAgent


def state_for(lead_id: str, tier: str | None, lead: dict[str, Any] | None = None,
              account: dict[str, Any] | None = None) -> LeadState:
    state: LeadState = {"lead_id": lead_id, "workflow_id": lead_id, "lead": lead or make_lead(),
                        "account": account or {}, "ingested_at": "2026-11-24T08:59:00Z"}
    if tier is not None:
        state["bant"] = {"tier": tier, "total": 50}
    return state


@pytest.mark.parametrize(
    ("tier", "queue", "status"),
    [("cold", "nurture", "nurture"), ("unqualified", "marketing", "marketing"),
     (None, "marketing", "marketing")],
)
def test_cold_and_unqualified_go_to_their_queue(tools: Toolbox, tier: str | None, queue: str,
                                                status: str) -> None:
    use_reps(tools, rep("r-a"))
    add_lead(tools, "LEAD-Q")
    out = asyncio.run(RoutingAgent().run(state_for("LEAD-Q", tier), tools))
    assert out.outcome == "success"
    assert out.decision == queue
    assert out.update["status"] == status
    assert out.update["assignment"] is None
    assert [i["lead_id"] for i in tools.crm.queue_items(queue)] == ["LEAD-Q"]
    assert tools.crm.count(QueueItem) == 1
    assert tools.crm.count(Assignment) == 0
    notes = tools.crm.notifications("LEAD-Q")
    assert [(n["audience"], n["recipient"]) for n in notes] == [
        (queue, f"{queue}@leadflow.example")]
    assert "Priya Nair" in notes[0]["body"]


def test_hot_lead_is_assigned_and_the_rep_notified(tools: Toolbox) -> None:
    use_reps(tools, rep("r-a"), rep("r-b"))
    account_id = add_lead(tools, "LEAD-H", domain="acme.example")
    assert account_id is not None
    state = state_for("LEAD-H", "hot", account={"id": account_id, "owner": None})
    out = asyncio.run(RoutingAgent().run(state, tools))
    assert (out.outcome, out.decision, out.update["status"]) == ("success", "rep", "routed")
    assignment = out.update["assignment"]
    assert assignment["rep_id"] == "r-a"
    assert assignment["kind"] == "rep"
    assert (assignment["region"], assignment["segment"]) == ("NA", "mid_market")
    assert assignment["speed_to_lead_seconds"] == 60.0
    assert assignment["audit"]["rule"] == "lowest_load"
    stored = tools.crm.get_assignment("LEAD-H")  # every rep considered, in the CRM's audit
    assert stored is not None and stored["audit"]["rule"] == "lowest_load"
    assert {c["rep_id"] for c in stored["audit"]["candidates"]} == {"r-a", "r-b"}
    assert "candidates" not in assignment["audit"]  # not copied into the lead's state
    notes = tools.crm.notifications("LEAD-H")
    assert [(n["audience"], n["recipient"]) for n in notes] == [("rep", "r-a@leadflow.example")]
    assert notes[0]["subject"] == "New hot lead: Acme Robotics"
    assert tools.crm.account_owner(account_id) == "r-a"  # the account now has an owner


def test_replayed_routing_is_idempotent(tools: Toolbox, clock: FrozenClock) -> None:
    use_reps(tools, rep("r-a"), rep("r-b"))
    add_lead(tools, "LEAD-R")
    first = asyncio.run(RoutingAgent().run(state_for("LEAD-R", "warm"), tools))
    assert first.update["assignment"]["rep_id"] == "r-a"
    # a fresh decision would now pick r-b (r-a carries this lead); the replay must not
    assert choose_rep(make_lead(), tools, clock.now(), None).rep_id == "r-b"
    clock.advance(timedelta(minutes=7))
    second = asyncio.run(RoutingAgent().run(state_for("LEAD-R", "warm"), tools))
    assert second.update == first.update
    assert second.decision == first.decision == "rep"
    assert tools.crm.count(Assignment) == 1
    assert tools.crm.rep_loads()["r-a"][0] == 1
    assert "r-b" not in tools.crm.rep_loads()
    rep_notes = [n for n in tools.crm.notifications("LEAD-R") if n["audience"] == "rep"]
    assert len(rep_notes) == 1


def test_replayed_queue_routing_is_idempotent(tools: Toolbox) -> None:
    use_reps(tools, rep("r-a"))
    add_lead(tools, "LEAD-C")
    for _ in range(2):
        asyncio.run(RoutingAgent().run(state_for("LEAD-C", "cold"), tools))
    assert tools.crm.count(QueueItem) == 1
    assert len(tools.crm.notifications("LEAD-C")) == 1


def test_no_eligible_rep_escalates_and_notifies_the_manager(tools: Toolbox) -> None:
    use_reps(tools, rep("r-emea", region="EMEA"))
    add_lead(tools, "LEAD-M")
    out = asyncio.run(RoutingAgent().run(state_for("LEAD-M", "hot"), tools))
    assert (out.decision, out.update["status"]) == ("manager", "escalated")
    assert "no_eligible_rep" in out.flags
    assert out.update["assignment"]["rep_id"] == "mgr-na"
    assert out.update["assignment"]["kind"] == "manager"
    notes = tools.crm.notifications("LEAD-M")
    assert [(n["audience"], n["recipient"]) for n in notes] == [
        ("sales_manager", "dana@leadflow.example")]


def test_named_account_owner_from_the_directory(tools: Toolbox) -> None:
    use_reps(tools, rep("r-a"), rep("r-named", named_accounts=["ACME.example"],
                                    segments=["enterprise"]))
    add_lead(tools, "LEAD-N")
    out = asyncio.run(RoutingAgent().run(state_for("LEAD-N", "hot"), tools))
    assert out.update["assignment"]["rep_id"] == "r-named"
    assert out.update["assignment"]["audit"]["rule"] == "account_owner"


def test_existing_account_owner_from_the_crm(tools: Toolbox) -> None:
    use_reps(tools, rep("r-a"), rep("r-b"))
    account_id = add_lead(tools, "LEAD-1", domain="acme.example")
    first = asyncio.run(RoutingAgent().run(
        state_for("LEAD-1", "hot", account={"id": account_id, "owner": None}), tools))
    assert first.update["assignment"]["rep_id"] == "r-a"
    # a second lead of the same account goes to its owner, although r-b is now less loaded
    assert add_lead(tools, "LEAD-2", domain="acme.example") == account_id
    second = asyncio.run(RoutingAgent().run(
        state_for("LEAD-2", "hot", account={"id": account_id, "owner": None}), tools))
    assert second.update["assignment"]["rep_id"] == "r-a"
    assert second.update["assignment"]["audit"]["rule"] == "account_owner"
