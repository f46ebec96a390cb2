"""leadflow.evals.judge without a graph: when the judge is on, how grades are averaged and
counted, and that the rubric prompt and its schema agree."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from leadflow.evals import judge
from leadflow.evals.report import compare, markdown
from leadflow.prompts import load_prompt


def grade(style: str, scores: tuple[int, int, int, int, int],
          claims: list[str] | None = None) -> dict[str, Any]:
    values = dict(zip(judge.CRITERIA, scores, strict=True))
    return {"lead_id": f"L-{style}-{scores}", "style": style, "written_by": "rules",
            "usage": {"input_tokens": 100, "output_tokens": 10, "calls": 1}, **values,
            "overall": sum(scores) / 5, "rationale": "r", "unsupported_claims": claims or []}


def failed(style: str, kind: str) -> dict[str, Any]:
    return {"lead_id": f"L-{style}-x", "style": style, "written_by": "rules", "usage": None,
            "failure": kind, "error": "why"}


GRADES = [grade("data_driven", (5, 4, 4, 5, 3)),
          grade("data_driven", (3, 4, 2, 5, 1), claims=["a made-up funding round"]),
          grade("benefit_focused", (4, 5, 3, 4, 4)),
          failed("emotional", "llm_error"),
          failed("benefit_focused", "llm_invalid_output")]


@pytest.mark.parametrize(("option", "env", "expected"), [
    (None, None, None),                        # neither set: off
    (None, "rules", None),
    (None, " openai:gpt-4o-mini ", "openai:gpt-4o-mini"),
    ("rules", "openai:gpt-4o-mini", None),     # the option switches an env default off
    ("ollama:llama3.1", "openai:gpt-4o-mini", "ollama:llama3.1"),
    ("", "openai:gpt-4o-mini", None),
])
def test_judge_model_comes_from_the_option_then_the_variable(
        monkeypatch: pytest.MonkeyPatch, option: str | None, env: str | None,
        expected: str | None) -> None:
    if env is None:
        monkeypatch.delenv("LEADFLOW_EVAL_JUDGE_MODEL", raising=False)
    else:
        monkeypatch.setenv("LEADFLOW_EVAL_JUDGE_MODEL", env)
    assert judge.resolve_judge_model(option) == expected


def test_a_malformed_judge_model_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_EVAL_JUDGE_MODEL", "gpt-4o")
    with pytest.raises(ValueError, match="provider:model"):
        judge.resolve_judge_model(None)


def test_means_are_over_graded_drafts_per_criterion_and_style() -> None:
    summary = judge.summarise_grades(GRADES, "openai:gpt-4o-mini")
    assert (summary["drafts"], summary["graded"], summary["failed"]) == (5, 3, 2)
    assert summary["failures"] == {"llm_error": 1, "llm_invalid_output": 1}
    assert summary["mean"] == {"personalisation": 4.0, "accuracy": 4.3333, "clarity": 3.0,
                               "call_to_action": 4.6667, "tone_fit": 2.6667,
                               "overall": 3.7333}
    assert summary["by_style"]["data_driven"] == {
        "graded": 2, "failed": 0, "personalisation": 4.0, "accuracy": 4.0, "clarity": 3.0,
        "call_to_action": 5.0, "tone_fit": 2.0, "overall": 3.6}
    assert summary["by_style"]["benefit_focused"] == {
        "graded": 1, "failed": 1, "personalisation": 4.0, "accuracy": 5.0, "clarity": 3.0,
        "call_to_action": 4.0, "tone_fit": 4.0, "overall": 4.0}
    assert summary["by_style"]["emotional"] == {"graded": 0, "failed": 1}
    assert list(summary["by_style"]) == ["data_driven", "emotional", "benefit_focused"]
    assert summary["unsupported_claim_rate"] == 0.3333
    assert summary["tokens"] == 330

    flat = judge.judge_metrics(summary)
    assert flat["judge_overall"] == 3.7333 and flat["judge_data_driven_overall"] == 3.6
    assert flat["judge_failure_rate"] == 0.4
    assert "judge_emotional_overall" not in flat  # nobody graded: absent, not zero
    assert set(flat) <= set(judge.METRIC_NAMES)


def test_all_failed_gives_counts_but_no_means() -> None:
    summary = judge.summarise_grades([failed("data_driven", "circuit_open")], "x:y")
    assert summary["mean"] == {} and summary["unsupported_claim_rate"] is None
    assert judge.judge_metrics(summary) == {"judge_failure_rate": 1.0}


def test_reports_and_compare_carry_the_judge_only_when_both_runs_have_one() -> None:
    def record(run_id: str, grades: list[dict[str, Any]] | None) -> dict[str, Any]:
        metrics: dict[str, Any] = {"leads": 0, "capture_fields": {}, "tier_accuracy": 0.5,
                                   "tier_confusion": {t: dict.fromkeys(
                                       ("hot", "warm", "cold", "unqualified", "none"), 0)
                                       for t in ("hot", "warm", "cold", "unqualified")}}
        out: dict[str, Any] = {"run_id": run_id, "dataset": "d", "model": "rules",
                               "prompt_version": "v1", "rows": []}
        if grades is not None:
            out["judge"] = judge.summarise_grades(grades, "x:y")
            metrics.update(judge.judge_metrics(out["judge"]))
        return {**out, "metrics": metrics}

    a = record("a", GRADES)
    b = record("b", [grade("data_driven", (5, 5, 5, 5, 5))])
    deltas = compare(a, b)["metrics"]
    assert deltas["judge_overall"] == {"a": 3.7333, "b": 5.0, "delta": 1.2667,
                                       "verdict": "better"}
    assert deltas["judge_failure_rate"]["verdict"] == "better"  # lower is better
    assert "judge_benefit_focused_overall" not in deltas  # b has no such drafts
    assert not any(n.startswith("judge_") for n in compare(a, record("c", None))["metrics"])
    text = markdown(a)
    assert "| emotional | 0 | 1 | - | - | - | - | - | - |" in text
    assert "llm_error: 1" in text
    assert "judge" not in markdown(record("c", None)).lower()


def test_rubric_prompt_fits_the_grade_schema() -> None:
    prompt = load_prompt(judge.JUDGE_AGENT, judge.JUDGE_PROMPT_VERSION)
    messages = prompt.messages(facts="seniority: vp", lead_text="hi {there}", subject="s",
                               body="b")
    assert "hi {there}" in str(messages[1].content)  # lead text is data, not a template
    for criterion in judge.CRITERIA:
        assert criterion in prompt.system
    for example in prompt.examples:  # the few-shot answers are valid grades
        judge.OutreachGrade.model_validate(example["output"])
    with pytest.raises(ValidationError):
        judge.OutreachGrade.model_validate({**prompt.examples[0]["output"], "clarity": 6})
