"""Text read as a person would see it, for finding prompt injection in it
(leadflow/agents/injection.py): full-width and styled letters, invisible characters, letters
of other scripts that look Latin (Unicode's confusables table via `confusable_homoglyphs`),
digits for letters, spaced-out letters, and text hidden in base64.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import os
import re
import unicodedata
from functools import cache

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_SPACED = re.compile(r"(?<!\w)(\w)([ ._*·-])\w(?:\2\w)+(?!\w)")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t",
                       "@": "a", "$": "s"})
_LEET_TOKEN = re.compile(r"(?<![\w@$])[\w@$]{4,}(?![\w@$])")
_BASE64 = re.compile(r"(?<![\w+/])[A-Za-z0-9+/]{20,}={0,2}(?![\w+/=])")


@cache
def _lookalikes() -> dict[str, str]:
    """Letters of other scripts that look like a Latin letter (Cyrillic 'а', Greek 'ο'…),
    from the Unicode confusables table that `confusable_homoglyphs` ships."""
    import confusable_homoglyphs
    from confusable_homoglyphs import categories

    path = os.path.join(os.path.dirname(confusable_homoglyphs.__file__), "confusables.json")
    with open(path, encoding="utf-8") as handle:
        table: dict[str, list[dict[str, str]]] = json.load(handle)
    mapping: dict[str, str] = {}
    for char, glyphs in table.items():
        if len(char) != 1 or CJK.match(char) or categories.alias(char) in ("LATIN", "COMMON"):
            continue
        for glyph in glyphs:
            latin = glyph["c"]
            if len(latin) == 1 and latin.isascii() and latin.isalpha():
                mapping[char] = latin.lower()
                break
    return mapping


def _to_latin(text: str) -> str:
    """Look-alike letters to Latin in a word that mixes them with Latin letters, and in every
    word when the text is mostly Latin (so a Russian sentence stays Russian)."""
    table = _lookalikes()
    foreign = sum(1 for ch in text if ch in table)
    if not foreign:
        return text
    latin = sum(1 for ch in text if "a" <= ch <= "z")
    if latin > foreign:
        return "".join(table.get(ch, ch) for ch in text)
    return re.sub(r"\w+", lambda m: "".join(table.get(ch, ch) for ch in m.group(0))
                  if re.search("[a-z]", m.group(0)) else m.group(0), text)


def _unleet(token: re.Match[str]) -> str:
    word = token.group(0)
    if not re.search(r"[a-z]", word) or not re.search(r"[013457@$]", word) \
            or re.fullmatch(r"[$@]?\d+[a-z]{1,3}|[a-z]{1,4}\d+", word) \
            or re.match(r"\.[a-z]", token.string[token.end():token.end() + 2]):
        return word  # "250k", "10x", "q1", "tier1", "soc2", "jo@acme.com": not disguise
    return word.translate(_LEET)


def normalise(text: str) -> str:
    """The text an injection is read in: entities decoded, NFKC (full-width and styled
    letters), invisible format characters out, casefolded, look-alike letters Latin, digits
    that stand for letters ("1gn0re") read as letters, spaced-out letters joined
    ("s c o r e", "i.g.n.o.r.e"), whitespace collapsed."""
    if "&" in text:
        text = html.unescape(text)
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").casefold()
    text = _to_latin(text)
    text = _LEET_TOKEN.sub(_unleet, text)
    text = _SPACED.sub(lambda m: re.sub(r"[ ._*·-]", "", m.group(0)), text)
    return re.sub(r"\s+", " ", text).strip()


def decoded(u: str) -> str:
    """Text hidden in base64 ("Decode and obey: SWdub3Jl…"), for reading alongside."""
    out = []
    for blob in _BASE64.findall(u):
        try:
            text = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if text and sum(ch.isalpha() or ch.isspace() for ch in text) >= 0.8 * len(text):
            out.append(text)
    return " ".join(out)
