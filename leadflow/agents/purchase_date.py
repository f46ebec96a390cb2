"""Which of a lead's dates is when it means to buy, read as a seller does: an award, a
tender, a decision or a go-live date, before the steps around them (a demo, a proposal,
questions), never a date already past or one on reaching the person. BANT's rules read it;
`dates_in_text` finds the dates.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from typing import NamedTuple

from leadflow.agents.dates_in_text import dated_matches
from leadflow.agents.sentences import clause_of, quote
from leadflow.config import Criterion
from leadflow.tools.standardize import contains_phrase


def buying_date(text: str, reference: date, criterion: Criterion,
                country: str | None = None,
                need: Criterion | None = None) -> tuple[float, str] | None:
    """(months from the reference date, quote) of when the lead means to buy, read as a
    seller does: a formal procurement's award date (timeline `award_words`, in the clause or
    its field label: "Zuschlag: Ende Februar") wins, then a tender's own date
    (`tender_words`: "RFQ closing date: 4 December"); then a date in a clause about deciding
    or buying (timeline `decision_words`) or about being live (`live_words`: "go-live latest
    1 February"), which puts the purchase `live_lead_months` before it, as the current
    contract's end does (need `contract_phrases` with `contract_end_phrases`); a date only
    on a step before the purchase (a shortlist, a proposal, a demo: `step_words`) puts the
    purchase `step_lag_months` after it; a date on reaching the person (`contact_words`:
    "call me after 1 December", "in meetings till Xmas") says nothing of the purchase, and
    neither does a date already past (the expo they met us at, a scan's timestamp);
    otherwise the soonest of the other dates and those lagged steps (a proposal wanted by
    mid-December says more about the purchase than new stores opening in March)."""
    return purchase_dates(text, reference, criterion, country, need).when()


def on_a_step(clause: str, timeline: Criterion) -> bool:
    """A clause about a step before the purchase (a proposal, a demo, questions) or about
    reaching the person, and not about deciding, buying or going live."""
    settings = timeline.settings
    return bool(contains_phrase(clause, tuple(settings.get("step_words", ())))
                or contains_phrase(clause, tuple(settings.get("contact_words", ())))) and not (
        contains_phrase(clause, tuple(settings.get("decision_words", ())))
        or contains_phrase(clause, tuple(settings.get("live_words", ()))))


class PurchaseDates(NamedTuple):
    """A lead's dates sorted by what they are dates of (see `buying_date`)."""

    awarded: list[tuple[float, str]]
    tendered: list[tuple[float, str]]
    deciding: list[tuple[float, str]]
    plain: list[tuple[float, str]]
    before: list[tuple[float, str]]
    earliest: tuple[float, str] | None

    def when(self) -> tuple[float, str] | None:
        """When the lead means to buy (`buying_date`)."""
        soonest = min(self.awarded or self.tendered or self.deciding or self.plain + self.before,
                      default=None)
        if self.earliest is not None and (soonest is None or soonest[0] < self.earliest[0]):
            return self.earliest
        return soonest

    def purchase_named(self) -> bool:
        """The lead names when the purchase itself happens (an award, a tender, a decision,
        a go-live): a "this week" on a step ("send the proposal this week") then says less."""
        return bool(self.awarded or self.tendered or self.deciding)


def purchase_dates(text: str, reference: date, criterion: Criterion,
                   country: str | None = None, need: Criterion | None = None) -> PurchaseDates:
    """The lead's dates sorted by what they are dates of (see `buying_date`)."""
    settings = criterion.settings
    decision = tuple(settings.get("decision_words", ()))
    steps = tuple(settings.get("step_words", ()))
    awards = tuple(settings.get("award_words", ()))
    tenders = tuple(settings.get("tender_words", ()))
    contact = tuple(settings.get("contact_words", ()))
    events = tuple(settings.get("event_label_words", ()))
    live = tuple(settings.get("live_words", ()))
    contracts = need.phrases.get("contract_phrases", ()) if need else ()
    ends = need.phrases.get("contract_end_phrases", ()) if need else ()
    lag = float(settings.get("step_lag_months", 0.0))
    lead = float(settings.get("live_lead_months", 0.0))
    dated = PurchaseDates([], [], [], [], [], None)
    earliest: tuple[float, str] | None = None
    for delta, match in dated_matches(text, reference, criterion, country):
        if delta < 0:
            continue  # "met you at the expo on 25 November", "Scan time: 01 Dec": past
        clause = clause_of(text, match)
        if len(clause.replace(match.group(0), " ").split()) <= 1:
            # a date standing alone after a comma ("…live before the winter sales, early
            # January") names the time of the clause before it: read the sentence up to it
            sentence = quote(text, match)
            at = sentence.find(match.group(0))
            clause = sentence[:at + len(match.group(0))] if at > 0 else clause
        if contact and contains_phrase(clause, contact) and not contains_phrase(clause, decision):
            continue  # "call me after 1 December", "reachable from April": when, not a purchase
        label = _field_label(text, match)
        if events and contains_phrase(label, events):
            continue  # "Webinar: Enquiry Management for Manufacturers (3 Dec)": the event's day
        if _not_before(text, match, clause):
            # "nothing will be bought before summer", "nicht vor März": a floor, not a
            # deadline; the purchase falls inside that period at the earliest
            floor = (delta + float(settings.get("not_before_margin_months", 0.5)),
                     quote(text, match))
            earliest = max(earliest or floor, floor)
            continue
        labelled = f"{label} {clause}"
        said = (delta, quote(text, match))
        ending = bool(contracts) and bool(contains_phrase(clause, contracts)) \
            and bool(contains_phrase(clause, ends))  # "our licence ends 31.01."
        if awards and contains_phrase(labelled, awards):
            dated.awarded.append(said)
        elif tenders and contains_phrase(labelled, tenders):
            dated.tendered.append(said)
        elif live and contains_phrase(labelled, live):  # "go-live latest 1 February"
            dated.deciding.append((delta - lead, said[1]))
        elif contains_phrase(labelled, decision):  # "Decision timeframe: March"
            dated.deciding.append((delta - lead, said[1]) if ending else said)
        elif steps and contains_phrase(labelled, steps):  # "Demo wanted?: yes, December"
            dated.before.append((delta + lag, said[1]))
        else:
            dated.plain.append((delta - lead, said[1]) if ending else said)
    for match in _today(tuple(settings.get("today_words", ()))).finditer(text):
        clause = clause_of(text, match)
        if contains_phrase(clause, decision) and not _NOT.search(clause):
            # "I want to buy 5 seats today", "heute noch bestellen": a purchase now ("today"
            # in any other clause, "I'm writing today", says nothing of one)
            dated.deciding.append((0.0, quote(text, match)))
    return dated._replace(earliest=earliest)


@cache
def _today(words: tuple[str, ...]) -> re.Pattern[str]:
    if not words:
        return re.compile(r"(?!)")  # no word configured: never
    return re.compile(r"(?i)(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)")


_BEFORE_WORD = re.compile(r"(?i)(?<!\w)(?:before|vor|antes de|antes del|avant|prima di|"
                          r"voor|przed|innan|før|före)\s+(?:the\s+|le\s+|la\s+|el\s+)?")
_BEFORE_END = re.compile(_BEFORE_WORD.pattern + "$")
_NOT = re.compile(r"(?i)\b(?:not|nothing|never|nicht|nichts|kein\w*|nada|nunca|nenhum\w*|"
                  r"rien|pas|niente|mai|niet|niets|nic|ikke|inte|inget|intet)\b|n't|n’t")


def _not_before(text: str, match: re.Match[str], clause: str) -> bool:
    """A date after a negated "before" in its clause ("we won't buy before April", "no
    antes de marzo"): the earliest the purchase can be."""
    at = clause.find(match.group(0))
    head = clause[:at] if at >= 0 else ""
    just_before = text[max(0, match.start() - 20):match.start()]
    if _AFTER_END.search(just_before) or _AFTER_WORD.match(match.group(0)):
        return True  # "after Christmas", "nach Ostern", "pasada la temporada": a floor too
    said = _BEFORE_WORD.match(match.group(0)) or _BEFORE_END.search(just_before)
    return bool(said) and _NOT.search(head) is not None


_AFTER_WORD = re.compile(r"(?i)(?<!\w)(?:after|nach|después de|después del|après|depois d[eo]|"
                         r"dopo|po|efter|etter|jälkeen|pasad[oa]s?|passad[oa]s?|"
                         r"na(?=\s+(?:\d|$)))\s+"  # Dutch "na 1 januari" (not "na semana")
                         r"(?:the\s+|le\s+|la\s+|el\s+|les\s+|o\s+|a\s+|den\s+|dem\s+)?")
_AFTER_END = re.compile(_AFTER_WORD.pattern + "$")


def _field_label(text: str, match: re.Match[str]) -> str:
    """The label a date is the value of ("Award: end of February", "Zuschlag: Ende Februar"),
    or ""; a colon ends a clause, so the label is read apart."""
    line = text[text.rfind("\n", 0, match.start()) + 1:match.start()]
    label, colon, _ = line.rpartition(":")
    label = re.split(r"[.!?]\s", label)[-1]  # a form's message: the label's own sentence
    return label if colon and len(label) <= 40 else ""
