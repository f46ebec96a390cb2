"""Erasing a person (`leadflow forget`, `DELETE /contacts/{email}`) and retention: real
leads through the real graph, then every table of the CRM and of the checkpointer (and, on
SQLite, the raw bytes of every database file) read back for the person's email, phone and
name; the other leads intact, the metrics counting the same leads, the erasure audited."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from leadflow.db import libpq_conninfo
from leadflow.identity import thread_config
from leadflow.metrics import snapshot
from leadflow.toolbox import Toolbox
from leadflow.tools.crm.erasure import ERASED, Scrubber
from leadflow.tools.erasure import apply_retention, forget, months_before
from tests.conftest import START, OpenCheckpoints, RunItems, form_item
from tests.integration.test_api import HEADERS, start_server, stop_server, wait_for

PRIYA = "priya.nair@lumenhealth.com"
# What names her anywhere: the address, the phone as typed and as stored, her names.
PRIYA_NEEDLES = (PRIYA, "303) 555-0148", "3035550148", "priya", "nair")
JONAS = "jonas.berg@nordicsteel.se"


def people() -> list[dict[str, Any]]:
    """Priya (hot, then writes again: a second thread merged into her lead), Jonas (hot)
    and Carla (cold: the nurture queue)."""
    return [
        form_item("A-1", Phone="(303) 555-0148"),
        form_item("A-2", message="Hi again, Priya Nair here: we need it now, call me on "
                                 "(303) 555-0148."),
        form_item("B-1", **{"First Name": "Jonas", "Last Name": "Berg", "Work Email": JONAS,
                            "Company": "Nordic Steel AB", "Country": "Sweden"}),
        form_item("C-1", **{"First Name": "Carla", "Last Name": "Duarte",
                            "Work Email": "carla@duarte-design.pt", "Company": "Duarte Design",
                            "Country": "Portugal", "Job Title": "Intern",
                            "message": "Just curious what you do, no plans."}),
    ]


def found_in(value: Any, needles: tuple[str, ...]) -> list[str]:
    """The needles in a stored value, any case (bytes as they are: checkpoint blobs)."""
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        data = value.lower()
        return [n for n in needles if n.lower().encode() in data]
    text = (json.dumps(value, ensure_ascii=False, default=str)
            if isinstance(value, dict | list) else str(value)).lower()
    return [n for n in needles if n.lower() in text]


def sqlite_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}


def postgres_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(libpq_conninfo(url)) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        return {t: conn.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}


def every_row(backend: str, database_url: str, tmp_path: Path
              ) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: the CRM's and the checkpointer's (a file of its own on
    SQLite, the same schema on PostgreSQL)."""
    if backend == "postgres":
        return postgres_rows(database_url)
    crm = {f"crm.{t}": rows for t, rows in sqlite_rows(tmp_path / "crm.db").items()}
    cps = {f"checkpoints.{t}": rows
           for t, rows in sqlite_rows(tmp_path / "checkpoints.db").items()}
    return {**crm, **cps}


def traces(backend: str, database_url: str, tmp_path: Path,
           needles: tuple[str, ...]) -> dict[str, list[str]]:
    """Where any needle is still stored: table rows, and on SQLite every file's bytes
    (after a WAL checkpoint, as the files would be copied or backed up)."""
    hits: dict[str, list[str]] = {}
    for table, rows in every_row(backend, database_url, tmp_path).items():
        for row in rows:
            for value in row:
                if found := found_in(value, needles):
                    hits.setdefault(table, []).extend(found)
    if backend == "sqlite":
        for name in ("crm.db", "checkpoints.db"):
            with sqlite3.connect(tmp_path / name) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for path in tmp_path.iterdir():
            if path.is_file() and path.name.startswith(("crm.db", "checkpoints.db")) and (
                    found := found_in(path.read_bytes(), needles)):
                hits[f"file {path.name}"] = found
    return {table: sorted(set(found)) for table, found in hits.items()}


def counted(tools: Toolbox) -> dict[str, Any]:
    """What the dashboard counts of the leads' history (the backlog, the rep workload and
    the review queue are what is waiting now, which an erased lead no longer is)."""
    numbers = snapshot(tools.crm, tools.reps, tools.clock.now()).model_dump()
    return {k: numbers[k] for k in ("leads_total", "statuses", "processing", "errors",
                                    "qualification", "enrichment", "routing", "first_touch",
                                    "sla", "conversion")}


def erase(checkpoints: OpenCheckpoints, tools: Toolbox, who: str) -> Any:
    async def go() -> Any:
        async with checkpoints() as saver:
            return await forget(tools.crm, saver, who, requested_by="dpo@ops",
                                now=tools.clock.now())
    return asyncio.run(go())


def thread_exists(checkpoints: OpenCheckpoints, thread_id: str) -> bool:
    async def go() -> bool:
        async with checkpoints() as saver:
            return await saver.aget_tuple(thread_config(thread_id)) is not None
    return asyncio.run(go())


@pytest.mark.db_backends
def test_a_forgotten_person_is_in_no_table_file_or_checkpoint(
        backend: str, database_url: str, tmp_path: Path, tools: Toolbox,
        run_items: RunItems, checkpoints: OpenCheckpoints) -> None:
    outcomes = run_items(people())
    priya_lead = outcomes[0]["lead_id"]
    assert outcomes[1]["lead_id"] == priya_lead  # her second item merged into her lead
    jonas_lead = outcomes[2]["lead_id"]
    # the API would also have left her raw item on the intake queue
    tools.crm.record_intake([(priya_lead, people()[0])], "accepted by the API",
                            tools.clock.now())
    before = counted(tools)
    decisions = tools.crm.get_lead(priya_lead)["outcome"]["decisions"]  # type: ignore[index]
    assert set(traces(backend, database_url, tmp_path, PRIYA_NEEDLES)) >= {
        "crm.leads", "crm.contacts", "crm.messages", "crm.notifications",
        "crm.outreach_drafts", "crm.queue_items", "checkpoints.checkpoints",
        "checkpoints.writes"} if backend == "sqlite" else {
        "leads", "contacts", "messages", "notifications", "outreach_drafts", "queue_items",
        "checkpoint_blobs"}  # the test sees her before

    report = erase(checkpoints, tools, "Priya.NAIR@LumenHealth.com")

    assert report is not None and report.lead_ids == (priya_lead,)
    assert report.threads == 2  # her lead's thread and her second item's own
    assert traces(backend, database_url, tmp_path, PRIYA_NEEDLES) == {}
    assert not thread_exists(checkpoints, priya_lead)
    # the others are intact: their rows, their threads
    jonas = tools.crm.get_lead(jonas_lead)
    assert jonas is not None and jonas["email_key"] == JONAS and jonas["erased_at"] is None
    assert jonas["outcome"]["contact"]["first_name"] == "Jonas"
    assert thread_exists(checkpoints, jonas_lead)
    assert all(thread_exists(checkpoints, o["lead_id"]) for o in outcomes[2:])
    # her lead stays, anonymised, and every number of the dashboard's history is as before
    kept = tools.crm.get_lead(priya_lead)
    assert kept is not None and kept["erased_at"] is not None
    assert (kept["status"], kept["tier"], kept["bant_total"]) == (
        outcomes[0]["status"], outcomes[0]["bant"]["tier"], outcomes[0]["bant"]["total"])
    assert kept["outcome"]["contact"]["email"] == ERASED
    assert kept["outcome"]["decisions"] == decisions  # every step's timing and result
    assert tools.crm.get_assignment(priya_lead)["rep_id"] == \
        outcomes[0]["assignment"]["rep_id"]  # type: ignore[index]
    assert counted(tools) == before
    # the erasure is audited: who, when, what; nothing of hers (the scan above read it too)
    [entry] = tools.crm.erasures()
    assert entry["requested_by"] == "dpo@ops" and entry["reason"] == "request"
    assert entry["lead_ids"] == [priya_lead] and entry["threads"] == 2
    assert entry["rows"]["leads"] == 1 and entry["rows"]["messages"] > 0
    assert entry["rows"] == report.rows
    # she is unknown now; forgetting again finds nobody
    assert erase(checkpoints, tools, PRIYA) is None


def test_a_lead_id_of_hers_finds_all_of_her(tools: Toolbox, run_items: RunItems,
                                           checkpoints: OpenCheckpoints,
                                           tmp_path: Path, database_url: str) -> None:
    """Her second item's own id (`LEAD-<fingerprint>`) reaches her lead, her contact and
    both threads."""
    outcomes = run_items(people()[:2])
    from leadflow.identity import workflow_id_for

    second = workflow_id_for(people()[1])
    assert second != outcomes[0]["lead_id"]
    report = erase(checkpoints, tools, second)
    assert report is not None and report.lead_ids == (outcomes[0]["lead_id"],)
    assert traces("sqlite", database_url, tmp_path, PRIYA_NEEDLES) == {}


def test_an_erasure_waits_for_a_runner_holding_the_lead(
        tools: Toolbox, run_items: RunItems, checkpoints: OpenCheckpoints) -> None:
    """A lead mid-run: its runner's lease is waited for, so nothing is written back."""
    [outcome] = run_items(people()[:1])
    lead_id = outcome["lead_id"]
    assert tools.crm.acquire_lease(lead_id, "elsewhere:1:runner", ttl_s=60)

    async def go() -> tuple[bool, Any]:
        async with checkpoints() as saver:
            task = asyncio.create_task(forget(tools.crm, saver, PRIYA, requested_by="t",
                                              now=tools.clock.now()))
            await asyncio.sleep(0.5)
            waited = not task.done()
            await asyncio.to_thread(tools.crm.release_lease, lead_id, "elsewhere:1:runner")
            return waited, await asyncio.wait_for(task, 30)

    waited, report = asyncio.run(go())
    assert waited and report is not None and report.lead_ids == (lead_id,)
    assert tools.crm.lease_holder(lead_id) is None


@pytest.mark.db_backends
def test_retention_anonymises_idle_unconverted_leads_only(
        tools: Toolbox, run_items: RunItems, checkpoints: OpenCheckpoints) -> None:
    outcomes = run_items(people())
    priya, jonas, carla = outcomes[0]["lead_id"], outcomes[2]["lead_id"], outcomes[3]["lead_id"]
    tools.crm.record_event(jonas, "meeting_booked", START + timedelta(days=2))  # converted
    tools.crm.record_event(carla, "replied", START + timedelta(days=200))  # active later
    later = months_before(START + timedelta(days=200), -12)  # a year after Carla's reply

    async def go(now: Any, dry_run: bool) -> Any:
        async with checkpoints() as saver:
            return await apply_retention(tools.crm, saver, 12, now=now, requested_by="cron",
                                         dry_run=dry_run)

    nearly = asyncio.run(go(START + timedelta(days=360), dry_run=False))
    assert nearly.lead_ids == []  # nobody idle for 12 months yet
    dry = asyncio.run(go(later, dry_run=True))
    assert sorted(dry.lead_ids) == [priya] and tools.crm.erasures() == []
    done = asyncio.run(go(later, dry_run=False))
    assert done.lead_ids == [priya]
    assert tools.crm.get_lead(priya)["erased_at"] is not None  # type: ignore[index]
    for kept in (jonas, carla):
        assert tools.crm.get_lead(kept)["erased_at"] is None  # type: ignore[index]
    [entry] = tools.crm.erasures()
    assert entry["reason"] == "retention" and entry["lead_ids"] == [priya]
    assert not thread_exists(checkpoints, priya) and thread_exists(checkpoints, jonas)
    again = asyncio.run(go(months_before(later, -120), dry_run=False))
    assert sorted(again.lead_ids) == sorted([carla])  # ten years on; Jonas converted


def test_months_before_keeps_the_day_within_the_month() -> None:
    from datetime import UTC, datetime

    assert months_before(datetime(2026, 3, 31, 9, tzinfo=UTC), 1) == \
        datetime(2026, 2, 28, 9, tzinfo=UTC)
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 13) == \
        datetime(2024, 12, 15, tzinfo=UTC)


def test_the_scrubber_erases_whole_names_and_any_case() -> None:
    scrub = Scrubber(["Al", "Nair", "priya.nair@x.com", "+13035550148"])
    assert scrub({"a": ["Alicia met AL NAIR", "PRIYA.NAIR@X.COM wrote"], "n": 3}) == {
        "a": ["Alicia met [erased] [erased]", "[erased] wrote"], "n": 3}
    assert scrub("call +13035550148") == "call [erased]"


def leadflow_cli(*args: str, database_url: str, tmp_path: Path,
                 **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    environment.update(LEADFLOW_HOME=str(tmp_path / "home"), LEADFLOW_DATABASE_URL=database_url,
                       LEADFLOW_CHECKPOINT_DB=str(tmp_path / "checkpoints.db"), COLUMNS="200",
                       **env)
    return subprocess.run([sys.executable, "-m", "leadflow.cli", *args], env=environment,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_cli_forgets_and_applies_retention(tools: Toolbox, run_items: RunItems,
                                               database_url: str, tmp_path: Path) -> None:
    outcomes = run_items(people())
    unknown = leadflow_cli("forget", "nobody@example.com", database_url=database_url,
                           tmp_path=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.strip().splitlines() == ["error: nobody is known by "
                                                   "nobody@example.com"]
    wrong = leadflow_cli("forget", "someone", database_url=database_url, tmp_path=tmp_path)
    assert wrong.returncode == 1 and wrong.stderr.startswith("error:")
    done = leadflow_cli("forget", PRIYA.upper(), "--by", "dpo", database_url=database_url,
                        tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert outcomes[0]["lead_id"] in done.stdout and "audit entry 1" in done.stdout
    assert traces("sqlite", database_url, tmp_path, PRIYA_NEEDLES) == {}
    assert tools.crm.erasures()[0]["requested_by"] == "dpo"

    off = leadflow_cli("retention", "apply", database_url=database_url, tmp_path=tmp_path)
    assert off.returncode == 0 and "retention is off" in off.stdout
    bad = leadflow_cli("retention", "apply", database_url=database_url, tmp_path=tmp_path,
                       LEADFLOW_RETENTION_MONTHS="soon")
    assert bad.returncode == 2 and bad.stderr.startswith("error: LEADFLOW_RETENTION_MONTHS")
    dry = leadflow_cli("retention", "apply", "--dry-run", "--now", "2028-01-01T00:00:00Z",
                       database_url=database_url, tmp_path=tmp_path,
                       LEADFLOW_RETENTION_MONTHS="12")
    assert dry.returncode == 0, dry.stderr
    assert "would anonymise 2 lead(s)" in dry.stdout  # Jonas and Carla; Priya is erased
    applied = leadflow_cli("retention", "apply", "--now", "2028-01-01T00:00:00Z",
                           database_url=database_url, tmp_path=tmp_path,
                           LEADFLOW_RETENTION_MONTHS="12")
    assert applied.returncode == 0 and "anonymised 2 lead(s)" in applied.stdout
    # Carla's company bore her name (duarte-design.pt) and was hers alone: it goes too
    assert traces("sqlite", database_url, tmp_path, (JONAS, "jonas", "carla", "duarte")) == {}
    with sqlite3.connect(tmp_path / "crm.db") as conn:
        assert ("Nordic Steel AB", "nordicsteel.se") in conn.execute(
            "SELECT name, domain FROM accounts").fetchall()  # a company is not a person


def test_the_api_forgets_a_contact_behind_the_key(tools: Toolbox, tmp_path: Path) -> None:
    server, thread, url = start_server(tools, tmp_path)
    try:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
            ids = []
            for item in people()[:3]:  # one after the other: her first item makes her lead
                [lead_id] = client.post("/leads", json=item).json()["lead_ids"]
                wait_for(client, lead_id)
                ids.append(lead_id)
            assert httpx.delete(f"{url}/contacts/{PRIYA}").status_code == 401
            response = client.delete(f"/contacts/{PRIYA.upper()}")
            assert response.status_code == 200, response.text
            receipt = response.json()
            assert receipt["lead_ids"] == [ids[0]] and receipt["threads"] == 2
            assert receipt["rows"]["queue_items"] >= 2  # both items' intake entries
            assert client.delete(f"/contacts/{PRIYA}").status_code == 404
            assert client.delete("/contacts/not-an-address").status_code == 422
            view = client.get(f"/leads/{ids[0]}").json()  # still there, anonymised
            assert view["outcome"]["contact"]["email"] == ERASED
            assert not found_in(view, PRIYA_NEEDLES)
    finally:
        stop_server(server, thread)
    assert traces("sqlite", f"sqlite:///{tmp_path / 'crm.db'}", tmp_path, PRIYA_NEEDLES) == {}
    assert tools.crm.erasures()[0]["requested_by"] == "api (127.0.0.1)"
