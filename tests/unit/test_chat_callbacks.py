"""Chat answers read for what was asked (issue 14): a question for the company's name is a
company question, and the name a visitor says to ask for on a call back is theirs."""

from __future__ import annotations

from leadflow.tools.ingest import parse_chat


def test_an_answer_to_a_company_name_question_is_the_company_not_the_persons_name() -> None:
    for question in ("Und wie lautet der Firmenname?", "What's the company name?",
                     "¿Cuál es el nombre de la empresa?"):
        parsed = parse_chat([
            {"role": "visitor", "text": "call me on 0660 1234567 please"},
            {"role": "agent", "text": question},
            {"role": "visitor", "text": "Alpenglas Montage"}])
        assert parsed.get("company") == "Alpenglas Montage", question
        assert "full_name" not in parsed, question


def test_the_name_to_ask_for_on_a_call_back_is_the_visitors_when_nothing_else_names_them(
) -> None:
    parsed = parse_chat([
        {"role": "visitor", "text": "no email please, ring 0161 555 0134 and ask for Priya"}])
    assert parsed["full_name"] == "Priya"
    parsed = parse_chat([{"role": "visitor",
                          "text": "Rappelez-moi au 04 91 22 33 44, demandez Odile."}])
    assert parsed["full_name"] == "Odile"


def test_a_name_the_visitor_gives_beats_the_one_to_ask_for() -> None:
    parsed = parse_chat([{"role": "visitor", "text": "I'm Tom Reyes. Call 0161 555 0134, "
                                                     "ask for Bea at reception"}])
    assert parsed["full_name"] == "Tom Reyes"
