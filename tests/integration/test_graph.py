"""The compiled graph end to end with a real CRM and checkpointer (SQLite and PostgreSQL):
the happy path, every failure/fallback edge of workflow.yaml (SPEC §5–§6), the message
format and dedupe."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from langchain_core.runnables import RunnableConfig

from leadflow.agents.base import StepOutput
from leadflow.agents.routing import RoutingAgent
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.followup import pending_wait
from leadflow.graph import build_graph
from leadflow.identity import thread_config
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Assignment, MessageLog, Notification, QueueItem, SlaClock
from tests.agent_fakes import BrokenAgent, SlowAgent, with_timeouts
from tests.conftest import OpenCheckpoints, RunItems, form_item

pytestmark = pytest.mark.db_backends

AGENTS = ["LeadCapture Pro", "DataEnrichment Specialist", "LeadQualification Expert",
          "LeadRouting Coordinator", "FollowUp Monitor"]


def test_hot_lead_goes_through_all_five_agents_to_a_rep(run_items: RunItems,
                                                         tools: Toolbox) -> None:
    [outcome] = run_items([form_item()])
    assert outcome["status"] == "awaiting_followup"
    assert outcome["trajectory"] == AGENTS
    assert outcome["bant"]["tier"] == "hot"
    assert outcome["company"]["region"] == "NA" and outcome["company"]["segment"] == "enterprise"
    assert outcome["company"]["employees"] == 9500  # filled from the knowledge base
    assert outcome["assignment"]["region"] == "NA"
    rep = tools.reps.get(outcome["assignment"]["rep_id"])
    assert rep is not None and "enterprise" in rep.segments and rep.region == "NA"
    lead_id = outcome["lead_id"]
    assert tools.crm.get_lead(lead_id)["status"] == "awaiting_followup"  # type: ignore[index]
    assert tools.crm.count(SlaClock, lead_id=lead_id) == 1
    sla = tools.crm.get_lead(lead_id)["outcome"]  # type: ignore[index]
    assert sla["status"] == "awaiting_followup"
    notes = tools.crm.notifications(lead_id)
    assert [n["recipient"] for n in notes] == [rep.email]


def test_messages_have_the_exact_spec_shape_and_are_logged(run_items: RunItems,
                                                            tools: Toolbox) -> None:
    [outcome] = run_items([form_item()])
    messages = outcome["messages"]
    assert [(m["from_agent"], m["to_agent"]) for m in messages] == [
        ("Supervisor", "LeadCapture Pro"), *zip(AGENTS, AGENTS[1:], strict=False),
        ("FollowUp Monitor", "Supervisor")]  # the lead now waits for engagement
    assert messages[-1]["message_type"] == "notification"
    for i, msg in enumerate(messages):
        assert set(msg) == {"message_id", "from_agent", "to_agent", "workflow_id",
                            "message_type", "payload", "metadata"}
        assert msg["message_id"].startswith("MSG-")
        assert msg["workflow_id"].startswith("LEAD-")
        assert msg["message_type"] == ("handoff" if i < len(messages) - 1 else "notification")
        assert set(msg["payload"]) == {"lead_data", "processing_notes", "priority", "deadline"}
        assert set(msg["metadata"]) == {"timestamp", "retry_count", "previous_agent"}
        assert msg["metadata"]["previous_agent"] == (messages[i - 1]["from_agent"] if i else None)
        assert msg["payload"]["priority"] in ("normal", "high")
        assert msg["payload"]["deadline"].endswith("Z")
    # deadline = now + the receiving step's timeout from workflow.yaml (enrichment: 10 min)
    assert messages[1]["payload"]["deadline"] == "2026-11-24T09:10:00Z"
    assert tools.crm.messages_for(outcome["lead_id"]) == messages
    assert tools.crm.count(MessageLog) == len(messages)


def test_capture_failure_goes_to_manual_review(run_items: RunItems, tools: Toolbox) -> None:
    [outcome] = run_items([form_item(**{"Work Email": None})])
    assert outcome["status"] == "manual_review"
    assert "no usable contact" in outcome["status_reason"]
    assert outcome["trajectory"] == ["LeadCapture Pro"]
    assert outcome["messages"][-1]["message_type"] == "escalation"
    assert [q["lead_id"] for q in tools.crm.queue_items("manual_review")] == [outcome["lead_id"]]
    assert [n["audience"] for n in tools.crm.notifications()] == ["data_quality", "operations"]


def test_a_reachable_person_without_a_company_is_qualified_not_dropped(
        run_items: RunItems, tools: Toolbox) -> None:
    """SPEC §4.1/§6: no company is a data-quality flag; the lead proceeds with what it has."""
    [outcome] = run_items([{"id": "NC-1", "source": "web_form",
                            "received_at": "2026-11-24T09:00:00Z",
                            "payload": {"your_name": "kevin tran",
                                        "email": "Kevin.Tran88@gmail.com",
                                        "message": "just curious about pricing, side project"}}])
    assert outcome["status"] == "marketing"
    assert outcome["bant"]["tier"] == "unqualified"
    assert outcome["trajectory"] == AGENTS[:4]
    assert {"no_company", "freemail"} <= set(outcome["flags"])
    assert tools.crm.queue_items("manual_review") == []


def test_enrichment_timeout_passes_with_limited_data(run_items: RunItems, tools: Toolbox,
                                                     tmp_path: Path) -> None:
    [outcome] = run_items([form_item()], agents={"enrichment": SlowAgent()},
                          workflow=with_timeouts(tmp_path, enrichment="60ms"))
    assert outcome["trajectory"] == AGENTS  # the lead went on
    assert "limited_data" in outcome["flags"] and "enrichment_timeout" in outcome["flags"]
    error = next(m for m in outcome["messages"] if m["message_type"] == "error")
    assert error["from_agent"] == "DataEnrichment Specialist"
    assert error["to_agent"] == "LeadQualification Expert"
    assert "timed out" in error["payload"]["processing_notes"]
    assert any(n["audience"] == "operations" for n in tools.crm.notifications())


def test_enrichment_error_passes_with_limited_data(run_items: RunItems) -> None:
    [outcome] = run_items([form_item()], agents={"enrichment": BrokenAgent("enrichment")})
    assert outcome["status"] == "awaiting_followup"
    assert {"limited_data", "enrichment_error"} <= set(outcome["flags"])


def test_qualification_failure_marks_unqualified_and_notifies_marketing(
        run_items: RunItems, tools: Toolbox) -> None:
    [outcome] = run_items([form_item()],
                          agents={"qualification": BrokenAgent("qualification")})
    assert outcome["status"] == "marketing"
    assert outcome["bant"]["tier"] == "unqualified"
    assert outcome["trajectory"] == AGENTS[:3]
    assert tools.crm.queue_counts()["marketing"] == 1
    audiences = {n["audience"] for n in tools.crm.notifications()}
    assert {"marketing", "technical"} <= audiences


def test_routing_failure_escalates_to_the_region_manager(run_items: RunItems,
                                                         tools: Toolbox) -> None:
    [outcome] = run_items([form_item()], agents={"routing": BrokenAgent("routing")})
    assert outcome["status"] == "escalated"
    assert outcome["assignment"]["rep_id"] == "mgr-na"
    assert outcome["trajectory"] == AGENTS[:4]
    assert tools.crm.get_assignment(outcome["lead_id"])["kind"] == "manager"  # type: ignore[index]
    assert any(n["recipient"] == "dana.whitfield@leadflow.example"
               for n in tools.crm.notifications())


class Boom(Exception):
    """A step's crash that, unlike built-in exceptions, can be watched through a weakref."""


class EnrichmentRaisesBoom:
    step: ClassVar[str] = "enrichment"

    def __init__(self) -> None:
        self.raised: Callable[[], object] = lambda: None

    async def run(self, state: LeadState, tools: Toolbox,
                  run: LeadflowContext = DEFAULT_RUN) -> StepOutput:
        boom = Boom("enrichment exploded")
        self.raised = weakref.ref(boom)
        raise boom


class RoutingWatchesTheBoom(RoutingAgent):
    def __init__(self, boom: EnrichmentRaisesBoom) -> None:
        super().__init__()
        self.boom, self.boom_alive = boom, []

    async def run(self, state: LeadState, tools: Toolbox,
                  run: LeadflowContext = DEFAULT_RUN) -> StepOutput:
        gc.collect()
        self.boom_alive.append(self.boom.raised() is not None)
        return await super().run(state, tools, run)


def test_a_handled_step_error_lives_as_long_as_its_run(run_items: RunItems,
                                                      checkpoints: OpenCheckpoints) -> None:
    """LangGraph remembers the errors it handed to an error handler by id() for the rest of
    the run: were one freed, a later interrupt could get its id and be swallowed, and the lead
    would stop waiting for follow-up (seen under load: leadflow/graph/handled_errors.py)."""
    enrichment = EnrichmentRaisesBoom()
    routing = RoutingWatchesTheBoom(enrichment)
    [outcome] = run_items([form_item()], agents={"enrichment": enrichment, "routing": routing})
    assert outcome["status"] == "awaiting_followup" and "enrichment_error" in outcome["flags"]
    assert routing.boom_alive == [True]  # still pinned three steps later, mid-run
    gc.collect()
    assert enrichment.raised() is None  # and freed with the run: nothing accumulates

    async def waiting() -> bool:
        async with checkpoints() as saver:
            config: RunnableConfig = thread_config(outcome["lead_id"])
            return pending_wait(await build_graph(saver).aget_state(config)) is not None

    assert asyncio.run(waiting())


def test_followup_failure_leaves_the_lead_routed(run_items: RunItems) -> None:
    [outcome] = run_items([form_item()], agents={"followup": BrokenAgent("followup")})
    assert outcome["status"] == "routed"
    assert "followup_not_scheduled" in outcome["flags"]


def test_cold_and_unqualified_leads_go_to_their_queues(run_items: RunItems,
                                                       tools: Toolbox) -> None:
    cold = form_item("C-1", **{"Work Email": "li.wei@northwind-analytics.com",
                               "Company": "Northwind Analytics", "Job Title": "Sales Manager",
                               "message": "Interested in a demo, maybe within 6 months."})
    junk = form_item("U-1", **{"Work Email": "kid@pixelharbor.io", "Company": "Pixel Harbor",
                               "Job Title": "Intern", "message": "student homework, no budget"})
    by_id = {o["source_id"]: o for o in run_items([cold, junk])}
    assert by_id["C-1"]["bant"]["tier"] == "cold" and by_id["C-1"]["status"] == "nurture"
    assert by_id["U-1"]["bant"]["tier"] == "unqualified"
    assert by_id["U-1"]["status"] == "marketing"
    assert by_id["C-1"]["assignment"] is None and by_id["U-1"]["assignment"] is None
    assert tools.crm.queue_counts()["nurture"] == 1
    assert tools.crm.queue_counts()["marketing"] == 1


def test_same_email_is_one_lead_and_never_routed_twice(run_items: RunItems,
                                                       tools: Toolbox) -> None:
    first = form_item("D-1")
    again = {"id": "D-2", "source": "chat", "payload": [
        {"role": "bot", "text": "Your work email?"},
        {"role": "visitor", "text": "PRIYA.NAIR@LumenHealth.com"},
        {"role": "bot", "text": "Which company are you with?"},
        {"role": "visitor", "text": "Lumen Health"}]}
    one, two = run_items([first, again])
    assert two["lead_id"] == one["lead_id"]
    assert "duplicate" in two["flags"] and two["status"] == one["status"]
    assert "repeat_inquiry" in two["flags"]  # merged into the lead's thread: its rep is told
    assert two["trajectory"][:5] == one["trajectory"]
    assert tools.crm.count(Assignment) == 1
    assert len(tools.crm.list_leads()) == 1


def test_same_company_domain_is_one_account(run_items: RunItems, tools: Toolbox) -> None:
    a = form_item("A-1")
    b = form_item("A-2", **{"Work Email": "sam.ortiz@lumenhealth.com", "First Name": "Sam",
                            "Last Name": "Ortiz"})
    one, two = run_items([a, b])
    assert one["lead_id"] != two["lead_id"]
    leads = {lead["id"]: lead for lead in tools.crm.list_leads()}
    assert leads[one["lead_id"]]["account_id"] == leads[two["lead_id"]]["account_id"]
    # lead-to-account matching: the second lead goes to the account's owner
    assert two["assignment"]["rep_id"] == one["assignment"]["rep_id"]
    assert two["assignment"]["reason"].startswith("account already owned")


def test_a_rerun_of_the_same_items_repeats_nothing(run_items: RunItems, tools: Toolbox) -> None:
    items = [form_item("R-1"), form_item("R-2", **{"Work Email": None})]
    first = run_items(items)
    counts = (tools.crm.count(MessageLog), tools.crm.count(Notification),
              tools.crm.count(QueueItem), tools.crm.count(Assignment))
    second = run_items(items)
    assert second == first
    assert counts == (tools.crm.count(MessageLog), tools.crm.count(Notification),
                      tools.crm.count(QueueItem), tools.crm.count(Assignment))


def test_changing_the_yaml_changes_the_graph(run_items: RunItems, tmp_path: Path) -> None:
    """A transition edited in workflow.yaml (no code change): enrichment failure now goes to
    manual review instead of passing with limited data."""
    spec = yaml.safe_load((Path(__file__).parents[2] / "leadflow/config/workflow.yaml")
                          .read_text())
    spec["steps"]["enrichment"]["on_failure"] = "manual_review"
    spec["steps"]["enrichment"]["timeout"] = "50ms"
    path = tmp_path / "workflow.yaml"
    path.write_text(yaml.safe_dump(spec))
    [outcome] = run_items([form_item()], workflow=path, agents={"enrichment": SlowAgent()})
    assert outcome["status"] == "manual_review"
    assert "enrichment timed out" in outcome["status_reason"]


@pytest.mark.parametrize("item, reason", [
    ({}, "unknown channel"),
    ({"source": "web_form", "payload": {}}, "empty payload"),
    ({"source": "carrier_pigeon", "payload": {"a": 1}}, "unknown channel"),
    ({"source": "chat", "payload": "not a transcript"}, "chat payload must be a list"),
    ({"source": "web_form", "payload": {"message": "x" * 1_000_000}}, "no usable contact"),
    ({"source": "email", "payload": "\x00\x01\x02 binary junk"}, "no usable contact"),
])
def test_bad_input_ends_in_manual_review_with_a_reason(run_items: RunItems, item: Any,
                                                       reason: str) -> None:
    [outcome] = run_items([item])
    assert outcome["status"] == "manual_review"
    assert reason in outcome["status_reason"]


def test_bad_items_do_not_stop_the_batch(run_items: RunItems) -> None:
    outcomes = run_items([{"_error": "line 3 is not JSON", "payload": "{oops"}, form_item()])
    assert [o["status"] for o in outcomes] == ["manual_review", "awaiting_followup"]


def test_concurrent_items_with_the_same_email_make_one_lead(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    """Racing duplicates: the loser's insert hits the unique email key and becomes a
    duplicate of the winner instead of failing."""
    from leadflow.graph import build_graph
    from leadflow.runner import BatchRunner

    items = [form_item(f"RACE-{n}") for n in range(4)]

    async def go() -> list[dict[str, Any]]:
        async with checkpoints() as saver:
            graph = build_graph(saver, toolbox=tools)
            return await BatchRunner(graph, tools).run(items, concurrency=4)

    outcomes = asyncio.run(go())
    assert len({o["lead_id"] for o in outcomes}) == 1
    assert sum("duplicate" in o["flags"] for o in outcomes) == 3
    assert tools.crm.count(Assignment) == 1
    assert len(tools.crm.list_leads()) == 1


def test_exported_graph_runs_with_a_runtime_context(tmp_path: Path) -> None:
    """What langgraph.json serves: no checkpointer baked in, tools from the run's context."""
    from leadflow.graph import graph

    url = f"sqlite:///{tmp_path / 'studio.db'}"
    result = asyncio.run(graph.ainvoke({"item": form_item("STUDIO-1")},
                                       context={"model": "rules", "database_url": url}))
    assert result["status"] == "awaiting_followup"
    [wait] = result["__interrupt__"]  # the lead now waits for engagement events
    assert wait.value["waiting_for"] == "engagement"
    from leadflow.tools.crm import CrmStore
    stored = CrmStore(url).get_lead(result["lead_id"])
    assert stored is not None and stored["status"] == "awaiting_followup"


def test_an_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    from leadflow.graph import graph

    with pytest.raises(ValueError, match="model 'gpt4': expected provider:model"):
        asyncio.run(graph.ainvoke({"item": form_item()}, context={
            "model": "gpt4", "database_url": f"sqlite:///{tmp_path / 'x.db'}"}))


def test_business_rule_conflicts_take_the_safe_default_and_are_reported(
        run_items: RunItems, tools: Toolbox) -> None:
    """SPEC §6: territory vs named-account ownership, and stated size vs the knowledge base.
    The lead goes on with the safest default; sales ops hear; the rules admin gets an item."""
    from sqlalchemy import update

    from leadflow.tools.crm import Account

    abroad = form_item("T-1", **{"Work Email": "jonas@northwind-analytics.com",
                                 "Company": "Northwind Analytics", "Country": "Germany",
                                 "First Name": "Jonas"})
    small = form_item("S-1", **{"Work Email": "ceo@kestrelfreight.com", "Country": "USA",
                                "Company": "Kestrel Freight Systems", "Employees": "50"})
    by_id = {o["source_id"]: o for o in run_items([abroad, small])}
    # the named-account owner (rep-na-01, NA) keeps the German lead of its account
    assert by_id["T-1"]["assignment"]["rep_id"] == "rep-na-01"
    assert "business_rule_conflict" in by_id["T-1"]["flags"]
    assert "conflicting_size_data" in by_id["S-1"]["flags"]
    assert "business_rule_conflict" in by_id["S-1"]["flags"]
    items = {i["lead_id"]: i["reason"] for i in tools.crm.queue_items("rules_review")}
    assert "territory says EMEA" in items[by_id["T-1"]["lead_id"]]
    assert "stated company size" in items[by_id["S-1"]["lead_id"]]
    sales_ops = [n for n in tools.crm.notifications() if n["audience"] == "sales_operations"]
    assert len(sales_ops) == 2

    # the CRM says someone else owns Northwind now: the named owner still wins, reported
    with tools.crm.transaction() as conn:
        conn.execute(update(Account).where(Account.domain == "northwind-analytics.com")
                     .values(owner_rep_id="rep-na-02"))
    again = form_item("T-2", **{"Work Email": "ana@northwind-analytics.com",
                                "Company": "Northwind Analytics", "Country": "USA"})
    [outcome] = run_items([again])
    assert outcome["assignment"]["rep_id"] == "rep-na-01"
    reason = {i["lead_id"]: i["reason"] for i in tools.crm.queue_items("rules_review")}[
        outcome["lead_id"]]
    assert "CRM account owner rep-na-02" in reason


def test_studio_sees_the_graphs_input_output_and_context_schemas() -> None:
    """`langgraph dev` serves these to Studio; on Python 3.11 they need typing_extensions'
    TypedDict, or the input form is empty."""
    from leadflow.graph import graph

    assert "item" in graph.get_input_jsonschema()["properties"]
    assert {"outcome", "status", "bant"} <= set(graph.get_output_jsonschema()["properties"])
    context = graph.get_context_jsonschema()["properties"]
    assert context["model"]["default"] == "rules"  # what a run uses when the form is left alone
    assert context["prompt_version"]["default"] == "v1"
