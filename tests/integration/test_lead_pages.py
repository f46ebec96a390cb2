"""Pages of `leads list` / GET /leads on SQLite and PostgreSQL: filtered by status, tier,
rep (the lead's current owner) and ingestion time, walked by keyset cursor (newest first by
ingested_at, then id: no lead skipped or repeated where several share a timestamp), a cursor
or date that is not one refused, and each filter combination read through its index (the
plans are read, so dropping an index fails here)."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, insert, text
from typer.testing import CliRunner

from leadflow import cli
from leadflow.db import alembic_config, libpq_conninfo, sqlalchemy_url, sqlite_file
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Assignment, CrmStore, Lead
from leadflow.tools.crm_reads import PAGE_INDEXES, BadListing, LeadPage, encode_cursor
from tests.conftest import database_at
from tests.integration.test_api import HEADERS, start_server, stop_server

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STATUSES = ("routed", "nurture", "marketing", "escalated")
TIERS = ("hot", "warm", "cold")
REPS = ("rep-na-01", "rep-emea-02", None)
# Filters to walk: one of each, combinations, a time window, and ones that match nothing.
FILTERS: list[dict[str, Any]] = [
    {}, {"status": "nurture"}, {"tier": "hot"}, {"rep": "rep-na-01"},
    {"status": "routed", "tier": "warm"}, {"rep": "rep-emea-02", "tier": "cold"},
    {"status": "nurture", "tier": "hot", "rep": "rep-na-01"},
    {"since": T0 + timedelta(minutes=3)}, {"until": T0 + timedelta(minutes=5)},
    {"since": T0 + timedelta(minutes=2), "until": T0 + timedelta(minutes=6),
     "rep": "rep-na-01"},
    {"status": "manual_review"}, {"rep": "rep-nobody"},
]


def lead_row(n: int, at: datetime) -> dict[str, Any]:
    return {"id": f"LEAD-p{n:04d}", "status": STATUSES[n % 4], "tier": TIERS[n % 3],
            "rep_id": REPS[n % 5 % 3], "record": {"n": n}, "ingested_at": at, "updated_at": at}


def add_leads(crm: CrmStore, rows: list[dict[str, Any]]) -> None:
    with crm.engine.begin() as conn:
        conn.execute(insert(Lead), rows)


@pytest.fixture
def ties(tools: Toolbox) -> list[dict[str, Any]]:
    """41 leads, four to a minute (the same ingested_at), ids not in arrival order."""
    rows = [lead_row(n, T0 + timedelta(minutes=(n * 7 % 41) // 4)) for n in range(41)]
    add_leads(tools.crm, rows)
    return rows


def expected(rows: list[dict[str, Any]], f: dict[str, Any]) -> list[str]:
    """The filter's leads in page order, computed here without SQL."""
    kept = [r for r in rows
            if all(r[c] == f[k] for k, c in (("status", "status"), ("tier", "tier"),
                                              ("rep", "rep_id")) if k in f)
            and ("since" not in f or r["ingested_at"] >= f["since"])
            and ("until" not in f or r["ingested_at"] < f["until"])]
    return [r["id"] for r in sorted(kept, key=lambda r: (r["ingested_at"], r["id"]),
                                    reverse=True)]


def walk(crm: CrmStore, limit: int, **f: Any) -> list[LeadPage]:
    pages = [crm.lead_page(limit=limit, **f)]
    while pages[-1].next_cursor is not None:
        assert len(pages) < 100
        pages.append(crm.lead_page(limit=limit, cursor=pages[-1].next_cursor, **f))
    return pages


@pytest.mark.db_backends
def test_walking_the_pages_meets_every_lead_once_in_order(tools: Toolbox,
                                                          ties: list[dict[str, Any]]) -> None:
    for f, limit in itertools.product(FILTERS, (1, 3, 4, 50)):
        want = expected(ties, f)
        pages = walk(tools.crm, limit, **f)
        got = [lead["id"] for page in pages for lead in page.leads]
        assert got == want, (f, limit)
        # full pages but the last; the last is not empty unless nothing matches, and a page
        # that ends exactly at the last lead says there is no next one
        assert [len(p.leads) for p in pages[:-1]] == [limit] * (len(pages) - 1), (f, limit)
        assert len(pages) == max(1, -(-len(want) // limit)), (f, limit)
        for page in pages:
            assert all(lead["ingested_at"].utcoffset() == timedelta(0) for lead in page.leads)
    assert len(expected(ties, {"status": "nurture", "tier": "hot", "rep": "rep-na-01"})) >= 1
    assert expected(ties, {"rep": "rep-nobody"}) == []
    # a cursor is a position: a lead that arrived since does not shift the pages after it
    first = tools.crm.lead_page(limit=5)
    add_leads(tools.crm, [lead_row(900, T0 + timedelta(days=1))])
    after = tools.crm.lead_page(limit=5, cursor=first.next_cursor)
    assert [lead["id"] for lead in after.leads] == expected(ties, {})[5:10]
    assert tools.crm.list_leads(limit=1)[0]["id"] == "LEAD-p0900"


@pytest.mark.db_backends
def test_the_owner_is_the_assignment_s_rep_and_follows_a_reassignment(tools: Toolbox) -> None:
    add_leads(tools.crm, [lead_row(n, T0 + timedelta(minutes=n)) for n in range(3)])
    for n in range(3):
        tools.crm.update_lead(f"LEAD-p{n:04d}", T0, **{"rep_id": None})
    tools.crm.assign(lead_id="LEAD-p0001", rep_id="rep-apac-01", kind="rep", region="APAC",
                     segment="smb", reason="round robin", audit={}, now=T0,
                     speed_to_lead_seconds=1.0, account_id=None)
    tools.crm.assign(lead_id="LEAD-p0002", rep_id="rep-apac-01", kind="rep", region="APAC",
                     segment="smb", reason="round robin", audit={}, now=T0,
                     speed_to_lead_seconds=1.0, account_id=None)
    assert [lead["id"] for lead in tools.crm.list_leads(rep="rep-apac-01")] == [
        "LEAD-p0002", "LEAD-p0001"]
    tools.crm.reassign("LEAD-p0001", "rep-apac-02", T0, "out of office")
    assert [lead["id"] for lead in tools.crm.list_leads(rep="rep-apac-01")] == ["LEAD-p0002"]
    assert [(lead["id"], lead["rep_id"]) for lead in tools.crm.list_leads(rep="rep-apac-02")
            ] == [("LEAD-p0001", "rep-apac-02")]
    # a replayed assignment keeps the first decision, on the lead row too
    tools.crm.assign(lead_id="LEAD-p0002", rep_id="rep-na-01", kind="rep", region="NA",
                     segment="smb", reason="replay", audit={}, now=T0,
                     speed_to_lead_seconds=1.0, account_id=None)
    assert tools.crm.get_lead("LEAD-p0002")["rep_id"] == "rep-apac-01"  # type: ignore[index]


@pytest.mark.db_backends
def test_a_cursor_that_is_not_one_is_refused(tools: Toolbox,
                                             ties: list[dict[str, Any]]) -> None:
    good = tools.crm.lead_page(limit=2).next_cursor
    assert good is not None
    for bad in ("", "abc", good + "!", good.replace(".", ":"), "1.2.3", "12345678901234567.QQ",
                good.split(".")[0] + ".A", "-5.QUJD", "x" * 300, "1796083208000000."):
        if bad.endswith("."):  # an empty id is a position before every id of that instant
            assert tools.crm.lead_page(cursor=bad).leads is not None
            continue
        with pytest.raises(BadListing, match="not a page cursor"):
            tools.crm.lead_page(cursor=bad)
    # any well-formed cursor is a position, also one no page printed
    odd = encode_cursor(T0 + timedelta(minutes=5, seconds=30), "LEAD-ü\u202e'%s?")
    assert [lead["id"] for lead in tools.crm.lead_page(cursor=odd, limit=100).leads] == [
        r for r in expected(ties, {})
        if next(x for x in ties if x["id"] == r)["ingested_at"] <= T0 + timedelta(minutes=5)]


def plans(tools: Toolbox, backend: str, f: dict[str, Any]) -> str:
    """The database's plan of the page query for filter `f` (and a cursor)."""
    reader = tools.crm.reads
    sql, params = reader.page_query(limit=51, **{"status": None, "tier": None, "rep": None,
                                                 "since": None, "until": None,
                                                 "cursor": None, **f})
    with tools.crm.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        if backend == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        # the plan that an index in page order makes possible, however few rows there are
        # (on a table this small the planner would as soon sort the few leads that match)
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute("EXPLAIN " + sql.replace("?", "%s"), params)
        return "\n".join(str(row[0]) for row in cursor.fetchall())


@pytest.mark.db_backends
def test_every_filter_combination_reads_its_index_in_page_order(tools: Toolbox,
                                                                backend: str) -> None:
    """No full scan and no sort of the matching leads: the plan reads an index whose first
    column is a filter's (or the arrival index with none), already in page order."""
    # as many statuses, tiers and reps as a CRM has: each filter picks a few percent
    add_leads(tools.crm, [{**lead_row(n, T0 + timedelta(seconds=n)),
                           "status": f"s{n % 6}", "tier": f"t{n // 6 % 4}",
                           "rep_id": f"rep-{n // 24 % 14}"} for n in range(3000)])
    with tools.crm.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    cursor = encode_cursor(T0 + timedelta(seconds=2000), "LEAD-p2000")
    equal = {"status": "s1", "tier": "t2", "rep": "rep-3"}
    ranges: list[dict[str, Any]] = [
        {}, {"since": T0 + timedelta(seconds=10)}, {"until": T0 + timedelta(seconds=2500)},
        {"since": T0 + timedelta(seconds=10), "until": T0 + timedelta(seconds=2500)}]
    checked = 0
    for size in range(4):
        for names in itertools.combinations(equal, size):
            for window, with_cursor in itertools.product(ranges, (False, True)):
                f = {**{n: equal[n] for n in names}, **window,
                     **({"cursor": cursor} if with_cursor else {})}
                plan = plans(tools, backend, f)
                columns = {"rep_id" if n == "rep" else n for n in names}
                exact = {name for name, cols in PAGE_INDEXES.items() if set(cols) == columns}
                assert len(exact) == 1
                indexes = exact
                if backend == "postgres" and (window or with_cursor):
                    # PostgreSQL may also read a shorter index from the cursor or bound on
                    # (its index condition there) and filter: as cheap where the filter's
                    # leads are spread over time, as the statistics say (without a range,
                    # each combination's own index is the one read: dropping it fails here)
                    indexes = {name for name, cols in PAGE_INDEXES.items()
                               if set(cols) <= columns}
                assert re.search(rf"\b({'|'.join(indexes)})\b", plan), (f, plan)
                if backend == "sqlite":
                    assert "TEMP B-TREE" not in plan, (f, plan)
                    assert "SCAN leads\n" not in plan + "\n", (f, plan)
                    if names or window or with_cursor:  # a range or a key: a SEARCH
                        assert "SEARCH leads USING" in plan, (f, plan)
                else:
                    assert "Index" in plan and "Seq Scan" not in plan, (f, plan)
                    assert "Sort" not in plan, (f, plan)
                checked += 1
    assert checked == 64


@pytest.fixture
def at_0004(backend: str, tmp_path: Path) -> Iterator[str]:
    """A CRM at revision 0004 (before leads.rep_id), dropped afterwards."""
    yield from database_at(backend, tmp_path, "0004")


@pytest.mark.db_backends
def test_migration_0005_takes_the_owner_from_the_assignments_and_goes_back(
        at_0004: str) -> None:
    engine = create_engine(sqlalchemy_url(at_0004))
    with engine.begin() as conn:
        for n, rep in ((1, "rep-na-01"), (2, None), (3, "mgr-emea")):
            conn.execute(insert(Lead).values(id=f"L-{n}", record={}, ingested_at=T0,
                                             updated_at=T0))
            if rep:
                conn.execute(insert(Assignment.__table__).values(
                    lead_id=f"L-{n}", rep_id=rep, kind="rep", reason="r", audit={},
                    is_open=True, assigned_at=T0))
    crm = CrmStore(at_0004)  # migrates to the head
    try:
        assert crm.migrated_from == "0004"
        assert {lead["id"]: lead["rep_id"] for lead in crm.list_leads()} == {
            "L-1": "rep-na-01", "L-2": None, "L-3": "mgr-emea"}
        assert [lead["id"] for lead in crm.list_leads(rep="mgr-emea")] == ["L-3"]
    finally:
        crm.close()
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0004")
    with engine.connect() as conn:
        columns = [row[0] for row in conn.execute(text(
            "SELECT name FROM pragma_table_info('leads')" if sqlite_file(at_0004)
            else "SELECT column_name FROM information_schema.columns "
                 "WHERE table_schema = current_schema() AND table_name = 'leads'"))]
    engine.dispose()
    assert "rep_id" not in columns and "ingested_at" in columns
    again = CrmStore(at_0004)  # and up again
    try:
        assert again.get_lead("L-1")["rep_id"] == "rep-na-01"  # type: ignore[index]
    finally:
        again.close()


def test_leads_list_pages_and_refuses_a_bad_cursor_or_date(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    crm = CrmStore(f"sqlite:///{home / 'crm.db'}")
    add_leads(crm, [lead_row(n, T0 + timedelta(minutes=n // 2)) for n in range(7)])
    crm.close()
    env = {"LEADFLOW_HOME": str(home), "LEADFLOW_DATABASE_URL": None,
           "LEADFLOW_CHECKPOINT_DB": None, "COLUMNS": "200"}
    run = CliRunner().invoke

    def listed(*args: str) -> tuple[list[str], str | None]:
        result = run(cli.app, ["leads", "list", *args], env=env)
        assert result.exit_code == 0, result.output
        ids = [line.split()[0] for line in result.stdout.splitlines()
               if line.startswith("LEAD-")]
        nexts = [line.split("--cursor ", 1)[1].strip() for line in result.stdout.splitlines()
                 if line.startswith("next page: --cursor ")]
        assert len(nexts) <= 1
        return ids, (nexts or [None])[0]

    seen: list[str] = []
    cursor: str | None = None
    while True:
        ids, cursor = listed("--limit", "3", *(("--cursor", cursor) if cursor else ()))
        seen += ids
        if cursor is None:
            break
    assert seen == [f"LEAD-p{n:04d}" for n in (6, 5, 4, 3, 2, 1, 0)]
    assert listed("--rep", "rep-emea-02", "--since", "2026-11-02T09:01:00Z")[0] == \
        [f"LEAD-p{n:04d}" for n in range(7)
         if REPS[n % 5 % 3] == "rep-emea-02" and n // 2 >= 1][::-1]
    assert listed("--until", "2026-11-01")[0] == []
    assert len(listed("--until", "2026-11-02", "--since", "2026-11-02")[0]) == 7
    for args, complaint in ((["--cursor", "nope"], "--cursor: not a page cursor"),
                            (["--since", "last tuesday"], "--since: not a date"),
                            (["--until", "2026-13-01"], "--until: not a date")):
        result = run(cli.app, ["leads", "list", *args], env=env)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: " + complaint), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_get_leads_pages_by_next_cursor_and_refuses_a_bad_one(tools: Toolbox,
                                                              tmp_path: Path) -> None:
    add_leads(tools.crm, [lead_row(n, T0 + timedelta(minutes=n // 3)) for n in range(10)])
    tools.crm.assign(lead_id="LEAD-p0003", rep_id="rep-latam-01", kind="rep",
                     region="LATAM", segment="smb", reason="r", audit={}, now=T0,
                     speed_to_lead_seconds=1.0, account_id=None)
    server, thread, url = start_server(tools, tmp_path)
    try:
        with httpx.Client(base_url=url, headers=HEADERS, timeout=30) as client:
            seen: list[str] = []
            response = client.get("/leads", params={"limit": 4, "tier": "hot"})
            while True:
                assert response.status_code == 200, response.text
                seen += [row["lead_id"] for row in response.json()]
                if "Next-Cursor" not in response.headers:
                    assert "Link" not in response.headers
                    break
                link = response.headers["Link"]
                assert link.endswith('>; rel="next"') and "tier=hot" in link
                response = client.get(link[1:link.index(">")])
            rows = [lead_row(n, T0 + timedelta(minutes=n // 3)) for n in range(10)]
            assert seen == expected(rows, {"tier": "hot"})
            owned = client.get("/leads", params={"rep": "rep-latam-01", "since": "2026-11-02",
                                                 "until": "2026-11-02T09:02:00+00:00"}).json()
            assert [(r["lead_id"], r["rep_id"]) for r in owned] == [
                ("LEAD-p0003", "rep-latam-01")]
            assert owned[0]["ingested_at"] == "2026-11-02T09:01:00Z"
            assert client.get("/leads", params={"since": "9999d"}).status_code == 200
            # an until date takes in its whole day; a date-time is an instant
            assert len(client.get("/leads", params={"until": "2026-11-02"}).json()) == 10
            assert client.get("/leads", params={"until": "2026-11-02T00:00:00Z"}).json() == []
            for params in ({"cursor": "nope"}, {"cursor": "1.A"}, {"since": "yesterday"},
                           {"until": "2026-02-30"}, {"rep": ""}, {"since": "1700000000"},
                           {"since": "2026-11-02T09:00"}):  # RFC 3339 has the zone
                refused = client.get("/leads", params=params)
                assert refused.status_code == 422, (params, refused.text)
                assert json.dumps(refused.json()).count(next(iter(params))) >= 1
    finally:
        stop_server(server, thread)


@pytest.mark.db_backends("postgres")
def test_postgres_pages_compare_instants_whatever_the_session_zone(
        tools: Toolbox, ties: list[dict[str, Any]], database_url: str) -> None:
    """A cursor and --since are instants: a session in another zone pages the same."""
    from leadflow.tools.crm_reads import open_reader

    elsewhere = open_reader(database_url + "%20-cTimeZone%3DPacific/Chatham")
    assert elsewhere is not None
    here = tools.crm.lead_page(limit=7, since=T0 + timedelta(minutes=1))
    there = elsewhere.lead_page(limit=7, since=T0 + timedelta(minutes=1))
    assert here == there and here.next_cursor is not None
    assert elsewhere.lead_page(limit=7, cursor=here.next_cursor) == tools.crm.lead_page(
        limit=7, cursor=here.next_cursor)
    with psycopg.connect(libpq_conninfo(database_url)) as conn:
        assert conn.execute("SELECT count(*) FROM leads").fetchone() == (41,)
