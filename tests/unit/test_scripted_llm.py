"""The scripted LLM server the reliability suite and the benchmarks rely on: concurrent
requests overlap their delays, failures are the seeded share and kinds, and every leadflow
tool gets arguments its schema accepts."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from leadflow.agents.capture import ExtractedLead
from leadflow.agents.enrichment import EnrichmentSummary
from leadflow.agents.outreach import JudgeVerdict, OutreachDraft
from leadflow.agents.qualification import BantProposal
from leadflow.agents.routing import RoutingReview
from tests.scripted_llm import FAILURE_KINDS, ScriptedLLM


def body(tool: str, lead: str, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"model": "scripted", "tools": [{"type": "function", "function": {"name": tool}}],
            "messages": [{"role": "system", "content": "Call the tool."},
                         {"role": "user", "content": f"<lead_data>\n{lead}\n</lead_data>"},
                         *(extra or [])]}


def post(client: httpx.Client, llm: ScriptedLLM, payload: dict[str, Any]) -> httpx.Response:
    return client.post(f"{llm.url}/chat/completions", json=payload, timeout=10)


def test_delays_overlap_instead_of_queueing() -> None:
    """Counted by the server (requests inside it at once), not by the wall clock, which a
    busy machine stretches: 20 requests sent together, each held 1 s, are mostly inside
    together unless the server queues them (then the peak would be 1)."""
    with ScriptedLLM(delay_ms=1000) as llm, httpx.Client() as client, \
            ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda n: post(client, llm, body(
            "EnrichmentSummary", f"lead {n}")), range(20)))
        stats = client.get(f"{llm.url}/stats").json()
    assert [r.status_code for r in replies] == [200] * 20
    assert stats["calls"] == 20 and stats["peak_concurrency"] >= 10


@pytest.mark.parametrize("schema", [BantProposal, EnrichmentSummary, RoutingReview,
                                    OutreachDraft, JudgeVerdict, ExtractedLead])
def test_every_tool_gets_arguments_its_schema_accepts(schema: type[BaseModel]) -> None:
    with ScriptedLLM(delay_ms=0) as llm, httpx.Client() as client:
        reply = post(client, llm, body(schema.__name__,
                                       "Ana Costa (ana@acme.io): we need it this month."))
    call = reply.json()["choices"][0]["message"]["tool_calls"][0]["function"]
    assert call["name"] == schema.__name__
    schema.model_validate(json.loads(call["arguments"]))


def test_failures_are_seeded_shares_of_every_kind() -> None:
    def run(seed: int) -> tuple[list[int], dict[str, Any]]:
        with ScriptedLLM(delay_ms=0, failure_rate=0.4, seed=seed, slow_ms=5,
                         retry_after_ms=7) as llm, httpx.Client() as client:
            codes = []
            for n in range(400):
                reply = post(client, llm, body("EnrichmentSummary", f"lead {n}"))
                codes.append(reply.status_code)
                if reply.status_code == 429:
                    assert reply.headers["retry-after-ms"] == "7"
                if reply.status_code == 200:
                    args = reply.json()["choices"][0]["message"]["tool_calls"][0]
                    try:
                        json.loads(args["function"]["arguments"])
                        codes[-1] = 200
                    except json.JSONDecodeError:
                        codes[-1] = -1  # malformed tool-call JSON
            return codes, llm.stats()

    codes, stats = run(seed=3)
    again, _ = run(seed=3)
    other, _ = run(seed=4)
    assert codes == again != other  # the seed, not the timing, decides
    assert 0.33 < stats["failure_fraction"] < 0.47
    assert {k: n > 0 for k, n in stats["by_kind"].items()} == dict.fromkeys(
        ("ok", *FAILURE_KINDS), True)
    assert codes.count(500) == stats["by_kind"]["http_500"]
    assert codes.count(429) == stats["by_kind"]["http_429"]
    assert codes.count(-1) == stats["by_kind"]["malformed"]
    assert codes.count(504) == stats["by_kind"]["slow"]  # answered late, as a gateway would


def test_an_ask_fails_for_good_only_when_its_last_reply_failed() -> None:
    with ScriptedLLM(delay_ms=0, failure_rate=1.0, kinds=("http_500",),
                     lead_pattern=r"Ref (\w+)") as llm, httpx.Client() as client:
        post(client, llm, body("BantProposal", "Ref L1"))
        post(client, llm, body("BantProposal", "Ref L1"))  # the client's retry: same ask
        llm.failure_rate = 0.0
        post(client, llm, body("BantProposal", "Ref L2"))
        # a repair turn continues L2's ask
        post(client, llm, body("BantProposal", "Ref L2", [{"role": "user", "content": "fix"}]))
        stats = llm.stats()
    assert (stats["asks"], stats["failed_asks"], stats["failed_ask_leads"]) == (2, 1, ["L1"])
    assert stats["calls"] == 4
