"""`langgraph dev` (the in-memory Agent Server from langgraph-cli) serves the exported graph
from langgraph.json, offline; driven here through `langgraph_sdk` as Studio and apps do."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from leadflow.tools.crm import CrmStore
from tests.conftest import form_item
from tests.ports import announced

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow
# langgraph dev's banner: the URL it serves on (ANSI-coloured)
BANNER = re.compile(r"API: (?:\x1b\[\d+m)?(http://127\.0\.0\.1:\d+)")




@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The server runs from the project root like a developer's `langgraph dev` (its
    `.langgraph_api/` store is git-ignored there); the CRM goes to a temp LEADFLOW_HOME and
    the log outside the project, so nothing the run writes trips the file watcher."""
    work = tmp_path_factory.mktemp("langgraph-dev")
    home = work / "home"
    # langgraph dev takes no socket and no port 0 (it would call itself :0); it is offered a
    # port the OS picks, moves to another one if that was taken meanwhile, and the URL is
    # read back from its banner, never assumed
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "LEADFLOW_HOME": str(home), "LANGSMITH_TRACING": "false",
           "LANGGRAPH_CLI_NO_ANALYTICS": "1", "LEADFLOW_MODEL": "rules"}
    env.pop("LEADFLOW_DATABASE_URL", None)
    log = (work / "langgraph-dev.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "langgraph"), "dev", "--no-browser", "--no-reload", "--host", "127.0.0.1",
         "--port", str(port), "--config", str(ROOT / "langgraph.json")],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = announced(proc, work / "langgraph-dev.log", BANNER, timeout_s=90).group(1)
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                tail = (work / "langgraph-dev.log").read_text()[-3000:]
                raise RuntimeError(f"langgraph dev exited: {tail}")
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"langgraph dev did not answer on {url}, the URL it announced")
            time.sleep(0.5)
        yield url, home
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_the_exported_graph_is_served(dev_server: tuple[str, Path]) -> None:
    from langgraph_sdk import get_client

    url, _home = dev_server

    async def go() -> list[dict[str, Any]]:
        client = get_client(url=url)
        return await client.assistants.search(graph_id="leadflow")
    assistants = run(go())
    assert [a["graph_id"] for a in assistants] == ["leadflow"]


def test_studio_gets_the_input_output_and_context_schemas(
        dev_server: tuple[str, Path]) -> None:
    """What Studio asks for to draw its input form and context panel (issue 13 item 6)."""
    from langgraph_sdk import get_client

    url, _home = dev_server

    async def go() -> dict[str, Any]:
        client = get_client(url=url)
        [assistant] = await client.assistants.search(graph_id="leadflow")
        return dict(await client.assistants.get_schemas(assistant["assistant_id"]))
    schemas = run(go())
    assert "item" in schemas["input_schema"]["properties"]
    assert "outcome" in schemas["state_schema"]["properties"]
    context = schemas["context_schema"]["properties"]
    assert context["model"]["default"] == "rules"
    assert context["prompt_version"]["default"] == "v1"


def test_a_lead_runs_to_completion_on_a_thread(dev_server: tuple[str, Path]) -> None:
    from langgraph_sdk import get_client

    url, home = dev_server
    item = form_item("DEV-COLD", **{"Work Email": "sam@northwind-retail.com",
                                    "Company": "Northwind Retail", "Job Title": "Intern",
                                    "message": "Just browsing for a school project."})

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        client = get_client(url=url)
        thread = await client.threads.create()
        result = await client.runs.wait(thread["thread_id"], "leadflow", input={"item": item},
                                        context={"model": "rules", "prompt_version": "v1"})
        state = await client.threads.get_state(thread["thread_id"])
        return result, state
    result, state = run(go())
    assert "__interrupt__" not in result and state["next"] == []
    outcome = result["outcome"]
    assert outcome["status"] in {"nurture", "marketing"}
    assert outcome["trajectory"][:3] == ["LeadCapture Pro", "DataEnrichment Specialist",
                                         "LeadQualification Expert"]
    crm = CrmStore(f"sqlite:///{home / 'crm.db'}")  # the graph wrote the same CRM
    try:
        assert crm.get_lead(outcome["lead_id"])["status"] == outcome["status"]
    finally:
        crm.close()


def test_a_streamed_run_shows_each_agent_and_pauses_for_follow_up(
        dev_server: tuple[str, Path]) -> None:
    from langgraph_sdk import get_client

    url, _home = dev_server

    async def go() -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
        client = get_client(url=url)
        thread = await client.threads.create()
        parts = [part async for part in client.runs.stream(
            thread["thread_id"], "leadflow", input={"item": form_item("DEV-HOT")},
            stream_mode="updates")]
        paused = await client.threads.get_state(thread["thread_id"])
        woke = await client.runs.wait(thread["thread_id"], "leadflow",
                                      command={"resume": {"event": "closed_won"}})
        return parts, paused, woke
    parts, paused, woke = run(go())
    nodes = [node for p in parts if p.event == "updates" for node in (p.data or {})]
    for node in ("capture", "enrichment", "qualification", "routing", "followup",
                 "__interrupt__"):
        assert node in nodes, nodes
    assert nodes.index("capture") < nodes.index("routing") < nodes.index("__interrupt__")
    assert paused["next"] == ["await_engagement"]
    assert paused["interrupts"][0]["value"]["waiting_for"] == "engagement"
    assert woke["status"] == "routed" and "__interrupt__" not in woke


def test_an_interrupted_review_resumes_from_the_sdk(dev_server: tuple[str, Path]) -> None:
    from langgraph_sdk import get_client

    url, home = dev_server
    partial = form_item("DEV-PARTIAL", **{"Work Email": None, "Country": "USA"})

    async def go() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        client = get_client(url=url)
        thread = await client.threads.create()
        first = await client.runs.wait(thread["thread_id"], "leadflow",
                                       input={"item": partial})
        paused = await client.threads.get_state(thread["thread_id"])
        # while it waits, the thread says so: status and why (issue 13 item 6)
        assert paused["values"]["status"] == "manual_review"
        assert "no usable contact" in paused["values"]["status_reason"]
        waiting = CrmStore(f"sqlite:///{(home / 'crm.db').resolve()}")
        try:  # ... and it is in the review queue
            assert paused["values"]["lead_id"] in {
                r["lead_id"] for r in waiting.queue_items("manual_review")}
        finally:
            waiting.close()
        resumed = await client.runs.wait(
            thread["thread_id"], "leadflow",
            command={"resume": {"action": "set_tier", "tier": "warm", "reviewer": "studio",
                                "note": "called them, real project"}})
        state = await client.threads.get_state(thread["thread_id"])
        return first, resumed, state
    first, resumed, state = run(go())
    [request] = first["__interrupt__"]
    assert request["value"]["kind"] == "capture_failed"
    assert set(request["value"]["options"]) == {"approve", "reject", "set_tier", "assign"}
    assert resumed["bant"]["tier"] == "warm"
    decided = [s for s in resumed["steps"] if s.get("decided_by") == "human"]
    assert decided, resumed["steps"]
    assert resumed["status"] in {"awaiting_followup", "escalated"}
    assert state["values"]["status"] == resumed["status"]
    # the graph closed the review item it opened, though nobody used `leadflow review decide`
    crm = CrmStore(f"sqlite:///{(home / 'crm.db').resolve()}")
    try:
        assert resumed["lead_id"] not in {r["lead_id"] for r in crm.queue_items("manual_review")}
    finally:
        crm.close()
