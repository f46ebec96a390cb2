"""Hostile items through the whole graph (SPEC §6): every lead ends in exactly one defined
status, and none of them by way of the runner's last-resort `processing_error` (which
means an exception escaped an agent). Runs on SQLite and PostgreSQL: PostgreSQL refuses
NUL in text columns and in the checkpointer's JSONB, so it is the stricter store."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from leadflow.tools.crm import STATUSES
from tests.conftest import RunItems
from tests.fuzz.strategies import inbound_item

pytestmark = pytest.mark.db_backends


@settings(max_examples=max(6, settings().max_examples // 25),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(inbound_item(), min_size=1, max_size=6))
@example([
    None, 7, ["a"], {"source": "[/bold]", "payload": {"a": 1}},
    {"id": "\x00", "source": "web_form", "received_at": "0001-01-01T00:00:00+14:00",
     "payload": {"Work Email": "nul\x00@acme.io", "Company": "Acme\x00", "Employees": "9" * 30,
                 "First Name": "x" * 5000, "message": "hi\ud800 there\x00"}},
    {"source": "email", "payload": "From: =?utf-8?q?a=0D=0Ab?= <a@b.com>\n\nhello"},
])
def test_every_item_ends_in_a_defined_status(run_items: RunItems, items: list[Any]) -> None:
    outcomes = run_items(items)
    assert len(outcomes) == len(items)
    for outcome in outcomes:
        assert outcome["status"] in STATUSES
        assert "processing_error" not in outcome["flags"], outcome["status_reason"]
