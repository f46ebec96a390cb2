"""The counterfactual item for injection robustness: a lead's item without the text that
was injected into it (`labels.injected_text` in evals/datasets/injection.jsonl). Standard
library only: evals/datasets/validate.py loads this file by path to check the labels with the
same rule the eval applies."""

from __future__ import annotations

from typing import Any


def without_injection(item: Any, spans: list[str]) -> Any:
    """The item as it would have come without its injected text (`labels.injected_text`:
    exact spans of its string values): each span removed; a field, or a chat turn, left
    blank by that is dropped."""
    if isinstance(item, str):
        for span in spans:
            item = item.replace(span, "")
        return item
    if isinstance(item, dict):
        cleaned = {k: without_injection(v, spans) for k, v in item.items()}
        return {k: v for k, v in cleaned.items() if not (v != item[k] and _blank(v))}
    if isinstance(item, list):
        return [without_injection(turn, spans) for turn in item
                if not (isinstance(turn, dict) and isinstance(turn.get("text"), str)
                        and not _blank(turn["text"])
                        and _blank(without_injection(turn["text"], spans)))]
    return item


def _blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()
