"""The email parser: RFC 822 text (or {from, subject, body}) decoded safely, headers and
charsets included, into the sender's fields; the signature block is read by
`signature`.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import re
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from leadflow.tools.ingest.parsed import IngestError, ParsedFields
from leadflow.tools.ingest.patterns import strip_html
from leadflow.tools.ingest.signature import parse_signature, split_signature
from leadflow.tools.ingest.text import MAX_TEXT_CHARS
from leadflow.tools.standardize import (
    EMAIL_RE,
    clean_line,
    clean_text,
    is_own_address,
    replace_lone_surrogates,
)

_HTML_BLOCK = re.compile(r"(?i)<(?:br|div|p|span|table|td|tr|b|strong)\b[^<>]*>")


def parse_email(payload: object) -> ParsedFields:
    """RFC 822 text (or {from, subject, body}) → fields from the From header and signature."""
    if isinstance(payload, dict):
        display, address = _first_address(clean_line(payload.get("from")))
        subject = clean_line(payload.get("subject"))
        body = clean_text(payload.get("body") or "")
    elif isinstance(payload, str):
        # Parse bytes, not str: 8-bit UTF-8 bodies then decode with their declared charset.
        message = email.message_from_bytes(_email_bytes(payload), policy=email.policy.default)
        display, address = _from_address(message)
        # Header values are one line: an encoded CR/LF ('=?utf-8?q?a=0D=0Ab?=') is a space.
        subject = clean_line(_header(message, "Subject"))
        body = clean_text(_plain_body(message) if message.keys() else payload)
    else:
        raise IngestError("email payload must be RFC 822 text or {from, subject, body}")
    if _HTML_BLOCK.search(body):  # HTML sent as text/plain ("Hello,<br>", "<div>…</div>")
        body = clean_text(strip_html(body))
    if is_own_address(address.strip()):
        # A colleague (or our own relay) sent it: the lead is the sender of the message it
        # forwards or quotes, if there is one; our own address is never the lead's.
        display, address, body = forwarded_sender(body) or ("", "", body)
    out: ParsedFields = {}
    if address and EMAIL_RE.fullmatch(address.strip()):
        out["email"] = address.strip()
    display = clean_line(display).strip("\"' ")
    if display and not EMAIL_RE.search(display):
        out["full_name"] = display
    main, signature = split_signature(body)
    domain = address.strip().rsplit("@", 1)[1].lower() if "@" in address else None
    out.update({k: v for k, v in parse_signature(signature, domain).items()  # type: ignore[typeddict-item]
                if k not in out})
    if "email" not in out:
        found = next((m for m in EMAIL_RE.finditer(body) if not is_own_address(m.group(0))),
                     None)
        if found:
            out["email"] = found.group(0)
    inquiry = "\n".join(part for part in (subject, main.strip()) if part)
    out["inquiry"] = inquiry[:MAX_TEXT_CHARS]
    out["text"] = "\n".join(p for p in (inquiry, signature) if p)[:MAX_TEXT_CHARS]
    return out


# The header line that opens a forwarded or quoted message, in the languages mail clients
# write it in ("From:", "Von:", "De :", "Da:", "Van:", "Od:", "Från:", "差出人:", "发件人:").
_FORWARDED_FROM = re.compile(
    r"^[ \t>]*(?:\*{0,2})(?:from|von|de|da|van|od|från|fra|lähettäjä|差出人|发件人|寄件者)"
    r"(?:\*{0,2})[ \t]*[:：][ \t]*(.+)$", re.IGNORECASE | re.MULTILINE)
# The rest of that header block: "Date:", "Sent:", "Subject:", "To:", "Cc:" in any language.
_HEADER_LINE = re.compile(r"\A(?:[ \t>]*[^\W\d][\w .-]{0,20}[ \t]*[:：][^\n]*\n)*")


def forwarded_sender(body: str) -> tuple[str, str, str] | None:
    """(display name, address, the forwarded message) of the first message inside `body`
    whose sender is not one of us: what a colleague forwarded, or the lead's mail quoted in
    our own relay. None when there is none."""
    for match in _FORWARDED_FROM.finditer(body):
        value = clean_line(match.group(1))
        bracketed = re.fullmatch(r"(.*?)\s*[<\[](?:mailto:)?([^<>\[\]\s]+)[>\]]\s*", value)
        # "Brandt, Oliver <o.brandt@…>": the comma is part of the name, not a second address
        display, address = ((bracketed.group(1).strip("\"' "), bracketed.group(2))
                            if bracketed else _first_address(value))
        address = address.strip()
        if address and EMAIL_RE.fullmatch(address) and not is_own_address(address):
            rest = body[match.end():].lstrip("\n")
            return display, address, _HEADER_LINE.sub("", rest, count=1)
    return None


def _first_address(sender: str) -> tuple[str, str]:
    """(display name, address) of a From value's first address. The stdlib parser recurses
    once per '(' of a comment, so '((((…' raised RecursionError: no usable pair then."""
    if not sender:
        return "", ""
    try:
        pairs = getaddresses([sender])
    except (RecursionError, ValueError, IndexError):
        return "", ""
    return pairs[0] if pairs else ("", "")


_HEADER_ERRORS = (ValueError, TypeError, IndexError, AttributeError, LookupError, RecursionError)


def _raw_header(message: EmailMessage, name: str) -> str:
    return next((str(v) for k, v in message.raw_items() if k.lower() == name.lower()), "")


def _decoded(raw: str) -> str:
    """RFC 2047 encoded words decoded ('=?utf-8?q?M=C3=BCller?=' → 'Müller')."""
    try:
        return str(make_header(decode_header(raw)))
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        return raw


def _header(message: EmailMessage, name: str) -> str:
    """A header's decoded value. The strict header parser raises on hostile values (an
    encoded CR/LF); those fall back to decoding the raw value."""
    try:
        return str(message.get(name, ""))
    except _HEADER_ERRORS:
        return _decoded(_raw_header(message, name))


def _from_address(message: EmailMessage) -> tuple[str, str]:
    """(display name, address) of From. When the strict parser refuses the header, the raw
    value is split into addresses *before* its encoded words are decoded: a name that
    decodes to 'Ann CR LF Bcc: victim@example.com' must not become an address of its own."""
    try:
        return _first_address(clean_line(message.get("From", "")))
    except _HEADER_ERRORS:
        display, address = _first_address(clean_line(_raw_header(message, "From")))
        return _decoded(display), address


def _email_bytes(text: str) -> bytes:
    """UTF-8 bytes of a raw message; surrogate-escaped bytes go back to what they were, and
    any other lone surrogate (JSON '\\ud800') becomes U+FFFD instead of an encode error."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return replace_lone_surrogates(text).encode("utf-8", "surrogateescape")


def _plain_body(message: Any) -> str:
    part = message
    if isinstance(message, EmailMessage):
        part = message.get_body(preferencelist=("plain", "html")) or message
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = raw.decode(charset, errors="replace")
    except (LookupError, UnicodeError):  # unknown charset, or a codec like idna that can't
        text = raw.decode("utf-8", errors="replace")  # replace: read it as UTF-8
    return strip_html(text) if part.get_content_subtype() == "html" else text
