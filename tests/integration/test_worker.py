"""Distributed workers: `leadflow worker` processes (Celery, Redis broker on 127.0.0.1) take
leads sent by `leadflow run --distributed`; a lead sent twice is one lead, one assignment,
one notification. The broker's keys carry this test's own prefix (tests/redis_keys.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from leadflow.tools.crm import Assignment, CrmStore, Notification
from leadflow.worker import QUEUE
from tests.conftest import form_item
from tests.redis_keys import BrokerKeys, broker_keys

BIN = Path(sys.executable).parent
SAMPLES = Path(__file__).resolve().parents[2] / "leadflow" / "data" / "sample_leads.jsonl"
pytestmark = pytest.mark.slow


@pytest.fixture
def broker() -> Iterator[BrokerKeys]:
    with broker_keys("worker") as keys:
        yield keys


@pytest.fixture
def env(tmp_path: Path, broker: BrokerKeys) -> dict[str, str]:
    environment = {**os.environ, "LEADFLOW_HOME": str(tmp_path / "home"),
                   "LEADFLOW_MODEL": "rules", **broker.env}
    environment.pop("LEADFLOW_DATABASE_URL", None)
    return environment


@pytest.fixture
def worker(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen([str(BIN / "leadflow"), "worker", "--concurrency", "2",
                             "--loglevel", "WARNING"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    yield proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def test_run_distributed_processes_each_lead_once(env: dict[str, str], tmp_path: Path,
                                                  broker: BrokerKeys,
                                                  worker: subprocess.Popen[bytes]) -> None:
    samples = [json.loads(line) for line in SAMPLES.read_text().splitlines()][:20]
    items = [*samples, *samples[:5], form_item("W-1"), form_item("W-1")]  # resubmissions
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(i) for i in items))
    started = time.monotonic()
    done = subprocess.run(
        [str(BIN / "leadflow"), "run", "-i", str(batch), "--distributed", "--no-progress",
         "--out", str(tmp_path / "out.jsonl")],
        env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "sent 27 items to the workers (21 leads)" in done.stdout
    assert time.monotonic() - started < 120
    outcomes = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(outcomes) == 27
    crm = CrmStore(f"sqlite:///{tmp_path / 'home' / 'crm.db'}")
    try:
        leads = crm.list_leads(limit=1000)
        assert len({o["lead_id"] for o in outcomes}) == len(leads) <= 21
        assert all(lead["status"] for lead in leads)
        per_lead = Counter(a.lead_id for a in _rows(crm, Assignment))
        assert per_lead and max(per_lead.values()) == 1
        # the dedupe key is unique by constraint; the same message twice under two keys
        # would be a double notification all the same
        sent = Counter((n.lead_id, n.audience, n.recipient, n.subject)
                       for n in _rows(crm, Notification))
        assert sent and max(sent.values()) == 1
        w1 = next(o for o in outcomes if o.get("source_id") == "W-1")
        assert Counter(a.lead_id for a in _rows(crm, Assignment))[w1["lead_id"]] == 1
        assert crm.queue_counts()["intake"] == 0
    finally:
        crm.close()
    assert worker.poll() is None  # still serving
    # the worker and the sender used this test's keys only (the queue's binding is there)
    assert broker.key(f"_kombu.binding.{QUEUE}") in broker.stored()


def _rows(crm: CrmStore, model: type) -> list:  # type: ignore[type-arg]
    from sqlalchemy import select

    with crm.engine.connect() as conn:
        return list(conn.execute(select(model.__table__)).all())  # type: ignore[attr-defined]
