"""The HTTP API on a real uvicorn server on 127.0.0.1: auth, leads in and out, reviews,
events, form webhook, error bodies, size limit, durable intake, and the LangServe surface
through `langserve.RemoteRunnable`."""

from __future__ import annotations

import asyncio
import base64
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from leadflow.api import create_app
from leadflow.checkpoint import sqlite_checkpointer
from leadflow.settings import ApiSettings, Settings
from leadflow.toolbox import Toolbox
from tests.conftest import form_item

KEY = "test-key-2f9c"
HEADERS = {"X-API-Key": KEY}
PARTIAL = form_item("P-API", **{"Work Email": None, "Country": "USA"})  # capture fails


@dataclass
class Server:
    url: str
    tools: Toolbox

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers or HEADERS, timeout=30)


def start_server(tools: Toolbox, tmp_path: Path, max_body: int = 64_000,
                 checkpointer: Any = None, **api_options: Any
                 ) -> tuple[uvicorn.Server, threading.Thread, str]:
    """The full app on a free 127.0.0.1 port; `api_options` are further `ApiSettings`,
    `checkpointer` a factory (default: a SQLite file in `tmp_path`)."""
    settings = Settings.from_env(home=tmp_path / "home")
    app = create_app(settings, ApiSettings(api_key=KEY, max_body_bytes=max_body, concurrency=4,
                                           **api_options),
                     tools=tools,
                     checkpointer=checkpointer or (
                         lambda: sqlite_checkpointer(tmp_path / "checkpoints.db")))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture
def api(tools: Toolbox, tmp_path: Path) -> Iterator[Server]:
    server, thread, url = start_server(tools, tmp_path)
    try:
        yield Server(url, tools)
    finally:
        stop_server(server, thread)


def wait_for(client: httpx.Client, lead_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"/leads/{lead_id}")
        if response.status_code == 200 and response.json()["status"] != "processing":
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.05)
    raise AssertionError(f"{lead_id} still processing after {timeout} s")


# ------------------------------------------------------------------------ auth and guards
def test_every_route_but_healthz_needs_the_key(api: Server) -> None:
    with httpx.Client(base_url=api.url) as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        for method, path in (("GET", "/leads"), ("POST", "/leads"), ("GET", "/review"),
                             ("POST", "/events"), ("POST", "/ingest/form"),
                             ("POST", "/ingest/typeform"), ("POST", "/ingest/intercom"),
                             ("GET", "/metrics"), ("DELETE", "/contacts/a@example.com"),
                             ("POST", "/graph/invoke"),
                             ("GET", "/graph/input_schema"), ("GET", "/dashboard"),
                             ("GET", "/docs"), ("GET", "/openapi.json")):
            response = anonymous.request(method, path)
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"].startswith("Basic")
        assert anonymous.get("/leads", headers={"X-API-Key": KEY + "x"}).status_code == 401
        basic = base64.b64encode(f"ops:{KEY}".encode()).decode()
        assert anonymous.get("/leads", headers={"Authorization": f"Basic {basic}"}
                             ).status_code == 200


def test_invalid_bodies_get_clear_422s_and_no_internals(api: Server) -> None:
    with api.client() as client:
        missing = client.post("/leads", json={"payload": {"Email": "a@b.com"}})
        assert missing.status_code == 422
        assert any(p["loc"][-1] == "source" and "required" in p["msg"].lower()
                   for p in missing.json()["detail"])
        wrong = client.post("/leads", json={"source": "fax", "payload": {"a": "b"}})
        assert wrong.status_code == 422
        assert any(p["loc"][-1] == "source" and "web_form" in p["msg"]
                   for p in wrong.json()["detail"])  # names the allowed values
        when = client.post("/leads", json={"source": "web_form", "received_at": "yesterday",
                                           "payload": {"Email": "a@b.com"}})
        assert "ISO-8601" in when.text
        broken = client.post("/leads", content=b"{not json", headers={
            "content-type": "application/json"})
        assert broken.status_code == 422
        empty = client.post("/leads", json={"source": "web_form", "payload": {}})
        assert empty.status_code == 422
        assert any("payload" in p["loc"] for p in empty.json()["detail"])
        for response in (missing, wrong, when, broken, empty):
            assert "Traceback" not in response.text and "File \"" not in response.text
        assert client.get("/leads", params={"status": "x' OR 1=1 --"}).status_code == 422
        assert client.get("/leads/LEAD-nope' OR '1'='1").status_code == 404


def test_bodies_over_the_limit_are_refused(api: Server) -> None:
    with api.client() as client:
        huge = {"source": "web_form", "payload": {"message": "x" * 70_000, "Email": "a@b.co"}}
        assert client.post("/leads", json=huge).status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            yield b'{"source": "web_form", "payload": {"message": "'
            for _ in range(100):
                yield b"y" * 1000
            yield b'"}}'
        streamed = client.post("/leads", content=chunks(),
                               headers={"content-type": "application/json"})
        assert streamed.status_code == 413


# ------------------------------------------------------------------------ leads
def test_a_batch_is_accepted_at_once_and_processed_behind(api: Server) -> None:
    items = [form_item("B-1"),
             form_item("B-2", **{"Work Email": "sam@northwind-retail.com",
                                 "Company": "Northwind Retail", "Job Title": "Intern",
                                 "message": "Just browsing, maybe next year."}),
             form_item("B-3", **{"Work Email": "li@ferro-steel.de", "Company": "Ferro Steel",
                                 "Country": "Germany"})]
    with api.client() as client:
        accepted = client.post("/leads", json=items)
        assert accepted.status_code == 202
        body = accepted.json()
        assert body["accepted"] == 3 and len(set(body["lead_ids"])) == 3
        views = [wait_for(client, lead_id) for lead_id in body["lead_ids"]]
        for view in views:
            outcome = view["outcome"]
            assert view["status"] == outcome["status"]
            assert view["trajectory"] == outcome["trajectory"]
            assert view["trajectory"][0] == "LeadCapture Pro"
            assert {m["workflow_id"] for m in view["messages"]} == {view["lead_id"]}
            assert all(set(m) >= {"message_id", "from_agent", "to_agent", "message_type",
                                  "payload", "metadata"} for m in view["messages"])
        stored = {lead_id: api.tools.crm.get_lead(lead_id) for lead_id in body["lead_ids"]}
        for view in views:
            assert stored[view["lead_id"]]["status"] == view["status"]
        # the list filters agree with the CRM
        for view in views:
            tier = (view["outcome"]["bant"] or {}).get("tier")
            if tier is None:
                continue
            listed = client.get("/leads", params={"status": view["status"], "tier": tier})
            assert view["lead_id"] in {row["lead_id"] for row in listed.json()}
            assert all(row["tier"] == tier and row["status"] == view["status"]
                       for row in listed.json())
        # the same batch again: the same ids, nothing processed twice
        again = client.post("/leads", json=items).json()
        assert again["lead_ids"] == body["lead_ids"]
        assert [wait_for(client, i)["outcome"] for i in again["lead_ids"]] == [
            v["outcome"] for v in views]
    assert len(api.tools.crm.list_leads(limit=100)) == 3
    assert api.tools.crm.queue_counts()["intake"] == 0


def test_unknown_lead_is_404(api: Server) -> None:
    with api.client() as client:
        response = client.get("/leads/LEAD-000000")
        assert response.status_code == 404 and "LEAD-000000" in response.json()["detail"]


def test_form_webhook(api: Server) -> None:
    with api.client() as client:
        accepted = client.post("/ingest/form", json={"fields": {
            "your-name": "Mara Quinn", "email_address": "mara.quinn@lumenhealth.com",
            "org": "Lumen Health Partners", "role": "Director of IT", "country": "US",
            "comments": "We need a replacement for our scheduling tool this quarter."}})
        assert accepted.status_code == 202
        view = wait_for(client, accepted.json()["lead_ids"][0])
        assert view["outcome"]["contact"]["email"] == "mara.quinn@lumenhealth.com"
        assert view["outcome"]["company"]["region"] == "NA"
        assert client.post("/ingest/form", json={"fields": {}}).status_code == 422


def test_vendor_webhooks_typeform_and_intercom(api: Server) -> None:
    """Typeform's and Intercom's documented bodies become leads through the same intake;
    a redelivery is the same lead; other events are acknowledged with nothing accepted."""
    from tests.unit.test_vendor_webhooks import intercom_body, typeform_body

    with api.client() as client:
        form = client.post("/ingest/typeform", json=typeform_body())
        assert form.status_code == 202, form.text
        [form_lead] = form.json()["lead_ids"]
        again = client.post("/ingest/typeform", json=typeform_body())
        assert again.json()["lead_ids"] == [form_lead]
        chat = client.post("/ingest/intercom", json=intercom_body())
        assert chat.status_code == 202, chat.text
        [chat_lead] = chat.json()["lead_ids"]
        form_view, chat_view = wait_for(client, form_lead), wait_for(client, chat_lead)
        assert form_view["outcome"]["contact"]["email"] == "oskar.lind@fjordfreight.no"
        assert form_view["outcome"]["company"]["country"] == "NO"
        assert chat_view["outcome"]["contact"]["email"] == "ines@portoverde.pt"
        assert chat_view["outcome"]["company"]["region"] == "EMEA"
        ignored = client.post("/ingest/intercom", json={"type": "notification_event",
                                                        "topic": "ping", "data": {"item": {}}})
        assert ignored.status_code == 202 and ignored.json()["accepted"] == 0
        empty = client.post("/ingest/typeform", json=typeform_body(answers=[]))
        assert empty.status_code == 422 and "nothing was answered" in empty.json()["detail"]
        assert client.post("/ingest/intercom", json={"topic": 5}).status_code == 422
    with httpx.Client(base_url=api.url) as anonymous:
        assert anonymous.post("/ingest/typeform", json=typeform_body()).status_code == 401
        assert anonymous.post("/ingest/intercom", json=intercom_body()).status_code == 401


# ------------------------------------------------------------------------ review, events
def test_review_over_http_resumes_the_interrupt(api: Server) -> None:
    with api.client() as client:
        [lead_id] = client.post("/leads", json=PARTIAL).json()["lead_ids"]
        view = wait_for(client, lead_id)
        assert view["status"] == "manual_review" and "awaiting_review" in view["outcome"]["flags"]
        assert view["review"]["kind"] == "capture_failed"
        assert lead_id in {r["lead_id"] for r in client.get("/review").json()}
        request = client.get(f"/review/{lead_id}").json()
        assert set(request["options"]) == {"approve", "reject", "set_tier", "assign"}
        bad = client.post(f"/review/{lead_id}/decide", json={"action": "set_tier"})
        assert bad.status_code == 422 and "set_tier needs a tier" in bad.text
        decided = client.post(f"/review/{lead_id}/decide",
                              json={"action": "reject", "reviewer": "ops@example.com",
                                    "note": "no contact details"})
        assert decided.status_code == 200 and decided.json()["status"] == "marketing"
        again = client.post(f"/review/{lead_id}/decide", json={"action": "approve"})
        assert again.status_code == 409 and "not waiting for review" in again.json()["detail"]
        assert client.get(f"/review/{lead_id}").status_code == 404
        assert wait_for(client, lead_id)["status"] == "marketing"


def test_engagement_webhook_wakes_the_follow_up(api: Server) -> None:
    with api.client() as client:
        [lead_id] = client.post("/leads", json=form_item("E-1")).json()["lead_ids"]
        view = wait_for(client, lead_id)
        assert view["status"] == "awaiting_followup"
        assert api.tools.crm.sla_for(lead_id)["first_touch_at"] is None
        woke = client.post("/events", json={"lead_id": lead_id, "event": "contacted"})
        assert woke.status_code == 200, woke.text
        assert api.tools.crm.sla_for(lead_id)["first_touch_at"] is not None
        assert [e["event_type"] for e in api.tools.crm.events_for(lead_id)] == ["contacted"]
        closed = client.post("/events", json={"lead_id": lead_id, "event": "closed_won"})
        assert closed.json()["status"] == "routed"
        late = client.post("/events", json={"lead_id": lead_id, "event": "replied"})
        assert late.status_code == 409
        assert client.post("/events", json={"lead_id": lead_id, "event": "waved"}
                           ).status_code == 422
        assert client.post("/events", json={"lead_id": "x; DROP TABLE leads", "event":
                                            "contacted"}).status_code == 422


# ------------------------------------------------------------------------ durability
def test_items_accepted_before_a_crash_are_finished_on_restart(tools: Toolbox,
                                                                tmp_path: Path) -> None:
    """The intake row is written before the 202; a server that died right after finds it
    at start-up and finishes the lead."""
    from leadflow.identity import workflow_id_for

    item = form_item("CRASH-1")
    lead_id = workflow_id_for(item, None)
    tools.crm.enqueue("intake", lead_id, "accepted by the API", tools.clock.now(),
                      {"item": item})
    server, thread, url = start_server(tools, tmp_path)
    try:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
            assert wait_for(client, lead_id)["status"] == "awaiting_followup"
    finally:
        stop_server(server, thread)
    assert tools.crm.queue_counts()["intake"] == 0


# ------------------------------------------------------------------------ LangServe
def test_langserve_remote_runnable_invoke_batch_stream(api: Server) -> None:
    from langserve import RemoteRunnable

    remote = RemoteRunnable(f"{api.url}/graph", headers=HEADERS)
    outcome = remote.invoke(form_item("LS-1"))
    assert outcome["status"] == "awaiting_followup" and outcome["assignment"]["rep_id"]
    assert remote.invoke(form_item("LS-1")) == outcome  # same thread: read back, not redone
    batch = remote.batch([form_item("LS-2", **{"Work Email": "ana@ferro-steel.de",
                                               "Company": "Ferro Steel"}), PARTIAL])
    assert [o["status"] for o in batch][1] == "manual_review"
    chunks = list(remote.stream(form_item("LS-3", **{"Work Email": "kai@lumenhealth.com"})))
    nodes = [c["node"] for c in chunks if "node" in c]
    assert nodes[:2] == ["supervisor", "capture"] and "routing" in nodes
    assert chunks[-1]["outcome"]["status"] == "awaiting_followup"

    async def async_calls() -> list[Any]:
        return [await remote.ainvoke(form_item("LS-1")),
                [c async for c in remote.astream(form_item("LS-1"))]]
    again, streamed = asyncio.run(async_calls())
    assert again == outcome and streamed == [{"outcome": outcome}]
    with api.client() as client:
        schema = client.get("/graph/input_schema").json()
        assert set(schema["required"]) == {"source", "payload"}
        assert "lead_id" in client.get("/graph/output_schema").json()["properties"]
        bad = client.post("/graph/invoke", json={"input": {"source": "fax"}})
        assert bad.status_code == 422


def test_metrics_are_prometheus_text_of_the_crm(api: Server) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    with api.client() as client:
        ids = client.post("/leads", json=[form_item("M-1"), PARTIAL]).json()["lead_ids"]
        statuses = Counter(wait_for(client, i)["status"] for i in ids)
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    leads = {s.labels["status"]: s.value for s in families["leadflow_leads"].samples}
    for status, n in statuses.items():
        assert leads[status] == n
    queues = {s.labels["queue"]: s.value
              for s in families["leadflow_queue_open_items"].samples}
    assert queues["manual_review"] == 1 and queues["intake"] == 0


def test_a_lead_explains_itself_over_http(api: Server) -> None:
    with api.client() as client:
        accepted = client.post("/leads", json=form_item("EXPLAIN-1")).json()
        lead_id = accepted["lead_ids"][0]
        wait_for(client, lead_id)
        body = client.get(f"/leads/{lead_id}/explanation").json()
        assert body["lead_id"] == lead_id
        assert set(body["sections"]) >= {"Why this tier", "Why this rep or queue",
                                         "What a person changed", "What happens next"}
        assert any("Budget:" in s for s in body["sections"]["Why this tier"])
        assert client.get("/leads/LEAD-0000/explanation").status_code == 404
