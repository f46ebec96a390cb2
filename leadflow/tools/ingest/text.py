"""An item as text and as stored: the size cap every parser applies, the plain-text view
an LLM reads, the excerpt queues keep, and the form every checkpoint store can hold.
These work on whole items of any channel, so they sit beside the parsers, not in one.
"""

from __future__ import annotations

import json
from typing import Any

from leadflow.tools.standardize import clean_text, replace_lone_surrogates

MAX_TEXT_CHARS = 20_000  # a 1 MB paste is cut here; the flag says so


def item_text(item: object) -> str:
    """The item as plain text for an LLM: raw email, 'field: value' lines, 'role: text'."""
    payload = item.get("payload") if isinstance(item, dict) else item
    if isinstance(payload, str):
        return payload[:MAX_TEXT_CHARS]
    if isinstance(payload, dict):
        return "\n".join(f"{clean_text(k)}: {clean_text(v)}" for k, v in payload.items())[
            :MAX_TEXT_CHARS]
    if isinstance(payload, list):
        return "\n".join(f"{clean_text(t.get('role'))}: {clean_text(t.get('text'))}"
                         for t in payload if isinstance(t, dict))[:MAX_TEXT_CHARS]
    return clean_text(payload)[:MAX_TEXT_CHARS]


MAX_ITEM_DEPTH = 64  # the checkpointer's msgpack stops at 255 levels; the state adds a few
_MSGPACK_INTS = range(-(2**63), 2**64)


def storable_item(value: Any, depth: int = 0) -> Any:
    """The item as every store on its way can hold it, so it cannot fail a checkpoint write:
    lone surrogates (JSON '\\ud800') → U+FFFD, integers beyond msgpack's 64 bits → their
    digits as text, nesting deeper than MAX_ITEM_DEPTH → that subtree's JSON text. Anything
    else is returned as it is (NUL included: msgpack and JSON columns hold it)."""
    if isinstance(value, str):
        return replace_lone_surrogates(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value in _MSGPACK_INTS:
            return value
        return str(value) if value.bit_length() < 14_000 else "<integer too large>"
    if isinstance(value, dict | list | tuple) and depth >= MAX_ITEM_DEPTH:
        return replace_lone_surrogates(json.dumps(value, default=str)[:MAX_TEXT_CHARS])
    if isinstance(value, dict):
        return {replace_lone_surrogates(k) if isinstance(k, str) else k:
                storable_item(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_item(v, depth + 1) for v in value]
    return value


def item_excerpt(item: object, limit: int) -> object:
    """The item itself when small, else its JSON cut at `limit` characters (for queues and
    review evidence, so a 1 MB paste never lands in a queue row)."""
    text = json.dumps(item, default=str, ensure_ascii=False)
    return item if len(text) <= limit else text[:limit]
