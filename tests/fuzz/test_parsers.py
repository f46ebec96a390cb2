"""Property tests for the ingest parsers (SPEC §8 inputs): on any input a parser returns
clean fields or raises the project's own IngestError / UnreadableFile — never a stray
TypeError, UnicodeError, csv.Error or email-package ValueError. Each `@example` is a bug
that fuzzing found and that is fixed."""

from __future__ import annotations

import base64
import contextlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from leadflow.identity import item_fingerprint
from leadflow.tools.ingest import (
    CHANNELS,
    MAX_TEXT_CHARS,
    IngestError,
    ParsedFields,
    UnreadableFile,
    item_excerpt,
    item_text,
    parse_chat,
    parse_email,
    parse_fields,
    parse_item,
    read_items,
    storable_item,
)
from leadflow.tools.standardize import clean_line, clean_text
from tests.fuzz.strategies import (
    chat_payload,
    csv_text,
    email_payload,
    form_payload,
    hostile_text,
    inbound_item,
    json_scalar,
    json_value,
    short_text,
)

FIELDS = set(ParsedFields.__annotations__)
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def assert_clean_fields(parsed: ParsedFields) -> None:
    """What a parser hands on: known fields, text values, no NUL or lone surrogate (neither
    survives a UTF-8 store or a PostgreSQL text column), text cut at MAX_TEXT_CHARS."""
    assert set(parsed) <= FIELDS
    for field, value in parsed.items():
        values = list(value.items()) if isinstance(value, dict) else [value]
        for text in (t for pair in values for t in (pair if isinstance(pair, tuple) else [pair])):
            assert isinstance(text, str), field
            assert "\x00" not in text and not LONE_SURROGATE.search(text), field
    assert len(parsed.get("text", "")) <= MAX_TEXT_CHARS
    assert len(parsed.get("inquiry", "")) <= MAX_TEXT_CHARS


@given(form_payload)
@example({"Company": "Acme\x00 Inc", "message": "x\ud800y"})
@example({"First Name": ["nested", {"dict": None}], "Employees": 10**30, "5": True})
@example({"message": "x" * 15_000, "Message": "y" * 15_000})  # inquiry was never cut
def test_parse_fields_takes_any_form(payload: dict[Any, Any]) -> None:
    assert_clean_fields(parse_fields(payload))


# Words with '<', '>' and '&' that are not markup: no tag, no ';'-terminated entity.
not_html = st.lists(st.one_of(
    st.sampled_from(["<", ">", "<=", "->", "&", "&&", "AT&T", "R&D", "Q&A", "Smith&copy",
                     "&not", "&lt", "5<6", "<3", "< $5M", "team > 50", "a<", "&;", "& b"]),
    st.text(st.characters(exclude_characters="<&;"), max_size=10)), max_size=8).map(" ".join)


@given(not_html)
@example("Revenue < $5M and team > 50")  # was cut to "Revenue  50" as if "< … >" were a tag
@example("Smith&copy Partners")  # was "Smith© Partners": an entity needs its ';'
def test_plain_text_form_values_are_kept_as_typed(value: str) -> None:
    assert parse_fields({"message": value}).get("inquiry", "") == clean_text(value)


@pytest.mark.parametrize(("value", "expected"), [
    ("Revenue < $5M and team > 50", "Revenue < $5M and team > 50"),
    ("Smith&copy Partners", "Smith&copy Partners"),
    ("AT&T", "AT&T"),
    ("O&#39;Brien &amp; Sons", "O'Brien & Sons"),
    ("<p>Hello<br>there</p><script>x()</script>", "Hello\nthere"),
])
def test_form_html_is_stripped_only_when_it_is_html(value: str, expected: str) -> None:
    assert parse_fields({"message": value})["inquiry"] == expected


@given(email_payload)
@example("From: =?utf-8?q?a=0D=0Ab?= <a@b.com>\n\nhello")  # header parser raised ValueError
@example("Subject: hi\ud800\n\nNeed help")  # UnicodeEncodeError on a lone surrogate
@example("Content-Type: text/plain; charset=idna\n\nhello")  # idna can't errors="replace"
@example("From: " + "(" * 5000 + "\n\nhi")  # RecursionError in the stdlib address parser
@example({"from": "(1" * 30_000})
@example("From: Joe <joe@acme.com>\r\nSubject: a\r\nBcc: victim@example.com\r\n\r\nbody")
def test_parse_email_takes_any_payload(payload: object) -> None:
    if not isinstance(payload, str | dict):
        with pytest.raises(IngestError):
            parse_email(payload)
        return
    parsed = parse_email(payload)
    assert_clean_fields(parsed)
    if "email" in parsed:
        assert parsed["email"].count("@") == 1


@given(st.text(st.characters(codec="utf-8"), min_size=1), hostile_text)
@example("Hello\r\nBcc: victim@example.com", "Ann\r\nBcc: victim@example.com")
def test_encoded_headers_decode_to_one_line(subject: str, name: str) -> None:
    """A Subject or From name carrying an encoded CR/LF ('=?utf-8?b?…?=') decodes, but cannot
    start a new line (a new header) in anything built from it."""
    def encoded(text: str) -> str:
        return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8', 'replace')).decode()}?="

    parsed = parse_email(f"From: {encoded(name)} <ann@acme.io>\nSubject: {encoded(subject)}\n"
                         f"\nWe need help.")
    assert parsed["inquiry"].split("\n")[0] == clean_line(subject) or not clean_line(subject)
    assert parsed["email"] == "ann@acme.io"
    assert not any(ch.isspace() and ch != " " for ch in parsed.get("full_name", ""))


@given(chat_payload)
@example([{"role": "visitor", "text": None}, "junk", 5, {"text": "\x1b[31mI'm Ann\ud800"}])
def test_parse_chat_takes_any_payload(payload: object) -> None:
    if not isinstance(payload, list):
        with pytest.raises(IngestError):
            parse_chat(payload)
        return
    assert_clean_fields(parse_chat(payload))


@given(inbound_item())
@example({"source": "event", "payload": "a,b\n\"x\ry\",z"})  # csv.Error: CR in a quoted field
@example({"source": "event", "payload": "a,b\nx\x00,y"})  # csv.Error: line contains NUL
@example({"source": "event", "payload": "\ufeff\"First Name\",Email\nAnn,ann@acme.io,extra"})
@example({"source": "email", "payload": {"from": ["x"], "body": {"nested": 1}}})
@example({"source": "[/bold]", "payload": {"a": 1}})
def test_parse_item_returns_fields_or_a_clear_error(item: object) -> None:
    try:
        channel, parsed = parse_item(item)
    except IngestError as exc:
        assert str(exc)  # a reason a person can read in the manual-review queue
        return
    assert channel in CHANNELS
    assert_clean_fields(parsed)


@given(inbound_item())
@example({"id": "x", "payload": "😀" * 30_000})
def test_item_text_excerpt_and_fingerprint_take_any_item(item: object) -> None:
    assert len(item_text(item)) <= MAX_TEXT_CHARS
    excerpt = item_excerpt(item, 500)
    assert excerpt is item or (isinstance(excerpt, str) and len(excerpt) <= 500)
    assert re.fullmatch(r"[0-9a-f]{16}", item_fingerprint(item))


def nested(depth: int) -> Any:
    value: Any = {"deep": 1}
    for _ in range(depth):
        value = [value]
    return value


@given(json_value)
@example({"a\ud800": ["x\udfff", 2**64, -(2**63) - 1]})
@example(nested(300))
def test_storable_items_survive_a_checkpoint_write(value: Any) -> None:
    """What BatchRunner hands the graph: the checkpointer's serializer takes it (it raised
    TypeError on a lone surrogate, a 65-bit int, or 255 levels of nesting)."""
    stored = storable_item(value)
    JsonPlusSerializer().dumps_typed({"item": stored, "state": [[[stored]]]})
    assert json.dumps(storable_item(stored)) == json.dumps(stored)


@given(st.dictionaries(short_text, json_scalar, min_size=2, max_size=4))
def test_fingerprint_ignores_key_order(item: dict[str, Any]) -> None:
    item.pop("id", None)
    assert item_fingerprint(item) == item_fingerprint(dict(reversed(list(item.items()))))


# ---------------------------------------------------------------------------- files
FILE_SETTINGS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def read_all(path: Path) -> list[dict[str, Any]]:
    """Every item of a file, or UnreadableFile; then each item through parse_item."""
    items = list(read_items(path))
    for item in items:
        assert isinstance(item, dict)
        with contextlib.suppress(IngestError):
            parse_item(item)
    return items


@FILE_SETTINGS
@given(st.lists(st.dictionaries(short_text, json_scalar, max_size=3), max_size=4),
       st.booleans(), st.sampled_from(["\n", "\r\n"]))
@example([{"text": "line\u2028separator", "n": "\x85 \x1c"}], False, "\n")  # split in two
@example([{"source": "web_form"}], True, "\n")  # a BOM made line 1 "not JSON"
@example([{"a\ud800": 10**30}], False, "\n")  # the checkpointer refused both
def test_jsonl_gives_one_item_per_line(tmp_path: Path, objects: list[dict[str, Any]],
                                       bom: bool, newline: str) -> None:
    path = tmp_path / "items.jsonl"
    # raw UTF-8, except that a lone surrogate can only be written as its '\ud800' escape
    lines = [json.dumps(obj, ensure_ascii=bool(LONE_SURROGATE.search(json.dumps(
        obj, ensure_ascii=False)))) for obj in objects]
    path.write_bytes(("\ufeff" if bom else "").encode() + newline.join(lines).encode())
    items = read_all(path)
    assert len(items) == len(objects)
    for obj, item in zip(objects, items, strict=True):  # NaN != NaN, but dumps the same
        assert json.dumps(item) == json.dumps(storable_item(obj))


@FILE_SETTINGS
@given(st.binary(max_size=3000) | hostile_text.map(utf8),
       st.sampled_from([".jsonl", ".json", ".csv", ".eml", ".mbox", ".txt"]))
@example(b"[" * 100_000, ".json")  # RecursionError escaped read_items
@example(b"1" * 5000, ".jsonl")  # ValueError: more than 4300 digits
@example(b"[" * 100_000 + b"\n{}", ".jsonl")
@example(b"a,b\n" + b"x" * 9000 + b"\x00,y", ".csv")  # NUL after the binary sniff
def test_any_file_gives_items_or_unreadable(tmp_path: Path, data: bytes, suffix: str) -> None:
    path = tmp_path / f"input{suffix}"
    path.write_bytes(data)
    try:
        read_all(path)
    except UnreadableFile as exc:
        assert str(path) in str(exc)


@FILE_SETTINGS
@given(csv_text())
def test_csv_file_rows_become_event_items(tmp_path: Path, text: str) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(text.encode("utf-8", "replace"))
    try:
        items = read_all(path)
    except UnreadableFile:
        return
    assert all(item["source"] == "event" and isinstance(item["payload"], dict)
               for item in items)


@FILE_SETTINGS
@given(st.text(st.characters(categories=("L", "M")), min_size=1, max_size=30),
       st.text(st.characters(categories=("L", "Zs")), min_size=1, max_size=60),
       st.sampled_from([".mbox", ".eml"]))
@example("Jürgen Müller", "Wir brauchen ein Angebot für 200 Lizenzen", ".mbox")
def test_8bit_mail_files_keep_the_sender_and_the_text(tmp_path: Path, name: str, body: str,
                                                       suffix: str) -> None:
    """Raw 8-bit UTF-8 headers (common in mbox exports): `as_string()` encoded the whole From
    — address included — into one 'unknown-8bit' word, and the lead had no email."""
    message = (f"From: {name} <ann@acme.io>\nSubject: Anfrage\n"
               f"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
               f"{body}\n").encode()
    path = tmp_path / f"in{suffix}"
    path.write_bytes((b"From sender@x Mon Jan  1 00:00:00 2026\n" if suffix == ".mbox" else b"")
                     + message)
    (item,) = read_all(path)
    parsed = parse_item(item)[1]
    assert parsed["email"] == "ann@acme.io"
    assert clean_text(body) in parsed["inquiry"]


def test_latin1_mail_file_is_decoded_with_its_charset(tmp_path: Path) -> None:
    path = tmp_path / "ana.eml"
    path.write_bytes(b"From: Ana <ana@empresa.es>\nSubject: Hola\nContent-Type: text/plain; "
                     b"charset=iso-8859-1\nContent-Transfer-Encoding: 8bit\n\n"
                     b"Necesitamos informaci\xf3n.\n")
    (item,) = read_all(path)
    assert parse_item(item)[1]["inquiry"] == "Hola\nNecesitamos información."
