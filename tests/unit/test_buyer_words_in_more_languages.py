"""Budgets, needs and lost business as more languages write them (issue 14, sixth blind
round): Swedish, Romanian, Turkish, Arabic, Chinese, Polish, Czech, Russian, Ukrainian,
Indonesian, Korean, Japanese and Vietnamese leads read like the languages already covered."""

from __future__ import annotations

import pytest

from leadflow.agents.qualification import propose_rules
from leadflow.config import icp

RULES = icp()
LEAD = {"contact": {"title": "Manager", "seniority": "manager"},
        "company": {"name": "Nordwind", "employees": 300}}


@pytest.mark.parametrize("text", [
    "Vi har avsatt medel för ett nytt CRM-verktyg nästa år.",
    "Am alocat un buget de 20.000 EUR pentru acest proiect.",
    "Bu proje için bütçe ayırdık, yaklaşık 400 bin TL.",
    "لقد خصصنا ميزانية لهذا المشروع هذا العام",
    "今年的预算已经批下来了，大约三十万。",
    "Mamy budżet na wdrożenie w przyszłym roku.",
    "Бюджет утвержден на следующий год.",
    "Anggaran sudah disetujui oleh direksi.",
    "올해 예산 확보는 끝났습니다.",
])
def test_a_budget_set_aside(text: str) -> None:
    assert propose_rules(LEAD, text, RULES).budget.band == "clear_budget"


@pytest.mark.parametrize("text", [
    "Căutăm o soluție pentru distribuirea cererilor de ofertă.",
    "Bayi taleplerini takip etmek için bir sistem arıyoruz.",
    "نبحث عن منصة لتوزيع الطلبات على فريق المبيعات",
    "Szukamy narzędzia do obsługi zapytań od dealerów.",
    "Шукаємо систему для обробки заявок від клієнтів.",
    "Kami mencari sistem untuk mengelola prospek dari pameran.",
])
def test_a_stated_need(text: str) -> None:
    assert propose_rules(LEAD, text, RULES).need.band == "clear_improvement"


@pytest.mark.parametrize("text", [
    "Pierdem comenzi pentru că ofertele pleacă prea târziu.",
    "我们经常漏单，客户询价没人跟进。",
    "Мы теряем клиентов из-за медленных ответов.",
])
def test_losing_business(text: str) -> None:
    assert propose_rules(LEAD, text, RULES).need.band == "critical"


@pytest.mark.parametrize("text", [
    "We build a data-sync tool and would like to discuss a technology partnership with you.",
    "Could we get a listing in your marketplace for our connector?",
    "I cover this market at a research firm and would like a vendor briefing for our report.",
    "Interesuje nas program partnerski dla integratorów w Polsce.",
    "Хотим стать партнером и продавать вашу систему в Казахстане.",
    "Kami ingin menjadi mitra resmi di Indonesia.",
])
def test_partners_and_analysts_are_not_buying(text: str) -> None:
    proposal = propose_rules(LEAD, text, RULES)
    assert proposal.need.band == "unclear" and proposal.authority.band == "limited", proposal
