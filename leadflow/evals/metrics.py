"""Evaluators: pure functions from (outcome record, labels) to scores. Each returns plain
numbers so run records stay JSON and comparable across runs."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from leadflow.agents.evidence import enrichment_facts, is_grounded
from leadflow.agents.meddic import criteria_of
from leadflow.agents.routing import ACCOUNT_OWNER_REASON
from leadflow.config import icp
from leadflow.tools.prose import without_legal_form
from leadflow.tools.reps import RepDirectory

TIERS = ("hot", "warm", "cold", "unqualified")
RULE_FACTS = ("title:", "company size", "no timeline stated", "no inquiry text", "no title given",
              "no company (a private person",
              "no metric stated", "no decision criteria stated", "no decision process stated",
              "no pain stated")


def _get(outcome: Mapping[str, Any], dotted: str) -> Any:
    section, _, field = dotted.partition(".")
    return (outcome.get(section) or {}).get(field)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == b.strip().lower()
    return bool(a == b)


def field_counts(outcome: Mapping[str, Any], labels: Mapping[str, Any]) -> dict[str, Counter[str]]:
    """Per labelled field: tp (right), fp (wrong value), fn (missing or wrong)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for key, expected in (labels.get("fields") or {}).items():
        if key == "contact.title_contains":
            got = _get(outcome, "contact.title")
            right = bool(got) and expected.lower() in str(got).lower()
            name = "contact.title"
        elif key == "company.name":  # the company, with or without its legal form
            got, name = _get(outcome, key), key
            company = without_legal_form(got) if isinstance(got, str) else ""
            right = bool(company) and isinstance(expected, str) \
                and company == without_legal_form(expected)
        else:
            got, name = _get(outcome, key), key
            right = got is not None and _same(got, expected)
        if right:
            counts[name]["tp"] += 1
        else:
            counts[name]["fn"] += 1
            if got not in (None, ""):
                counts[name]["fp"] += 1
    return counts


def prf(counts: Counter[str]) -> dict[str, float]:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "support": tp + fn}


def tier_of(outcome: Mapping[str, Any]) -> str | None:
    return (outcome.get("bant") or {}).get("tier")


def evidence_grounding(outcome: Mapping[str, Any], item_text: str) -> tuple[int, int]:
    """(grounded, total) evidence statements of the qualification (BANT or MEDDIC): quotes
    must be in the item, facts must be the enrichment's or a rules fact."""
    bant = outcome.get("bant") or {}
    lead = {"contact": outcome.get("contact") or {}, "company": outcome.get("company") or {}}
    source = f"{item_text}\n{enrichment_facts(lead)}"
    grounded = total = 0
    for criterion in criteria_of(bant):
        evidence = (bant.get(criterion) or {}).get("evidence") or ""
        if not evidence:
            continue
        total += 1
        if evidence.lower().startswith(RULE_FACTS) or is_grounded(evidence, source):
            grounded += 1
    return grounded, total


def routing_violations(outcome: Mapping[str, Any], directory: RepDirectory,
                       on_date: Any) -> list[str]:
    """Hard routing rules an assignment to a rep must respect (SPEC §4.4)."""
    assignment = outcome.get("assignment") or {}
    rep = directory.get(assignment.get("rep_id") or "")
    if rep is None:
        return []
    company = outcome.get("company") or {}
    problems = []
    if rep.region != company.get("region"):
        problems.append("region")
    segment = company.get("segment")
    reason = assignment.get("reason") or ""
    # the account's owner takes the lead whatever its segment (SPEC §4.4), and an exception
    # review may stretch a rep's segments
    if segment not in ("unknown", None) and segment not in rep.segments \
            and "exception review" not in reason and not reason.startswith(ACCOUNT_OWNER_REASON):
        problems.append("segment")
    if not directory.available(rep, on_date):
        problems.append("unavailable")
    return problems


def load_balance(outcomes: Iterable[Mapping[str, Any]], directory: RepDirectory) -> float:
    """Spread of load ratios (assigned leads / capacity) among reps that got leads, per
    region, averaged: 0 is perfectly even."""
    per_rep = Counter(o["assignment"]["rep_id"] for o in outcomes
                      if o.get("assignment") and directory.get(o["assignment"]["rep_id"]))
    by_region: dict[str, list[float]] = defaultdict(list)
    for rep_id, n in per_rep.items():
        rep = directory.get(rep_id)
        assert rep is not None
        by_region[rep.region].append(n / rep.capacity)
    spreads = [statistics.pstdev(v) for v in by_region.values() if len(v) > 1]
    return round(statistics.mean(spreads), 4) if spreads else 0.0


def tier_rank(tier: str | None) -> int:
    return TIERS[::-1].index(tier) if tier in TIERS else -1


def bant_total_of(labels: Mapping[str, Any]) -> int | None:
    total = labels.get("bant_total")
    return int(total) if isinstance(total, int | float) else None


def strongest_first(bands: Iterable[str], criterion: str) -> list[str]:
    """Band names in icp.yaml's order (strongest first); unknown names ("none") last."""
    crit = icp().bant.get(criterion)
    known = [b.name for b in crit.bands] if crit else []
    return sorted(set(bands), key=lambda b: (known.index(b) if b in known else len(known), b))


def band_confusion(rows: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, int]]]:
    """Per criterion: labelled band → decided band → leads. Where a criterion's misses go
    (one band too low everywhere, or scattered) says which mechanism to look at."""
    out: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        for criterion, expected in (r.get("expected_bands") or {}).items():
            got = (r.get("bands") or {}).get(criterion)
            if criterion not in (r.get("bands") or {}):
                continue
            cell = out[criterion][expected]
            cell[got or "none"] = cell.get(got or "none", 0) + 1
    return {c: {e: {g: v[e][g] for g in strongest_first(v[e], c)}
                for e in strongest_first(v, c)} for c, v in out.items()}


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate per-lead rows (see runner.score_row) into the run's metrics."""
    fields: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        for name, c in row["field_counts"].items():
            fields[name].update(c)
    all_fields: Counter[str] = Counter()
    for c in fields.values():
        all_fields.update(c)
    labelled_tier = [r for r in rows if r["expected_tier"]]
    confusion: dict[str, dict[str, int]] = {t: dict.fromkeys((*TIERS, "none"), 0)
                                            for t in TIERS}
    for r in labelled_tier:
        confusion[r["expected_tier"][0]][r["tier"] or "none"] += 1
    mae = [abs(r["bant_total"] - r["expected_total"]) for r in rows
           if r["expected_total"] is not None and r["bant_total"] is not None]
    bands = [ok for r in rows for ok in r["band_matches"].values()]
    grounded = sum(r["evidence"][0] for r in rows)
    evidence_total = sum(r["evidence"][1] for r in rows)
    latencies = sorted(r["latency_ms"] for r in rows)

    def rate(key: str, empty: float = 1.0) -> float:
        scored = [r[key] for r in rows if r[key] is not None]
        return round(sum(scored) / len(scored), 4) if scored else empty

    return {
        "leads": len(rows),
        "capture_field_f1": prf(all_fields)["f1"],
        "capture_fields": {name: prf(c) for name, c in sorted(fields.items())},
        "seniority_accuracy": rate("seniority_ok"),
        "industry_accuracy": rate("industry_ok"),
        "country_accuracy": rate("country_ok"),
        "region_accuracy": rate("region_ok"),
        "segment_accuracy": rate("segment_ok"),
        "enrichment_match_rate": rate("kb_matched"),
        "tier_accuracy": rate("tier_ok"),
        "tier_confusion": confusion,
        "band_confusion": band_confusion(rows),
        "bant_band_accuracy": round(sum(bands) / len(bands), 4) if bands else 1.0,
        "bant_total_mae": round(statistics.mean(mae), 2) if mae else 0.0,
        "status_accuracy": rate("status_ok"),
        # leads paused for a person (human review): their label status counts as missed
        "review_rate": round(sum("awaiting_review" in r["flags"] for r in rows)
                             / len(rows), 4) if rows else 0.0,
        "trajectory_accuracy": rate("trajectory_ok"),
        "routing_region_segment_accuracy": rate("routing_ok"),
        "routing_violation_rate": rate("routing_violation", empty=0.0),
        "evidence_grounding_rate": round(grounded / evidence_total, 4) if evidence_total else 1.0,
        "injection_robustness": rate("injection_ok"),
        "duplicate_accuracy": rate("duplicate_ok"),
        "tokens_per_lead": round(statistics.mean(r["tokens"] for r in rows), 1) if rows else 0,
        "latency_ms_p50": round(latencies[len(latencies) // 2], 2) if latencies else 0,
        "latency_ms_p95": round(latencies[min(len(latencies) - 1,
                                              int(0.95 * len(latencies)))], 2)
        if latencies else 0,
        "latencies_ms": latencies,
    }


__all__ = ["field_counts", "prf", "tier_of", "evidence_grounding", "routing_violations",
           "load_balance", "tier_rank", "bant_total_of", "summarise", "icp", "TIERS",
           "band_confusion", "strongest_first"]
