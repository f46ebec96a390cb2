"""The countries a lead's writing points to — its script, a language's own small words, a
currency sign — read only to place a national phone number nothing else placed ("mobil
070-174 06 52" in a Swedish chat from a .com address): the number counts when it is a valid
one in exactly one of those countries, and its country is then the lead's (SPEC §3: the
phone's country is evidence; the writing alone is not)."""

from __future__ import annotations

import re
from functools import cache

import phonenumbers

from leadflow.config import standardize_tables
from leadflow.tools.standardize import clean_text

_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_THAI = re.compile(r"[\u0e00-\u0e7f]")


@cache
def _tables() -> tuple[dict[str, tuple[str, ...]], list[tuple[re.Pattern[str], int,
                                                                 tuple[str, ...]]]]:
    """(script → countries, [(a language's words, how many must occur, its countries)])."""
    writing = standardize_tables().places.get("writing") or {}
    scripts = {str(k): tuple(v) for k, v in (writing.get("scripts") or {}).items()}
    languages = []
    for lang in (writing.get("languages") or {}).values():
        words = sorted((str(w) for w in lang.get("words") or ()), key=len, reverse=True)
        if words:
            languages.append((re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words))
                                         + r")(?!\w)", re.IGNORECASE),
                              int(lang.get("min_words", 2)), tuple(lang.get("countries") or ())))
    return scripts, languages


def countries_of_writing(text: object) -> tuple[str, ...]:
    """The countries the text's writing points to, most telling first; () for none."""
    prose = clean_text(text)
    if not prose:
        return ()
    scripts, languages = _tables()
    found: list[str] = []
    simplified = standardize_tables().places.get("writing", {}).get("simplified_only", "")
    if _KANA.search(prose):
        found += scripts.get("kana", ())
    elif _HANGUL.search(prose):
        found += scripts.get("hangul", ())
    elif _HAN.search(prose):
        found += scripts.get("simplified" if any(ch in simplified for ch in prose)
                             else "traditional", ())
    elif _THAI.search(prose):
        found += scripts.get("thai", ())
    for sign, countries in (standardize_tables().places.get("writing", {})
                            .get("currencies") or {}).items():
        if re.search(rf"(?<![^\W\d_]){re.escape(sign)}(?=\s?\d)", prose):  # "£70k", not "ARM 4"
            found += countries
    for words, needed, countries in languages:
        if len({m.group(0).lower() for m in words.finditer(prose)}) >= needed:
            found += countries
    return tuple(dict.fromkeys(found))


def phone_by_writing(raw: str | None, text: object, regions: tuple[str, ...]) -> str | None:
    """E.164 of the national number (`raw`, else the first in `text`) when it is valid in
    exactly one of `regions`; None when it is valid in none, or in several."""
    found = set()
    prose = clean_text(text)
    for region in regions:
        number = None
        try:
            parsed = phonenumbers.parse(raw, region) if raw else None
        except phonenumbers.NumberParseException:
            parsed = None
        if parsed is not None and phonenumbers.is_valid_number(parsed):
            number = parsed
        elif raw is None and prose:
            number = next((m.number for m in phonenumbers.PhoneNumberMatcher(prose, region)),
                          None)
        if number is not None:
            found.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    return found.pop() if len(found) == 1 else None
