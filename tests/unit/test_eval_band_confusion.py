"""The eval keeps each lead's decided bands beside the labelled ones and counts them per
criterion (strongest band first), so a criterion's systematic misses show in the report."""

from __future__ import annotations

from typing import Any

from leadflow.evals.metrics import band_confusion
from leadflow.evals.report import _band_confusion_markdown
from leadflow.evals.runner import score_row


def _row(labelled: dict[str, str | None], decided: dict[str, str]) -> dict[str, Any]:
    example = {"id": "X-1", "item": {"source": "email", "payload": "hello"},
               "labels": {"tier": ["cold"], "status": ["nurture"], "bant": labelled}}
    bant = {c: {"band": b, "score": 5, "evidence": "x"} for c, b in decided.items()}
    outcome = {"lead_id": "LEAD-1", "status": "nurture", "flags": [], "decisions": [],
               "bant": {**bant, "total": 40, "tier": "cold"}}
    return score_row(example, outcome, 0.0, "blind_dev")


def test_rows_carry_decided_and_labelled_bands() -> None:
    row = _row({"budget": "unlikely", "need": None}, {"budget": "unclear_possible",
                                                      "need": "unclear"})
    assert row["bands"] == {"budget": "unclear_possible", "need": "unclear"}
    assert row["expected_bands"] == {"budget": "unlikely"}  # a null label is not judged


def test_confusion_counts_per_criterion_strongest_band_first() -> None:
    rows = [_row({"budget": "unlikely"}, {"budget": "unclear_possible"}),
            _row({"budget": "unlikely"}, {"budget": "unlikely"}),
            _row({"budget": "clear_budget"}, {"budget": "unlikely"})]
    table = band_confusion(rows)["budget"]
    assert table == {"clear_budget": {"unlikely": 1},
                     "unlikely": {"unclear_possible": 1, "unlikely": 1}}
    assert list(table) == ["clear_budget", "unlikely"]
    lines = _band_confusion_markdown({"budget": table})
    assert "| unlikely | 1 | 1 |" in lines
