"""Bad and odd request bodies on a real server on 127.0.0.1, on SQLite and PostgreSQL: every
body that is not valid JSON gets a 4xx with a message on every route (the LangServe
surface included), NaN and Infinity are refused naming the field and nothing of their batch
is kept, an item whose raw form differs from its stored form gets a lead id that resolves,
and a client that goes away mid-upload is an info line, not an error."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from leadflow.toolbox import Toolbox
from tests.conftest import OpenCheckpoints, form_item
from tests.integration.test_api import HEADERS, KEY, Server, start_server, stop_server, wait_for

POSTS = ("/leads", "/ingest/form", "/graph/invoke", "/graph/batch", "/graph/stream")
NOT_JSON = {
    "broken": b'{"source": "web_form",',
    "empty": b"",
    "not UTF-8": b"\xff\xfe{\x00",
    "text": b"hello",
    "nested too deeply": b"[" * 20_000 + b"]" * 20_000,
}


@pytest.fixture
def api(tools: Toolbox, tmp_path: Path, backend: str,
        checkpoints: OpenCheckpoints) -> Iterator[Server]:
    """The API on this test's backend: its CRM and its checkpointer."""
    server, thread, url = start_server(tools, tmp_path, checkpointer=checkpoints)
    try:
        yield Server(url, tools)
    finally:
        stop_server(server, thread)


def post_raw(client: httpx.Client, path: str, body: bytes | str) -> httpx.Response:
    return client.post(path, content=body if isinstance(body, bytes) else body.encode(),
                       headers={"content-type": "application/json"})


@pytest.fixture(autouse=True)
def uvicorn_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """uvicorn's own logger ("Exception in ASGI application") does not propagate to the
    root logger: listen to it too."""
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)


def server_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.db_backends
def test_a_body_that_is_not_json_is_a_4xx_on_every_route(
        api: Server, caplog: pytest.LogCaptureFixture) -> None:
    with api.client() as client:
        for path in POSTS:
            for name, body in NOT_JSON.items():
                response = post_raw(client, path, body)
                assert 400 <= response.status_code < 500, (path, name, response.text)
                detail = response.json()["detail"]
                assert detail, (path, name)
                assert "Traceback" not in response.text and 'File "' not in response.text
            # LangServe's own message for unparsable JSON, now a 422 that says so
            problems = post_raw(client, path, b"{not json").json()["detail"]
            assert any("JSON" in p["msg"] for p in problems), (path, problems)
        for path in ("/graph/invoke", "/graph/stream"):
            invalid = client.post(path, json={"input": {"source": "fax", "payload": "x"}})
            assert invalid.status_code == 422
            assert any(p["loc"][-1] == "source" for p in invalid.json()["detail"])
    assert server_errors(caplog) == []
    assert api.tools.crm.queue_counts().get("intake", 0) == 0


@pytest.mark.db_backends
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused_naming_the_field(
        api: Server, literal: str, caplog: pytest.LogCaptureFixture) -> None:
    bad = json.dumps(form_item("NAN-1")).replace('"payload": {', f'"payload": {{"score": '
                                                  f'{literal}, ', 1)
    good = json.dumps(form_item("GOOD-1"))
    with api.client() as client:
        batch = post_raw(client, "/leads", f"[{good}, {bad}]")
        assert batch.status_code == 422, batch.text
        assert any(p["loc"][-2:] == [1, "payload"] and "payload.score" in p["msg"]
                   and "NaN or Infinity" in p["msg"] for p in batch.json()["detail"])
        single = post_raw(client, "/leads", bad)
        assert single.status_code == 422
        form = post_raw(client, "/ingest/form", '{"fields": {"email": "a@b.co", "budget": '
                                                f'[1, {literal}]}}}}')
        assert form.status_code == 422 and "fields.budget[1]" in form.text
        for path in ("/graph/invoke", "/graph/stream"):
            graph = post_raw(client, path, f'{{"input": {bad}}}')
            assert graph.status_code == 422 and "payload.score" in graph.text
        # nothing of a refused batch was kept: the good item was not accepted either
        assert api.tools.crm.queue_counts().get("intake", 0) == 0
        assert api.tools.crm.list_leads(limit=10) == []
        # a finite number is a number like any other
        fine = post_raw(client, "/leads", bad.replace(literal, "1.5", 1))
        assert fine.status_code == 202
        assert wait_for(client, fine.json()["lead_ids"][0])["status"] == "awaiting_followup"
    assert server_errors(caplog) == []


@pytest.mark.db_backends
def test_an_item_whose_stored_form_differs_gets_an_id_that_resolves(api: Server) -> None:
    """No `id`: the lead id is a hash of the item, so it must be the hash of the item as
    stored (a lone surrogate becomes U+FFFD, a 30-digit integer its digits)."""
    big = {"source": "web_form", "payload": {
        "Work Email": "dana@lumenhealth.com", "Company": "Lumen Health Partners",
        "Employees": 123456789012345678901234567890, "message": "We need it now."}}
    lone = ('{"source": "web_form", "payload": {"Work Email": "eli@ferro-steel.de", '
            '"Company": "Ferro Steel \\ud800", "message": "Budget approved \\udfff"}}')
    with api.client() as client:
        for body in (json.dumps(big), lone):
            accepted = post_raw(client, "/leads", body)
            assert accepted.status_code == 202, accepted.text
            [lead_id] = accepted.json()["lead_ids"]
            view = wait_for(client, lead_id)
            assert view["status"] != "processing" and view["outcome"]["lead_id"] == lead_id
            # the same item again is the same lead; the LangServe surface finds it too
            assert post_raw(client, "/leads", body).json()["lead_ids"] == [lead_id]
            streamed = client.post("/graph/invoke", content=f'{{"input": {body}}}'.encode(),
                                   headers={"content-type": "application/json"})
            assert streamed.status_code == 200
            assert streamed.json()["output"]["lead_id"] == lead_id
    assert api.tools.crm.queue_counts()["intake"] == 0  # every accepted item settled


def test_a_client_gone_mid_upload_is_an_info_line(tools: Toolbox, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="leadflow.api")
    server, thread, url = start_server(tools, tmp_path)
    port = int(url.rsplit(":", 1)[1])
    try:
        for path in ("/leads", "/ingest/form", "/graph/invoke"):
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {KEY}\r\n"
                             "Content-Type: application/json\r\nContent-Length: 40000\r\n\r\n"
                             '{"source": "web_form", "payload": {"a": "'.encode()
                             + b"x" * 3000)
                time.sleep(0.2)
            deadline = time.monotonic() + 120  # a hang, not a speed claim
            while not any(path in r.getMessage() and "went away" in r.getMessage()
                          for r in caplog.records):
                assert time.monotonic() < deadline, f"no log line for {path}"
                time.sleep(0.05)
        with httpx.Client(base_url=url, headers=HEADERS) as client:  # still serving
            assert client.get("/leads").status_code == 200
    finally:
        stop_server(server, thread)
    gone = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 3 and all(r.levelno == logging.INFO for r in gone)
    assert server_errors(caplog) == []
    assert tools.crm.queue_counts().get("intake", 0) == 0
