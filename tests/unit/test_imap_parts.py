"""The IMAP watch's pieces that need no server: the mailbox URL, a message as an item, and
the CRM cursor that only moves forward within one UIDVALIDITY."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from leadflow.identity import workflow_id_for
from leadflow.tools.crm import CrmStore
from leadflow.tools.ingest.imap import ImapError, message_id, message_item, parse_mailbox_url


@pytest.mark.parametrize(("url", "plain", "expected"), [
    ("imap://ann@mail.example.org/INBOX", False, ("ann", "mail.example.org", 143, "INBOX",
                                                  "starttls")),
    ("imaps://ann@mail.example.org", False, ("ann", "mail.example.org", 993, "INBOX",
                                             "implicit")),
    ("imap://ann@mail.example.org:993/Sales%2FLeads", False,
     ("ann", "mail.example.org", 993, "Sales/Leads", "implicit")),
    ("imap://ann%40corp.example@localhost:1143/INBOX", True,
     ("ann@corp.example", "localhost", 1143, "INBOX", "plain")),
])
def test_mailbox_url_tls_by_default(url: str, plain: bool,
                                    expected: tuple[str, str, int, str, str]) -> None:
    got = parse_mailbox_url(url, plain=plain)
    assert (got.user, got.host, got.port, got.folder, got.tls) == expected
    assert "@" in got.key and got.key.startswith("imap://")


@pytest.mark.parametrize(("url", "plain", "words"), [
    ("https://mail.example.org/INBOX", False, "not a mailbox URL"),
    ("imap://ann:hunter2@mail.example.org/INBOX", False, "LEADFLOW_IMAP_PASSWORD"),
    ("imap://mail.example.org/INBOX", False, "no user"),
    ("imap://ann@mail.example.org/INBOX", True, "only allowed"),
    ("imap://ann@mail.example.org:99999/INBOX", False, "not a mailbox URL"),
])
def test_mailbox_url_mistakes_say_what_is_wrong(url: str, plain: bool, words: str) -> None:
    with pytest.raises(ImapError, match=words):
        parse_mailbox_url(url, plain=plain)


def test_user_may_come_from_the_environment() -> None:
    assert parse_mailbox_url("imaps://imap.example.net/INBOX", user="bo").user == "bo"


def test_message_item_is_keyed_by_message_id_whatever_the_arrival() -> None:
    raw = (b"From: Kit Olsen <kit@tarnfield.io>\r\nMessage-ID:\r\n <abc.123@tarnfield.io>\r\n"
           b"Subject: demo\r\n\r\nCan we see a demo next week?\r\n")
    assert message_id(raw) == "<abc.123@tarnfield.io>"
    one = message_item(raw, datetime(2026, 11, 2, 9, 30, tzinfo=timezone(timedelta(hours=1))))
    later = message_item(raw, datetime(2026, 12, 1, 8, 0, tzinfo=UTC))
    assert one["source"] == "email" and one["id"] == "<abc.123@tarnfield.io>"
    assert one["received_at"] == "2026-11-02T08:30:00+00:00"
    assert workflow_id_for(one) == workflow_id_for(later)


def test_message_without_id_is_keyed_by_its_bytes() -> None:
    raw = b"From: kit@tarnfield.io\r\n\r\nhello\r\n"
    item = message_item(raw, None)
    assert item["id"].startswith("sha256:") and "received_at" not in item
    assert message_item(raw, None)["id"] == item["id"]
    assert message_item(raw + b"!", None)["id"] != item["id"]
    # a Message-ID only in the body is not the message's
    assert message_id(b"Subject: x\r\n\r\nMessage-ID: <fake@x>\r\n") is None


def test_cursor_moves_forward_and_resets_on_new_uidvalidity(tmp_path: Path) -> None:
    crm = CrmStore(f"sqlite:///{tmp_path / 'crm.db'}")
    now = datetime(2026, 11, 24, tzinfo=UTC)
    box = "imap://ann@mail.example.org:993/INBOX"
    assert crm.mailbox_cursor(box) is None
    crm.save_mailbox_cursor(box, 7, 10, now)
    crm.save_mailbox_cursor(box, 7, 4, now)  # an older batch finishing late: no step back
    kept = crm.mailbox_cursor(box)
    assert kept is not None and (kept.uidvalidity, kept.last_uid) == (7, 10)
    crm.save_mailbox_cursor(box, 4_294_967_295, 2, now)  # renumbered; 32-bit unsigned
    got = crm.mailbox_cursor(box)
    assert got is not None and (got.uidvalidity, got.last_uid) == (4_294_967_295, 2)
    crm.close()
