"""Capture reads fields from structure when the words for them are missing or misleading
(issue 14): numbered form columns, an event's title column, a chat agent addressing the
visitor by name, a Korean registration row, a size bucket a stated count settles."""

from __future__ import annotations

import pytest

from leadflow.agents.capture import extract_lead
from leadflow.tools import names, prose
from leadflow.tools import standardize as std
from leadflow.tools.ingest import parse_chat, parse_fields
from leadflow.tools.ingest.shapes import is_numbered_key


def form(payload: dict[str, str], source: str = "web_form") -> dict[str, object]:
    return extract_lead({"id": "T-1", "source": source, "received_at": "2026-01-05T10:00:00Z",
                         "payload": payload})


def test_numbered_form_columns_are_read_by_the_shape_of_their_values() -> None:
    lead = form({"input_4.3": "Maeve", "input_4.6": "Donnelly",
                 "input_5": "maeve.donnelly@brackenmoor.co.uk", "input_6": "Brackenmoor Analytics",
                 "input_7": "020 7946 0321", "input_8": "Head of Customer Insight",
                 "input_9": "51-200", "input_10": "https://brackenmoor.co.uk/blog/post",
                 "input_11": "We would like to see routing by territory before the summer."})
    contact, company = lead["contact"], lead["company"]
    assert (contact["first_name"], contact["last_name"]) == ("Maeve", "Donnelly")
    assert contact["email"] == "maeve.donnelly@brackenmoor.co.uk"
    assert contact["phone"] == "+442079460321"
    assert contact["seniority"] == "director"
    assert company["name"] == "Brackenmoor Analytics"
    assert "routing by territory" in lead["inquiry"]


def test_a_numbered_pair_the_address_does_not_spell_is_no_name() -> None:
    parsed = parse_fields({"field_3.3": "Leeds", "field_3.6": "Yorkshire",
                           "field_4": "ops@northgate-freight.com"})
    assert "first_name" not in parsed and "last_name" not in parsed


@pytest.mark.parametrize(("key", "numbered"), [
    ("input_1.3", True), ("entry.20394", True), ("field_12", True), ("q7", True),
    ("Company size", False), ("gform_submit", False), ("is_submit_3", False)])
def test_numbered_keys(key: str, numbered: bool) -> None:
    norm = key.lower().replace(".", "_").replace(" ", "_")
    assert is_numbered_key(norm) is numbered


def test_a_date_in_a_numbered_column_is_no_phone() -> None:
    assert "phone" not in parse_fields({"input_2": "2026-03-14", "input_3": "a@b-corp.com"})


def test_an_event_title_column_is_the_campaign_not_the_job_title() -> None:
    parsed = parse_fields({"Event Title": "Supply Chain Summit Rotterdam", "First Name": "Pim",
                           "Email": "pim@havenlog.nl", "Title": "Logistics Manager"})
    assert parsed["title"] == "Logistics Manager"
    assert parsed["campaign"] == "Supply Chain Summit Rotterdam"


def test_of_two_title_columns_the_one_with_a_rank_wins() -> None:
    parsed = parse_fields({"Headline": "Helping dental practices grow", "Email": "x@y-dental.com",
                           "Job title": "Operations Director"})
    assert parsed["title"] == "Operations Director"


def test_a_korean_registration_row() -> None:
    lead = form({"행사명": "데이터 영업 포럼", "이름": "최서연",
                 "이메일": "seoyeon.choi@daon-medical.co.kr", "휴대폰": "010-3321-7788",
                 "회사명": "다온메디컬", "부서/직책": "마케팅팀 / 부장",
                 "설문: 회사 규모": "100~199명"}, source="event")
    contact, company = lead["contact"], lead["company"]
    assert (contact["first_name"], contact["last_name"]) == ("서연", "최")
    assert contact["phone"] == "+821033217788"
    assert contact["seniority"] == "director"
    assert company["name"] == "다온메디컬"
    assert company["segment"] == "smb"


@pytest.mark.parametrize(("full", "first", "last"), [
    ("최서연", "서연", "최"), ("남궁민수", "민수", "남궁"), ("이 도윤", "도윤", "이")])
def test_korean_names_put_the_family_name_first(full: str, first: str, last: str) -> None:
    assert names.split_name(full) == (first, last)


@pytest.mark.parametrize(("title", "seniority"), [
    ("Chief of Staff to the President", "director"),
    ("Dean of Graduate Admissions", "director"),
    ("Bereichsleitung Einkauf", "director"),
    ("Leitung Kundenservice", "director"),
    ("영업본부 / 과장", "manager"),
    ("Vice-présidente Finances", "vp"),
])
def test_ranks_from_more_title_forms(title: str, seniority: str) -> None:
    assert std.seniority_of(title) == seniority


@pytest.mark.parametrize(("value", "count"), [
    ("Just me", 1), ("nur ich", 1), ("solo yo", 1), ("Myself", 1), ("one-person business", 1)])
def test_a_size_field_answered_with_the_writer_alone(value: str, count: int) -> None:
    assert prose.headcount_in_value(value) == (count, None)


@pytest.mark.parametrize("value", ["ja", "yes", "n/a"])
def test_other_short_size_answers_are_not_a_headcount(value: str) -> None:
    assert prose.headcount_in_value(value) == (None, None)


@pytest.mark.parametrize(("text", "count"), [
    ("we're a print shop, about 25 of us in two sites", 25),
    ("somos unos 140 entre oficina y planta", 140),
    ("nous sommes 60 au total", 60),
    ("insomma siamo in 18 in ufficio", 18),
])
def test_first_person_counts_are_headcounts(text: str, count: int) -> None:
    assert prose.headcount_in_text(text) == (count, None)


def test_a_bucket_across_a_segment_line_is_settled_by_a_count_inside_it() -> None:
    inside = form({"Email": "kim@orchardvale.org", "Company": "Orchard Vale Care",
                   "Company size": "51-200", "Message": "We have roughly 150 staff in 5 homes."})
    assert inside["company"]["segment"] == "smb"
    outside = form({"Email": "kim@orchardvale.org", "Company": "Orchard Vale Care",
                    "Company size": "51-200", "Message": "We have roughly 900 staff overall."})
    assert outside["company"]["segment"] == "unknown"


def chat(*turns: tuple[str, str]) -> list[dict[str, str]]:
    return [{"role": role, "text": text} for role, text in turns]


def test_the_agent_addressing_the_visitor_names_them() -> None:
    parsed = parse_chat(chat(("visitor", "pricing for 12 seats?"),
                             ("agent", "Sure! Can I have your email?"),
                             ("visitor", "helena.moreau@vireo-labs.fr"),
                             ("agent", "Merci, Héléna ! Je vous écris demain.")))
    assert parsed.get("first_name") == "Héléna"


def test_an_initial_address_and_a_greeting_name_the_visitor() -> None:
    parsed = parse_chat(chat(("visitor", "dkowalczyk@amberline.pl"),
                             ("agent", "Hello Dorota, Piotr here. What do you need?")))
    assert parsed.get("first_name") == "Dorota"


def test_the_agents_own_name_is_never_the_visitors() -> None:
    parsed = parse_chat(chat(("visitor", "pablo@terraza-hoteles.es"),
                             ("agent", "Hola, Pablo here from sales!")))
    assert "first_name" not in parsed


def test_an_inflected_vocative_keeps_the_name_the_address_spells() -> None:
    parsed = parse_chat(chat(("visitor", "marek.zielinski@kodowo.pl"),
                             ("agent", "Dziękuję, Panie Marku!")))  # no: Marku is not marek+
    assert "first_name" not in parsed
    parsed = parse_chat(chat(("visitor", "tomasz.wrobel@kodowo.pl"),
                             ("agent", "Dziękuję, Panie Tomaszu!")))
    assert parsed.get("first_name") == "Tomasz"


def test_a_sentence_answering_a_name_question_is_no_name() -> None:
    parsed = parse_chat(chat(("agent", "Nazywam się Ola. Jak masz na imię?"),
                             ("visitor", "Prowadzimy sklep internetowy z meblami od 2015"),
                             ("visitor", "anna.nowak@meblosfera.pl")))
    assert "full_name" not in parsed


@pytest.mark.parametrize(("domain", "country"), [
    ("vinosdelvalle.com.co", "CO"), ("lumen.org.co", "CO"), ("lumen.co", None),
    ("brightpath.io", None), ("acme.co.uk", "GB")])
def test_a_vanity_cctld_is_national_under_its_registry_second_level(domain: str,
                                                                   country: str | None) -> None:
    assert std.country_of_domain(domain) == country


@pytest.mark.parametrize(("key", "field"), [
    ("Teléfono de la oficina", "phone"), ("País de residencia", "country"),
    ("form_fields[prenom]", "first_name"), ("q4_fullName[last]", "last_name"),
    ("fields[fonction]", "title"), ("Établissement scolaire", "company"),
    ("returnURL", None), ("referer_title", None), ("Nome evento", "campaign")])
def test_form_keys_in_more_shapes(key: str, field: str | None) -> None:
    from leadflow.tools.ingest.form import field_for_key
    assert field_for_key(key) == field


@pytest.mark.parametrize(("full", "first", "last"), [
    ("K. (Koen) Visser", "Koen", "Visser"),
    ("A.M. (Anne-Marie) van Dijk", "Anne-Marie", "van Dijk")])
def test_initials_with_the_given_name_in_brackets(full: str, first: str, last: str) -> None:
    assert names.split_name(full) == (first, last)


@pytest.mark.parametrize(("text", "role"), [
    ("we zijn met z'n vijven: ik (directeur), drie monteurs en een planner", "directeur"),
    ("ik ben de eigenaar maar ik heb weinig tijd", "eigenaar"),
    ("saya Marketing Manager, butuh demo segera", "Marketing Manager"),
    ("I spoke with my boss (CFO) about it", None),
])
def test_roles_in_more_grammar(text: str, role: str | None) -> None:
    assert prose.role_in_text(text) == role


def test_a_mail_apps_footer_does_not_hide_the_signature() -> None:
    from leadflow.tools.ingest import parse_email
    parsed = parse_email({"from": "Ines <ines.duarte@porto-moveis.pt>", "subject": "orçamento",
                          "body": "Podem ligar-me hoje?\n\nInes\n\nInes Duarte | Gerente de Loja | "
                                  "Porto Móveis\n+351 912 345 678\n\nEnviado do meu iPhone"})
    assert parsed["title"] == "Gerente de Loja"
    assert parsed["phone"].endswith("912 345 678")
