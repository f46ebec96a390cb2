"""Run the compiled graph over a labelled dataset and score every lead (the real graph, not
a copy of its logic: open_deep_research's habit)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadflow.agents.meddic import criteria_of
from leadflow.clock import FrozenClock
from leadflow.context import LeadflowContext
from leadflow.evals import judge
from leadflow.evals import metrics as m
from leadflow.evals.injected import without_injection
from leadflow.identity import thread_config, workflow_id_for
from leadflow.llm import RULES
from leadflow.runtime import Runtime, open_runtime
from leadflow.settings import Framework, Settings, qualification_framework
from leadflow.state import trajectory
from leadflow.toolbox import Toolbox
from leadflow.tools.ingest import item_text, storable_item
from leadflow.tools.reps import RepDirectory

DATASETS_DIR = Path("evals/datasets")
REPORTS_DIR = Path("evals/reports")
# The datasets' leads arrive 2026-11-16..12-04; out-of-office windows and timelines are judged
# at this moment (after the last arrival) so runs are reproducible whatever day they happen.
EVAL_NOW = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)


def dataset_path(name: str) -> Path:
    path = Path(name)
    if path.suffix == ".jsonl" and path.exists():
        return path
    candidate = DATASETS_DIR / f"{name}.jsonl"
    if not candidate.exists():
        known = sorted(p.stem for p in DATASETS_DIR.glob("*.jsonl"))
        raise ValueError(f"no dataset {name!r}; known: {', '.join(known) or 'none'}")
    return candidate


def load_dataset(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in dataset_path(name).read_text(encoding="utf-8")
            .splitlines() if line.strip()]


def injection_rises(injected: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    """What the injected text lifted against the same lead without it: the tier, and any
    criterion's score (its band follows its score); empty when nothing rose."""
    rose = []
    tier, clean_tier = m.tier_of(injected), m.tier_of(clean)
    if m.tier_rank(tier) > m.tier_rank(clean_tier):
        rose.append(f"tier {clean_tier} → {tier}")
    bant, clean_bant = injected.get("bant") or {}, clean.get("bant") or {}
    for criterion in criteria_of(bant) if bant else ():
        got = (bant.get(criterion) or {}).get("score")
        base = (clean_bant.get(criterion) or {}).get("score")
        if isinstance(got, int | float) and got > (base if isinstance(base, int | float)
                                                   else float("-inf")):
            rose.append(f"{criterion} {base} → {got}")
    return rose


def score_row(example: dict[str, Any], outcome: dict[str, Any], latency_ms: float,
              dataset: str, own: dict[str, Any] | None = None,
              clean: dict[str, Any] | None = None) -> dict[str, Any]:
    """One lead's scores. `own`: a repeat inquiry's own thread (its outcome is its lead's):
    what was read from this item (fields, its trajectory) is scored from there; the
    decisions (tier, status, routing) from the lead as it stands. `clean`: the outcome of
    the same item without its injected text (`labels.injected_text`), run in a CRM of its
    own: `injection_ok` is whether nothing (tier, any criterion's score) rose because of the
    injection; without it, None."""
    labels = example.get("labels") or {}
    if own is not None:
        outcome = {**outcome, "contact": (own.get("lead") or {}).get("contact"),
                   "company": (own.get("lead") or {}).get("company"),
                   "trajectory": trajectory(own)}
    contact, company = outcome.get("contact") or {}, outcome.get("company") or {}
    bant = outcome.get("bant") or {}
    flags = outcome.get("flags") or []

    def check(label_key: str, got: Any) -> bool | None:
        expected = labels.get(label_key)
        if expected is None or not labels.get("usable_contact", True):
            return None
        return bool(got == expected)

    expected_tier = labels.get("tier") or []
    routing = labels.get("routing")
    assignment = outcome.get("assignment") or {}
    return {
        "id": example.get("id"),
        "lead_id": outcome.get("lead_id"),
        "status": outcome.get("status"),
        "expected_status": labels.get("status") or [],
        "tier": m.tier_of(outcome),
        "expected_tier": expected_tier,
        "bant_total": bant.get("total"),
        "expected_total": m.bant_total_of(labels),
        "field_counts": {k: dict(v) for k, v in m.field_counts(outcome, labels).items()}
        if labels.get("usable_contact", True) else {},
        "seniority_ok": check("seniority", contact.get("seniority")),
        "industry_ok": check("industry", company.get("industry")),
        "country_ok": check("country", company.get("country")),
        "region_ok": check("region", company.get("region")),
        "segment_ok": check("segment", company.get("segment")),
        "kb_matched": ("unknown_company" not in flags) if labels.get("in_kb") else None,
        "tier_ok": (m.tier_of(outcome) in expected_tier) if expected_tier else None,
        # the labels are BANT bands: a MEDDIC-scored lead has none of them to compare
        "band_matches": {c: (bant.get(c) or {}).get("band") == band
                         for c, band in (labels.get("bant") or {}).items()
                         if band is not None and bant and c in criteria_of(bant)},
        # what was decided per criterion, beside what was labelled: the band confusion
        "bands": {c: (bant.get(c) or {}).get("band") for c in (labels.get("bant") or {})
                  if bant and c in criteria_of(bant)},
        "expected_bands": {c: b for c, b in (labels.get("bant") or {}).items() if b},
        "status_ok": outcome.get("status") in (labels.get("status") or [outcome.get("status")]),
        "trajectory_ok": (outcome.get("trajectory") == labels["trajectory"])
        if labels.get("trajectory") is not None else None,
        # the label's routing applies to a lead that was routed, or whose tier is wrong; a
        # lead the labels allow to stay unrouted (cold is as right as warm) is not judged
        "routing_ok": (assignment.get("region") == routing.get("region")
                       and assignment.get("segment") == routing.get("segment"))
        if routing and (assignment or m.tier_of(outcome) not in expected_tier) else None,
        "routing_violation": None,  # filled by run_eval (needs the rep directory)
        "evidence": m.evidence_grounding(outcome, item_text(example.get("item"))),
        "injection_rose": injection_rises(outcome, clean) if clean is not None else None,
        "injection_ok": not injection_rises(outcome, clean) if clean is not None else None,
        "duplicate_of": labels.get("duplicate_of"),
        "duplicate_ok": None,  # filled by run_eval (needs the other item's lead id)
        "flags": flags,
        "tokens": decision_tokens(outcome.get("decisions")),  # run_eval: each lead's once
        "latency_ms": round(latency_ms, 2),
    }


def decision_tokens(decisions: list[dict[str, Any]] | None) -> int:
    """Input plus output tokens over decisions (every LLM call of each step)."""
    return sum((d.get("usage") or {}).get("input_tokens", 0)
               + (d.get("usage") or {}).get("output_tokens", 0) for d in decisions or [])


def attribute_tokens(rows: list[dict[str, Any]], outcomes: list[dict[str, Any]]) -> None:
    """Each row's tokens counted once: a repeat inquiry's outcome carries all of its lead's
    decisions so far, so a row gets the lead's decisions no earlier row was given, plus its
    own thread's (`item_decisions`); the sum over rows is every call the dataset caused."""
    given: dict[Any, int] = {}
    for row, outcome in zip(rows, outcomes, strict=True):
        decisions = outcome.get("decisions") or []
        start = given.get(row["lead_id"], 0)
        row["tokens"] = (decision_tokens(decisions[start:])
                         + decision_tokens(outcome.get("item_decisions")))
        given[row["lead_id"]] = max(start, len(decisions))


async def _clean_outcomes(examples: list[dict[str, Any]], model: str, context: dict[str, Any],
                          concurrency: int) -> dict[int, dict[str, Any]]:
    """The counterfactual for injection robustness: each example with `labels.injected_text`
    run without that text, through the same graph and model, in a CRM and checkpoint store
    of its own (the same item id and address would otherwise be the same lead)."""
    injected = {i: without_injection(e["item"], e["labels"]["injected_text"])
                for i, e in enumerate(examples) if (e.get("labels") or {}).get("injected_text")}
    if not injected:
        return {}
    outcomes: dict[int, dict[str, Any]] = {}
    async with _eval_runtime(model, context, len(examples)) as runtime:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(index: int, item: Any) -> None:
            async with semaphore:
                outcomes[index] = (await runtime.runner.process(item))[0]

        await asyncio.gather(*(one(i, item) for i, item in injected.items()))
    return outcomes


@asynccontextmanager
async def _eval_runtime(model: str, context: dict[str, Any],
                        leads: int) -> AsyncIterator[Runtime]:
    """A fresh CRM and checkpoint store at the eval's fixed moment, with the bundled team
    given room for every lead of the dataset: each label judges a lead as if it arrived
    alone (a rep with room), while one CRM holds the whole set, so a large set would
    otherwise fill a region's reps and escalate leads their labels route."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.local(Path(tmp), model)
        tools = await asyncio.to_thread(
            Toolbox.open, settings.database_url, clock=FrozenClock(EVAL_NOW),
            kb_dir=settings.kb_dir, reps=RepDirectory().with_room_for(leads))
        try:
            async with open_runtime(settings, tools=tools, context=context) as runtime:
                yield runtime
        finally:
            tools.crm.close()


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


async def run_eval(dataset: str, *, model: str = RULES, prompt_version: str | None = None,
                   concurrency: int = 4,
                   on_lead: Callable[[dict[str, Any]], None] | None = None,
                   judge_model: str | None = None,
                   framework: Framework | None = None) -> dict[str, Any]:
    """Evaluate one dataset in a fresh CRM and checkpoint store; returns the run record.

    With `judge_model` (provider:model; None or `rules` = off) the chosen outreach drafts are
    also graded by an LLM judge (leadflow.evals.judge); without it no judge LLM is called and
    the record has no judge section. `framework`: bant or meddic (default LEADFLOW_FRAMEWORK,
    else bant); MEDDIC tiers are judged against the same labels, and the BANT band accuracy
    is left out of a MEDDIC run's metrics (its labels are BANT bands)."""
    judge_model = None if judge_model in (None, "", RULES) else judge_model
    framework = framework or qualification_framework()
    examples = load_dataset(dataset)
    has_duplicates = any((e.get("labels") or {}).get("duplicate_of") for e in examples)
    concurrency = 1 if has_duplicates else concurrency  # arrival order matters for dedupe
    rows: list[dict[str, Any] | None] = [None] * len(examples)
    prompt_version = prompt_version or LeadflowContext(model=model).prompt_version
    context = {"prompt_version": prompt_version, "framework": framework}
    clean = await _clean_outcomes(examples, model, context, concurrency)
    async with _eval_runtime(model, context, len(examples)) as runtime:
        semaphore = asyncio.Semaphore(concurrency)

        async def one(index: int, example: dict[str, Any]) -> None:
            async with semaphore:
                started = time.perf_counter()
                outcome, _ = await runtime.runner.process(example["item"])
                latency = (time.perf_counter() - started) * 1000
                own = None
                if "repeat_inquiry" in (outcome.get("flags") or []):
                    own = (await runtime.graph.aget_state(thread_config(
                        workflow_id_for(storable_item(example["item"]))))).values
            rows[index] = score_row(example, outcome, latency, dataset, own,
                                    clean.get(index))
            rows[index]["_outcome"] = outcome  # type: ignore[index]
            if on_lead:
                on_lead(outcome)

        await asyncio.gather(*(one(i, e) for i, e in enumerate(examples)))
        directory = RepDirectory()  # the real team's capacities for the load spread
        done = [r for r in rows if r is not None]
        lead_of = {r["id"]: r["lead_id"] for r in done}
        outcomes = [r.pop("_outcome") for r in done]
        attribute_tokens(done, outcomes)
        # a lead's evidence may quote any of its messages (a repeat inquiry's merged text)
        wrote: dict[str, list[str]] = {}
        for row, example in zip(done, examples, strict=True):
            wrote.setdefault(row["lead_id"], []).append(item_text(example.get("item")))
        for row, outcome in zip(done, outcomes, strict=True):
            if "repeat_inquiry" in row["flags"]:
                row["evidence"] = m.evidence_grounding(outcome,
                                                       "\n".join(wrote[row["lead_id"]]))
        for row, outcome in zip(done, outcomes, strict=True):
            if (outcome.get("assignment") or {}).get("rep_id", "").startswith("rep-"):
                row["routing_violation"] = 1.0 if m.routing_violations(
                    outcome, directory, EVAL_NOW.date()) else 0.0
            if row["duplicate_of"]:
                row["duplicate_ok"] = ("duplicate" in row["flags"]
                                       and row["lead_id"] == lead_of.get(row["duplicate_of"]))
        to_grade = _drafts_to_grade(runtime.tools, done, outcomes) if judge_model else []
    summary = m.summarise(done)
    if framework != "bant":
        summary.pop("bant_band_accuracy", None)
    summary["load_balance_spread"] = m.load_balance(outcomes, directory)
    judge_section: dict[str, Any] = {}
    if judge_model:
        grades = await judge.grade_drafts([d for _, d in to_grade], judge_model, concurrency)
        for (row, _), grade in zip(to_grade, grades, strict=True):
            row["outreach_grade"] = grade
        judge_section["judge"] = judge.summarise_grades(grades, judge_model)
        summary.update(judge.judge_metrics(judge_section["judge"]))
    created = datetime.now(UTC)
    safe_model = re.sub(r"[^\w.-]+", "_", model)
    return {
        "run_id": f"{Path(dataset).stem}-{safe_model}-{prompt_version}-"
                  + ("" if framework == "bant" else f"{framework}-")
                  + created.strftime("%Y%m%dT%H%M%S"),
        "dataset": Path(dataset).stem, "model": model, "prompt_version": prompt_version,
        "framework": framework,
        "created_at": created.isoformat(), "git_commit": _git_commit(),
        "metrics": summary, **judge_section, "rows": done,
    }


def _drafts_to_grade(tools: Toolbox, rows: list[dict[str, Any]],
                     outcomes: list[dict[str, Any]]) -> list[tuple[dict[str, Any],
                                                               judge.DraftToGrade]]:
    """Each lead's chosen draft once (a duplicate item shares its lead's draft), paired with
    the first row of that lead."""
    pairs, seen = [], set()
    for row, outcome in zip(rows, outcomes, strict=True):
        if row["lead_id"] in seen:
            continue
        draft = judge.chosen_draft(tools, outcome, row["id"])
        if draft is not None:
            seen.add(row["lead_id"])
            pairs.append((row, draft))
    return pairs
