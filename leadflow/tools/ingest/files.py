"""Input files to items for `leadflow run`: JSONL, JSON, CSV event rows, .eml and mbox,
read as the user meant them. The encoding is UTF-8, a BOM's, or a guess that is said
(`warn`) and flagged on the items read with it (`encoding_guessed:<codec>`); a JSON array
is JSON whatever the suffix, and JSON Lines too; a CSV's delimiter is its header's. A file
that cannot be read at all (not found, binary, a CSV without a contact column, no JSON in
it) is one UnreadableFile, raised before any of its items; a bad line of an otherwise good
JSONL file is kept as an item with an `_error`. Reading files is not parsing items, hence
apart.
"""

from __future__ import annotations

import csv
import email
import email.errors
import email.policy
import io
import json
import mailbox
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from leadflow.tools.ingest.encoding import DecodedText, decode_text
from leadflow.tools.ingest.form import field_for_key
from leadflow.tools.ingest.text import storable_item

Items = Generator[dict[str, Any], None, str | None]  # returns why there were none, or None

CONTACT_FIELDS = ("email", "phone")
CONTACT_COLUMN_EXAMPLES = ("Email", "Work Email", "E-mail", "Phone", "Mobile")
_DELIMITERS = ",;\t|"
GUESSED_FLAG = "encoding_guessed:"


class UnreadableFile(ValueError):
    """A whole input file cannot be read (not found, binary, wrong format)."""


def message_text(raw: bytes) -> tuple[str, str | None]:
    """A raw message as text that keeps what its bytes say, and the encoding guessed if one
    was. UTF-8 (the usual 8-bit case) is taken as is; other 8-bit bytes under a declared
    charset (a Latin-1 body) are re-encoded by the email package into ASCII with that charset
    (base64/quoted-printable, RFC 2047 headers), so the parser decodes them right; 8-bit bytes
    with no charset declared are read with a guessed encoding, like any input file.
    `Message.as_string()` on an mbox message did that for every header, and encoded a UTF-8
    From *with its address* into one unreadable word."""
    raw = raw.removeprefix(b"\xef\xbb\xbf")  # a BOM would hide the first header
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if set(filter(None, message.get_charsets())) - {"us-ascii"}:
            return message.as_string(), None
    except (ValueError, TypeError, LookupError, IndexError, RecursionError,
            email.errors.MessageError):
        pass
    decoded = decode_text(raw)
    if decoded is None or decoded.guessed is None:
        return raw.decode("utf-8", errors="replace"), None
    return decoded.text, decoded.guessed


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def strict_json(text: str) -> Any:
    """json.loads without Python's NaN/Infinity extension: JSON has no such numbers, and
    PostgreSQL's jsonb refuses them, so an item holding one would fail on the way in (the
    API answers 422 for the same item)."""
    return json.loads(text, parse_constant=_no_constant)


def _json_problem(exc: Exception) -> str:
    """json.loads' complaint in a few words (it also raises plain ValueError for a number of
    more than 4300 digits, and RecursionError for deep nesting)."""
    if isinstance(exc, json.JSONDecodeError):
        return exc.msg
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(":")[0]


def _where(exc: Exception) -> str:
    return f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""


def _binary_kind(raw: bytes) -> str:
    """What a binary input probably is, so the one-line error says what to do."""
    if raw.startswith(b"PK\x03\x04"):
        return "binary file (a ZIP archive: an Excel .xlsx? save it as CSV UTF-8)"
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        return "binary file (an old Excel .xls? save it as CSV UTF-8)"
    if raw.startswith(b"%PDF"):
        return "binary file (a PDF)"
    return "binary file"


def item_flags(item: object) -> list[str]:
    """The flags reading the file put on an item (`_flags`) that the lead carries: only the
    reader's own (`encoding_guessed:<codec>`), so an item cannot give itself other flags."""
    found = item.get("_flags") if isinstance(item, dict) else None
    return [f for f in found if isinstance(f, str) and f.startswith(GUESSED_FLAG)
            and len(f) <= 40][:3] if isinstance(found, list) else []


def _flag(item: Any, decoded: DecodedText, first: int, last: int) -> Any:
    """The item with `encoding_guessed:<codec>` in its `_flags` when lines first..last were
    read with a guessed encoding (Capture adds the item's `_flags` to the lead's flags)."""
    if decoded.guessed is None or not isinstance(item, dict) \
            or not decoded.guessed_in(first, last):
        return item
    known = item.get("_flags")  # the item is ours (just parsed): changed in place
    item["_flags"] = [*(known if isinstance(known, list) else []),
                      f"{GUESSED_FLAG}{decoded.guessed}"]
    return item


def _delimiter(text: str) -> str:
    """The header line's delimiter: a comma unless it holds more semicolons, tabs or pipes
    (a German Excel export is 'Vorname;Nachname;E-Mail')."""
    header = text.split("\n", 1)[0]
    return max(_DELIMITERS, key=lambda d: (header.count(d), d == ","))


def _check_contact_columns(path: Path, columns: list[str]) -> None:
    """A CSV whose columns name no email address or phone number gives no lead anyone can
    reach: one clear error naming what was found, not a manual-review item per row."""
    if any(field_for_key(c) in CONTACT_FIELDS for c in columns):
        return
    shown = ", ".join(repr(c) for c in columns[:12]) + (
        f" and {len(columns) - 12} more" if len(columns) > 12 else "")
    hint = ("; line 1 looks like data: the file needs a header line first"
            if any("@" in (c or "") for c in columns) else "")
    raise UnreadableFile(f"{path}: no contact column: found {shown}; expected an email or "
                         f"phone column (e.g. {', '.join(CONTACT_COLUMN_EXAMPLES)}){hint}")


def _csv_items(path: Path, decoded: DecodedText) -> Items:
    rows = csv.DictReader(io.StringIO(decoded.text, newline=""),
                          delimiter=_delimiter(decoded.text))
    try:
        columns = rows.fieldnames
        if not columns:
            return "empty file"
        _check_contact_columns(path, list(columns))
        found: list[dict[str, Any]] = []
        stem = path.stem
        start = rows.line_num  # lines read so far; a row may span several (quoted newlines)
        for n, row in enumerate(rows, start=1):
            found.append(_flag({"id": f"{stem}-{n}", "source": "event", "payload": row},
                               decoded, start, rows.line_num - 1))
            start = rows.line_num
    except csv.Error as exc:
        raise UnreadableFile(f"{path}: line {rows.line_num} is not CSV: {exc}") from exc
    yield from found
    return None if found else "a header line and no rows"


def _document_items(path: Path, data: Any, decoded: DecodedText) -> Items:
    listed = data if isinstance(data, list) else [data]
    for n, item in enumerate(listed, start=1):
        item = storable_item(item)
        yield _flag(item, decoded, 0, 0) if isinstance(item, dict) else {
            "id": f"{path.name}:{n}", "payload": item, "_error": "item is not a JSON object"}
    return None if listed else "an empty JSON array"


def _line_items(path: Path, lines: list[str]) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """JSON Lines: (0-based line, item, whether the line was JSON) per non-blank line."""
    for n, line in enumerate(lines):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            item = storable_item(strict_json(line))
        except (ValueError, RecursionError) as exc:
            yield n, {"id": f"{path.name}:{n + 1}", "_error": f"line {n + 1} is not JSON: "
                      f"{_json_problem(exc)}", "payload": line[:2000]}, False
            continue
        yield n, (item if isinstance(item, dict) else {
            "id": f"{path.name}:{n + 1}", "payload": item,
            "_error": "item is not a JSON object"}), True


def _json_items(path: Path, decoded: DecodedText, suffix: str) -> Items:
    """A JSON document (an array of items or one item), whatever the suffix says; else JSON
    Lines. Lines end at "\\n" only: str.splitlines() would also cut at U+2028, U+0085 or
    U+001C, which JSON allows raw inside a string, and lose the item."""
    lines = decoded.text.split("\n")
    first = next((line.strip() for line in lines if line.strip()), None)
    if first is None:
        return "empty file"
    try:
        data = strict_json(decoded.text)
    except (ValueError, RecursionError) as exc:
        problem = exc
    else:
        return (yield from _document_items(path, data, decoded))
    try:
        strict_json(first)
    except (ValueError, RecursionError):
        # Line 1 is no JSON value of its own: a JSON document that is broken somewhere.
        if suffix == ".json" or first in ("[", "{"):
            raise UnreadableFile(f"{path}: not valid JSON ({_json_problem(problem)}"
                                 f"{_where(problem)})") from problem
    read = list(_line_items(path, lines))
    if not any(ok for _, _, ok in read):
        raise UnreadableFile(f"{path}: no line is JSON (first: {first[:40]!r}); expected "
                             "JSON Lines (one item per line), a JSON array, or CSV named *.csv")
    for n, item, _ in read:
        yield _flag(item, decoded, n, n)
    return None


def _mail_items(path: Path, raw: bytes, say: Callable[[str], None]) -> Iterator[dict[str, Any]]:
    """One item per message of an .eml or mbox file; a guessed encoding is flagged on the
    message's item and said once for the file."""
    if path.suffix.lower() == ".eml":
        messages = [(path.name, raw)]
    else:
        box = mailbox.mbox(str(path))
        messages = [(f"{path.stem}-{n}", box.get_bytes(key))
                    for n, key in enumerate(box.keys(), start=1)]
    guessed: list[str] = []
    for item_id, message in messages:
        text, encoding = message_text(message)
        item: dict[str, Any] = {"id": item_id, "source": "email", "payload": text}
        if encoding:
            guessed.append(encoding)
            item["_flags"] = [f"{GUESSED_FLAG}{encoding}"]
        yield item
    if guessed:
        say(f"{path}: {len(guessed)} of {len(messages)} messages not UTF-8 and with no charset "
            f"declared, read as {', '.join(sorted(set(guessed)))} (a guess); their leads are "
            "flagged encoding_guessed")
    if not messages:
        say(f"{path}: no items (no 'From ' line starts a message)")


def read_items(path: Path, warn: Callable[[str], None] | None = None,
               ) -> Iterator[dict[str, Any]]:
    """Yield input items from JSONL, JSON, CSV (event rows), .eml or mbox; say what was
    guessed or missing through `warn` (one line each: a guessed encoding, no items)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(f"{path}: {exc.strerror or exc}") from exc
    say = warn or (lambda _message: None)
    suffix = path.suffix.lower()
    if not raw.strip():
        say(f"{path}: no items (empty file)")
        return
    if suffix in (".mbox", ".eml"):
        if suffix == ".eml" and b"\x00" in raw[:8192]:
            raise UnreadableFile(f"{path}: {_binary_kind(raw)}, expected an RFC 822 message")
        yield from _mail_items(path, raw, say)
        return
    decoded = decode_text(raw)
    if decoded is None:
        raise UnreadableFile(f"{path}: {_binary_kind(raw)}, expected JSONL, CSV, .eml or mbox")
    if decoded.guessed:
        lines = decoded.text.count("\n") + (not decoded.text.endswith("\n"))
        where = ("" if decoded.guessed_lines is None else
                 f" ({len(decoded.guessed_lines)} of {lines} lines)")
        say(f"{path}: not UTF-8{where}, read as {decoded.guessed} (a guess: "
            f"{', '.join(decoded.samples()) or 'no letters to show'}); its leads are flagged "
            f"encoding_guessed — save the file as UTF-8 to be sure")
    reader = _csv_items(path, decoded) if suffix in (".csv", ".tsv") else \
        _json_items(path, decoded, suffix)
    why = yield from reader
    if why:
        say(f"{path}: no items ({why})")
