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
from functools import cache
from typing import Any, cast

from leadflow.config import standardize_tables
from leadflow.tools.ingest.form import parse_fields
from leadflow.tools.ingest.mailbox_contact import mailbox_contact
from leadflow.tools.ingest.parsed import IngestError, ParsedFields
from leadflow.tools.ingest.patterns import POST_NOMINAL, strip_html
from leadflow.tools.ingest.phone_labels import Reach
from leadflow.tools.ingest.signature import parse_signature, signature_phone, split_signature
from leadflow.tools.ingest.text import MAX_TEXT_CHARS
from leadflow.tools.phone_text import phone_in_text
from leadflow.tools.prose import FORWARDED_LINE
from leadflow.tools.standardize import (
    EMAIL_RE,
    clean_line,
    clean_text,
    country_of_domain,
    is_own_address,
    is_unattended_address,
    replace_lone_surrogates,
)

_HTML_BLOCK = re.compile(r"(?i)<(?:br|div|p|span|table|td|tr|b|strong)\b[^<>]*>")


def parse_email(payload: object) -> ParsedFields:
    """RFC 822 text (or {from, subject, body}) → fields from the From header and signature."""
    if isinstance(payload, dict):
        display, address = _first_address(clean_line(payload.get("from")))
        reply_to = _first_address(clean_line(payload.get("reply_to") or payload.get("reply-to")))
        subject = clean_line(payload.get("subject"))
        body = clean_text(payload.get("body") or "")
    elif isinstance(payload, str):
        # Parse bytes, not str: 8-bit UTF-8 bodies then decode with their declared charset.
        message = email.message_from_bytes(_email_bytes(payload), policy=email.policy.default)
        display, address = _from_address(message)
        reply_to = _first_address(clean_line(_header(message, "Reply-To")))
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
    notification = is_unattended_address(address.strip())
    if notification:
        # a marketplace's or a form tool's notification from an address nobody reads: the
        # person is the one it names to answer, else whoever its body gives an address for
        display, address = reply_to if not (is_own_address(reply_to[1].strip())
                                            or is_unattended_address(reply_to[1].strip())) \
            else ("", "")
    out: ParsedFields = {}
    mailbox = is_mailbox_name(display)
    if mailbox and reply_to[1] and EMAIL_RE.fullmatch(reply_to[1].strip()) \
            and not is_own_address(reply_to[1].strip()):
        # a shared mailbox ("Procurement Office", "Segreteria Direzione") sent it and named a
        # person to answer: that person is the contact
        display, address, mailbox = reply_to[0], reply_to[1], is_mailbox_name(reply_to[0])
    if address and EMAIL_RE.fullmatch(address.strip()):
        out["email"] = address.strip()
    display = clean_line(display).strip("\"' ")
    # "Arjun | GrowthNest", "Dana Whitfield - Acme": the person, then their company or team
    display = _DISPLAY_AFFIX.split(display, maxsplit=1)[0].strip() or display
    if display and not EMAIL_RE.search(display) and not mailbox:
        out["full_name"] = display  # a mailbox's name is no person's: the signature's is
    own, embedded = split_embedded(body, subject)
    main, signature = split_signature(own, out.get("full_name", ""))
    domain = address.strip().rsplit("@", 1)[1].lower() if "@" in address else None
    signed = parse_signature(signature, domain)
    if _extends(signed.get("full_name", ""), out.get("full_name", "")):
        # "Rodrigo Villaseñor" in From, "C.P. Rodrigo Villaseñor Ortega" signed: the whole name
        out["full_name"] = signed["full_name"]
    out.update({k: v for k, v in signed.items()  # type: ignore[typeddict-item]
                if k not in out})
    if (signed_phone := signature_phone(signature)) and signed_phone.reach is Reach.SWITCHBOARD \
            and (own_number := phone_in_text(main, [country_of_domain(domain)])):
        out["phone"] = own_number  # "call me on +46 70 555 12 38" above a "Växel" line
    if (mailbox or is_mailbox_name(address.split("@")[0])) and (
            named := mailbox_contact(own, address.strip())):
        # a shared mailbox ("Procurement Department", "compras@") naming the person to answer
        out.update(named)
    if notification:
        # its "Name: …", "Title: …", "Employees: …" lines are the lead's form, over what the
        # tool's own footer looked like as a signature ("Capterra, Inc. | 1201 Wilson Blvd")
        notified = {k: v for k, v in notification_fields(own).items() if k in _NOTIFIED}
        kept = {k: v for k, v in out.items() if k == "email" or k not in notified}
        out = cast(ParsedFields, {**notified, **kept})
    if "email" not in out:
        found = next((m for m in EMAIL_RE.finditer(body) if not is_own_address(m.group(0))
                      and not is_unattended_address(m.group(0))), None)
        if found:
            out["email"] = found.group(0)
    # What the lead forwarded (a colleague's request, a COO's note) is the lead's evidence:
    # it follows the lead's own words in the inquiry, under one marker line, so the writer's
    # own facts (title, phone) are still read from above it (`prose.own_words`).
    forwarded = "\n\n".join(
        f"{FORWARDED_LINE}\n" + (f"From: {name}\n" if name else "") + text
        for name, text in embedded)
    inquiry = "\n".join(part for part in (subject, main.strip(), forwarded) if part)
    out["inquiry"] = inquiry[:MAX_TEXT_CHARS]
    out["text"] = "\n".join(p for p in (subject, main.strip(), without_legal_notice(signature),
                                         forwarded)
                            if p)[:MAX_TEXT_CHARS]
    return out


# A notification's "Label: value" line: a short label (no digit first), a colon, a value; or
# a label ending in a colon or a question mark over its value's line ("Invitee:" / "Kylie
# Brennan", Typeform's "Quel est votre prénom ?" / "Séverine"), a line that is no label of
# its own ("Number of Employees:" left empty over "How can we help?: …" is no answer).
_FIELD_LINE = re.compile(r"(?m)^[ \t]*([^\W\d][\w .'/()&-]{0,40}?)[ \t]*:[ \t]*(\S[^\n]*?)[ \t]*$")
_FIELD_OVER_VALUE = re.compile(r"(?m)^[ \t]*([^\W\d][^\n:?？]{0,60}?)[ \t]*[:?？][ \t]*\n"
                               r"[ \t]*(?![^\n]{0,60}?[:?？][ \t])([^\s:][^\n]*?)[ \t]*$")
_NAME_FIELDS = ("full_name", "first_name", "last_name")
# what such lines may add about the person and the company (the inquiry stays the whole body)
_NOTIFIED = ("full_name", "first_name", "last_name", "email", "phone", "company", "title",
             "country", "employees", "industry", "website")


def notification_fields(body: str) -> ParsedFields:
    """A notification's own "Label: value" lines read as the form they report (G2's "Name:
    Brianna Solís / Title: Manager, Marketing Operations", a form tool's "Company size:
    51-200", a label over its answer's line); nothing from a body of fewer than two."""
    fields = {m.group(1).strip(): m.group(2).strip()
              for pattern in (_FIELD_OVER_VALUE, _FIELD_LINE) for m in pattern.finditer(body)
              if not m.group(2).rstrip().endswith((":", "?", "？"))}
    if len(fields) < 2:
        return {}
    parsed = parse_fields(fields)
    # a name holds no digits: "First seen: 30 Nov 2026" is a timestamp, whatever its label
    return cast(ParsedFields, {k: v for k, v in parsed.items()
                               if k not in _NAME_FIELDS or not re.search(r"\d", str(v))})


def is_mailbox_name(display: str) -> bool:
    """A From name that is a shared mailbox's, not a person's: it holds a word of the
    `mailbox_words` table ("Vendor Management Office", "Beschaffung Universität X",
    "Segreteria Direzione Generale", "Purchasing Team")."""
    words = standardize_tables().mail.get("mailbox_words", ())
    return bool(display) and bool(words) and re.search(
        r"(?<!\w)(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        + r")(?!\w)", display, re.IGNORECASE) is not None


_DISPLAY_AFFIX = re.compile(r"\s+[|•·@–—-]\s+|\s*[|(（]")


def _extends(longer: str, name: str) -> bool:
    """The signed name holds every word of the display name, in order, and more: a display
    name of two words or more, or one word the signed name starts with (a one-word display
    name otherwise may be what the person goes by). Credentials after the display name's
    words ("Priya Raghunathan MCIPS") are no part of a name."""
    words, more = name.lower().split(), longer.lower().split()
    if len(words) == 1 and more[:1] == words:
        pass
    elif len(words) < 2 or len(more) <= len(words) or any(  # "Pablo Fuentealba M.": an initial
            len(w.strip(".")) < 2 for w in more if w not in words):
        return False
    if words and words[-1] in more:
        tail = longer.split()[more.index(words[-1]) + 1:]
        if tail and all(POST_NOMINAL.fullmatch(w.strip(",")) for w in tail):
            return False
    at = 0
    for word in more:
        if at < len(words) and word == words[at]:
            at += 1
    return at == len(words)


def without_legal_notice(block: str) -> str:
    """The block without its paragraphs of legal notice (standardize.yaml
    `mail.legal_notice_stems`): a confidentiality footer says nothing about the lead."""
    notice = _legal_notice()
    paragraphs = re.split(r"\n[ \t]*\n", block)
    return "\n\n".join(p for p in paragraphs if not (len(p) > 120 and notice.search(p)))


@cache
def _legal_notice() -> re.Pattern[str]:
    stems = sorted(standardize_tables().mail.get("legal_notice_stems", ()), key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(re.escape(s) for s in stems) or '(?!)'})",
                      re.IGNORECASE)


@cache
def _marker_line(kind: str) -> re.Pattern[str]:
    """A line that opens a forwarded message ("---------- Forwarded message ---------",
    "Begin forwarded message:"; kind `forwarded_markers`) or one quoted whole
    ("-----Original Message-----"; `quoted_markers`)."""
    markers = sorted(standardize_tables().mail.get(kind, ()), key=len, reverse=True)
    words = "|".join(re.escape(m) for m in markers) or r"(?!)"
    return re.compile(rf"^[ \t>]*[-_=*~ ]*(?:{words})[ \t]*[-_=*~:：]*[ \t]*$", re.IGNORECASE)


@cache
def _attribution_opener() -> re.Pattern[str]:
    """The first words of an attribution line wrapped over two lines (standardize.yaml
    `mail.attribution_openers`), capitalised as a mail client writes them: "On", not "on"."""
    openers = standardize_tables().mail.get("attribution_openers", ())
    words = "|".join(re.escape(w[:1].upper() + w[1:]) for w in openers) or r"(?!)"
    return re.compile(rf"^[ \t]*(?:{words})\s+\S")


@cache
def _attribution_line() -> re.Pattern[str]:
    """A line ending with a quoting verb and a colon ("… wrote:", "… a écrit :")."""
    verbs = sorted(standardize_tables().mail.get("attribution_verbs", ()), key=len, reverse=True)
    words = "|".join(re.escape(v) for v in verbs) or r"(?!)"
    return re.compile(rf"(?:^|\s|>)(?:{words})[ \t]*[:：][ \t]*$", re.IGNORECASE)


def _subject_kind(subject: str) -> str | None:
    """'forward' for "Fwd: …"/"WG: …"/"RV: …", 'reply' for "Re: …"/"AW: …", else None; the
    first prefix decides ("Re: Fwd: …" is a reply)."""
    prefix = re.match(r"\s*([^\W\d_]{1,6})\s*[:：]", subject)
    word = prefix.group(1).lower() if prefix else ""
    mail = standardize_tables().mail
    return ("forward" if word in mail.get("forward_prefixes", ()) else
            "reply" if word in mail.get("reply_prefixes", ()) else None)


_ONE_HEADER = re.compile(r"^[ \t>]*\*{0,2}[^\W\d][\w .-]{0,20}\*{0,2}[ \t]*[:：]")


def split_embedded(body: str, subject: str = "") -> tuple[str, list[tuple[str, str]]]:
    """The writer's own text, and the messages they forwarded below it as (sender's name,
    text). A message inside the body is opened by a marker line or by a header block
    ("From:" then another header line: "Von: … / Gesendet: …", "De : … / Envoyé : …"). It is
    forwarded when its marker says so, or the subject does ("Fwd:", "WG:"), or nothing says
    the mail is a reply; the earlier messages of a reply thread ("Re:" and "-----Original
    Message-----") and anything one of us sent are history, left out. Quote marks ('> ') are
    taken off the kept text."""
    lines = body.replace("\r\n", "\n").split("\n")
    reply = _subject_kind(subject) == "reply"
    forward = _subject_kind(subject) == "forward"
    starts = []
    closes: dict[int, int] = {}  # a quote whose '>' lines end before the writer's own text
    i = 0
    while i < len(lines):
        header_at = None
        kept = forward or not reply
        if _marker_line("forwarded_markers").match(lines[i]) or \
                _marker_line("quoted_markers").match(lines[i]):
            kept = kept or bool(_marker_line("forwarded_markers").match(lines[i]))
            header_at = i + 1
            while header_at < len(lines) and not lines[header_at].strip():
                header_at += 1
        elif (i > 0 and _FORWARDED_FROM.match(lines[i]) and i + 1 < len(lines)
              and _ONE_HEADER.match(lines[i + 1])):
            header_at = i
        elif _attribution_line().search(lines[i]) and i + 1 < len(lines):
            # "On …, Marissa Cole <…> wrote:" (perhaps wrapped from the line above it), then
            # the quoted message: no header block, the sender is on that line
            opener = i - 1 if (i > 0 and _attribution_opener().match(lines[i - 1])
                               and not _attribution_opener().match(lines[i])) else i
            attribution = " ".join(lines[opener:i + 1])
            if re.search(r"@|\d", attribution):  # a date or an address: a mail client's line
                starts.append((opener, i + 1, i + 1, kept, attribution))
                if (closed := _quote_closed(lines, i + 1)) is not None:
                    closes[len(starts) - 1] = closed
            i += 1
            continue
        if header_at is None:
            i += 1
            continue
        end = header_at
        while end < len(lines) and lines[end].strip() and _ONE_HEADER.match(lines[end]):
            end += 1
        starts.append((i, header_at, end, kept, ""))
        i = max(end, i + 1)
    if not starts:
        return body, []
    messages = []
    own = lines[:starts[0][0]]
    for n, (_, header_at, end, kept, attribution) in enumerate(starts):
        stop = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        if n in closes:  # the writer answered below the quote: their text, then the quote's
            own, stop = own + lines[closes[n]:stop], closes[n]
        if not kept:
            continue
        header = "\n".join(lines[header_at:end])
        sender = _FORWARDED_FROM.search(header)
        display, address = _sender_of(sender.group(1)) if sender else ("", "")
        if attribution and (said := EMAIL_RE.search(attribution)):
            address = said.group(0)
        if address and is_own_address(address):
            continue  # our own message quoted back: the history of the thread, not the lead
        text = "\n".join(re.sub(r"^[ \t]*>+ ?", "", line) for line in lines[end:stop]).strip()
        if text:
            messages.append((display, text))
    return "\n".join(own), messages


def _quote_closed(lines: list[str], at: int) -> int | None:
    """Where a quote opened by an attribution line ends, when its lines carry '>' marks and
    unmarked text follows them: a reply written below the quote ("Le 27/11 … a écrit :",
    the quoted message, then the answer and its signature). None when the quote runs on."""
    end = at
    while end < len(lines) and (not lines[end].strip() or lines[end].lstrip().startswith(">")):
        end += 1
    marked = any(line.lstrip().startswith(">") for line in lines[at:end])
    return end if marked and end < len(lines) else None


def _sender_of(value: str) -> tuple[str, str]:
    """(display name, address) of a forwarded header's From value ('Brandt, Oliver
    <o.brandt@…>' keeps its comma: it is part of the name)."""
    value = clean_line(value)
    bracketed = re.fullmatch(r"(.*?)\s*[<\[](?:mailto:)?([^<>\[\]\s]+)[>\]]\s*", value)
    if bracketed:
        return bracketed.group(1).strip("\"' "), bracketed.group(2).strip()
    display, address = _first_address(value)
    return clean_line(display).strip("\"' "), address.strip()


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
        display, address = _sender_of(match.group(1))
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
