"""The person a shared mailbox's message names to answer it (issue 14): a procurement office's
request for quotation that says "for technical clarifications please contact … Mr. Faisal
Al-Qahtani, Business Development Manager / Email: f.alqahtani@…", a bank's purchasing desk
naming "Sra. Lucía Mendoza Paredes – Subgerente de Inteligencia Comercial". The lead is that
person: their own address at the mailbox's domain, the name written beside it after an
honorific (standardize.yaml `mail.contact_honorifics`), the title after the name.
"""

from __future__ import annotations

import re
from functools import cache

from leadflow.config import standardize_tables
from leadflow.tools.alternation import alternation
from leadflow.tools.ingest.parsed import ParsedFields
from leadflow.tools.name_order import NAME_PARTICLES
from leadflow.tools.phone_text import phone_in_text
from leadflow.tools.standardize import EMAIL_RE, country_of_domain, is_unattended_address

# A name's words: capitalised, with the particles names carry between them ("Ruiz de la Peña").
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][\w'’-]+"
_PARTICLE = rf"(?:{alternation(tuple(NAME_PARTICLES))})"


@cache
def _named() -> re.Pattern[str]:
    """An honorific, the name after it, and the title after a comma or a dash."""
    honorifics = standardize_tables().mail.get("contact_honorifics", ())
    if not honorifics:
        return re.compile(r"(?!)")
    titles = "|".join(re.escape(h) for h in sorted(honorifics, key=len, reverse=True))
    return re.compile(
        rf"(?<![\w.])(?i:{titles})\.?\s+"
        rf"({_NAME_WORD}(?:\s+(?:{_PARTICLE}\s+){{0,2}}{_NAME_WORD}){{1,3}})"
        r"(?:\s*[,–—-]\s*([^()\n,;:]{3,80}))?")


def mailbox_contact(body: str, sender: str) -> ParsedFields:
    """The contact a shared mailbox (`sender`) names in its message: the one personal address
    at the mailbox's own domain, with the name and title beside it (on its line before it,
    else on the line above) and a phone on its line or the next; empty when the message gives
    no such address, or more than one."""
    if "@" not in sender:
        return {}
    domain = sender.rsplit("@", 1)[1].lower()
    found = {m.group(0).lower(): m for m in EMAIL_RE.finditer(body)
             if m.group(0).lower().endswith("@" + domain) and m.group(0).lower() != sender.lower()
             and not is_unattended_address(m.group(0))}
    if len(found) != 1:
        return {}
    address = next(iter(found.values()))
    start = body.rfind("\n", 0, address.start()) + 1
    above = body[:max(0, start - 1)].rstrip().rsplit("\n", 1)[-1]
    out: ParsedFields = {"email": address.group(0)}
    for beside in (body[start:address.start()], above):
        if named := _named().search(beside):
            out["full_name"] = named.group(1)
            if named.group(2) and named.group(2).strip(" .("):
                out["title"] = named.group(2).strip(" .(")
            break
    lines = body[address.end():].split("\n")
    following = "\n".join(lines[:2])  # the rest of its line and the next
    if phone := phone_in_text(following, [country_of_domain(domain)]):
        out["phone"] = phone
    return out
