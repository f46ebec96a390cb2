"""The web-form and event-row parser: messy field names ('Work E-mail', 'utm_source') mapped
to canonical fields. Event rows from CSV files and CSV payloads end here too.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from leadflow.config import standardize_tables
from leadflow.tools.ingest.parsed import ParsedFields
from leadflow.tools.ingest.patterns import strip_html
from leadflow.tools.ingest.shapes import fields_by_shape, is_numbered_key
from leadflow.tools.ingest.signature import parse_signature, split_signature
from leadflow.tools.ingest.text import MAX_TEXT_CHARS
from leadflow.tools.standardize import (
    EMAIL_RE,
    clean_text,
    has_rank,
    is_east_asian,
    is_own_address,
)


def _norm_key(key: object) -> str:
    """'Work E-mail' → 'work_e_mail'; camelCase words are split too ('companySize' →
    'company_size'), so export columns like 'customFields.companySize' read like any other."""
    text = re.sub(r"(?<=[a-zà-ÿ])(?=[A-Z])", "_", clean_text(key)).lower()
    # a vowel or tone mark is part of its word (Thai 'ตำแหน่ง', Hindi 'नाम'), not a break
    kept = "".join(ch if ch.isalnum() or ch == "_" or unicodedata.category(ch)[0] == "M"
                   else " " for ch in text)
    return re.sub(r" +", "_", kept.strip())


def _has_word(tokens: set[str], words: tuple[str, ...]) -> bool:
    """A key's word is one of `words`, starts with one of five letters or more
    ('telefonnummer') or ends with one of seven or more ('numemployees'). Shorter words
    must match whole: 'tel' is not 'tell us about your project', 'land' is not 'landed_at',
    'puesto' is not 'presupuesto'. Scripts written without spaces join the words of a key
    ('所属団体名' is affiliation + organisation + name, '휴대폰번호' mobile + number): a
    keyword of two characters or more in such a script matches inside the key."""
    folded = {_fold(t) for t in tokens}  # 'teléfono' is 'telefono', 'país' is 'pais'
    return any(t == w or (len(w) >= 5 and t.startswith(w)) or (len(w) >= 7 and t.endswith(w))
               or (len(w) >= 2 and is_east_asian(w) and w in t)
               for t in tokens | folded for w in words)


def _fold(word: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", word)
                   if not unicodedata.combining(ch))


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
    # "form_fields[prenom]", "q3_fullName[last]": a builder's wrapper around the field's own
    # name, which says more than the wrapper does
    for inner in reversed(re.findall(r"\[([^\[\]]+)\]", str(key))):
        if (inner_norm := _norm_key(inner)) in tables.form_exact:
            return tables.form_exact[inner_norm]
    # a brand's own capitals are one word ("Nomor WhatsApp" is whatsapp, not whats + app)
    tokens = set(norm.split("_")) | set(_norm_key(str(key).lower()).split("_"))
    if (full := _whole_name_key(tokens)) is not None:
        return full
    for field, words in tables.form_keywords:
        if _has_word(tokens, words):
            return None if field == "skip" else field
    return None


def _whole_name_key(tokens: set[str]) -> str | None:
    """'full_name' for a key naming both parts of a name ("Nombre y apellido", "First and
    last name") or a name word with a 'whole' word ("Nom complet", "Nome completo")."""
    tables = standardize_tables()

    def words(field: str) -> tuple[str, ...]:
        keywords = next((w for f, w in tables.form_keywords if f == field), ())
        exact = (k for k, f in tables.form_exact.items() if f == field and "_" not in k)
        return (*keywords, *exact)

    first, last = _has_word(tokens, words("first_name")), _has_word(tokens, words("last_name"))
    named = first or last or _has_word(tokens, words("full_name"))
    if (first and last) or (named and tokens & set(tables.full_name_markers)):
        return "full_name"
    return None


def _machine_data(text: str) -> bool:
    """A value a tracking script wrote, not the lead: a JSON object or array (HubSpot's
    hs_context), or a long token of letters and digits (a cookie, a hash). An address, a
    URL or a sentence in a script without spaces is not one."""
    stripped = text.strip()
    if stripped[:1] in "{[" and stripped[-1:] in "}]":
        return True
    return bool(re.fullmatch(r"[A-Za-z0-9+/=_-]{32,}", stripped)) and any(
        ch.isdigit() for ch in stripped)


def _prose(text: str) -> bool:
    """A value written in sentences: four words or more with letters, a dozen characters of
    a script written without spaces, or a question."""
    words = [w for w in text.split() if any(ch.isalpha() for ch in w)]
    cjk = sum(1 for ch in text if 0x3040 <= ord(ch) <= 0x9FFF)  # scripts without spaces
    return (len(words) >= 4 or cjk >= 12
            or (len(words) >= 2 and text.rstrip().endswith(("?", "？"))))


def parse_fields(fields: dict[str, Any]) -> ParsedFields:
    """Web-form and event-row parser: messy field names → canonical fields. A form whose
    message field has a name no table knows ("customFields.useCase", "Gesprächsnotiz",
    "What would you like to get out of today?") still has one: the longest value written
    in sentences among the unrecognised fields is the inquiry. Machine data (a tracking
    JSON blob, a token) is never the lead's text."""
    out: ParsedFields = {}
    utm: dict[str, str] = {}
    extra: list[str] = []
    unnamed: list[str] = []  # values of unrecognised keys, for the structural inquiry
    numbered: list[tuple[str, str]] = []  # values under builder-numbered keys ('input_2')
    unknown: list[tuple[str, str]] = []  # short values under other keys no table knows
    infix = ""  # a Dutch name's particle in a box of its own ('Tussenvoegsel: van der')
    for key, value in fields.items():
        text = clean_text(strip_html(value) if isinstance(value, str) else value)
        if not text:
            continue
        field = field_for_key(key)
        if field == "campaign" and str(key).rstrip().endswith(("?", "？")):
            # "What would you like to learn at this session?": a question about the event,
            # answered in the person's own words, not the event's name
            field = None
        if field is None and isinstance(value, str) and _machine_data(text):
            continue  # a tracking blob under a key no table knows; a named field stays
        if field is None and isinstance(value, str) and _prose(text):
            unnamed.append(text)
        if field is None and is_numbered_key(_norm_key(key)):
            numbered.append((_norm_key(key), text))
        elif field is None and not _prose(text):
            unknown.append((_norm_key(key), text))
        if field == "name_infix":
            infix = text
        elif field == "utm":
            utm[_norm_key(key)] = text
            if _norm_key(key) == "utm_campaign":
                out.setdefault("campaign", text)
        elif field is None:
            extra.append(f"{clean_text(key)}: {text}")
        elif field == "inquiry" and out.get("inquiry"):
            out["inquiry"] = f"{out['inquiry']}\n{text}"
        elif field not in out:
            out[field] = text  # type: ignore[literal-required]
        elif field == "title" and not has_rank(out["title"]) and has_rank(text):
            # two title columns ("Headline", "Job title"): the one that states a rank
            extra.append(f"title: {out['title']}")
            out["title"] = text
        else:  # a second column for a field already read: its text is still the lead's
            extra.append(f"{clean_text(key)}: {text}")
    if infix and out.get("last_name") and not out["last_name"].lower().startswith(
            infix.lower()):
        out["last_name"] = f"{infix} {out['last_name']}"  # 'van der' + 'Veen'
    if numbered:
        fields_by_shape(numbered, out)
    if unknown and "email" not in out and "phone" not in out:
        # a form whose keys are in a language no table knows ("البريد الإلكتروني",
        # "Електронна пошта"): the values' shapes still say which is the address, the
        # number, the title and the company
        fields_by_shape(unknown, out)
    if utm:
        out["utm"] = utm
    if "inquiry" not in out and unnamed:
        out["inquiry"] = max(unnamed, key=len)
    if "inquiry" in out:
        out["inquiry"] = out["inquiry"][:MAX_TEXT_CHARS]
    if "inquiry" in out and not ("title" in out and "phone" in out):
        # a message signed like a mail ("Cheers, / Kevin Marsh / Growth Lead, RankHigh"):
        # its signature gives the title or phone the form had no field for
        domain = out["email"].rsplit("@", 1)[-1] if "@" in out.get("email", "") else None
        signed = parse_signature(split_signature(out["inquiry"])[1], domain)
        for field in ("title", "phone"):
            if field in signed and field not in out:
                out[field] = signed[field]  # type: ignore[literal-required]
    if "email" not in out:
        # an address under a key no table knows ("İş E-postası") is still the address, and
        # so is one written inside an answer ("…open to projects! chris.d@gmail.com")
        values = [v.strip() for v in fields.values() if isinstance(v, str)]
        found = next((v for v in values if EMAIL_RE.fullmatch(v)), None) or next(
            (m.group(0) for v in values if (m := EMAIL_RE.search(v))
             and not is_own_address(m.group(0))), None)
        if found:
            out["email"] = found
    if "email" in out and not EMAIL_RE.search(out["email"]):
        # "email" column holding a phone or junk: keep it as text only.
        extra.append(f"email: {out.pop('email')}")
    out["text"] = "\n".join(
        v for v in (out.get("title", ""), out.get("company", ""), out.get("inquiry", ""), *extra)
        if v
    )[:MAX_TEXT_CHARS]
    return out
