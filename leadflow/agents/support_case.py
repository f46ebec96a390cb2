"""An existing customer's support case that reached sales (a broken sync, an outage, a
double invoice): not a purchase, however urgent it sounds. Read as a seller triages the
inbox: the writer is already a customer (a ticket or case number, "existing customer", our
product named as theirs) and reports a problem — unless they also ask to buy more (more
users, an upgrade, another team), which makes them a buyer again.

The words are icp.yaml's (authority `support_*_phrases`); the shape — a reference number
after a ticket word, the three signals together — is here."""

from __future__ import annotations

import re
from functools import cache

from leadflow.config import Criterion
from leadflow.tools.alternation import alternation
from leadflow.tools.standardize import contains_phrase


@cache
def _ticket_number(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """A ticket word followed by its reference: "ticket 48177", "case #00123",
    "Account # is CV-20931", "chamado nº 5521", "工单号：88812", "Kundennummer 10-4471"."""
    if not words:
        return None
    return re.compile(rf"(?i)(?<!\w)(?:{alternation(words)})\.?\s*(?:(?:#|no\.?|nr\.?|nº|number|"
                      rf"num\.?|id|号|番号)\s*)?(?:is\s+|:\s*|：\s*)?#?(?:[A-Z]{{1,4}}-?){{0,3}}"
                      rf"(?:\d{{1,4}}[-/])?\d{{3,}}")


@cache
def _topic_line(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """A line that is only a menu's topic, or a short field and it: "Soporte", "Inquiry
    type: Support"."""
    if not words:
        return None
    return re.compile(rf"(?im)^[ \t]*(?:[^\W\d][\w \t]{{0,29}}:[ \t]*)?(?:{alternation(words)})"
                      rf"[ \t]*[.!]?[ \t]*$")


def support_case(text: str, authority: Criterion) -> re.Match[str] | None:
    """The words showing that an existing customer reports a problem (or chose the support
    topic of a menu) and asks for nothing new, or None."""
    phrases = authority.phrases
    ticket = _ticket_number(phrases.get("support_ticket_phrases", ()))
    topic = _topic_line(tuple(authority.settings.get("support_topic_words", ())))
    chosen = topic.search(text) if topic else None
    customer = ((ticket.search(text) if ticket else None) or chosen
                or contains_phrase(text, phrases.get("support_customer_phrases", ())))
    if customer is None or not (chosen or contains_phrase(
            text, phrases.get("support_problem_phrases", ()))):
        return None
    if contains_phrase(text, phrases.get("support_expansion_phrases", ())):
        return None  # a customer buying more is a buyer
    return customer
