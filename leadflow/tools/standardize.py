"""Deterministic standardisation of lead fields (SPEC §3): names, emails, phones, titles,
seniority, department, industry, country, free-mail detection, size.

Tables live in `leadflow/config/standardize.yaml`; this module holds the mechanisms.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

import phonenumbers
import pycountry

from leadflow.config import standardize_tables

# Each match starts where a run of its characters starts (the look-behinds): a search then
# scans a 20 000-character run once, not once per position (that was O(n²): seconds per item).
EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}")
URL_RE = re.compile(
    r"(?<![a-z0-9.-])(?:https?://)?(?:www\.)?((?:[a-z0-9-]+\.)+[a-z]{2,24})(?:[/:?#]\S*)?",
    re.IGNORECASE,
)
# ccTLDs used as generic names (.io, .ai, .co ...) say nothing about where a company is.
GENERIC_CCTLDS = frozenset({"io", "ai", "co", "tv", "me", "ly", "fm", "gg", "to", "ws", "cc", "sh",
                            "so", "vc", "la", "app", "dev", "xyz", "tech", "cloud", "is"})


@cache
def freemail_domains() -> frozenset[str]:
    text = resources.files("leadflow.data").joinpath("freemail_domains.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def is_freemail(domain: str | None) -> bool:
    return bool(domain) and domain.lower() in freemail_domains()  # type: ignore[union-attr]


def is_own_domain(domain: str | None) -> bool:
    """Our own company's domain (or a subdomain): a colleague, our website, our no-reply
    relay — never the lead's address or company (standardize.yaml `own_domains`)."""
    if not domain:
        return False
    return _within(domain.lower().rstrip("."), standardize_tables().own_domains)


def _within(domain: str, parents: tuple[str, ...]) -> bool:
    """The domain is one of the parents or a subdomain of one."""
    return any(domain == parent or domain.endswith("." + parent) for parent in parents)


def is_own_address(address: str | None) -> bool:
    if not address or "@" not in address:
        return False
    return is_own_domain(address.rsplit("@", 1)[1])


def is_unattended_address(address: str | None) -> bool:
    """An address nobody reads ("no-reply@", "mailer-daemon@"): a notification's sender,
    never the lead's (standardize.yaml `unattended_local_parts`, the whole local part or a
    word of it: "leads-noreply@linkedin.com", "notifications@calendly.com")."""
    if not address or "@" not in address:
        return False
    local = address.rsplit("@", 1)[0].lower()
    unattended = standardize_tables().unattended_local_parts
    return local in unattended or any(word in unattended for word in re.split(r"[-._+]", local))


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"[^\S\n]+")  # any whitespace run except a line break
_ANY_SPACES = re.compile(r"\s+")


def replace_lone_surrogates(text: str) -> str:
    """Unpaired UTF-16 surrogates (JSON '\\ud800') → U+FFFD: no UTF-8 store can hold them."""
    if not _LONE_SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def without_accents(text: str) -> str:
    """Lower case without accents: 'Cláudia' → 'claudia' (to compare a name with an
    address's local part)."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.lower())
                   if not unicodedata.combining(ch))


def clean_text(value: object, *, single_line: bool = False) -> str:
    """Whitespace runs → one space (line breaks kept unless `single_line`), NUL dropped, lone
    surrogates → U+FFFD; every other character, control and format characters included, is
    kept verbatim: what the lead typed is what is stored (displays escape them).

    NUL is dropped rather than rejected: it never carries meaning in a lead's text and
    PostgreSQL text columns cannot store it. None → ''; other non-strings → str(value).
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = replace_lone_surrogates(text.replace("\x00", "")).replace("\r\n", "\n")
    return (_ANY_SPACES if single_line else _SPACES).sub(" ", text).strip()


def clean_line(value: object) -> str:
    """clean_text for one-line fields (names, company, title): no line breaks, so a value
    never smuggles a new header into an email subject or a CSV row."""
    return clean_text(value, single_line=True)


MAX_EMAIL_CHARS = 254  # RFC 5321's path limit; longer is not a deliverable address
MAX_DOMAIN_CHARS = 253  # RFC 1035


def normalize_email(value: object) -> str | None:
    match = EMAIL_RE.search(clean_text(value))
    email = match.group(0).lower().strip(".'") if match else None
    return email if email and len(email) <= MAX_EMAIL_CHARS else None


def domain_of(value: object) -> str | None:
    """Bare registrable host from a URL or an email address ('https://www.x.com/a' → 'x.com')."""
    text = clean_text(value).lower()
    if not text:
        return None
    if "@" in text:
        email = normalize_email(text)
        return email.split("@", 1)[1] if email else None
    match = URL_RE.search(text)
    if not match:
        return None
    host = match.group(1).lower()
    host = host[4:] if host.startswith("www.") else host
    return host if len(host) <= MAX_DOMAIN_CHARS else None


def company_domain(email: str | None, website: str | None) -> str | None:
    """The company's domain: the website's (not a profile on a platform: `platform_domains`),
    else the email's unless it is free-mail."""
    platforms = standardize_tables().platform_domains
    for candidate in (domain_of(website), domain_of(email)):
        if candidate and not is_freemail(candidate) and not is_own_domain(candidate) \
                and not _within(candidate, platforms):
            return candidate
    return None


def east_asian_letter(ch: str) -> bool:
    """A Han, kana or Hangul character (or a CJK mark such as ㈱): the scripts that run their
    words together, so names, keys and organisations in them are read without spaces."""
    code = ord(ch)
    return 0x2E80 <= code <= 0x9FFF or 0xAC00 <= code <= 0xD7AF or 0xF900 <= code <= 0xFAFF


def is_east_asian(text: str) -> bool:
    """Text written wholly in those scripts ('高橋', '所属', '주식회사')."""
    return bool(text) and all(east_asian_letter(ch) for ch in text)


def normalize_phone(value: object, country: str | None = None) -> str | None:
    """E.164 via libphonenumber; national numbers need the lead's country."""
    text = clean_text(value)
    if not text or sum(ch.isdigit() for ch in text) < 6:
        return None
    text = re.sub(r"^\s*00", "+", text)
    region = country.upper() if country and not text.lstrip().startswith("+") else None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    home = phonenumbers.PhoneMetadata.metadata_for_region(region or "")  # "0722…": not US
    if not phonenumbers.is_possible_number(number) or (home and home.national_prefix not in (
            None, "0") and text.lstrip("( ").startswith("0")):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def country_of_phone(e164: str | None) -> str | None:
    if not e164:
        return None
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return region if region and region != "ZZ" else None


def country_code(value: object) -> str | None:
    """ISO 3166-1 alpha-2 from a name, code or local spelling ('Deutschland' → 'DE')."""
    raw = clean_line(value).strip(" ,;").lower()
    aliases = standardize_tables().country_aliases
    if raw in aliases:  # "u.s." before its dots are stripped
        return aliases[raw]
    text = raw.strip(".")
    if not text or len(text) > 120:  # a paste, not a place: one lookup per part is slow
        return None
    if text in aliases:
        return aliases[text]
    try:
        return str(pycountry.countries.lookup(text).alpha_2)
    except LookupError:
        pass
    # "Berlin, Germany" / "Remote - Canada": try the last, then the first comma/dash part.
    parts = [p.strip() for p in re.split(r"[,/|()–-]", text) if p.strip()]
    for part in reversed(parts):
        if part != text:
            found = country_code(part)
            if found:
                return found
    return None


_NATIONAL_SECOND_LEVELS = frozenset({"com", "org", "net", "edu", "gov", "gob", "ac", "co", "mil",
                                     "nom", "or", "ne", "go"})


def country_of_domain(domain: str | None) -> str | None:
    if not domain or "." not in domain:
        return None
    labels = domain.lower().split(".")
    tld = labels[-1]
    if tld == "uk":
        return "GB"
    # a vanity ccTLD (.co, .io) is national under its registry's own second level:
    # altoprado.com.co is Colombian, altoprado.co says nothing
    national = len(labels) >= 3 and labels[-2] in _NATIONAL_SECOND_LEVELS
    if len(tld) != 2 or (tld in GENERIC_CCTLDS and not national):
        return None
    found = pycountry.countries.get(alpha_2=tld.upper())
    return str(found.alpha_2) if found else None


def unspaced_script(text: str) -> bool:
    """Some of the text is in a script written without spaces between words (a Thai month
    name inside "เดือนมีนาคมนี้" has no word edge to match at)."""
    return any(_unspaced(ch) for ch in text)


def _unspaced(ch: str) -> bool:
    """A character of a script written without spaces between words: CJK, Thai and Lao,
    Myanmar, Khmer."""
    code = ord(ch)
    return (code >= 0x2E80 or 0x0E00 <= code <= 0x0EFF or 0x1000 <= code <= 0x109F
            or 0x1780 <= code <= 0x17FF)


@cache
def phrase_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word alternation; phrases in scripts without spaces match as substrings; a
    phrase written "*leiter" matches the end of a word (German compounds: IT-Leiter,
    Abteilungsdirektor)."""
    parts = []
    for phrase in sorted(phrases, key=len, reverse=True):
        if phrase.startswith("*"):
            parts.append(rf"{re.escape(phrase[1:])}(?!\w)")
            continue
        escaped = re.escape(phrase)
        if not any(_unspaced(ch) for ch in phrase):  # CJK, Thai have no word boundaries
            escaped = rf"(?<!\w){escaped}(?!\w)"
        parts.append(escaped)
    return re.compile("|".join(parts), re.IGNORECASE)


def first_matching(table: tuple[tuple[str, tuple[str, ...]], ...], text: str) -> str | None:
    """The label of the first row whose phrases occur in `text`."""
    if not text:
        return None
    for label, phrases in table:
        if phrase_regex(phrases).search(text):
            return label
    return None


def contains_phrase(text: str, phrases: tuple[str, ...]) -> re.Match[str] | None:
    return phrase_regex(phrases).search(text) if text and phrases else None


_TITLE_SMALL_WORDS = frozenset({"of", "and", "for", "the", "de", "del", "la", "y", "und", "für",
                               "et", "des", "du", "da", "do", "e", "at"})


def standardize_title(value: object) -> str | None:
    """Expand abbreviations and fill the 'of': 'sr. dir mktg' → 'Senior Director of Marketing'."""
    text = clean_line(value).strip(" ,;|")
    if not text or len(text.split()) > _TITLE_MAX_WORDS:
        return None  # a paragraph is no job title (a hidden note under a signature, a message)
    expansions = standardize_tables().title_expansions
    words = []
    for word in text.split():
        key = word.lower().strip(",")
        if key in expansions:
            words.append(expansions[key] + ("," if word.endswith(",") else ""))
        elif key in _TITLE_SMALL_WORDS:
            words.append(word.lower())
        elif word.islower() or (word.isupper() and (len(word) > 4 or text.isupper())):
            words.append(word.capitalize())
        else:
            words.append(word)
    title = " ".join(words)
    title = re.sub(
        r"^((?:Senior|Executive|Associate|Group|Global|Regional)\s+)?(VP|SVP|EVP|Director|Head)"
        r"\s+(?!of\b|de\b|and\b|&|,|General\b|Generale?\b)(\w)", r"\1\2 of \3", title)
    return title


# The longest titles people write ("Senior Vice President, Global Head of Customer Experience
# and Digital Transformation, EMEA") stay under this many words.
_TITLE_MAX_WORDS = 16


def has_rank(title: str | None) -> bool:
    """The title holds a word of the seniority table ("Manager", "Leiterin", "CFO")."""
    return bool(title) and first_matching(standardize_tables().seniority, title or "") is not None


_RANK_ORDER = ("individual_contributor", "manager", "director", "vp", "c_level")
# Where a title joins two roles: "SVP & Chief Information Officer", "Founder / CTO".
_JOINED_ROLES = re.compile(r"\s+(?:&|/|\+|and|und|et|y|e)\s+", re.IGNORECASE)


# A general manager of a function ("GM - Sales & Marketing", "General Manager, Digital
# Transformation") heads that function, not the company: director-level.
_FUNCTION_GM = re.compile(r"(?i)(?<!\w)(?:general manager|gm)(?:\s*[-–—,:]\s*|\s+(?:of|for)\s+)"
                          r"(?P<function>.+)")


def _function_head(title: str) -> bool:
    found = _FUNCTION_GM.search(title)
    if found is None:
        return False
    tables = standardize_tables()
    rest = title[:found.start()] + " " + found.group("function")
    return first_matching(tables.department, found.group("function")) not in (None, "executive") \
        and first_matching(tables.seniority, rest) != "c_level"


def seniority_of(title: str | None) -> str:
    """The title's rank; a title joining two roles holds the higher one ("SVP & Chief
    Information Officer" is c_level), unless the whole says the rank is someone else's
    ("Assistant to the CEO & CFO": the table's first row)."""
    if not title:
        return "unknown"
    table = standardize_tables().seniority
    whole = first_matching(table, title)
    if whole is None:
        return "individual_contributor"
    if whole == "c_level" and _function_head(title):
        return "director"
    if table and table[0][0] == whole and first_matching(table[:1], title):
        return whole
    if any(_JOINED_ROLES.search(m.group(0)) for label, phrases in table if label == whole
           for m in phrase_regex(phrases).finditer(title)):
        return whole  # one rank written with a joiner ("Directeur Administratif et Financier")
    ranks = [first_matching(table, part) for part in _JOINED_ROLES.split(title)]
    return max((r for r in ranks if r in _RANK_ORDER), key=_RANK_ORDER.index, default=whole)


def department_of(title: str | None) -> str | None:
    if not title:
        return None
    return first_matching(standardize_tables().department, title) or "other"


def industry_of(value: object) -> str | None:
    text = clean_text(value)
    if not text:
        return None
    return first_matching(standardize_tables().industry, text) or "other"


MAX_EMPLOYEES = 10_000_000  # above the largest employer on earth: junk, not a headcount


def plausible_headcount(digits: str, scale: int = 1) -> int | None:
    """int(digits) × scale when it is a plausible headcount; never int() 5000 digits."""
    if len(digits) > len(str(MAX_EMPLOYEES)):
        return None
    count = int(digits) * scale
    return count if count <= MAX_EMPLOYEES else None


def parse_employees(value: object) -> tuple[int | None, tuple[int, int | None] | None]:
    """Plain number → (n, None); a range '200-499' / '1000+' → (None, (low, high|None)).

    A number above MAX_EMPLOYEES is unreadable (None, None): it would overflow the CRM's
    integer column and says nothing about the company's size."""
    text = clean_text(value).lower().replace(",", "").replace(".", "").replace(" ", "")
    text = text.replace("〜", "-").replace("~", "-").replace("～", "-").rstrip("名人")
    if not text:
        return None, None
    if re.fullmatch(r"\d+", text):
        return plausible_headcount(text), None
    match = re.fullmatch(r"(\d+)[-–to]+(\d+)\w*", text)
    if match:
        low, high = plausible_headcount(match.group(1)), plausible_headcount(match.group(2))
        return (None, (low, high)) if low is not None and high is not None else (None, None)
    match = re.fullmatch(r"(morethan|over|>)?(\d+)(k?)(\+?)[a-z]*", text)
    if match:  # "5k" → 5000; "1000+" / "more than 1000" → a lower bound
        count = plausible_headcount(match.group(2), 1000 if match.group(3) else 1)
        if count is None:
            return None, None
        return (None, (count, None)) if match.group(1) or match.group(4) else (count, None)
    match = re.fullmatch(r"(?:<|under|lessthan)(\d+)\w*", text)
    if match and (below := plausible_headcount(match.group(1))) is not None:
        return None, (0, below - 1)
    return None, None
