"""What every channel parser returns and raises: the one contract the parsers, the item
dispatch and the Capture agent share, kept apart so none of them imports another's
internals to get it.
"""

from __future__ import annotations

from typing_extensions import TypedDict


class ParsedFields(TypedDict, total=False):
    """What a parser found; every value is raw text, not yet standardised."""

    first_name: str
    last_name: str
    full_name: str
    email: str
    phone: str
    company: str
    title: str
    country: str
    employees: str
    industry: str
    website: str
    inquiry: str
    campaign: str
    utm: dict[str, str]
    text: str  # everything the lead wrote, for evidence and extraction


class IngestError(ValueError):
    """The item cannot be read at all (wrong shape, unknown channel)."""
