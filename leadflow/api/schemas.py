"""Request and response bodies of the HTTP API (pydantic: validated at the edge, with the
error messages a caller reads in a 422)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from leadflow.events import EventType

_DATETIME = TypeAdapter(datetime)
Source = Literal["web_form", "email", "chat", "event", "api"]


def _finite_json(value: Any, where: str) -> Any:
    """Refuse NaN and ±Infinity anywhere in `value`, naming where: JSON has no such numbers
    (Python's parser lets them through), PostgreSQL's JSON columns refuse them, and a lead
    half-stored is worse than a clear 422."""
    stack: list[tuple[str, Any]] = [(where, value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            raise PydanticCustomError(
                "finite_number", "{path} is {value}: JSON has no NaN or Infinity; send a "
                "number, a string or null", {"path": path, "value": str(node)})
        if isinstance(node, dict):
            stack.extend((f"{path}.{key}", child) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(node))
    return value


class ChatTurn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field(max_length=40)
    text: str = Field(max_length=100_000)


class EmailParts(BaseModel):
    model_config = ConfigDict(extra="allow")
    body: str = Field(max_length=1_000_000)
    subject: str = Field(default="", max_length=2_000)
    from_: str = Field(default="", alias="from", max_length=1_000)


class InboundItem(BaseModel):
    """One inbound item in the SPEC §8 format. The shape is checked here; what it says
    (a form without an email, say) is the graph's business and ends in a defined status."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "id": "form-123", "source": "web_form", "received_at": "2026-11-24T08:55:00Z",
        "payload": {"First Name": "Priya", "Work Email": "priya@lumenhealth.com",
                    "Company": "Lumen Health", "message": "Budget approved, sign this month."},
    }]})

    id: str | None = Field(default=None, max_length=200,
                           description="the sender's id for the item; makes resubmits no-ops")
    source: Source
    received_at: str | None = Field(default=None, max_length=64,
                                    description="arrival time, ISO-8601 / RFC 3339",
                                    json_schema_extra={"format": "date-time"})
    payload: (Annotated[dict[str, JsonValue], Field(min_length=1)]
              | Annotated[list[ChatTurn], Field(min_length=1)]
              | EmailParts
              | Annotated[str, Field(min_length=1)]) = Field(
        description="form/event fields, chat turns, raw RFC 822 text or {from, subject, body}")

    @field_validator("payload", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        return _finite_json(value, "payload")

    @field_validator("received_at")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        """Checked as a date-time but kept as sent, so the item (and the lead id derived
        from it) is the same whichever door it came in by."""
        if value is not None:
            try:
                _DATETIME.validate_python(value)
            except ValidationError:
                raise ValueError(f"received_at is not an ISO-8601 time: {value[:40]!r}") from None
        return value

    def as_item(self) -> dict[str, Any]:
        """The item as sent (only the fields given), so the same item has the same lead id
        whether it came through the API, the CLI or a file."""
        item: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return item


class AcceptedLeads(BaseModel):
    """Returned at once by POST /leads: the lead ids to poll; processing goes on behind."""

    lead_ids: list[str]
    accepted: int
    status_url: list[str]


class FormWebhook(BaseModel):
    """A web-form submission as form tools post it: the fields, plus optional metadata."""

    model_config = ConfigDict(extra="forbid")
    fields: dict[str, JsonValue] = Field(min_length=1, max_length=200)
    id: str | None = Field(default=None, max_length=200)
    received_at: str | None = Field(default=None, max_length=64,
                                    json_schema_extra={"format": "date-time"})

    @field_validator("fields", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        return _finite_json(value, "fields")

    @field_validator("received_at")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return InboundItem._iso(value)


class _VendorBody(BaseModel):
    """A vendor's webhook body: the documented keys checked, anything else the vendor adds
    kept (vendors add fields without notice), no NaN or Infinity anywhere."""

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        return _finite_json(value, "body")


class TypeformField(_VendorBody):
    id: str = Field(max_length=200)
    title: str = Field(default="", max_length=5_000)
    type: str | None = Field(default=None, max_length=64)
    ref: str | None = Field(default=None, max_length=200)


class TypeformDefinition(_VendorBody):
    id: str | None = Field(default=None, max_length=200)
    fields: list[TypeformField] = Field(default_factory=list, max_length=1_000)


class TypeformAnswer(_VendorBody):
    type: str = Field(max_length=64)
    field: dict[str, JsonValue]


class TypeformResponse(_VendorBody):
    form_id: str | None = Field(default=None, max_length=200)
    token: str | None = Field(default=None, max_length=200)
    submitted_at: str | None = Field(default=None, max_length=64,
                                     json_schema_extra={"format": "date-time"})
    definition: TypeformDefinition | None = None
    answers: list[TypeformAnswer] = Field(default_factory=list, max_length=1_000)
    hidden: dict[str, JsonValue] | None = None

    @field_validator("submitted_at")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        return InboundItem._iso(value)


class TypeformWebhook(_VendorBody):
    """Typeform's webhook body (its documented `form_response` event)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "event_id": "01JD8Q0S5B7", "event_type": "form_response",
        "form_response": {
            "form_id": "aBc123", "token": "t0k3n", "submitted_at": "2026-11-24T08:55:00Z",
            "definition": {"id": "aBc123", "fields": [
                {"id": "f1", "title": "What's your work email?", "type": "email"},
                {"id": "f2", "title": "Tell us about your project", "type": "long_text"}]},
            "answers": [
                {"type": "email", "email": "priya@lumenhealth.com",
                 "field": {"id": "f1", "type": "email"}},
                {"type": "text", "text": "Budget approved, we sign this month.",
                 "field": {"id": "f2", "type": "long_text"}}]}}]})

    event_id: str | None = Field(default=None, max_length=200)
    event_type: str = Field(max_length=64)
    form_response: TypeformResponse | None = None


class IntercomData(_VendorBody):
    item: dict[str, JsonValue]


class IntercomWebhook(_VendorBody):
    """Intercom's webhook notification (`type: notification_event`); conversation topics
    `conversation.user.created` and `conversation.user.replied` become chat leads."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": "notification_event", "id": "notif_1", "topic": "conversation.user.created",
        "created_at": 1795942500, "data": {"type": "notification_event_data", "item": {
            "type": "conversation", "id": "1911", "created_at": 1795942500,
            "source": {"type": "conversation", "subject": "", "body": "<p>Pricing for 40 "
                       "seats? Budget approved.</p>", "author": {
                           "type": "lead", "id": "5f1", "name": "Priya Shah",
                           "email": "priya@lumenhealth.com"}},
            "conversation_parts": {"type": "conversation_part.list",
                                   "conversation_parts": []}}}}]})

    type: str | None = Field(default=None, max_length=64)
    id: str | None = Field(default=None, max_length=200)
    topic: str = Field(max_length=100)
    created_at: int | None = None
    data: IntercomData | None = None


class EngagementEvent(BaseModel):
    """An engagement webhook from the CRM or mail tool: it wakes the lead's follow-up."""

    model_config = ConfigDict(extra="forbid")
    lead_id: str = Field(pattern=r"^LEAD-[A-Za-z0-9_-]{1,60}$")
    event: EventType
    at: datetime | None = None
    rep_id: str | None = Field(default=None, max_length=64,
                               description="for `reassigned`: the new rep")


class SlotView(BaseModel):
    """One meeting slot of a rep: UTC start and end, and as the lead reads it (rep's zone)."""

    start: str = Field(description="ISO 8601, UTC: what POST /leads/{id}/book takes")
    end: str
    timezone: str = Field(description="the rep's IANA time zone")
    local: str = Field(description="the start in the rep's zone, as the first email writes it")


class LeadSlots(BaseModel):
    """GET /leads/{id}/slots: the owner's next open slots, read from their calendar now."""

    lead_id: str
    rep_id: str
    timezone: str
    slot_minutes: int
    slots: list[SlotView]


class BookingRequest(BaseModel):
    """POST /leads/{id}/book: the start of one of the owner's slots (as GET …/slots gave it)."""

    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime = Field(description="ISO 8601 with a zone, e.g. 2026-12-08T15:00:00Z")


class Booking(BaseModel):
    """A booked meeting: the slot, the event in the rep's calendar, the lead afterwards."""

    lead_id: str
    rep_id: str
    slot: SlotView
    event_uid: str
    event_url: str | None
    already_booked: bool = Field(description="true: this lead had booked this slot before; "
                                             "nothing new was written")
    outcome: dict[str, Any] | None = Field(description="the lead's outcome record after "
                                                       "`meeting_booked` was recorded")


class LeadView(BaseModel):
    """GET /leads/{id}: the outcome record, its message log and trajectory."""

    lead_id: str
    status: str
    outcome: dict[str, Any] | None = None
    messages: list[dict[str, Any]] = []
    trajectory: list[str] = []
    review: dict[str, Any] | None = None


class LeadSummary(BaseModel):
    lead_id: str
    status: str | None
    status_reason: str | None
    tier: str | None
    bant_total: int | None
    channel: str | None
    received_at: datetime | None
    updated_at: datetime | None
    ingested_at: datetime | None = None  # the page order: ingested_at, then lead_id
    rep_id: str | None = Field(None, description="the lead's current owner, if assigned")


class ReviewItem(BaseModel):
    lead_id: str
    reason: str
    since: datetime | None


class ErasureReceipt(BaseModel):
    """What `DELETE /contacts/{email}` erased (the audit entry's content; no personal data)."""

    erasure_id: int = Field(description="the audit entry in the CRM's `erasures` table")
    lead_ids: list[str] = Field(description="the person's leads, kept anonymised")
    threads: int = Field(description="checkpointed threads deleted")
    rows: dict[str, int] = Field(description="CRM table → rows anonymised")
    meetings_deleted: int = Field(0, description="their meetings deleted from the reps' "
                                                 "calendars (and any earlier erasure left)")
    meetings_pending: list[dict[str, str]] = Field(
        default_factory=list, description="meetings still in a calendar that could not be "
        "reached: {lead_id, rep_id, start, why}; retried by every later erasure and "
        "`leadflow forget --retry-calendars`, operations notified")


class Problem(BaseModel):
    """Every error body: a short reason a caller can act on, never a stack trace."""

    detail: str | list[dict[str, Any]]


class LeadExplanation(BaseModel):
    """Plain sentences per question: why this tier, why this rep or queue, what a person
    changed, data notes, what happens next."""

    lead_id: str
    headline: str
    sections: dict[str, list[str]]
