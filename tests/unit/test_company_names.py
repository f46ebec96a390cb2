"""Company names as a signature or form line writes them, cleaned of what follows the name
(issue 14): only where the cut is safe, after a legal form or where the domain agrees."""

from __future__ import annotations

import pytest

from leadflow.tools.ingest import parse_email
from leadflow.tools.prose import clean_company_name


@pytest.mark.parametrize(("name", "domain", "expected"), [
    ("Brightwater Freight GmbH, Hamburg", None, "Brightwater Freight GmbH"),
    ("Norrsken Kraft AB (Luleå)", None, "Norrsken Kraft AB"),
    ("Copperfield Analytics, Leeds", "copperfieldanalytics.co.uk", "Copperfield Analytics"),
    ("Tallowby Farms in Iowa", "tallowbyfarms.com", "Tallowby Farms"),
    ("Lumen & Co (35 staff)", "lumenco.com", "Lumen & Co"),
])
def test_what_follows_the_name_goes(name: str, domain: str | None, expected: str) -> None:
    assert clean_company_name(name, domain) == expected


@pytest.mark.parametrize(("name", "domain"), [
    ("Kirin Logistics Co., Ltd.", None),          # the tail is a legal form
    ("Ridgeway Health (Pty) Ltd", "ridgeway.co.za"),
    ("Smith, Jones & Partners", "sjp.com"),       # a comma inside the name
    ("Harbour - North Consulting", None),         # no legal form, no domain to agree
])
def test_names_that_only_look_like_a_name_and_a_place_stay_whole(name: str,
                                                                 domain: str | None) -> None:
    assert clean_company_name(name, domain) == name


def test_a_signature_without_rank_words_finds_title_and_company_by_the_legal_form() -> None:
    parsed = parse_email({"from": "Greta Holm <greta.holm@norrskenkraft.se>",
                          "subject": "Data platform",
                          "body": "Hej,\n\nwe need one view of our meter data.\n\n"
                                  "Med vänliga hälsningar\nGreta Holm\nReferent Energidata\n"
                                  "Norrsken Kraft AB\nStorgatan 1, 972 38 Luleå"})
    assert parsed.get("company") == "Norrsken Kraft AB"
    assert parsed.get("title") == "Referent Energidata"
