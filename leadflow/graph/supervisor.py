"""The supervisor: follows workflow.yaml from step to step with `Command`s, writes every
hand-off as a SPEC §5 message (state + CRM log) and settles the lead at the end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command

from leadflow.context import LeadflowContext
from leadflow.graph.messages import (
    AGENT_NAMES,
    SUPERVISOR,
    MessageType,
    lead_reference,
    make_message,
)
from leadflow.graph.nodes import ToolResolver
from leadflow.graph.workflow import END as WF_END
from leadflow.graph.workflow import Workflow
from leadflow.identity import workflow_id_for
from leadflow.llm import model_for, validate_model_name
from leadflow.outcome import outcome_record, persist_outcome, settled_status, stored_outcome
from leadflow.scoring.live import conversion_for, tell_owner_of_move, tier_change_flag
from leadflow.scoring.policy import priority_note
from leadflow.state import LeadState, last_step, merge_flags
from leadflow.toolbox import Toolbox
from leadflow.tools.notifier import Notice, delivery_settings


def make_supervisor(workflow: Workflow, tools_for: ToolResolver) -> Callable[..., Any]:
    deadlines = {name: step.timeout_s for name, step in workflow.steps.items()}

    def message(state: dict[str, Any], tools: Toolbox, *, to_agent: str, kind: MessageType,
                notes: str, deadline_s: float | None, retries: int = 0) -> dict[str, Any]:
        history = state.get("messages") or []
        last = last_step(state)
        from_agent = last["agent"] if last else SUPERVISOR
        tier = (state.get("bant") or {}).get("tier")
        # Stored in the CRM's message log with the lead's outcome (persist_outcome).
        return make_message(
            workflow_id=state["workflow_id"], seq=len(history) + 1, from_agent=from_agent,
            to_agent=to_agent, message_type=kind, lead_data=lead_reference(state),
            processing_notes=notes,
            priority="high" if tier == "hot" or kind == "escalation" else "normal",
            now=tools.clock.now(), deadline_s=deadline_s, retry_count=retries,
            previous_agent=history[-1]["from_agent"] if history else None,
        )

    async def decide(state: dict[str, Any], tools: Toolbox, config: RunnableConfig) -> Command[Any]:
        """Pick the next node; only the CRM writes (failure notice, settling) leave the loop."""
        if not state.get("workflow_id"):
            workflow_id = workflow_id_for(state.get("item"),
                                          (config.get("configurable") or {}).get("thread_id"))
            start = {**state, "workflow_id": workflow_id, "lead_id": workflow_id,
                     "ingested_at": tools.clock.now().isoformat()}
            first = workflow.steps[workflow.start]
            msg = message(start, tools, to_agent=AGENT_NAMES[first.agent], kind="handoff",
                          notes="new inbound item", deadline_s=deadlines[first.name])
            return Command(goto=first.name, update={
                "workflow_id": workflow_id, "lead_id": workflow_id,
                "ingested_at": start["ingested_at"], "messages": [msg],
            })
        touch = state.get("touch")
        if touch and touch["fingerprint"] not in (state.get("touches") or []):
            # A repeat inquiry merged into this lead's thread: the workflow runs again from
            # its start on the combined evidence (leadflow/repeat.py).
            first = workflow.steps[workflow.start]
            msg = message(state, tools, to_agent=AGENT_NAMES[first.agent], kind="handoff",
                          notes=f"repeat inquiry ({touch['workflow_id']}) from this lead",
                          deadline_s=deadlines[first.name])
            return Command(goto=first.name, update={"touches": [touch["fingerprint"]],
                                                    "messages": [msg]})
        result = state["steps"][-1]
        last = result["step"]
        facts = {"tier": (state.get("bant") or {}).get("tier"), "decision": result.get("decision"),
                 "status": state.get("status"), "review": result.get("review"),
                 "failure_kind": result.get("failure_kind")}
        transition = workflow.next_transition(last, result["outcome"], facts)
        flags = [transition.flag] if transition.flag else []
        failed = result["outcome"] == "failure"
        update: dict[str, Any] = {"flags": flags} if flags else {}
        if failed:
            await asyncio.to_thread(
                tools.notifier.send,
                Notice(audience=delivery_settings()["failures"][result.get("failure_kind")
                                                                 or "error"],
                       subject=f"{last} failed for {state['lead_id']}",
                       body=result.get("error") or "step failed"),
                lead_id=state["lead_id"], step=last, now=tools.clock.now())
        notes = result.get("notes") or ""
        if transition.goto in workflow.steps:
            target = workflow.steps[transition.goto]
            if (not failed and workflow.steps[last].agent == "routing"
                    and state.get("assignment")):  # scored once the rep is known, so the
                await score_handoff(tools, {**state, **update}, update)  # follow-up sees it
            update["messages"] = [message(
                state, tools, to_agent=AGENT_NAMES[target.agent],
                kind="error" if failed else "handoff", notes=notes,
                deadline_s=deadlines[target.name], retries=result.get("retries", 0))]
            return Command(goto=target.name, update=update)
        if transition.goto in workflow.actions:
            action = workflow.actions[transition.goto]
            update["messages"] = [message(
                state, tools, to_agent=SUPERVISOR, kind=action.message_type,  # type: ignore[arg-type]
                notes=f"{action.name}: {notes}", deadline_s=action.deadline_s,
                retries=result.get("retries", 0))]
            if action.review:  # the thread then pauses: Studio and the SDK see why it waits
                update.update(status=action.status, status_reason=action.reason_for(result))
            else:  # where the lead goes is decided: the conversion models score it
                await score_handoff(tools, {**state, **update}, update)
            return Command(goto=action.name, update=update)
        assert transition.goto == WF_END
        final = {**state, "flags": merge_flags(state.get("flags"), flags)}
        status, reason = settled_status(final)
        final.update(status=status, status_reason=reason)
        await score_handoff(tools, final, update)
        final.update(update)
        outcome = await asyncio.to_thread(persist_outcome, tools, final)
        update.update(status=status, status_reason=reason, outcome=stored_outcome(outcome))
        return Command(goto=END, update=update)

    async def supervisor(
        state: LeadState, runtime: Runtime[LeadflowContext], config: RunnableConfig
    ) -> Command[Any]:
        if runtime.context is not None and not state.get("workflow_id"):
            for agent in {s.agent for s in workflow.steps.values()}:
                validate_model_name(model_for(agent, runtime.context.model))
        tools = await tools_for(runtime)
        return await decide(dict(state), tools, config)

    return supervisor


async def score_handoff(tools: Toolbox, state: dict[str, Any], update: dict[str, Any]) -> None:
    """Score a lead leaving the agent chain with the conversion models in use (stored; the
    promoted model's score goes into the state, hence the outcome record). Never raises."""
    if state.get("conversion"):
        return  # scored when it was first routed: a re-run keeps that score
    record = outcome_record({**state, "messages": []})
    conversion = await asyncio.to_thread(conversion_for, tools, record,
                                         state.get("lead") or {})
    if conversion is None:
        return
    update["conversion"] = conversion
    # the owner's "New lead" notice, queued by routing a moment ago, carries the priority
    await asyncio.to_thread(tools.crm.amend_unsent_subject, str(state.get("lead_id") or ""),
                            "routing", ("rep", "sales_manager"), priority_note(conversion))
    change = conversion.get("tier_change")
    if change:  # `blend` (icp.yaml scoring.mode): the model moved the tier one step
        update["bant"] = {**(state.get("bant") or {}), "tier": change["to"]}
        update["flags"] = merge_flags(merge_flags(state.get("flags"), update.get("flags")),
                                      [tier_change_flag(change)])
        await asyncio.to_thread(tell_owner_of_move, tools, state, conversion)
