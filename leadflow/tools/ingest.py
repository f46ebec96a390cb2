"""Ingest parsers: turn a raw inbound item (SPEC §8) into loosely-typed contact fields.

Each channel has its own parser (web form, RFC 822 email, chat transcript, event row); they
only *find* values. Standardisation (E.164, ISO country, seniority …) is the Capture agent's
policy, applied the same way whichever extractor (rules or LLM) found the values.
File readers turn JSONL, CSV, .eml and mbox files into input items for `leadflow run`.
"""

from __future__ import annotations

import csv
import email
import email.errors
import email.policy
import html
import io
import json
import mailbox
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Any, TypedDict

from leadflow.config import standardize_tables
from leadflow.tools.standardize import (
    EMAIL_RE,
    URL_RE,
    clean_line,
    clean_text,
    first_matching,
    replace_lone_surrogates,
)

CHANNELS = ("web_form", "email", "chat", "event", "api")
MAX_TEXT_CHARS = 20_000  # a 1 MB paste is cut here; the flag says so


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


def _norm_key(key: object) -> str:
    return re.sub(r"[^\w]+", "_", clean_text(key).lower()).strip("_")


def field_for_key(key: object) -> str | None:
    """Map a messy form/CSV column name to a canonical field ('Work E-mail' → 'email')."""
    norm = _norm_key(key)
    if not norm:
        return None
    if norm.startswith("utm_"):
        return "utm"
    tables = standardize_tables()
    if norm in tables.form_exact:
        return tables.form_exact[norm]
    tokens = set(norm.split("_"))
    for field, words in tables.form_keywords:
        if any(w in tokens or any(t.startswith(w) for t in tokens) for w in words):
            return field
    return None


def parse_fields(fields: dict[str, Any]) -> ParsedFields:
    """Web-form and event-row parser: messy field names → canonical fields."""
    out: ParsedFields = {}
    utm: dict[str, str] = {}
    extra: list[str] = []
    for key, value in fields.items():
        text = clean_text(_strip_html(value) if isinstance(value, str) else value)
        if not text:
            continue
        field = field_for_key(key)
        if field == "utm":
            utm[_norm_key(key)] = text
            if _norm_key(key) == "utm_campaign":
                out.setdefault("campaign", text)
        elif field is None:
            extra.append(f"{clean_text(key)}: {text}")
        elif field == "inquiry" and out.get("inquiry"):
            out["inquiry"] = f"{out['inquiry']}\n{text}"
        elif field not in out:
            out[field] = text  # type: ignore[literal-required]
    if utm:
        out["utm"] = utm
    if "inquiry" in out:
        out["inquiry"] = out["inquiry"][:MAX_TEXT_CHARS]
    if "email" in out and not EMAIL_RE.search(out["email"]):
        # "email" column holding a phone or junk: keep it as text only.
        extra.append(f"email: {out.pop('email')}")
    out["text"] = "\n".join(
        v for v in (out.get("title", ""), out.get("company", ""), out.get("inquiry", ""), *extra)
        if v
    )[:MAX_TEXT_CHARS]
    return out


_HTML_TAG = re.compile(r"<(?:[a-zA-Z][\w:-]*|/[a-zA-Z][\w:-]*|!--)(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _strip_html(text: str) -> str:
    """Tags out and entities decoded when the value is HTML; plain text that merely holds
    '<', '>' or '&' ('< 50 people', 'AT&T', 'Smith&copy') is left as typed."""
    if "<" not in text and "&" not in text:
        return text
    if not _HTML_TAG.search(text):
        return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
    return html.unescape(_HTML_TAG.sub(" ", text))


# ---------------------------------------------------------------------------- email
_CLOSING_PHRASES = (
    r"best|best regards|best wishes|kind regards|warm regards|regards|many thanks|thanks|"
    r"thanks (?:&|and) regards|att\.?|atte\.?|abs\.?|cumprimentos|saludos cordiales|"
    r"thank you|thanks again|cheers|sincerely|yours|yours sincerely|all the best|saludos|"
    r"saludos cordiales|un saludo|atentamente|cordialmente|atenciosamente|abraços|obrigado|"
    r"obrigada|mit freundlichen grüßen|mit freundlichen grüssen|viele grüße|beste grüße|"
    r"freundliche grüße|grüße|cordialement|bien cordialement|bien à vous|merci|distinti saluti|"
    r"cordiali saluti|met vriendelijke groet|groeten|saygılarımla|よろしくお願いいたします|"
    r"よろしくお願いします|敬具"
)
# "Kind regards," or bilingual "Met vriendelijke groet / Kind regards,"
_CLOSINGS = re.compile(
    rf"^\s*(?:{_CLOSING_PHRASES})(?:\s*[/|]\s*(?:{_CLOSING_PHRASES}))*\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_QUOTE_START = re.compile(
    r"^\s*(>|on .+wrote:|el .+escribió:|am .+schrieb|le .+a écrit|-----\s*original message|"
    r"from:\s.+|de:\s.+|von:\s.+|_{5,}|confidentiality notice|disclaimer:|this e-?mail and any)",
    re.IGNORECASE,
)
_PHONE_LINE = re.compile(
    r"(?i)^\s*(?:m|t|p|d|o|tel|tél|phone|mobile|mob|cell|fon|telefon|teléfono|telefone|tlf|"
    r"direct|office|móvil|celular|handy)?\.?\s*[:.]?\s*(\+?[\d][\d ()./-]{6,}\d)\s*$"
)
_PHONE_ANY = re.compile(r"(?<![\w/])(\+?\(?\d[\d ()./-]{7,}\d)(?![\w/])")


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
    out: ParsedFields = {}
    if address and EMAIL_RE.fullmatch(address.strip()):
        out["email"] = address.strip()
    display = clean_line(display).strip("\"' ")
    if display and not EMAIL_RE.search(display):
        out["full_name"] = display
    main, signature = _split_signature(body)
    out.update({k: v for k, v in _parse_signature(signature).items() if k not in out})  # type: ignore[typeddict-item]
    if "email" not in out:
        found = EMAIL_RE.search(body)
        if found:
            out["email"] = found.group(0)
    inquiry = "\n".join(part for part in (subject, main.strip()) if part)
    out["inquiry"] = inquiry[:MAX_TEXT_CHARS]
    out["text"] = "\n".join(p for p in (inquiry, signature) if p)[:MAX_TEXT_CHARS]
    return out


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
    return _strip_html(text) if part.get_content_subtype() == "html" else text


def _split_signature(body: str) -> tuple[str, str]:
    """Cut quoted replies/disclaimers, then split the message from its signature block."""
    lines = body.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        if i > 0 and _QUOTE_START.match(line):
            lines = lines[:i]
            break
    while lines and not lines[-1].strip():
        lines.pop()
    for i, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ", "—", "__"):
            return "\n".join(lines[:i]), "\n".join(lines[i + 1 :])
    for i in range(len(lines) - 1, -1, -1):
        if _CLOSINGS.match(lines[i]) and len(lines) - i <= 10:
            return "\n".join(lines[:i]), "\n".join(lines[i + 1 :])
    # No marker: the last short lines after a blank line, if they look like a signature.
    tail_start = max((i for i, ln in enumerate(lines) if not ln.strip()), default=-1) + 1
    tail = [ln for ln in lines[tail_start:] if ln.strip()]
    contact_line = any(_PHONE_ANY.search(ln) or EMAIL_RE.search(ln) or "www." in ln.lower()
                       or first_matching(standardize_tables().seniority, ln) for ln in tail)
    if 1 < len(tail) <= 6 and all(len(ln) < 70 for ln in tail) and contact_line:
        return "\n".join(lines[:tail_start]), "\n".join(tail)
    return "\n".join(lines), ""


def _looks_like_name(line: str) -> bool:
    words = line.split()
    if not 1 <= len(words) <= 4 or any(ch.isdigit() for ch in line) or "@" in line:
        return False
    if any(ord(ch) >= 0x2E80 for ch in line):
        return len(line) <= 12
    particles = {"de", "van", "von", "da", "del", "la"}
    return all(w[0].isupper() or w.lower() in particles for w in words)


def _parse_signature(signature: str) -> ParsedFields:
    """Name, title, company, phone, website from a signature block.

    Lines are split into segments on ' | '; the name is the longest name-like segment before
    the title ('Gareth' then 'Gareth Pryce' → 'Gareth Pryce'); the company is the title
    line's own 'Title, Company' part or the first segment after it.
    """
    out: ParsedFields = {}
    segments: list[str] = []
    for raw in signature.split("\n"):
        for part in re.split(r"\s+[|•·]\s+|^[|•·]\s*|\s*[|•·]$", clean_text(raw)):
            part = (part or "").strip(" ,;")
            if email_match := EMAIL_RE.search(part):
                out.setdefault("email", email_match.group(0))
                part = EMAIL_RE.sub("", part).strip(" ,:-")
            if phone := _PHONE_LINE.match(part) or _PHONE_ANY.search(part):
                out.setdefault("phone", phone.group(1))
                part = part.replace(phone.group(0), "").strip(" ,:-")
            url = URL_RE.search(part)
            if url and ("www." in part.lower() or "http" in part.lower()
                        or part.strip() == url.group(0)):
                out.setdefault("website", url.group(0))
                part = part.replace(url.group(0), "").strip(" ,:-")
            if part:
                segments.append(part)
    title_at = next((i for i, seg in enumerate(segments) if _title_and_company(seg)[0]), None)
    before = segments[:title_at] if title_at is not None else segments[:1]
    names = [seg for seg in before if _looks_like_name(seg)]
    if names:
        out["full_name"] = max(names, key=len)
    if title_at is not None:
        title, company = _title_and_company(segments[title_at])
        after = segments[title_at + 1 :]
        if company and after and first_matching(standardize_tables().department, company):
            # "Director, Client Analytics & Reporting" + a company line: all of it is the title
            title, company = segments[title_at], None
        out["title"] = title  # type: ignore[typeddict-item]
        if company or after:
            out["company"] = company or after[0]
    elif len(segments) > 1 and names:
        out["company"] = segments[segments.index(names[0]) + 1]
    return out


def _title_and_company(line: str) -> tuple[str | None, str | None]:
    """'VP Sales | Acme' / 'VP Sales, Acme' / 'VP Sales at Acme' → ('VP Sales', 'Acme')."""
    for sep in (" | ", " at ", " @ ", " – ", " - ", ", ", " bei ", " chez ", " en "):
        if sep in line:
            left, right = line.split(sep, 1)
            if first_matching(standardize_tables().seniority, left):
                return left.strip(), right.strip() or None
    if first_matching(standardize_tables().seniority, line):
        return line, None
    return None, None


# ----------------------------------------------------------------------------- chat
_ASKS = (
    ("email", r"e-?mail|correo|courriel|メール"),
    ("phone", r"phone|number to reach|teléfono|telefone|telefon|téléphone|電話"),
    ("company", r"company(?! size)|organi[sz]ation|work for|employer|empresa|firma|entreprise|"
                r"société|unternehmen|会社"),
    ("title", r"role|title|position|job|cargo|puesto|poste|fonction|funktion|役職"),
    ("country", r"where are you|country|based|located|país|pays|land|どちら|国"),
    ("employees", r"how many (people|employees)|company size|team size|employees|empleados|"
                  r"mitarbeiter"),
    ("full_name", r"name|nombre|nome|nom\b|お名前|wie heißen|who am i speaking"),
    ("inquiry", r"help|looking for|need|interest|bring you|assist you|ayudar|ajudar|helfen|aider|"
                r"can we do|ご用件"),
)
_SELF_INTRO = re.compile(
    r"(?i:\bi am|\bi'm|\bim|\bmy name is|\bthis is|\bme llamo|\bsoy|\bje suis|\bje m'appelle|"
    r"\bich bin|\bmein name ist|\beu sou|\bmeu nome é|\bsono)\s+"
    r"([A-ZÀ-Þ][\w'’-]+(?:\s+[A-ZÀ-Þ][\w'’-]+){0,2})"
    # "Greg Lindahl here"; a name starts a word run ("A'A'A'…" is one try, not one a letter)
    r"|(?<![\w'’-])([A-ZÀ-Þ][\w'’-]+(?:\s+[A-ZÀ-Þ][\w'’-]+){1,2}) here\b"
)
_HEADCOUNT = re.compile(
    r"(?i)(?:~|about |around |approx\.? |ca\. )?(?<![\d,.])(\d[\d,.]*)\+?\s*"
    r"(?:people|employees|staff|mitarbeiter(?:innen)?|empleados|funcionários|colaboradores|"
    r"salariés|personnes)\b"
)
# A clause starts after punctuation + lowercase; "Sp. z o.o." and "Co., Ltd" are not breaks.
_TEAM_SIZE = re.compile(r"(?i)\bteam|equipo|equipe|abteilung")
_CLAUSE_BREAK = re.compile(r"(?:[,;:!?]|(?<!\b\w\w)(?<!\b\w)\.|\s[-–])\s+(?=[a-z¿¡])|\s+\(")
_ROLE_AT = re.compile(
    r"(?:,|\bas|\bI'm|\bI am|\bwork as)\s+(?:the\s+|an?\s+)?([A-Z][\w&/ .-]{1,60}?)\s+(?:at|@|from|"
    r"with|en|bei|chez|na|no)\s+([A-Z0-9][\w&.' -]{1,60}?)(?=[,.;!()]|\s+\(|\s+and\b|$)"
)


def _asked_fields(turn: str) -> list[str]:
    """Fields a bot turn asks for, in the order asked ('company, and your role?'); only the
    turn's last question counts ("I'm Flo, the assistant. What's your name?" asks a name)."""
    sentences = [s for s in re.split(r"(?<=[.!?。！？])\s*", turn) if s.strip()]
    questions = [s for s in sentences if "?" in s or "？" in s]
    question = (questions or sentences or [turn])[-1]
    found = [(m.start(), field) for field, rx in _ASKS
             if (m := re.search(rx, question, re.IGNORECASE))]
    fields = [field for _, field in sorted(found)]
    return fields if len(fields) <= 2 else fields[:1]


def _answers(asked: list[str], text: str) -> list[tuple[str, str]]:
    """Map a visitor's reply to the asked fields; a title-looking part goes to `title`."""
    fields = [f for f in asked if f not in ("email", "phone")]
    if not fields:
        return []
    answer = _PHONE_ANY.sub("", EMAIL_RE.sub("", text)).strip(" ,;-!")
    answer = re.sub(r"(?i)^(it's|it is|i'm|i am|my name is|we are|we're|i work (at|for)|"
                    r"at|from|in|soy|je suis|ich bin|sou)\s+", "", answer).strip()
    answer = re.sub(r"(?i)^(the|a|an)\s+", "", answer)
    if fields == ["inquiry"]:
        return [("inquiry", answer)] if answer else []
    if len(fields) == 2:
        parts = [p.strip() for p in re.split(r",\s*|\s+[-–]\s+|\.\s+", answer, maxsplit=2)]
        pairs: list[tuple[str, str]] = []
        remaining = list(fields)
        for part in parts[:2]:
            looks_like_title = bool(first_matching(standardize_tables().seniority, part))
            field = "title" if "title" in remaining and looks_like_title else next(
                (f for f in remaining if f != "title"), None)
            if field is None:  # only `title` is left and this part is not a job title
                break
            remaining.remove(field)
            pairs.append((field, _first_clause(part)))
        return [(f, v) for f, v in pairs if v]
    field = fields[0]
    if field == "full_name":
        value = re.sub(r"(です|と申します|といいます)$", "", answer.split(",")[0].strip())
    else:
        value = _first_clause(answer)
    value = re.sub(r"(?<=\w\w\w)\.$", "", value.strip())  # sentence stop, not "K.K."
    return [(field, value)] if value and len(value) <= 80 else []


def _first_clause(answer: str) -> str:
    """'cafe nandu, soy analista…' → 'cafe nandu'; 'Australia (Melbourne)' → 'Australia'."""
    return _CLAUSE_BREAK.split(answer, maxsplit=1)[0].strip(" ,;")


def parse_chat(payload: object) -> ParsedFields:
    """Chat transcript → fields from bot Q&A pairs and the visitor's own words."""
    if not isinstance(payload, list):
        raise IngestError("chat payload must be a list of {role, text} turns")
    out: ParsedFields = {}
    visitor_lines: list[str] = []
    asked: list[str] = []
    introduced: str | None = None  # "I'm X": used only when no Q&A answer gave the name
    for turn in payload:
        if not isinstance(turn, dict):
            continue
        role = clean_text(turn.get("role")).lower()
        text = clean_text(turn.get("text"))
        if not text:
            continue
        if role not in ("visitor", "user", "customer", "lead", "human", "prospect"):
            asked = _asked_fields(text)
            continue
        visitor_lines.append(text)
        if (found := EMAIL_RE.search(text)) and "email" not in out:
            out["email"] = found.group(0)
        if (phone := _PHONE_ANY.search(text)) and "phone" not in out:
            out["phone"] = phone.group(1)
        for field, answer in _answers(asked, text):
            out.setdefault(field, answer)  # type: ignore[misc]
        if (intro := _SELF_INTRO.search(text)) and not introduced:
            introduced = intro.group(1) or intro.group(2)
        if (role_at := _ROLE_AT.search(text)) and first_matching(
            standardize_tables().seniority, role_at.group(1)
        ):
            out.setdefault("title", role_at.group(1).strip())
            out.setdefault("company", role_at.group(2).strip())
        size = _HEADCOUNT.search(text)
        if "employees" not in out and size and not _TEAM_SIZE.search(
                text[max(0, size.start() - 30):size.start()]):  # "my team (8 people)"
            out["employees"] = size.group(1)
        asked = []
    if introduced:
        out.setdefault("full_name", introduced)
    all_text = "\n".join(visitor_lines)
    out.setdefault("inquiry", all_text)
    out["text"] = all_text[:MAX_TEXT_CHARS]
    if "inquiry" in out:
        out["inquiry"] = out["inquiry"][:MAX_TEXT_CHARS]
    return out


def parse_item(item: object) -> tuple[str, ParsedFields]:
    """Dispatch on the item's channel; raise IngestError with a clear reason when unreadable."""
    if not isinstance(item, dict):
        raise IngestError(f"item must be a JSON object, got {type(item).__name__}")
    source = clean_text(item.get("source") or item.get("channel")).lower()
    payload = item.get("payload")
    if source not in CHANNELS:
        raise IngestError(f"unknown channel {source!r}; expected one of {', '.join(CHANNELS)}")
    if payload is None or payload == "" or payload == {} or payload == []:
        raise IngestError("empty payload")
    if source == "email":
        return source, parse_email(payload)
    if source == "chat":
        return source, parse_chat(payload)
    if isinstance(payload, str) and source == "event":
        try:  # newline="": a CR inside a quoted field is data, not a broken row
            rows = list(csv.DictReader(io.StringIO(payload, newline="")))
        except csv.Error as exc:
            raise IngestError(f"an event payload given as CSV text is not CSV: {exc}") from exc
        if len(rows) != 1:
            raise IngestError("an event payload given as CSV text must hold one header and one row")
        payload = rows[0]
    if not isinstance(payload, dict):
        raise IngestError(f"{source} payload must be an object of fields")
    return source, parse_fields(payload)


def item_text(item: object) -> str:
    """The item as plain text for an LLM: raw email, 'field: value' lines, 'role: text'."""
    payload = item.get("payload") if isinstance(item, dict) else item
    if isinstance(payload, str):
        return payload[:MAX_TEXT_CHARS]
    if isinstance(payload, dict):
        return "\n".join(f"{clean_text(k)}: {clean_text(v)}" for k, v in payload.items())[
            :MAX_TEXT_CHARS]
    if isinstance(payload, list):
        return "\n".join(f"{clean_text(t.get('role'))}: {clean_text(t.get('text'))}"
                         for t in payload if isinstance(t, dict))[:MAX_TEXT_CHARS]
    return clean_text(payload)[:MAX_TEXT_CHARS]


MAX_ITEM_DEPTH = 64  # the checkpointer's msgpack stops at 255 levels; the state adds a few
_MSGPACK_INTS = range(-(2**63), 2**64)


def storable_item(value: Any, depth: int = 0) -> Any:
    """The item as every store on its way can hold it, so it cannot fail a checkpoint write:
    lone surrogates (JSON '\\ud800') → U+FFFD, integers beyond msgpack's 64 bits → their
    digits as text, nesting deeper than MAX_ITEM_DEPTH → that subtree's JSON text. Anything
    else is returned as it is (NUL included: msgpack and JSON columns hold it)."""
    if isinstance(value, str):
        return replace_lone_surrogates(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value in _MSGPACK_INTS:
            return value
        return str(value) if value.bit_length() < 14_000 else "<integer too large>"
    if isinstance(value, dict | list | tuple) and depth >= MAX_ITEM_DEPTH:
        return replace_lone_surrogates(json.dumps(value, default=str)[:MAX_TEXT_CHARS])
    if isinstance(value, dict):
        return {replace_lone_surrogates(k) if isinstance(k, str) else k:
                storable_item(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_item(v, depth + 1) for v in value]
    return value


def item_excerpt(item: object, limit: int) -> object:
    """The item itself when small, else its JSON cut at `limit` characters (for queues and
    review evidence, so a 1 MB paste never lands in a queue row)."""
    text = json.dumps(item, default=str, ensure_ascii=False)
    return item if len(text) <= limit else text[:limit]


# ----------------------------------------------------------------------------- files
class UnreadableFile(ValueError):
    """A whole input file cannot be read (not found, binary, wrong format)."""


def _message_text(raw: bytes) -> str:
    """A raw message as text that keeps what its bytes say. UTF-8 (the usual 8-bit case) is
    taken as is; other 8-bit bytes (a Latin-1 body) are re-encoded by the email package
    into ASCII with their declared charset (base64/quoted-printable, RFC 2047 headers), so
    the parser decodes them right. `Message.as_string()` on an mbox message did that for
    every header, and encoded a UTF-8 From *with its address* into one unreadable word."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a BOM would hide the first header
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return email.message_from_bytes(raw, policy=email.policy.default).as_string()
    except (ValueError, TypeError, LookupError, IndexError, RecursionError,
            email.errors.MessageError):
        return raw.decode("utf-8", errors="replace")


def _json_problem(exc: Exception) -> str:
    """json.loads' complaint in a few words (it also raises plain ValueError for a number of
    more than 4300 digits, and RecursionError for deep nesting)."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(":")[0]


def read_items(path: Path) -> Iterator[dict[str, Any]]:
    """Yield input items from JSONL, JSON, CSV (event rows), .eml or mbox.

    A line that is not valid JSON becomes an item with an `_error`, so it still ends in a
    defined status instead of stopping the batch.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"{path}: {exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    if b"\x00" in raw[:8192] and suffix not in (".mbox",):
        raise UnreadableFile(f"{path}: binary file, expected JSONL, CSV, .eml or mbox")
    text = raw.decode("utf-8-sig", errors="replace")  # a Windows BOM is not part of line 1
    if suffix == ".csv":
        rows = csv.DictReader(io.StringIO(text, newline=""))
        try:
            for n, row in enumerate(rows, start=1):
                yield {"id": f"{path.stem}-{n}", "source": "event", "payload": row}
        except csv.Error as exc:
            raise UnreadableFile(f"{path}: line {rows.line_num} is not CSV: {exc}") from exc
    elif suffix == ".eml":
        yield {"id": path.name, "source": "email", "payload": _message_text(raw)}
    elif suffix == ".mbox":
        box = mailbox.mbox(str(path))
        for n, key in enumerate(box.keys(), start=1):
            yield {"id": f"{path.stem}-{n}", "source": "email",
                   "payload": _message_text(box.get_bytes(key))}
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableFile(
                f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
        except (ValueError, RecursionError) as exc:  # a 5000-digit number; [[[[… too deep
            raise UnreadableFile(f"{path}: not readable JSON ({_json_problem(exc)})") from exc
        for n, item in enumerate(data if isinstance(data, list) else [data], start=1):
            item = storable_item(item)
            yield item if isinstance(item, dict) else {"id": f"{path.name}:{n}", "payload": item,
                                                       "_error": "item is not a JSON object"}
    else:
        # Lines end at "\n" only: str.splitlines() would also cut at U+2028, U+0085 or
        # U+001C, which JSON allows raw inside a string, and lose the item.
        for n, line in enumerate(text.split("\n"), start=1):
            line = line.removesuffix("\r")
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except (ValueError, RecursionError) as exc:
                yield {"id": f"{path.name}:{n}",
                       "_error": f"line {n} is not JSON: {_json_problem(exc)}",
                       "payload": line[:2000]}
                continue
            item = storable_item(item)
            yield item if isinstance(item, dict) else {"id": f"{path.name}:{n}", "payload": item,
                                                       "_error": "item is not a JSON object"}
