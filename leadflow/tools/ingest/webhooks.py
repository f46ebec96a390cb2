"""Vendors' webhook payloads, in their documented JSON shapes, as SPEC §8 items.

- Typeform's `form_response` event: `form_response.definition.fields` (each question's id and
  title) and `form_response.answers` (each answer typed: text, email, choice, …, pointing at
  its field by id) become a `web_form` item whose fields are named by the questions' titles,
  which `form.field_for_key` reads like any form's column names ("What's your work email?"
  → email). An answer whose title names no known field but whose type does (an `email`,
  `phone_number` or `url` answer) is named by its type. Hidden fields (UTM tags) are kept.
- Intercom's conversation notifications (`conversation.user.created`, `.replied`): the
  conversation's first message and its comment parts become a `chat` item; the contact's
  name and email that Intercom knows become the pre-chat Q&A turns they were collected by.

Each item's id is the vendor's own id for the submission or message, so a retried delivery
is the same lead. A payload of another kind (Typeform's other events, Intercom's admin
topics or its `ping`) is no item: `None`. A payload that says it is one but cannot be read
raises WebhookShapeError with the reason.
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any

from leadflow.tools.ingest.form import field_for_key
from leadflow.tools.ingest.patterns import strip_html

TYPEFORM_EVENT = "form_response"
INTERCOM_TOPICS = ("conversation.user.created", "conversation.user.replied")
# a Typeform answer type that names its field when the question's title does not
_TYPED_FIELDS = {"email": "email", "phone_number": "phone", "url": "website"}
_PIPED = re.compile(r"\{\{[^{}]*\}\}")  # "Thanks {{field:abc}}, your email?": recalled answers
_VISITOR_AUTHORS = ("user", "lead", "contact")


class WebhookShapeError(ValueError):
    """A vendor payload of the right kind that cannot be read as an item."""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------------------- Typeform
def _answer_value(answer: dict[str, Any]) -> Any:
    kind = str(answer.get("type") or "")
    value = answer.get(kind)
    if kind == "choice" and isinstance(value, dict):
        return value.get("label") or value.get("other")
    if kind == "choices" and isinstance(value, dict):
        labels = [str(v) for v in value.get("labels") or [] if v]
        if value.get("other"):
            labels.append(str(value["other"]))
        return ", ".join(labels) or None
    if kind == "payment" and isinstance(value, dict):
        return None  # card details are no lead data
    if isinstance(value, dict | list):
        return None
    return value


def typeform_item(body: dict[str, Any]) -> dict[str, Any] | None:
    """A Typeform webhook body as a `web_form` item; None for another event type."""
    if body.get("event_type") != TYPEFORM_EVENT:
        return None
    response = body.get("form_response")
    if not isinstance(response, dict):
        raise WebhookShapeError("form_response is missing")
    answers = response.get("answers")
    if not isinstance(answers, list) or not answers:
        raise WebhookShapeError("form_response.answers is empty: nothing was answered")
    definition = _dict(response.get("definition"))
    titles = {str(f.get("id")): str(f.get("title") or "")
              for f in definition.get("fields") or [] if isinstance(f, dict)}
    fields: dict[str, Any] = {}
    for answer in answers:
        if not isinstance(answer, dict):
            continue
        value = _answer_value(answer)
        if value is None or value == "":
            continue
        field = _dict(answer.get("field"))
        title = " ".join(_PIPED.sub("", titles.get(str(field.get("id")), "")).split())
        name = title or str(field.get("ref") or field.get("id") or answer.get("type"))
        typed = _TYPED_FIELDS.get(str(answer.get("type")))
        if typed and field_for_key(name) != typed:
            name = typed
        key, n = name, 2
        while key in fields:  # two questions with one title keep both answers
            key, n = f"{name} ({n})", n + 1
        fields[key] = value
    for name, value in _dict(response.get("hidden")).items():
        if value not in (None, "") and name not in fields:
            fields[str(name)] = value
    if not fields:
        raise WebhookShapeError("no answer in form_response.answers has a value")
    token = response.get("token") or body.get("event_id")
    item: dict[str, Any] = {"source": "web_form", "payload": fields}
    if token:
        item["id"] = f"typeform:{response.get('form_id') or ''}:{token}"[:200]
    if isinstance(response.get("submitted_at"), str):
        item["received_at"] = response["submitted_at"]
    return item


# ---------------------------------------------------------------------------- Intercom
def _text(html: object) -> str:
    return strip_html(str(html)).strip() if html else ""


def _turn(author: object, body: object) -> dict[str, str] | None:
    text = _text(body)
    if not text:
        return None
    kind = str(author.get("type") if isinstance(author, dict) else "").lower()
    return {"role": "visitor" if kind in _VISITOR_AUTHORS else "agent", "text": text}


def intercom_item(body: dict[str, Any]) -> dict[str, Any] | None:
    """An Intercom conversation notification as a `chat` item; None for other topics."""
    if body.get("topic") not in INTERCOM_TOPICS:
        return None
    data = body.get("data")
    conversation = data.get("item") if isinstance(data, dict) else None
    if not isinstance(conversation, dict) or not conversation.get("id"):
        raise WebhookShapeError("data.item is not a conversation")
    source = _dict(conversation.get("source"))
    author = _dict(source.get("author"))
    turns: list[dict[str, str]] = []
    if str(author.get("type") or "").lower() in _VISITOR_AUTHORS:
        # what the messenger's pre-chat form (or its email-capture bot) asked the contact
        for question, answer in (("Name:", author.get("name")), ("Email:", author.get("email"))):
            if answer:
                turns += [{"role": "bot", "text": question},
                          {"role": "visitor", "text": str(answer)}]
    subject = _text(source.get("subject"))
    first = _turn(author, "\n".join(p for p in (subject, str(source.get("body") or "")) if p))
    if first:
        turns.append(first)
    holder = conversation.get("conversation_parts")
    parts = holder.get("conversation_parts") if isinstance(holder, dict) else None
    last_part = ""
    for part in parts or []:
        if not isinstance(part, dict) or part.get("part_type") == "note":
            continue  # an internal note is the team's, not the conversation's; parts with
            # no body (assignment, open, close) make no turn
        if (turn := _turn(part.get("author"), part.get("body"))) is not None:
            turns.append(turn)
            last_part = str(part.get("id") or last_part)
    if not any(t["role"] == "visitor" for t in turns):
        raise WebhookShapeError("the conversation has no message from the contact")
    item: dict[str, Any] = {"source": "chat", "payload": turns,
                            "id": f"intercom:{conversation['id']}"
                                  + (f":{last_part}" if last_part else "")}
    created = conversation.get("created_at") or body.get("created_at")
    if isinstance(created, int | float) and not isinstance(created, bool):
        # not a time (out of range): no received_at, the lead arrives now
        with contextlib.suppress(OverflowError, ValueError, OSError):
            item["received_at"] = datetime.fromtimestamp(created, UTC).isoformat()
    return item
