"""Sentences, clauses and negation in a lead's own words: the units every qualification
rule reads by. A quote is the sentence a match is in; a negation reaches only to the end of
its clause ("Not urgent. Budget approved." states a budget)."""

from __future__ import annotations

import re

from leadflow.config import standardize_tables
from leadflow.tools.standardize import contains_phrase, phrase_regex

# A clause ends at a comma, semicolon, colon or dash (a bracket explains its own clause), or
# at "and/but" between two statements ("a shortlist before Christmas and a decision in Feb");
# not at Dutch "en", which is "in" in Spanish and French ("la compra sería en Q1").
_CLAUSE_END = re.compile(
    r"[,;:]|\s[-–—]\s|\s(?:and|but|then|und|aber|dann|y|pero|e|mas|et|mais|ed|ma|maar|"
    r"i|ale|a potem)\s", re.IGNORECASE)


def clause_of(text: str, match: re.Match[str]) -> str:
    """The clause of its sentence that the match is in."""
    sentence = quote(text, match)
    at = sentence.find(match.group(0))
    if at < 0:
        return sentence
    cuts = [m.end() for m in _CLAUSE_END.finditer(sentence, 0, at)]
    start = cuts[-1] if cuts else 0
    after = _CLAUSE_END.search(sentence, at + len(match.group(0)))
    return sentence[start:after.start() if after else len(sentence)]


# A year written alone ("in the 2027 plan"), not part of a date ("31.03.2027") or a range.
YEAR = re.compile(r"(?<![\d/\-])(?<!\d\.)(20\d\d)(?![\d/\-]|\.\d)")


def quote(text: str, match: re.Match[str]) -> str:
    """The sentence (see SENTENCES) the match is in, as evidence."""
    start = text.rfind("\n", 0, match.start()) + 1
    for sentence in SENTENCES.finditer(text, start):
        if sentence.end() > match.start():
            end = max(sentence.end(), min(match.end(), _line_end(text, match.start())))
            return text[sentence.start():end].strip()[:240]
    return match.group(0).strip()[:240]


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


# A negation just before a phrase ("not urgent", "no budget approved", "kein dringender",
# "nothing urgent", "rien d'urgent", "niente di urgente").
_NEGATED = re.compile(
    r"(?i)(?:\b(?:not|no|never|without|nor|hardly|nothing|nicht|nichts|kein\w*|nie|pas|rien|"
    r"sans|ni|né|ani|sin|nem|não|nao|nenhum\w*|ningún|ninguna|nada|non|niente|nulla|niet|niets|"
    r"geen|nic)\b|"
    r"n't|n’t)(?:\W+\w+){0,2}\W*$")


# Where a negation's reach ends: the end of a sentence or clause (.!?;:, a comma, a blank
# line, a dash; not a single line break: emails are hard-wrapped) or a contrast ("but",
# "aber", "pero"): "No CRM yet, but the budget is approved" states a budget, and "Not
# urgent. Budget approved." too.
_SCOPE_END = re.compile(
    r"[.!?。！？।؟;:,，、]|\n\s*\n|\s[-–—]\s|\b(?:but|aber|sondern|pero|sino|mais|mas|ma|maar|ale)\b",
    re.IGNORECASE)
# A negation inside a matched pattern: "budget isn't approved", "Budget ist nicht freigegeben"
# (not a bare "no": in Portuguese and Spanish it also means "in the").
_NEGATION_WORD = re.compile(
    r"(?i)\b(?:not|never|nicht|kein\w*|noch nicht|pas|sin|sem|não|nao|non|nie|niet|geen)\b"
    r"|n't|n’t")


def has_negation(text: str) -> bool:
    """A negation word anywhere in the text (not a bare "no": in Portuguese and Spanish it
    also means "in the")."""
    return _NEGATION_WORD.search(text) is not None


def negated(text: str, start: int, end: int | None = None) -> bool:
    """Whether the words at text[start:end] are negated within their own clause: by a
    negation just before them ("not urgent", "kein Budget") — never by one in an earlier
    sentence or clause — or, for a pattern that spans a clause (`end` given), by a negation
    inside it ("budget has not been approved")."""
    window = text[max(0, start - 40):start]
    cuts = list(_SCOPE_END.finditer(window))
    if cuts:
        window = window[cuts[-1].end():]
    if _NEGATED.search(window):
        return True
    return end is not None and _NEGATION_WORD.search(text[start:end]) is not None


def affirmed(text: str, phrases: tuple[str, ...]) -> re.Match[str] | None:
    """The first occurrence of one of `phrases` that no negation in its clause precedes."""
    if not phrases or contains_phrase(text, phrases) is None:
        return None
    for match in phrase_regex(phrases).finditer(text):
        if not negated(text, match.start()):
            return match
    return None


# A sentence: up to .!? before a space or the end ("$1.5M" goes on), a CJK stop or a line end;
# the full stop of an abbreviation ("ca. 40k", "approx. 600", "z. B.", "Dr. Weber") goes on.
_ABBREVIATION = (r"\b(?:ca|approx|appr|aprox|env|zirka|circa|bzw|ggf|evtl|inkl|incl|vs|nr|"
                 r"dr|mr|mrs|ms|prof|ing|lic|sr|jr|dept|abt|z\.\s?b|e\.g|i\.e|u\.a|d\.h|"
                 r"p\.\s?ex)\.\s")
SENTENCES = re.compile(
    rf"(?:{_ABBREVIATION}|[^.!?。！？।؟\n]|[.!?](?=[^\s.!?]))+[.!?。！？।؟]*", re.IGNORECASE)


# Addresses name places, not wishes: "/pricing" (the page a form was on), "demo@…", a link.
_ADDRESS = re.compile(
    r"(?i)https?://\S+|\bwww\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|(?<![\w/.])/[a-z][\w\-./%?=&#]*")


# A form or record line answered "no" ("Newsletter: 0", "Budget approved?: No", "Do you have
# a budget set aside?: Not yet"): its label is a question the writer said no to.
_ANSWERED_NO = re.compile(
    r"(?im)^[^\n:=]{1,80}[:=][ \t]*[\"']?(?:no|n|false|0|none|not yet|nope|nein|noch nicht|non|"
    r"pas encore|não|nao|ainda não|todavía no|aún no|nee|nog niet|nie|jeszcze nie|いいえ)[\"']?"
    r"[ \t.]*$")


def unwrapped(text: str, channel: str | None = "email") -> str:
    """An e-mail's text with the line breaks its client wrapped inside a sentence made spaces
    (the same length, so quotes keep their places): a line ending in a letter, a digit or a
    comma whose next line goes on in lower case or with a number ("As CFO I\nneed …", "the
    board sits on\n9 December and I expect it to be approved"). A break before a capital,
    a list's mark or a quote's '>' stays; a form's fields and a chat's turns, one per line,
    are never joined (any other `channel`: the text as it is)."""
    if channel != "email":
        return text
    return _WRAPPED.sub(lambda m: " " if m.group(1).islower() or m.group(1).isdigit()
                        else m.group(0), text)


_WRAPPED = re.compile(r"(?<=[^\W_]|[,;])\n(?=(\w))")


def without_addresses(text: str) -> str:
    """The text with its web addresses, page paths and e-mail addresses blanked out, so a
    phrase list never reads "pricing" in "/pricing" or "demo" in "demo@vendor.com"; and
    with form lines answered "no" blanked, so "Newsletter: 0" is no interest in a newsletter
    and "Budget approved?: No" no approved budget; and with away notes blanked
    (`without_away_notes`)."""
    text = _ANSWERED_NO.sub(lambda m: " " * len(m.group(0)), text)
    text = _ADDRESS.sub(lambda m: " " * len(m.group(0)), text)
    return without_away_notes(text)


def without_away_notes(text: str) -> str:
    """The text with each sentence of an away note blanked (standardize.yaml
    `mail.away_note_phrases`: "I will be on annual leave from 24 Nov", "For anything urgent
    please reach my colleague"): its dates are no timeline, its "urgent" no need."""
    phrases = tuple(standardize_tables().mail.get("away_note_phrases", ()))
    if not phrases or contains_phrase(text, phrases) is None:
        return text
    return SENTENCES.sub(lambda m: " " * len(m.group(0)) if contains_phrase(
        m.group(0), phrases) else m.group(0), text)


def sentence_across_lines(text: str, match: re.Match[str]) -> str:
    """The match's sentence and the first words of the next line, where a wrapped amount
    goes on ("approved JPY 40\nmillion for this project")."""
    said = quote(text, match)
    start = text.find(said, max(0, match.start() - len(said))) if said else -1
    end = start + len(said)
    if start < 0:
        return said
    more = re.match(r"\S*", text[end + 20:])  # never half a word: "AUD 60-80k", not "60-80"
    return f"{said} {(text[end:end + 20] + (more.group(0) if more else '')).strip()}"
