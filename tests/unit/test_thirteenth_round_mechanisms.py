"""What the thirteenth blind round taught, as general mechanisms in sentences of their own:
a quarter written noun first with its number ('quý 1', 'triwulan II'), an export column
named by its question's number ('Q1 Purchase Role'), a budget approved or put in the plan in
languages the word lists did not hold yet, a budget only submitted for approval, a sign-off
above a long legal footer, a Polish client's attribution line, ranks in Hebrew and Chinese."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest import parse_email
from leadflow.tools.roles import role_in_text
from leadflow.tools.standardize import seniority_of
from tests.unit.test_qualification import make_lead, scored


@pytest.mark.parametrize(("message", "band"), [
    ("Mong muốn chạy thử trong quý 1 năm 2027.", "within_3_months"),
    ("Pelaksanaan paling cepat triwulan II.", "within_6_months"),
    ("Arranque previsto para el trimestre 1 de 2027.", "within_3_months"),
])
def test_a_quarter_written_noun_first(message: str, band: str) -> None:
    assert scored(make_lead(message))["timeline"]["band"] == band


def test_a_column_named_by_its_question_number_is_no_quarter() -> None:
    lead = make_lead("Q1 Purchase Role: Recommend\nQ2 Org Size: 1000-4999")
    assert scored(lead)["timeline"]["band"] == "unclear_or_distant"


@pytest.mark.parametrize("message", [
    "Proje bütçesi 2027 yatırım planında onaylanmış.",
    "Ngân sách đã có trong kế hoạch năm 2027, Hội đồng quản trị đã thông qua.",
    "Anggarannya sudah masuk APBD 2027 yang disahkan DPRD minggu lalu.",
    "لدينا منحة مخصصة للتحول الرقمي.",
    "התקציב אושר בדירקטוריון בשבוע שעבר.",
])
def test_a_budget_approved_or_in_the_plan_in_more_languages(message: str) -> None:
    assert scored(make_lead(message))["budget"]["band"] == "clear_budget"


def test_a_budget_only_submitted_for_approval_is_not_clear() -> None:
    lead = make_lead("相关预算已列入集团2027年度信息化预算并已报批。")
    assert scored(lead)["budget"]["band"] != "clear_budget"


def _mail(body: str, subject: str = "Anfrage") -> str:
    return (f"From: Henrik Vossberg <h.vossberg@kraeuter-boehm.de>\nTo: sales@leadflow.example\n"
            f"Subject: {subject}\n\n{body}\n")


def test_a_sign_off_above_a_long_legal_footer_still_opens_the_signature() -> None:
    footer = ("Diese E-Mail enthält vertrauliche Informationen. Wenn Sie nicht der richtige "
              "Adressat sind, informieren Sie bitte sofort den Absender und vernichten Sie "
              "diese E-Mail. Das unerlaubte Kopieren ist nicht gestattet.")
    parsed = parse_email(_mail(
        "Guten Tag,\n\nwir evaluieren Workflow-Tools für 2027.\n\nWith kind regards\n"
        "Mit freundlichen Grüßen\n\nDr. Henrik Vossberg\nLeiter Prozessmanagement & IT\n"
        "Kräuter & Böhm Logistik GmbH\nTel.: +49 (0) 421 96 38 52-110\n"
        "Mobil: +49 (0) 170 442 87 19\n\nGeschäftsführer: Matthias Böhm\n"
        f"{footer}\n{footer}\n{footer}"))
    assert parsed["title"] == "Leiter Prozessmanagement & IT"
    assert parsed["company"] == "Kräuter & Böhm Logistik GmbH"


def test_a_polish_clients_attribution_line_ends_the_writers_text() -> None:
    parsed = parse_email(_mail(
        "Dzień dobry,\n\nzarząd zatwierdził budżet.\n\nPozdrawiam serdecznie\nMarta Grabowska\n"
        "Kierowniczka Działu Operacji\nWrzesiński Systemy Sp. z o.o.\n\n"
        "W dniu wt., 17 lis 2026 o 08:06 Kaltera <sales@leadflow.example> napisał(a):\n"
        "> Dzień dobry Pani Marto,\n> dziękujemy za zainteresowanie.", "Re: Oferta"))
    assert parsed["title"] == "Kierowniczka Działu Operacji"
    assert "dziękujemy" not in parsed["inquiry"]


@pytest.mark.parametrize(("title", "seniority"), [
    ('סמנכ"לית רגולציה ואיכות', "vp"),       # Hebrew: deputy CEO, a VP
    ('מנכ"ל', "c_level"),
    ("מנהלת מערכות מידע", "manager"),
    ("רכזת מערכות מידע", "individual_contributor"),
    ("信息中心主任", "director"),               # the head of a centre; 主任 alone is a junior
    ("主任", "individual_contributor"),          # rank in Japan, so it is not read as a head
])
def test_ranks_in_more_scripts(title: str, seniority: str) -> None:
    assert seniority_of(title) == seniority


@pytest.mark.parametrize(("text", "seniority"), [
    # Vietnamese: a pronoun, "là", the name, then the role before the employer
    ("chào em. anh là Tùng, trưởng phòng IT bên Cty TNHH Bao Bì Minh Khang", "manager"),
    ("tôi là giám đốc tại Công ty ABC", "director"),
    # Chinese with or without 的 before the title
    ("你好，我是宏冠精密工業的資訊部副理，敝姓陳。", "manager"),
    ("我是百兴医疗集团信息中心主任王磊。", "director"),
    # Turkish "I am" as a suffix on the title
    ("merhaba, ben Nehir Tekstil'de e-ticaret operasyon koordinatörüyüm.",
     "individual_contributor"),
    ("Satın alma müdürüyüm.", "manager"),
    ("Şirketin kurucusuyum ve karar veriyorum.", "c_level"),
    # owning what they name, whatever the trade
    ("Boa noite! Sou dona de uma confeitaria com 3 lojas em BH.", "c_level"),
    # responsible for a function
    ("Dag, ik ben verantwoordelijk voor de planning bij Vandenbroucke Logistics.", "manager"),
])
def test_a_role_said_in_the_writers_own_grammar(text: str, seniority: str) -> None:
    role = role_in_text(text)
    assert role is not None and seniority_of(role) == seniority


@pytest.mark.parametrize("text", [
    "Anh là người mua hàng cho gia đình.",      # "I'm the buyer for my family": no rank
    "Merhaba, ismim Ayşe, fiyat öğrenmek istiyorum.",
    "Bugün müzeyi ziyaret ettim.",
    "Sou cliente de vocês há dois anos.",
])
def test_no_role_where_none_is_said(text: str) -> None:
    assert role_in_text(text) is None


@pytest.mark.parametrize("message", [
    "All new system purchases are on hold until the integration plan is done.",
    "We are under a spending freeze until the merger closes.",
    "Aktuell gilt bei uns ein Investitionsstopp.",
])
def test_purchases_on_hold_are_no_budget_and_no_date(message: str) -> None:
    bant = scored(make_lead(message))
    assert bant["budget"]["band"] == "unlikely"
    assert bant["timeline"]["band"] == "unclear_or_distant"


@pytest.mark.parametrize("message", [
    # idioms that are no refusal and no student: the purchase goes on
    "Safety is a value, not a priority. We need the offline app replaced before the June "
    "contract end.",
    "The two directors make the call but I do the homework on the tools.",
])
def test_idioms_are_no_refusal_and_no_student(message: str) -> None:
    assert scored(make_lead(message))["need"]["band"] != "unclear"


@pytest.mark.parametrize("message", [
    "Thanks, but this is not a priority for us right now.",
    "I need it for my homework, can I get a free account?",
])
def test_the_refusal_and_the_student_are_still_read(message: str) -> None:
    assert scored(make_lead(message))["need"]["band"] == "unclear"


def test_a_size_stated_as_an_open_range_counts_for_the_budget() -> None:
    lead = make_lead("Looking at workflow tools.", employees=None, segment="enterprise")
    budget = scored(lead)["budget"]
    assert budget["band"] == "likely_from_size"
    assert budget["evidence"] == "company size: enterprise by the size range stated"


@pytest.mark.parametrize("message", [
    "Nothing funded yet, this would feed into FY28 planning.",
    "For context, this is not funded in the current fiscal year.",
])
def test_nothing_funded_is_no_budget(message: str) -> None:
    assert scored(make_lead(message))["budget"]["band"] == "unlikely"


def test_the_asset_a_download_form_names_is_the_campaign_not_the_inquiry() -> None:
    from leadflow.tools.ingest import parse_fields

    parsed = parse_fields({"FirstName": "Priya", "Email": "priya@tamarackbuild.ca",
                           "Asset_Downloaded__c": "Guide: 7 approval workflows every "
                                                  "multi-location retailer should automate"})
    assert parsed["campaign"].startswith("Guide: 7 approval workflows")
    assert "inquiry" not in parsed


def test_how_many_would_use_it_is_no_company_size() -> None:
    from leadflow.tools.ingest.chat import parse_chat

    parsed = parse_chat([
        {"role": "visitor", "text": "Sou coordenadora da qualidade num laboratório, somos umas "
                                    "370 pessoas."},
        {"role": "agent", "text": "Entendi. Quantas pessoas usariam?"},
        {"role": "visitor", "text": "umas 40 no começo."},
        {"role": "visitor", "text": "fernanda.lopes@laboratorio-campo-claro.com.br"},
    ])
    assert parsed.get("employees") != "umas 40 no começo."


@pytest.mark.parametrize(("text", "count"), [
    ("je gère une petite boutique de déco en ligne (on est 25)", 25),
    ("nous sommes en 2026 et on cherche un outil", None),   # a year, never a headcount
    ("wir sind 2019 gegründet worden", None),
    ("somos 2.000 personas en tres países", 2000),
])
def test_we_are_n_is_a_headcount_but_never_a_year(text: str, count: int | None) -> None:
    from leadflow.tools.prose import headcount_in_text

    assert headcount_in_text(text)[0] == count


@pytest.mark.parametrize(("message", "band"), [
    ("Quiere cerrar el proveedor antes del 20/12.", "buying_now"),
    ("We have to pick a vendor before 31/01, the old contract ends then.", "within_3_months"),
])
def test_a_day_and_month_after_a_deadline_word(message: str, band: str) -> None:
    assert scored(make_lead(message))["timeline"]["band"] == band


@pytest.mark.parametrize("message", [
    "We run support 24/7 across three sites.",
    "Follow-up: Email in Jan\nInterested in the analytics add-on.",
])
def test_no_date_in_a_ratio_or_a_follow_up_note(message: str) -> None:
    assert scored(make_lead(message))["timeline"]["band"] == "unclear_or_distant"
