"""Which of several numbers reaches the person: a signature or a contact line often lists a
company's switchboard beside the writer's own line ("Switchboard 020 7946 0100 | Direct 020
7946 0371", "Telefon 041 555 30 20 (Zentrale) / direkt 041 555 30 27", "Växel 08-555 120
00"). A rep wants the person's own line; the switchboard is what is left when nothing else is
given, and a fax number reaches nobody. Among the person's own numbers the first listed is
taken ("Tel … | Mobil …": the office line people list first). The label words are in
`standardize.yaml` (`mail.phone_switchboard_labels`, `mail.phone_fax_labels`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from functools import cache

from leadflow.config import standardize_tables
from leadflow.tools.ingest.patterns import PHONE_ANY


class Reach(IntEnum):
    """How directly a number reaches the person (lower is better)."""

    OWN = 0          # "Tel", "Direct", "Mobile", or no label
    SWITCHBOARD = 1  # "Switchboard", "Main", "Zentrale", "Växel", "Centralino"
    FAX = 2          # never a number to call


@dataclass(frozen=True)
class LabelledNumber:
    raw: str     # the number as written
    reach: Reach


def _labels(kind: str) -> tuple[str, ...]:
    return standardize_tables().mail.get(f"phone_{kind}_labels", ())


@cache
def _label_regex(kind: str) -> re.Pattern[str] | None:
    """A label word anywhere in the words before a number; a one-letter label ("F") only
    as the whole label, or an initial in a name would count."""
    words = [w for w in _labels(kind) if len(w) > 1]
    if not words:
        return None
    alternation = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)


# a label in brackets right after the number: "041 555 30 20 (Zentrale)", "… (mobile)"
_AFTER = re.compile(r"\s*[(（]\s*([^()（）\d]{1,24}?)\s*[)）]")
# the words nearest before a number that may label it ("Switchboard", "T.", "Mob:")
_BEFORE = re.compile(r"([^\W\d][\w.]*(?:\s+[^\W\d][\w.]*)?)\W*$")


def _reach(label: str) -> Reach:
    label = label.strip(" :.-–/|,;").lower()
    for kind, reach in (("fax", Reach.FAX), ("switchboard", Reach.SWITCHBOARD)):
        regex = _label_regex(kind)
        if label in _labels(kind) or (regex is not None and regex.search(label)):
            return reach
    return Reach.OWN


def labelled_numbers(text: str) -> list[LabelledNumber]:
    """Every phone-shaped number in a line or block, in order, with how directly its label
    says it reaches the person. A label is the word(s) just before the number, since the
    previous number ended, or a bracketed word right after it."""
    found: list[LabelledNumber] = []
    start = 0
    for match in PHONE_ANY.finditer(text):
        if match.start() < start:
            continue
        before = _BEFORE.search(text[start:match.start()])
        after = _AFTER.match(text, match.end())
        label = " ".join(part for part in ((before.group(1) if before else ""),
                                           (after.group(1) if after else "")) if part)
        found.append(LabelledNumber(match.group(1), _reach(label)))
        start = after.end() if after else match.end()
    return found


def best_number(numbers: list[LabelledNumber]) -> LabelledNumber | None:
    """The number that best reaches the person: the first of the person's own, else the
    first switchboard; a fax number never."""
    callable_ = [n for n in numbers if n.reach is not Reach.FAX]
    return min(callable_, key=lambda n: n.reach) if callable_ else None
