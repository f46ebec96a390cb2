"""Organisations named in Japanese, Chinese or Korean prose, where no Latin domain can spell
the name (`prose.company_in_text` needs one): a legal form, an organisation's ending or a
city's department marks the name instead."""

from __future__ import annotations

import re
from functools import cache

from leadflow.config import standardize_tables
from leadflow.tools.prose import domain_stem
from leadflow.tools.standardize import clean_text, east_asian_letter, is_east_asian

# One word of a script written without spaces (katakana, ideographs, Hangul), or of Latin
# letters inside such a name ("株式会社LeadFlow"); hiragana ends it, because Japanese particles
# are hiragana ("…の佐伯です") — a name written partly in hiragana is not found.
_UNSPACED_WORD = r"[\u30A0-\u30FF\u4E00-\u9FFF\uAC00-\uD7AFA-Za-z0-9・&-]"
# A Japanese city, ward, town or prefecture followed by one of its departments: "鳴海野市
# 産業振興部 企業誘致課の吉岡と申します" names 鳴海野市, the rest is where in it they sit.
_PUBLIC_BODY_DEPARTMENT = re.compile(
    r"(?<![\u4E00-\u9FFF])([\u4E00-\u9FFF]{1,6}[市区町村県])[ \u3000]+"
    r"[\u4E00-\u9FFF]{1,10}[部課局室]")
# "我是禾豐選物的總經理": I am (the organisation)'s (title); not "我是这家公司的…"
_ZH_OWN_ORGANISATION = re.compile(
    r"我(?:是|们是|們是)(?![这這那我本贵貴一])([\u4E00-\u9FFF]{2,12}?)的[\u4E00-\u9FFF]{1,4}"
    r"(?:经理|經理|总监|總監|老板|老闆|负责人|負責人|主管|董事长|董事長|总裁|總裁|主任|长|長)")


# "我们是东升…有限公司", "弊社…株式会社": the writer's word for their own side, not the name
_SELF_REFERENCE = re.compile(
    r"^(?:我们是|我們是|我是|我们|我們|我司|本公司|弊社|当社|弊所|저희는|저희)\s?")


@cache
def _unspaced_organisation() -> re.Pattern[str]:
    tables = standardize_tables()
    forms = sorted((f for f in tables.legal_forms if is_east_asian(f.strip("()（）"))),
                   key=len, reverse=True)
    marks = "|".join(re.escape(f) for f in forms)
    ends = "|".join(re.escape(e) for e in sorted(tables.organisation_endings, key=len,
                                                  reverse=True))
    word = _UNSPACED_WORD
    # 株式会社ミライトリンク, (주)한성정밀
    return re.compile(rf"(?:{marks})[ \u3000]?{word}{{2,20}}"
                      rf"|{word}{{1,20}}?[ \u3000]?(?:{marks})(?!{word})"  # 港サービス株式会社
                      rf"|{word}{{1,12}}?(?:{ends})[\u30A0-\u30FF]*"  # 天空病院グループ
                      rf"(?![\u4E00-\u9FFF\uAC00-\uD7AF])")


def organisation_in_text(text: object) -> str | None:
    """An organisation named in Japanese, Chinese or Korean prose, where no domain can spell
    it (`company_in_text`): a name with a legal form before or after it (株式会社ミライトリンク,
    港サービス株式会社, (주)한성정밀), a name with an organisation's ending (東和田市役所, 청림시청,
    南青葉大学), a city followed by its department (鳴海野市 産業振興部), or "我是…的總經理". The
    first one the text names that is not our own company; None otherwise: no guessing."""
    prose = clean_text(text)
    if not prose or not any(east_asian_letter(ch) for ch in prose):
        return None
    own = [domain_stem(d) for d in standardize_tables().own_domains]
    found = [(m.start(), m.group(0)) for m in _unspaced_organisation().finditer(prose)]
    found += [(m.start(1), m.group(1)) for m in _PUBLIC_BODY_DEPARTMENT.finditer(prose)]
    found += [(m.start(1), m.group(1)) for m in _ZH_OWN_ORGANISATION.finditer(prose)]
    for _, name in sorted(found):
        name = _SELF_REFERENCE.sub("", name.strip(" \u3000-・&"))
        letters = re.sub(r"[\W\d_]+", "", name.lower())
        if len(name) >= 3 and not any(o and o in letters for o in own):
            return name
    return None
