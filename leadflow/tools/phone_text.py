"""Phone numbers written anywhere in free text (issue 14): found by libphonenumber's matcher
with the lead's other data as region hints, the NANP's own written shape, a German or
Austrian switchboard number with its extension, and a value typed as a number."""

from __future__ import annotations

import re

import phonenumbers

from leadflow.tools.standardize import clean_text


def phone_in_text(text: object, regions: list[str | None]) -> str | None:
    """The first valid phone number in free text, E.164, found by libphonenumber's matcher:
    international numbers anywhere, national ones ("06 4188 2093", "TEL: 052-261-4470") only
    in the regions the lead's other data points to (stated country, email ccTLD), tried in
    that order. No region hint and no '+': nothing — a national number alone says nothing."""
    prose = clean_text(text)
    if not prose or sum(ch.isdigit() for ch in prose) < 6:
        return None
    prose = re.sub(r"(?<![\d+])00(?=[1-9][\d ]{6,})", "+", prose)  # 0049… → +49…
    for region in [*dict.fromkeys(r.upper() for r in regions if r), None]:
        for match in phonenumbers.PhoneNumberMatcher(prose, region or "ZZ"):
            if region is None and not match.raw_string.lstrip().startswith("+"):
                continue
            return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    return None


# The North American Numbering Plan's own way of writing a number: "(617) 555-0148",
# "602-555-0148", "208.555.0152" — an area code and an exchange of three digits (2–9
# first), then four. Written so, the number is a NANP one; its area code tells the country
# (libphonenumber knows which are Canada's, the Caribbean's). Spaces alone ("617 555 0148")
# are not the shape: many plans write numbers that way.
_NANP_SHAPE = re.compile(
    r"(?<![\d+])(?:\+?1[ .-]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[.-])[2-9]\d{2}[.-]\d{4}(?!\d)")


def nanp_region(text: object) -> str | None:
    """'US' — the NANP's region, which libphonenumber reads every NANP area code in — when
    the text holds a number written in the NANP's shape; else None. The last hint for a
    number's country, after the stated country, the ccTLD and the places named."""
    return "US" if _NANP_SHAPE.search(clean_text(text)) else None


# A switchboard number ("0421 598 77-0", "+43 1 234 56-0") and the extension said after it
# ("Durchwahl -34", "DW 12", "Nebenstelle 7"): in Germany and Austria the extension replaces
# the switchboard's final 0 and the result is the person's own direct line.
_DIRECT_DIAL = re.compile(
    r"(?i)^(.*\d)[ ./-]0\s*[,;/]?\s*\(?\s*(?:durchwahl|dw|nebenstelle|nst|klappe|apparat)\.?"
    r"\s*[:.]?\s*[-–]?\s*(\d{1,5})(?!\d)")


def direct_dial(raw: str | None, text: object = "") -> str | None:
    """The direct line from a switchboard number and its extension, when the number (as
    written, alone or where it stands in the text) is followed by one ("+49 (0)711 4478-0,
    Durchwahl -34" → "+49 (0)711 4478 34"); otherwise the number as written."""
    if not raw:
        return raw
    prose = clean_text(text)
    at = prose.find(raw)
    for written in (raw, prose[at:at + len(raw) + 40] if at >= 0 else ""):
        if match := _DIRECT_DIAL.match(written):
            return f"{match.group(1)}{match.group(2)}"
    return raw


def national_number(raw: str | None) -> bool:
    """The value is written as a phone number (digits and the separators people type, 7 to
    15 digits: E.164's longest), even if no country can be told for it."""
    text = clean_text(raw)
    digits = sum(ch.isdigit() for ch in text)
    return bool(re.fullmatch(r"\+?[\d\s().\-/]+", text)) and 7 <= digits <= 15
