"""Dates in a lead's own words, counted from the lead's arrival: months, quarters, spans,
holidays and seasons, fiscal years, a contract's end. BANT's and MEDDIC's rules share them,
so both frameworks hear the same dates; `purchase_date` says which of them is the purchase.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache
from typing import Any

from leadflow.agents.month_names import month_matches
from leadflow.agents.sentences import SENTENCES, YEAR, affirmed, clause_of, quote
from leadflow.config import Criterion
from leadflow.tools.alternation import alternation
from leadflow.tools.standardize import contains_phrase

# The words before a quarter or half that put it at its end ("end of Q1", "fin de T2").
_END_OF = r"(?:end of|ende|fin de|fim do|final del) "
_QUARTER = re.compile(
    rf"(?i)\b(?:{_END_OF})?(?:q([1-4])|h([12])|"
    r"(?:(first|second|third|fourth|primer|segundo|tercer|cuarto|primeiro|terceiro|quarto|premier|"
    r"deuxième|troisième|quatrième|erste|ersten|zweite|zweiten|dritte|dritten|vierte|vierten)|"
    r"([1-4])(?:\.|er|e|º|°|o|st|nd|rd|th)?|(i{1,3}|iv))\s*(?:quarter|trimestre|"
    r"quartal|kwarta\w*))\b(?:\s*(?:of|de|del|du)?\s*(20\d\d))?")
_PERIOD_END = re.compile(rf"(?i){_END_OF}")
# the quarter's noun, then its number: Vietnamese "quý 1", Indonesian "kuartal 2" /
# "triwulan I", "trimestre 1", "Quartal 2", with a year after it ("quý 1 năm 2027")
_QUARTER_NUMBERED = re.compile(
    r"(?i)(?<!\w)(?:quý|kuartal|triwulan|trimestre|quartal|kwartał|kvartal)\s?([1-4]|i{1,3}|iv)"
    r"(?!\w)(?:\s*(?:năm|tahun|de|del|du|of)?\s*(20\d\d))?")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_ORDINAL_QUARTER = {"first": 1, "primer": 1, "primeiro": 1, "premier": 1, "ersten": 1,
                    "second": 2, "segundo": 2, "deuxième": 2, "zweiten": 2, "third": 3,
                    "tercer": 3, "terceiro": 3, "troisième": 3, "dritten": 3, "fourth": 4,
                    "cuarto": 4, "quarto": 4, "quatrième": 4, "vierten": 4, "erste": 1,
                    "zweite": 2, "dritte": 3, "vierte": 4}
# A month by its number: "2月にPoC", "2027年3月", Korean "1월", Vietnamese "tháng 2".
_CJK_MONTH = re.compile(r"(?<!\d)(?:(20\d\d)[年년]\s?)?(1[0-2]|[1-9])\s?[月월]"
                        r"(?:\s?(\d{1,2})[日일])?|(?i:tháng)\s(1[0-2]|[1-9])(?!\d)(?:\s(?i:năm)\s(20\d\d))?")
# A quarter in CJK writing: "第一季度", "一季度", "2027年第1四半期", Korean "1분기".
_CJK_QUARTER = re.compile(r"(?:(20\d\d)[年년]\s?)?(?:第)?([一二三四1-4])\s?(?:季度|四半期|분기)")
_CJK_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4}
# "within 3-4 months", "dans 4 à 5 mois", "in den nächsten 6 Monaten", "in 2 weeks"
_RELATIVE = re.compile(
    r"(?i)\b(\d{1,2})(?:\s*(?:-|–|to|à|a|bis|ou|or)\s*(\d{1,2}))?\s*(months?|meses|mois|"
    r"monate?n?|mesi|weeks?|semanas|semaines|wochen|settimane)\b")
# What may stand between a span's length-or-past word and the span ("over the last 6 months").
_SPAN_ARTICLE = r"\s+(?:the\s+|de\s+|los\s+|les\s+|die\s+|i\s+)?$"


def dated_mentions(text: str, reference: date, criterion: Criterion,
                   country: str | None = None) -> list[tuple[float, str]]:
    """(months from the reference date, quote) for every concrete date the lead mentions:
    months, quarters, spans ("in 3 months"), and the days and periods people plan by without
    a month (holidays, seasons in the lead's hemisphere, "mid-2027")."""
    return [(delta, quote(text, match))
            for delta, match in dated_matches(text, reference, criterion, country)]


def project_dated(text: str, reference: date, criterion: Criterion,
                  country: str | None = None) -> str | None:
    """The sentence giving a date to starting, deciding or going live ("wants to start in
    February", "decision by March", "go-live in April"; timeline `decision_words`), or
    None: a project with a date on it is a concrete project, whatever words name it."""
    decision = tuple(criterion.settings.get("decision_words", ()))
    for _, match in dated_matches(text, reference, criterion, country):
        if contains_phrase(clause_of(text, match), decision):
            return quote(text, match)
    return None


def contract_ending(text: str, reference: date, need: Criterion, timeline: Criterion,
                    country: str | None = None) -> str | None:
    """The sentence saying the current contract, licence or subscription ends, expires or
    will not be renewed on a date (need `contract_phrases`, `contract_end_phrases`) no later
    than the timeline's six-month horizon, or None: the replacement has a deadline."""
    contracts = need.phrases.get("contract_phrases", ())
    ends = need.phrases.get("contract_end_phrases", ())
    if not contracts or not ends:
        return None
    horizon = float(timeline.settings["date_bands"]["within_6_months"])
    dates = dated_matches(text, reference, timeline, country)
    for sentence in SENTENCES.finditer(text):
        chunk = sentence.group(0)
        if not (contains_phrase(chunk, contracts) and affirmed(chunk, ends)):
            continue
        if any(sentence.start() <= match.start() < sentence.end() and delta <= horizon
               for delta, match in dates):
            return chunk.strip()[:240]
    return None


_DEADLINES = (r"by|before|until|till|no later than|bis|vor|bis spätestens|antes de|antes del|"
              r"hasta|avant|d'ici|d’ici|entro|tegen|uiterlijk|przed|até")
_DEADLINE = re.compile(rf"(?i)(?:{_DEADLINES})\s")
# A deadline word just before a phrase ("d'ici le printemps", "by the spring").
_DEADLINE_BEFORE = re.compile(
    rf"(?i)(?<!\w)(?:{_DEADLINES})\s+(?:(?:the|le|la|el|der|die|den|dem|o|a|il|lo)\s+)?$")


@cache
def _quarter_name_regex(nouns: tuple[str, ...], ordinals: tuple[tuple[str, ...], ...]
                        ) -> tuple[re.Pattern[str], dict[str, int]] | None:
    """The pattern of `quarter_names` and each ordinal word's quarter."""
    if not nouns or not any(ordinals):
        return None
    noun, ordinal = alternation(nouns), alternation(tuple(w for ws in ordinals for w in ws))
    pattern = re.compile(rf"(?i)\b(?:({ordinal})\s+(?:{noun})|(?:{noun})\s+({ordinal}))\b"
                         rf"(?:\s*(?:of|de|del|din|года|року|عام)?\s*(20\d\d))?")
    return pattern, {w.lower(): n + 1 for n, words in enumerate(ordinals) for w in words}


def _quarter_names(text: str, reference: date,
                   settings: dict[str, Any]) -> list[tuple[float, re.Match[str]]]:
    """Quarters by an ordinal word in the languages of `quarter_names` (icp.yaml)."""
    names = settings.get("quarter_names") or {}
    ordinals = names.get("ordinals") or {}
    table = tuple(tuple(ordinals.get(n) or ordinals.get(str(n)) or ()) for n in (1, 2, 3, 4))
    compiled = _quarter_name_regex(tuple(names.get("nouns") or ()), table)
    if compiled is None:
        return []
    pattern, index = compiled
    return [(_period_middle(reference, index[(m.group(1) or m.group(2)).lower()] * 3 - 1,
                            m.group(3)), m) for m in pattern.finditer(text)]


_RECENT_MONTHS = 3  # a bare month name this many months back or fewer is the one just gone


def dated_matches(text: str, reference: date, criterion: Criterion,
                   country: str | None) -> list[tuple[float, re.Match[str]]]:
    months = tuple(tuple(m) for m in criterion.settings["months"])
    index = {name.lower(): n + 1 for n, names in enumerate(months) for name in names}
    found: list[tuple[float, re.Match[str]]] = []
    for match in month_matches(text, months, criterion.settings):
        month = index[match.group(2).lower()]
        # "by March" is a deadline: before March begins, not in the middle of it
        day = int(match.group(1) or match.group(3) or (1 if _DEADLINE.match(match.group(0))
                                                         else 15))
        year = int(match.group(4)) if match.group(4) else (
            reference.year + (1 if month < reference.month else 0))
        if not (match.group(1) or match.group(3) or match.group(4)) \
                and 1 <= (reference.month - month) % 12 <= _RECENT_MONTHS:
            # a bare month just gone ("approved by the board in October", written in
            # December) is that month, not next year's: nobody plans ten months ahead
            # without writing the year
            year = reference.year - (1 if month > reference.month else 0)
        found.append((_months_between(reference, year, month, day), match))
    for match in _CJK_MONTH.finditer(text):  # "2月にPoC": a CJK month needs no preposition
        month = int(match.group(2) or match.group(4))
        written = match.group(1) or match.group(5)
        year = int(written) if written else (
            reference.year + (1 if month < reference.month else 0))
        day = int(match.group(3) or 15)
        found.append((_months_between(reference, year, month, day), match))
    for match in _CJK_QUARTER.finditer(text):
        nth = _CJK_DIGIT.get(match.group(2)) or int(match.group(2))
        found.append((_period_middle(reference, nth * 3 - 1, match.group(1)), match))
    found += _quarter_names(text, reference, criterion.settings)
    for match in _QUARTER_NUMBERED.finditer(text):
        nth = _ROMAN.get(match.group(1).lower()) or int(match.group(1))
        found.append((_period_middle(reference, nth * 3 - 1, match.group(2)), match))
    for match in _QUARTER.finditer(text):
        quarter = (int(match.group(1) or match.group(4)) if match.group(1) or match.group(4)
                   else _ORDINAL_QUARTER[match.group(3).lower()] if match.group(3)
                   else _ROMAN[match.group(5).lower()] if match.group(5) else None)
        month = quarter * 3 - 1 if quarter else int(match.group(2)) * 6 - 3
        if _PERIOD_END.match(match.group(0)):  # "end of Q1", "fin de T2": its last month
            last = quarter * 3 if quarter else int(match.group(2)) * 6
            found.append((_period_middle(reference, month, match.group(6))
                          + (last - month) + 0.5, match))
            continue
        found.append((_period_middle(reference, month, match.group(6)), match))
    # a span that is a length or a time gone by ("para 24 meses", "3 months ago") is no date
    not_ahead = _words_regex(tuple(criterion.settings.get("span_length_or_past_words", ())),
                             _SPAN_ARTICLE)
    ago = _words_regex(tuple(criterion.settings.get("span_ago_words", ())), before=r"\s+")
    for match in _RELATIVE.finditer(text):
        if not_ahead.search(text, max(0, match.start() - 30), match.start()) or \
                ago.match(text, match.end()):
            continue
        amount = int(match.group(2) or match.group(1))
        weeks = match.group(3).lower().startswith(("week", "seman", "woch", "settim"))
        found.append((amount / 4.3 if weeks else float(amount), match))
    for match in _WEEK.finditer(text):  # "Angebot bis KW 49", "leverans vecka 6"
        week, written = int(match.group(1)), match.group(2)
        year = int(written) if written else reference.year + (
            1 if week < reference.isocalendar().week - 1 else 0)
        if 1 <= week <= date(year, 12, 28).isocalendar().week:
            monday = date.fromisocalendar(year, week, 1)
            found.append((_months_between(reference, year, monday.month, monday.day), match))
    found += _calendar_mentions(text, reference, criterion.settings, country)
    found += _numeric_dates(text, reference, country)
    # a date with its clock time ("Join Time: Nov 17, 2026 13:58:40") is when a system logged
    # something, not a date anyone plans by
    return [(delta, match) for delta, match in found if delta >= -0.5
            and not _CLOCK_TIME.match(text, match.end()) and not _numbering(text, match)]


def _numbering(text: str, match: re.Match[str]) -> bool:
    """A question's number in a form's field name ("Qualifying Q1 - Current solution: …",
    "Q2. Timeframe: …", "Q1 Purchase Role: Recommend"): at most two words into a line whose
    label ends in a colon, and followed by a dash or a dot, or starting the line and followed
    by a short label, it numbers the question, it is no quarter ("We buy in Q1 - budget:
    approved" is a sentence, not a label). Only a bare "Q1"…"Q4" numbers a question: a
    month and its year before the next sentence ("Adjudicación prevista: enero de 2027.
    Inicio del servicio: …") are a date."""
    start = text.rfind("\n", 0, match.start()) + 1
    colon = text.find(":", match.end())
    line_end = text.find("\n", match.end())
    before = len(text[start:match.start()].split())
    return _QUESTION_NUMBER.fullmatch(match.group(0)) is not None and colon >= 0 \
        and (line_end < 0 or colon < line_end) and before <= 2 \
        and (_NUMBERING_AFTER.match(text, match.end()) is not None
             # an export's column named by its question's number: "Q1 Purchase Role: Recommend"
             or (before == 0 and _NUMBERED_KEY.match(text, match.end()) is not None))


_QUESTION_NUMBER = re.compile(r"(?i)q[1-4]")  # "Q2. Timeframe": never "enero de 2027. Inicio"
_NUMBERING_AFTER = re.compile(r"\s*[-–.)]\s+\w")
# a short label after the number, up to the line's colon; never a year ("Q1 2027: go-live")
_NUMBERED_KEY = re.compile(r"\s+(?!20\d\d)[^\W\d][\w/&]*(?:\s+[\w/&]+){0,3}\s*:")


_CLOCK_TIME = re.compile(r",?\s*(?:20\d\d)?,?\s*(?:at\s+)?\d{1,2}:\d\d(?::\d\d)?")


# A calendar week by its ISO number, as German and Nordic business writes dates: "KW 49",
# "KW49/2026", "vecka 6", "uke 6", "uge 6", "viikolla 6" (English writes dates, and "week 3"
# is as often "the third week of the pilot").
_WEEK = re.compile(r"(?i)(?<!\w)(?:kw|vecka|veckan|uke|uka|uge|ugen|viikko|viikolla)"
                   r"\.?\s?(\d{1,2})(?!\d|\s*(?:weeks?|wochen))(?:\s*/\s*(20\d\d))?")


def _period_middle(reference: date, month: int, year: str | None) -> float:
    """Months from the reference to the middle of a quarter or half (its middle `month`),
    in the written year, else the next one that has not ended."""
    year_n = int(year) if year else reference.year + (1 if month < reference.month - 1 else 0)
    return _months_between(reference, year_n, month, 15)


# Dates in digits: "31.03.2027", "31/03/2027", "03/31/2027", "2027-03-31" (a time after it,
# "2026-11-21 16:02", makes it a timestamp: when a form was filled in, not a plan).
_NUMERIC_DATE = re.compile(
    r"(?<![\d./-])(?:(20\d\d)-(\d{1,2})-(\d{1,2})|(\d{1,2})([./])(\d{1,2})\5(20\d\d))"
    r"(?!\d|[./-]\d)(?!,?\s*(?:um\s+|at\s+|a las\s+|à\s+)?\d{1,2}:\d\d)")


# A date that is a record's field value ("Event Date: 2026-11-19", "scanned_at=…") dates the
# record, not a plan.
_FIELD_VALUE = re.compile(r"^[^\n.!?]{0,40}[:=]\s*[\"']?$")


def _numeric_dates(text: str, reference: date,
                   country: str | None) -> list[tuple[float, re.Match[str]]]:
    """Written-out dates in digits after the arrival day. Day first, except month first
    with slashes in the US (and wherever the first number cannot be a month); a date on or
    before the arrival day is a record of the past (an order, a scan), not a plan."""
    found: list[tuple[float, re.Match[str]]] = []
    for match in _NUMERIC_DATE.finditer(text):
        if match.group(1):
            year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
        else:
            first, second, year = int(match.group(4)), int(match.group(6)), int(match.group(7))
            month_first = match.group(5) == "/" and (country or "").upper() in ("US", "PH")
            if first > 12 or second > 12:
                month_first = second > 12
            month, day = (first, second) if month_first else (second, first)
        if not _a_day_of_a_plan(text, match, month, day):
            continue
        delta = _months_between(reference, year, month, day)
        if delta > 0:
            found.append((delta, match))
    dotted = [(m, int(m.group(1)), int(m.group(2))) for m in _DAY_MONTH_DOT.finditer(text)]
    for match in _DAY_MONTH_SLASH.finditer(text):  # "antes del 20/12", "by 12/15" in the US
        first, second = int(match.group(1)), int(match.group(2))
        month_first = (country or "").upper() in ("US", "PH")
        if first > 12 or second > 12:  # whichever cannot be a month is the day
            month_first = second > 12
        dotted.append((match, *((second, first) if month_first else (first, second))))
    for match, day, month in dotted:  # "läuft zum 31.03. aus", "Angebot bis 11.12."
        if not _a_day_of_a_plan(text, match, month, day):
            continue
        gone = (month, day) < (reference.month, reference.day)
        if gone and _months_between(reference, reference.year, month, day) >= -_RECENT_MONTHS:
            continue  # "Messe am 25.11.", written in December: just gone, not next year's
        year = reference.year + (1 if gone else 0)
        found.append((_months_between(reference, year, month, day), match))
    return found


def _a_day_of_a_plan(text: str, match: re.Match[str], month: int, day: int) -> bool:
    """Digits that make a calendar day and are not a record's field value ("Event Date:
    2026-11-19" dates the record, not a plan)."""
    return 1 <= month <= 12 and 1 <= day <= 31 and not _FIELD_VALUE.search(
        text[text.rfind("\n", 0, match.start()) + 1:match.start()])


# A day and month without the year, each closed by a dot, as German, Nordic and Polish
# write them ("zum 31.03.", "innen 15.1."); a version number ("4.12.1") is not one.
_DAY_MONTH_DOT = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(?![\d.])")
# ... or with a slash, after a word that sets a deadline ("antes del 20/12", "by 12/15",
# "até 15/01"): alone, "24/7" or "50/50" is no date.
_DAY_MONTH_SLASH = re.compile(
    r"(?i)(?<!\w)(?:by|before|until|till|no later than|antes del?|hasta el|até|ate|bis|bis zum|"
    r"vor dem|avant le|d'ici le|jusqu'au|entro il|prima del|uiterlijk|voor|przed|do dnia|"
    r"deadline)\s+(\d{1,2})/(\d{1,2})(?![\d/])")


def _calendar_mentions(text: str, reference: date, settings: dict[str, Any],
                       country: str | None) -> list[tuple[float, re.Match[str]]]:
    """Dates named without a month (icp.yaml timeline `named_days`, `seasons`, `year_parts`):
    "before Easter", "nach dem Jahreswechsel", "this spring" (autumn in Sydney), "mid-2027",
    "finales del próximo año". A day or season counts to its next occurrence after the
    reference date unless a year is written; a part of a year needs its year."""
    found: list[tuple[float, re.Match[str]]] = []
    year_after = r"(?:\s+(?:de\s+|of\s+)?(20\d\d))?"
    days = [(match, day["date"]) for day in settings.get("named_days", ())
            for match in _words_regex(tuple(day["names"]), year_after).finditer(text)]
    for match, on in days:  # "Chinese New Year" is not also "New Year"
        if not any(other is not match and other.start() <= match.start()
                   and match.end() <= other.end() for other, _ in days):
            year = int(match.group(1)) if match.group(1) else None
            found.append((_to_next(reference, year, on), match))
    southern = (country or "").upper() in set(settings.get("southern_hemisphere", ()))
    placing = alternation(tuple(settings.get("month_context_words", ())))
    context = rf"\b(?:{placing}|this|next|coming|the|during|over|el|la|le|der|die|den|" \
              r"dieses|diesen|nächsten|próximo|próxima|prochain|questo|prossima)\s+"
    for middle, names in (settings.get("seasons") or {}).items():
        month = (int(middle) + 5) % 12 + 1 if southern else int(middle)
        pattern = _words_regex(tuple(names), year_after, context)
        for match in pattern.finditer(text):
            year = int(match.group(1)) if match.group(1) else None
            # "by spring", "d'ici le printemps": before the season begins, not in its middle
            by = (_DEADLINE.match(match.group(0))
                  or _DEADLINE_BEFORE.search(text[max(0, match.start() - 20):match.start()]))
            on = f"{(month + 10) % 12 + 1:02d}-01" if by else f"{month:02d}-15"
            found.append((_to_next(reference, year, on), match))
    found += _fiscal_mentions(text, reference, settings.get("fiscal_year") or {}, country)
    next_year = "|".join(re.escape(p) for p in settings.get("next_year", ()))
    for part in (settings.get("year_parts") or {}).values():
        words = alternation(tuple(part["names"]))
        pattern = re.compile(
            rf"(?i)(?<!\w)(?:{words})(?:[\s-]+(?:of|de|del|do|da|des|di|van|von)(?:\s+the)?)?"
            rf"[\s-]*(?:(20\d\d)\b|({next_year})(?!\w))" if next_year else
            rf"(?i)(?<!\w)(?:{words})(?:[\s-]+(?:of|de|del|do|da|des|di))?[\s-]*(20\d\d)\b()")
        for match in pattern.finditer(text):
            year = int(match.group(1)) if match.group(1) else reference.year + 1
            found.append((_to_next(reference, year, part["date"]), match))
    return found


def distant_year(text: str, reference: date, months: float) -> re.Match[str] | None:
    """A year written alone ("maybe 2028", "we'll look again in 2029") that begins more than
    `months` after the lead arrived: a distant timeline, by the same rule whatever the year
    (on 24 Nov 2026 that is 2028 and later; "2027" is not distant then, it is next month)."""
    for match in YEAR.finditer(text):
        year = int(match.group(1))
        if year <= reference.year + 10 and _to_next(reference, year, "01-01") > months:
            return match
    return None


def _fiscal_mentions(text: str, reference: date, fiscal: dict[str, Any],
                     country: str | None) -> list[tuple[float, re.Match[str]]]:
    """"This fiscal year" → the day the lead's current fiscal year ends (March in Japan,
    India and the UK, June in Australia, December elsewhere: icp.yaml `fiscal_year`), a
    deadline; "next fiscal year" → the middle of the next one, vague like "next year"."""
    start = int((fiscal.get("start_month") or {}).get((country or "").upper(), 1))
    begins = date(reference.year + (1 if reference.month >= start else 0), start, 1)
    middle = date(begins.year + (1 if start > 6 else 0), (start + 5) % 12 + 1, 1)
    found: list[tuple[float, re.Match[str]]] = []
    for key, target in (("next", middle), ("this", begins)):
        names = tuple(fiscal.get(key) or ())
        if not names:
            continue
        for match in _words_regex(names).finditer(text):
            days = (target - reference).days - (1 if key == "this" else 0)
            found.append((days / 30.4, match))
    return found


@cache
def _words_regex(names: tuple[str, ...], after: str = "", before: str = "") -> re.Pattern[str]:
    """Whole words; a name in a script without spaces ("年明け") matches inside a run of
    text, as phrase lists do."""
    def one(name: str) -> str:
        if any(ord(ch) >= 0x2E80 for ch in name):
            return re.escape(name)
        return rf"(?<!\w){re.escape(name)}(?!\w)"
    words = "|".join(one(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?i){before}(?:{words}){after}")


def _to_next(reference: date, year: int | None, on: str | dict[int, str]) -> float:
    """Months to the day `on` in `year`, or at its next occurrence on or after the reference
    date. `on` is "MM-DD", "easter" or "easter-47" (Carnival: days from Easter), or a
    holiday of a lunar calendar as {year: "MM-DD"} (Ramadan, Diwali), a year outside the
    table taking the nearest year's day."""
    def day_in(y: int) -> date:
        if isinstance(on, dict):
            nearest = min(on, key=lambda known: abs(int(known) - y))
            month, day = (int(part) for part in on[nearest].split("-"))
            return date(y, month, day)
        if on.startswith("easter"):
            return _easter(y) + timedelta(days=int(on[len("easter"):] or 0))
        month, day = (int(part) for part in on.split("-"))
        return date(y, month, day)

    target = day_in(year) if year else day_in(reference.year)
    if year is None and target < reference:
        target = day_in(reference.year + 1)
    return (target - reference).days / 30.4


def _easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _months_between(reference: date, year: int, month: int, day: int) -> float:
    try:
        target = date(year, month, min(day, 28))
    except ValueError:
        return -1.0
    return (target - reference).days / 30.4
