"""The counterfactual item for injection robustness: a lead's item without the text that
was injected into it (`labels.injected_text` in evals/datasets/injection.jsonl). Standard
library only: evals/datasets/validate.py loads this file by path to check the labels with the
same rule the eval applies.

A span is found in a value whatever whitespace separates its words: a label copied from the
lead's text as Capture joined it (one newline where the item had a blank line, or "\\r\\n",
or a run of spaces) still names the same words in the item. A span that runs across two
values (a form's two fields, two chat turns, joined by a newline in the lead's text) is
removed line by line from the values that hold its lines."""

from __future__ import annotations

import re
from typing import Any


def span_pattern(span: str) -> re.Pattern[str] | None:
    """The span's words in order, any run of whitespace between them; None for a blank span."""
    words = span.split()
    return re.compile(r"\s+".join(re.escape(w) for w in words)) if words else None


def span_count(text: str, span: str) -> int:
    """How often the span occurs in `text`, whitespace between its words aside."""
    pattern = span_pattern(span)
    return len(pattern.findall(text)) if pattern is not None else 0


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _pieces(item: Any, spans: list[str]) -> list[str]:
    """What to remove: each span found whole in some value; a span found in none, by its
    lines (each line that some value holds)."""
    values = _strings(item)
    pieces: list[str] = []
    for span in spans:
        if any(span_count(v, span) for v in values):
            pieces.append(span)
            continue
        pieces += [line for line in span.splitlines()
                   if line.strip() and any(span_count(v, line) for v in values)]
    return pieces


def without_injection(item: Any, spans: list[str]) -> Any:
    """The item as it would have come without its injected text (`labels.injected_text`:
    spans of its string values): each span removed, whitespace differences aside; a field,
    or a chat turn, left blank by that is dropped."""
    return _removed(item, _pieces(item, spans))


def _removed(item: Any, pieces: list[str]) -> Any:
    if isinstance(item, str):
        for piece in pieces:
            if piece in item:
                item = item.replace(piece, "")
            elif (pattern := span_pattern(piece)) is not None:
                item = pattern.sub("", item)
        return item
    if isinstance(item, dict):
        cleaned = {k: _removed(v, pieces) for k, v in item.items()}
        return {k: v for k, v in cleaned.items() if not (v != item[k] and _blank(v))}
    if isinstance(item, list):
        return [_removed(turn, pieces) for turn in item
                if not (isinstance(turn, dict) and isinstance(turn.get("text"), str)
                        and not _blank(turn["text"])
                        and _blank(_removed(turn["text"], pieces)))]
    return item


def _blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()
