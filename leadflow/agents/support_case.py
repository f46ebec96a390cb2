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
    "Account # is CV-20931", "chamado nº 5521", "工单号：88812"."""
    if not words:
        return None
    return re.compile(rf"(?i)(?<!\w)(?:{alternation(words)})\.?\s*(?:(?:#|no\.?|nr\.?|nº|number|"
                      rf"num\.?|id|号|番号)\s*)?(?:is\s+|:\s*|：\s*)?#?(?:[A-Z]{{1,4}}-?){{0,3}}\d{{3,}}")


def support_case(text: str, authority: Criterion) -> re.Match[str] | None:
    """The words showing that an existing customer reports a problem and asks for nothing
    new, or None."""
    phrases = authority.phrases
    ticket = _ticket_number(phrases.get("support_ticket_phrases", ()))
    customer = ((ticket.search(text) if ticket else None)
                or contains_phrase(text, phrases.get("support_customer_phrases", ())))
    if customer is None or not contains_phrase(text, phrases.get("support_problem_phrases", ())):
        return None
    if contains_phrase(text, phrases.get("support_expansion_phrases", ())):
        return None  # a customer buying more is a buyer
    return customer
