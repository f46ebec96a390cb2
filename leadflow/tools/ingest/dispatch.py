"""One inbound item to its channel's parser: the list of channels and the checks that
turn an unreadable item into an IngestError with a reason, in one place.
"""

from __future__ import annotations

import csv
import io

from leadflow.tools.ingest.chat import parse_chat
from leadflow.tools.ingest.form import field_for_key, parse_fields
from leadflow.tools.ingest.mail import parse_email
from leadflow.tools.ingest.parsed import IngestError, ParsedFields
from leadflow.tools.phone_text import national_number
from leadflow.tools.standardize import EMAIL_RE, clean_text

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
        try:
            rows = _csv_rows(payload)
        except csv.Error as exc:
            raise IngestError(f"an event payload given as CSV text is not CSV: {exc}") from exc
        if len(rows) != 1:
            raise IngestError("an event payload given as CSV text must hold one header and one row")
        payload = _unquoted_commas_rejoined(rows[0])
    if not isinstance(payload, dict):
        raise IngestError(f"{source} payload must be an object of fields")
    return source, parse_fields(_csv_field_opened(payload))


def _csv_rows(text: str) -> list[dict[str | None, object]]:
    """The rows of CSV text whose delimiter is its header's: a comma, or the semicolon a
    German or French spreadsheet writes (a tab, a bar)."""
    header = text.lstrip().split("\n", 1)[0]
    delimiter = max(",;\t|", key=header.count)
    # newline="": a CR inside a quoted field is data, not a broken row
    return list(csv.DictReader(io.StringIO(text.strip(), newline=""), delimiter=delimiter))


def _csv_field_opened(payload: dict[str, object]) -> dict[str, object]:
    """A badge scanner's export pasted whole into one field ("raw", "csv_row", "export": a
    header line and one row): its columns are the lead's fields, beside the others. Only a
    header naming an e-mail or phone column counts, so a comment that happens to hold commas
    and a line break stays a comment."""
    for key, value in payload.items():
        if not isinstance(value, str) or "\n" not in value.strip():
            continue
        try:
            rows = _csv_rows(value)
        except csv.Error:
            continue
        if len(rows) != 1 or len(rows[0]) < 3 or not any(
                field_for_key(column) in ("email", "phone") for column in rows[0] if column):
            continue
        opened = {k: v for k, v in payload.items() if k != key}
        return opened | _unquoted_commas_rejoined(rows[0])
    return payload


def _unquoted_commas_rejoined(row: dict[str | None, object]) -> dict[str, object]:
    """A CSV row with more cells than its header: a value held an unquoted comma
    ("Kirameki Medical Co., Ltd."), and every column after it shifted. The cells are joined
    back where the values then fit their columns best — an address under the e-mail
    column, a number under the phone column — and, all else equal, where the cell after the
    comma starts with a space, as text after a comma does and a delimited cell does not."""
    extra = row.pop(None, None)
    if not isinstance(extra, list) or not extra:
        return {str(k): v for k, v in row.items()}
    keys = [str(k) for k in row]
    fields = [field_for_key(key) for key in keys]
    cells = [str(v or "") for v in row.values()] + [str(v or "") for v in extra]
    surplus = len(cells) - len(keys)

    def joined_at(at: int) -> list[str]:
        return cells[:at] + [",".join(cells[at:at + surplus + 1])] + cells[at + surplus + 1:]

    def fit(at: int) -> tuple[int, bool]:
        shapes = sum(1 for field, value in zip(fields, joined_at(at), strict=True)
                     if (field == "email" and EMAIL_RE.fullmatch(value.strip()))
                     or (field == "phone" and national_number(value)))
        return shapes, cells[at + 1].startswith(" ")

    best = max(range(len(keys)), key=fit)  # the first of equals: max keeps the earliest
    return dict(zip(keys, joined_at(best), strict=True))
