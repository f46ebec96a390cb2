"""An input file's bytes as the text the user meant. UTF-8 is the fast path; a BOM says
UTF-8, UTF-16 or UTF-32; anything else is guessed by charset-normalizer, line by line, so a
UTF-8 export with a few lines pasted from a Windows spreadsheet keeps its UTF-8 lines and
only the others are guessed. What was guessed is reported with the lines it was guessed
on, so the leads read from them can carry a flag and the CLI can say so.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

# Longest first: the UTF-32-LE BOM begins with the UTF-16-LE one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf_32_le"), (codecs.BOM_UTF32_BE, "utf_32_be"),
         (codecs.BOM_UTF8, "utf_8"), (codecs.BOM_UTF16_LE, "utf_16_le"),
         (codecs.BOM_UTF16_BE, "utf_16_be"))

# What lead files come in when they are not UTF-8: spreadsheet exports in a Windows code page
# and CJK legacy encodings. Only these are considered (charset-normalizer on its own reads a
# short German CSV as cp857 or Polish as mac_iceland), and a tie between them (the same
# scores for 'Müller' in cp1252 and cp1250) goes to the first: cp1252 is the usual case.
LEGACY_ENCODINGS = ("cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1257", "cp1255",
                    "cp1256", "cp932", "gb18030", "big5", "cp949", "euc_jp", "koi8_r")
SAMPLE_BYTES = 1 << 20  # what the guess is made on: the first MiB of the lines it is for
_ESCAPED = re.compile("[\udc80-\udcff]")
LATIN_ENCODINGS = frozenset({"cp1252", "cp1250", "cp1254", "cp1257"})
# JSON and CSV punctuation is ASCII, so without a BOM these show as NUL bytes.
WIDE_ENCODINGS = ("utf_16_le", "utf_16_be", "utf_32_le", "utf_32_be")


@dataclass(frozen=True)
class DecodedText:
    text: str
    guessed: str | None = None  # the encoding guessed; None when the bytes said (UTF-8, a BOM)
    guessed_lines: frozenset[int] | None = None  # 0-based lines read with it; None = all

    def guessed_in(self, first: int, last: int) -> bool:
        """Whether any of lines first..last (0-based, inclusive) was read with the guess."""
        if self.guessed is None:
            return False
        if self.guessed_lines is None:
            return True
        return not self.guessed_lines.isdisjoint(range(first, last + 1))

    def samples(self, limit: int = 3) -> list[str]:
        """The first few words with non-ASCII letters as read, for a person to judge the guess."""
        lines = self.text.split("\n")
        wanted = range(len(lines)) if self.guessed_lines is None else sorted(self.guessed_lines)
        found: list[str] = []
        for n in wanted:
            for word in lines[n].replace(",", " ").replace(";", " ").split():
                word = word.strip("\"'{}[]:()")
                if not word.isascii() and word.isprintable() and word not in found:
                    found.append(word[:30])
                    if len(found) == limit:
                        return found
        return found


def _latin_script(text: str) -> bool:
    """Whether text read with a Latin code page looks like Latin script: most words with an
    accented letter also hold plain ones ('Müller'). Cyrillic or Greek read that way is
    words of accented letters only ('Čâŕí Ďĺňđîâ'), which charset-normalizer lets through
    on a short line."""
    words = [w for w in re.findall(r"[^\W\d_]{3,}", text) if not w.isascii()]
    return 2 * sum(any(c.isascii() for c in w) for w in words) >= len(words)


def _guess(data: bytes, candidates: tuple[str, ...]) -> str | None:
    """charset-normalizer's pick among `candidates`, ties broken by their order."""
    data = data[:SAMPLE_BYTES]
    ranked = sorted(from_bytes(data, cp_isolation=list(candidates)),
                    key=lambda m: (m.chaos, -m.coherence))
    usable = [m for m in ranked if m.encoding not in LATIN_ENCODINGS
              or _latin_script(data[:65536].decode(m.encoding, errors="replace"))]
    if not usable:
        return None
    best = (usable[0].chaos, -usable[0].coherence)
    tied = {name for m in usable if (m.chaos, -m.coherence) == best
            for name in (m.encoding, *m.could_be_from_charset)}
    return next((name for name in candidates if name in tied), usable[0].encoding)


def decode_text(raw: bytes) -> DecodedText | None:
    """The file's text, or None when it is not text in any encoding we recognise (binary)."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):  # a Windows BOM is not part of line 1
            return DecodedText(raw[len(bom):].decode(codec, errors="replace"))
    try:
        return DecodedText(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if b"\x00" in raw[:8192]:
        wide = _guess(raw, WIDE_ENCODINGS)
        return None if wide is None else DecodedText(raw.decode(wide, errors="replace"), wide)
    # The bytes that are not UTF-8 come back as lone surrogates: their lines are the foreign ones.
    lines = raw.decode("utf-8", errors="surrogateescape").split("\n")
    foreign = frozenset(n for n, line in enumerate(lines) if _ESCAPED.search(line))
    guess = _guess("\n".join(lines[n] for n in sorted(foreign)).encode(
        "utf-8", errors="surrogateescape"), LEGACY_ENCODINGS)
    if guess is None:
        return None
    if all(line.isascii() for n, line in enumerate(lines) if n not in foreign):
        text = raw.decode(guess, errors="replace")  # no UTF-8 line to keep: one decode
    else:
        text = "\n".join(line.encode("utf-8", errors="surrogateescape").decode(
            guess, errors="replace") if n in foreign else line for n, line in enumerate(lines))
    return DecodedText(text, guess, None if len(foreign) == len(lines) else foreign)
