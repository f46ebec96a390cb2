"""Text recognisers more than one channel parser needs (HTML in a form value or an email
body; a phone number in a signature or a chat line), so each exists once.
"""

from __future__ import annotations

import html
import re

_HTML_TAG = re.compile(r"<(?:[a-zA-Z][\w:-]*|/[a-zA-Z][\w:-]*|!--)(?:\s[^<>]*)?/?>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


# An element its reader never sees (display:none, zero height, a 0-2 px font, no opacity,
# Outlook's mso-hide): what it holds was not written to a person, so it is no one's words
# (hidden notes to "the AI scorer" live there).
_HIDDEN = re.compile(
    r"(?is)<(div|span|p|font|td|table|section)\b[^>]*\bstyle\s*=\s*[\"'][^\"']*"
    r"(?:display\s*:\s*none|visibility\s*:\s*hidden|max-height\s*:\s*0(?![.\d])|"
    r"font-size\s*:\s*[0-2](?:\.\d+)?px|opacity\s*:\s*0(?![.\d])|mso-hide\s*:\s*all)"
    r"[^>]*>.*?</\1\s*>")


def strip_html(text: str) -> str:
    """Tags out and entities decoded when the value is HTML; plain text that merely holds
    '<', '>' or '&' ('< 50 people', 'AT&T', 'Smith&copy') is left as typed."""
    if "<" not in text and "&" not in text:
        return text
    if not _HTML_TAG.search(text):
        return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text)
    text = _HIDDEN.sub(" ", text)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
    return html.unescape(_HTML_TAG.sub(" ", text))


# letters of a credential after a name: "MCIPS", "MBA", "PhD", "CPA", "MSc"
POST_NOMINAL = re.compile(r"[A-Z]{2,6}|Ph\.?D\.?|M\.?Sc\.?|M\.?A\.?|B\.?Sc\.?|Dipl\.?")
PHONE_ANY = re.compile(r"(?<![\w/])(\+?\(?\d[\d ()./-]{7,}\d)(?![\w/])")
