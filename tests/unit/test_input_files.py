"""Input files read as the user meant them: encodings, a CSV's delimiter and contact columns,
JSON whatever the suffix, empty files; real files in tmp_path through `read_items`."""

from __future__ import annotations

import codecs
import json
import zipfile
from pathlib import Path

import pytest

from leadflow.agents.capture import extract_lead
from leadflow.tools.ingest import UnreadableFile, field_for_key, item_flags, parse_item, read_items
from leadflow.tools.ingest.files import CONTACT_COLUMN_EXAMPLES, CONTACT_FIELDS

GERMAN = "Vorname,Nachname,E-Mail,Firma\nJürgen,Müller,jm@firma.de,Müller & Söhne GmbH\n"


def read(path: Path) -> tuple[list[dict[str, object]], list[str]]:
    said: list[str] = []
    return list(read_items(path, said.append)), said


# ---------------------------------------------------------------------------- encodings


def test_a_cp1252_csv_is_read_right_and_the_guess_is_flagged_and_said(tmp_path: Path) -> None:
    path = tmp_path / "messe.csv"
    path.write_bytes(GERMAN.encode("cp1252"))
    items, said = read(path)
    payload = items[0]["payload"]
    assert isinstance(payload, dict)
    assert (payload["Vorname"], payload["Nachname"]) == ("Jürgen", "Müller")
    assert payload["Firma"] == "Müller & Söhne GmbH"
    assert items[0]["_flags"] == ["encoding_guessed:cp1252"]
    assert len(said) == 1 and "not UTF-8" in said[0] and "cp1252" in said[0]
    assert "Jürgen" in said[0]  # a word as read, for a person to judge the guess
    lead = extract_lead(items[0])
    assert lead["contact"]["last_name"] == "Müller"
    assert "encoding_guessed:cp1252" in lead["flags"]


def test_utf8_is_read_as_it_is_with_no_flag_and_nothing_said(tmp_path: Path) -> None:
    path = tmp_path / "messe.csv"
    path.write_text(GERMAN, encoding="utf-8")
    items, said = read(path)
    assert items[0]["payload"]["Nachname"] == "Müller"  # type: ignore[index]
    assert "_flags" not in items[0] and said == []
    assert "encoding_guessed" not in " ".join(extract_lead(items[0])["flags"])


@pytest.mark.parametrize(("text", "codec", "words"), [
    ("name,email,company\nИван Петров,ivan@gazprom-neft.ru,Газпром нефть\n", "cp1251",
     ("Иван", "Газпром")),
    ("name,email,company\nΓιώργος Παπαδόπουλος,g@ote.gr,ΟΤΕ Διευθυντής\n", "cp1253",
     ("Γιώργος",)),
    ("name,email,company\nŁukasz Wiśniewski,l@orlen.pl,Orlen sprzedaży\n", "cp1250",
     ("Łukasz", "Wiśniewski")),
    ("name,email,company\n山田 太郎,yamada@sakura.co.jp,株式会社サクラ\n", "cp932",
     ("山田", "株式会社サクラ")),
])
def test_other_legacy_encodings_are_guessed(tmp_path: Path, text: str, codec: str,
                                            words: tuple[str, ...]) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(codec))
    items, said = read(path)
    row = json.dumps(items[0]["payload"], ensure_ascii=False)
    assert all(word in row for word in words), row
    assert items[0]["_flags"] == [f"encoding_guessed:{codec}"]
    assert codec in said[0]


def test_in_a_mostly_utf8_file_only_the_foreign_lines_are_guessed(tmp_path: Path) -> None:
    """A UTF-8 export with one line pasted from a Windows tool: the UTF-8 lines stay as they
    are (a whole-file guess read 'Zoë' as gb18030) and only the other line's lead is flagged."""
    good = [{"id": str(n), "source": "web_form",
             "payload": {"name": f"Zoë Ångström {n}", "email": f"z{n}@x.se"}} for n in range(5)]
    pasted = json.dumps({"id": "w", "source": "web_form",
                         "payload": {"name": "Jürgen Müller", "email": "jm@firma.de"}},
                        ensure_ascii=False)
    path = tmp_path / "leads.jsonl"
    path.write_bytes(b"".join(json.dumps(g, ensure_ascii=False).encode() + b"\n" for g in good)
                     + pasted.encode("cp1252") + b"\n")
    items, said = read(path)
    assert [i["payload"]["name"] for i in items[:5]] == [g["payload"]["name"] for g in good]  # type: ignore[index]
    assert items[5]["payload"] == {"name": "Jürgen Müller", "email": "jm@firma.de"}
    assert [i.get("_flags") for i in items] == [None] * 5 + [["encoding_guessed:cp1252"]]
    assert "(1 of 6 lines)" in said[0]


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_a_bom_are_text_not_binary(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "excel-unicode.csv"
    bom = {"utf-16": b"", "utf-16-be": codecs.BOM_UTF16_BE, "utf-32": b""}[codec]
    path.write_bytes(bom + GERMAN.encode(codec))  # Python's utf-16/utf-32 write their own BOM
    items, said = read(path)
    assert items[0]["payload"]["Nachname"] == "Müller"  # type: ignore[index]
    assert parse_item(items[0])[1]["email"] == "jm@firma.de"
    assert "_flags" not in items[0] and said == []  # the BOM says it: nothing guessed


def test_utf16_without_a_bom_is_guessed_not_binary(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_bytes(json.dumps({"source": "web_form", "payload": {"email": "ö@x.de"}},
                                ensure_ascii=False).encode("utf-16-le"))
    items, said = read(path)
    assert items[0]["payload"] == {"email": "ö@x.de"}
    assert items[0]["_flags"] == ["encoding_guessed:utf_16_le"]
    assert "utf_16_le" in said[0]


def test_a_workbook_is_binary_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UnreadableFile, match=r"binary file \(a ZIP archive: an Excel"):
        read(path)


LATIN_MAIL = ("From: Jürgen Müller <jm@firma.de>\nSubject: Anfrage für 200 Lizenzen\n\n"
              "Wir brauchen ein Angebot.\nGrüße\nJürgen Müller\nMüller GmbH\n")


def test_a_mail_with_8bit_bytes_and_no_charset_is_guessed_too(tmp_path: Path) -> None:
    path = tmp_path / "anfrage.eml"
    path.write_bytes(LATIN_MAIL.encode("cp1252"))
    [item], said = read(path)
    assert item["_flags"] == ["encoding_guessed:cp1252"]
    parsed = parse_item(item)[1]
    assert parsed["full_name"] == "Jürgen Müller" and parsed.get("company") == "Müller GmbH"
    assert "1 of 1 messages" in said[0] and "cp1252" in said[0]


def test_in_an_mbox_only_the_undeclared_8bit_message_is_guessed(tmp_path: Path) -> None:
    path = tmp_path / "inbox.mbox"
    declared = ("From: Ana <ana@empresa.es>\nSubject: Hola\nContent-Type: text/plain; "
                "charset=iso-8859-1\n\nNecesitamos información.\n")
    path.write_bytes(b"From a@x Mon Jan  1 00:00:00 2026\n" + declared.encode("latin-1")
                     + b"\nFrom b@y Mon Jan  1 00:00:00 2026\n" + LATIN_MAIL.encode("cp1252"))
    items, said = read(path)
    assert [i.get("_flags") for i in items] == [None, ["encoding_guessed:cp1252"]]
    assert parse_item(items[0])[1]["inquiry"] == "Hola\nNecesitamos información."
    assert parse_item(items[1])[1]["full_name"] == "Jürgen Müller"
    assert "1 of 2 messages" in said[0]


def test_item_flags_carry_only_the_readers_own_flags() -> None:
    assert item_flags({"_flags": ["encoding_guessed:cp1252"]}) == ["encoding_guessed:cp1252"]
    # an item cannot give its lead other flags (outcome records read 'duplicate')
    assert item_flags({"_flags": ["duplicate", "encoding_guessed:" + "x" * 100, 7]}) == []
    assert item_flags({"_flags": "encoding_guessed:cp1252"}) == []
    assert item_flags(["encoding_guessed:cp1252"]) == []


# ----------------------------------------------------------------------------------- CSV


def test_a_csv_without_a_contact_column_is_one_error_naming_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "badges.csv"
    path.write_text("Name,Organisation,Notes\nAna,X,hi\nBo,Y,yo\n", encoding="utf-8")
    with pytest.raises(UnreadableFile) as caught:
        read(path)
    message = str(caught.value)
    assert "\n" not in message
    assert "no contact column" in message and "'Name', 'Organisation', 'Notes'" in message
    assert "expected an email or phone column" in message and "Email" in message


def test_a_csv_without_a_header_line_says_so(tmp_path: Path) -> None:
    path = tmp_path / "badges.csv"
    path.write_text("Ana,Lima,ana@x.com.br\nBo,Ek,bo@y.se\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="line 1 looks like data"):
        read(path)


def test_the_named_contact_columns_are_ones_we_recognise() -> None:
    assert all(field_for_key(name) in CONTACT_FIELDS for name in CONTACT_COLUMN_EXAMPLES)


def test_a_csv_with_only_a_phone_column_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "calls.csv"
    path.write_text("Name,Mobile\nAna,+55 11 91234 5678\n", encoding="utf-8")
    assert len(read(path)[0]) == 1


@pytest.mark.parametrize(("name", "text"), [
    ("messe.csv", "Vorname;Nachname;E-Mail;Firma, Ort\nJürgen;Müller;jm@firma.de;X, Köln\n"),
    ("export.tsv", "First Name\tLast Name\tEmail\tCompany\nJürgen\tMüller\tjm@firma.de\tX, Köln\n"),
    ("pipes.csv", "First Name|Last Name|Email|Company\nJürgen|Müller|jm@firma.de|X, Köln\n"),
])
def test_a_csv_is_split_at_its_headers_delimiter(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    [item], _ = read(path)
    payload = item["payload"]
    assert isinstance(payload, dict) and len(payload) == 4
    assert list(payload.values())[2:] == ["jm@firma.de", "X, Köln"]
    assert parse_item(item)[1]["email"] == "jm@firma.de"


# ---------------------------------------------------------------------------------- JSON


ITEMS = [{"source": "web_form", "payload": {"email": "a@b.com", "company": "B"}},
         {"source": "web_form", "payload": {"email": "c@d.com", "company": "D"}}]


@pytest.mark.parametrize("name", ["leads.jsonl", "leads.json", "leads.txt"])
def test_a_pretty_printed_json_array_is_json_whatever_the_suffix(tmp_path: Path,
                                                                 name: str) -> None:
    path = tmp_path / name
    path.write_text(json.dumps(ITEMS, indent=2), encoding="utf-8")
    assert read(path) == (ITEMS, [])
    path.write_text(json.dumps(ITEMS), encoding="utf-8")  # on one line
    assert read(path) == (ITEMS, [])
    path.write_text(json.dumps(ITEMS[0], indent=2), encoding="utf-8")  # one object
    assert read(path) == ([ITEMS[0]], [])


def test_json_lines_in_a_json_file_are_read_as_lines(tmp_path: Path) -> None:
    path = tmp_path / "leads.json"
    path.write_text("".join(json.dumps(i) + "\n" for i in ITEMS), encoding="utf-8")
    assert read(path) == (ITEMS, [])


def test_broken_pretty_printed_json_is_one_error_not_an_item_per_line(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    text = json.dumps(ITEMS, indent=2).replace('"c@d.com"', "c@d.com")  # unquoted
    path.write_text(text, encoding="utf-8")
    line = text[:text.index("c@d.com")].count("\n") + 1
    with pytest.raises(UnreadableFile, match=rf"not valid JSON \(Expecting value at line {line}\)"):
        read(path)


def test_a_jsonl_file_with_no_json_line_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    path.write_text("First Name,Email\nAna,ana@x.com.br\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="no line is JSON.*CSV named"):
        read(path)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(tmp_path: Path, constant: str) -> None:
    """Python's json reads them, PostgreSQL's jsonb and the API refuse them: that line is
    a bad line (its own manual-review item), the others are read; in a JSON document, the
    whole file is one error."""
    path = tmp_path / "leads.jsonl"
    bad = json.dumps(ITEMS[0]).replace("}", f', "score": {constant}}}', 1)
    path.write_text(bad + "\n" + json.dumps(ITEMS[1]) + "\n", encoding="utf-8")
    items, _ = read(path)
    assert items[1] == ITEMS[1]
    assert items[0]["_error"] == f"line 1 is not JSON: {constant} is not a JSON value"
    document = tmp_path / "leads.json"
    document.write_text(f'[{bad}]', encoding="utf-8")
    with pytest.raises(UnreadableFile, match="is not a JSON value"):
        read(document)


# ---------------------------------------------------------------------------- no items


@pytest.mark.parametrize(("name", "content", "why"), [
    ("empty.jsonl", b"", "empty file"),
    ("blank.jsonl", b"\n  \r\n", "empty file"),
    ("empty.csv", b"", "empty file"),
    ("empty.eml", b"", "empty file"),
    ("header.csv", b"First Name,Email\n", "a header line and no rows"),
    ("none.json", b"[]", "an empty JSON array"),
    ("bom.csv", codecs.BOM_UTF8, "empty file"),
])
def test_a_file_with_no_items_says_so(tmp_path: Path, name: str, content: bytes,
                                      why: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert read(path) == ([], [f"{path}: no items ({why})"])
