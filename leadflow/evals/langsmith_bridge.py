"""The same datasets and evaluators through LangSmith's `aevaluate` when LANGSMITH_API_KEY is
set; without it the eval runs locally and offline (leadflow.evals.runner)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from leadflow.clock import FrozenClock
from leadflow.context import LeadflowContext
from leadflow.evals.runner import EVAL_NOW, load_dataset, score_row
from leadflow.runtime import open_runtime
from leadflow.settings import Framework, Settings, langsmith_enabled, qualification_framework

# score_row keys that are per-lead booleans (None = not applicable): one LangSmith
# feedback key each.
FEEDBACK_KEYS = ("tier_ok", "status_ok", "trajectory_ok", "seniority_ok", "industry_ok",
                 "country_ok", "region_ok", "segment_ok", "routing_ok", "injection_ok",
                 "duplicate_ok", "kb_matched")


def enabled() -> bool:
    return langsmith_enabled()


def feedback_from_row(row: dict[str, Any]) -> list[dict[str, Any]]:
    """A scored lead as LangSmith evaluator results ({key, score})."""
    results = [{"key": key, "score": float(row[key])} for key in FEEDBACK_KEYS
               if row.get(key) is not None]
    counts = row.get("field_counts") or {}
    tp = sum(c.get("tp", 0) for c in counts.values())
    total = sum(c.get("tp", 0) + c.get("fn", 0) for c in counts.values())
    if total:
        results.append({"key": "capture_field_recall", "score": tp / total})
    grounded, evidence = row.get("evidence") or (0, 0)
    if evidence:
        results.append({"key": "evidence_grounding", "score": grounded / evidence})
    return results


def make_evaluator(dataset: str) -> Callable[[Any, Any], dict[str, Any]]:
    def leadflow_metrics(run: Any, example: Any) -> dict[str, Any]:
        outcome = (run.outputs or {}).get("outcome") or {}
        row = score_row({"id": example.id, "item": example.inputs["item"],
                         "labels": example.outputs}, outcome, 0.0, dataset)
        return {"results": feedback_from_row(row)}

    return leadflow_metrics


async def run_on_langsmith(dataset: str, *, model: str, prompt_version: str | None,
                           concurrency: int = 4, framework: Framework | None = None) -> Any:
    """Upload the dataset once (by name), then evaluate the real graph against it."""
    from langsmith import Client, aevaluate

    client = Client()
    name = f"leadflow-{Path(dataset).stem}"
    if not client.has_dataset(dataset_name=name):
        created = client.create_dataset(name, description="leadflow labelled leads")
        examples = load_dataset(dataset)
        client.create_examples(
            dataset_id=created.id,
            inputs=[{"item": e["item"]} for e in examples],
            outputs=[e.get("labels") or {} for e in examples],
        )
    prompt_version = prompt_version or LeadflowContext(model=model).prompt_version
    framework = framework or qualification_framework()
    with tempfile.TemporaryDirectory() as tmp:
        async with open_runtime(Settings.local(Path(tmp), model), clock=FrozenClock(EVAL_NOW),
                                context={"prompt_version": prompt_version,
                                         "framework": framework}) as runtime:

            async def target(inputs: dict[str, Any]) -> dict[str, Any]:
                outcome, _ = await runtime.runner.process(inputs["item"])
                return {"outcome": outcome}

            return await aevaluate(target, data=name, evaluators=[make_evaluator(dataset)],
                                   experiment_prefix=f"{model}-{prompt_version}"
                                   + ("" if framework == "bant" else f"-{framework}"),
                                   metadata={"model": model, "prompt_version": prompt_version,
                                             "framework": framework},
                                   max_concurrency=concurrency, client=client)
