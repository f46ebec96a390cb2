"""leadflow.tools.knowledge_base + leadflow.agents.enrichment: the bundled company collection,
lookups (domain, fuzzy name, alias, semantic), the offline embedding, profile merging,
data-quality scores and the agent (SPEC §4.2)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
import pytest
from chromadb.utils.embedding_functions import (
    config_to_embedding_function,
    known_embedding_functions,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from leadflow.agents.capture import extract_lead
from leadflow.agents.enrichment import (
    QUALITY_KEYS,
    EnrichmentAgent,
    merge_profile,
    score_quality,
)
from leadflow.config import icp
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox, shared_kb
from leadflow.tools.knowledge_base import (
    HashingNgramEmbedding,
    KbMatch,
    KnowledgeBase,
    bundled_profiles,
)

RULES = icp()


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return shared_kb()  # the process-wide bundled KB the Toolbox uses


def make_lead(**fields: str | None) -> dict[str, Any]:
    payload: dict[str, str | None] = {
        "First Name": "Priya", "Last Name": "Nair", "Work Email": "priya.nair@lumenhealth.com",
        "Job Title": "VP of Engineering", "Company": "Lumen Health Partners", "Country": "USA",
        "message": "We need a new scheduling tool.",
    }
    payload.update(fields)
    return extract_lead({"id": "E-1", "source": "web_form",
                         "payload": {k: v for k, v in payload.items() if v is not None}})


# -------------------------------------------------------------------- the collection


def test_bundled_collection_covers_regions_and_segments(kb: KnowledgeBase) -> None:
    profiles = bundled_profiles()
    assert len(profiles) >= 300
    assert kb.collection.count() == len(profiles) == len(kb.profiles)
    cells = Counter((RULES.region_for(p["country"]), RULES.segment_for(p["employees"]))
                    for p in profiles)
    for region in ("NA", "LATAM", "EMEA", "APAC"):
        for segment in ("smb", "mid_market", "enterprise"):
            assert cells[(region, segment)] >= 1, (region, segment)
    assert "unassigned" not in {r for r, _ in cells}
    assert len({p["domain"] for p in profiles}) == len(profiles)


def test_collection_uses_the_registered_embedding(kb: KnowledgeBase) -> None:
    config = kb.collection.configuration_json
    assert config["embedding_function"]["name"] == "leadflow-hashing-ngram"
    assert config["hnsw"]["space"] == "cosine"


# ----------------------------------------------------------------------------- lookups


@pytest.mark.parametrize(
    ("name", "domain", "country", "expected", "method"),
    [
        (None, "northwind-analytics.com", None, "northwind-analytics.com", "domain"),
        ("Wrong Name", "NORTHWIND-ANALYTICS.COM", "JP", "northwind-analytics.com", "domain"),
        ("Whatever", "mail.northwind-analytics.com", None, "northwind-analytics.com", "domain"),
        (None, "eu.sales.veridiantelecom.co.uk", None, "veridiantelecom.co.uk", "domain"),
        ("Northwnd Analytics", None, None, "northwind-analytics.com", "fuzzy_name"),
        ("Nortwind Analytics Inc.", None, "US", "northwind-analytics.com", "fuzzy_name"),
        ("Pixel Harbour Studio", None, None, "pixelharbor.io", "fuzzy_name"),
        ("NWA", None, None, "northwind-analytics.com", "fuzzy_name"),
        ("Mueller & Soehne Praezisionstechnik", None, "DE", "mueller-soehne.de", "fuzzy_name"),
        ("Müller und Söhne", None, None, "mueller-soehne.de", "fuzzy_name"),
        ("Cafe Nandu", None, None, "cafenandu.com.ar", "fuzzy_name"),
        ("Johnson and Pryce Consulting", None, None, "johnsonpryce.com", "fuzzy_name"),
        ("Northwind Analytics Platform", None, None, "northwind-analytics.com", "semantic"),
        ("Northwind Analytics Seattle", None, "US", "northwind-analytics.com", "semantic"),
    ],
)
def test_lookup(kb: KnowledgeBase, name: str | None, domain: str | None, country: str | None,
                expected: str, method: str) -> None:
    match = kb.lookup(name, domain, country)
    assert match is not None
    assert match.method == method
    assert match.profile["domain"] == expected
    assert 0.0 < match.confidence <= 1.0
    if method == "domain":
        assert match.confidence == 1.0


def test_accent_and_ampersand_spellings_find_the_right_profile(kb: KnowledgeBase) -> None:
    cafe = kb.lookup("Cafe Nandu", None)
    assert cafe is not None and cafe.profile["name"] == "Café Ñandú S.A."
    pryce = kb.lookup("Johnson and Pryce Consulting", None)
    assert pryce is not None and pryce.profile["name"] == "Johnson & Pryce Consulting Group"


def test_semantic_match_is_only_used_when_fuzzy_fails(kb: KnowledgeBase) -> None:
    exact = kb.lookup("Northwind Analytics", None)
    near = kb.lookup("Northwind Analytics Platform", None)
    assert exact is not None and near is not None
    assert (exact.method, exact.confidence) == ("fuzzy_name", 1.0)
    assert near.method == "semantic"
    assert near.confidence < exact.confidence
    assert near.confidence >= 1 - kb.semantic_max_distance


@pytest.mark.parametrize(
    ("name", "domain"),
    [("Zyxqwv Holdings", None), ("Acme Corp", "acme-unknown.com"), ("", None), (None, None),
     ("Sakura Robotic Systems Overseas", None), (None, "co.uk")],
)
def test_unknown_company_is_none(kb: KnowledgeBase, name: str | None, domain: str | None) -> None:
    assert kb.lookup(name, domain) is None


@pytest.mark.parametrize(
    ("name", "home", "elsewhere"),
    [("Lumen Health", "US", "GB"), ("Veridian Telecom", "GB", "FR"),
     ("Banco Andino", "PE", "CL"), ("Brightpath Learning", "AU", "NZ")],
)
def test_a_name_in_another_country_is_not_matched(kb: KnowledgeBase, name: str, home: str,
                                                  elsewhere: str) -> None:
    found = kb.lookup(name, None, home)
    assert found is not None and found.profile["country"] == home
    assert kb.lookup(name, None, elsewhere) is None
    assert kb.lookup(name, None, None) is not None  # no country stated: no veto


def test_a_second_knowledge_base_in_the_process_is_independent(kb: KnowledgeBase) -> None:
    german = tuple(p for p in bundled_profiles() if p["country"] == "DE")  # same ids: no pollution
    small = KnowledgeBase(profiles=german)
    assert small.collection.count() == len(german)
    match = small.lookup("Northwind Analytics Platform", None)
    assert match is None or match.profile["country"] == "DE"


# --------------------------------------------------------------------------- embedding


def test_embedding_is_registered_with_chroma() -> None:
    assert known_embedding_functions["leadflow-hashing-ngram"] is HashingNgramEmbedding
    original = HashingNgramEmbedding(dim=256, ngram_min=3, ngram_max=5)
    rebuilt = config_to_embedding_function(
        {"name": HashingNgramEmbedding.name(), "config": original.get_config()})
    assert isinstance(rebuilt, HashingNgramEmbedding)
    assert (rebuilt.dim, rebuilt.ngram_min, rebuilt.ngram_max) == (256, 3, 5)
    assert np.array_equal(rebuilt(["Acme"])[0], original(["Acme"])[0])


def test_embedding_is_deterministic_and_unit_norm() -> None:
    texts = ["Northwind Analytics", "Müller & Söhne Präzisionstechnik GmbH", "サクラロボティクス",
             "a", "Northwind Analytics"]
    first, second = HashingNgramEmbedding()(texts), HashingNgramEmbedding()(texts)
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a, b)
        assert len(a) == 512
        assert abs(float(np.linalg.norm(a)) - 1.0) < 1e-5
    assert np.array_equal(first[0], first[4])
    assert float(np.linalg.norm(HashingNgramEmbedding()([" -- "])[0])) == 0.0  # no words


def test_embedding_puts_similar_names_closer() -> None:
    near, same, far = HashingNgramEmbedding()(
        ["Northwind Analytics", "Northwnd Analytics Inc", "Banco Andino de Inversiones"])
    assert float(np.dot(near, same)) > 0.6
    assert float(np.dot(near, far)) < 0.3


def test_embedding_and_collection_work_without_network(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network access attempted in an offline test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    vectors = HashingNgramEmbedding()(["offline"])
    assert len(vectors[0]) == 512
    profiles = bundled_profiles()[:25]
    offline = KnowledgeBase(profiles=profiles, persist_dir=tmp_path / "kb")
    assert offline.collection.count() == 25
    match = offline.lookup("Northwind Analytics Platform", None)
    assert match is not None and match.method == "semantic"
    client = chromadb.PersistentClient(path=str(tmp_path / "raw"))
    collection = client.get_or_create_collection(
        "offline_probe", embedding_function=HashingNgramEmbedding())  # type: ignore[arg-type]
    collection.add(ids=["a", "b"], documents=["Kestrel Freight Systems", "Lumen Health"])
    result = collection.query(query_texts=["Kestrel Freight"], n_results=1)
    assert result["ids"][0] == ["a"]


# ------------------------------------------------------------------------ merge_profile


def lumen_match(kb: KnowledgeBase) -> KbMatch:
    match = kb.lookup("Lumen Health Partners", "lumenhealth.com", "US")
    assert match is not None
    return match


def test_merge_fills_missing_fields(kb: KnowledgeBase) -> None:
    lead = make_lead()
    assert lead["company"]["employees"] is None and lead["company"]["segment"] == "unknown"
    merged, flags = merge_profile(lead, lumen_match(kb), RULES)
    company = merged["company"]
    assert flags == []
    assert company["employees"] == 9500
    assert company["segment"] == "enterprise"
    assert company["industry"] == "healthcare"
    assert company["revenue_usd"] == 1_900_000_000
    assert company["funding"] == "Non-profit health system"
    assert "Epic" in company["tech_stack"]
    assert company["recent_news"]
    assert company["region"] == "NA"
    assert merged["contact"] == lead["contact"]
    assert lead["company"]["employees"] is None  # the input record is not mutated


def test_merge_keeps_stated_values_and_flags_a_size_conflict(kb: KnowledgeBase) -> None:
    lead = make_lead(Employees="150", Industry="Software")
    assert lead["company"]["segment"] == "smb"
    lead["company"]["tech_stack"] = ["HubSpot"]
    merged, flags = merge_profile(lead, lumen_match(kb), RULES)
    company = merged["company"]
    assert company["employees"] == 150
    assert company["segment"] == "smb"
    assert company["industry"] == "software"
    assert company["tech_stack"] == ["HubSpot"]
    assert company["revenue_usd"] == 1_900_000_000  # missing, so filled
    assert flags == ["conflicting_size_data"]


def test_a_size_read_from_prose_gives_way_to_the_profiles(kb: KnowledgeBase) -> None:
    # "our 30 salespeople" may be a team's size, not the company's: the profile knows better
    lead = make_lead(Employees="30")
    merged, flags = merge_profile(lead, lumen_match(kb), RULES, size_from_text=True)
    assert merged["company"]["employees"] == 9500
    assert merged["company"]["segment"] == "enterprise"
    assert flags == []  # no conflict: the prose never said the company's size for sure
    stated, _ = merge_profile(lead, lumen_match(kb), RULES)  # a form's own size field wins
    assert stated["company"]["employees"] == 30


def test_merge_replaces_industry_other_and_agrees_on_size(kb: KnowledgeBase) -> None:
    lead = make_lead(Employees="10,000+", Industry="Agriculture")
    assert lead["company"]["industry"] == "other"
    assert lead["company"]["segment"] == "enterprise"
    merged, flags = merge_profile(lead, lumen_match(kb), RULES)
    assert merged["company"]["industry"] == "healthcare"
    assert flags == []


def test_merge_without_a_match_flags_limited_data() -> None:
    lead = make_lead(Company="Quarto Nine", message="Please send pricing.")
    merged, flags = merge_profile(lead, None, RULES)
    assert flags == ["unknown_company", "limited_data"]
    assert merged["company"] == lead["company"]


def test_merge_without_a_match_reads_the_industry_off_the_name() -> None:
    lead = make_lead()  # "Lumen Health Partners", no industry stated
    merged, flags = merge_profile(lead, None, RULES)
    assert flags == ["unknown_company", "limited_data", "industry_inferred"]
    assert merged["company"]["industry"] == "healthcare"
    assert {k: v for k, v in merged["company"].items() if k != "industry"} == {
        k: v for k, v in lead["company"].items() if k != "industry"}


# ------------------------------------------------------------------------ score_quality

CONTACT_FIELDS = {"first_name": "Priya", "last_name": "Nair", "email": "p@x.com",
                  "phone": "+13035550147", "title": "CTO"}
COMPANY_FIELDS: dict[str, Any] = {
    "industry": "software", "employees": 1200, "revenue_usd": 214_000_000, "country": "US",
    "tech_stack": ["AWS", "Snowflake", "Kubernetes", "Okta"], "funding": "Series D",
    "recent_news": ["Launched a module"]}
SENIORITIES = ["unknown", "individual_contributor", "manager", "director", "vp", "c_level"]


def record_with(contact_keys: frozenset[str], company_keys: frozenset[str],
                seniority: str) -> dict[str, Any]:
    contact = {k: v for k, v in CONTACT_FIELDS.items() if k in contact_keys}
    contact["seniority"] = seniority
    return {"contact": contact,
            "company": {k: v for k, v in COMPANY_FIELDS.items() if k in company_keys}}


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    contact_a=st.frozensets(st.sampled_from(sorted(CONTACT_FIELDS))),
    company_a=st.frozensets(st.sampled_from(sorted(COMPANY_FIELDS))),
    contact_extra=st.frozensets(st.sampled_from(sorted(CONTACT_FIELDS))),
    company_extra=st.frozensets(st.sampled_from(sorted(COMPANY_FIELDS))),
    seniority=st.integers(0, len(SENIORITIES) - 1),
    promotion=st.integers(0, len(SENIORITIES) - 1),
)
def test_quality_scores_are_1_to_5_and_never_drop_with_more_data(
        contact_a: frozenset[str], company_a: frozenset[str], contact_extra: frozenset[str],
        company_extra: frozenset[str], seniority: int, promotion: int) -> None:
    less = score_quality(record_with(contact_a, company_a, SENIORITIES[seniority]),
                         RULES.target_tech)
    more = score_quality(record_with(contact_a | contact_extra, company_a | company_extra,
                                     SENIORITIES[max(seniority, promotion)]), RULES.target_tech)
    for key in QUALITY_KEYS:
        assert 1 <= getattr(less, key) <= 5
        assert getattr(more, key) >= getattr(less, key), key


def test_quality_increases_with_completeness() -> None:
    empty = score_quality({"contact": {}, "company": {}}, RULES.target_tech)
    assert [getattr(empty, k) for k in QUALITY_KEYS] == [1, 1, 1, 1]
    totals = []
    contact: dict[str, Any] = {}
    company: dict[str, Any] = {}
    for key, value in [*CONTACT_FIELDS.items(), *COMPANY_FIELDS.items()]:
        (contact if key in CONTACT_FIELDS else company)[key] = value
        quality = score_quality({"contact": contact, "company": company}, RULES.target_tech)
        totals.append(sum(getattr(quality, k) for k in QUALITY_KEYS))
    assert totals == sorted(totals)
    assert totals[-1] > totals[0]
    full = score_quality({"contact": {**contact, "seniority": "c_level"}, "company": company},
                         RULES.target_tech)
    assert [getattr(full, k) for k in QUALITY_KEYS] == [5, 5, 5, 5]


def test_technology_fit_counts_target_tech() -> None:
    def fit(stack: list[str]) -> int:
        return score_quality({"contact": {}, "company": {"tech_stack": stack}},
                             RULES.target_tech).technology_fit

    assert fit([]) == 1
    assert fit(["COBOL"]) == 2
    assert fit(["aws"]) == 3  # case-insensitive
    assert fit(["AWS", "Snowflake", "Okta", "Kafka", "dbt"]) == 5


# ---------------------------------------------------------------------- EnrichmentAgent


def test_agent_on_a_known_company(tools: Toolbox) -> None:
    state: LeadState = {"lead": make_lead()}
    out = asyncio.run(EnrichmentAgent().run(state, tools))
    assert out.outcome == "success"
    assert out.flags == []
    enrichment = out.update["enrichment"]
    assert enrichment["matched"] is True
    assert enrichment["match_method"] == "domain"
    assert enrichment["profile_domain"] == "lumenhealth.com"
    assert 2 <= len(enrichment["talking_points"]) <= 4
    assert any("Recent news" in p for p in enrichment["talking_points"])
    assert set(enrichment["quality"]) == set(QUALITY_KEYS)
    assert out.update["lead"]["company"]["segment"] == "enterprise"
    assert "Lumen Health Partners" in enrichment["summary"]


def test_agent_on_an_unknown_company_proceeds_with_limited_data(tools: Toolbox) -> None:
    lead = make_lead(**{"Work Email": "jo@zyxqwv-unknown.example", "Company": "Zyxqwv Holdings"})
    out = asyncio.run(EnrichmentAgent().run({"lead": lead}, tools))
    assert out.outcome == "success"
    assert out.flags == ["unknown_company", "limited_data"]
    enrichment = out.update["enrichment"]
    assert enrichment["matched"] is False
    assert enrichment["match_confidence"] == 0.0
    assert "limited data" in enrichment["summary"]
    assert 2 <= len(enrichment["talking_points"]) <= 4
    assert out.update["lead"]["company"]["employees"] is None


def test_agent_on_a_bare_unknown_lead_still_succeeds(tools: Toolbox) -> None:
    lead = make_lead(**{"Work Email": "jo@zyxqwv-unknown.example", "Company": "Zyxqwv Holdings",
                        "Job Title": None, "message": None})
    out = asyncio.run(EnrichmentAgent().run({"lead": lead}, tools))
    assert out.outcome == "success"
    assert 2 <= len(out.update["enrichment"]["talking_points"]) <= 4


def test_agent_talking_points_never_exceed_four(tools: Toolbox) -> None:
    lead = make_lead(message="Please send pricing for 300 seats.")
    lead["company"]["tech_stack"] = ["AWS", "Okta"]
    out = asyncio.run(EnrichmentAgent().run({"lead": lead}, tools))
    assert len(out.update["enrichment"]["talking_points"]) == 4
