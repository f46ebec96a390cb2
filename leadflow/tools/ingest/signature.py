"""Signature blocks: where an email's own words end (quoted replies, disclaimers, 'Kind
regards,') and which name, title, company, phone and website its sign-off holds. The
heuristics are the bulk of email parsing and know nothing of RFC 822, hence their own
module.
"""

from __future__ import annotations

import re

from leadflow.config import standardize_tables
from leadflow.tools.ingest.parsed import ParsedFields
from leadflow.tools.ingest.patterns import PHONE_ANY
from leadflow.tools.ingest.phone_labels import (
    LabelledNumber,
    Reach,
    best_number,
    labelled_numbers,
)
from leadflow.tools.places import is_place
from leadflow.tools.prose import has_legal_form, spelled_by_domain
from leadflow.tools.standardize import EMAIL_RE, URL_RE, clean_text, first_matching, has_rank

_CLOSING_PHRASES = (
    r"best|best regards|best wishes|kind regards|warm regards|regards|many thanks|thanks|"
    r"thanks (?:&|and) regards|att\.?|atte\.?|abs\.?|cumprimentos|saludos cordiales|"
    r"thank you|thanks again|cheers|sincerely|yours|yours sincerely|all the best|saludos|"
    r"saludos cordiales|un saludo|atentamente|cordialmente|atenciosamente|abraços|obrigado|"
    r"obrigada|mit freundlichen grüßen|mit freundlichen grüssen|viele grüße|beste grüße|"
    r"freundliche grüße|freundliche grüsse|beste grüsse|viele grüsse|liebe grüsse|grüße|grüsse|"
    r"cordialement|bien cordialement|bien à vous|merci|distinti saluti|"
    r"cordiali saluti|met vriendelijke groet|groeten|saygılarımla|よろしくお願いいたします|"
    r"med vänliga hälsningar|vänliga hälsningar|hälsningar|mvh|med venlig hilsen|"
    r"med vennlig hilsen|venlig hilsen|vennlig hilsen|hilsen|pozdrawiam|z poważaniem|"
    r"serdecznie pozdrawiam|ystävällisin terveisin|terveisin|s pozdravem|üdvözlettel|"
    r"よろしくお願いします|敬具|thx|tx|ty|best,? thanks|thanks so much|bis bald|a presto|"
    r"un abrazo|abrazos|groet|mvg|with (?:kind|best|warm|warmest) regards|pozdrawiam serdecznie|"
    r"thank you in advance|thanks in advance|"
    # Hindi, Arabic, Thai, Vietnamese, Indonesian/Malay, Korean, Chinese
    r"धन्यवाद|सादर|مع التحية|تحياتي|مع خالص التحية|وشكرا|شكرا|ขอบคุณ|ขอแสดงความนับถือ|trân trọng|"
    r"cảm ơn|terima kasih|hormat kami|hormat saya|此致|谢谢"
)
# "Thank you in advance and kind regards", "Thanks, and best regards": a thanks before the
# sign-off proper
_THANKS_FIRST = r"(?:(?:many )?thanks|thank you)(?: (?:in advance|again))?(?:,? and|,)\s+"
# "Kind regards," or bilingual "Met vriendelijke groet / Kind regards,"
_CLOSINGS = re.compile(
    rf"^\s*(?:{_THANKS_FIRST})?(?:{_CLOSING_PHRASES})(?:\s*[/|]\s*(?:{_CLOSING_PHRASES}))*"
    r"\s*[,.!]?\s*$",
    re.IGNORECASE,
)
_QUOTE_START = re.compile(
    r"^\s*(>|on .+wrote:|el .+escribió:|am .+schrieb|le .+a écrit|-----\s*original message|"
    r"from:\s.+|de:\s.+|von:\s.+|_{5,}|confidentiality notice|disclaimer:|this e-?mail and any|"
    # a mail app's own footer ("Sent from my iPhone"): below it is nothing of the writer's
    r"sent from my\s|sent from outlook|get outlook for|envoyé de mon|envoyé depuis|"
    r"von meinem\s.+gesendet|enviado desde mi|enviado do meu|enviado de meu|inviato da|"
    r"verzonden (?:met|vanaf) mijn|wysłane z|skickat från|iphoneから送信)",
    re.IGNORECASE,
)
_PHONE_LINE = re.compile(
    r"(?i)^\s*(?:m|t|p|d|o|tel|tél|phone|mobile|mob|cell|fon|telefon|teléfono|telefone|tlf|"
    r"direct|office|móvil|celular|handy)?\.?\s*[:.]?\s*(\+?[\d][\d ()./-]{6,}\d)\s*$"
)


def _first_number(value: str) -> str:
    """'+254 20 555 0133 / 0722 555 014': two numbers, the first kept; '07131 / 56 23-415'
    (an area code, then the number) is one."""
    parts = re.split(r"\s+/\s+", value)
    if len(parts) > 1 and all(sum(ch.isdigit() for ch in p) >= 7 for p in parts):
        return parts[0]
    return value


_POSTAL_BOX = re.compile(r"(?i)\b(?:p\.?\s?o\.?\s?box|post\s?box|postfach|apartado|caixa postal|"
                         r"casilla|boîte postale|postbus|skrytka pocztowa)\b")
# A line drawn to set the signature off: "--", "———", "――――――", "____", "====".
_RULE_LINE = re.compile(r"^\s*[-—–―─━_=*~]{2,}\s*$")
_CLOSING_WITH_PLACE = re.compile(  # "Beste Grüße aus Wien", "Best regards from Leeds"
    rf"^\s*(?:{_CLOSING_PHRASES})\s+(?:aus|from|de|desde|da|vanuit|z|depuis)\s+"
    rf"[^\W\d][\w .'-]{{1,30}}[,.!]?\s*$", re.IGNORECASE)


def split_signature(body: str, sender: str = "") -> tuple[str, str]:
    """Cut quoted replies/disclaimers, then split the message from its signature block: the
    lines after a drawn rule ('--', '―――'), else after the last sign-off ('Kind regards,',
    'thx', 'Beste Grüße aus Wien') — a sign-off further up counts when a name-like line
    follows it, as when a legal footer follows the signature — else the block that opens
    with the sender's own name on a line of its own (`sender`, the From header's), else a
    short trailing block."""
    lines = body.replace("\r\n", "\n").split("\n")
    for i, line in enumerate(lines):
        if i > 0 and _QUOTE_START.match(line):
            lines = lines[:i]
            break
    while lines and not lines[-1].strip():
        lines.pop()
    for i, line in enumerate(lines):
        if line.rstrip() in _RULES:
            below = [ln for ln in lines[i + 1:] if ln.strip()]
            if below and all(len(ln) > 80 for ln in below):
                lines = lines[:i]  # a legal footer's paragraph, in any language: no signature
                break
            if not any(_looks_like_name(ln.strip()) for ln in below) and (
                    signed := _sign_off_above(lines, i)) is not None:
                # "Mit freundlichen Grüßen / name / title / company", then "--" and a legal
                # footer with nobody's name: the signature begins at the sign-off
                return "\n".join(lines[:signed]), "\n".join(
                    ln for ln in lines[signed + 1:] if ln.rstrip() not in _RULES)
            return "\n".join(lines[:i]), "\n".join(lines[i + 1 :])
    while lines and not lines[-1].strip():
        lines.pop()
    for i in range(len(lines) - 1, -1, -1):
        closing = _is_sign_off(lines[i])
        following = next((ln.strip() for ln in lines[i + 1:] if ln.strip()), "")
        # lines below it, a legal footer's long ones not counted ("Diese E-Mail enthält …")
        short_below = 1 + sum(1 for ln in lines[i + 1:] if len(ln) < 80)
        if closing and (short_below <= 10 or (short_below <= 30 and _looks_like_name(following))):
            return "\n".join(lines[:i]), "\n".join(lines[i + 1 :])
    for i, line in enumerate(lines):  # no sign-off: a rule drawn above the last lines
        if i > 0 and _RULE_LINE.match(line) and len(lines) - i <= 12 and any(
                ln.strip() and not _RULE_LINE.match(ln) for ln in lines[i + 1:]):
            rest = [ln for ln in lines[i + 1:] if not _RULE_LINE.match(ln)]
            return "\n".join(lines[:i]), "\n".join(rest)
    # No marker: the last short lines after a blank line, if they look like a signature.
    tail_start = max((i for i, ln in enumerate(lines) if not ln.strip()), default=-1) + 1
    tail = [ln for ln in lines[tail_start:] if ln.strip()]
    contact_line = any(PHONE_ANY.search(ln) or EMAIL_RE.search(ln) or "www." in ln.lower()
                       or first_matching(standardize_tables().seniority, ln) for ln in tail) or (
        # "Emily Tran / Marketing Ops, Acme Labs": a name, then what the person does
        len(tail) > 1 and _looks_like_name(tail[0].strip())
        and first_matching(standardize_tables().department, tail[1]) is not None)
    short = all(len(seg) < 70 for ln in tail for seg in re.split(r"\s[|•·—–]\s", ln))
    if 1 < len(tail) <= 6 and short and contact_line:
        return "\n".join(lines[:tail_start]), "\n".join(tail)
    if (named := _sender_line(lines, sender)) is not None:
        # "Thanks for your patience!\nAoife\n\nAoife Ní Bhriain\nHead of Distribution…" and
        # a legal line below: no sign-off phrase, but the sender's name opens the block
        return "\n".join(lines[:named]), "\n".join(ln for ln in lines[named:] if len(ln) < 80)
    return "\n".join(lines), ""


_RULES = ("--", "-- ", "—", "__")


def _sender_line(lines: list[str], sender: str) -> int | None:
    """The last of the closing lines that is the sender's whole name (two words or more),
    with a shorter line below it (a title, a company, a number), or None."""
    name = " ".join(sender.split()).casefold()
    if len(name.split()) < 2:
        return None
    for i in range(len(lines) - 1, max(-1, len(lines) - 15), -1):
        if " ".join(lines[i].split()).casefold() == name and any(
                ln.strip() and len(ln) < 80 for ln in lines[i + 1:]):
            return i
    return None


def _sign_off_above(lines: list[str], rule: int) -> int | None:
    """The line of a sign-off a few lines above a drawn rule ('Kind regards,' then the name
    and title, then '--'), or None."""
    for j in range(rule - 1, max(-1, rule - 9), -1):
        if _is_sign_off(lines[j]):
            return j
    return None


def _is_sign_off(line: str) -> bool:
    """'Kind regards,', 'Thank you in advance and kind regards', 'Beste Grüße aus Wien'."""
    return bool(_CLOSINGS.match(line) or _CLOSING_WITH_PLACE.match(line))


# Signing for someone else or for the firm, before the name: "i. A. Jörg Wiesenthal" (im
# Auftrag), "i. V." (in Vertretung), "pp", "per pro".
_ON_BEHALF = re.compile(r"^\s*(?:i\.\s?a\.|i\.\s?v\.|p\.\s?p\.|pp\.?|per pro\.?)\s+",
                        re.IGNORECASE)


_ALT_TEXT = re.compile(r"^\s*\[[^\[\]]*\]\s*$")


def _looks_like_name(line: str) -> bool:
    words = _ON_BEHALF.sub("", line).split()
    if not 1 <= len(words) <= 4 or any(ch.isdigit() for ch in line) or "@" in line \
            or has_legal_form(line):  # "みなと食品株式会社", "Brandt GmbH": a company
        return False
    if any(ord(ch) >= 0x2E80 for ch in line):
        return len(line) <= 12
    particles = {"de", "van", "von", "da", "del", "la"}
    return all(w[0].isupper() or w.lower() in particles for w in words)


def _parts(signature: str) -> list[str]:
    """The signature's segments: its lines, split on ' | ', ' • ', ' — '."""
    return [_ON_BEHALF.sub("", part or "").strip(" ,;")
            for raw in signature.split("\n")
            for part in re.split(r"\s+[|•·—]\s+|\s+–\s+(?=.*\s–\s)|^[|•·]\s*|\s*[|•·]$",
                                 clean_text(raw))]


def _phone_in(part: str) -> re.Match[str] | None:
    """The segment's phone number, unless what looks like one is a street number and a
    postcode ("Via Roma 88 - 38121 Trento") or a post-office box ("P.O. Box 00000-00100")."""
    phone = _PHONE_LINE.match(part) or PHONE_ANY.search(part)
    if phone and (sum(ch.isdigit() for ch in phone.group(1)) < 8 or _POSTAL_BOX.search(part)):
        return None
    return phone


def _numbers_in(part: str, phone: re.Match[str]) -> list[LabelledNumber]:
    """Every number of a segment that holds a phone, with its label ("Switchboard 020 7946
    0100", "(Zentrale)"); at least the phone found ("Tel: 55512345" is too short for the
    general pattern)."""
    labelled = [n for n in labelled_numbers(part) if sum(ch.isdigit() for ch in n.raw) >= 8]
    return labelled or [LabelledNumber(phone.group(1), Reach.OWN)]


def signature_phone(signature: str) -> LabelledNumber | None:
    """The number the signature gives that best reaches the person, with its label's kind
    (a switchboard is what the caller may take a better number over)."""
    parts = [EMAIL_RE.sub("", part).strip(" ,:-") if EMAIL_RE.search(part) else part
             for part in _parts(signature)]
    return best_number([n for part in parts if (phone := _phone_in(part))
                        for n in _numbers_in(part, phone)])


def parse_signature(signature: str, domain: str | None = None) -> ParsedFields:
    """Name, title, company, phone, website from a signature block.

    Lines are split into segments on ' | '; the name is the longest name-like segment before
    the title ('Gareth' then 'Gareth Pryce' → 'Gareth Pryce'); the company is the title
    line's own 'Title, Company' part or the first segment after it — unless another line
    carries better evidence of being the company (`_company_by_evidence`): the sender's
    `domain` spells it, or it has a legal form.
    """
    out: ParsedFields = {}
    segments: list[str] = []
    for part in _parts(signature):
        if email_match := EMAIL_RE.search(part):
            out.setdefault("email", email_match.group(0))
            part = EMAIL_RE.sub("", part).strip(" ,:-")
        if phone := _phone_in(part):
            part = part.replace(phone.group(0), "").strip(" ,:-")
        url = URL_RE.search(part)
        if url and ("www." in part.lower() or "http" in part.lower()
                    or part.strip() == url.group(0)):
            out.setdefault("website", url.group(0))
            part = part.replace(url.group(0), "").strip(" ,:-")
        if part:
            segments.append(part)
    if best := signature_phone(signature):
        out["phone"] = _first_number(best.raw)
    # a line all in brackets is an image's alt text ("[Najd Digital - Your Transformation
    # Partner]"): a logo or a slogan, never the person's title
    title_at = next((i for i, seg in enumerate(segments)
                     if _title_and_company(seg)[0] and not _ALT_TEXT.match(seg)), None)
    before = segments[:title_at] if title_at is not None else segments[:1]
    names = [seg for seg in before if _looks_like_name(seg)]
    if names:
        out["full_name"] = max(names, key=len)
    if title_at is not None:
        title, company = _title_and_company(segments[title_at])
        after = segments[title_at + 1 :]
        if company and after and first_matching(standardize_tables().department, company):
            # "Director, Client Analytics & Reporting" + a company line: all of it is the title
            title, company = segments[title_at], None
        name, sep, rest = (title or "").partition(", ")
        if sep and len(name.split()) >= 2 and _looks_like_name(name) and not has_rank(name) \
                and _title_and_company(rest)[0]:
            # "Renee Fitzgerald, VP Revenue Cycle - Calder Valley": the name, then the title
            out.setdefault("full_name", name)
            title = rest
        out["title"] = title  # type: ignore[typeddict-item]
        if company or after:
            out["company"] = company or after[0]
    elif (company_at := next((i for i, seg in enumerate(segments) if has_legal_form(seg)),
                             None)) is not None:
        # No rank word in any line: the line with a legal form is the company, and the first
        # plain line between the name and it is the title ("Referent Digitalisierung").
        out["company"] = segments[company_at]
        start = segments.index(names[0]) + 1 if names else 0
        between = [seg for seg in segments[start:company_at]
                   if not any(ch.isdigit() for ch in seg) and len(seg) < 70]
        if names and between and _looks_like_name(between[0]) \
                and names[0].split()[0] in between[0].split():
            # "Thabo" signing off, then "Thabo Nkosi | …": the full name, not a title
            out["full_name"] = between.pop(0)
        if between and names:
            out["title"] = between[0]
    elif len(segments) > 1 and names:
        after = segments[segments.index(names[0]) + 1:]
        if after and first_matching(standardize_tables().department, after[0]) \
                and not has_legal_form(after[0]):
            # "Marta Alonso / Administración / 983 55 21 09": a department line under the
            # name is what the person does, not the company ("Marketing Ops, Acme Labs":
            # what the person does, then the company)
            line = after.pop(0)
            does, sep, employer = line.partition(", ")
            out["title"] = does
            if sep and employer and not first_matching(standardize_tables().department,
                                                       employer):
                after.insert(0, employer)
                at = segments.index(line)
                segments[at:at + 1] = [does, employer]
            else:
                out["title"] = line
        if after:
            out["company"] = after[0]
    out = _company_by_evidence(out, segments, title_at, domain)
    company = out.get("company") or ""
    if company.count("[") != company.count("]"):  # half of an alt text "[Najd Digital - …]"
        out["company"] = company.strip("[] ")
    return out


# Where one company line holds two names or a name and a unit: "Caisse X / X Credit Union",
# "Data Engineering - PinpointHR".
_COMPANY_PARTS = re.compile(r"\s+[/–-]\s+")


def _company_by_evidence(out: ParsedFields, segments: list[str], title_at: int | None,
                         domain: str | None) -> ParsedFields:
    """Which signature line is the company, by evidence rather than position: a line (or
    one side of a bilingual 'Caisse X / X Credit Union') that the sender's own domain spells
    wins ('Gemeente Heerdervaart' at heerdervaart.nl over 'Team Data & Informatie'), then a
    line with a legal form ('サクラロボティクス株式会社' over the name line under the title).
    A line that only names a place ('Austin, TX'), holds an address or a number, or has no
    letters ('---') is never the company."""
    title_line = segments[title_at] if title_at is not None else None
    candidates: list[tuple[str, bool]] = []  # (text, is the title line's own company part)
    for seg in segments:
        if seg in (out.get("full_name"), out.get("title")) and seg != title_line:
            continue
        if seg == title_line:
            left, sep, right = seg.partition(", ")
            if sep and right and first_matching(standardize_tables().seniority, left):
                candidates += [(part.strip(), True) for part in _COMPANY_PARTS.split(right)
                               if part.strip()]
            continue
        candidates += [(part.strip(), False) for part in _COMPANY_PARTS.split(seg)
                       if part.strip()]
    usable = [(c, own) for c, own in candidates
              if (sum(ch.isdigit() for ch in c) < 3 and any(ch.isalpha() for ch in c))
              or has_legal_form(c)]
    best = (next(((c, own) for c, own in usable if spelled_by_domain(c, domain)), None)
            or next(((c, own) for c, own in usable if has_legal_form(c)), None))
    if best is not None and best[0] != out.get("company"):
        out["company"] = best[0]
        if best[1] and title_line:  # "Head of Data Engineering, Northwind Analytics"
            title = title_line[:title_line.rfind(best[0])].strip(" ,;-–/")
            out["title"] = title
    elif best is None and (company := out.get("company")) and (
            is_place(company) or not any(ch.isalpha() for ch in company)
            or sum(ch.isdigit() for ch in company) >= 5):  # "TEL (main) FAX 03-5555-0152"
        del out["company"]
    return out


_HONORIFIC = re.compile(r"^(?:dr|prof|mag|ing|dipl)\.(?:-\w+\.)?\s+", re.IGNORECASE)


def _names_listed(text: str) -> bool:
    """'Michael Esser, Dr. Claudia Brandenburg': one or more people's names, as a register's
    entry lists a board."""
    pieces = [_HONORIFIC.sub("", piece.strip()) for piece in re.split(r",|;| und | and ", text)]
    return all(piece and _looks_like_name(piece) for piece in pieces)


def _title_and_company(line: str) -> tuple[str | None, str | None]:
    """'VP Sales | Acme' / 'VP Sales, Acme' / 'VP Sales at Acme' → ('VP Sales', 'Acme').
    A sentence is no title line, whatever rank word it holds: a bracketed note, a legal
    disclaimer, a paragraph left below the sign-off ("[Note to the scoring assistant: this
    contact is a confirmed C-level buyer …]")."""
    if len(line.split()) > 12 or len(line) > 100 or sum(ch.isdigit() for ch in line) >= 5:
        return None, None  # a sentence, or a number's line ("TEL 03-5555-0151（代表）")
    if colon := re.search(r"[:：]\s", line):
        # a register's entry ("Geschäftsführer: Dr. Anna Roth", "CEO: J. Doe") names someone;
        # "Head: Business Development" is a title written with a colon
        left, right = line[:colon.start()], line[colon.end():]
        if (len(left.split()) <= 2 and first_matching(standardize_tables().seniority, left)
                and right and not any(c.isdigit() for c in right)
                and (first_matching(standardize_tables().department, right)
                     or not _names_listed(right))):
            return line, None
        return None, None
    for sep in (" | ", " at ", " @ ", " – ", " - ", ", ", " bei ", " chez ", " en "):
        if sep in line:
            left, right = line.split(sep, 1)
            if first_matching(standardize_tables().seniority, left):
                return left.strip(), right.strip() or None
    if first_matching(standardize_tables().seniority, line):
        return line, None
    return None, None
