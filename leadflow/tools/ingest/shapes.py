"""Fields read from what a value looks like, for form columns whose names say nothing
('input_2', 'entry.1183', 'field_7'): form builders (Gravity Forms, Google Forms, Typeform
exports) name columns by number, and the lead's data is still there. Only shapes that
cannot be mistaken are read: a whole value that is an email address, a phone number, a
size bucket, a job title with a rank, a company with a legal form or named by the sender's
domain, and a two-part name widget whose words the address spells. A URL is never read as
the lead's website: an unnamed URL column is usually the page the form was sent from.
"""

from __future__ import annotations

import re

from leadflow.tools.ingest.parsed import ParsedFields
from leadflow.tools.phone_text import national_number
from leadflow.tools.prose import has_legal_form, shares_a_word
from leadflow.tools.standardize import EMAIL_RE, has_rank, parse_employees, without_accents

# words form builders put in a numbered column's name
_BUILDER_WORDS = frozenset({"input", "field", "fields", "entry", "q", "question", "item",
                            "element", "answer", "custom", "cf", "fld", "form", "wpforms"})
_NAME_WORD = re.compile(r"[A-ZÀ-Þ][a-zß-ÿ'’-]+")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}")
_SENTENCE = re.compile(r"\?|(?i:\b(?:i|i'm|i’m|we|we're|my|our)\b)")
_SIZE_BUCKET = re.compile(r"\d[\d,.]*\s*(?:[-–]\s*\d[\d,.]*|\+)")


def is_numbered_key(norm_key: str) -> bool:
    """'input_1_3', 'entry_1183', 'field_7', 'q12': a builder word and numbers only."""
    tokens = [t for t in norm_key.split("_") if t]
    return any(ch.isdigit() for ch in norm_key) and all(
        t.isdigit() or t in _BUILDER_WORDS or re.fullmatch(r"[a-z]{1,8}\d+", t)
        for t in tokens)


def _base(norm_key: str) -> str:
    """'input_1_3' → 'input_1': the widget a sub-field belongs to."""
    return norm_key.rsplit("_", 1)[0] if norm_key.count("_") >= 2 else norm_key


def fields_by_shape(numbered: list[tuple[str, str]], out: ParsedFields) -> None:
    """Fill the fields `out` lacks from numbered columns' values (normalised key, text)."""
    for _, text in numbered:
        if "email" not in out and EMAIL_RE.fullmatch(text):
            out["email"] = text
    local = without_accents(out.get("email", "").split("@", 1)[0])
    domain = out.get("email", "").rsplit("@", 1)[-1] if "@" in out.get("email", "") else ""
    used: set[str] = set()
    if "first_name" not in out and "full_name" not in out and local:
        _name_widget(numbered, local, out, used)
    for key, text in numbered:
        if key in used or EMAIL_RE.search(text):
            continue
        if "phone" not in out and national_number(text) and not _DATE.match(text):
            out["phone"] = text
        elif "employees" not in out and _SIZE_BUCKET.fullmatch(text) \
                and parse_employees(text)[1] is not None:
            out["employees"] = text  # "201-500", "1000+": a size bucket, not a count of things
        elif "title" not in out and len(text.split()) <= 6 and not _SENTENCE.search(text) \
                and has_rank(text):  # a job title, not a sentence that holds a rank word
            out["title"] = text
        elif "company" not in out and len(text) <= 80 and (
                has_legal_form(text) or (domain and shares_a_word(text, domain))):
            out["company"] = text


def _name_widget(numbered: list[tuple[str, str]], local: str, out: ParsedFields,
                 used: set[str]) -> None:
    """Two sub-fields of one widget ('input_1_3', 'input_1_6'), each one capitalised word,
    at least one of which the address's local part spells: first and last name."""
    for (key_a, a), (key_b, b) in zip(numbered, numbered[1:], strict=False):
        if _base(key_a) != _base(key_b) or key_a == _base(key_a):
            continue
        if not (_NAME_WORD.fullmatch(a) and _NAME_WORD.fullmatch(b)):
            continue
        if any(len(w) >= 3 and without_accents(w) in local for w in (a, b)):
            out["first_name"], out["last_name"] = a, b
            used.update((key_a, key_b))
            return
