"""Organisations named in Japanese, Chinese or Korean, where no Latin domain can spell the name:
form keys that run their words together ('所属団体名'), and prose where a legal form, an
organisation's ending or a city's department marks the name (issue 14: such leads came out
with no company at all)."""

from __future__ import annotations

import pytest

from leadflow.agents.capture import extract_lead
from leadflow.tools.ingest.form import field_for_key, parse_fields
from leadflow.tools.organisations import organisation_in_text


@pytest.mark.parametrize(("key", "field"), [
    ("所属機関名", "company"), ("勤務先（会社名）", "company"), ("団体名", "company"),
    ("ご所属", "company"), ("소속기관", "company"), ("单位名称（全称）", "company"),
    ("携帯番号", "phone"), ("連絡先電話", "phone"), ("핸드폰 번호", "phone"),
    ("メール（会社）", "email"), ("展示会名", "campaign"), ("セミナー名称", "campaign"),
    ("営業メモ", "inquiry"), ("ご相談内容・ご要望", "inquiry"), ("문의사항", "inquiry"),
    ("従業員規模（連結）", "employees"), ("氏名（漢字）", "full_name"),
    ("氏名（フリガナ）", None), ("ふりがな", None),
])
def test_keys_in_scripts_without_spaces(key: str, field: str | None) -> None:
    assert field_for_key(key) == field


def test_a_kana_reading_never_replaces_the_name() -> None:
    parsed = parse_fields({"氏名": "井上 直樹", "氏名（カナ）": "イノウエ ナオキ",
                           "メールアドレス": "n-inoue@kawabe-denki.co.jp",
                           "会社名・団体名": "川辺電機株式会社"})
    assert parsed["full_name"] == "井上 直樹"
    assert parsed["company"] == "川辺電機株式会社"


@pytest.mark.parametrize(("text", "name"), [
    ("いつもお世話になっております。川辺電機株式会社の井上です。", "川辺電機株式会社"),
    ("株式会社ノースブリッジ、総務部の斎藤と申します。", "株式会社ノースブリッジ"),
    ("弊社（株）アオバ製作所では現在", "（株）アオバ製作所"),
    ("저는 ㈜대한물류 영업팀 과장 이준호입니다.", "㈜대한물류"),
    ("안녕하세요. 서해정밀 주식회사 구매팀입니다.", "서해정밀 주식회사"),
    ("您好，我是青禾家居的总经理，想了解价格。", "青禾家居"),
    ("我们是东升精密机械有限公司，员工约三百人。", "东升精密机械有限公司"),
    ("北浜市 総務部 情報政策課の田村と申します。", "北浜市"),
    ("西原町役場 企画課です。", "西原町役場"),
    ("부산시청 스마트도시과 주무관입니다.", "부산시청"),
    ("東山大学病院の医事課から問い合わせます", "東山大学病院"),
    ("緑風会病院グループで事務長をしています", "緑風会病院グループ"),
])
def test_an_organisation_marked_by_its_form_or_ending(text: str, name: str) -> None:
    assert organisation_in_text(text) == name


@pytest.mark.parametrize("text", [
    "市内の企業からの問い合わせが増えています。",  # 'in the city', no city named
    "我是这家店的老板，想问问价格",  # 'this shop's owner': no name
    "株式会社LeadFlow 営業ご担当者様",  # the seller, addressed
    "We are a team of forty in Lisbon.",  # no script without spaces
])
def test_no_organisation_without_a_mark(text: str) -> None:
    assert organisation_in_text(text) is None


def test_a_japanese_mail_without_a_company_field_gets_one() -> None:
    lead = extract_lead({
        "id": "T-1", "source": "email", "received_at": "2026-11-30T01:00:00Z",
        "payload": {"from": "井上 <n-inoue@kawabe-denki.co.jp>", "subject": "資料請求",
                    "body": "ご担当者様\n\n川辺電機株式会社の井上です。\n"
                            "資料をお送りください。\n\n井上"}})
    assert lead["company"]["name"] == "川辺電機株式会社"
    assert "company_from_text" in lead["flags"]
