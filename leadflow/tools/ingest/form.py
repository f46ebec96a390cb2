"""The web-form and event-row parser: messy field names ('Work E-mail', 'utm_source') mapped
to canonical fields. Event rows from CSV files and CSV payloads end here too.
"""

from __future__ import annotations

import re
from typing import Any

from leadflow.config import standardize_tables
from leadflow.tools.ingest.parsed import ParsedFields
from leadflow.tools.ingest.patterns import strip_html
from leadflow.tools.ingest.text import MAX_TEXT_CHARS
from leadflow.tools.standardize import EMAIL_RE, clean_text


def _norm_key(key: object) -> str:
    return re.sub(r"[^\w]+", "_", clean_text(key).lower()).strip("_")


def field_for_key(key: object) -> str | None:
    """Map a messy form/CSV column name to a canonical field ('Work E-mail' → 'email')."""
    norm = _norm_key(key)
    if not norm:
        return None
    if norm.startswith("utm_"):
        return "utm"
    tables = standardize_tables()
    if norm in tables.form_exact:
        return tables.form_exact[norm]
    tokens = set(norm.split("_"))
    for field, words in tables.form_keywords:
        if any(w in tokens or any(t.startswith(w) for t in tokens) for w in words):
            return field
    return None


def parse_fields(fields: dict[str, Any]) -> ParsedFields:
    """Web-form and event-row parser: messy field names → canonical fields."""
    out: ParsedFields = {}
    utm: dict[str, str] = {}
    extra: list[str] = []
    for key, value in fields.items():
        text = clean_text(strip_html(value) if isinstance(value, str) else value)
        if not text:
            continue
        field = field_for_key(key)
        if field == "utm":
            utm[_norm_key(key)] = text
            if _norm_key(key) == "utm_campaign":
                out.setdefault("campaign", text)
        elif field is None:
            extra.append(f"{clean_text(key)}: {text}")
        elif field == "inquiry" and out.get("inquiry"):
            out["inquiry"] = f"{out['inquiry']}\n{text}"
        elif field not in out:
            out[field] = text  # type: ignore[literal-required]
    if utm:
        out["utm"] = utm
    if "inquiry" in out:
        out["inquiry"] = out["inquiry"][:MAX_TEXT_CHARS]
    if "email" in out and not EMAIL_RE.search(out["email"]):
        # "email" column holding a phone or junk: keep it as text only.
        extra.append(f"email: {out.pop('email')}")
    out["text"] = "\n".join(
        v for v in (out.get("title", ""), out.get("company", ""), out.get("inquiry", ""), *extra)
        if v
    )[:MAX_TEXT_CHARS]
    return out
