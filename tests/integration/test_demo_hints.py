"""`make demo`'s closing hints run as printed: the demo is started the way the Makefile
starts it (`.venv/bin/leadflow demo` from the checkout), and every command it suggests is
then run by a shell, from the same directory, exactly as printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "leadflow"  # the console script pip installed


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a user who configured nothing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
    return {**env, "COLUMNS": "200", **extra}


@pytest.mark.slow
def test_the_demo_hints_run_as_printed_and_read_the_demo_crm(tmp_path: Path) -> None:
    assert SCRIPT.is_file(), f"no leadflow console script beside {sys.executable}"
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "leadflow").symlink_to(SCRIPT)
    demo = subprocess.run([".venv/bin/leadflow", "demo"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr
    hints = [line.strip() for line in demo.stdout.splitlines()
             if line.startswith("  LEADFLOW_HOME=")]
    assert hints, demo.stdout
    assert all(h.startswith("LEADFLOW_HOME=.leadflow/demo .venv/bin/leadflow ") for h in hints)
    outcomes = [json.loads(line) for line in
                (tmp_path / ".leadflow/demo/outcomes.jsonl").read_text().splitlines()]
    routed = next(o for o in outcomes if o.get("assignment"))
    paused = next(o for o in outcomes if o["status"] == "manual_review")
    settled = {o["lead_id"] for o in outcomes}

    shown: dict[str, str] = {}
    for hint in hints:
        ran = subprocess.run(["bash", "-c", hint], cwd=tmp_path, env=clean_env(),
                             capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, f"{hint}\n{ran.stderr}"
        shown[hint.split(" .venv/bin/leadflow ", 1)[1]] = ran.stdout
    assert set(shown) == {"leads list", f"explain {routed['lead_id']}",
                          f"leads show {routed['lead_id']}", "queues", "review list",
                          f"review show {paused['lead_id']}"}
    listed = {line.split()[0] for line in shown["leads list"].splitlines()
              if line.startswith("LEAD-")}
    assert listed and listed <= settled  # the demo's leads, not another CRM's
    assert routed["assignment"]["rep_id"] in shown[f"explain {routed['lead_id']}"]
    assert json.loads(shown[f"leads show {routed['lead_id']}"])["status"] == routed["status"]
    assert paused["lead_id"] in shown["review list"]
    assert not (tmp_path / ".leadflow" / "crm.db").exists()  # nothing opened the default CRM
