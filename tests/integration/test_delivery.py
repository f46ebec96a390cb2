"""Notification delivery to real receivers on 127.0.0.1: a webhook (Slack-compatible JSON)
and an SMTP server (aiosmtpd); retries with backoff on a moving fake clock; no repeats."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from leadflow.clock import FrozenClock
from leadflow.toolbox import Toolbox
from leadflow.tools.delivery import DeliveryReport, deliver_due
from leadflow.tools.notifier import Notice, delivery_settings
from tests.conftest import RunItems, form_item

pytestmark = pytest.mark.db_backends



def deliver(tools: Toolbox) -> DeliveryReport:
    """One pass of the outbox's delivery, as `leadflow notify deliver` runs it."""
    return asyncio.run(deliver_due(tools.crm, tools.clock))

@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    state: dict[str, Any] = {"fail": 0, "received": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if state["fail"] > 0:
                state["fail"] -= 1
                self.send_response(500)
            else:
                state["received"].append((self.headers["X-Leadflow-Dedupe"], body))
                self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("LEADFLOW_WEBHOOK_URL",
                       f"http://127.0.0.1:{server.server_address[1]}/hook")
    yield state
    server.shutdown()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    received: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd wants a concrete port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("LEADFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("LEADFLOW_SMTP_PORT", str(port))
    yield received
    controller.stop()


def test_a_routed_lead_emails_its_rep_and_posts_to_ops(run_items: RunItems, tools: Toolbox,
                                                       webhook: dict[str, Any],
                                                       smtp: list[Any]) -> None:
    run_items([form_item(), form_item("BAD", **{"Work Email": None})])
    report = deliver(tools)
    assert report.delivered == len(tools.crm.notifications()) and report.failed == 0
    assert any(b"New hot lead" in e.content for e in smtp)  # the rep's email
    assert any("Message-ID" in e.content.decode() for e in smtp)
    assert {body["audience"] for _, body in webhook["received"]} >= {"operations"}
    # a second pass delivers nothing again
    assert deliver(tools).delivered == 0
    assert len(webhook["received"]) + len(smtp) == report.delivered


def test_failed_webhooks_retry_with_backoff_then_deliver_once(tools: Toolbox,
                                                              clock: FrozenClock,
                                                              webhook: dict[str, Any]) -> None:
    tools.notifier.send(Notice(audience="operations", subject="step failed", body="x"),
                        lead_id="LEAD-1", step="capture", now=clock.now())
    tools.notifier.send(Notice(audience="operations", subject="step failed", body="x"),
                        lead_id="LEAD-1", step="capture", now=clock.now())  # a replay
    webhook["fail"] = 2

    def wait_after_failure() -> timedelta:  # how long the outbox holds the notice back
        due: timedelta = tools.crm.notifications("LEAD-1")[0]["next_attempt_at"] - clock.now()
        return due

    first = deliver(tools)
    assert first.retried == 1 and first.delivered == 0
    waits = [wait_after_failure()]
    assert deliver(tools).delivered == 0  # not due yet: backing off
    clock.advance(timedelta(seconds=40))
    assert deliver(tools).retried == 1  # second failure, longer backoff
    waits.append(wait_after_failure())
    # doubling from the configured start, ±25 % jitter: the two waits fall in bands that do
    # not overlap (0.75-1.25 and 1.5-2.5 times the start), whatever the jitter drew
    start = delivery_settings()["retry"]["initial_backoff_s"]
    assert [w.total_seconds() / start for w in waits] == [
        pytest.approx(1, abs=0.25), pytest.approx(2, abs=0.5)], waits
    clock.advance(timedelta(seconds=90))
    assert deliver(tools).delivered == 1
    assert [k for k, _ in webhook["received"]] == ["LEAD-1:capture:operations:"
                                                   "ops@leadflow.example"]
    row = tools.crm.notifications("LEAD-1")[0]
    assert row["attempts"] == 3 and row["delivered_at"] is not None


def test_unreachable_webhook_is_given_up_after_max_attempts(
        tools: Toolbox, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_WEBHOOK_URL", "http://127.0.0.1:9/nothing-listens")
    tools.notifier.send(Notice(audience="technical", subject="down", body="x"),
                        lead_id="LEAD-2", step="x", now=clock.now())
    for _ in range(6):
        deliver(tools)
        clock.advance(timedelta(hours=2))
    row = tools.crm.notifications("LEAD-2")[0]
    assert row["failed_at"] is not None and row["attempts"] == 6
    assert "webhook" in row["last_error"]
