"""Titles and seniority the fifth blind round showed we missed, as mechanisms: the form
field for "job title" in more languages, rank words whole families wide (founders, owner-
managers, Turkish, Vietnamese, Chinese, romanised Korean ranks, team leaders, functional
"partners"), a chat title answer that runs on into a sentence, a word asked about inside a
compound ("job-management") that asks nothing, a contact card whose title ends at a stop
before the address, and a business named by two trades ("a roofing and guttering firm")."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest import parse_chat
from leadflow.tools.ingest.chat import _asked_fields
from leadflow.tools.ingest.form import field_for_key, parse_fields
from leadflow.tools.prose import role_in_text
from leadflow.tools.standardize import seniority_of


@pytest.mark.parametrize("key", [
    "Berufsbezeichnung", "Stellenbezeichnung", "Jobtitel", "Roll", "Rolle im Unternehmen",
    "Stilling", "Jabatan", "Posisi", "Chức vụ", "Unvan",
])
def test_job_title_form_keys_in_many_languages(key: str) -> None:
    assert field_for_key(key) == "title"


def test_german_titel_is_an_academic_title_not_a_job() -> None:
    assert field_for_key("Titel") is None  # "Dr.", "Prof." on German forms


def test_a_form_with_a_german_job_title_key_gives_the_title() -> None:
    parsed = parse_fields({"Vorname": "Jonas", "Nachname": "Feld", "E-Mail": "j.feld@example.de",
                           "Berufsbezeichnung": "Leiterin Einkauf"})
    assert parsed.get("title") == "Leiterin Einkauf"


@pytest.mark.parametrize(("title", "rank"), [
    ("Fondatrice - Atelier Nord", "c_level"),
    ("Cofundador y CTO", "c_level"),
    ("Gründerin", "c_level"),
    ("Medeoprichter", "c_level"),
    ("Geschäftsführender Gesellschafter", "c_level"),
    ("Gesellschafterin", "c_level"),
    ("Dirigente Servizi Informativi", "director"),
    ("Müşteri Hizmetleri Müdürü", "manager"),
    ("Genel Müdür", "c_level"),
    ("Genel Müdür Yardımcısı", "vp"),
    ("Giám đốc Kinh doanh", "director"),
    ("Tổng giám đốc", "c_level"),
    ("Trưởng phòng Nhân sự", "manager"),
    ("采购中心 副主任", "director"),
    ("Executive Director (Jeonmu)", "vp"),
    ("Team Leader, Logistics Planning", "manager"),
    ("Senior Executive Officer, Planning", "manager"),
    ("Customer Success Partner", "individual_contributor"),
    ("Managing Partner", "c_level"),
    ("Video Producer", "individual_contributor"),
    ("Freelance Copywriter", "individual_contributor"),
])
def test_rank_words_across_languages(title: str, rank: str) -> None:
    assert seniority_of(title) == rank


def _chat(*turns: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "text": text} for role, text in turns]


def test_a_title_answer_ends_at_its_sentence() -> None:
    parsed = parse_chat(_chat(("bot", "Which role do you have there?"),
                              ("visitor", "Operations manager. I answer to the board, they sign")))
    assert parsed.get("title") == "Operations manager"


def test_an_abbreviation_inside_a_title_answer_stays() -> None:
    parsed = parse_chat(_chat(("bot", "And your job title?"), ("visitor", "Sr. Buyer")))
    assert parsed.get("title") == "Sr. Buyer"


@pytest.mark.parametrize("turn", [
    "Our job-management add-on might suit a crew like yours.",
    "The role-based views come with every plan.",
])
def test_a_word_inside_a_compound_asks_for_no_title(turn: str) -> None:
    assert "title" not in _asked_fields(turn)


def test_a_stray_reply_after_a_statement_is_no_title() -> None:
    parsed = parse_chat(_chat(("agent", "Honestly a simple job-management app may do for you."),
                              ("visitor", "fair enough. let me think"),
                              ("visitor", "kim@roofline-example.co.uk")))
    assert "title" not in parsed


def test_a_card_title_ends_at_the_stop_before_the_address() -> None:
    parsed = parse_chat(_chat(("agent", "Could I have your name and email?"),
                              ("visitor", "Wanjiru Kamau, Grants & Outreach Officer. "
                                          "w.kamau@example.org")))
    assert parsed.get("title") == "Grants & Outreach Officer"


@pytest.mark.parametrize(("text", "seniority"), [
    ("we're busy. I run a roofing and guttering business near Bristol, just me and two lads",
     "c_level"),
    ("Bonjour, je suis responsable achats dans un groupe hôtelier à Lille", "manager"),
    ("Tengo un estudio de arquitectura en Rosario, somos cuatro.", "c_level"),
    ("Olá, sou sócia da Padaria Estrela, aqui em Campinas.", "c_level"),
    ("I'm a video producer at Blue Fjord Films.", "individual_contributor"),
    ("Hi, I'm Lotte van der Berg, teamlead Customer Care bij Windveer.", "manager"),
])
def test_self_descriptions(text: str, seniority: str) -> None:
    said = role_in_text(text)
    assert said is not None and seniority_of(said) == seniority


def test_managing_a_function_for_a_company_is_not_running_the_business() -> None:
    assert role_in_text("I manage marketing for a company in Leeds.") == "Marketing Manager"


@pytest.mark.parametrize(("title", "rank"), [
    ("GM - Customer Service", "director"),
    ("General Manager of Logistics", "director"),
    ("General Manager", "c_level"),
    ("GM", "c_level"),
    ("General Manager, Harbour Inn Group", "c_level"),
    ("Founder & GM, Product", "c_level"),
])
def test_a_general_manager_of_a_function_is_director_level(title: str, rank: str) -> None:
    assert seniority_of(title) == rank


def test_a_title_answer_given_with_name_and_company_keeps_the_title() -> None:
    parsed = parse_chat(_chat(("bot", "Cho mình xin chức vụ của anh/chị nhé"),
                              ("visitor", "Trần Văn Bình, Giám đốc Kinh doanh, Công ty Hải Âu")))
    assert parsed.get("title") == "Giám đốc Kinh doanh"
