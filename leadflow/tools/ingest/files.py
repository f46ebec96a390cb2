"""Input files to items for `leadflow run`: JSONL, JSON, CSV event rows, .eml and mbox,
with a file that cannot be read at all reported as UnreadableFile and a bad line kept
as an item with an `_error`. Reading files is not parsing items, hence apart.
"""

from __future__ import annotations

import csv
import email
import email.errors
import email.policy
import io
import json
import mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from leadflow.tools.ingest.text import storable_item


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
