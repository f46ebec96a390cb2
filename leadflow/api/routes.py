"""The HTTP routes (SPEC §8): leads in and out, reviews, engagement, form and vendor
(Typeform, Intercom) webhooks, metrics and health. Thin: the work is in `LeadService`,
`review` and `followup`."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse
from pydantic import Field, WithJsonSchema
from sqlalchemy import text

from leadflow.api.schemas import (
    AcceptedLeads,
    Booking,
    BookingRequest,
    EngagementEvent,
    ErasureReceipt,
    FormWebhook,
    InboundItem,
    IntercomWebhook,
    LeadExplanation,
    LeadSlots,
    LeadSummary,
    LeadView,
    Problem,
    ReviewItem,
    TypeformWebhook,
)
from leadflow.api.service import LeadService
from leadflow.explain import explain_lead
from leadflow.followup import Wake
from leadflow.meetings import BookingRefused
from leadflow.review import ReviewDecision
from leadflow.tools.crm_reads import (
    CURSOR_MAX_LENGTH,
    CURSOR_PATTERN,
    RELATIVE_PATTERN,
    BadListing,
    moment,
)
from leadflow.tools.ingest.webhooks import WebhookShapeError, intercom_item, typeform_item

MAX_BATCH = 1000
Status = Literal["routed", "nurture", "marketing", "manual_review", "escalated",
                 "awaiting_followup"]
Tier = Literal["hot", "warm", "cold", "unqualified"]
# GET /leads?since=&until=: an RFC 3339 date-time, a date, or an age back from now ('7d'),
# read by crm_reads.moment as `leads list` reads them (pydantic would take a date for
# a midnight, and a number for a Unix time)
Moment = Annotated[str, WithJsonSchema({"anyOf": [
    {"type": "string", "format": "date-time"}, {"type": "string", "format": "date"},
    {"type": "string", "pattern": RELATIVE_PATTERN}]})]
# Documented, not enforced: an id of any other shape is simply no lead (404).
LeadId = Annotated[str, Path(description="the lead's id, as POST /leads returned it",
                             json_schema_extra={"pattern": "^LEAD-"})]

# Documented on every route so clients (and the schemathesis contract test) know them.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the body could not be read (not UTF-8 text, "
                                           "nested too deeply)"},
    401: {"model": Problem, "description": "missing or wrong API key"},
    413: {"model": Problem, "description": "request body too large"},
    422: {"model": Problem, "description": "invalid request: each problem with its location"},
    429: {"model": Problem, "description": "too many wrong API keys from this address: "
                                           "wait Retry-After seconds"},
    431: {"model": Problem, "description": "request headers too large"},
}
router = APIRouter(responses=ERRORS)


def service_of(request: Request) -> LeadService:
    service: LeadService = request.app.state.service
    return service


async def _accept(request: Request, items: list[dict[str, Any]]) -> AcceptedLeads:
    ids = await service_of(request).accept(items)
    return AcceptedLeads(lead_ids=ids, accepted=len(ids),
                         status_url=[f"/leads/{lead_id}" for lead_id in ids])


@router.post("/leads", status_code=202, response_model=AcceptedLeads, tags=["leads"])
async def post_leads(
    request: Request,
    body: Annotated[InboundItem | Annotated[list[InboundItem], Field(
        min_length=1, max_length=MAX_BATCH)], Body(
        description=f"one SPEC §8 item, or a list of 1 to {MAX_BATCH}")],
) -> AcceptedLeads:
    """Accept one item or a batch; the ids come back at once, processing goes on behind."""
    items = body if isinstance(body, list) else [body]
    return await _accept(request, [item.as_item() for item in items])


@router.get("/leads/{lead_id}", response_model=LeadView, tags=["leads"],
            responses={404: {"model": Problem, "description": "no such lead"}})
async def get_lead(request: Request, lead_id: LeadId) -> dict[str, Any]:
    """The outcome record, the message log and the trajectory (status `processing` while
    the lead is on its way)."""
    view = await service_of(request).view(lead_id)
    if view is None:
        raise HTTPException(404, f"no lead {lead_id}")
    return view


@router.get("/leads/{lead_id}/explanation", response_model=LeadExplanation, tags=["leads"],
            responses={404: {"model": Problem, "description": "no such lead"}})
async def explain(request: Request, lead_id: LeadId) -> dict[str, Any]:
    """Why the lead has its tier, its rep or queue, what a person changed and what happens
    next (due times in the lead's local time), in plain sentences."""
    tools = service_of(request).tools
    found = await asyncio.to_thread(explain_lead, tools.crm, tools.reps, lead_id)
    if found is None:
        raise HTTPException(404, f"no lead {lead_id}")
    return found.as_dict()


@router.get("/leads", response_model=list[LeadSummary], tags=["leads"], responses={200: {
    "description": "the page's leads, newest first",
    "headers": {
        "Next-Cursor": {"description": "the `cursor` of the next page; absent on the last",
                        "schema": {"type": "string", "pattern": CURSOR_PATTERN}},
        "Link": {"description": 'the next page\'s URL, `<…>; rel="next"` (RFC 8288)',
                 "schema": {"type": "string"}}}}})
async def list_leads(
    request: Request,
    response: Response,
    status: Status | None = None,
    tier: Tier | None = None,
    rep: Annotated[str | None, Query(min_length=1, max_length=64,
                                     description="the lead's current owner (a rep id)")] = None,
    since: Annotated[Moment | None, Query(
        description="ingested at or after: a date (its midnight UTC), an RFC 3339 date-time "
                    "(with its zone), or an age back from now (`36h`, `7d`, `2w`)")] = None,
    until: Annotated[Moment | None, Query(
        description="ingested before (a date: through its end of day), as `since`")] = None,
    cursor: Annotated[str | None, Query(
        pattern=CURSOR_PATTERN, max_length=CURSOR_MAX_LENGTH,
        description="the previous page's `Next-Cursor`: this page starts after it")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    """The newest leads (by ingestion, then id), filtered by status, tier, rep and time,
    a page at a time: a full page's `Next-Cursor` header is the next one's `cursor`."""
    now = service_of(request).tools.clock.now()
    bounds: dict[str, datetime | None] = {}
    for name, given in (("since", since), ("until", until)):
        try:
            bounds[name] = None if given is None else moment(
                given, now=now, zoned=True, end=name == "until")
        except BadListing as exc:
            raise HTTPException(422, f"{name}: {exc}") from None
    page = await asyncio.to_thread(service_of(request).tools.crm.lead_page, status=status,
                                   tier=tier, rep=rep, cursor=cursor, limit=limit, **bounds)
    if page.next_cursor is not None:
        response.headers["Next-Cursor"] = page.next_cursor
        following = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return [{"lead_id": r["id"], **{k: r.get(k) for k in LeadSummary.model_fields
                                     if k != "lead_id"}} for r in page.leads]


@router.get("/review", response_model=list[ReviewItem], tags=["review"])
async def review_list(request: Request,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
    """Leads waiting for a person, oldest first."""
    rows = await asyncio.to_thread(service_of(request).tools.crm.queue_items,
                                   "manual_review", limit)
    return [{"lead_id": r["lead_id"], "reason": r["reason"], "since": r["created_at"]}
            for r in rows]


@router.get("/review/{lead_id}", tags=["review"],
            responses={404: {"model": Problem, "description": "not waiting for review"}})
async def review_show(request: Request, lead_id: LeadId) -> dict[str, Any]:
    """The review request a paused lead waits on: question, options, evidence."""
    review = await service_of(request).review_request(lead_id)
    if review is None:
        raise HTTPException(404, f"{lead_id} is not waiting for review")
    return review


@router.post("/review/{lead_id}/decide", tags=["review"],
             responses={404: {"model": Problem, "description": "no such lead"},
                        409: {"model": Problem, "description": "not waiting for review"}})
async def review_decide(request: Request, lead_id: LeadId,
                        decision: ReviewDecision) -> dict[str, Any]:
    """Resume the paused lead with a decision (the same logic as `leadflow review decide`
    and a resume from Studio); returns the lead's outcome afterwards."""
    service = service_of(request)
    try:
        return await service.decide(lead_id, decision)
    except ValueError as exc:
        if await service.view(lead_id) is None:
            raise HTTPException(404, f"no lead {lead_id}") from exc
        raise HTTPException(409, str(exc)) from exc


@router.post("/events", tags=["follow-up"],
             responses={409: {"model": Problem, "description": "not waiting for follow-up"}})
async def post_event(request: Request, event: EngagementEvent) -> dict[str, Any]:
    """Engagement webhook (contacted, replied, meeting booked, closed won/lost,
    reassigned): records it and wakes the lead's follow-up."""
    wake = Wake(event=event.event, rep_id=event.rep_id,
                at=event.at.isoformat() if event.at else None)
    try:
        return await service_of(request).engagement(event.lead_id, wake)
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from exc


@router.get("/leads/{lead_id}/slots", response_model=LeadSlots, tags=["follow-up"], responses={
    404: {"model": Problem, "description": "no such lead"},
    409: {"model": Problem, "description": "not bookable: not waiting for follow-up, not "
                                           "owned by a rep, or the rep has no calendar"},
    503: {"model": Problem, "description": "the rep's calendar cannot be read now"}})
async def lead_slots(request: Request, lead_id: LeadId) -> dict[str, Any]:
    """The lead's owner's next open slots: working hours in the rep's time zone, minus what
    their calendar shows busy, the first at least the configured buffer from now."""
    try:
        return await service_of(request).slots(lead_id)
    except BookingRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc


@router.post("/leads/{lead_id}/book", response_model=Booking, tags=["follow-up"], responses={
    404: {"model": Problem, "description": "no such lead"},
    409: {"model": Problem, "description": "the slot is taken (another booking, or busy in "
                                           "the rep's calendar), or the lead is not bookable"},
    422: {"model": Problem, "description": "not one of the owner's slots"},
    503: {"model": Problem, "description": "the rep's calendar cannot be reached: nothing "
                                           "was booked"}})
async def book_meeting(request: Request, lead_id: LeadId, body: BookingRequest) -> dict[str, Any]:
    """Book one of the owner's slots: re-checks their free/busy, writes the event (the lead
    as attendee) into the rep's calendar, and records `meeting_booked` as POST /events does
    (the SLA's first touch). Of two bookings of one slot, one gets 409."""
    try:
        return await service_of(request).book(lead_id, body.start)
    except BookingRefused as exc:
        raise HTTPException(exc.status, str(exc)) from exc


@router.post("/ingest/form", status_code=202, response_model=AcceptedLeads, tags=["leads"])
async def ingest_form(request: Request, form: FormWebhook) -> AcceptedLeads:
    """Web-form webhook: the form's fields as posted, any field names."""
    item: dict[str, Any] = {"source": "web_form", "payload": form.fields}
    if form.id:
        item["id"] = form.id
    if form.received_at:
        item["received_at"] = form.received_at
    return await _accept(request, [item])


async def _accept_vendor(request: Request, item: dict[str, Any] | None) -> AcceptedLeads:
    """A vendor's event that is no lead (another event type, a ping) is acknowledged with
    nothing accepted, so the vendor does not retry it."""
    if item is None:
        return AcceptedLeads(lead_ids=[], accepted=0, status_url=[])
    return await _accept(request, [item])


@router.post("/ingest/typeform", status_code=202, response_model=AcceptedLeads, tags=["leads"])
async def ingest_typeform(request: Request, body: TypeformWebhook) -> AcceptedLeads:
    """Typeform's webhook (`form_response`): the answers, named by their questions' titles,
    as a web-form lead; a redelivery (same response token) is the same lead. Other event
    types are acknowledged and ignored."""
    try:
        item = typeform_item(body.model_dump(mode="json", exclude_none=True))
    except WebhookShapeError as exc:
        raise HTTPException(422, str(exc)) from None
    return await _accept_vendor(request, item)


@router.post("/ingest/intercom", status_code=202, response_model=AcceptedLeads, tags=["leads"])
async def ingest_intercom(request: Request, body: IntercomWebhook) -> AcceptedLeads:
    """Intercom's webhook (topics `conversation.user.created`, `conversation.user.replied`):
    the conversation as a chat lead, the contact's name and email included. Other topics
    (and Intercom's `ping`) are acknowledged and ignored."""
    try:
        item = intercom_item(body.model_dump(mode="json", exclude_none=True))
    except WebhookShapeError as exc:
        raise HTTPException(422, str(exc)) from None
    return await _accept_vendor(request, item)


@router.delete("/contacts/{email}", response_model=ErasureReceipt, tags=["privacy"],
               responses={404: {"model": Problem, "description": "nobody has this address"}})
async def forget_contact(
    request: Request,
    email: Annotated[str, Path(description="the person's email address (any case)",
                               max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")],
) -> dict[str, Any]:
    """Erase a person: their data in every CRM table and every checkpoint of their threads
    (as `leadflow forget`). Their leads stay, anonymised, so the metrics still count them;
    the erasure itself is recorded (who, when, which leads, rows per table)."""
    client = request.client.host if request.client else "unknown"
    report = None if "\x00" in email else await service_of(request).forget(
        email, requested_by=f"api ({client})")
    if report is None:
        raise HTTPException(404, "nobody is known by that address")
    return report.as_dict()


@router.get("/metrics", response_class=PlainTextResponse, tags=["ops"])
async def metrics(request: Request) -> Response:
    """Prometheus text exposition of the dashboard's numbers."""
    from leadflow.metrics import prometheus_text, snapshot

    tools = service_of(request).tools
    numbers = await asyncio.to_thread(snapshot, tools.crm, tools.reps, tools.clock.now())
    return PlainTextResponse(prometheus_text(numbers),
                             media_type="text/plain; version=0.0.4; charset=utf-8")


@router.get("/healthz", tags=["ops"],
            responses={503: {"model": Problem, "description": "database unreachable"}})
async def healthz(request: Request) -> dict[str, str]:
    """Liveness and database reachability; the one route without an API key."""
    tools = service_of(request).tools

    def ping() -> None:
        with tools.crm.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        await asyncio.to_thread(ping)
    except Exception as exc:  # noqa: BLE001 — report, don't crash the probe
        raise HTTPException(503, "database unreachable") from exc
    return {"status": "ok"}
