"""A buyer naming the tools they work with today describes a job to improve (clear
improvement), in any language; an idle question without one stays a nice-to-have. The
sentences are this file's own."""

from __future__ import annotations

import pytest

from tests.unit.test_qualification import make_lead, scored


@pytest.mark.parametrize("text", [
    "Our six sales people keep every enquiry in their own Excel file and share them weekly.",
    "Hoy los pedidos de cotización llegan por WhatsApp y se quedan sin respuesta varios días.",
    "目前客户询价都在企业微信里手工转发，效率不高。",
    "Vi sköter alla förfrågningar i ett kalkylark och det blir rörigt när vi växer.",
])
def test_a_tool_used_today_makes_the_need_concrete(text: str) -> None:
    assert scored(make_lead(text), text)["need"]["band"] == "clear_improvement"


def test_without_a_tool_or_a_project_it_stays_an_interest() -> None:
    text = "Hello, I came across your website and would be curious what your product costs."
    assert scored(make_lead(text), text)["need"]["band"] in ("nice_to_have", "unclear")


@pytest.mark.parametrize("text", [
    "Her hafta fuardan gelen talepleri kaybediyoruz, kimse takip etmiyor.",
    "Kami kehilangan banyak calon pelanggan karena respons yang lambat.",
    "询价经常漏掉，客户就流失了。",
    "Vi tappar förfrågningar varje vecka eftersom ingen svarar i tid.",
])
def test_losing_business_is_critical_in_more_languages(text: str) -> None:
    assert scored(make_lead(text), text)["need"]["band"] == "critical"
