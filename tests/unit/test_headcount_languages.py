"""Company size stated in more languages and in CJK order (number, counter, then the staff
word). Sentences are this file's own."""

from __future__ import annotations

import pytest

from leadflow.tools.prose import headcount_in_text


@pytest.mark.parametrize(("text", "size"), [
    ("Şirketimizde yaklaşık 340 çalışan var.", 340),
    ("Kami punya sekitar 120 karyawan di tiga kota.", 120),
    ("Công ty có khoảng 75 nhân viên.", 75),
    ("Yrityksessämme on noin 45 työntekijää.", 45),
    ("我们目前约有650名员工。", 650),
    ("当社は約90名の社員で運営しています。", 90),
    ("저희는 230명의 직원이 있습니다.", 230),
])
def test_size_in_more_languages(text: str, size: int) -> None:
    assert headcount_in_text(text) == (size, None)


def test_a_count_of_something_else_is_no_size() -> None:
    assert headcount_in_text("我们每月收到约5000条询价。") == (None, None)
