"""A small, fully known CRM for the dashboard tests: real leads through the real graph (every
tier, a capture failure, a duplicate, a routing error, an enrichment timeout), then
engagement events and a follow-up sweep on a frozen timeline."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from leadflow.followup import Wake, sweep, wake_lead
from leadflow.graph import build_graph
from leadflow.toolbox import Toolbox
from tests.agent_fakes import BrokenAgent, SlowAgent, with_timeouts
from tests.conftest import START, OpenCheckpoints, RunItems, form_item

# When the snapshot is taken: 30 h after the leads arrived (the warm lead's 24 h SLA is over).
NOW = START + timedelta(hours=30)


def person(item_id: str, email: str, company: str, title: str, **more: str) -> dict[str, Any]:
    first, _, last = email.split("@")[0].partition(".")
    return form_item(item_id, **{"Work Email": email, "Company": company, "Job Title": title,
                                 "First Name": first.title(), "Last Name": last.title(), **more})


ITEMS = [
    form_item("H-1"),  # hot, Lumen Health Partners
    person("H-2", "omar.haddad@kestrelfreight.com", "Kestrel Freight", "Chief Operating Officer"),
    person("W-1", "grace.kim@brightpathlearning.com", "Brightpath Learning", "Director of IT",
           message="We want to improve our reporting. Looking at options for next quarter, "
                   "budget not yet allocated."),
    person("C-1", "li.wei@northwind-analytics.com", "Northwind Analytics", "Sales Manager",
           message="Interested in a demo, maybe within 6 months."),
    person("U-1", "kid.coder@pixelharbor.io", "Pixel Harbor", "Intern",
           message="student homework, no budget"),
    form_item("M-1", **{"Work Email": None}),  # no usable contact: capture fails
    form_item("D-1"),  # the same email as H-1: merged into its thread, re-qualified there
]
ROUTING_FAILS = person("E-1", "eva.stone@harborlinehealth.com", "Harborline Health",
                       "VP of Operations")
ENRICHMENT_TIMES_OUT = person("T-1", "tom.reed@quillmetrics.com", "Quill Metrics",
                              "Head of Data")


@dataclass
class Story:
    by_source: dict[str, dict[str, Any]]  # outcome record per source id, as first run

    def lead(self, source_id: str) -> str:
        return str(self.by_source[source_id]["lead_id"])

    def rep(self, source_id: str) -> str:
        return str(self.by_source[source_id]["assignment"]["rep_id"])


def fill_crm(run_items: RunItems, tools: Toolbox, checkpoints: OpenCheckpoints,
             tmp_path: Path) -> Story:
    outcomes = run_items(ITEMS)
    outcomes += run_items([ROUTING_FAILS], agents={"routing": BrokenAgent("routing")})
    outcomes += run_items([ENRICHMENT_TIMES_OUT], agents={"enrichment": SlowAgent()},
                          workflow=with_timeouts(tmp_path, enrichment="50ms"))
    story = Story({o["source_id"]: o for o in outcomes})

    def at(minutes: float) -> str:
        return (START + timedelta(minutes=minutes)).isoformat()

    async def engage() -> None:
        async with checkpoints() as saver:
            graph = build_graph(saver, toolbox=tools)
            h1, h2 = story.lead("H-1"), story.lead("H-2")
            await wake_lead(graph, h1, Wake(event="contacted", at=at(20)))  # within 1 h
            await wake_lead(graph, h1, Wake(event="meeting_booked", at=at(120)))
            await wake_lead(graph, h2, Wake(event="contacted", at=at(90)))  # 30 min late
            await sweep(graph, tools, START + timedelta(hours=25))  # escalates W-1 (warm)
            await wake_lead(graph, h1, Wake(event="closed_won", at=at(26 * 60)))

    asyncio.run(engage())
    return story
