"""Company size where a note states several counts, abbreviates the staff word, rounds the
number in words, or where a size field's key is written in another language. Sentences and
keys are this file's own."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest.chat import parse_chat
from leadflow.tools.ingest.form import field_for_key, parse_fields
from leadflow.tools.prose import headcount_in_text


@pytest.mark.parametrize(("text", "size"), [
    # a team, then the whole company: the company is the largest count
    ("Vertrieb 14 Leute, Service 6, gesamt rund 420 Mitarbeiter.", 420),
    ("Our support desk is 12 people; the firm itself is about 900 employees.", 900),
    ("We have 40 staff in Leeds and 15 staff in York.", 40),
])
def test_the_largest_stated_count_is_the_company(text: str, size: int) -> None:
    assert headcount_in_text(text) == (size, None)


@pytest.mark.parametrize(("text", "size"), [
    ("Maschinenbauer aus Ulm, ca. 640 MA, zwei Standorte.", 640),
    ("Familienbetrieb mit 55 MA.", 55),
    ("Gruppo con circa 310 dip. in Lombardia.", 310),
    ("Startup, ~25 ppl, remote first.", 25),
])
def test_abbreviated_staff_words(text: str, size: int) -> None:
    assert headcount_in_text(text) == (size, None)


@pytest.mark.parametrize("text", [
    "Abbiamo provato 3 strumenti ma nessuno funziona.",  # Italian "ma" is "but"
    "Office: 77 Summer Street, Boston, MA 02110",
])
def test_a_lowercase_or_placed_ma_is_no_staff_word(text: str) -> None:
    assert headcount_in_text(text) == (None, None)


@pytest.mark.parametrize(("text", "size"), [
    ("We are a regional utility with a few thousand staff.", 3000),
    ("Nous sommes quelques centaines de collaborateurs.", 300),
    ("公司团队500余人，分布在三个城市。", 500),
    ("門市員工大概35個，分三家店。", 35),
    ("Kantor kami kecil, cuma 6 orang.", 6),
    ("Ajansımız 12 kişilik bir ekip.", 12),
    ("We're an outsourcing centre of roughly 750 agents.", 750),
    ("A boutique firm of 22 consultants.", 22),
])
def test_sizes_in_words_and_counters(text: str, size: int) -> None:
    assert headcount_in_text(text) == (size, None)


@pytest.mark.parametrize("key", [
    "Taille de l'entreprise", "taille_entreprise", "Tamaño de la empresa", "Porte da empresa",
    "Unternehmensgröße", "Dimensione aziendale", "Bedrijfsgrootte", "Jumlah Karyawan",
    "Ukuran Perusahaan", "Quy mô công ty", "Şirket büyüklüğü", "Wielkość firmy", "企業規模",
    "Yrityksen koko", "Number of consultants",
])
def test_size_field_keys_in_other_languages(key: str) -> None:
    assert field_for_key(key) == "employees"


def test_a_size_field_is_not_the_company_name() -> None:
    parsed = parse_fields({"Nom de l'entreprise": "Atelier Morel", "Taille de l'entreprise":
                           "50-99", "Email": "c.morel@ateliermorel.fr"})
    assert parsed["company"] == "Atelier Morel" and parsed["employees"] == "50-99"


def test_a_question_about_users_does_not_ask_the_company_size() -> None:
    parsed = parse_chat([
        {"role": "agent", "text": "How many people would use the dashboards?"},
        {"role": "visitor", "text": "about 35, mostly finance"},
        {"role": "visitor", "text": "I'm the controller at Brightwell Foods, we're 600 people"},
    ])
    assert parsed.get("employees") == "600"
