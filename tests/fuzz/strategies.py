"""Hypothesis strategies for hostile inbound items (SPEC §8 shapes, and everything else).

Text mixes arbitrary code points (lone surrogates included, as JSON's '\\ud800' gives them)
with tokens that have broken parsers before: NUL, CR/LF header injection, ANSI escapes,
bidi overrides, ZWJ emoji, BOMs, SQL and format-string payloads, rich markup, RFC 2047
encoded words, HTML, and values that look like emails, phones or signatures.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any

from hypothesis import strategies as st

HOSTILE_TOKENS = (
    "\x00", "\r\n", "\r", "\n", "\t", "\x0b", "\x0c", "\x85", "\u2028", "\u2029", "\x1c",
    "\x07", "\x1b[31m", "\x1b[0m", "\x1b]0;title\x07", "\x9b31m", "\x7f", "\u202e", "\u202d",
    "\u200b", "\u200c", "\u200d", "\ufeff", "\xa0", "\u3000", "\ud800", "\udfff", "\udc80",
    "👩\u200d👩\u200d👧", "😀", "🇩🇪", "\U000e0001", "\U0010ffff", "é", "é", "王小明", "محمد",
    "Robert'); DROP TABLE leads;--", "' OR 1=1 --", "%s", "%(name)s", "{0}", "{}", "\\",
    "\\x00", "\"", "'", "`", "$(rm -rf /)", "[red]", "[/red]", "[/bold]", ":smile:",
    "<script>alert(1)</script>", "<b>", "</p>", "<br/>", "&amp;", "&copy", "&#0;", "&#x110000;",
    "< 50 people", "a > b", "AT&T", "=?utf-8?q?a=0D=0Ab?=", "=?utf-8?b?w6k=?=",
    "=?x-unknown?q?abc?=", "=?utf-8?q?=00?=", "Bcc: victim@example.com", "From: x@y.co",
    "--", "-- ", "Best regards,", "On Mon, Jan 1 wrote:", "> quoted", "VP Sales | Acme",
    "Director, Client Analytics", "priya.nair@lumenhealth.com", "PRIYA@GMAIL.COM",
    "a@b@c.com", "x@-bad-.com", "+1 (415) 555-0100", "+44 20 7946 0958", "00 49 30 1234567",
    "+999999999999999999999", "www.acme.io", "https://acme.co.uk/path?q=1", "Deutschland",
    "U.S.", "Remote - Canada", "1000+", "200-499", "5k", "9" * 40, "-1", "NaN", "null",
    "None", "n/a", "I'm", "my name is Greg Lindahl", ",", ";", "|", "•", ":", "?",
)


# Named functions, not lambdas, in .map(): hypothesis describes a lambda by reading and
# compiling its source, which cost more than the parsers under test.
def _repeat(unit_and_size: tuple[str, int]) -> str:
    unit, size = unit_and_size
    return unit * (size // len(unit))


def _csv_quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _qa_turns(qa: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": "bot", "text": qa[0]}, {"role": "visitor", "text": qa[1]}]


def _flatten(pairs: list[list[dict[str, str]]]) -> list[dict[str, str]]:
    return [turn for pair in pairs for turn in pair]


def _is_verbatim_company(text: str) -> bool:
    """Capture keeps it as typed: no ' ,;' edges and not a 'no company' placeholder."""
    return text.strip(" ,;") == text and text.lower() not in (
        "n/a", "na", "none", "-", "self", "private")


def _text_of(alphabet: st.SearchStrategy[str], max_pieces: int = 5) -> st.SearchStrategy[str]:
    piece = st.one_of(st.sampled_from(HOSTILE_TOKENS), st.text(alphabet, max_size=12))
    return st.lists(piece, max_size=max_pieces).map("".join)


# Every code point, surrogates included (hypothesis leaves them out unless told).
ANY_CHAR = st.characters(exclude_categories=())
# Very long lines and huge values (cut at MAX_TEXT_CHARS = 20 000, never a crash or a
# quadratic regex); one draw in eight, since the email package alone takes ~10 µs a character.
huge_text = st.tuples(st.sampled_from(["x", "Ab ", "é", "\u202e", "😀", "a@b.co ", "1", "\x00"]),
                      st.integers(1_000, 25_000)).map(_repeat)
hostile_text = st.one_of(
    _text_of(ANY_CHAR), _text_of(ANY_CHAR, 2), _text_of(st.sampled_from(string.printable)),
    _text_of(st.sampled_from(string.printable), 2), st.sampled_from(HOSTILE_TOKENS),
    st.just(""), st.text(ANY_CHAR, max_size=40), huge_text,
)

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(10**40), 10**40),
    st.floats(allow_nan=True, allow_infinity=True), hostile_text,
)
# What json.loads can give: nested lists and objects with string keys.
short_text = st.one_of(_text_of(ANY_CHAR, 3), st.sampled_from(HOSTILE_TOKENS))


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(short_text, inner, max_size=4)


json_value = st.recursive(
    json_scalar,
    _containers,
    max_leaves=6,
)

FORM_KEYS = (
    "First Name", "Last Name", "Full Name", "Name", "Work Email", "E-Mail-Adresse", "email",
    "Phone Number (optional)", "Mobile Phone", "Company", "Company / Organization", "会社名",
    "Job Title", "Country/Region", "país", "Number of Employees", "Company Size", "Industry",
    "Website URL", "message", "What are you looking for?", "utm_source", "utm_campaign",
    "UTM_Medium", "Event Name", "", " ", "\ufeffFirst Name", "first\x00name", "e\u202email",
)
form_key = st.one_of(st.sampled_from(FORM_KEYS), hostile_text)
form_value = st.one_of(hostile_text, json_value)
form_payload = st.dictionaries(form_key, form_value, max_size=10)

# ---------------------------------------------------------------------------- email
HEADER_NAMES = ("From", "Subject", "Content-Type", "Content-Transfer-Encoding", "MIME-Version",
                "Reply-To", "Sender", "To", "Date", "X-Junk")
CONTENT_TYPES = (
    "text/plain", "text/html", "text/plain; charset=utf-8", "text/plain; charset=iso-8859-1",
    "text/plain; charset=idna", "text/plain; charset=x-unknown", "text/plain; charset=utf-7",
    "text/plain; charset=utf-16", "text/plain; charset=zlib", "text/plain; charset=\"",
    "text/html; charset=punycode", "multipart/alternative; boundary=XYZ",
    "multipart/mixed; boundary=\"\"", "multipart/mixed", "message/rfc822", "application/x",
)
TRANSFER_ENCODINGS = ("7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "")


@st.composite
def rfc822_text(draw: st.DrawFn) -> str:
    """A raw message: hostile headers (encoded CR/LF, odd charsets) and a hostile body,
    sometimes multipart, sometimes with a signature block."""
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    headers = [f"From: {draw(hostile_text)} <{draw(st.sampled_from(HOSTILE_TOKENS))}>",
               f"Subject: {draw(hostile_text)}",
               f"Content-Type: {draw(st.sampled_from(CONTENT_TYPES))}",
               f"Content-Transfer-Encoding: {draw(st.sampled_from(TRANSFER_ENCODINGS))}"]
    extra = draw(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), hostile_text), max_size=4))
    headers += [f"{name}: {value}" for name, value in extra]
    headers = draw(st.permutations(headers))[: draw(st.integers(0, len(headers)))]
    body = draw(hostile_text)
    if draw(st.booleans()):  # a multipart body with a part of each kind
        part = draw(hostile_text)
        body = newline.join(["--XYZ", f"Content-Type: {draw(st.sampled_from(CONTENT_TYPES))}",
                             "", part, "--XYZ", "Content-Type: text/html", "", body, "--XYZ--"])
    if draw(st.booleans()):
        signature = draw(st.lists(st.one_of(st.sampled_from(HOSTILE_TOKENS), hostile_text),
                                  max_size=6))
        body += newline.join(["", "", "Best regards,", *signature])
    return newline.join(headers) + newline + newline + body


email_dict = st.fixed_dictionaries({}, optional={
    "from": json_value, "subject": json_value, "body": json_value})
email_payload = st.one_of(rfc822_text(), email_dict, hostile_text, json_value)

# ----------------------------------------------------------------------------- chat
ROLES = ("visitor", "user", "customer", "bot", "agent", "assistant", "VISITOR ", None, 3)
chat_turn = st.one_of(
    st.fixed_dictionaries({}, optional={
        "role": st.one_of(st.sampled_from(ROLES), hostile_text),
        "text": st.one_of(hostile_text, json_value)}),
    json_value,
)
BOT_QUESTIONS = ("What's your name?", "And your email and phone?", "Which company, and your role?",
                 "Where are you based?", "How many employees?", "How can we help?")
qa_transcript = st.lists(
    st.tuples(st.sampled_from(BOT_QUESTIONS), hostile_text).map(_qa_turns), max_size=6,
).map(_flatten)
chat_payload = st.one_of(st.lists(chat_turn, max_size=8), qa_transcript, json_value)

# ------------------------------------------------------------------------------ csv


@st.composite
def csv_text(draw: st.DrawFn) -> str:
    """CSV text with quotes, BOMs, CR inside fields, NUL and mismatched column counts."""
    cell = st.one_of(hostile_text, hostile_text.map(_csv_quote),
                     st.sampled_from(['"', '""', '"a"b', "a\rb", "x\x00y", ",", ""]))
    header = draw(st.lists(st.one_of(st.sampled_from(FORM_KEYS), cell), max_size=6))
    rows = draw(st.lists(st.lists(cell, max_size=8), max_size=3))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join(",".join(row) for row in [header, *rows])
    return ("\ufeff" if draw(st.booleans()) else "") + text


event_payload = st.one_of(form_payload, csv_text(), json_value)

# ---------------------------------------------------------------------------- items
SOURCES = ("web_form", "email", "chat", "event", "api", "WEB_FORM", " email ", "fax", "", None)
PAYLOADS: dict[Any, st.SearchStrategy[Any]] = {
    "web_form": form_payload, "email": email_payload, "chat": chat_payload,
    "event": event_payload,
}
received_at = st.one_of(
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.sampled_from(["2026-11-24T08:55:00Z", "0001-01-01T00:00:00+14:00",
                     "9999-12-31T23:59:59-12:00", "2026-02-30", "yesterday", ""]),
    json_value,
)


@st.composite
def inbound_item(draw: st.DrawFn) -> Any:
    """Mostly SPEC §8 items with hostile contents; sometimes any JSON value at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_value)
    source = draw(st.sampled_from(SOURCES))
    key = str(source).strip().lower()
    payload = draw(PAYLOADS.get(key, json_value) if draw(st.integers(0, 5)) else json_value)
    item: dict[str, Any] = {"source": source, "payload": payload}
    if draw(st.booleans()):
        item["received_at"] = draw(received_at)
    if draw(st.booleans()):
        item["id"] = draw(st.one_of(hostile_text, st.integers(), st.none()))
    return item


# Text a person could type that capture stores unchanged: no whitespace runs or edges, no
# NUL, no lone surrogates; control and format characters (ESC, BEL, U+202E, ZWJ) included.
_VERBATIM_CHARS = st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp"),
                                exclude_characters="\x00\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85<&")
verbatim_word = st.one_of(
    st.text(_VERBATIM_CHARS, min_size=1, max_size=12),
    st.sampled_from(["Robert');", "DROP", "TABLE", "leads;--", "'", "OR", "1=1", "--", "%s",
                     "\x1b[31m", "\x07", "\u202e", "[red]", "[/red]", "\u200d", "👩\u200d👧",
                     "王小明", "Zoë", "\\x00", "\\", "\"", "%(name)s", "{0}"]),
)
verbatim_text = st.lists(verbatim_word, min_size=1, max_size=6).map(" ".join).filter(
    _is_verbatim_company)
