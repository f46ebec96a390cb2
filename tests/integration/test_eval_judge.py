"""The optional outreach judge of `leadflow eval` (issue 7): a scripted judge model grades the
chosen drafts of a real eval run; its grades must come back averaged per criterion and per
drafting style, in the record, the reports and `eval compare`. No judge model: no call."""

from __future__ import annotations

import asyncio
import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr
from typer.testing import CliRunner

from leadflow import cli
from leadflow.evals import judge
from leadflow.evals.report import compare, load_run, save_run
from leadflow.evals.runner import run_eval
from leadflow.llm import register_chat_model
from tests.llm_fakes import tool_reply

ROOT = Path(__file__).parents[2]
# Phrases of the rules drafters' templates (leadflow.agents.outreach.draft_rules): how the
# test tells, from the text alone, which style the judge was shown.
TEMPLATE_STYLE = {"usually measure the problem first": "data_driven",
                  "That sounds like real pressure": "emotional",
                  "In the first weeks you would get": "benefit_focused"}
Rule = Callable[[str], dict[str, Any] | Exception]


def style_of(draft: str) -> str:
    found = [style for phrase, style in TEMPLATE_STYLE.items() if phrase in draft]
    assert len(found) == 1, f"not a rules-template draft: {draft[:200]!r}"
    return found[0]


def text_grade(draft: str) -> dict[str, Any]:
    """Fixed grades that depend on the draft text only, so they vary within a style."""
    words = len(draft.split())
    headcount = "-person " in draft
    return {"personalisation": 2 + words % 4,
            "accuracy": 3 if headcount else 5,
            "clarity": 5 if words < 85 else 4 if words < 95 else 3,
            "call_to_action": 5 if draft.rstrip().endswith("?") else 1,
            "tone_fit": {"data_driven": 4, "emotional": 5, "benefit_focused": 3}[style_of(draft)],
            "rationale": f"{words} words",
            "unsupported_claims": ["the company's headcount"] if headcount else []}


class RubricJudge(BaseChatModel):
    """A judge model without network: answers OutreachGrade by `rule(draft text)` (a grade,
    or an exception to raise) and logs what it was shown and what it said."""

    rule: Any
    _log: list[tuple[str, dict[str, Any] | Exception]] = PrivateAttr(default_factory=list)
    _prompts: list[str] = PrivateAttr(default_factory=list)

    @property
    def log(self) -> list[tuple[str, dict[str, Any] | Exception]]:
        return self._log

    @property
    def prompts(self) -> list[str]:
        """The user messages the judge was sent."""
        return self._prompts

    @property
    def _llm_type(self) -> str:
        return "rubric-judge"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> RubricJudge:  # type: ignore[override]
        return self

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        prompt = next(str(m.content) for m in messages
                      if isinstance(m, HumanMessage) and "<draft>" in str(m.content))
        draft = prompt.split("<draft>", 1)[1].split("</draft>", 1)[0]
        self._prompts.append(prompt)
        reply = self.rule(draft)
        self._log.append((draft, reply))
        if isinstance(reply, Exception):
            raise reply
        return ChatResult(generations=[ChatGeneration(message=tool_reply("OutreachGrade",
                                                                         reply))])

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None,
                         **kwargs: Any) -> ChatResult:
        return self._generate(messages, stop)


def register_judge(name: str, rule: Rule) -> RubricJudge:
    model = RubricJudge(rule=rule)
    register_chat_model(name, model)
    return model


@pytest.fixture
def subset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The first 20 labelled leads: seven reach follow-up and get a first email."""
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("LEADFLOW_EVAL_JUDGE_MODEL", raising=False)
    monkeypatch.delenv("LANGSMITH_API_KEY", raising=False)
    path = tmp_path / "subset.jsonl"
    lines = (ROOT / "evals" / "datasets" / "leads.jsonl").read_text().splitlines()[:20]
    path.write_text("\n".join(lines) + "\n")
    return path


def expected_means(grades: list[dict[str, Any]]) -> dict[str, float]:
    means = {c: statistics.mean(g[c] for g in grades) for c in judge.CRITERIA}
    means["overall"] = statistics.mean(statistics.mean(g[c] for c in judge.CRITERIA)
                                       for g in grades)
    return means


def drafted_leads(record: dict[str, Any]) -> set[str]:
    """Leads the pipeline sent to follow-up: exactly those that got a first email."""
    return {r["lead_id"] for r in record["rows"] if r["status"] == "awaiting_followup"}


def test_judge_grades_every_chosen_draft_and_averages_per_criterion_and_style(
        subset: Path, tmp_path: Path) -> None:
    model = register_judge("scripted:rubric-a", text_grade)
    record = asyncio.run(run_eval(str(subset), judge_model="scripted:rubric-a"))
    section = record["judge"]

    shown = [draft for draft, _ in model.log]
    assert len(shown) == len(set(shown)) == len(drafted_leads(record)) >= 5  # once per lead
    assert (section["drafts"], section["graded"], section["failed"]) == (len(shown), len(shown), 0)
    graded_rows = [r for r in record["rows"] if "outreach_grade" in r]
    assert {r["lead_id"] for r in graded_rows} == drafted_leads(record)

    by_style: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for draft, grade in model.log:
        assert isinstance(grade, dict)
        by_style[style_of(draft)].append(grade)
    assert len(by_style) >= 2, "the slice should exercise more than one drafting style"
    all_grades = [g for grades in by_style.values() for g in grades]
    assert section["mean"] == pytest.approx(expected_means(all_grades), abs=1e-4)
    assert set(section["by_style"]) == set(by_style)
    for style, grades in by_style.items():
        stats = section["by_style"][style]
        assert (stats["graded"], stats["failed"]) == (len(grades), 0)
        assert {k: stats[k] for k in (*judge.CRITERIA, "overall")} == pytest.approx(
            expected_means(grades), abs=1e-4)
    claimed = sum(bool(g["unsupported_claims"]) for g in all_grades)
    assert section["unsupported_claim_rate"] == pytest.approx(claimed / len(all_grades), abs=1e-4)
    assert section["tokens"] > 0

    metrics = record["metrics"]
    assert metrics["judge_overall"] == section["mean"]["overall"]
    assert metrics["judge_failure_rate"] == 0.0
    for style in by_style:
        assert metrics[f"judge_{style}_overall"] == section["by_style"][style]["overall"]
    assert "judge_emotional_overall" not in metrics or "emotional" in by_style

    # The judge sees the lead's facts (seniority for tone), the sender and the lead's words,
    # and is not told which style it grades.
    for prompt in model.prompts:
        facts = prompt.split("<facts>", 1)[1].split("</facts>", 1)[0]
        assert "contact: " in facts and "seniority: " in facts and "sender (our rep): " in facts
        assert "<lead_data>" in prompt
        assert not any(style in prompt for style in TEMPLATE_STYLE.values())

    paths = save_run(record, tmp_path / "reports")
    md = paths["md"].read_text()
    assert "## Outreach judge" in md and "| judge_overall |" in md
    for style, grades in by_style.items():
        assert f"| {style} | {len(grades)} | 0 |" in md
    page = paths["html"].read_text()
    assert "<h2>Outreach judge</h2>" in page and "judge_tone_fit" in page
    assert json.loads(paths["json"].read_text())["judge"]["model"] == "scripted:rubric-a"

    def harsher(draft: str) -> dict[str, Any]:
        grade = text_grade(draft)
        return {**grade, "clarity": max(1, grade["clarity"] - 2)}

    register_judge("scripted:rubric-b", harsher)
    second = asyncio.run(run_eval(str(subset), judge_model="scripted:rubric-b"))
    save_run(second, tmp_path / "reports")
    diff = compare(load_run(record["run_id"], tmp_path / "reports"),
                   load_run(second["run_id"], tmp_path / "reports"))["metrics"]
    clarity = diff["judge_clarity"]
    assert clarity["verdict"] == "worse" and clarity["delta"] == pytest.approx(
        second["judge"]["mean"]["clarity"] - section["mean"]["clarity"], abs=1e-4)
    assert clarity["delta"] < 0
    assert diff["judge_personalisation"]["verdict"] == "same"
    assert diff["judge_failure_rate"]["verdict"] == "same"


def test_judge_failures_are_counted_and_the_run_still_completes(subset: Path) -> None:
    def flaky(draft: str) -> dict[str, Any] | Exception:
        if style_of(draft) == "data_driven":
            return ConnectionError("judge endpoint down")
        if len(draft.split()) % 2:  # out of range even after the repair turn
            return {**text_grade(draft), "accuracy": 9}
        return text_grade(draft)

    model = register_judge("scripted:rubric-flaky", flaky)
    record = asyncio.run(run_eval(str(subset), judge_model="scripted:rubric-flaky"))
    section = record["judge"]
    outcome_by_draft: dict[str, list[Any]] = defaultdict(list)
    for draft, reply in model.log:
        outcome_by_draft[draft].append(reply)
    errors = sum(isinstance(r[0], Exception) for r in outcome_by_draft.values())
    invalid = sum(isinstance(r[0], dict) and r[0]["accuracy"] == 9
                  for r in outcome_by_draft.values())
    assert errors >= 1 and invalid >= 1
    assert all(len(r) == 2 for r in outcome_by_draft.values()  # one repair turn, then give up
               if isinstance(r[0], dict) and r[0]["accuracy"] == 9)
    assert section["failures"] == {"llm_error": errors, "llm_invalid_output": invalid}
    assert section["failed"] == errors + invalid
    assert section["graded"] + section["failed"] == len(drafted_leads(record))
    assert record["metrics"]["judge_failure_rate"] == pytest.approx(
        section["failed"] / section["drafts"], abs=1e-4)
    assert section["by_style"]["data_driven"]["graded"] == 0
    assert "judge_data_driven_overall" not in record["metrics"]
    failed_rows = [r["outreach_grade"] for r in record["rows"]
                   if "failure" in r.get("outreach_grade", {})]
    assert len(failed_rows) == section["failed"]
    assert all(g["error"] for g in failed_rows)
    # the pipeline's own scores are untouched by the judge's trouble
    assert len(record["rows"]) == 20 and 0 < record["metrics"]["tier_accuracy"] <= 1


def test_without_a_judge_model_no_judge_is_called_and_the_record_is_unchanged(
        subset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = register_judge("scripted:rubric-env", text_grade)
    runner = CliRunner()

    def eval_run(out: str, *extra: str) -> dict[str, Any]:
        result = runner.invoke(cli.app, ["eval", "--dataset", str(subset), "--out",
                                         str(tmp_path / out), *extra])
        assert result.exit_code == 0, result.output
        (record_path,) = (tmp_path / out).glob("*.json")
        return dict(json.loads(record_path.read_text()))

    plain = eval_run("plain")  # neither option nor variable
    assert model.log == []
    assert set(plain) == {"run_id", "dataset", "model", "prompt_version", "framework", "created_at",
                          "git_commit", "metrics", "rows"}
    assert not any(name.startswith("judge_") for name in plain["metrics"])
    assert not any("outreach_grade" in row for row in plain["rows"])
    assert "Outreach judge" not in next((tmp_path / "plain").glob("*.md")).read_text()

    monkeypatch.setenv("LEADFLOW_EVAL_JUDGE_MODEL", "scripted:rubric-env")
    switched_off = eval_run("off", "--judge-model", "rules")
    assert model.log == [] and "judge" not in switched_off

    from_env = eval_run("env")  # the variable alone turns the judge on
    assert from_env["judge"]["model"] == "scripted:rubric-env"
    assert len(model.log) == from_env["judge"]["graded"] == len(drafted_leads(from_env)) > 0
    # the pipeline's scores are the same with or without a judge
    stable = ("capture_field_f1", "tier_accuracy", "status_accuracy", "bant_total_mae")
    assert [plain["metrics"][k] for k in stable] == [from_env["metrics"][k] for k in stable]

    bad = runner.invoke(cli.app, ["eval", "--dataset", str(subset), "--out",
                                  str(tmp_path / "bad"), "--judge-model", "gpt-4o"])
    assert bad.exit_code == 2 and "provider:model" in bad.output
    assert not (tmp_path / "bad").exists()
