"""A repeat inquiry is qualified on the lead's messages together (SPEC §3), but where the
money stands, who decides and when they buy change between messages: "no budget, maybe next
year" three weeks ago and "our CEO approved $9k, can we meet this week?" today is a lead that
now has a budget and a date, not a conflict. Where the newest message states one of those
itself, that statement wins; where it says nothing of one, the earlier messages still count.
The need is read on all messages together: a pain does not go away because a later message
does not repeat it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadflow.agents.bant_proposal import BantProposal

# what changes between messages; the need accumulates
_CHANGING = ("budget", "authority", "timeline")
# evidence that states a fact of the record, not words of the message
_FACTS = ("title:", "company size", "no timeline stated", "no inquiry text",
          "no title given", "revenue")


def newest_stated(combined: BantProposal, newest: BantProposal,
                  newest_text: str) -> BantProposal:
    """`combined` (read on every message) with budget, authority and timeline taken from
    `newest` (read on the newest message alone) where its evidence quotes that message."""
    taken = {name: getattr(newest, name) for name in _CHANGING
             if _quotes(getattr(newest, name).evidence, newest_text)}
    if not taken:
        return combined
    conflicts = [c for c in combined.conflicts if c.split(":", 1)[0] not in taken]
    conflicts += [c for c in newest.conflicts if c.split(":", 1)[0] in taken]
    return combined.model_copy(update={**taken, "conflicts": conflicts})


def _quotes(evidence: str, text: str) -> bool:
    return any(len(part) >= 8 and not part.lower().startswith(_FACTS) and part in text
               for part in (p.strip() for p in evidence.split("; ")))
