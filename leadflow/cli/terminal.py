"""Writing stored text to a terminal safely: as stored, with nothing in it acting on the
terminal."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.text import Text

console = Console()
err = Console(stderr=True, soft_wrap=True)


def _escape_char(ch: str, json_style: bool) -> str:
    code = ord(ch)
    if json_style and code > 0xFFFF:  # JSON spells astral code points as a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    if json_style or code > 0xFF:
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return f"\\x{code:02x}"


def visible(value: object) -> Text:
    """Stored text for a table cell, shown as stored: rich markup ('[red]') stays literal,
    and control/format characters (ESC, BEL, U+202E …) show as escapes ('\\x1b', '\\u202e')
    instead of acting on the terminal."""
    text = "" if value is None else str(value)
    return Text("".join(ch if ch.isprintable() or ch == "\n" else _escape_char(ch, False)
                        for ch in text))


def print_json_verbatim(data: Any) -> None:
    """Pretty JSON in which control/format characters are \\u escapes (rich's print_json
    would re-emit U+202E or C1 controls raw): the output is valid JSON whose strings load
    back to the stored values exactly, and nothing in it acts on the terminal."""
    dumped = json.dumps(data, default=str, ensure_ascii=False, indent=2)
    dumped = "".join(ch if ch.isprintable() or ch in " \n" else _escape_char(ch, True)
                     for ch in dumped)
    console.print(JSONHighlighter()(dumped), soft_wrap=True)
