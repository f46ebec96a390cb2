"""BANT read as a seller reads (issue 14 item 4): negation stays in its clause, non-buyers
score low on every criterion, a writer deciding in the first person, a contract running out,
and dates written in digits, as "mid-month", as a season's deadline. The sentences are
written for these tests."""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.agents.dates_in_text import contract_ending, dated_mentions
from leadflow.agents.purchase_date import buying_date
from leadflow.agents.sentences import affirmed, negated
from leadflow.config import icp
from tests.unit.test_qualification import make_lead, scored

RULES = icp()
TIMELINE = RULES.bant["timeline"]
NOV_24 = date(2026, 11, 24)  # make_lead's arrival day


def months(text: str, country: str | None = None) -> list[float]:
    return sorted(round(delta, 1) for delta, _ in dated_mentions(text, NOV_24, TIMELINE,
                                                                  country))


# ------------------------------------------------------------ negation scoped to its clause
@pytest.mark.parametrize("text", [
    "We have no CRM, budget approved for the rollout.",
    "No. Budget approved for the rollout.",
    "Nothing is live yet; budget approved for the rollout.",
])
def test_a_negation_does_not_reach_into_the_next_clause(text: str) -> None:
    assert affirmed(text, ("budget approved",)) is not None
    assert scored(make_lead(text), text)["budget"]["band"] == "clear_budget"


def test_a_negation_inside_a_budget_pattern_denies_it() -> None:
    text = "The budget has not been approved so far."
    assert negated(text, text.index("budget"), text.index("so far"))
    assert scored(make_lead(text, employees=120), text)["budget"]["band"] != "clear_budget"


def test_a_hard_wrapped_line_does_not_end_the_negation() -> None:
    text = "We do not have a\nbudget for this right now."
    assert negated(text, text.index("budget"))


# ------------------------------------------------------------ non-buyers on every criterion
@pytest.mark.parametrize(("title", "text"), [
    ("Account Executive", "We've helped 60 software firms double their demo rate. Would you be "
                          "open to a 20-minute call this week?"),
    (None, "I ordered a replacement part in October and it still hasn't arrived. I want a "
           "refund urgently."),
    ("Managing Partner", "We'd like to join your partner programme and resell it to our "
                         "clients from January."),
    ("Werkstudentin", "We need a reporting tool by March, the budget is approved."),
])
def test_a_non_buyer_scores_low_on_every_criterion(title: str | None, text: str) -> None:
    result = scored(make_lead(text, title=title, employees=800), text)
    assert result["tier"] == "unqualified"
    assert {name: result[name]["band"] for name in ("budget", "authority", "need", "timeline")} \
        == {"budget": "unlikely", "authority": "limited", "need": "unclear",
            "timeline": "unclear_or_distant"}


def test_a_company_saying_what_it_sells_is_not_a_vendor_pitch() -> None:
    text = ("We sell spare parts through 40 dealers and our order intake is a mess. Budget "
            "approved, we need a new system in January.")
    assert scored(make_lead(text, title="COO"), text)["authority"]["band"] \
        == "primary_decision_maker"


# ------------------------------------------------------------ deciding in the first person
@pytest.mark.parametrize(("title", "text"), [
    (None, "Wir suchen eine Lösung für unsere Angebotsanfragen. Ich entscheide das allein."),
    ("Gerente de Operaciones", "Buscamos ordenar los pedidos mayoristas y yo decido la compra."),
    (None, "On cherche un outil pour nos devis, et c'est moi qui décide."),
    (None, "見積依頼の管理を改善したいです。私が決裁します。"),
])
def test_a_writer_who_decides_is_the_primary_decision_maker(title: str | None,
                                                            text: str) -> None:
    assert scored(make_lead(text, title=title), text)["authority"]["band"] \
        == "primary_decision_maker"


def test_naming_another_decider_is_influence_not_decision() -> None:
    text = "I run the sales desk and I'm scoping tools; my VP decides on the purchase."
    band = scored(make_lead(text, title="Sales Manager"), text)["authority"]["band"]
    assert band in ("some_influence", "significant_influence")


def test_a_junior_claiming_to_sign_is_a_conflict_not_a_decider() -> None:
    text = "I sign off on all software here. We want a pilot in February."
    result = scored(make_lead(text, title="Junior Analyst"), text)
    assert result["authority"]["band"] == "limited"
    assert any(c.startswith("authority:") for c in result["conflicts"])


# ------------------------------------------------------------ a contract running out
def test_a_contract_ending_on_a_date_is_a_critical_need_with_a_timeline() -> None:
    text = ("Die Lizenz unseres alten Ticketsystems endet am 28.02.2027. Wir schauen uns "
            "Alternativen an.")
    assert contract_ending(text, NOV_24, RULES.bant["need"], TIMELINE, "DE")
    result = scored(make_lead(text), text)
    assert result["need"]["band"] == "critical"
    assert result["timeline"]["band"] == "within_3_months"


def test_a_contract_far_away_or_without_an_end_is_not_critical() -> None:
    need = RULES.bant["need"]
    assert not contract_ending("Our contract expires in 2029-06-30.", NOV_24, need, TIMELINE)
    assert not contract_ending("We signed a contract on 12.03.2027 for the new office.",
                               NOV_24, need, TIMELINE)


# ------------------------------------------------------------ dates in digits and "mid-month"
@pytest.mark.parametrize(("text", "country", "low", "high"), [
    ("Go-live bis 15.01.2027.", "DE", 1.6, 1.8),
    ("We need it running by 01/15/2027.", "US", 1.6, 1.8),
    ("Entrega el 15/01/2027.", "ES", 1.6, 1.8),
    ("Start 2027-01-15, if possible.", None, 1.6, 1.8),
    ("Eine Entscheidung bis Mitte Januar.", "DE", 1.6, 1.8),
    ("A decision by mid-January.", None, 1.6, 1.8),
    ("Queremos decidir a mediados de enero.", "MX", 1.6, 1.8),
])
def test_numeric_and_mid_month_dates_count_from_the_arrival(text: str, country: str | None,
                                                            low: float, high: float) -> None:
    assert any(low <= m <= high for m in months(text, country)), months(text, country)


@pytest.mark.parametrize("text", [
    "Event Date: 2026-12-03",
    "scanned_at: 2026-12-03 16:02",
    "Order placed 2026-11-02.",
])
def test_record_dates_and_past_dates_are_not_plans(text: str) -> None:
    assert months(text) == []


def test_a_season_as_a_deadline_is_its_start() -> None:
    by = months("Nous voulons que ce soit en place d'ici le printemps.")
    during = months("We want it in place this spring.")
    assert by and during and by[0] < during[0]
    assert 3.0 <= by[0] <= 3.5  # 1 March


@pytest.mark.parametrize("text", ["年明け早々に導入したいです。",
                                  "Chcemy uruchomić system w II kwartale.",
                                  "Start im 1. Quartal 2027."])
def test_dates_without_spaces_or_with_numbered_quarters_are_read(text: str) -> None:
    assert months(text)


def test_a_dated_step_beats_a_later_undated_plan() -> None:
    text = "Our new warehouse opens in June. Please send a proposal by 10 December."
    found = buying_date(text, NOV_24, TIMELINE)
    assert found is not None and found[0] < 3.5



@pytest.mark.parametrize("text", [
    "We'll look at it after Christmas.",
    "Wir melden uns nach Ostern wieder.",
    "Lo vemos después de Semana Santa.",
])
def test_a_date_after_after_is_a_floor_not_a_deadline(text: str) -> None:
    found = buying_date(text, NOV_24, TIMELINE)
    assert found is None or found[0] > 1.5  # never "buying now"


@pytest.mark.parametrize(("text", "expected"), [
    ("계약은 1월 중순까지 하고 싶습니다.", 1.7),          # Korean month by number
    ("Chúng tôi muốn triển khai vào tháng 2 năm 2027.", 2.7),  # Vietnamese "month 2"
    ("计划2027年第一季度上线。", 2.7),                     # a CJK quarter
    ("Kami ingin mulai bulan Maret.", 3.7),               # Indonesian month
    ("Beslut fattas innan mars.", 3.7),                   # Swedish context word
])
def test_months_and_quarters_in_more_writings(text: str, expected: float) -> None:
    assert expected in months(text)


def test_the_pronoun_i_before_may_is_no_date() -> None:
    assert months("i may need a quote later") == []
