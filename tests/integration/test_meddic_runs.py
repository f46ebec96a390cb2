"""MEDDIC chosen per run, end to end: through the compiled graph (a run context object, a
context dict as Studio and the API send it) and through `leadflow run` / `leadflow eval` as
a user starts them (real subprocesses). Routing and follow-up read a MEDDIC tier as a BANT
one."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leadflow.agents.meddic import MEDDIC_CRITERIA
from leadflow.context import LeadflowContext
from leadflow.explain import explain_lead
from leadflow.graph import build_graph
from leadflow.identity import thread_config
from leadflow.llm import register_chat_model
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import SlaClock
from tests.conftest import OpenCheckpoints, form_item
from tests.llm_fakes import SchemaAwareFake

WEAK = "Just curious what your product does."


def test_a_meddic_scored_lead_is_routed_and_followed_up_as_a_bant_one(
        tools: Toolbox, checkpoints: OpenCheckpoints) -> None:
    async def go() -> list[dict[str, Any]]:
        async with checkpoints() as saver:
            runner = BatchRunner(build_graph(saver, toolbox=tools), tools,
                                 context=LeadflowContext(model="rules", framework="meddic"))
            return await runner.run([form_item("M-1"), form_item(
                "M-2", message=WEAK, **{"Work Email": "sam@tinyshop.example",
                                        "Company": "Tiny Shop",
                                        "Job Title": "Marketing Coordinator"})])

    strong, weak = asyncio.run(go())
    assert strong["bant"]["framework"] == "MEDDIC"
    assert set(MEDDIC_CRITERIA) <= set(strong["bant"]) and "budget" not in strong["bant"]
    assert strong["bant"]["tier"] in ("hot", "warm")
    assert strong["status"] == "awaiting_followup"
    assert strong["assignment"]["region"] == "NA" and strong["assignment"]["rep_id"]
    assert tools.crm.count(SlaClock, lead_id=strong["lead_id"]) == 1
    assert strong["trajectory"][-1] == "FollowUp Monitor"
    stored = tools.crm.get_lead(strong["lead_id"])
    assert stored is not None and stored["tier"] == strong["bant"]["tier"]
    assert stored["outcome"]["bant"]["framework"] == "MEDDIC"
    assert (weak["bant"]["framework"], weak["bant"]["tier"]) == ("MEDDIC", "unqualified")
    assert weak["status"] == "marketing" and weak["assignment"] is None

    found = explain_lead(tools.crm, tools.reps, strong["lead_id"])  # `leadflow explain`
    assert found is not None
    tier = found.sections["Why this tier"]
    points = sum(strong["bant"][n]["score"] for n in MEDDIC_CRITERIA)
    assert tier[0].startswith(f"MEDDIC total {strong['bant']['total']}/100 ({points} of 120 "
                              f"points, scaled) gives tier {strong['bant']['tier']}")
    part = strong["bant"]["economic_buyer"]
    assert (f"Economic buyer: {part['band'].replace('_', ' ')}, {part['score']}/20 — "
            f"\"{part['evidence'].rstrip('.')}\".") in tier
    assert [line.split(":")[0] for line in tier[1:]] == [
        "Metrics", "Economic buyer", "Decision criteria", "Decision process", "Identify pain",
        "Champion"]


def test_a_context_dict_chooses_the_framework_of_each_run(tools: Toolbox,
                                                         checkpoints: OpenCheckpoints) -> None:
    """Studio and the API send the context as a dict; two runs in one process differ."""
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        async with checkpoints() as saver:
            graph = build_graph(saver, toolbox=tools)
            meddic = await graph.ainvoke({"item": form_item("C-1")}, thread_config("T-1"),
                                         context={"model": "rules", "framework": "meddic"})
            other = form_item("C-2", **{"Work Email": "ravi@lumenhealth.com"})
            bant = await graph.ainvoke({"item": other}, thread_config("T-2"),
                                       context={"model": "rules", "framework": "bant"})
            return meddic, bant

    meddic, bant = asyncio.run(go())
    assert meddic["bant"]["framework"] == "MEDDIC" and "metrics" in meddic["bant"]
    assert bant["bant"]["framework"] == "BANT" and "budget" in bant["bant"]


def test_the_graph_asks_the_run_model_with_the_meddic_prompt(tools: Toolbox,
                                                           checkpoints: OpenCheckpoints) -> None:
    register_chat_model("scripted:meddic", SchemaAwareFake())  # middle bands, first sentence

    async def go() -> dict[str, Any]:
        async with checkpoints() as saver:
            runner = BatchRunner(build_graph(saver, toolbox=tools), tools, context=LeadflowContext(
                model="scripted:meddic", framework="meddic"))
            [outcome] = await runner.run([form_item("L-1")])
            return outcome

    outcome = asyncio.run(go())
    [step] = [d for d in outcome["decisions"] if d["step"] == "qualification"]
    assert (step["decided_by"], step["model"], step["prompt_version"]) == (
        "llm", "scripted:meddic", "v1")
    assert outcome["bant"]["framework"] == "MEDDIC"
    assert [outcome["bant"][n]["band"] for n in MEDDIC_CRITERIA] == [
        "stated_goal", "engaged", "some", "partial", "clear", "potential"]
    assert outcome["bant"]["total"] == 65 and outcome["bant"]["tier"] == "warm"  # 78 of 120
    assert outcome["status"] == "awaiting_followup" and outcome["assignment"]["rep_id"]


# ---------------------------------------------------------------------------- the CLI


def leadflow(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "LEADFLOW_HOME": str(home), **env}
    environ.pop("LEADFLOW_DATABASE_URL", None)
    if "LEADFLOW_FRAMEWORK" not in env:
        environ.pop("LEADFLOW_FRAMEWORK", None)
    return subprocess.run([sys.executable, "-m", "leadflow.cli", *args], env=environ,
                          capture_output=True, text=True, timeout=300, check=False)


def outcomes(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow  # runs the CLI in subprocesses
def test_leadflow_run_takes_the_framework_from_the_flag_or_the_environment(
        tmp_path: Path) -> None:
    source = tmp_path / "leads.jsonl"
    source.write_text(json.dumps(form_item("R-1")) + "\n")
    flag = leadflow("run", "-i", str(source), "--out", str(tmp_path / "flag.jsonl"),
                    "--no-progress", "--framework", "meddic", home=tmp_path / "a")
    assert flag.returncode == 0, flag.stderr
    env = leadflow("run", "-i", str(source), "--out", str(tmp_path / "env.jsonl"),
                   "--no-progress", home=tmp_path / "b", LEADFLOW_FRAMEWORK="meddic")
    assert env.returncode == 0, env.stderr
    default = leadflow("run", "-i", str(source), "--out", str(tmp_path / "default.jsonl"),
                       "--no-progress", home=tmp_path / "c")
    assert default.returncode == 0, default.stderr
    [by_flag], [by_env], [by_default] = (outcomes(tmp_path / f"{n}.jsonl")
                                         for n in ("flag", "env", "default"))
    assert by_flag["bant"]["framework"] == by_env["bant"]["framework"] == "MEDDIC"
    assert by_flag["bant"] == by_env["bant"]
    assert by_default["bant"]["framework"] == "BANT"


def test_a_wrong_framework_is_one_line_and_nothing_runs(tmp_path: Path) -> None:
    source = tmp_path / "leads.jsonl"
    source.write_text(json.dumps(form_item("R-1")) + "\n")
    out = tmp_path / "out.jsonl"
    bad = leadflow("run", "-i", str(source), "--out", str(out), "--no-progress",
                   home=tmp_path / "home", LEADFLOW_FRAMEWORK="spiced")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "error: LEADFLOW_FRAMEWORK='spiced' is not a qualification framework: use bant or "
        "meddic"]
    assert not out.exists()
    flag = leadflow("eval", "--framework", "champ", home=tmp_path / "home")
    assert flag.returncode == 2 and "Traceback" not in flag.stderr
    words = " ".join(re.sub(r"[│╭╮╰╯─]", " ", flag.stderr).split())  # rich's error box
    assert "Invalid value for '--framework': Value error, 'champ' is not one of 'bant', " \
           "'meddic'" in words


@pytest.mark.slow  # runs the CLI in a subprocess
def test_leadflow_eval_scores_a_dataset_with_the_chosen_framework(tmp_path: Path) -> None:
    labels = {"tier": ["hot", "warm"], "status": ["awaiting_followup"],
              "bant": {"budget": "clear_budget"}}
    dataset = tmp_path / "tiny.jsonl"
    items = [form_item(f"E-{n}", **{"Work Email": f"buyer{n}@lumenhealth.com"}) for n in (1, 2)]
    dataset.write_text("".join(json.dumps({"id": item["id"], "item": item, "labels": labels})
                               + "\n" for item in items))
    records = {}
    for framework in ("meddic", "bant"):
        out = tmp_path / framework
        proc = leadflow("eval", "--dataset", str(dataset), "--framework", framework,
                        "--out", str(out), home=tmp_path / "home")
        assert proc.returncode == 0, proc.stderr
        [path] = out.glob("*.json")
        records[framework] = json.loads(path.read_text())
    meddic, bant = records["meddic"], records["bant"]
    assert meddic["framework"] == "meddic" and "-meddic-" in meddic["run_id"]
    assert bant["framework"] == "bant" and "-meddic-" not in bant["run_id"]
    assert all(row["tier"] in ("hot", "warm", "cold", "unqualified") for row in meddic["rows"])
    assert "bant_band_accuracy" not in meddic["metrics"]  # its labels are BANT bands
    assert bant["metrics"]["bant_band_accuracy"] == 1.0
    report = next((tmp_path / "meddic").glob("*.md")).read_text()
    assert "framework `meddic`" in report and "bant_band_accuracy" not in report
