"""What the twelfth blind round taught, as general mechanisms in sentences of their own:
needing it now in the writer's grammar, needing nobody's approval, a budget line approved,
a brand's capitals in a form key, a chat turn that ends in a bare name."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest.chat import parse_chat
from leadflow.tools.ingest.form import field_for_key
from tests.unit.test_qualification import make_lead, scored


@pytest.mark.parametrize("message", [
    "Our routing broke last week. I need something that works now, not in a quarter.",
    "We need a replacement asap because the old tool is being switched off.",
])
def test_needing_it_now_is_buying_now(message: str) -> None:
    assert scored(make_lead(message))["timeline"]["band"] == "buying_now"


@pytest.mark.parametrize("message", [
    "We might need something like this next year, for now just reading the docs.",
    "We don't need anything now; maybe in the autumn of next year.",
])
def test_now_elsewhere_or_denied_is_no_purchase_now(message: str) -> None:
    assert scored(make_lead(message))["timeline"]["band"] != "buying_now"


@pytest.mark.parametrize("message", [
    "I run the team and don't need to ask anyone for tools under 20k a year.",
    "Ich muss niemanden fragen, das entscheide ich im Rahmen meines Budgets.",
])
def test_needing_nobodys_approval_is_deciding(message: str) -> None:
    lead = make_lead(message, title="Head of Sales")
    assert scored(lead)["authority"]["band"] == "primary_decision_maker"


def test_the_budget_line_approved_is_clear() -> None:
    lead = make_lead("La dirección aprobó ayer la partida para cambiar de herramienta.")
    assert scored(lead)["budget"]["band"] == "clear_budget"


def test_a_budget_only_foreseen_in_a_draft_is_not_clear() -> None:
    # "vorgesehen" is as often "planned, not yet released" as "earmarked": not a clear budget
    lead = make_lead("Ein Budget ist im Planungsentwurf vorgesehen, die Freigabe erfolgt im "
                     "Februar.")
    assert scored(lead)["budget"]["band"] != "clear_budget"


@pytest.mark.parametrize(("key", "field"), [
    ("Nomor WhatsApp", "phone"),          # the brand's capitals are one word
    ("WhatsApp", "phone"),
    ("companySize", "employees"),         # camelCase still splits
    ("Nama Lengkap", "full_name"),        # Indonesian: full name
    ("Nama Perusahaan", "company"),       # ... the company's name
    ("¿Cómo te llamas?", "full_name"),
    ("¿Cómo se llama tu empresa?", "company"),
])
def test_form_keys_in_more_shapes(key: str, field: str) -> None:
    assert field_for_key(key) == field


@pytest.mark.parametrize(("turns", "name"), [
    (["ok thanks", "nbergeron.cpa@hotmail.com", "Nicole Bergeron, CPA"], "Nicole Bergeron"),
    (["me, I'm Head of Growth. Meenakshi Sundaresan-Kapoor", "meenakshi.sk@vidyankur.in"],
     "Meenakshi Sundaresan-Kapoor"),
])
def test_a_turn_ending_in_a_name_the_address_confirms(turns: list[str], name: str) -> None:
    parsed = parse_chat([{"role": "visitor", "text": t} for t in turns])
    assert parsed.get("full_name") == name


def test_a_bare_company_in_a_turn_is_not_a_name() -> None:
    parsed = parse_chat([{"role": "visitor", "text": "Thanks. Acme Logistics"},
                         {"role": "visitor", "text": "bob@acmelogistics.com"}])
    assert "full_name" not in parsed


@pytest.mark.parametrize("message", [
    "Thanks for following up, but we signed with another vendor last month.",
    "Our board decided to continue with the ERP's own module, so we will not proceed.",
    "Honestly we're not in a position to look at this now; maybe check back next year.",
    "We are quite happy with our current tool for what we do.",
    "De momento no es prioridad: estamos con otra cosa.",
    "No momento não é prioridade para nós.",   # "no" here is "in the", not a negation
])
def test_the_writer_declining_us_is_no_buyer_now(message: str) -> None:
    assert scored(make_lead(message))["timeline"]["band"] == "unclear_or_distant"
    assert sum(c["score"] for c in scored(make_lead(message)).values()
               if isinstance(c, dict) and "score" in c) < 40


@pytest.mark.parametrize("message", [
    "If the security review checks out I don't see a reason we won't proceed this month.",
    "Se costa più di 300 euro al mese non fa per noi, ma il budget c'è e partiamo a gennaio.",
])
def test_a_refusal_negated_or_in_a_condition_is_no_refusal(message: str) -> None:
    from leadflow.agents.buyer_signals import declined
    from leadflow.config import icp

    assert declined(message, icp().bant["authority"]) is None


@pytest.mark.parametrize(("title", "seniority"), [
    ("Directeur Administratif et Financier", "c_level"),   # one rank written with a joiner
    ("Directrice administrative et financière", "c_level"),
    ("Head of Sales and Marketing", "director"),           # two functions, one rank
    ("Naczelnik Wydziału Informatyki", "director"),
    ("Obchodní ředitel", "director"),
    ("Jednatel", "c_level"),
    ("Yönetici Ortak", "c_level"),
    ("Subgerenta Comercial", "manager"),
    ("Kepala Divisi Penjualan", "director"),
    ("ผู้จัดการฝ่ายขาย", "manager"),
])
def test_local_ranks(title: str, seniority: str) -> None:
    from leadflow.tools.standardize import seniority_of

    assert seniority_of(title) == seniority


@pytest.mark.parametrize(("key", "field"), [
    ("ตำแหน่ง", "title"),            # a Thai tone mark is part of its word
    ("ชื่อบริษัท", "company"),
    ("นามสกุล", "last_name"),
    ("직함", "title"),
    ("Work E-mail", "email"),
])
def test_keys_in_scripts_with_marks(key: str, field: str) -> None:
    assert field_for_key(key) == field


@pytest.mark.parametrize(("title", "message"), [
    ("Senior Procurement Officer, Technology Category",
     "Please find attached our RFP for a lead management platform; responses due 11 December."),
    ("Acheteur – Services Généraux & IT",
     "Dans le cadre d'une consultation lancée par la direction commerciale, merci de nous "
     "adresser votre offre."),
    ("Fachspezialistin Beschaffung", "Wir laden Sie zur Ausschreibung ein, Frist 15. Januar."),
])
def test_a_procurement_buyer_running_a_formal_purchase_has_some_influence(
        title: str, message: str) -> None:
    assert scored(make_lead(message, title=title))["authority"]["band"] == "some_influence"


@pytest.mark.parametrize(("title", "message"), [
    ("Purchasing Clerk", "Could you send a brochure for our files? No project planned."),
    ("Data Analyst", "Our procurement team will issue an RFP in January."),  # not procurement
])
def test_no_formal_purchase_run_by_the_writer_keeps_a_junior_limited(
        title: str, message: str) -> None:
    assert scored(make_lead(message, title=title))["authority"]["band"] == "limited"


@pytest.mark.parametrize("message", [
    "Tenemos presupuesto aprobado. Yo autorizo la compra.",
    "La decisión final la tomamos el Director General y yo.",
    "El director general ya me dio luz verde para elegir la herramienta.",
    "The board delegated the decision to me; set-up is needed by mid-January.",
    "Our owner authorised me to decide on the vendor.",
])
def test_a_decision_the_writer_makes_or_was_given_is_theirs(message: str) -> None:
    lead = make_lead(message, title="Director Comercial")
    assert scored(lead)["authority"]["band"] == "primary_decision_maker"


def test_a_denied_authorisation_is_not_a_decision() -> None:
    lead = make_lead("No, yo no autorizo nada: decide el consejo.", title="Director Comercial")
    assert scored(lead)["authority"]["band"] != "primary_decision_maker"
