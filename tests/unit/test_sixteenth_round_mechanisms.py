"""What the sixteenth blind round taught, as general mechanisms in sentences of their own:
a signature that opens with the sender's name and no sign-off, Irish name particles, French
and German heads of a firm, sizes stated as "a team of", an away note that is no timeline or
need, the end of a quarter, seasons after an article, the first person approving an amount,
what the writer could pay, Hindi dates and money, Arabic money and self-descriptions, a city
after a firm's name and a comma, and a free-mail box that spells the firm; from the
seventeenth round: a director who says he does not decide, a card ready, owning the budget, a
customer cutting licences, owners and managers in Arabic, Thai, Malay, Hindi and Vietnamese,
Hinglish, Pidgin and Gulf Arabic buyers, a dinar by country and a Hindi closing."""

from __future__ import annotations

from datetime import date

import pytest

from leadflow.agents.budget_words import budget_denied
from leadflow.agents.capture import extract_lead
from leadflow.agents.dates_in_text import dated_mentions
from leadflow.agents.money import money_amounts
from leadflow.agents.sentences import SENTENCES, without_addresses
from leadflow.config import load_icp
from leadflow.tools.ingest import parse_email
from leadflow.tools.places import country_of_place
from leadflow.tools.prose import headcount_in_text
from leadflow.tools.roles import role_in_text
from leadflow.tools.standardize import seniority_of, standardize_title
from tests.unit.test_qualification import make_lead, scored

ICP = load_icp()
ARRIVAL = date(2026, 11, 16)

_REPLY = """From: =?UTF-8?Q?Aoife_N=C3=AD_Bhriain?= <aoife.nibhriain@castlebridgehi.ie>
To: Daniel Weber <daniel.weber@leadflow.example>
Subject: Re: Follow-up from Thursday's demo
Content-Type: text/plain; charset=UTF-8

Hi Daniel,

Good news - our exec committee signed off on Friday. Can you send the order form?

Thanks for your patience with all our questions!
Aoife

Aoife Ní Bhriain
Head of Distribution
Castlebridge Home Insurance DAC · 420 employees · Dublin 2
+353 1 555 8710

On Thu, 19 Nov 2026 at 16:40, Daniel Weber <daniel.weber@leadflow.example> wrote:
> Thanks again for the time today.

Castlebridge Home Insurance DAC is regulated by the Central Bank of Ireland. Registered in Ireland.
"""


def test_a_signature_opening_with_the_senders_name_is_read_without_a_sign_off() -> None:
    # no "Kind regards": the From header's name on a line of its own opens the block, and
    # the regulator's line under the quoted thread is no part of it
    fields = parse_email(_REPLY)
    assert fields.get("title") == "Head of Distribution"
    assert fields.get("company") == "Castlebridge Home Insurance DAC"
    assert fields.get("full_name") == "Aoife Ní Bhriain"


def test_a_name_below_the_title_keeps_the_title_above_it() -> None:
    # Japanese order: company, department and title, then the name: the block above the name
    message = ("From: =?utf-8?b?5p2+5pysIOeQhuaBtQ==?= <r.matsumoto@tenkuhospital.co.jp>\n"
               "Subject: ご相談\nContent-Type: text/plain; charset=UTF-8\n\n"
               "概算のお見積りと事例をいただけますでしょうか。\n\nよろしくお願いいたします。\n\n"
               "天空病院グループ 医療情報部 課長\n松本 理恵\nTEL: 092-555-0164\n")
    assert "課長" in (parse_email(message).get("title") or "")


def test_the_senders_name_inside_a_sentence_opens_no_signature() -> None:
    message = _REPLY.replace("Aoife Ní Bhriain\nHead of Distribution",
                             "Aoife Ní Bhriain will call you.\nHead of Distribution")
    assert parse_email(message).get("title") is None


@pytest.mark.parametrize(("title", "rank"), [
    ("Président", "c_level"), ("Présidente du conseil", "c_level"), ("GF", "c_level"),
    ("Vice-président ventes", "vp"), ("प्रमुख – एडमिशन", "director"), ("उपाध्यक्ष", "vp"),
    ("Associate Professor & HoD, Department of Commerce", "director"),
])
def test_heads_of_a_firm_in_more_languages(title: str, rank: str) -> None:
    assert seniority_of(standardize_title(title)) == rank


@pytest.mark.parametrize(("text", "size"), [
    ("Grüß Gott, wir sind ein Team von 45 (Installateure + 4 im Büro)", 45),
    ("on est une équipe de 30 à Lyon", 30),
    ("jesteśmy firmą z 40 osobami", 40),
    ("Notre équipe de 25 SDR francophones génère 40 rendez-vous", None),  # a team, not the firm
])
def test_a_team_of_n_is_the_firms_size_only_when_the_writer_is_the_team(
        text: str, size: int | None) -> None:
    assert headcount_in_text(text)[0] == size


def test_an_away_note_is_no_timeline_and_its_urgency_no_need() -> None:
    text = ("We will need a central way to manage loan enquiries after the merger. "
            "PS: I will be on annual leave from 24 Nov to 1 Dec. For anything urgent please "
            "reach my colleague Funmilayo.")
    blanked = without_addresses(text)
    assert "annual leave" not in blanked and "urgent" not in blanked
    assert len(blanked) == len(text)  # blanked in place: quotes keep their offsets
    result = scored(make_lead(text, title="Head of Digital Channels"))
    assert result["need"]["band"] != "critical"
    assert result["timeline"]["band"] == "unclear_or_distant"


@pytest.mark.parametrize(("text", "months"), [
    ("nothing can be committed before the merger closes, expected by end of Q1 2027", 4.5),
    ("Ende Q2 2027", 7.4),
    ("in Q1 2027", 3.0),                      # a quarter alone: its middle
    ("Entscheidung im ersten Quartal geplant", 3.0),   # "ersten" is no "Ende"
    ("a decision in the first quarter", 3.0),
    ("wäre eher ein Thema fürs Frühjahr", 4.9),
    ("« on en reparle au printemps »", 4.9),
    ("जनवरी से नया एडमिशन सीज़न शुरू होता है", 1.9),
])
def test_ends_of_quarters_seasons_after_an_article_and_hindi_months(
        text: str, months: float) -> None:
    found = dated_mentions(text, ARRIVAL, ICP.bant["timeline"], "DE")
    assert found and abs(found[0][0] - months) < 0.3, found


@pytest.mark.parametrize(("message", "band"), [
    ("We have unspent FY funds that must be encumbered by December 18.", "clear_budget"),
    ("If it stays under $2,000 a month I'll approve it.", "clear_budget"),
    ("Se ficar até uns R$ 4 mil por mês eu aprovo, desde que resolva o problema.",
     "clear_budget"),
    ("I can do maybe $3,000/mo tops if it works.", "unclear_possible"),
    ("We're not willing to pay $3,000 a month for this.", None),
    ("डायरेक्टर साहब ने ₹4,00,000 प्रति माह तक का बजट मंज़ूर किया है।", "clear_budget"),
    ("ميزانيتنا حوالي 50000 درهم شهرياً", "clear_budget"),
])
def test_money_the_writer_approves_or_could_pay(message: str, band: str | None) -> None:
    result = scored(make_lead(message, title="Director of IT", employees=300))
    if band is None:  # a negated offer is no amount to spend: the size speaks
        assert result["budget"]["evidence"] == "company size: 300 employees"
    else:
        assert result["budget"]["band"] == band, result["budget"]


def test_arabic_and_hindi_money_is_read_in_its_currency() -> None:
    assert money_amounts("ميزانيتنا حوالي 5000 درهم شهرياً", ICP, "AE") == [1360.0]
    assert money_amounts("₹40,000 प्रति माह", ICP, "IN") == [472.0]


def test_a_danda_ends_a_hindi_sentence() -> None:
    text = "पहला वाक्य है। दूसरा वाक्य है।"
    assert [m.group(0).strip() for m in SENTENCES.finditer(text) if m.group(0).strip()] == [
        "पहला वाक्य है।", "दूसरा वाक्य है।"]


def test_a_still_in_another_statement_does_not_soften_no_budget() -> None:
    budget = ICP.bant["budget"]
    assert budget_denied("We zijn nog oriënterend: er is geen budget voor dit jaar.", budget)
    assert budget_denied("No fixed budget yet, I'd take a number to our MD.", budget) is None


def test_an_owner_typing_its_my_call_decides() -> None:
    result = scored(make_lead("need something simple. 12 total, its my company so its my call",
                              title=None))
    assert result["authority"]["band"] == "primary_decision_maker"


def test_an_arabic_self_description_gives_the_role() -> None:
    assert role_in_text("عندنا 35 وسيط في دبي. أنا مديرة المبيعات. كم السعر تقريباً؟") == \
        "مديرة المبيعات"


@pytest.mark.parametrize(("text", "country"), [
    ("Hello, I am owner of Kaveri Agro Exports, Mysuru. We export spices", "IN"),
    ("Cresswell & Tate Interiors, Charleston\n", "US"),
    ("Thanks, Austin.", None),                          # a closing, then a person
    ("we use free tools (KoboToolbox, Google Sheets).", None),   # a list, not a place
])
def test_a_place_after_a_firms_name_and_a_comma(text: str, country: str | None) -> None:
    assert country_of_place(text) == country


def _chat(mailbox: str, line: str) -> dict[str, object]:
    return {"id": "C-1", "source": "chat", "received_at": "2026-11-20T10:00:00Z",
            "payload": [{"role": "visitor", "text": line},
                        {"role": "visitor", "text": f"email {mailbox}"}]}


@pytest.mark.parametrize(("mailbox", "line", "company"), [
    ("kaveriagroexports@gmail.com", "Hello, I am owner of Kaveri Agro Exports, Mysuru.",
     "Kaveri Agro Exports"),
    ("kwame.asanteboateng@outlook.com", "Hi, Kwame Asante-Boateng here, a quick question.",
     None),                                             # a person's own mailbox
    ("lerato.mokoena.data@outlook.com", "I work as a Freelance Data & BI Consultant.", None),
])
def test_a_free_mail_box_that_spells_the_firm_names_it(
        mailbox: str, line: str, company: str | None) -> None:
    assert extract_lead(_chat(mailbox, line))["company"]["name"] == company


def test_a_director_saying_he_is_not_the_decision_maker_only_has_some_influence() -> None:
    said = scored(make_lead("Formal tender expected Q2 2027. Not the decision maker - procurement "
                            "+ CCO.", title="Head of Sales Operations"))
    assert said["authority"]["band"] == "some_influence"
    told = scored(make_lead("Formal tender expected Q2 2027. The final decision is with our CCO.",
                            title="Head of Sales Operations"))
    assert told["authority"]["band"] == "significant_influence"  # another decides: no less


@pytest.mark.parametrize(("message", "criterion", "band"), [
    ("is there a monthly option, can i just put a card in today?", "budget", "clear_budget"),
    ("I own the RevOps tooling budget, anything above $50k goes to our CRO.", "authority",
     "primary_decision_maker"),
])
def test_a_card_ready_is_money_and_owning_the_budget_is_the_decision(
        message: str, criterion: str, band: str) -> None:
    assert scored(make_lead(message, title="Head of Revenue Operations"))[criterion]["band"] == band


def test_a_customer_cutting_licences_at_the_renewal_is_no_buyer() -> None:
    result = scored(make_lead("Buongiorno, siamo già clienti. Ci è arrivata la fattura di rinnovo "
                              "con 25 licenze ma ne usiamo 18, possiamo ridurre al rinnovo di "
                              "gennaio?", title=None))
    assert result["tier"] == "unqualified" and result["timeline"]["band"] == "unclear_or_distant"


def test_a_role_ends_at_so() -> None:
    assert role_in_text("yes pls. I'm the founder so no approvals needed lol.") == "founder"


@pytest.mark.parametrize(("title", "rank"), [
    ("المالك والمدير العام", "c_level"), ("ผู้จัดการทั่วไป", "c_level"), ("Pengurus Jualan", "manager"),
    ("Pengarah", "director"), ("प्रोप्राइटर", "c_level"), ("Phó Giám Đốc Kinh Doanh", "vp"),
    ("Deputy General Manager", "director"),            # a deputy of the top stays director-level
])
def test_owners_and_managers_in_arabic_thai_malay_hindi_and_vietnamese(title: str,
                                                                        rank: str) -> None:
    assert seniority_of(standardize_title(title)) == rank


@pytest.mark.parametrize(("message", "criterion", "band"), [
    ("main hi director hun, decision mera hai. abhi turant chahiye.", "authority",
     "primary_decision_maker"),
    ("main hi director hun, decision mera hai. abhi turant chahiye.", "timeline", "buying_now"),
    ("9 sales boys and 2 in the office. na me dey decide everything", "authority",
     "primary_decision_maker"),
    ("الميزانية عندي تقريباً ٣٠٠٠ دينار للسنة. أبي أبدأ الشهر الياي إن شاء الله.", "budget",
     "clear_budget"),
    ("الميزانية عندي تقريباً ٣٠٠٠ دينار للسنة. أبي أبدأ الشهر الياي إن شاء الله.", "timeline",
     "buying_now"),
    ("والموظفين ما يردون بسرعة ووايد زباين يروحون لغيرنا.", "need", "critical"),
])
def test_hinglish_pidgin_and_gulf_arabic_buyers(message: str, criterion: str, band: str) -> None:
    lead = make_lead(message, title=None)
    lead["company"]["country"] = "BH"
    assert scored(lead)[criterion]["band"] == band


def test_a_dinar_is_the_leads_own_countrys() -> None:
    assert money_amounts("٣٠٠٠ دينار للسنة", ICP, "BH") == [7950.0]
    assert money_amounts("٣٠٠٠ دينار للسنة", ICP, "KW") == [9750.0]


def test_a_hindi_closing_opens_the_signature() -> None:
    message = ("From: Ramesh <balajitransport.kota@yahoo.co.in>\nSubject: jaankari\n"
               "Content-Type: text/plain; charset=UTF-8\n\n"
               "नमस्ते जी,\nहमें जानना है कि इसका खर्चा कितना आएगा।\nधन्यवाद\nरमेश चंद मीणा\n"
               "प्रोप्राइटर, श्री बालाजी ट्रांसपोर्ट कंपनी\nमो. 94141 78320\n")
    assert parse_email(message).get("title") == "प्रोप्राइटर"


def test_the_day_of_the_webinar_signed_up_to_is_no_purchase_date() -> None:
    message = ("Webinar: LeadFlow Live: Dealer Enquiry Management for Manufacturers (3 Dec)\n"
               "Are you currently evaluating a solution?: No, just learning")
    result = scored(make_lead(message, title="Asst. Manager - Channel Sales"))
    assert result["timeline"]["band"] == "unclear_or_distant"
    assert result["need"]["band"] == "nice_to_have"
    dated = scored(make_lead("Demo wanted: 3 Dec, we must decide by 18 December.",
                             title="Asst. Manager - Channel Sales"))
    assert dated["timeline"]["band"] == "buying_now"       # a plain field's date still counts
