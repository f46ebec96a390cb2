"""The `leadflow` CLI as a user runs it: real subprocesses, real files, a real kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leadflow.data.synthetic import synthetic_leads
from leadflow.tools.crm import Assignment, CrmStore, Lead, MessageLog, Notification, SlaClock


def leadflow(*args: str, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "LEADFLOW_HOME": str(home)}
    env.pop("LEADFLOW_DATABASE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "leadflow.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_killed_batch_resumes_without_redoing_or_duplicating(tmp_path: Path) -> None:
    items = synthetic_leads(240, prefix="KILL")
    source = tmp_path / "leads.jsonl"
    source.write_text("".join(json.dumps(item) + "\n" for item in items))
    out = tmp_path / "outcomes.jsonl"
    partial = tmp_path / "outcomes.jsonl.partial"  # --out is only replaced at the end
    home = tmp_path / "home"

    proc = leadflow("run", "--input", str(source), "--out", str(out), "--no-progress",
                    home=home)
    deadline = time.monotonic() + 120
    while len(lines(partial)) < 40 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before_kill = len(lines(partial))
    assert not out.exists()
    assert proc.returncode == -signal.SIGKILL
    assert 40 <= done_before_kill < len(items), "the kill must land mid-batch"

    proc = leadflow("run", "--input", str(source), "--out", str(out), "--no-progress",
                    home=home)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    outcomes = lines(out)
    assert [o["source_id"] for o in outcomes] == [item["id"] for item in items]
    # finished leads were read back from their checkpoints, not processed again
    runs = dict(part.strip().rsplit(" ", 1) for part in stdout.split("runs:")[1]
                .splitlines()[0].split(","))
    # settled leads, and leads waiting for follow-up or review, are not run again
    untouched = sum(int(runs.get(k, 0)) for k in ("already_done", "awaiting_followup",
                                                  "awaiting_review"))
    assert untouched >= done_before_kill

    crm = CrmStore(f"sqlite:///{home / 'crm.db'}")
    with crm.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Lead)).scalar() == len(items)
        assert conn.execute(select(func.count(func.distinct(Assignment.lead_id)))).scalar() == \
            conn.execute(select(func.count()).select_from(Assignment)).scalar()
        assigned = [o for o in outcomes if o["assignment"]]
        assert conn.execute(select(func.count()).select_from(Assignment)).scalar() == \
            len(assigned)
        assert conn.execute(select(func.count()).select_from(SlaClock)).scalar() == \
            sum(o["status"] == "awaiting_followup" for o in outcomes)
        assert conn.execute(select(func.count()).select_from(MessageLog)).scalar() == \
            sum(len(o["messages"]) for o in outcomes)  # type: ignore[arg-type]
        # one notification per lead per deciding step: rep, queue owner, or manager
        per_lead = conn.execute(select(Notification.lead_id, func.count())
                                .group_by(Notification.lead_id)).all()
        assert all(n == 1 for _, n in per_lead)
    assert {o["status"] for o in outcomes} <= {"awaiting_followup", "nurture", "marketing",
                                               "escalated", "routed", "manual_review"}
    crm.close()


def test_unreadable_file_gets_a_one_line_error_and_the_rest_runs(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(synthetic_leads(1)[0]) + "\n")
    binary = tmp_path / "photo.jsonl"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    missing = tmp_path / "nope.jsonl"
    out = tmp_path / "out.jsonl"
    proc = leadflow("run", "-i", str(binary), "-i", str(missing), "-i", str(good), "--out",
                    str(out), "--no-progress", home=tmp_path / "home")
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert "binary file" in errors[0] and "nope.jsonl" in errors[1]
    assert "Traceback" not in stderr
    assert len(lines(out)) == 1


@pytest.mark.slow
def test_demo_processes_the_bundled_samples(tmp_path: Path) -> None:
    proc = leadflow("demo", "--home", str(tmp_path / "demo"), home=tmp_path)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    outcomes = lines(tmp_path / "demo" / "outcomes.jsonl")
    assert len(outcomes) >= 60
    statuses = {o["status"] for o in outcomes}
    assert {"awaiting_followup", "nurture", "marketing", "manual_review"} <= statuses
    tiers = {(o["bant"] or {}).get("tier") for o in outcomes}
    assert {"hot", "warm", "cold", "unqualified"} <= tiers
    assert "leads in" in stdout and "tiers" in stdout
