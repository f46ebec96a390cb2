"""Word lists from the config files turned into one regex alternation: each word taken
literally, the longest first, so "bis ende" wins over "bis" where both start."""

from __future__ import annotations

import re
from functools import cache


@cache
def alternation(words: tuple[str, ...]) -> str:
    """'a|b|…' for `re`: the words escaped, longest first; '' for no words."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
