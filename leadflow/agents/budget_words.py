"""What a lead says about the money: a budget stated in any phrasing, hedged ("approved in
principle", "not yet approved"), denied ("no hay presupuesto") or only talked about. BANT's
budget rules read them; kept apart from buyer_signals.py so each module stays one concept.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from leadflow.agents.dates_in_text import dated_matches
from leadflow.agents.money import money_amounts, spend_amounts
from leadflow.agents.sentences import SENTENCES, YEAR, affirmed, clause_of, negated, quote
from leadflow.config import Criterion, IcpConfig
from leadflow.tools.standardize import contains_phrase, phrase_regex


def budget_stated(text: str, budget: Criterion,
                  figure_words: tuple[str, ...] = ()) -> re.Match[str] | None:
    """A budget noun in a sentence that says the money exists (approved, reserved, in the
    plan…, not negated) or gives an amount to spend (not the company's revenue: see
    `spend_amounts`); the match is the budget noun."""
    nouns = budget.phrases.get("budget_noun_phrases", ())
    given = budget.phrases.get("budget_given_phrases", ())
    for sentence in SENTENCES.finditer(text):
        chunk = sentence.group(0)
        noun = affirmed(chunk, nouns)  # "No fixed budget yet - … in place by June": none
        # a year inside a phrase does not change it: "in the 2027 plan" is "in the plan"
        plain = re.sub(r"\s+", " ", YEAR.sub(" ", chunk))
        if noun and (affirmed(plain, given) or spend_amounts(chunk, figure_words)):
            return _in_text(text, noun, sentence)
    return None


def not_buying(text: str, budget: Criterion) -> bool:
    """A negative budget phrase that is about buying, not about the money: "not ready to
    buy", "is there a free plan?" — but not "no budget allocated" (a budget noun in it)."""
    phrases = budget.phrases.get("negative_phrases", ())
    nouns = budget.phrases.get("budget_noun_phrases", ())
    return bool(phrases) and any(not contains_phrase(m.group(0), nouns)
                                 for m in phrase_regex(phrases).finditer(text))


def budget_intended(text: str, budget: Criterion,
                    figure_words: tuple[str, ...] = ()) -> re.Match[str] | None:
    """An amount the writer means to spend on this ("tenemos pensado invertir unos 2
    millones de pesos al mes"; icp.yaml budget `intended_spend_phrases`): money named, not
    yet set aside. The match is the spending verb."""
    verbs = budget.phrases.get("intended_spend_phrases", ())
    for sentence in SENTENCES.finditer(text):
        chunk = sentence.group(0)
        if (verb := affirmed(chunk, verbs)) and spend_amounts(chunk, figure_words):
            return _in_text(text, verb, sentence)
    return None


def budget_hedged(text: str, budget: Criterion) -> re.Match[str] | None:
    """A hedge in a sentence that states a budget ("provisionally reserved", "approved in
    principle", "a budget line, but the scope isn't final", "vorbehaltlich", "wstępnie";
    icp.yaml budget `hedge_phrases`), or a word for the money being there that is negated
    ("budget not yet approved, around $50k"): the money is not yet there."""
    hedges = budget.phrases.get("hedge_phrases", ())
    nouns = budget.phrases.get("budget_noun_phrases", ())
    given = budget.phrases.get("budget_given_phrases", ())
    for sentence in SENTENCES.finditer(text):
        chunk = sentence.group(0)
        if not contains_phrase(chunk, nouns):
            continue
        hedge = contains_phrase(chunk, hedges) or next(  # "not yet approved", "não está aprovado"
            (m for m in phrase_regex(given).finditer(chunk) if negated(chunk, m.start())), None)
        if hedge:
            return _in_text(text, hedge, sentence)
    return None


# A time preposition before a date: "approved in February", "aprovado em dezembro".
_WHEN_WORDS = r"(?:in|on|at|by|em|en|im|am|au|à|a|na|no|nel|nella|op|w|i|för)\s+"
# Thai writes "month" before a month's name, with no space: "อนุมัติประมาณเดือนมกราคม"
_WHEN = re.compile(rf"(?i)(?:(?<!\w){_WHEN_WORDS}|เดือน)$")
# What ends the approval's clause before a date: "approved, go-live in March", "freigegeben
# und wir starten im Januar", "approved for the platform in this financial year".
_CLAUSE_BREAK = re.compile(r"(?i)[,;:(]|\s(?:and|und|y|e|et|en|och|og|ed|but|then)\s"
                           # what the money is for, and its period: "approved for a data
                           # platform in this financial year"
                           r"|\s(?:for|für|para|pour|per|voor|dla)\s")
_WHEN_FIRST = re.compile(rf"(?i){_WHEN_WORDS}")


def approval_ahead(text: str, clear: re.Match[str], budget: Criterion, timeline: Criterion,
                   arrival: date, country: str | None) -> re.Match[str] | None:
    """A budget approved on a date still to come, in the sentence that states the budget
    (`clear`): "must be approved by our board in February", "Orçamento 2027 aprovado em
    dezembro" written in November. The money is not there yet, whatever the approval word
    says. The match is the date."""
    given = budget.phrases.get("budget_given_phrases", ())
    # a period already running ("set aside in this financial year") is the money's period
    running = tuple(timeline.settings.get("running_period_words", ()))
    for sentence in SENTENCES.finditer(text):
        if not sentence.start() <= clear.start() < sentence.end():
            continue
        chunk = sentence.group(0)
        if contains_phrase(chunk, tuple(budget.settings.get("done_words", ()))):
            continue  # "budget already secured", "すでに確保": the approval is behind them
        words = list(phrase_regex((*given, *budget.settings.get("approval_words", ()))
                                  ).finditer(chunk))
        for ahead, when in dated_matches(chunk, arrival, timeline, country):
            if running and phrase_regex(running).match(when.group(0)):
                continue  # "set aside in this financial year": the money's period, under way
            if ahead > 0 and _dated_approval(chunk, when, words) and any(
                    _same_clause(chunk, word, when) for word in words):
                return _in_text(text, when, sentence)
    return None


def _same_clause(chunk: str, word: re.Match[str], when: re.Match[str]) -> bool:
    """The date is close to the approval word, after it ("approved by the board in
    January") or before it ("im Februar freigegeben"), with no clause between them."""
    start, end = (word.end(), when.start()) if word.end() <= when.start() \
        else (when.end(), word.start())
    return 0 <= end - start <= 40 and not _CLAUSE_BREAK.search(chunk[start:end])


def _dated_approval(chunk: str, when: re.Match[str], words: list[re.Match[str]]) -> bool:
    """The date is the approval's: after a time preposition ("approved in February") or
    right after the approval word ("voté fin mars")."""
    return bool(_WHEN.search(chunk[:when.start()]) or _WHEN_FIRST.match(when.group(0))
                or any(word.end() <= when.start() and not chunk[word.end():when.start()].strip()
                       for word in words))


# A bare "no" right before the noun: "in the" in Portuguese ("no orçamento"); English "no
# budget" is in the negative phrase list already.
_IN_THE = re.compile(r"(?i)(?<!\w)no\s+$")


def budget_denied(text: str, budget: Criterion) -> re.Match[str] | None:
    """A budget noun negated in its own clause, in any language the negation words cover:
    "no budget for new tools", "no hay presupuesto", "kein Budget dafür", "pas de budget",
    "we'd never get budget for this"; not a budget without trouble ("no budget issues":
    budget `not_lacking_words` right after the noun), nor a budget not there yet ("no fixed
    budget yet, I'd take a number to our MD": `not_yet_words` in its sentence), which says
    as much about the next step as about the money, nor a budget kept private ("we don't
    disclose the budget": `untold_words` in its clause). The match is the noun."""
    nouns = budget.phrases.get("budget_noun_phrases", ())
    trouble = tuple(budget.settings.get("not_lacking_words", ()))
    not_yet = tuple(budget.settings.get("not_yet_words", ()))
    untold = tuple(budget.settings.get("untold_words", ()))
    unknown = tuple(budget.settings.get("unknown_words", ()))
    if contains_phrase(text, nouns) is None:
        return None
    for match in phrase_regex(nouns).finditer(text):
        after = text[match.end():match.end() + 30]
        if _IN_THE.search(text, max(0, match.start() - 4), match.start()):
            continue  # "previsto no orçamento": Portuguese "no" is "in the"
        if negated(text, match.start()) and not (
                trouble and contains_phrase(after.split(".")[0][:20], trouble)) and not (
                not_yet and contains_phrase(_clause_and_next(text, match), not_yet)) and not (
                untold and contains_phrase(clause_of(text, match), untold)) and not (
                unknown and contains_phrase(text[max(0, match.start() - 30):match.start()],
                                            unknown)):  # "I don't know about budget"
            return match
    return None


def _clause_and_next(text: str, match: re.Match[str]) -> str:
    """The noun's clause and the next one ("no fixed budget yet", "no budget, not yet"):
    a "still" in another statement of the sentence ("We zijn nog oriënterend: er is geen
    budget") is not the budget's."""
    sentence = quote(text, match)
    clause = clause_of(text, match)
    at = sentence.find(clause)
    return sentence[at:at + len(clause) + 25] if at >= 0 else clause


def budget_talked_about(text: str, budget: Criterion) -> re.Match[str] | None:
    """A budget noun anywhere ("we are planning next year's budget", "the 2027 budget has
    been requested", "Budget wird noch abgestimmt"): the lead has said where the money
    stands, so the company's size no longer speaks for it. A sentence expecting the money
    ("enterprise budget likely", "Budget wahrscheinlich kein Problem") says what the size
    says and does not count."""
    likely = budget.phrases.get("likely_phrases", ())
    for sentence in SENTENCES.finditer(text):
        chunk = sentence.group(0)
        noun = contains_phrase(chunk, budget.phrases.get("budget_noun_phrases", ()))
        if noun and not contains_phrase(chunk, likely):  # "budget likely" is what size says
            return _in_text(text, noun, sentence)
    return None


def budget_too_small(said: str, rules: IcpConfig, country: str | None = None) -> bool:
    """The budget stated is no money for business software: its largest amount, in US
    dollars a year (a monthly amount counts twelve times: budget `per_month_words`), is below
    budget `too_small_usd_per_year` — "£0 budget, it'd have to be free", "unos 150 mil pesos
    al mes" (about $430 a year). A price per user or seat (budget `per_seat_words`) is no
    total."""
    budget = rules.bant["budget"]
    floor = float(budget.settings.get("too_small_usd_per_year", 0))
    amounts = money_amounts(said, rules, country)
    if not floor or not amounts or contains_phrase(
            said, tuple(budget.settings.get("per_seat_words", ()))):
        return False  # "€15 per user a month" is a price per seat, times however many users
    words = tuple(budget.settings.get("per_month_words", ()))
    monthly = contains_phrase(said, words) or any(  # "$1,500/month": the slash is joined
        w.startswith("/") and w in said.lower() for w in words)
    return max(amounts) * (12 if monthly else 1) < floor


def _in_text(text: str, found: re.Match[str], sentence: re.Match[str]) -> re.Match[str] | None:
    """The phrase found in one sentence, as a match in the whole text (callers quote it)."""
    return re.compile(re.escape(found.group(0))).search(text, sentence.start())


def size_fact(company: dict[str, Any]) -> str:
    """The budget's evidence when nothing is said of money: what is known of the size."""
    parts = []
    if company.get("employees"):
        parts.append(f"{company['employees']:,} employees")
    elif company.get("segment") not in (None, "unknown"):  # a range: "10,000+"
        parts.append(f"{company['segment'].replace('_', '-')} by the size range stated")
    if company.get("revenue_usd"):
        parts.append(f"revenue ${company['revenue_usd']:,}")
    return ("company size: " + ", ".join(parts)) if parts else "company size unknown"
