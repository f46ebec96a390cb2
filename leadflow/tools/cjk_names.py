"""Chinese and Japanese names written without a space: where the family name ends, when the
script says so (split from `standardize` to keep each module small)."""

from __future__ import annotations

import re

# Two-character Chinese family names ('欧阳娜娜'); any other Chinese family name is one character.
_CHINESE_COMPOUND_FAMILY_NAMES = frozenset({"欧阳", "歐陽", "司马", "司馬", "诸葛", "諸葛", "上官",
                                            "司徒", "东方", "東方", "皇甫", "令狐", "慕容", "夏侯"})
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_KANA = re.compile(r"[\u3040-\u30ff]+")


def unspaced_cjk_name(word: str) -> tuple[str, str] | None:
    """(given, family) of a Chinese or Japanese name written without a space, where its
    script says where it splits: a Japanese family name in kanji before a given name in kana
    ('佐藤あかり'); a Chinese name of two or three characters after a one-character family
    name ('王伟', '陈嘉怡'), or four after a compound one ('欧阳娜娜'). Four kanji with no
    compound family name (a Japanese '田中美咲') say nothing of the split: None."""
    if (kana := re.fullmatch(r"([\u3400-\u9fff\uf900-\ufaff]{1,3})([\u3040-\u309f]{1,4})",
                             word)):  # hiragana only: katakana is a foreign name's reading
        return kana.group(2), kana.group(1)
    if not _HAN.fullmatch(word) or _KANA.search(word):
        return None
    if len(word) in (3, 4) and word[:2] in _CHINESE_COMPOUND_FAMILY_NAMES:
        return word[2:], word[:2]
    if len(word) in (2, 3):
        return word[1:], word[:1]
    return None
