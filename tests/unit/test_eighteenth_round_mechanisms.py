"""What the eighteenth blind round taught, as general mechanisms: Thai months inside text
written without spaces and Thai money, Malay and Thai budget words, a span that is a length
or a time gone by ("para 24 meses", "3 months ago") rather than a time from now, a date
followed by a sentence that is no numbered question, a customer number with a dash, the
terms of a reseller or referral programme, a notification's "Label: value" lines read as the
form they report, and a Vietnamese writer who decides; from the nineteenth round: tools'
notification addresses, a label over its answer's line, and the person a shared mailbox
names to answer it, board members and a Spanish CEO, a refusal of a way of buying, sponsorship
and SEO pitches, a decision that will be the writer's, money set aside in the running
financial year, rand written "R1.2m", a private person with an urgent problem of their own,
and lines an e-mail client wrapped."""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.agents.budget_words import budget_stated
from leadflow.agents.buyer_signals import non_buyer_said
from leadflow.agents.dates_in_text import dated_mentions
from leadflow.agents.money import money_amounts, not_spend_words
from leadflow.agents.support_case import support_case
from leadflow.config import load_icp
from leadflow.tools.ingest import parse_email
from leadflow.tools.standardize import is_unattended_address
from tests.unit.test_qualification import make_lead, scored

ICP = load_icp()
TIMELINE = ICP.bant["timeline"]
ARRIVAL = date(2026, 11, 30)


def months_of(text: str, country: str | None = None) -> list[float]:
    return sorted(round(delta, 1) for delta, _ in dated_mentions(text, ARRIVAL, TIMELINE,
                                                                 country))


def test_thai_months_are_read_inside_text_written_without_spaces() -> None:
    # "TOR within December, the tender announced in January, live before the March intake"
    text = ("จึงขอใบเสนอราคาภายในเดือนธันวาคม คาดว่าจะประกาศประกวดราคาเดือนมกราคม "
            "และต้องใช้งานได้ก่อนรอบรับสมัครเดือนมีนาคม")
    assert months_of(text, "TH") == [0.5, 1.5, 3.5]


def test_latin_month_names_still_need_a_word_edge() -> None:
    assert months_of("i februari") == [2.5]
    assert months_of("the marching band") == []  # "march" inside a word is no month


@pytest.mark.parametrize(("text", "usd"), [
    ("งบประมาณประมาณ 1.2 ล้านบาท", 1.2e6 * 0.028),
    ("ไม่เกิน 3 แสนบาท", 3e5 * 0.028),
    ("งบ 500,000 บาท ต่อปี", 5e5 * 0.028),
])
def test_thai_money_in_baht_with_its_multiplier_words(text: str, usd: float) -> None:
    assert money_amounts(text, ICP, "TH") == [pytest.approx(usd)]


@pytest.mark.parametrize("text", [
    # Malay: "the managing director has approved an allocation of about RM40,000"
    "Pengarah Urusan sudah luluskan peruntukan lebih kurang RM40,000 untuk sistem ini.",
    # Thai: "a budget of about 1.2 million baht has been allocated"
    "ได้รับจัดสรรงบประมาณปี 2570 แล้ว ประมาณ 1.2 ล้านบาท",
])
def test_a_budget_stated_in_malay_and_thai(text: str) -> None:
    assert budget_stated(text, ICP.bant["budget"], not_spend_words(ICP)) is not None


@pytest.mark.parametrize("text", [
    "un presupuesto base de licitación de 96.000 € para 24 meses",  # the contract's length
    "we grew a lot over the last 6 months",
    "we bought our current tool 3 months ago",
    "lo compramos hace 3 meses",
    "abbiamo iniziato 3 mesi fa",
])
def test_a_span_that_is_a_length_or_time_gone_by_is_no_date_ahead(text: str) -> None:
    assert months_of(text, "ES") == []


def test_a_span_from_now_still_counts() -> None:
    assert months_of("we want it live in 3 months") == [3.0]
    assert months_of("Timeline: 3 months") == [3.0]


def test_a_date_before_the_next_sentence_is_no_numbered_question() -> None:
    # "Q2. Timeframe: …" numbers a question; "enero de 2027. Inicio …" is an award date
    text = "Adjudicación prevista: enero de 2027. Inicio del servicio: 1 de marzo de 2027."
    assert months_of(text, "ES") == [1.5, 3.0]
    assert months_of("Q2. Timeframe: as soon as possible") == []


def test_a_customer_number_with_a_dash_makes_a_cancellation_a_support_case() -> None:
    text = ("hiermit kündigen wir unser LeadFlow-Abo (Kundennummer 10-4471) fristgerecht zum "
            "31.12.2026. Bitte bestätigen Sie die Kündigung schriftlich.")
    found = support_case(text, ICP.bant["authority"])
    assert found is not None and found.group(0) == "Kundennummer 10-4471"


@pytest.mark.parametrize("text", [
    "We would like to know your reseller / referral programme terms: margins and NFR licences.",
    "Do you run a referral or affiliate program for consultants?",
])
def test_the_terms_of_reselling_or_referring_us_are_no_purchase(text: str) -> None:
    assert non_buyer_said(text, ICP.bant["authority"]) is not None


def test_a_referral_programme_of_the_buyers_own_is_not_a_partner_pitch() -> None:
    assert non_buyer_said("We need routing for leads from our customer referral scheme.",
                          ICP.bant["authority"]) is None


_G2_DIGEST = """From: G2 Buyer Intent <noreply@notifications.g2-mail.example>
To: marketing-ops@leadflow.example
Subject: New Buyer Intent activity: Corvane Software
Content-Type: text/plain; charset=utf-8

G2 Buyer Intent - Daily Digest

Company: Corvane Software, Inc.
Employees: 1,001-5,000

Contact who requested info via G2 "Get a quote":
Name: Brianna Solis
Title: Manager, Marketing Operations
Email: bsolis@corvanesoftware.com
Message: "Evaluating routing tools ahead of our planning cycle."
"""


def test_a_notifications_label_lines_are_the_form_it_reports() -> None:
    fields = parse_email(_G2_DIGEST)
    assert fields["email"] == "bsolis@corvanesoftware.com"
    assert fields["full_name"] == "Brianna Solis"
    assert fields["title"] == "Manager, Marketing Operations"
    assert fields["company"] == "Corvane Software, Inc."


def test_a_persons_own_mail_is_not_read_as_a_form() -> None:
    # the same lines from a person's own address: the signature and the From header speak
    mail = _G2_DIGEST.replace("G2 Buyer Intent <noreply@notifications.g2-mail.example>",
                              "Tom Reyes <tom.reyes@corvanesoftware.com>")
    fields = parse_email(mail)
    assert fields["email"] == "tom.reyes@corvanesoftware.com"
    assert fields.get("full_name") == "Tom Reyes"
    assert fields.get("title") != "Manager, Marketing Operations"


def test_a_vietnamese_writer_who_decides_is_the_primary_decision_maker() -> None:
    # "I am the final decision maker together with the General Director"
    lead = make_lead("Tôi là người quyết định cuối cùng cùng với Tổng Giám đốc.",
                     title="Giám đốc Kinh doanh")
    assert scored(lead)["authority"]["band"] == "primary_decision_maker"


def test_a_thai_budget_approved_in_a_month_to_come_is_not_there_yet() -> None:
    # "still gathering information, must present to the executives first; next year's
    # budget will be approved around January"
    lead = make_lead("ตอนนี้ยังอยู่ในขั้นศึกษาข้อมูลค่ะ ต้องเสนอผู้บริหารก่อน "
                     "งบประมาณปีหน้าจะอนุมัติประมาณเดือนมกราคม", title="Export Sales Manager",
                     country="TH")
    assert scored(lead)["budget"]["band"] == "unclear_possible"


def test_a_writer_who_takes_it_to_the_director_influences_in_indonesian_too() -> None:
    # "how much per user per month? I'll then submit it to the director"
    lead = make_lead("Harga per user per bulan berapa ya? Nanti saya ajukan ke direktur",
                     title=None)
    assert scored(lead)["authority"]["band"] == "some_influence"


@pytest.mark.parametrize("sender", ["leads-noreply@linkedin.com", "notifications@calendly.com",
                                    "form.notifications@typeform.com", "no-reply@capterra.com"])
def test_a_tools_notification_address_is_nobodys(sender: str) -> None:
    assert is_unattended_address(sender)


@pytest.mark.parametrize("person", ["maria.alerta@acme.example", "no.reyes@acme.example",
                                    "sales@acme.example"])
def test_a_persons_or_a_teams_address_is_read(person: str) -> None:
    assert not is_unattended_address(person)


_CALENDLY = """From: Calendly <notifications@calendly.com>
To: demos@leadflow.example
Subject: New Event: Kylie Brennan - 30 Minute LeadFlow Demo
Content-Type: text/plain; charset=utf-8

A new event has been scheduled.

Invitee:
Kylie Brennan

Invitee Email:
kylie@gridlinesolar.com.au

Number of Employees:
How can we help?: Auto-assigning quote requests by postcode, about 30 enquiries a day.

First seen: 30 Nov 2026
"""


def test_a_label_over_its_answers_line_is_read_and_an_empty_one_left_empty() -> None:
    fields = parse_email(_CALENDLY)
    assert fields["email"] == "kylie@gridlinesolar.com.au"
    assert fields["full_name"] == "Kylie Brennan"
    assert "employees" not in fields  # "Number of Employees:" was left empty
    assert fields.get("first_name") is None  # "First seen" is a timestamp, not a name


_RFQ = """From: Procurement Department <procurement@almansouripartners.com.sa>
To: sales@leadflow.example
Subject: RFQ-2026-1184 Lead management platform
Content-Type: text/plain; charset=utf-8

Dear Sir/Madam,

Al-Mansouri & Partners is inviting qualified vendors to submit a quotation.

For technical clarifications please contact the requesting department directly:
Mr. Faisal Al-Qahtani, Business Development Manager
Email: f.alqahtani@almansouripartners.com.sa
Tel: +966 11 465 2210 Ext. 318

Best regards,
Procurement Department
Al-Mansouri & Partners
T: +966 11 465 2200
"""


def test_a_shared_mailbox_naming_a_person_to_answer_gives_that_person() -> None:
    fields = parse_email(_RFQ)
    assert fields["email"] == "f.alqahtani@almansouripartners.com.sa"
    assert fields["full_name"] == "Faisal Al-Qahtani"
    assert fields["title"] == "Business Development Manager"
    assert fields["phone"].replace(" ", "").startswith("+966114652210")


def test_a_shared_mailbox_naming_nobody_stays_the_contact() -> None:
    body = _RFQ.replace("Mr. Faisal Al-Qahtani, Business Development Manager\n", "").replace(
        "Email: f.alqahtani@almansouripartners.com.sa\n", "")
    assert parse_email(body)["email"] == "procurement@almansouripartners.com.sa"


def test_a_person_named_in_a_sentence_before_the_address() -> None:
    mail = ("From: Contratación Ayuntamiento de Villanueva <contratacion@villanueva.example.es>\n"
            "To: ventas@leadflow.example\nSubject: Licitación 2026/0143\n\n"
            "Para consultas técnicas pueden dirigirse a D.ª Marta Ruiz Olmedo, Jefa del Servicio "
            "de Promoción Económica (mruiz@villanueva.example.es, 925 33 41 07 ext. 212).\n")
    fields = parse_email(mail)
    assert fields["email"] == "mruiz@villanueva.example.es"
    assert fields["full_name"] == "Marta Ruiz Olmedo"
    assert fields["title"] == "Jefa del Servicio de Promoción Económica"


@pytest.mark.parametrize("title", ["Member of the Executive Board", "Consejero Delegado",
                                   "Mitglied des Vorstands", "Board Member"])
def test_members_of_a_board_are_c_level(title: str) -> None:
    from leadflow.tools.standardize import seniority_of

    assert seniority_of(title) == "c_level"


def test_a_refusal_of_a_way_of_buying_is_no_refusal_to_buy() -> None:
    text = "Not interested in a long sales process - send me pricing and let's talk this week."
    assert non_buyer_said(text, ICP.bant["authority"]) is None
    assert non_buyer_said("Thanks, but we're not interested.", ICP.bant["authority"]) is not None


@pytest.mark.parametrize("text", [
    "We'd love to have LeadFlow as a sponsor for Q1 episodes - packages start at $3,500.",
    "I noticed issues on your site. Shall I send you a free audit report?",
])
def test_sponsorship_and_seo_pitches_are_no_purchase(text: str) -> None:
    assert non_buyer_said(text, ICP.bant["authority"]) is not None


def test_a_decision_that_will_be_the_writers_own() -> None:
    lead = make_lead("A decisão final será minha, junto com o diretor de TI, até 18 de dezembro.",
                     title="Superintendente Comercial")
    assert scored(lead)["authority"]["band"] == "primary_decision_maker"


def test_money_set_aside_in_the_running_financial_year_is_there() -> None:
    lead = make_lead("We've set aside budget in this financial year for replacing our intake - "
                     "roughly £150k for year one - and I'd like a contract signed before "
                     "Christmas.", title="Head of Sales Operations")
    assert scored(lead)["budget"]["band"] == "clear_budget"


def test_a_budget_approved_in_a_month_to_come_still_waits() -> None:
    lead = make_lead("The budget of $80k must be approved by our board in February.",
                     title="Head of Sales Operations")
    assert scored(lead)["budget"]["band"] == "unclear_possible"


@pytest.mark.parametrize(("text", "usd"), [("The exco approved R1.2m for a platform", 66000.0),
                                           ("I can spend around R35 000 per month", 1925.0)])
def test_rand_written_with_a_bare_r(text: str, usd: float) -> None:
    assert money_amounts(text, ICP, "ZA") == [pytest.approx(usd)]


@pytest.mark.parametrize("text", ["the R2 release", "our R&D team", "R 500"])
def test_a_bare_r_without_thousands_or_a_multiplier_is_no_money(text: str) -> None:
    assert money_amounts(text, ICP, "ZA") == []


def test_a_private_person_with_an_urgent_problem_of_their_own_is_no_business_purchase() -> None:
    lead = make_lead("my phone died and i lost all my contacts, does your app get them back?? "
                     "please help asap", title=None, name=None, domain=None)
    bant = scored(lead)
    assert bant["need"]["band"] in ("nice_to_have", "unclear")
    assert bant["timeline"]["band"] == "unclear_or_distant"
    assert bant["tier"] == "unqualified"


def test_a_small_business_on_free_mail_is_no_private_person() -> None:
    # a size said: a business, whatever its address
    lead = make_lead("we lose half of our google ads leads, need something asap", title=None,
                     name=None, domain=None, employees=15)
    assert scored(lead)["timeline"]["band"] == "buying_now"


def test_lines_an_email_client_wrapped_are_read_as_one_sentence() -> None:
    from leadflow.agents.sentences import unwrapped

    text = ("I've put a budget of R450 000 into the board pack; the board sits on\n"
            "9 December and I expect it to be approved.\nKind regards\nThandiwe")
    joined = unwrapped(text)
    assert len(joined) == len(text)  # quotes keep their places
    assert "sits on 9 December" in joined and "approved.\nKind regards\nThandiwe" in joined
    lead = make_lead(text, title="Chief Financial Officer")
    lead["source"]["channel"] = "email"
    assert scored(lead)["budget"]["band"] == "unclear_possible"  # approval still to come
    # a form's fields, one per line, are never joined
    assert unwrapped("Message: we need routing\nyour-subject: Info", "web_form") == \
        "Message: we need routing\nyour-subject: Info"


@pytest.mark.parametrize(("text", "role"), [
    ("I own Karoo Solar Installations, 140 staff across the Cape.", "Owner"),
    ("I own the budget for this project.", None),
    ("I started Monday in the new team.", None),
])
def test_a_writer_owning_the_firm_they_name(text: str, role: str | None) -> None:
    from leadflow.tools.roles import role_in_text

    assert role_in_text(text) == role


def test_a_german_unsubscribe_is_no_purchase() -> None:
    text = "Bitte nehmen Sie mich aus Ihrem Verteiler. Ich habe mich nie dafür angemeldet."
    assert non_buyer_said(text, ICP.bant["authority"]) is not None
