"""Ingest: turn raw inbound items (SPEC §8) and input files into loosely-typed contact fields.

Each channel has its own parser (web form and event row in `form`, RFC 822 email in `mail`
with its signature block in `signature`, chat transcript in `chat`); `dispatch` picks one
per item. They only *find* values. Standardisation (E.164, ISO country, seniority …) is the
Capture agent's policy, applied the same way whichever extractor (rules or LLM) found the
values. `files` turns JSONL, JSON, CSV, .eml and mbox files into input items for
`leadflow run`, their bytes read as text by `encoding`; `text` holds the item-as-text
helpers every channel shares.

This package re-exports the names the rest of leadflow imports, so callers keep writing
`from leadflow.tools.ingest import …`.
"""

from __future__ import annotations

from leadflow.tools.ingest.chat import parse_chat
from leadflow.tools.ingest.dispatch import CHANNELS, parse_item
from leadflow.tools.ingest.files import UnreadableFile, item_flags, read_items
from leadflow.tools.ingest.form import field_for_key, parse_fields
from leadflow.tools.ingest.mail import parse_email
from leadflow.tools.ingest.parsed import IngestError, ParsedFields
from leadflow.tools.ingest.text import (
    MAX_ITEM_DEPTH,
    MAX_TEXT_CHARS,
    item_excerpt,
    item_text,
    storable_item,
)

__all__ = [
    "CHANNELS",
    "MAX_ITEM_DEPTH",
    "MAX_TEXT_CHARS",
    "IngestError",
    "ParsedFields",
    "UnreadableFile",
    "field_for_key",
    "item_excerpt",
    "item_flags",
    "item_text",
    "parse_chat",
    "parse_email",
    "parse_fields",
    "parse_item",
    "read_items",
    "storable_item",
]
