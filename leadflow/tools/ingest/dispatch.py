"""One inbound item to its channel's parser: the list of channels and the checks that
turn an unreadable item into an IngestError with a reason, in one place.
"""

from __future__ import annotations

import csv
import io

from leadflow.tools.ingest.chat import parse_chat
from leadflow.tools.ingest.form import parse_fields
from leadflow.tools.ingest.mail import parse_email
from leadflow.tools.ingest.parsed import IngestError, ParsedFields
from leadflow.tools.standardize import clean_text

CHANNELS = ("web_form", "email", "chat", "event", "api")


def parse_item(item: object) -> tuple[str, ParsedFields]:
    """Dispatch on the item's channel; raise IngestError with a clear reason when unreadable."""
    if not isinstance(item, dict):
        raise IngestError(f"item must be a JSON object, got {type(item).__name__}")
    source = clean_text(item.get("source") or item.get("channel")).lower()
    payload = item.get("payload")
    if source not in CHANNELS:
        raise IngestError(f"unknown channel {source!r}; expected one of {', '.join(CHANNELS)}")
    if payload is None or payload == "" or payload == {} or payload == []:
        raise IngestError("empty payload")
    if source == "email":
        return source, parse_email(payload)
    if source == "chat":
        return source, parse_chat(payload)
    if isinstance(payload, str) and source == "event":
        try:  # newline="": a CR inside a quoted field is data, not a broken row
            rows = list(csv.DictReader(io.StringIO(payload, newline="")))
        except csv.Error as exc:
            raise IngestError(f"an event payload given as CSV text is not CSV: {exc}") from exc
        if len(rows) != 1:
            raise IngestError("an event payload given as CSV text must hold one header and one row")
        payload = rows[0]
    if not isinstance(payload, dict):
        raise IngestError(f"{source} payload must be an object of fields")
    return source, parse_fields(payload)
