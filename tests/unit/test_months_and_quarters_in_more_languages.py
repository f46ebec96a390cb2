"""Months and quarters as more languages write them (issue 14, sixth blind round): a month
name that is no other word is read alone, whatever preposition or case ending the language
puts around it ("i februari", "Ocak ayında", "в лютому"); ambiguous names still need a day
or a placing word ("may", "Mars", "August"); a quarter by an ordinal word in either order."""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.agents.dates_in_text import dated_matches
from leadflow.config import icp

TIMELINE = icp().bant["timeline"]
ARRIVAL = date(2026, 11, 20)


def months_away(text: str) -> list[float]:
    return [round(delta, 1) for delta, _ in dated_matches(text, ARRIVAL, TIMELINE, None)]


@pytest.mark.parametrize(("text", "months"), [
    ("Styrelsen fattar beslut i mars och vi vill starta i april.", None),  # ambiguous: none
    ("Vi vill komma igång i februari.", 2.9),
    ("Projeyi Şubat ayında başlatmayı planlıyoruz.", 2.9),
    ("Vrem să semnăm contractul în ianuarie.", 1.8),
    ("Rádi bychom začali v únoru.", 2.9),
    ("Плануємо запуск у березні.", 3.8),
    ("Решение примем в январе.", 1.8),
    ("نخطط للبدء في يناير", 1.8),
    ("Θέλουμε να ξεκινήσουμε τον Φεβρουάριο.", 2.9),
])
def test_a_month_name_that_is_no_other_word(text: str, months: float | None) -> None:
    assert months_away(text) == ([months] if months is not None else [])


@pytest.mark.parametrize("text", [
    "We may look again later.", "August Meyer will join the call.",
    "We met the Mars team last week.", "Our store Valley Mart opened in 2019.",
    "Nuestra marca crece en México.", "Nous sommes sept personnes.", "June Park will join.",
])
def test_ambiguous_names_alone_are_not_dates(text: str) -> None:
    assert months_away(text) == []


@pytest.mark.parametrize(("text", "months"), [
    ("Il rollout è previsto nel secondo trimestre.", 5.8),
    ("Målet är att vara igång under tredje kvartalet.", 8.8),
    ("Kami ingin mulai pada kuartal pertama 2027.", 2.9),
    ("نتوقع أن نبدأ في الربع الثاني", 5.8),
    ("Внедрение планируем в первом квартале.", 2.9),
    ("Wdrożenie planujemy w czwartym kwartale 2027.", 11.8),
])
def test_a_quarter_by_its_ordinal_in_either_order(text: str, months: float) -> None:
    assert months_away(text) == [months]


@pytest.mark.parametrize("text", [
    "Please call me after 1 December, I'm on holiday until then.",
    "Bitte rufen Sie mich ab dem 7. Dezember an, vorher bin ich im Urlaub.",
    "Pueden llamarme a partir del 10 de diciembre.",
    "Graag bellen na 3 december.",
])
def test_a_date_for_reaching_the_person_is_no_buying_date(text: str) -> None:
    from leadflow.agents.purchase_date import buying_date

    assert buying_date(text, ARRIVAL, TIMELINE) is None


def test_a_decision_date_in_the_same_message_still_counts() -> None:
    from leadflow.agents.purchase_date import buying_date

    text = "Call me after 1 December. We decide on the vendor by 15 January."
    found = buying_date(text, ARRIVAL, TIMELINE)
    assert found is not None and "15 January" in found[1]
