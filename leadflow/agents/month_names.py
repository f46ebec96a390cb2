"""Month names in a lead's text, in every language the timeline's `months` table lists: placed
by a day or a context word ("18 December", "by March", "Start: Januar"), followed by a day or
a year ("Jan 18", "April 2027"), or alone where the name is no other word ("i februari",
"เดือนมีนาคม"). `dates_in_text` turns them into months from the lead's arrival.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from leadflow.tools.alternation import alternation
from leadflow.tools.standardize import unspaced_script


@cache
def _month_regex(months: tuple[tuple[str, ...], ...], context: tuple[str, ...]) -> re.Pattern[str]:
    """A month name after a day number ("18 December") or after a word that places a date
    (timeline `month_context_words`: "by", "Start", "od", "sebelum"), an article allowed
    between ("before the March harvest"); a bare "may" is not a month."""
    names = _ending(tuple(n for names in months for n in names))
    return re.compile(
        rf"(?i)(?:\b(\d{{1,2}})(?:st|nd|rd|th|er|º|°|\.)?\s+(?:de\s+|of\s+)?"
        rf"|\b(?:{alternation(context)})[\s-]+(?:(?:the|le|la|el|der|die|den|dem)\s+)?)"
        rf"({names})"
        rf"(?:\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d))?(?:,?\s+(?:de\s+)?(20\d\d))?"
    )


def _ending(names: tuple[str, ...], before: bool = False) -> str:
    """The names as one alternation, each ending where a word ends (not \\b: a Devanagari
    name ends in a vowel sign, "जनवरी"), and starting where one starts if `before`; a name in
    a script written without spaces (Thai "มีนาคม" in "เดือนมีนาคมนี้") wherever it stands."""
    joined = tuple(n for n in names if unspaced_script(n) and not n[0].isdigit())
    spaced = tuple(n for n in names if n not in joined)
    edged = ("(?<!\\w)" if before else "") + rf"(?:{alternation(spaced)})(?!\w)"
    return f"{edged}|{alternation(joined)}" if joined else edged


@cache
def _bare_month_regex(months: tuple[tuple[str, ...], ...],
                      ambiguous: tuple[str, ...]) -> re.Pattern[str] | None:
    """A month name that is no other word, alone ("i februari", "Ocak ayında", "în martie"),
    in the groups of `_month_regex` (no day before it): not an abbreviation of three letters
    or fewer, not one of the timeline's `ambiguous_months`."""
    skip = {w.lower() for w in ambiguous}
    alone = tuple(name for names in months for name in names
                  if len(name) > 3 and name.lower() not in skip and not name[0].isdigit())
    if not alone:
        return None
    return re.compile(rf"(?i)(?:(?!)(\d))?({_ending(alone, before=True)})"
                      rf"(?:\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d))?(?:,?\s+(?:de\s+)?(20\d\d))?")


def month_matches(text: str, months: tuple[tuple[str, ...], ...],
                  settings: dict[str, Any]) -> list[re.Match[str]]:
    """Month names placed by a day before or after them or by a context word, and the
    unambiguous ones alone. A day after a name that is also a word ("May", "March") counts
    only when the name is capitalised: "May 18", not "we may 5x"."""
    context = tuple(settings.get("month_context_words", ()))
    ambiguous = tuple(settings.get("ambiguous_months", ()))
    placed = list(_month_regex(months, context).finditer(text))
    taken = {m.start(2) for m in placed}
    dated = [*_month_day_regex(months).finditer(text), *_month_year_regex(months).finditer(text)]
    words = {a.lower() for a in ambiguous}
    placed += [m for m in dated if m.start(2) not in taken and 1 <= int(m.group(3) or 1) <= 31
               and (m.group(2)[0].isupper() or m.group(2).lower() not in words)]
    taken = {m.start(2) for m in placed}
    bare = _bare_month_regex(months, ambiguous)
    return placed + [m for m in (bare.finditer(text) if bare else ()) if m.start(2) not in taken]


@cache
def _month_year_regex(months: tuple[tuple[str, ...], ...]) -> re.Pattern[str]:
    """A month name, then a year: "Contract award: April 2027", "Evaluation: March 2027"
    (groups as `_month_regex`'s)."""
    names = alternation(tuple(n for names in months for n in names if not n[0].isdigit()))
    return re.compile(rf"(?i)(?:(?!)(\d))?\b({names})\.?,?\s+(?:(?!)(\d))?(20\d\d)\b")


@cache
def _month_day_regex(months: tuple[tuple[str, ...], ...]) -> re.Pattern[str]:
    """A month name, then its day, as US and much business English writes dates: "launches
    Jan 18", "it ends Dec 9", "March 3rd, 2027" (groups as `_month_regex`'s)."""
    names = alternation(tuple(n for names in months for n in names if not n[0].isdigit()))
    return re.compile(rf"(?i)(?:(?!)(\d))?\b({names})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?"
                      rf"(?![\w%:.,/-]\d|[\w%])(?:,?\s+(20\d\d))?")
