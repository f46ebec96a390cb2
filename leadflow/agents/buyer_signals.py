"""Who is buying, in the lead's own words: the writer's own request, a writer who is not a
buyer (a student, a vendor pitching, a support case), a more senior person who decides, and
a budget stated in a form no phrase list spells out. BANT's and MEDDIC's rules share them."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from leadflow.agents.disguise import CJK as NO_SPACES
from leadflow.agents.money import MONEY
from leadflow.agents.sentences import SENTENCES, affirmed, clause_of, has_negation, negated
from leadflow.agents.support_case import support_case
from leadflow.config import Criterion
from leadflow.tools.alternation import alternation
from leadflow.tools.standardize import contains_phrase, phrase_regex, standardize_tables


def own_request(inquiry: str, text: str, min_words: int) -> str | None:
    """The first sentence of the lead's own message (the inquiry capture kept, still in the
    scored text once injections are dropped) when the message has at least `min_words`
    words; None for a lead who wrote nothing of their own (a badge scan, a bare form)."""
    sentences = [m.group(0).strip() for m in SENTENCES.finditer(inquiry)]
    own = [s for s in sentences if s and s in text]
    if sum(_words(s) for s in own) < min_words:
        return None
    return next((s for s in own if _words(s) >= 4), own[0])[:240]


def _words(sentence: str) -> int:
    """Words in a sentence; in scripts written without spaces, two characters count as one
    (about a word in Chinese and Japanese)."""
    cjk = len(NO_SPACES.findall(sentence))
    return len(NO_SPACES.sub(" ", sentence).split()) + cjk // 2


def private_person(lead: dict[str, Any]) -> bool:
    """A person writing for themselves: no company named, a free-mail address (so no company
    domain), no size said and no title that gives them a rank. Whatever their problem, it is
    no business purchase of ours (SPEC §4.1: a free-mail consumer is typically unqualified)."""
    contact, company = lead.get("contact") or {}, lead.get("company") or {}
    return not (company.get("name") or company.get("domain") or company.get("employees")) \
        and contact.get("seniority") in (None, "unknown", "individual_contributor")


def non_buyer_said(text: str, authority: Criterion) -> re.Match[str] | None:
    """The first phrase saying the writer is not buying from us (authority
    `non_buyer_phrases`: a student, a job seeker, a vendor pitching, a reseller, a bill or
    data request), unless it names the writer's own new project: "go live with the new
    partner programme" is their programme, "do you have a partner programme?" is ours
    (`own_project_words` just before the phrase); else an existing customer's support case
    (`support_case`)."""
    phrases = authority.phrases.get("non_buyer_phrases", ())
    if contains_phrase(text, phrases) is not None:
        own = _own_project(tuple(authority.settings.get("own_project_words", ())))
        for match in phrase_regex(phrases).finditer(text):
            if _REPLY_PREFIX.search(text, max(0, match.start() - 8), match.start()):
                continue  # "RE: Automatic reply: …": a person answering it, not the reply
            if _about_a_manner(text, match, authority):
                continue  # "not interested in a long sales process": how, not whether
            if own is None or not own.search(text, max(0, match.start() - 30), match.start()):
                return match
    return (_non_buyer_pattern(text, authority) or support_case(text, authority)
            or declined(text, authority))


def _about_a_manner(text: str, match: re.Match[str], authority: Criterion) -> bool:
    """The refusal is about a way of buying, not the purchase: "in" or "on" and, within three
    words, one of authority `manner_words` ("not interested in a long sales process")."""
    words = tuple(authority.settings.get("manner_words", ()))
    after = re.match(r"\s+(?:in|on)\s+((?:[\w-]+\s+){0,3}[\w-]+)", text[match.end():])
    return bool(words) and after is not None and contains_phrase(after.group(1), words) is not None


# "if" in the clause before a refusal makes it a condition ("if it costs more than 300 a
# month, it's not for us"), not a refusal
_CONDITION = re.compile(
    r"(?i)(?<!\w)(?:if|unless|se|si|wenn|falls|als|indien|jeśli|jeżeli|caso)(?!\w)")


# A reply's or forward's subject prefix ("RE:", "AW:", "SV:", "Antw:", "R:", "FW:").
_REPLY_PREFIX = re.compile(r"(?i)(?<!\w)(?:re|aw|sv|vs|antw|rif|r|fw|fwd|wg|tr)\s?:\s*$")


def declined(text: str, authority: Criterion) -> re.Match[str] | None:
    """The writer declining us, in their own words (authority `declined_phrases`: "we signed
    with a competitor in October", "we will not proceed", "not in a position to look at
    this now", "quite happy with Teamleader"): not a buyer now, whatever the company's size.
    A negation anywhere before it in its clause ("I don't see a reason we won't proceed")
    or a condition there ("if it costs more, it's not for us") leaves it unsaid."""
    phrases = authority.phrases.get("declined_phrases", ())
    if not phrases or contains_phrase(text, phrases) is None:
        return None
    for match in phrase_regex(phrases).finditer(text):
        clause = clause_of(text, match)
        before = clause[:max(0, clause.find(match.group(0)))]
        if not has_negation(before) and not _CONDITION.search(before):
            return match
    return None


def _non_buyer_pattern(text: str, authority: Criterion) -> re.Match[str] | None:
    """authority `non_buyer_patterns`: regexes for non-buyers a phrase list cannot spell
    out ("looking for an AE/SDR role")."""
    return next((m for p in authority.settings.get("non_buyer_patterns", ())
                 if (m := re.search(p, text, re.IGNORECASE))), None)


@cache
def _own_project(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile(rf"(?i)(?<!\w)(?:{alternation(words)})\s+$")


def someone_else_decides(text: str, authority: Criterion) -> str | None:
    """The sentence saying that a more senior person or body decides, approves or holds
    the budget ("I'd need to get our COO on board, she owns the budget"), or None."""
    deciders = authority.phrases.get("decider_phrases", ())
    decides = authority.phrases.get("decides_phrases", ())
    for found in SENTENCES.finditer(text):
        sentence = found.group(0)
        if contains_phrase(sentence, decides) is None:
            continue
        for match in phrase_regex(deciders).finditer(sentence):
            before = sentence[max(0, match.start() - 30):match.start()]
            if not _OWN_RANK.search(before):  # "our CFO", "the board", not "as VP I …"
                return sentence.strip()[:240]
    return None


def on_behalf_of_an_executive(text: str, authority: Criterion) -> str | None:
    """The sentence in which the writer acts for an executive or the board ("I am writing on
    behalf of our CFO", "Im Auftrag von Dr. Kessler, CEO der …"): the request is the
    decision maker's own, whatever the writer's title says. None otherwise; acting for a
    client or a colleague is not it."""
    behalf = authority.phrases.get("on_behalf_phrases", ())
    principals = (*authority.phrases.get("decider_phrases", ()),
                  *authority.phrases.get("principal_phrases", ()))
    for found in SENTENCES.finditer(text):
        sentence = found.group(0)
        if contains_phrase(sentence, behalf) and contains_phrase(sentence, principals):
            return sentence.strip()[:240]
    return None


# The writer naming their own rank ("I'm the VP", "as CFO", "als Geschäftsführer").
_OWN_RANK = re.compile(
    r"(?i)\b(?:i'm|i am|im|as|als|ich bin|comme|en tant que|je suis|como|soy|sou|sono|jako|"
    r"jestem|ik ben)\s+(?:the\s+|a\s+|an\s+|der\s+|die\s+|le\s+|la\s+|el\s+|o\s+|il\s+)?"
    r"(?:\w+\s+)?$")


def search_patterns(text: str, criterion: Criterion,
                    key: str = "clear_patterns") -> re.Match[str] | None:
    """The first match of the criterion's regexes under `key` that no negation in its clause
    precedes or interrupts ("no approved budget yet, … in place by May", "budget isn't
    approved yet" state no budget)."""
    pattern = _compiled_patterns(tuple(criterion.settings.get(key, ())))
    if pattern is None:
        return None
    return next((match for match in pattern.finditer(text)
                 if not negated(text, match.start(), match.end())), None)


@cache
def _compiled_patterns(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{p.replace('{money}', MONEY)})" for p in patterns),
                      re.IGNORECASE)


def runs_formal_purchase(title: str | None, text: str, authority: Criterion) -> str | None:
    """A buyer from procurement running a formal process (an RFP, an RFQ, a tender;
    authority `formal_process_phrases`): the process they run shapes the decision, an
    influence a junior title hides. Someone from purchasing only collecting brochures is
    not running one. The words of the process, quoted; else None."""
    procurement = dict(standardize_tables().department).get("procurement", ())
    if not contains_phrase(title or "", procurement):  # "Acheteur – Services Généraux & IT"
        return None
    found = affirmed(text, authority.phrases.get("formal_process_phrases", ()))
    return found.group(0) if found else None
