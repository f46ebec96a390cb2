"""Capture (LeadCapture Pro): parse the inbound item, extract and standardise the record
(SPEC §3), dedupe against the CRM and upsert it. No usable contact → failure edge."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Sequence
from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from leadflow.agents.base import StepOutput
from leadflow.agents.llm_step import ask_llm, provenance
from leadflow.config import IcpConfig, icp, model_settings, standardize_tables
from leadflow.context import DEFAULT_RUN, LeadflowContext
from leadflow.identity import item_fingerprint
from leadflow.llm import RULES
from leadflow.state import LeadState
from leadflow.toolbox import Toolbox
from leadflow.tools import names, phone_text, places, prose, writing
from leadflow.tools import standardize as std
from leadflow.tools.crm import Account, Contact, LeadSource, column_length, parse_datetime
from leadflow.tools.ingest import (
    CHANNELS,
    MAX_TEXT_CHARS,
    IngestError,
    ParsedFields,
    item_flags,
    item_text,
    parse_item,
)
from leadflow.tools.name_order import is_given_name
from leadflow.tools.organisations import organisation_in_text


class ExtractedLead(BaseModel):
    """Contact fields as found in the item (the extractor's structured output)."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    company_name: str | None = None
    website: str | None = None
    country: str | None = Field(default=None, description="country as written, any language")
    employees: str | None = Field(default=None, description="number or range as written")
    industry: str | None = Field(default=None, description="industry as written")
    inquiry: str | None = None
    campaign: str | None = None


def extract_rules(parsed: ParsedFields) -> ExtractedLead:
    """The rules extractor: the channel parsers' fields, mapped one to one."""
    first, last = parsed.get("first_name"), parsed.get("last_name")
    if not first and parsed.get("full_name"):
        first, last = names.split_name(parsed["full_name"])
    elif first and not last and len(first.split()) > 1:
        # one "Nome"/"Nombre" box holding the whole name ("Inês Carvalho"): split it
        first, last = names.split_name(first)
    first, last = names.name_from_address(first, last, parsed.get("email"))
    return ExtractedLead(
        first_name=first, last_name=last, email=parsed.get("email"), phone=parsed.get("phone"),
        title=parsed.get("title"), company_name=parsed.get("company"),
        website=parsed.get("website"), country=parsed.get("country"),
        employees=parsed.get("employees"), industry=parsed.get("industry"),
        inquiry=parsed.get("inquiry"), campaign=parsed.get("campaign"),
    )


# One-line fields cut to their CRM column (PostgreSQL rejects longer values; SQLite does not).
_TITLE_AT_EMPLOYER = re.compile(r"\s+(?:@|at|bei|chez)\s+(?=[A-Z0-9])")
_FIELD_LIMITS = {
    "first_name": column_length(Contact, "first_name"),
    "last_name": column_length(Contact, "last_name"),
    "title": column_length(Contact, "title"),
    "company": column_length(Account, "name"),
    "campaign": column_length(LeadSource, "campaign"),
    "source_id": column_length(LeadSource, "source_id"),
}


def _fit(value: str | None, field: str, flags: list[str]) -> str | None:
    """The value cut to its column's length, flagged `field_truncated` when cut."""
    limit = _FIELD_LIMITS[field]
    if value is None or limit is None or len(value) <= limit:
        return value
    if "field_truncated" not in flags:
        flags.append("field_truncated")
    return value[:limit].rstrip() or None


def _named_by_mailbox(text: str, email: str | None,
                      person: tuple[str | None, str | None]) -> str | None:
    """On a free-mail address whose mailbox spells the firm ("kaveriagroexports@gmail.com"),
    the firm as the text names it: two words or more, none of them the person's name, no
    rank ("Freelance BI Consultant"), and not the mailbox's own parts word by word, as a
    person's mailbox is ("kwame.asanteboateng", "g.tupaea" for Graham Tupaea)."""
    if not email or "@" not in email or not std.is_freemail(std.domain_of(email)):
        return None
    mailbox = email.split("@", 1)[0].lower()
    # read as a domain would be: its last dotted part is the stem ("meiling.tan.mutiara" →
    # "mutiara", "kaveriagroexports" whole)
    named = prose.company_in_text(text, f"{mailbox}.invalid")
    if not named or len(named.split()) < 2 or std.has_rank(named):
        return None
    words = [re.sub(r"[^a-z0-9]", "", std.without_accents(w.lower())) for w in named.split()]
    parts = [p for p in re.split(r"[._+-]+", mailbox) if p]
    own = {w.lower() for part in person if part for w in part.split()}
    personal = len(parts) == len(words) and all(
        w.startswith(p) for p, w in zip(parts, words, strict=True))
    if personal or own & {w.lower() for w in named.split()} or is_given_name(named.split()[0]):
        return None
    return named


def company_name_place(name: str | None) -> str:
    """A company's name read for the place it is named after ("University of Leeds",
    "University College London", "Stadtwerke Köln"): its last word, or what follows 'of',
    put in a context `country_of_place` reads ("in Leeds")."""
    words = std.clean_line(name).split()
    if not words or prose.has_legal_form(" ".join(words[-1:])):
        return ""
    after_of = re.search(
        r"\b(?:of|de|di|do|da|du|von)\s+([A-ZÀ-Þ][\w'’.-]+(?:\s+[A-ZÀ-Þ][\w'’.-]+)?)$",
        " ".join(words))
    return f"in {after_of.group(1) if after_of else words[-1]}"


def standardize_record(
    extracted: ExtractedLead, channel: str, item: dict[str, Any], rules: IcpConfig,
    utm: dict[str, str] | None = None, text: str = "",
) -> tuple[dict[str, Any], list[str]]:
    """The deterministic policy after extraction: SPEC §3 formats and derived fields.
    `text` is everything the lead wrote (signature included), where places are looked for."""
    flags: list[str] = []
    email = std.normalize_email(extracted.email)
    if std.is_own_address(email):  # our colleague or relay, never the lead
        email = None
        flags.append("own_address_dropped")
    domain = std.company_domain(email, extracted.website)
    if email and std.is_freemail(email.split("@", 1)[1]):
        flags.append("freemail")
    country = std.country_code(extracted.country)
    tld_country = std.country_of_domain(domain)
    # a national free-mail provider (bol.com.br, gmx.de, wp.pl, orange.fr) says where the
    # person most likely is: the last hint for a phone's country and for the country
    mail_country = (std.country_of_domain(email.rsplit("@", 1)[1])
                    if email and "freemail" in flags else None)
    place_country = None
    if not country and not tld_country:  # a city or state the lead names ("we're in Lyon")
        place_country = (places.country_of_place(f"{extracted.inquiry or ''}\n{text}")
                         or places.country_of_place(company_name_place(extracted.company_name))
                         # the city of the meetup or fair they came to ("Austin RevOps Meetup")
                         or (places.country_of_event(extracted.campaign)
                             if channel == "event" else None))
    raw_phone = phone_text.direct_dial(std.clean_line(extracted.phone) or None,
                                       f"{text}\n{extracted.inquiry or ''}")
    phone = std.normalize_phone(raw_phone, country)
    own_inquiry = prose.own_words(extracted.inquiry)
    if raw_phone and phone is None and not country:
        phone = std.normalize_phone(raw_phone, tld_country or place_country or mail_country
                                    or phone_text.nanp_region(raw_phone))
    if phone is None:  # the number may be written elsewhere, or in a shape the parser missed
        hints = [country, tld_country, place_country, mail_country,
                 phone_text.nanp_region(f"{raw_phone or ''}\n{own_inquiry}")]
        phone = (phone_text.phone_in_text(raw_phone, hints)
                 or phone_text.phone_in_text(own_inquiry, hints))
    if phone is None and not any((country, tld_country, place_country, mail_country)):
        # nothing placed the number: the writing may (a Swedish chat, a Japanese mail), when
        # the number is valid in exactly one of the countries it points to
        phone = writing.phone_by_writing(
            raw_phone, f"{own_inquiry}\n{text}",
            writing.countries_of_writing(f"{extracted.inquiry or ''}\n{text}"))
    country = (country or tld_country or std.country_of_phone(phone) or place_country
               or mail_country)
    if place_country and country == place_country:
        flags.append("country_from_place")
    if raw_phone and not phone:
        flags.append("phone_unparsed")
        if phone_text.national_number(raw_phone):  # a number to call, in a country nobody named
            flags.append("phone_country_unknown")
    employees, size_range = std.parse_employees(extracted.employees)
    if employees is None and size_range is None and extracted.employees:
        employees, size_range = prose.headcount_in_value(extracted.employees)  # "más de 10.000"
    if employees is None and size_range is None:
        # the inquiry first, then everything else the lead wrote (an unnamed form field, a
        # chat turn, the signature): "about 340 staff across 3 hospitals"
        for where in (extracted.inquiry, text):
            employees, size_range = prose.headcount_in_text(where)
            if employees is not None or size_range is not None:
                flags.append("headcount_from_text")
                break
    if employees is None and size_range is not None and not _one_segment(size_range, rules):
        # a size bucket across a segment line ("51-200"): a count the lead wrote inside
        # that bucket ("~160 staff") decides
        for where in (extracted.inquiry, text):
            stated, _ = prose.headcount_in_text(where)
            if stated is not None and size_range[0] <= stated <= (size_range[1] or stated):
                employees = stated
                flags.append("headcount_from_text")
                break
    if employees is not None:
        segment = rules.segment_for(employees)
    elif size_range is not None:
        low, high = size_range
        seg_low = rules.segment_for(low)
        segment = seg_low if high is not None and rules.segment_for(high) == seg_low else (
            seg_low if high is None and seg_low == rules.segment_for(10**9) else "unknown")
    else:
        segment = "unknown"
    stated_title = extracted.title
    # The writer's own words only (a title in what they forwarded is someone else's), read
    # when no title was given, or the one given holds no rank ("Operations" under a name)
    # and the prose states one ("I run operations and IT").
    if not stated_title or not std.has_rank(stated_title):
        said = (prose.role_in_text(prose.own_words(extracted.inquiry))
                or prose.role_in_text(prose.own_words(text)))
        if said:
            stated_title = said
            flags.append("title_from_text")  # "I'm the IT Manager at …", "Controller here"
    if stated_title:  # "Head of Finance Transformation @ Mazovia Logistics": the title part
        stated_title = _TITLE_AT_EMPLOYER.split(stated_title, maxsplit=1)[0]
    title = _fit(std.standardize_title(stated_title), "title", flags)
    first = _fit(names.capitalize_name(extracted.first_name or "") or None, "first_name", flags)
    last = _fit(names.capitalize_name(extracted.last_name or "") or None, "last_name", flags)
    company_name = std.clean_line(extracted.company_name).strip(" ,;") or None
    if company_name and company_name.lower() in standardize_tables().no_company_values:
        company_name = None  # "Indépendant", "Self-employed", "n/a": no company
    # No company, or — read off an email's or a chat's lines — one with no evidence for it
    # (a signature's department line, "Administración"): the company as the lead's own words
    # name it, when the sender's domain spells it; the domain is evidence, a line's position
    # is not. A company typed into a form's own field stays as typed.
    if domain and not (company_name and (channel not in ("email", "chat")
                                         or prose.has_legal_form(company_name)
                                         or prose.shares_a_word(company_name, domain))) \
            and (named := prose.company_in_text(f"{extracted.inquiry or ''}\n{text}", domain)):
        company_name = named
        flags.append("company_from_text")
    elif not company_name and (named := organisation_in_text(
            f"{extracted.inquiry or ''}\n{text}")):
        company_name = named  # "港サービス株式会社の佐伯です": no domain spells it, its form does
        flags.append("company_from_text")
    elif not company_name and (named := _named_by_mailbox(
            f"{extracted.inquiry or ''}\n{text}", email, (first, last))):
        company_name = named  # "owner of Kaveri Agro Exports" at kaveriagroexports@gmail.com
        flags.append("company_from_text")
    company_name = _fit(prose.clean_company_name(company_name, domain), "company", flags)
    campaign = _fit(std.clean_line(extracted.campaign) or None, "campaign", flags)
    source_id = _fit(std.clean_line(item.get("id")) or None, "source_id", flags)
    inquiry = std.clean_text(extracted.inquiry) or ""
    if len(inquiry) >= MAX_TEXT_CHARS:  # the parsers cut at MAX_TEXT_CHARS; an LLM may not
        flags.append("text_truncated")
        inquiry = inquiry[:MAX_TEXT_CHARS]
    received_at = parse_datetime(item.get("received_at"))
    record = {
        "contact": {
            "first_name": first, "last_name": last, "email": email, "phone": phone,
            "title": title, "seniority": std.seniority_of(title),
            "department": std.department_of(title),
        },
        "company": {
            "name": company_name, "domain": domain,
            "website": f"https://{domain}" if domain else None,
            "industry": std.industry_of(extracted.industry), "employees": employees,
            "revenue_usd": None, "country": country, "region": rules.region_for(country),
            "segment": segment, "tech_stack": [], "funding": None,
        },
        "source": {
            "channel": channel, "campaign": campaign,
            "utm": {std.clean_line(k): std.clean_line(v) for k, v in (utm or {}).items()},
            "received_at": received_at.isoformat() if received_at else None,
            "source_id": source_id,
        },
        "inquiry": inquiry,
        "notes": None,
        "next_action_at": None,
    }
    return record, flags


def _one_segment(size_range: tuple[int, int | None], rules: IcpConfig) -> bool:
    """The whole size range lies in one segment."""
    low, high = size_range
    return rules.segment_for(low) == rules.segment_for(high if high is not None else 10**9)


_UNKNOWN: tuple[object, ...] = (None, "", [], {}, "unknown", "unassigned")


def merged_record(known: dict[str, Any], repeat: dict[str, Any]) -> dict[str, Any]:
    """A known lead's record after a repeat inquiry: what it already had stays (the first
    source, the contact as first captured), a gap the new item fills is filled (a title, a
    phone, a company size, with what follows from it: seniority, segment, region), and the
    inquiry holds both messages, oldest first."""
    merged = {**known}
    for part in ("contact", "company"):
        mine, theirs = dict(known.get(part) or {}), repeat.get(part) or {}
        merged[part] = {**mine, **{k: v for k, v in theirs.items()
                                   if mine.get(k) in _UNKNOWN and v not in _UNKNOWN}}
    merged["inquiry"] = "\n\n".join(
        dict.fromkeys(filter(None, (known.get("inquiry"), repeat.get("inquiry")))))
    return merged


def missing_contact_reason(record: dict[str, Any], flags: Sequence[str] = ()) -> str | None:
    """Why nobody can reach this person (SPEC §4.1: no valid email address and no phone
    number), or None. A missing company is a data-quality flag, not a dead end; so is a
    phone number written without its country ("090-4412-7789" in a chat that names no
    place, `phone_country_unknown`): it cannot be stored as E.164, but a rep reading the
    lead's text can call it, so the person can be reached."""
    contact = record["contact"]
    if not contact["email"] and not contact["phone"] and "phone_country_unknown" not in flags:
        return "no usable contact: neither an email address nor a phone number"
    return None


def data_quality_flags(record: dict[str, Any]) -> list[str]:
    """What is missing but does not stop the lead (SPEC §6: flag, proceed with the data)."""
    company = record["company"]
    return [] if company["name"] or company["domain"] else ["no_company"]


def extract_lead(item: object) -> dict[str, Any]:
    """Parse + rules extraction + standardisation of one item, without the CRM (for tests
    and tooling). Adds `usable_contact` and `flags`; an unreadable item gives an empty record."""
    fields = item if isinstance(item, dict) else {}  # a JSON line may be any value
    try:
        channel, parsed = parse_item(item)
    except IngestError:
        declared = std.clean_line(fields.get("source")).lower()
        channel, parsed = declared if declared in CHANNELS else "api", {}
    record, flags = standardize_record(extract_rules(parsed), channel, fields, icp(),
                                       parsed.get("utm"), parsed.get("text", ""))
    return {**record, "usable_contact": missing_contact_reason(record, flags) is None,
            "flags": [*flags, *item_flags(item), *data_quality_flags(record)]}


def is_complete(extracted: ExtractedLead) -> bool:
    """The parsers found everything an LLM could add (SPEC §7: rules decide routine cases)."""
    return all((extracted.email, extracted.first_name, extracted.company_name, extracted.title))


def merge_extractions(llm: ExtractedLead, rules: ExtractedLead,
                      source: str) -> tuple[ExtractedLead, list[str]]:
    """Take the LLM's values where they occur in the item's text; keep the parser's value
    where the LLM gave none or one it could not have read there."""
    haystack = re.sub(r"\s+", " ", source.lower())
    digits = re.sub(r"\D", "", source)
    merged: dict[str, Any] = {}
    dropped = []
    for name in ExtractedLead.model_fields:
        value, fallback = getattr(llm, name), getattr(rules, name)
        if value and name != "inquiry":
            found = (re.sub(r"\D", "", value) in digits if name == "phone"
                     else re.sub(r"\s+", " ", str(value).lower()) in haystack)
            if not found:
                dropped.append(name)
                value = None
        merged[name] = value or fallback
    return ExtractedLead(**merged), ([f"ungrounded_extraction:{','.join(dropped)}"]
                                     if dropped else [])


class CaptureAgent:
    """Parsers + rules extraction for every item; the run's LLM reads the items the parsers
    could not fully read. Standardisation and dedupe are code either way."""

    step: ClassVar[str] = "capture"

    def __init__(self, model: BaseChatModel | None = None) -> None:
        self.model = model  # a fixed chat model (tests, apps); else the run's model

    async def _extract(self, channel: str, parsed: ParsedFields, item: Any,
                       run: LeadflowContext) -> tuple[ExtractedLead, StepOutput]:
        """The extraction, and a StepOutput stub carrying who decided and the LLM's flags."""
        rules = extract_rules(parsed)
        meta = StepOutput("success")
        wants_llm = self.model is not None or run.model_for(self.step) != RULES
        skip = model_settings()["hierarchy"]["capture"]["skip_llm_when_complete"]
        if not parsed or not wants_llm or (skip and is_complete(rules)):
            return rules, meta
        source = item_text(item)
        answer = await ask_llm(self.step, run, ExtractedLead, {
            "channel": channel, "lead_text": source[:8000],
            "parsed": json.dumps({k: v for k, v in parsed.items() if k != "text"},
                                 ensure_ascii=False)[:2000],
        }, self.model)
        meta = StepOutput("success", flags=list(answer.flags), notes=answer.note,
                          **provenance(answer))
        if answer.parsed is None:
            return rules, meta
        merged, dropped = merge_extractions(answer.parsed, rules, source)
        meta.flags += dropped
        meta.decided_by = "llm"
        return merged, meta

    async def run(self, state: LeadState, tools: Toolbox,
                  run: LeadflowContext = DEFAULT_RUN) -> StepOutput:
        # A repeat pass (leadflow/repeat.py): the new item is read, then merged into the lead.
        touch = state.get("touch") if state.get("lead") else None
        item = touch["item"] if touch else state.get("item") or {}
        workflow_id = state["workflow_id"]
        parsed: ParsedFields = {}
        problem = item.get("_error") if isinstance(item, dict) else None
        channel = "api"
        if not problem:
            try:
                channel, parsed = parse_item(item)
            except IngestError as exc:
                problem = f"unreadable item: {exc}"
        extracted, meta = await self._extract(channel, parsed, item, run)
        record, flags = standardize_record(extracted, channel, item if isinstance(item, dict)
                                           else {}, tools.icp, parsed.get("utm"),
                                           parsed.get("text", ""))
        flags = [*meta.flags, *flags, *item_flags(item)]
        text = parsed.get("text", "")
        newest_text = text
        if touch:
            record = merged_record(state["lead"], record)
            text = "\n\n".join(filter(None, (state.get("lead_text"), text)))
            flags.append("repeat_inquiry")
        decided = meta.decision_fields()
        problem = problem or missing_contact_reason(record, flags)
        if not problem:
            flags += data_quality_flags(record)
        write = await asyncio.to_thread(
            tools.crm.capture_lead, lead_id=workflow_id, record=record,
            fingerprint=item_fingerprint(item), source_id=record["source"]["source_id"],
            now=tools.clock.now(),
        )
        update: dict[str, Any] = {
            "lead": record,
            "lead_id": write.lead_id,
            "lead_text": text,
            "account": {"id": write.account_id, "owner": write.account_owner,
                        "matched_by": write.account_matched_by},
        }
        if touch:  # the newest message on its own, for qualification (agents/newest_touch.py)
            update["touch"] = {**touch, "text": newest_text}
        if problem:
            return StepOutput("failure", update, error=problem, notes=problem,
                              flags=[*flags, "capture_failed"], **decided)
        if write.duplicate_of:
            existing = await asyncio.to_thread(tools.crm.get_lead, write.duplicate_of)
            update["status"] = (existing or {}).get("status") or "manual_review"
            update["status_reason"] = f"duplicate of {write.duplicate_of} (same email)"
            return StepOutput("duplicate", update, decision="duplicate",
                              notes=update["status_reason"], flags=[*flags, "duplicate"],
                              **decided)
        who = " ".join(filter(None, (record["contact"]["first_name"],
                                     record["contact"]["last_name"])))
        notes = (f"captured {who or record['contact']['email'] or 'contact'} "
                 f"({record['company']['name'] or record['company']['domain']}) via {channel}"
                 + (f"; account matched by {write.account_matched_by}"
                    if write.account_matched_by else "; new account"))
        if touch:
            notes = (f"repeat inquiry via {channel} merged into {write.lead_id}: "
                     "re-qualified on both messages")
        if meta.notes:
            notes += f"; {meta.notes}"
        return StepOutput("success", update, notes=notes, flags=flags, **decided)
