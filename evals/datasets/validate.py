"""Validate the labelled eval datasets (stdlib only) and print their composition.

    python3 evals/datasets/validate.py            # check every *.jsonl here, print the table
    python3 evals/datasets/validate.py --markdown # the same table as Markdown (for README.md)

Checks: every line parses; ids unique across all files and equal to item.id; items in the
SPEC §8 input shape (the garbage set is exempt from the shape rules, on purpose); raw e-mails
parse with email.message_from_string and carry a From header; labels have every required key
with an allowed value and agree with each other (tier ↔ status ↔ trajectory ↔ routing,
region ↔ country via icp.yaml); labelled field values occur in the item; the same e-mail
address appears twice only as a labelled duplicate; every injection line says which text is
the injection (`labels.injected_text`: spans that each occur exactly once in the item's string
values), and the item without them is still a valid item whose labelled fields all occur in
it (the eval scores each such lead with and without that text). Exit status 1 on any error.
"""

from __future__ import annotations

import email
import importlib.util
import json
import re
import unicodedata
import sys
from collections import Counter, defaultdict
from datetime import datetime
from email.header import decode_header, make_header
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FILES = ["leads", "injection", "garbage", "non_english", "duplicates", "conflicting", "blind_dev",
         "blind_sealed"]
CHANNELS = {"web_form", "email", "chat", "event"}
SENIORITY = {"c_level", "vp", "director", "manager", "individual_contributor", "unknown"}
INDUSTRY = {"software", "financial_services", "healthcare", "manufacturing", "retail_ecommerce",
            "education", "government", "media_entertainment", "telecommunications",
            "energy_utilities", "professional_services", "nonprofit", "other"}
REGIONS = {"NA", "LATAM", "EMEA", "APAC", "unassigned"}
SEGMENTS = {"smb", "mid_market", "enterprise", "unknown"}
TIERS = ["hot", "warm", "cold", "unqualified"]
STATUSES = {"routed", "nurture", "marketing", "manual_review", "escalated", "awaiting_followup"}
BANDS = {
    "budget": {"clear_budget", "likely_from_size", "unclear_possible", "unlikely"},
    "authority": {"primary_decision_maker", "significant_influence", "some_influence", "limited"},
    "need": {"critical", "clear_improvement", "nice_to_have", "unclear"},
    "timeline": {"buying_now", "within_3_months", "within_6_months", "unclear_or_distant"},
}
FIELDS = {"contact.email", "contact.first_name", "contact.last_name", "contact.phone",
          "contact.title_contains", "company.name", "company.domain"}
AGENTS = ["LeadCapture Pro", "DataEnrichment Specialist", "LeadQualification Expert",
          "LeadRouting Coordinator", "FollowUp Monitor"]
REQUIRED = {"fields", "seniority", "industry", "country", "region", "segment", "usable_contact",
            "bant", "tier", "status", "routing", "trajectory", "duplicate_of"}
LANGS = {"en", "es", "pt", "de", "fr", "it", "nl", "ja", "pl", "tr", "sv", "ko", "zh", "da", "no",
         "fi", "id", "vi", "cs", "ro", "ar", "uk", "th", "he", "ms", "hi", "mixed", "none"}
# the sixth blind round (BK, BL) was written for arrivals up to 4 December, the sixteenth
# (CE, CF) for arrivals from 2 November
WINDOW = (datetime.fromisoformat("2026-11-02T00:00:00+00:00"),
          datetime.fromisoformat("2026-12-04T23:59:59+00:00"))


def region_table() -> dict[str, str]:
    """Country → region from leadflow/config/icp.yaml, read without PyYAML."""
    text = (ROOT / "leadflow/config/icp.yaml").read_text(encoding="utf-8")
    block = text.split("\nregions:", 1)[1].split("\nsegments:", 1)[0]
    out: dict[str, str] = {}
    for name, body in re.findall(r"\n  (\w+):\s*\[([^\]]*)\]", block):
        for code in re.findall(r"[A-Z]{2}", body):
            out[code] = name
    return out


def item_text(item: dict) -> str:
    """Everything a reader of the item sees, decoded (for 'is this label in the item')."""
    payload = item.get("payload")
    if item.get("source") == "email" and isinstance(payload, str):
        msg = email.message_from_string(payload)
        parts = [payload]
        for header in ("From", "Subject", "Reply-To"):
            if msg.get(header):
                parts.append(str(make_header(decode_header(msg[header]))))
        if str(msg.get("Content-Transfer-Encoding", "")).lower() in ("quoted-printable", "base64"):
            raw = msg.get_payload(decode=True)
            if isinstance(raw, bytes):
                parts.append(raw.decode(msg.get_content_charset() or "utf-8", "replace"))
        return "\n".join(parts)
    if isinstance(payload, dict):  # a name split over fields ("Tussenvoegsel", "Achternaam")
        values = " ".join(str(v) for v in payload.values() if isinstance(v, str))
        return f"{json.dumps(payload, ensure_ascii=False)}\n{values}"
    return json.dumps(payload, ensure_ascii=False)


def _ascii_digits(text: str) -> str:
    """The text's digits in ASCII, whatever script wrote them ('٠٥٥…' is '055…')."""
    return "".join(str(unicodedata.digit(ch)) for ch in text if ch.isdigit()
                   and unicodedata.digit(ch, None) is not None)


def _direct_dial(value: str, text: str) -> bool:
    """A switchboard number plus its extension ("0711 4478-0, Durchwahl -34") labelled as the
    direct line: the number without its last two digits and the extension are both there."""
    digits = re.sub(r"\D", "", text)
    return value[-8:-2] in digits and re.search(rf"-\s?{value[-2:]}\b", text) is not None


def check_item(item: dict, garbage: bool, err) -> None:
    for key in ("id", "received_at") if garbage else ("id", "source", "received_at", "payload"):
        if key not in item:
            err(f"item lacks {key!r}")
    try:
        at = datetime.fromisoformat(str(item.get("received_at")).replace("Z", "+00:00"))
        if not WINDOW[0] <= at <= WINDOW[1]:
            err(f"received_at {item.get('received_at')} outside 2026-11-02..12-04")
    except ValueError:
        err(f"received_at {item.get('received_at')!r} is not ISO-8601")
    if garbage:
        return
    source, payload = item.get("source"), item.get("payload")
    if source not in CHANNELS:
        err(f"unknown source {source!r}")
    elif source == "email":
        if isinstance(payload, str):
            msg = email.message_from_string(payload)
            if not msg.get("From"):
                err("raw e-mail without a From header")
            if not msg.get_payload():
                err("raw e-mail without a body")
        elif not (isinstance(payload, dict) and {"from", "body"} <= payload.keys()):
            err("e-mail payload must be RFC 822 text or {from, subject, body}")
    elif source == "chat":
        if not (isinstance(payload, list) and payload and all(
                isinstance(t, dict) and {"role", "text"} <= t.keys() for t in payload)):
            err("chat payload must be a non-empty list of {role, text}")
    elif source == "event" and isinstance(payload, str):
        if payload.count("\n") < 1:
            err("an event payload given as CSV text needs a header line and a row")
    elif not isinstance(payload, dict) or not payload:
        err(f"{source} payload must be a non-empty field dict")


def check_labels(row: dict, text: str, regions: dict[str, str], seen_ids: set[str], err) -> None:
    lab = row["labels"]
    missing = REQUIRED - lab.keys()
    if missing:
        err(f"labels missing {sorted(missing)}")
        return
    for key, value in lab["fields"].items():
        if key not in FIELDS:
            err(f"unknown field label {key}")
        elif key == "contact.phone":
            if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
                err(f"phone {value!r} is not E.164")
            elif value[-6:] not in _ascii_digits(text) and not _direct_dial(value, text):
                err(f"phone {value} not found in the item")
        elif key == "contact.email" and value != value.lower().strip():
            err(f"email label {value!r} not lowercase")
        elif key == "company.domain":
            if value.lower() not in text.lower():
                err(f"domain {value} not found in the item")
        elif value.lower() not in text.lower():
            err(f"{key} {value!r} not found in the item")
    if lab["seniority"] not in SENIORITY:
        err(f"seniority {lab['seniority']!r}")
    if lab["industry"] is not None and lab["industry"] not in INDUSTRY:
        err(f"industry {lab['industry']!r}")
    if lab["region"] not in REGIONS or lab["segment"] not in SEGMENTS:
        err(f"region/segment {lab['region']!r}/{lab['segment']!r}")
    country = lab["country"]
    expected_region = regions.get(country, "unassigned") if country else "unassigned"
    if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
        err(f"country {country!r}")
    if lab["region"] != expected_region:
        err(f"region {lab['region']} but country {country} → {expected_region}")
    if not isinstance(lab["usable_contact"], bool):
        err("usable_contact must be a bool")
    if set(lab["bant"]) != set(BANDS):
        err("bant needs budget/authority/need/timeline")
    for crit, band in lab["bant"].items():
        if band is not None and band not in BANDS.get(crit, ()):
            err(f"bant.{crit} {band!r}")
    status, tier, traj = lab["status"], lab["tier"], lab["trajectory"]
    if not status or not set(status) <= STATUSES:
        err(f"status {status!r}")
        return
    if tier is not None and (not tier or not set(tier) <= set(TIERS) or len(tier) > 2):
        err(f"tier {tier!r}")
    if tier is not None and len(tier) == 2 and abs(
            TIERS.index(tier[0]) - TIERS.index(tier[1])) != 1:
        err(f"tier set {tier} must be two adjacent tiers")
    dup = lab["duplicate_of"]
    if dup is not None and dup not in seen_ids:
        err(f"duplicate_of {dup} is not an earlier item of this file")
    if not lab["usable_contact"]:
        if status != ["manual_review"] or tier is not None or traj != AGENTS[:1]:
            err("no usable contact → status [manual_review], tier null, trajectory [capture]")
    elif dup is not None and tier is None:
        if traj != AGENTS[:1]:
            err("duplicate without a tier → trajectory [capture]")
    else:  # a lead, or a repeat inquiry labelled with its lead re-qualified (SPEC §3)
        if tier is None:
            err("a usable, non-duplicate lead needs a tier")
            return
        want = []
        for t in tier:
            s = ("escalated" if lab["region"] == "unassigned" else "awaiting_followup") \
                if t in ("hot", "warm") else ("nurture" if t == "cold" else "marketing")
            if s not in want:
                want.append(s)
        if status != want:
            err(f"status {status} does not follow tier {tier} (expected {want})")
        want_traj = AGENTS if status[0] == "awaiting_followup" else AGENTS[:4]
        if traj != want_traj:
            err(f"trajectory does not follow status {status[0]}")
        routed = any(t in ("hot", "warm") for t in tier) and lab["region"] != "unassigned"
        routing = lab["routing"]
        if routed != (routing is not None):
            err(f"routing {routing} inconsistent with tier {tier}/region {lab['region']}")
        if routing is not None:
            seg = lab["segment"] if lab["segment"] != "unknown" else "smb"
            if routing.get("region") != lab["region"] or routing.get("segment") != seg:
                err(f"routing {routing} ≠ region/segment {lab['region']}/{seg}")


def _load_injected():  # noqa: ANN202 - stdlib only: the eval's own rule, by path
    spec = importlib.util.spec_from_file_location(
        "leadflow_evals_injected", ROOT / "leadflow/evals/injected.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_injected = _load_injected()
without_injection = _injected.without_injection
span_count = _injected.span_count  # whitespace between a span's words aside, as the eval


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def check_injected_text(row: dict, required: bool, err) -> None:
    """`labels.injected_text`, and the item without it (leadflow.evals.runner
    .without_injection: spans removed; fields and chat turns left empty dropped)."""
    spans = row["labels"].get("injected_text")
    if spans is None:
        if required:
            err("injection line without labels.injected_text")
        return
    if not (isinstance(spans, list) and spans and all(isinstance(s, str) and s.strip()
                                                      for s in spans)):
        err("labels.injected_text must be a non-empty list of non-empty strings")
        return
    values = _strings(row["item"])
    for span in spans:
        found = sum(span_count(v, span) for v in values)
        if found == 0 and "\n" in span:  # a span across two values: each of its lines once
            found = min(sum(span_count(v, line) for v in values)
                        for line in span.splitlines() if line.strip())
        if found != 1:
            err(f"injected_text {span[:40]!r} occurs {found} times in the item (want once)")
    clean = without_injection(row["item"], spans)
    check_item(clean, False, lambda msg: err(f"without its injection: {msg}"))
    text = item_text(clean)
    if any(span_count(text, span) for span in spans):
        err("injected_text still in the item after removal")
    for key, value in (row["labels"].get("fields") or {}).items():
        if isinstance(value, str) and value.lower() not in text.lower() \
                and value.lower() in item_text(row["item"]).lower():
            err(f"without its injection the item loses labelled {key} {value!r}")


def main() -> int:
    regions = region_table()
    all_ids: dict[str, str] = {}
    errors = 0
    table: Counter[tuple[str, str, str, str]] = Counter()
    email_owner: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name in FILES:
        path = HERE / f"{name}.jsonl"
        if not path.exists():
            print(f"MISSING {path.name}")
            errors += 1
            continue
        seen: set[str] = set()
        first_of: dict[str, str] = {}
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            where = f"{path.name}:{n}"

            def err(msg: str, where: str = where) -> None:
                nonlocal errors
                errors += 1
                print(f"{where}: {msg}")

            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                err(f"not JSON: {exc.msg}")
                continue
            if not {"id", "item", "labels", "notes"} <= row.keys():
                err("row needs id, item, labels, notes")
                continue
            rid = row["id"]
            where = f"{path.name}:{n} ({rid})"
            if rid in all_ids:
                err(f"id {rid} also in {all_ids[rid]}")
            all_ids[rid] = path.name
            item = row["item"]
            if not isinstance(item, dict) or item.get("id") != rid:
                err("item.id must equal the row id")
                continue
            check_item(item, name == "garbage", err)
            try:
                text = item_text(item)
            except Exception as exc:  # noqa: BLE001 - garbage may not parse
                text = json.dumps(item.get("payload"), ensure_ascii=False)
                if name != "garbage":
                    err(f"item text unreadable: {exc}")
            check_labels(row, text, regions, seen, err)
            if "labels" in row and isinstance(row["labels"], dict):
                check_injected_text(row, name == "injection", err)
            lab = row["labels"]
            addr = lab.get("fields", {}).get("contact.email")
            if addr:
                if addr in first_of and lab.get("duplicate_of") is None:
                    err(f"{addr} already used by {first_of[addr]} but duplicate_of is null")
                if addr in first_of and lab.get("duplicate_of") not in (None, first_of[addr]):
                    err(f"duplicate_of should be {first_of[addr]}")
                first_of.setdefault(addr, rid)
                email_owner[addr].append((path.name, rid))
            seen.add(rid)
            tier = lab.get("tier")
            tier_key = ("manual_review" if lab.get("status") == ["manual_review"] else
                        "duplicate" if lab.get("duplicate_of") else
                        tier[0] if tier else "none")
            lang = lab.get("language", "?")
            if lang not in LANGS:
                err(f"language {lang!r}")
            channel = item.get("source") if item.get("source") in CHANNELS else "other"
            table[(name, str(channel), tier_key, lang)] += 1
    for addr, owners in email_owner.items():
        files = {f for f, _ in owners}
        if len(files) > 1:
            print(f"warning: {addr} appears in several files: {owners}")
    print_table(table, markdown="--markdown" in sys.argv)
    print(f"\n{len(all_ids)} items, {errors} error(s)")
    return 1 if errors else 0


def print_table(table: Counter, markdown: bool) -> None:
    tiers = ["hot", "warm", "cold", "unqualified", "manual_review", "duplicate"]
    print("\n### file × channel × tier (first tier of the label)\n")
    head = ["file", "channel", *tiers, "total"]
    rows = []
    for name in FILES:
        for ch in ["web_form", "email", "chat", "event", "other"]:
            counts = [sum(v for (f, c, t, _), v in table.items()
                          if f == name and c == ch and t == tt) for tt in tiers]
            if sum(counts):
                rows.append([name, ch, *map(str, counts), str(sum(counts))])
        counts = [sum(v for (f, _, t, _), v in table.items() if f == name and t == tt)
                  for tt in tiers]
        rows.append([f"**{name}**", "all", *map(str, counts), str(sum(counts))])
    emit(head, rows, markdown)
    print("\n### file × language\n")
    langs = sorted({lang for (_, _, _, lang) in table}, key=lambda x: (x != "en", x))
    rows = []
    for name in FILES:
        counts = [sum(v for (f, _, _, lg), v in table.items() if f == name and lg == lang)
                  for lang in langs]
        rows.append([name, *map(str, counts), str(sum(counts))])
    emit(["file", *langs, "total"], rows, markdown)
    print("\n### file × channel × tier × language (non-zero cells)\n")
    order = {t: i for i, t in enumerate(tiers)}
    chans = {c: i for i, c in enumerate(["web_form", "email", "chat", "event", "other"])}
    rows = [[f, c, t, lg, str(v)] for (f, c, t, lg), v in sorted(
        table.items(), key=lambda kv: (FILES.index(kv[0][0]), chans.get(kv[0][1], 9),
                                       order.get(kv[0][2], 9), kv[0][3] != "en", kv[0][3]))]
    emit(["file", "channel", "tier", "language", "items"], rows, markdown)


def emit(head: list[str], rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(x) for x in col) for col in zip(head, *rows, strict=True)]
        for r in [head, *rows]:
            print("  ".join(x.ljust(w) for x, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
