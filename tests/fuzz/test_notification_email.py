"""A notification's email carries lead text in its Subject (company names, error reasons):
whatever that text is, the message builds, and the subject stays one header line."""

from __future__ import annotations

import email
import email.policy

from hypothesis import example, given
from hypothesis import strategies as st

from leadflow.tools.delivery import email_message
from tests.fuzz.strategies import HOSTILE_TOKENS

# Text the CRM can hold (no lone surrogates), hostile tokens included.
crm_text = st.lists(st.one_of(st.sampled_from([t for t in HOSTILE_TOKENS
                                               if not 0xD800 <= ord(t[0]) <= 0xDFFF]),
                              st.text(st.characters(codec="utf-8"), max_size=20)),
                    max_size=8).map("".join)


@given(crm_text, crm_text)
@example("New hot lead: Acme\nBcc: victim@example.com", "body")  # ValueError stopped delivery
@example("[failed] LEAD-1: LLM said:\r\nline two", "x\x00y")
@example("+1 555\x00\x80\x80Bcc: victim@example.com👩\u200d👧", "")
def test_notification_email_builds_with_a_one_line_subject(subject: str, body: str) -> None:
    message = email_message({"recipient": "rep@acme.example", "subject": subject,
                             "body": body, "dedupe_key": "lead:step:rep"})
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert [k for k in parsed if k.lower() not in ("from", "to", "subject", "message-id",
                                                   "content-type", "content-transfer-encoding",
                                                   "mime-version")] == []
    assert parsed["To"] == "rep@acme.example" and len(parsed.get_all("Subject") or []) == 1
    if "=?" not in subject:  # text that is itself an RFC 2047 word is decoded by the reader
        # (RFC 2047 drops the space between an encoded word and the next: compare without)
        assert "".join(str(parsed["Subject"]).split()) == "".join(subject.split())
