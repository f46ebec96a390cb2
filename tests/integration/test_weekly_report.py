"""`leadflow report weekly` on a simulated market: every number the Markdown shows is
counted again here with plain SQL (sqlite3, not the report's queries), and the HTML opens
offline (no http(s) source or link)."""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadflow import cli

pytestmark = pytest.mark.slow

AS_OF = "2026-10-19T00:00:00Z"  # the end of the 14 simulated days from 2026-10-05
W41 = ("2026-10-05 00:00:00", "2026-10-12 00:00:00")
W42 = ("2026-10-12 00:00:00", "2026-10-19 00:00:00")
TOUCHED = "('contacted','replied','meeting_booked','closed_won')"


def invoke(home: Path, *args: str) -> Any:
    env = {"LEADFLOW_HOME": str(home), "LEADFLOW_DATABASE_URL": None,
           "LEADFLOW_CHECKPOINT_DB": None, "LEADFLOW_MODEL": None, "COLUMNS": "160"}
    return CliRunner().invoke(cli.app, list(args), env=env)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("weekly")
    result = invoke(home, "simulate", "--days", "14", "--leads-per-day", "10", "--seed", "3")
    assert result.exit_code == 0, result.output
    return home


def report(home: Path, out: Path, week: str, as_of: str = AS_OF) -> str:
    result = invoke(home, "report", "weekly", "--week", week, "--out", str(out),
                    "--as-of", as_of)
    assert result.exit_code == 0, result.output
    return (out / f"weekly-{week}.md").read_text(encoding="utf-8")


def table(md: str, heading: str, nth: int = 0) -> list[dict[str, str]]:
    """The nth Markdown table under `heading`, as rows keyed by the header."""
    section = md.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]
    tables = re.findall(r"((?:^\|.*\|\n)+)", section, flags=re.MULTILINE)
    lines = tables[nth].strip().split("\n")
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(head, (c.strip() for c in line.strip("|").split("|")), strict=True))
            for line in lines[2:]]


def sql(home: Path, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(home / "crm.db") as conn:
        return conn.execute(query, params).fetchall()


COHORT = ("SELECT l.id, l.channel, l.tier, l.status, l.bant_total, a.kind FROM leads l "
          "LEFT JOIN assignments a ON a.lead_id = l.id "
          "WHERE l.ingested_at >= ? AND l.ingested_at < ?")


def funnel_by_sql(home: Path, week: tuple[str, str]) -> dict[str, int]:
    def reached(types: str) -> str:
        return f"EXISTS (SELECT 1 FROM events e WHERE e.lead_id = c.id AND e.event_type IN {types})"
    conditions = {
        "captured": "1", "qualified": "c.tier IN ('hot', 'warm')", "routed": "c.kind = 'rep'",
        "contacted": reached(TOUCHED),
        "replied": reached("('replied','meeting_booked','closed_won')"),
        "meeting": reached("('meeting_booked','closed_won')"),
        "won": reached("('closed_won')"), "lost": reached("('closed_lost')")}
    return {stage: sql(home, f"SELECT count(*) FROM ({COHORT}) c WHERE {cond}", *week)[0][0]
            for stage, cond in conditions.items()}


def test_the_funnel_and_its_breakdowns_match_sql(market: Path, tmp_path: Path) -> None:
    md = report(market, tmp_path, "2026-W41")
    expected = funnel_by_sql(market, W41)
    assert expected["captured"] > 40 and expected["meeting"] > 0  # a real week to check
    shown = {row["stage"]: int(row["leads"]) for row in table(md, "## Funnel")}
    assert shown == expected
    # the trend's row of the week is the same funnel; the later week is empty in W41's report
    trend = {row["week"]: row for row in table(md, "## Trend")}
    assert {s: int(v) for s, v in trend["2026-W41"].items() if s != "week"} == expected
    by_source = {row["source"]: (int(row["captured"]), int(row["routed"]), int(row["meeting"]))
                 for row in table(md, "## Funnel by source")}
    channels = sql(market, f"SELECT c.channel, count(*), sum(c.kind = 'rep'), sum(EXISTS ("
                           "SELECT 1 FROM events e WHERE e.lead_id = c.id AND e.event_type IN "
                           f"('meeting_booked','closed_won'))) FROM ({COHORT}) c "
                           "GROUP BY c.channel", *W41)
    assert by_source == {ch: (n, routed, met) for ch, n, routed, met in channels}
    by_tier = {row["tier"]: int(row["captured"]) for row in table(md, "## Funnel by tier")}
    assert by_tier == dict(sql(market, f"SELECT c.tier, count(*) FROM ({COHORT}) c "
                                       "GROUP BY c.tier", *W41))
    statuses = {row["status"]: int(row["leads"]) for row in table(md, "## Errors")}
    assert statuses == dict(sql(market, f"SELECT coalesce(c.status, 'in_progress'), count(*) "
                                        f"FROM ({COHORT}) c GROUP BY 1", *W41))


def test_the_next_week_and_the_trend(market: Path, tmp_path: Path) -> None:
    md = report(market, tmp_path, "2026-W42")
    trend = {row["week"]: row for row in table(md, "## Trend")}
    for label, week in (("2026-W41", W41), ("2026-W42", W42)):
        assert {s: int(v) for s, v in trend[label].items() if s != "week"} == \
            funnel_by_sql(market, week)
    assert {row["stage"]: int(row["previous week"]) for row in table(md, "## Funnel")} == \
        funnel_by_sql(market, W41)


def test_sla_breaches_by_rep_match_sql(market: Path, tmp_path: Path) -> None:
    md = report(market, tmp_path, "2026-W41")
    shown = {row["rep"]: (int(row["clocks"]), int(row["late"]), int(row["overdue"]),
                          int(row["escalated"])) for row in table(md, "## SLA breaches by rep")}
    rows = sql(market, "SELECT s.rep_id, count(*), sum(s.first_touch_at > s.due_at), "
                       "sum(s.first_touch_at IS NULL AND s.state != 'closed' AND s.due_at < ?), "
                       "sum(s.escalated_at IS NOT NULL) FROM sla_clocks s JOIN leads l ON "
                       "l.id = s.lead_id WHERE l.ingested_at >= ? AND l.ingested_at < ? "
                       "GROUP BY s.rep_id", "2026-10-19 00:00:00", *W41)
    assert shown == {rep: (n, late or 0, overdue or 0, esc) for rep, n, late, overdue, esc in rows}
    assert sum(late for _, late, _, _ in shown.values()) > 0  # the week has breaches to show


def test_step_durations_and_tier_conversion_match_sql(market: Path, tmp_path: Path) -> None:
    md = report(market, tmp_path, "2026-W42")
    agents = {row["agent"]: row for row in table(md, "## Bottlenecks")}
    values: dict[str, list[float]] = {}
    for key, value in sql(market, "SELECT v.key, v.value FROM metric_values v JOIN leads l ON "
                                  "l.id = v.lead_id WHERE v.name = 'duration_ms' AND "
                                  "l.ingested_at >= ? AND l.ingested_at < ?", *W42):
        values.setdefault(key, []).append(value)
    assert set(agents) == set(values)
    for agent, measured in values.items():
        measured.sort()
        p95 = measured[math.ceil(0.95 * len(measured)) - 1]
        assert int(agents[agent]["steps"]) == len(measured)
        assert int(agents[agent]["p95 ms"]) == round(p95)
    tiers = {row["tier"]: row for row in table(md, "## Conversion by tier")}
    worked = sql(market, "SELECT l.tier, count(*), sum(EXISTS (SELECT 1 FROM events e WHERE "
                         "e.lead_id = l.id AND e.event_type IN ('meeting_booked','closed_won')))"
                         " FROM leads l JOIN assignments a ON a.lead_id = l.id AND a.kind = 'rep'"
                         " WHERE l.ingested_at >= ? AND l.ingested_at < ? AND l.bant_total IS "
                         "NOT NULL GROUP BY l.tier", W41[0], W42[1])
    assert {t: (int(tiers[t]["worked"]), int(tiers[t]["converted"])) for t, _, _ in worked} == \
        {t: (n, k) for t, n, k in worked}
    findings = md.split("## Conversion by tier", 1)[1]
    assert "**thin_data**" in findings  # ~50 worked leads: no recommendation on that
    assert "lower the" not in findings and "raise the" not in findings


def test_the_html_is_one_self_contained_file(market: Path, tmp_path: Path) -> None:
    report(market, tmp_path, "2026-W41")
    page = (tmp_path / "weekly-2026-W41.html").read_text(encoding="utf-8")
    assert page.count("<svg") >= 3 and "<table>" in page
    assert not re.search(r"""(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"<(?:script|link|img|iframe)\b|@import|url\(", page, re.I)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weekly-2026-W41.html",
                                                          "weekly-2026-W41.md"]


def test_calibration_of_a_stored_model_matches_sql(market: Path, tmp_path: Path) -> None:
    home = tmp_path / "scored"
    home.mkdir()
    shutil.copy(market / "crm.db", home / "crm.db")
    no_model = report(market, tmp_path / "none", "2026-W42")
    assert "no model" in no_model.split("## Model calibration and drift", 1)[1]
    routed = [r[0] for r in sql(home, "SELECT lead_id FROM assignments WHERE kind = 'rep'")]
    metrics = {"ece": 0.05, "horizon_days": 30, "positive_events": ["meeting_booked",
                                                                    "closed_won"]}
    scores = {lead: (zlib.crc32(lead.encode()) % 1000) / 1000 for lead in routed}
    with sqlite3.connect(home / "crm.db") as conn:
        conn.execute("INSERT INTO models (version, kind, status, created_at, trained_through, "
                     "horizon_days, n_train, n_test, metrics, features, artefact, sha256) "
                     "VALUES (1, 'logistic', 'promoted', '2026-10-01 00:00:00.000000', "
                     "'2026-10-01 00:00:00.000000', 30, 300, 100, ?, '[]', x'00', 'x')",
                     (json.dumps(metrics),))
        conn.executemany(
            "INSERT INTO lead_scores VALUES (?, 1, 'promoted', ?, ?, '[]', "
            "'2026-10-10 00:00:00.000000')",
            [(lead, p, "ABCD"[3 - sum(p >= c for c in (0.25, 0.5, 0.75))])
             for lead, p in scores.items()])
    md = report(home, tmp_path / "scored-out", "2026-W42", as_of="2026-12-31T00:00:00Z")
    section = md.split("## Model calibration and drift", 1)[1]
    converted = {r[0] for r in sql(home, "SELECT DISTINCT e.lead_id FROM events e JOIN leads l "
                                         "ON l.id = e.lead_id WHERE e.event_type IN "
                                         "('meeting_booked','closed_won') AND julianday("
                                         "e.occurred_at) <= julianday(coalesce(l.received_at, "
                                         "l.ingested_at)) + 30")}
    assert f"Reliability over the {len(routed)} scored leads" in section
    assert f"({len(converted & set(routed))} converted)" in section
    bins: dict[str, list[bool]] = {}
    for lead, p in scores.items():
        b = min(int(p * 10), 9)
        bins.setdefault(f"{b / 10:.1f}–{(b + 1) / 10:.1f}", []).append(lead in converted)
    shown = {row["probability"]: (int(row["leads"]), float(row["observed"]))
             for row in table(md, "## Model calibration and drift")}
    assert shown == {k: (len(v), round(sum(v) / len(v), 2)) for k, v in bins.items()}
    week_leads = [r[0] for r in sql(home, "SELECT a.lead_id FROM assignments a JOIN leads l ON "
                                          "l.id = a.lead_id WHERE a.kind = 'rep' AND "
                                          "l.ingested_at >= ? AND l.ingested_at < ?", *W42)]
    assert f"Drift: {len(week_leads)} leads scored this week" in section
