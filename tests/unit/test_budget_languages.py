"""An approved budget said in more languages (Indonesian, Vietnamese, Turkish, Chinese,
Korean) and grant money as a budget. The sentences are this file's own."""

from __future__ import annotations

import pytest

from tests.unit.test_qualification import make_lead, scored


@pytest.mark.parametrize("text", [
    "Anggaran untuk sistem CRM sudah disetujui direksi, sekitar Rp 400 juta.",
    "Ngân sách cho dự án này đã được duyệt, khoảng 500 triệu đồng.",
    "Bu proje için bütçe onaylandı, yaklaşık 1,5 milyon TL.",
    "这个项目的预算已批准，大约五十万元。",
    "올해 예산 3천만 원이 확보되어 있습니다.",
    "The county grant includes about $25,000 for lead-management software.",
])
def test_a_budget_given_in_other_languages_is_clear(text: str) -> None:
    assert scored(make_lead(text), text)["budget"]["band"] == "clear_budget"
