"""Visitors who name themselves in Japanese, Korean or Chinese chat turns (issue 14, sixth
blind round): the family name (and the company before の) from a Japanese introduction with
a role in between, the whole name from a Korean one (split by capture as any Korean name is),
a Chinese name given alone before the address or after 我是."""

from __future__ import annotations

from leadflow.tools.ingest.chat import parse_chat
from leadflow.tools.names import split_name


def visitor(*lines: str) -> list[dict[str, str]]:
    return [{"role": "visitor", "text": line} for line in lines]


def test_japanese_company_role_then_name() -> None:
    parsed = parse_chat(visitor("北斗精機の生産管理部で係長をしております、大野と申します。",
                                "メールは ohno@hokuto-seiki.co.jp です。"))
    assert parsed["company"] == "北斗精機" and parsed["last_name"] == "大野"


def test_korean_name_after_a_rank_or_said_as_a_name() -> None:
    parsed = parse_chat(visitor("안녕하세요, 마케팅팀 과장 김서준입니다.",
                                "seojun.kim@hanbit.co.kr"))
    first, last = split_name(parsed["full_name"])  # as capture splits it
    assert (last, first) == ("김", "서준")
    parsed = parse_chat(visitor("이름은 남궁민수이고 연락처는 010-2222-3333 입니다."))
    first, last = split_name(parsed["full_name"])
    assert (last, first) == ("남궁", "민수")


def test_chinese_name_alone_before_the_address_or_after_wo_shi() -> None:
    parsed = parse_chat(visitor("陈嘉怡，jiayi.chen@lanting-tea.cn，电话 138 0013 8000"))
    assert parsed["full_name"] == "陈嘉怡"
    assert parse_chat(visitor("您好，我是周明，想了解企业版。"))["full_name"] == "周明"


def test_a_greeting_is_not_a_name() -> None:
    parsed = parse_chat(visitor("你好，我们是一家电商公司，想问价格。",
                                "联系邮箱 sales@lanting-tea.cn"))
    assert "full_name" not in parsed and "last_name" not in parsed
