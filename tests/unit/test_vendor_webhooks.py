"""Vendor webhook bodies, shaped as the vendors document them, mapped into items."""

from __future__ import annotations

from typing import Any

import pytest

from leadflow.tools.ingest import parse_item
from leadflow.tools.ingest.webhooks import WebhookShapeError, intercom_item, typeform_item


def typeform_body(**response: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "form_id": "Qx7Lm2", "token": "9f8e7d6c5b", "landed_at": "2026-11-23T16:58:10Z",
        "submitted_at": "2026-11-23T17:02:44Z",
        "hidden": {"utm_source": "linkedin", "utm_campaign": "q4-ops"},
        "definition": {"id": "Qx7Lm2", "title": "Talk to sales", "fields": [
            {"id": "a1", "title": "What is your first name?", "type": "short_text",
             "ref": "first"},
            {"id": "a2", "title": "Thanks {{field:first}}! Where can we reach you?",
             "type": "email", "ref": "contact_email"},
            {"id": "a3", "title": "Which company do you work for?", "type": "short_text",
             "ref": "org"},
            {"id": "a4", "title": "How many employees does your company have?",
             "type": "number", "ref": "size"},
            {"id": "a5", "title": "Which products interest you?", "type": "multiple_choice",
             "ref": "products", "allow_multiple_selections": True},
            {"id": "a6", "title": "Tell us about your project", "type": "long_text",
             "ref": "project"},
            {"id": "a7", "title": "Newsletter?", "type": "yes_no", "ref": "news"},
        ]},
        "answers": [
            {"type": "text", "text": "Oskar", "field": {"id": "a1", "type": "short_text"}},
            {"type": "email", "email": "oskar.lind@fjordfreight.no",
             "field": {"id": "a2", "type": "email"}},
            {"type": "text", "text": "Fjord Freight AS", "field": {"id": "a3",
                                                                  "type": "short_text"}},
            {"type": "number", "number": 640, "field": {"id": "a4", "type": "number"}},
            {"type": "choices", "choices": {"labels": ["Routing", "Analytics"]},
             "field": {"id": "a5", "type": "multiple_choice"}},
            {"type": "text", "text": "We want to replace our dispatch spreadsheets before "
                                     "the spring season.", "field": {"id": "a6",
                                                                     "type": "long_text"}},
            {"type": "boolean", "boolean": False, "field": {"id": "a7", "type": "yes_no"}},
        ],
    }
    base.update(response)
    return {"event_id": "01JDX5", "event_type": "form_response", "form_response": base}


def test_typeform_answers_are_named_by_their_questions() -> None:
    item = typeform_item(typeform_body())
    assert item is not None
    assert item["source"] == "web_form" and item["id"] == "typeform:Qx7Lm2:9f8e7d6c5b"
    assert item["received_at"] == "2026-11-23T17:02:44Z"
    fields = item["payload"]
    # the piped title names no field, so the email answer is named by its type
    assert fields["email"] == "oskar.lind@fjordfreight.no"
    assert fields["Which products interest you?"] == "Routing, Analytics"
    assert fields["utm_source"] == "linkedin"
    _, parsed = parse_item(item)
    assert parsed["email"] == "oskar.lind@fjordfreight.no"
    assert parsed["first_name"] == "Oskar" and parsed["company"] == "Fjord Freight AS"
    assert str(parsed["employees"]) == "640"
    assert "dispatch spreadsheets" in parsed["inquiry"]


def test_typeform_redelivery_is_the_same_item_and_other_events_are_none() -> None:
    assert typeform_item(typeform_body()) == typeform_item(typeform_body())
    assert typeform_item({"event_type": "form_partial_response", "form_response": {}}) is None
    with pytest.raises(WebhookShapeError, match="nothing was answered"):
        typeform_item(typeform_body(answers=[]))


def intercom_body(topic: str = "conversation.user.created", **item: Any) -> dict[str, Any]:
    conversation: dict[str, Any] = {
        "type": "conversation", "id": "30518", "created_at": 1795945200,
        "source": {"type": "conversation", "delivered_as": "customer_initiated",
                   "subject": "", "body": "<p>Hi! Do you integrate with SAP? We are "
                                          "<b>180 people</b> and need it by March.</p>",
                   "author": {"type": "lead", "id": "6a2", "name": "Ines Carvalho",
                              "email": "ines@portoverde.pt"}},
        "conversation_parts": {"type": "conversation_part.list", "total_count": 3,
                               "conversation_parts": [
            {"type": "conversation_part", "id": "p1", "part_type": "comment",
             "body": "<p>Yes, we do. What is your role?</p>",
             "author": {"type": "admin", "id": "9", "name": "Sam"}},
            {"type": "conversation_part", "id": "p2", "part_type": "note",
             "body": "<p>looks big</p>", "author": {"type": "admin", "id": "9"}},
            {"type": "conversation_part", "id": "p3", "part_type": "comment",
             "body": "<p>I am the CFO.</p>",
             "author": {"type": "lead", "id": "6a2", "name": "Ines Carvalho"}},
        ]},
    }
    conversation.update(item)
    return {"type": "notification_event", "id": "notif_77", "topic": topic,
            "created_at": 1795945260,
            "data": {"type": "notification_event_data", "item": conversation}}


def test_intercom_conversation_becomes_a_chat_with_the_contact_known() -> None:
    item = intercom_item(intercom_body())
    assert item is not None
    assert item["source"] == "chat" and item["id"] == "intercom:30518:p3"
    assert item["received_at"].startswith("2026-")
    roles = [turn["role"] for turn in item["payload"]]
    assert roles.count("agent") == 1  # the admin's comment; the internal note is left out
    assert not any("looks big" in turn["text"] for turn in item["payload"])
    _, parsed = parse_item(item)
    assert parsed["email"] == "ines@portoverde.pt"
    assert parsed.get("full_name") == "Ines Carvalho"
    assert "SAP" in parsed["inquiry"] and "<p>" not in parsed["inquiry"]


def test_intercom_other_topics_are_none_and_a_silent_contact_is_refused() -> None:
    assert intercom_item(intercom_body("conversation.admin.replied")) is None
    assert intercom_item({"type": "notification_event", "topic": "ping", "data": {}}) is None
    silent = intercom_body(source={"type": "conversation", "body": "<p>Hello from us</p>",
                                   "author": {"type": "admin", "id": "9"}},
                           conversation_parts={"conversation_parts": []})
    with pytest.raises(WebhookShapeError, match="no message from the contact"):
        intercom_item(silent)
    huge = intercom_item(intercom_body(created_at=10**20))
    assert huge is not None and "received_at" not in huge
