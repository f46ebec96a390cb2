"""The replay itself: the window's stored items through the real compiled graph, built with
the changed configuration, into a scratch CRM that starts as the live one was when the window
opened; the live CRM and checkpoints are only read.

Each lead arrives at its original moment (the toolbox's clock is the simulator's `SimClock`,
moved to every moment), and the live history after routing — closed leads, reassignments,
reviews and their decisions — is re-enacted at its moments between the arrivals, so the reps'
loads and the account owners routing sees are the ones it saw. The replay stops after routing:
the follow-up step is replaced by `StopAfterRouting` (no drafts, no SLA clock, no LLM call),
and the lead then waits for engagement as any routed lead does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from leadflow.agents.base import StepOutput
from leadflow.checkpoint import open_checkpointer
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.db import is_postgres
from leadflow.identity import thread_config
from leadflow.review import ReviewDecision, decide_review
from leadflow.runtime import Runtime, open_runtime
from leadflow.settings import Settings
from leadflow.sim.run import SimClock
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox, shared_kb
from leadflow.tools.crm import CrmStore
from leadflow.tools.notifier import Notifier
from leadflow.tools.reps import RepDirectory
from leadflow.whatif.config import ReplayConfig
from leadflow.whatif.history import (
    Happening,
    LiveHistory,
    Placement,
    placements,
    read_history,
    read_only_engine,
    write_state,
)

STOP_NOTE = "what-if replay: stopped after routing (no drafts, no SLA clock)"


class StopAfterRouting:
    """The follow-up step of a replay: routing's decision is what a replay compares, and
    drafting would only cost time (and, with an LLM model, calls)."""

    step: ClassVar[str] = "followup"

    async def run(self, state: LeadState, tools: Toolbox,
                  run: LeadflowContext = DEFAULT_RUN) -> StepOutput:
        return StepOutput("success", decision="replay_stopped", notes=STOP_NOTE)


@dataclass
class Replay:
    """Both sides of every replayed lead, and what the replay could not do."""

    history: LiveHistory
    config: ReplayConfig
    before: dict[str, Placement]
    after: dict[str, Placement]
    seconds: float
    model: str
    missing_items: list[str] = field(default_factory=list)  # no stored item to replay
    errors: list[str] = field(default_factory=list)  # replays that ended in an error
    reviews: int = 0  # live review decisions re-enacted


@asynccontextmanager
async def live_checkpoints(settings: Settings) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The live checkpoints, to read the stored items from: a SQLite file opened read-only,
    or the PostgreSQL saver (whose set-up finds its tables already there)."""
    if is_postgres(settings.database_url):
        async with open_checkpointer(settings) as saver:
            yield saver
        return
    path = settings.checkpoint_path.resolve()
    if not path.exists():
        raise ValueError(f"no checkpoint file at {path}: the stored items are there")
    conn = await aiosqlite.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield AsyncSqliteSaver(conn)
    finally:
        await conn.close()


async def stored_threads(settings: Settings,
                         lead_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each lead's latest thread values (its input `item`, its steps), by lead id."""
    out: dict[str, dict[str, Any]] = {}
    async with live_checkpoints(settings) as saver:
        for lead_id in lead_ids:
            found = await saver.aget_tuple(thread_config(lead_id))
            if found is not None:
                out[lead_id] = dict(found.checkpoint.get("channel_values") or {})
    return out


def review_decision(values: dict[str, Any], live: Placement | None) -> ReviewDecision | None:
    """The live reviewer's last decision on this lead, to re-enact (None: no human step)."""
    human = [s for s in values.get("steps") or [] if s.get("decided_by") == "human"]
    if not human or live is None:
        return None
    action = str(human[-1].get("decision"))
    note = f"what-if replay of: {human[-1].get('notes') or action}"[:5000]
    if action == "set_tier" and live.tier:
        return ReviewDecision(action="set_tier", tier=live.tier,  # type: ignore[arg-type]
                              reviewer="whatif", note=note)
    if action == "assign" and live.rep_id:
        return ReviewDecision(action="assign", rep_id=live.rep_id, reviewer="whatif",
                              note=note)
    if action in ("approve", "reject"):
        return ReviewDecision(action=action, reviewer="whatif",  # type: ignore[arg-type]
                              note=note)
    return None


def scratch_settings(settings: Settings, directory: Path) -> Settings:
    """A SQLite CRM and checkpoint file of the replay's own, the run's other settings kept."""
    return replace(Settings.local(directory, settings.model), kb_dir=settings.kb_dir,
                   timeout_scale=settings.timeout_scale)


async def run_replay(settings: Settings, config: ReplayConfig, days: float,
                     scratch: Path) -> Replay | None:
    """Replay the last `days` of leads with `config` into a scratch CRM under `scratch` (an
    empty directory the caller removes); None when the CRM holds no leads."""
    started = time.perf_counter()
    live = read_only_engine(settings.database_url)
    try:
        history = await asyncio.to_thread(read_history, live, days)
        if history is None:
            return None
        ids = [lead_id for lead_id, _ in history.window]
        before = await asyncio.to_thread(placements, live, ids)
    finally:
        live.dispose()
    threads = await stored_threads(settings, ids)
    local = scratch_settings(settings, scratch)
    crm = await asyncio.to_thread(CrmStore, local.database_url)
    try:
        await asyncio.to_thread(write_state, crm.engine, history.state_tables)
        clock = SimClock(history.start)
        reps = RepDirectory(config.reps)
        tools = Toolbox(crm=crm, kb=shared_kb(local.kb_dir), reps=reps,
                        notifier=Notifier(crm, reps), icp=config.icp, clock=clock)
        result = Replay(history, config, before, {}, 0.0, settings.model)
        async with open_runtime(local, context={"prompt_version": config.prompt_version},
                                tools=tools, workflow=config.workflow,
                                agents={"followup": StopAfterRouting()}) as runtime:
            for happening in history.happenings:
                clock.set(happening.at)
                await _enact(runtime, happening, threads, before, result)
        result.after = await asyncio.to_thread(placements, crm.engine, ids)
    finally:
        crm.close()
    result.seconds = time.perf_counter() - started
    return result


async def _enact(rt: Runtime, happening: Happening, threads: dict[str, dict[str, Any]],
                 before: dict[str, Placement], result: Replay) -> None:
    """One live moment, in the scratch CRM."""
    crm, lead_id, at = rt.tools.crm, happening.lead_id, happening.at
    if happening.kind == "arrive":
        item = (threads.get(lead_id) or {}).get("item")
        if not item:
            result.missing_items.append(lead_id)
            return
        _outcome, how = await rt.runner.process(item)
        if how == "error":
            result.errors.append(lead_id)
    elif happening.kind == "close":
        await asyncio.to_thread(crm.close_assignment, lead_id)
    elif happening.kind == "reassign":
        if await asyncio.to_thread(crm.get_assignment, lead_id) is not None:
            await asyncio.to_thread(crm.reassign, lead_id, happening.values["rep_id"], at,
                                    happening.values["reason"])
    elif happening.kind == "assign":
        await asyncio.to_thread(lambda: crm.assign(lead_id=lead_id, now=at, **happening.values))
    elif happening.kind == "review":
        decision = review_decision(threads.get(lead_id) or {}, before.get(lead_id))
        if decision is None:
            return
        try:
            await decide_review(rt.graph, rt.tools, lead_id, decision, rt.context)
        except ValueError:
            return  # not paused for review in the replay: the changed rules did not ask
        result.reviews += 1
