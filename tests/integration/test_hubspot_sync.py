"""The HubSpot sync with the real client (`hubspot-api-client`) against a local server that
checks every request and response body with the client's own models (tests/hubspot_server.py):
create, resend, resume after a failure, 429 back-off, owners read back into routing."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from leadflow.clock import FrozenClock
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Notification
from leadflow.tools.delivery import DeliveryReport, deliver_due
from leadflow.tools.hubspot.client import HubSpotError
from leadflow.tools.hubspot.outbox import CHANNEL, queue_hubspot_sync
from leadflow.tools.hubspot.sync import PROPERTIES, HubSpotSync
from tests.conftest import RunItems, form_item
from tests.hubspot_server import FakeHubSpot, HubSpotServer

pytestmark = pytest.mark.db_backends


@pytest.fixture
def hubspot(monkeypatch: pytest.MonkeyPatch, tools: Toolbox) -> Iterator[FakeHubSpot]:
    """The local HubSpot, with an owner for every rep and manager, and leadflow set to
    sync to it."""
    with HubSpotServer() as server:
        for person in [*tools.reps.reps, *tools.reps.config.managers.values()]:
            server.add_owner(person.email, *person.name.split(" ", 1))
        monkeypatch.setenv("LEADFLOW_HUBSPOT_SYNC", "1")
        monkeypatch.setenv("LEADFLOW_HUBSPOT_TOKEN", server.token)
        monkeypatch.setenv("LEADFLOW_HUBSPOT_BASE_URL", server.url)
        yield server
        assert server.violations == []


class Waits(list[float]):
    """The client's waits between retries, recorded instead of slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def session(tools: Toolbox, waits: Waits | None = None) -> HubSpotSync:
    return HubSpotSync(tools.crm, tools.reps, tools.clock,
                       sleep=Waits() if waits is None else waits)


def deliver(tools: Toolbox, sync: HubSpotSync) -> DeliveryReport:
    return asyncio.run(deliver_due(tools.crm, tools.clock, only=[CHANNEL], hubspot=sync))


def hubspot_rows(tools: Toolbox) -> list[dict[str, Any]]:
    return [n for n in tools.crm.notifications() if n["channel"] == CHANNEL]


def owner_of(server: FakeHubSpot, email: str) -> str:
    return next(o["id"] for o in server.owners if o["email"] == email)


def test_a_hot_lead_becomes_a_company_contact_and_deal(run_items: RunItems, tools: Toolbox,
                                                        hubspot: FakeHubSpot) -> None:
    [outcome] = run_items([form_item()])
    assert outcome["bant"]["tier"] == "hot" and outcome["status"] == "awaiting_followup"
    [row] = hubspot_rows(tools)  # queued when the lead settled
    report = deliver(tools, session(tools))
    assert (report.delivered, report.errors) == (1, [])
    [company] = hubspot.find("companies", domain="lumenhealth.com")
    [contact] = hubspot.find("contacts", email="priya.nair@lumenhealth.com")
    [deal] = hubspot.find("deals", leadflow_lead_id=outcome["lead_id"])
    rep = tools.reps.person(outcome["assignment"]["rep_id"])
    assert rep is not None
    props = contact["properties"]
    assert props["leadflow_tier"] == "hot" and props["leadflow_owner"] == rep.id
    assert props["leadflow_score"] == str(outcome["bant"]["total"])
    assert props["leadflow_budget"] == str(outcome["bant"]["budget"]["score"])
    assert outcome["bant"]["budget"]["evidence"] in props["leadflow_reasons"]
    assert props["hubspot_owner_id"] == owner_of(hubspot, rep.email)
    assert deal["properties"]["hubspot_owner_id"] == owner_of(hubspot, rep.email)
    assert deal["properties"]["dealstage"] == "appointmentscheduled"
    ids = {t: o["properties"]["hs_object_id"] for t, o in
           (("companies", company), ("contacts", contact), ("deals", deal))}
    assert hubspot.associations == {
        ("contacts", ids["contacts"], "companies", ids["companies"]),
        ("deals", ids["deals"], "contacts", ids["contacts"]),
        ("deals", ids["deals"], "companies", ids["companies"])}
    assert {name for name, *_ in PROPERTIES} <= set(hubspot.properties["contacts"])
    assert tools.crm.hubspot_object("deals", outcome["lead_id"]) is not None
    assert row["dedupe_key"].startswith(f"hubspot:{outcome['lead_id']}:")


def test_a_resent_lead_updates_and_never_duplicates(run_items: RunItems, tools: Toolbox,
                                                    hubspot: FakeHubSpot) -> None:
    [outcome] = run_items([form_item()])
    sync = session(tools)
    deliver(tools, sync)
    run_items([form_item()])  # the same item again: the same lead, the same state
    assert len(hubspot_rows(tools)) == 1
    sync.sync_lead(outcome["lead_id"])  # pushed again all the same
    with tools.crm.transaction() as conn:  # and once more with the mapping table lost
        conn.execute(Notification.__table__.delete().where(Notification.channel == CHANNEL))
        conn.exec_driver_sql("DELETE FROM hubspot_objects")
    queue_hubspot_sync(tools.crm, tools.clock.now())
    assert deliver(tools, session(tools)).delivered == 1
    for object_type in ("companies", "contacts", "deals"):
        assert len(hubspot.objects[object_type]) == 1, object_type
    assert hubspot.served("POST", r"/objects/contacts$", 201) == 1
    assert hubspot.served("PATCH", r"/objects/contacts/") == 2


def test_a_failed_sync_retries_later_and_then_creates_nothing_twice(
        run_items: RunItems, tools: Toolbox, clock: FrozenClock, hubspot: FakeHubSpot) -> None:
    # the contact is created, but the answer is lost (502): the sync fails
    hubspot.fail("POST", r"/crm/v3/objects/contacts$", 502, after_write=True)
    [outcome] = run_items([form_item()])
    report = deliver(tools, session(tools))
    assert (report.delivered, report.retried) == (0, 1)
    [row] = hubspot_rows(tools)
    assert row["next_attempt_at"] > clock.now() and "502" in row["last_error"]
    assert deliver(tools, session(tools)).delivered == 0  # not due yet
    clock.advance(timedelta(hours=2))
    report = deliver(tools, session(tools))  # a new process: resumes where it stopped
    assert (report.delivered, report.retried) == (1, 0)
    assert len(hubspot.objects["contacts"]) == 1 and len(hubspot.objects["deals"]) == 1
    [row] = hubspot_rows(tools)
    assert row["delivered_at"] is not None and row["attempts"] == 2
    assert tools.crm.hubspot_object("contacts", str(
        tools.crm.hubspot_view(outcome["lead_id"])["contact"]["id"])) is not None  # type: ignore[index]


def test_429_waits_as_retry_after_says(run_items: RunItems, tools: Toolbox,
                                       hubspot: FakeHubSpot) -> None:
    run_items([form_item()])
    hubspot.fail("POST", r"/crm/v3/objects/companies$", 429, times=2, retry_after="7")
    hubspot.fail("PUT", r"/associations/", 429, times=1)  # no Retry-After: back-off
    waits = Waits()
    assert deliver(tools, session(tools, waits)).delivered == 1
    assert waits == [7.0, 7.0, 1.0]
    assert hubspot.served("POST", r"/objects/companies$", 429) == 2
    assert len(hubspot.objects["companies"]) == 1


def test_429_past_the_retries_is_left_to_the_outbox(run_items: RunItems, tools: Toolbox,
                                                    hubspot: FakeHubSpot) -> None:
    run_items([form_item()])
    hubspot.fail("GET", r"/crm/v3/owners/", 429, times=100, retry_after="1")
    waits = Waits()
    report = deliver(tools, session(tools, waits))
    assert (report.delivered, report.retried) == (0, 1) and "429" in report.errors[0]
    assert waits == [1.0] * 5  # the client's five retries, then the outbox's back-off
    [row] = hubspot_rows(tools)
    assert row["next_attempt_at"] is not None and row["failed_at"] is None


def test_an_owner_changed_in_hubspot_is_read_back_and_routes_the_next_lead(
        run_items: RunItems, tools: Toolbox, hubspot: FakeHubSpot) -> None:
    [first] = run_items([form_item()])
    deliver(tools, session(tools))
    first_rep = first["assignment"]["rep_id"]
    other = next(r for r in tools.reps.reps if r.region == "NA" and r.id != first_rep)
    [company] = hubspot.find("companies", domain="lumenhealth.com")
    assert company["properties"]["hubspot_owner_id"] == owner_of(
        hubspot, tools.reps.person(first_rep).email)  # type: ignore[union-attr]
    hubspot.edit("companies", company["properties"]["hs_object_id"],
                 hubspot_owner_id=owner_of(hubspot, other.email))
    pulled = session(tools).pull_owners()
    assert (pulled.read, [rep for _, rep in pulled.changed]) == (1, [other.id])
    assert session(tools).pull_owners().changed == []  # read back once
    [second] = run_items([form_item("F-2", **{"Work Email": "sam.ortiz@lumenhealth.com",
                                               "First Name": "Sam", "Last Name": "Ortiz"})])
    assert second["assignment"]["rep_id"] == other.id
    assert "account already owned" in second["assignment"]["reason"]
    # the next push keeps HubSpot's owner on the company
    assert deliver(tools, session(tools)).delivered == 1
    assert hubspot.objects["companies"][company["properties"]["hs_object_id"]][
        "properties"]["hubspot_owner_id"] == owner_of(hubspot, other.email)


def test_an_owner_set_in_hubspot_stays_until_leadflow_reassigns(
        run_items: RunItems, tools: Toolbox, clock: FrozenClock, hubspot: FakeHubSpot) -> None:
    [outcome] = run_items([form_item()])
    lead_id, first_rep = outcome["lead_id"], outcome["assignment"]["rep_id"]
    deliver(tools, session(tools))
    [contact] = hubspot.find("contacts", leadflow_lead_id=lead_id)
    contact_id = contact["properties"]["hs_object_id"]
    manager = tools.reps.manager_for("NA")
    hubspot.edit("contacts", contact_id, hubspot_owner_id=owner_of(hubspot, manager.email))
    session(tools).sync_lead(lead_id)  # leadflow's owner has not changed: HubSpot's stays
    assert hubspot.objects["contacts"][contact_id]["properties"]["hubspot_owner_id"] == \
        owner_of(hubspot, manager.email)
    other = next(r for r in tools.reps.reps if r.region == "NA" and r.id != first_rep)
    tools.crm.reassign(lead_id, other.id, clock.now(), "reassigned by a manager")
    assert queue_hubspot_sync(tools.crm, clock.now()) == 1  # a new state: one new row
    assert deliver(tools, session(tools)).delivered == 1
    props = hubspot.objects["contacts"][contact_id]["properties"]
    assert (props["hubspot_owner_id"], props["leadflow_owner"]) == (
        owner_of(hubspot, other.email), other.id)
    [deal] = hubspot.find("deals", leadflow_lead_id=lead_id)
    assert deal["properties"]["hubspot_owner_id"] == owner_of(hubspot, other.email)


def test_a_refused_token_or_an_unreachable_hubspot_stays_in_the_outbox(
        run_items: RunItems, tools: Toolbox, monkeypatch: pytest.MonkeyPatch,
        hubspot: FakeHubSpot) -> None:
    run_items([form_item()])
    monkeypatch.setenv("LEADFLOW_HUBSPOT_TOKEN", "wrong")
    report = deliver(tools, session(tools))
    assert report.retried == 1 and "401" in report.errors[0]
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("LEADFLOW_HUBSPOT_BASE_URL",
                           f"http://127.0.0.1:{closed.getsockname()[1]}")
        waits = Waits()
        with pytest.raises(HubSpotError, match="unreachable"):
            session(tools, waits).sync_lead(hubspot_rows(tools)[0]["lead_id"])
    assert waits == [1.0, 2.0]  # the two connection retries
    assert len(hubspot.objects["contacts"]) == 0


def cli(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`leadflow …` as a user runs it, on the test's CRM, with the test's environment."""
    return subprocess.run([sys.executable, "-m", "leadflow.cli", *args], text=True,
                          capture_output=True, timeout=300,
                          env={**os.environ, "LEADFLOW_DATABASE_URL": database_url, **env})


@pytest.mark.slow
@pytest.mark.db_backends("sqlite")
def test_the_sync_hubspot_command(run_items: RunItems, tools: Toolbox, database_url: str,
                                  hubspot: FakeHubSpot) -> None:
    [outcome] = run_items([form_item()])
    off = cli("sync", "hubspot", database_url=database_url, LEADFLOW_HUBSPOT_SYNC="0")
    assert off.returncode == 2 and "LEADFLOW_HUBSPOT_SYNC=1" in off.stderr
    done = cli("sync", "hubspot", database_url=database_url)
    assert done.returncode == 0, done.stderr
    assert "queued 0, synced 1, retrying later 0, given up 0" in done.stdout
    [company] = hubspot.find("companies", domain="lumenhealth.com")
    other = next(r for r in tools.reps.reps
                 if r.region == "NA" and r.id != outcome["assignment"]["rep_id"])
    hubspot.edit("companies", company["properties"]["hs_object_id"],
                 hubspot_owner_id=owner_of(hubspot, other.email))
    pulled = cli("sync", "hubspot", "--pull-owners", database_url=database_url)
    assert pulled.returncode == 0, pulled.stderr
    assert "read 1 companies, 1 account owners changed" in pulled.stdout
    account = tools.crm.hubspot_view(outcome["lead_id"])["account"]  # type: ignore[index]
    assert account["owner_rep_id"] == other.id


def test_the_local_server_refuses_bodies_the_schemas_do_not_allow() -> None:
    """The check the server runs on every body, on bodies HubSpot's schemas refuse."""
    from hubspot.crm.contacts import models

    from tests.hubspot_server import schema_errors

    fine = {"properties": {"email": "a@b.example"}, "associations": []}
    assert schema_errors(fine, "SimplePublicObjectInputForCreate", models) == []
    assert schema_errors({"properties": {"numberofemployees": 12}},
                         "SimplePublicObjectInput", models)  # values are strings
    assert schema_errors({"associations": []},
                         "SimplePublicObjectInputForCreate", models)  # properties required
    assert schema_errors({"properties": {}, "extra": 1}, "SimplePublicObjectInput", models)
    assert schema_errors({"filterGroups": [{"filters": [{"propertyName": "email",
                                                         "operator": "LIKE"}]}]},
                         "PublicObjectSearchRequest", models)  # not an operator
    assert schema_errors({"id": "1", "properties": {}, "createdAt": "yesterday",
                          "updatedAt": "2026-12-04T10:00:00Z"}, "SimplePublicObject", models)
