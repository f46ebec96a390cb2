"""Web forms whose field names are in Arabic, Cyrillic, Hebrew or Greek script: the keys
are read like any other language's, and where no key is known at all the values' shapes
still give the address, the number, the title and the company (issue 14, sixth blind round:
two such forms had been lost as 'no usable contact')."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest.form import field_for_key, parse_fields
from leadflow.tools.prose import has_legal_form
from leadflow.tools.standardize import seniority_of


@pytest.mark.parametrize(("key", "field"), [
    ("البريد الإلكتروني", "email"), ("رقم الهاتف", "phone"), ("اسم الشركة", "company"),
    ("المسمى الوظيفي", "title"), ("الاسم الكامل", "full_name"), ("ملاحظات", "inquiry"),
    ("Електронна пошта", "email"), ("Мобільний телефон", "phone"), ("Назва компанії", "company"),
    ("Посада", "title"), ("Прізвище", "last_name"), ("Сообщение", "inquiry"), ("Страна", "country"),
    ("Имя", "first_name"), ("Фамилия", "last_name"), ("Должность", "title"),
    ("שם משפחה", "last_name"), ("טלפון נייד", "phone"), ("שם החברה", "company"), ("תפקיד", "title"),
    ("Επώνυμο", "last_name"), ("Τηλέφωνο επικοινωνίας", "phone"), ("Εταιρεία", "company"),
])
def test_keys_in_other_scripts(key: str, field: str) -> None:
    assert field_for_key(key) == field


def test_a_form_in_cyrillic_reads_whole() -> None:
    parsed = parse_fields({
        "Ім'я та прізвище": "Олег Шевчук", "Електронна пошта": "o.shevchuk@lvivmlyn.com.ua",
        "Телефон": "067 301 22 45", "Компанія": "ТОВ «Львівський млин»",
        "Посада": "Комерційний директор",
        "Повідомлення": "Шукаємо систему для обробки заявок від дилерів, нас близько 120 людей.",
    })
    assert parsed["full_name"] == "Олег Шевчук"
    assert parsed["email"] == "o.shevchuk@lvivmlyn.com.ua"
    assert parsed["phone"] == "067 301 22 45"
    assert parsed["company"] == "ТОВ «Львівський млин»"
    assert parsed["title"] == "Комерційний директор"
    assert parsed["inquiry"].startswith("Шукаємо")


def test_keys_nobody_knows_still_give_the_contact_by_shape() -> None:
    """Keys in a script no table knows (Georgian here): the address, the number and a
    company with a legal form are recognised by what they look like."""
    parsed = parse_fields({
        "ელფოსტა": "nino@tbilisi-logistics.ge", "ტელეფონი": "+995 599 12 34 56",
        "კომპანია": "Tbilisi Logistics LLC",
        "შეტყობინება": "We would like a demo for our dispatch team next month, please.",
    })
    assert parsed["email"] == "nino@tbilisi-logistics.ge"
    assert parsed["phone"] == "+995 599 12 34 56"
    assert parsed["company"] == "Tbilisi Logistics LLC"
    assert parsed["inquiry"].startswith("We would like a demo")


def test_shapes_do_not_override_known_keys() -> None:
    """A form whose contact keys are known keeps them; an unknown column's short value is
    not taken for the company or the title."""
    parsed = parse_fields({"Email": "ana@ribeira.pt", "Referral": "Carlos Mendes, Director",
                           "Message": "Pricing for five users, please."})
    assert parsed["email"] == "ana@ribeira.pt"
    assert "title" not in parsed and "company" not in parsed


@pytest.mark.parametrize(("title", "seniority"), [
    ("Генеральний директор", "c_level"), ("Генеральный директор", "c_level"),
    ("Керівник відділу продажів", "director"), ("Руководитель отдела маркетинга", "director"),
    ("Менеджер з закупівель", "manager"), ("Аналитик данных", "individual_contributor"),
    ("الرئيس التنفيذي", "c_level"), ("مدير التسويق", "manager"),
    ("مهندس برمجيات", "individual_contributor"), ("Διευθυντής Πωλήσεων", "director"),
])
def test_titles_in_other_scripts(title: str, seniority: str) -> None:
    assert seniority_of(title) == seniority


@pytest.mark.parametrize("name", [
    "ТОВ «Дніпро Агро»", "ООО Северный ветер", "شركة النخيل للتجارة", "Kuzey Tekstil A.Ş.",
    "上海星辰科技有限公司", "주식회사 한빛소프트",
])
def test_legal_forms_in_other_scripts(name: str) -> None:
    assert has_legal_form(name)
