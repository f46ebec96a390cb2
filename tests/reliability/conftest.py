"""Fault-injection suite (marker `reliability`): batches of distinct synthetic leads under an
LLM that fails, a PostgreSQL that drops its connections, and a worker killed with SIGKILL.

Every scenario audits the CRM afterwards with `audit_crm` (each lead in a SPEC §6 status;
none lost; no duplicated lead, assignment or notification) and adds its figures to the
table printed at the end of the pytest run (the `terminal_summary` hook, so it shows in CI
output without `-s`)."""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from leadflow.data.synthetic import synthetic_leads
from leadflow.identity import workflow_id_for
from leadflow.tools.crm import STATUSES, Assignment, CrmStore, Lead, LeadSource, Notification
from tests.conftest import POSTGRES_URL, postgres_admin, with_search_path

# Every prompt quotes the lead's inquiry inside <lead_data>; a reference there lets the
# scripted LLM say which lead each of its questions was about.
LEAD_REF = r"\bRef ([A-Z0-9]+-\d{6})\b"


def tagged_leads(count: int, seed: int, prefix: str) -> list[dict[str, Any]]:
    """`count` distinct synthetic web-form leads whose inquiry ends with `Ref <id>`."""
    items = synthetic_leads(count, seed=seed, prefix=prefix)
    for item in items:
        item["payload"]["message"] += f" Ref {item['id']}."
    return items


@dataclass
class Figures:
    """One row of the summary table."""

    scenario: str
    leads: int  # distinct leads submitted
    statuses: dict[str, int] = field(default_factory=dict)
    unsettled: int = 0  # in the CRM without a SPEC §6 status
    lost: int = 0  # submitted, not in the CRM
    dup_leads: int = 0  # CRM leads or source rows beyond one per submitted lead
    dup_assignments: int = 0
    dup_notifications: int = 0  # same lead + audience + kind more than once
    fallbacks: int = 0  # leads an LLM failure sent to the rules (flag llm_fallback)
    retries: str = ""  # what was retried, scenario-specific
    seconds: float = 0.0

    def assert_clean(self) -> None:
        assert (self.unsettled, self.lost, self.dup_leads, self.dup_assignments,
                self.dup_notifications) == (0, 0, 0, 0, 0), self


REPORT: list[Figures] = []


def audit_crm(crm: CrmStore, items: list[dict[str, Any]], scenario: str) -> Figures:
    """The invariants, counted from the CRM itself (not from what the runner returned)."""
    expected = {workflow_id_for(item, None) for item in items}
    with crm.engine.connect() as conn:
        leads = conn.execute(select(Lead.id, Lead.status, Lead.outcome)).all()
        sources = int(conn.execute(select(func.count()).select_from(LeadSource)).scalar() or 0)
        assigned = Counter(conn.execute(select(Assignment.lead_id)).scalars())
        notices = conn.execute(select(Notification.lead_id, Notification.audience,
                                      Notification.recipient, Notification.dedupe_key)).all()
    ids = {row.id for row in leads}
    kinds = Counter((n.lead_id, n.audience, _notice_kind(n)) for n in notices)
    figures = Figures(
        scenario=scenario, leads=len(expected),
        statuses=dict(Counter(str(row.status) for row in leads)),
        unsettled=sum(1 for row in leads if row.status not in STATUSES),
        lost=len(expected - ids),
        dup_leads=len(ids - expected) + max(0, sources - len(expected)),
        dup_assignments=sum(n - 1 for n in assigned.values()) + len(set(assigned) - ids),
        dup_notifications=sum(n - 1 for n in kinds.values()),
        fallbacks=sum(1 for row in leads if "llm_fallback" in ((row.outcome or {}).get("flags")
                                                               or [])),
    )
    return figures


def _notice_kind(row: Any) -> str:
    """The step that raised a notice: its dedupe key is `lead:step:audience:recipient`."""
    key = str(row.dedupe_key)
    head, tail = f"{row.lead_id}:", f":{row.audience}:{row.recipient}"
    if key.startswith(head) and key.endswith(tail):
        return key[len(head):-len(tail)]
    return key


def fallback_sources(crm: CrmStore) -> set[str]:
    """Source ids (the `Ref` of tagged leads) of the leads flagged llm_fallback."""
    with crm.engine.connect() as conn:
        rows = conn.execute(select(Lead.outcome)).scalars().all()
    return {str(o.get("source_id")) for o in rows
            if o and "llm_fallback" in (o.get("flags") or [])}


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not REPORT:
        return
    head = ("scenario", "leads", "statuses", "unsettled", "lost", "dup leads", "dup assign",
            "dup notif", "fallbacks", "retries", "seconds")
    rows = [(f.scenario, str(f.leads),
             " ".join(f"{k}={v}" for k, v in sorted(f.statuses.items())),
             str(f.unsettled), str(f.lost), str(f.dup_leads), str(f.dup_assignments),
             str(f.dup_notifications), str(f.fallbacks), f.retries, f"{f.seconds:.1f}")
            for f in REPORT]
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    terminalreporter.section("fault injection (tests/reliability)")
    for row in (head, *rows):
        terminalreporter.write_line("  ".join(c.ljust(w) for c, w in zip(row, widths,
                                                                          strict=True)))


@dataclass(frozen=True)
class PgSchema:
    url: str  # search_path = the schema; application_name = `app`
    app: str  # tags this test's connections, so only they are terminated


@pytest.fixture
def pg_schema() -> Iterator[PgSchema]:
    """A fresh schema (CRM + checkpoints) for one test, dropped afterwards. Its connections
    carry their own application_name: the server is shared, only ours may be cut."""
    admin = postgres_admin()
    schema, app = f"lf_rel_{uuid.uuid4().hex[:12]}", f"lf-rel-{uuid.uuid4().hex[:8]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield PgSchema(f"{with_search_path(POSTGRES_URL, schema)}&application_name={app}", app)
    finally:
        terminate_backends(app)  # a stray pooled connection must not hold the schema
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def terminate_backends(app: str) -> int:
    """pg_terminate_backend on every connection tagged `app` but this one; how many."""
    conninfo = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()", (app,)).fetchone()
    return int(row[0]) if row else 0


def llm_env(monkeypatch: pytest.MonkeyPatch, url: str, timeout_s: float) -> None:
    """Point leadflow's OpenAI client at the scripted server."""
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", "scripted")
    monkeypatch.setenv("LEADFLOW_LLM_TIMEOUT_S", str(timeout_s))
    for name in [n for n in os.environ if n.startswith("LEADFLOW_MODEL")]:
        monkeypatch.delenv(name)
