"""Signature lines that write a title with a colon ("Head: Business Development", as South
African and some British signatures do), and a name given twice (a sign-off "Thabo" above
"Thabo Nkosi | …"): the name is never taken for the title (issue 14, sixth blind round)."""

from __future__ import annotations

from leadflow.tools.ingest.signature import parse_signature


def test_a_title_written_with_a_colon() -> None:
    parsed = parse_signature("Naledi Khumalo | Manager: Channel Partnerships | Umoya Foods "
                             "(Pty) Ltd\n+27 21 555 0142", "umoyafoods.co.za")
    assert parsed["full_name"] == "Naledi Khumalo"
    assert parsed["title"] == "Manager: Channel Partnerships"
    assert parsed["company"] == "Umoya Foods (Pty) Ltd"


def test_the_sign_off_name_and_the_full_name_are_both_the_name() -> None:
    parsed = parse_signature("Sipho\n\nSipho Mahlangu | Head: Revenue Operations | Karoo Rail "
                             "(Pty) Ltd\n011 555 0199", "karoorail.co.za")
    assert parsed["full_name"] == "Sipho Mahlangu"
    assert parsed["title"] == "Head: Revenue Operations"


def test_a_register_entry_still_names_someone() -> None:
    """'CEO: Jana Horak' names the company's CEO; it is not the writer's title line."""
    parsed = parse_signature("Petra Novak | Sales Assistant\nCEO: Jana Horak", "horak.cz")
    assert parsed["title"] == "Sales Assistant"
