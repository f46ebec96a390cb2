"""leadflow.tools.standardize: E.164 phones, ISO countries, domains, names, titles, seniority,
department, industry and company size (SPEC §3)."""

from __future__ import annotations

import pytest

from leadflow.tools.names import capitalize_name, split_name
from leadflow.tools.standardize import (
    company_domain,
    country_code,
    country_of_domain,
    country_of_phone,
    department_of,
    domain_of,
    industry_of,
    is_freemail,
    normalize_email,
    normalize_phone,
    parse_employees,
    seniority_of,
    standardize_title,
)

# ------------------------------------------------------------------------------ phones


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("+1 (415) 555-0132", None, "+14155550132"),
        ("+1 (415) 555-0132", "DE", "+14155550132"),  # an explicit +CC beats the lead's country
        ("415-555-0132", "US", "+14155550132"),
        ("415.555.0132", "us", "+14155550132"),  # lower-case country code
        ("030 1234567", "DE", "+49301234567"),
        ("+49 (0)30 1234567", None, "+49301234567"),  # the German trunk "(0)"
        ("0049 30 1234567", None, "+49301234567"),  # 00 international prefix
        ("00 44 20 7946 0958", None, "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("(11) 91234-5678", "BR", "+5511912345678"),
        ("03-1234-5678", "JP", "+81312345678"),
    ],
)
def test_normalize_phone_gives_e164(raw: str, country: str | None, expected: str) -> None:
    assert normalize_phone(raw, country) == expected


@pytest.mark.parametrize(
    ("raw", "country"),
    [
        ("abc", None),
        ("call me maybe", "US"),
        ("12345", "US"),  # too few digits
        ("+1 555", None),
        ("4155550132", None),  # national number without a country
        ("1234567890123456789", "US"),  # too long to be possible
        ("", "US"),
        (None, "US"),
    ],
)
def test_normalize_phone_rejects_junk(raw: str | None, country: str | None) -> None:
    assert normalize_phone(raw, country) is None


def test_country_of_phone() -> None:
    assert country_of_phone("+442079460958") == "GB"
    assert country_of_phone("+5511912345678") == "BR"
    assert country_of_phone(None) is None
    assert country_of_phone("not a number") is None


# --------------------------------------------------------------------------- countries


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("DE", "DE"),
        ("de", "DE"),
        ("DEU", "DE"),  # alpha-3
        ("USA", "US"),
        ("United States", "US"),
        ("Estados Unidos", "US"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("England", "GB"),
        ("Brasil", "BR"),
        ("México", "MX"),
        ("España", "ES"),
        ("日本", "JP"),
        ("Holland", "NL"),
        ("Côte d'Ivoire", "CI"),
        ("Viet Nam", "VN"),
        ("Germany.", "DE"),
        ("Berlin, Germany", "DE"),
        ("São Paulo, Brasil", "BR"),
        ("Remote - Canada", "CA"),
        ("Zurich (Schweiz)", "CH"),
    ],
)
def test_country_code(value: str, expected: str) -> None:
    assert country_code(value) == expected


@pytest.mark.parametrize("value", ["Narnia", "Atlantis, Mars", "", "   ", None, "Remote"])
def test_country_code_unknown_is_none(value: str | None) -> None:
    assert country_code(value) is None


@pytest.mark.parametrize(
    ("value", "expected"), [("U.S.", "US"), ("U.S.A.", "US"), ("U.K.", "GB"), ("U.A.E.", "AE")]
)
def test_country_code_dotted_abbreviations(value: str, expected: str) -> None:
    assert country_code(value) == expected


# ----------------------------------------------------------------------------- domains


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("acme.de", "DE"),
        ("ACME.DE", "DE"),
        ("acme.fr", "FR"),
        ("acme.jp", "JP"),
        ("acme.mx", "MX"),
        ("acme.co.uk", "GB"),
        ("acme.ac.uk", "GB"),
        ("acme.com.br", "BR"),
        ("acme.com.au", "AU"),
        ("acme.co.jp", "JP"),
    ],
)
def test_country_of_domain_from_cctld(domain: str, expected: str) -> None:
    assert country_of_domain(domain) == expected


@pytest.mark.parametrize(
    "domain", ["acme.io", "acme.ai", "acme.co", "acme.me", "acme.com", "acme.org", "acme.gov",
               "acme.eu", "acme", "", None],
)
def test_country_of_domain_generic_is_none(domain: str | None) -> None:
    assert country_of_domain(domain) is None


@pytest.mark.parametrize(
    "domain", ["gmail.com", "GMAIL.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "gmx.de",
               "web.de", "qq.com"],
)
def test_freemail_domains(domain: str) -> None:
    assert is_freemail(domain)


@pytest.mark.parametrize("domain", ["acme.com", "lumenhealth.com", "", None])
def test_company_domains_are_not_freemail(domain: str | None) -> None:
    assert not is_freemail(domain)


def test_company_domain_prefers_website_and_never_uses_freemail() -> None:
    assert company_domain("priya@gmail.com", None) is None
    assert company_domain("priya@gmail.com", "https://www.acme.io/about") == "acme.io"
    assert company_domain("P@ACME.DE", None) == "acme.de"
    assert company_domain("p@acme.de", "http://www.acme.com") == "acme.com"
    assert company_domain("p@gmail.com", "https://gmail.com") is None
    assert company_domain(None, None) is None


def test_domain_of_and_normalize_email() -> None:
    assert domain_of("https://www.Acme.com/contact?x=1") == "acme.com"
    assert domain_of("Priya <Priya.Nair@LumenHealth.com>") == "lumenhealth.com"
    assert domain_of("no domain here") is None
    assert normalize_email("  Mail: Priya.Nair@LumenHealth.COM. ") == "priya.nair@lumenhealth.com"
    assert normalize_email("not an email") is None


# ------------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Priya Nair", ("Priya", "Nair")),
        ("PRIYA NAIR", ("Priya", "Nair")),
        ("priya nair", ("Priya", "Nair")),
        ("Nair, Priya", ("Priya", "Nair")),
        ("NAIR, PRIYA", ("Priya", "Nair")),
        ("SEAN O'BRIEN", ("Sean", "O'Brien")),
        ("jean-luc picard", ("Jean-Luc", "Picard")),
        ("Dr. Priya Nair", ("Priya", "Nair")),
        ("Mr. John Smith", ("John", "Smith")),
        ("Ludwig van Beethoven", ("Ludwig", "van Beethoven")),
        ("María José García López", ("María José", "García López")),  # two given, two family
        ("McDonald", ("McDonald", None)),
        ("山田 太郎", ("太郎", "山田")),  # family name first in its own script
        ("김 민수", ("민수", "김")),
        ("大輔 (Daisuke Watanabe)", ("大輔", None)),
        ("山田太郎", ("山田太郎", None)),
        ("", (None, None)),
        ("  ", (None, None)),
    ],
)
def test_split_name(full: str, expected: tuple[str | None, str | None]) -> None:
    assert split_name(full) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("PRIYA", "Priya"),
        ("o'brien", "O'Brien"),
        ("O'BRIEN", "O'Brien"),
        ("jean-luc", "Jean-Luc"),
        ("ANNE-MARIE DE LA CRUZ", "Anne-Marie de la Cruz"),
        ("McDonald", "McDonald"),  # mixed case is the person's own spelling: kept
        ("DeShawn", "DeShawn"),
        ("  nair, ", "Nair"),
    ],
)
def test_capitalize_name(raw: str, expected: str) -> None:
    assert capitalize_name(raw) == expected


# ------------------------------------------------------------------------------ titles

TITLES = [
    # raw title, standardised title, seniority, department
    ("vp engineering", "VP of Engineering", "vp", "engineering"),
    ("VP OF ENGINEERING", "VP of Engineering", "vp", "engineering"),
    ("Vice President, Sales", "Vice President, Sales", "vp", "sales"),
    ("SVP Sales", "SVP of Sales", "vp", "sales"),
    ("Vicepresidente de Ventas", "Vicepresidente de Ventas", "vp", "sales"),
    ("sr. dir mktg", "Senior Director of Marketing", "director", "marketing"),
    ("Dir. of IT", "Director of IT", "director", "it"),
    ("HEAD OF IT", "Head of IT", "director", "it"),
    ("Head of Customer Success", "Head of Customer Success", "director", "customer_support"),
    ("Leiter Vertrieb", "Leiter Vertrieb", "director", "sales"),
    ("Directora de Marketing", "Directora de Marketing", "director", "marketing"),
    ("Diretor de TI", "Diretor de TI", "director", "it"),
    ("CTO", "CTO", "c_level", "engineering"),
    ("Chief Financial Officer", "Chief Financial Officer", "c_level", "finance"),
    ("CISO", "CISO", "c_level", "security"),
    ("Co-Founder & CEO", "Co-Founder & CEO", "c_level", "executive"),
    ("Managing Director", "Managing Director", "c_level", "executive"),
    ("Director General", "Director General", "c_level", "executive"),
    ("Directeur Général", "Directeur Général", "c_level", "executive"),
    ("Geschäftsführer", "Geschäftsführer", "c_level", "executive"),
    ("代表取締役社長", "代表取締役社長", "c_level", "executive"),
    ("Gerente de Compras", "Gerente de Compras", "manager", "procurement"),
    ("Responsable des achats", "Responsable des Achats", "manager", "procurement"),
    ("IT Manager", "IT Manager", "manager", "it"),
    ("Team Lead, Platform", "Team Lead, Platform", "manager", "engineering"),
    ("Product Owner", "Product Owner", "individual_contributor", "product"),
    ("senior software engineer", "Senior Software Engineer", "individual_contributor",
     "engineering"),
    ("Ingeniero de Software", "Ingeniero de Software", "individual_contributor", "engineering"),
    ("Data Analyst", "Data Analyst", "individual_contributor", "data"),
    ("Legal Counsel", "Legal Counsel", "individual_contributor", "legal"),
    ("Estudiante", "Estudiante", "individual_contributor", "other"),
    ("部長", "部長", "director", "other"),
]


@pytest.mark.parametrize(("raw", "title", "seniority", "department"), TITLES,
                         ids=[t[0] for t in TITLES])
def test_title_seniority_department(raw: str, title: str, seniority: str,
                                   department: str) -> None:
    standardized = standardize_title(raw)
    assert standardized == title
    assert seniority_of(standardized) == seniority
    assert department_of(standardized) == department


@pytest.mark.parametrize(
    ("title", "seniority"),
    [
        ("Vice President", "vp"),  # contains "president" but is not c_level
        ("Senior Vice President of Product", "vp"),
        ("Vice-Président Ventes", "vp"),
        ("Product Owner", "individual_contributor"),  # contains "owner" but is not c_level
        ("Product Owner, Payments", "individual_contributor"),
        ("Executive Assistant to the CEO", "individual_contributor"),
        ("Director General", "c_level"),  # not a plain director
        ("Directora General", "c_level"),
        ("President", "c_level"),
        ("Owner", "c_level"),
    ],
)
def test_seniority_precedence(title: str, seniority: str) -> None:
    assert seniority_of(title) == seniority


def test_empty_titles() -> None:
    assert standardize_title("") is None
    assert standardize_title(None) is None
    assert seniority_of(None) == "unknown"
    assert seniority_of("") == "unknown"
    assert department_of(None) is None
    assert seniority_of("Wizard") == "individual_contributor"
    assert department_of("Wizard") == "other"


@pytest.mark.parametrize(
    ("title", "department"),
    [("Chief Executive Officer", "executive"), ("Chief Operating Officer", "operations")],
)
def test_department_of_spelled_out_chief_titles(title: str, department: str) -> None:
    assert department_of(title) == department


# ---------------------------------------------------------------------------- industry


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("SaaS", "software"),
        ("Computer Software", "software"),
        ("Logiciel", "software"),
        ("Banking", "financial_services"),
        ("Fintech", "financial_services"),
        ("Versicherung", "financial_services"),
        ("Hospital & Health Care", "healthcare"),
        ("Gesundheit", "healthcare"),
        ("Automotive", "manufacturing"),
        ("Maschinenbau", "manufacturing"),
        ("E-commerce", "retail_ecommerce"),
        ("Higher Education", "education"),
        ("Government Administration", "government"),
        ("Media", "media_entertainment"),
        ("Telecommunications", "telecommunications"),
        ("Oil & Gas", "energy_utilities"),
        ("Energía", "energy_utilities"),
        ("Management Consulting", "professional_services"),
        ("Law Firm", "professional_services"),
        ("Non-profit", "nonprofit"),
        ("Agriculture", "other"),
    ],
)
def test_industry_of(value: str, expected: str) -> None:
    assert industry_of(value) == expected


def test_industry_of_empty_is_none() -> None:
    assert industry_of("") is None
    assert industry_of(None) is None


def test_industry_of_pharmaceuticals() -> None:
    assert industry_of("Pharmaceuticals") == "healthcare"


# --------------------------------------------------------------------------- employees


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("250", (250, None)),
        (1200, (1200, None)),
        ("1,200", (1200, None)),
        ("1.200", (1200, None)),
        ("1 200", (1200, None)),
        ("200-499", (None, (200, 499))),
        ("200 - 499", (None, (200, 499))),
        ("51–200", (None, (51, 200))),
        ("500 to 999", (None, (500, 999))),
        ("1-10 employees", (None, (1, 10))),
        ("1000+", (None, (1000, None))),
        ("10,000+", (None, (10000, None))),
        ("10001+ employees", (None, (10001, None))),
        ("over 1000", (None, (1000, None))),
        ("<50", (None, (0, 49))),
        ("Under 50", (None, (0, 49))),
        ("", (None, None)),
        (None, (None, None)),
        ("n/a", (None, None)),
        ("about 300", (None, None)),
    ],
)
def test_parse_employees(value: object,
                         expected: tuple[int | None, tuple[int, int | None] | None]) -> None:
    assert parse_employees(value) == expected


def test_parse_employees_more_than() -> None:
    assert parse_employees("more than 5000") == (None, (5000, None))


def test_parse_employees_k_suffix_is_not_understated() -> None:
    employees, size_range = parse_employees("5k")
    assert employees in (5000, None)
    assert size_range is None or size_range[0] >= 5000


@pytest.mark.parametrize(("title", "seniority"), [
    ("Abteilungsdirektorin Risikocontrolling", "director"),  # German compound rank
    ("Leiterin Einkauf", "director"),
    ("Gruppenleiter Logistik", "manager"),
    ("Direttrice Generale", "c_level"),
    ("Vizepräsidentin Finanzen", "vp"),
    ("Inhaber", "c_level"),
    ("Kierownik działu IT", "manager"),
    ("情報システム室長", "director"),
])
def test_ranks_in_more_languages(title: str, seniority: str) -> None:
    assert seniority_of(title) == seniority
