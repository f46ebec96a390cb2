"""Facts read from free text (issue 14): the company's headcount stated in prose and a
company name without the location or size written after it (phone numbers written anywhere:
`phone_text`).
Each reads what the text states and nothing more: what the text does not support stays empty.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from leadflow.config import standardize_tables
from leadflow.tools.alternation import alternation
from leadflow.tools.roles import role_in_text as role_in_text  # read here by its callers
from leadflow.tools.standardize import (
    MAX_EMPLOYEES,
    clean_text,
    east_asian_letter,
    has_rank,
    is_east_asian,
    plausible_headcount,
)

# The line Capture writes above text the lead forwarded (a colleague's note, a COO's request):
# the lead's evidence, but not the lead's own title, phone or name.
FORWARDED_LINE = "---------- Forwarded message ----------"


def own_words(text: str | None) -> str:
    """The writer's own words: the text above what the lead forwarded, if anything."""
    return (text or "").split(FORWARDED_LINE, 1)[0]


# A number as people write it: "1,200", "1.200", "3 000", "5k", "2 tys.", "1.5k", "450".
_GROUPED = r"\d{1,3}(?:[,.\u00a0\u202f' ]\d{3})+(?!\d)"
_NUMBER = rf"(?<![\d.,])({_GROUPED}|\d+(?:[.,]\d+)?)"


@cache
def _headcount_patterns() -> tuple[re.Pattern[str], ...]:
    """(number … staff noun, number + staff abbreviation as written, CJK staff word … number
    + counter, CJK number + counter … staff word, staff word … number)."""
    tables = standardize_tables()
    multipliers = alternation(tuple(tables.headcount_multipliers))
    amount = (rf"{_NUMBER}(?:\s?({multipliers})(?![\w]))?\s?(\+)?"
              rf"(?:\s?(?:-|–|to|bis|a|à|〜|~)\s?{_NUMBER}(?:\s?({multipliers})(?![\w]))?)?")
    nouns = alternation(tables.staff_nouns)
    after = re.compile(rf"{amount}(?:[\s-]+(?!\d)[^\W\d]+){{0,3}}?[\s-]+(?:{nouns}|person|strong)"
                       rf"(?![\w])", re.IGNORECASE)
    abbreviations = alternation(tables.staff_abbreviations) or "(?!)"
    abbreviated = re.compile(rf"{amount}\s?(?:{abbreviations})(?!\w)")
    before_words = "|".join(re.escape(w) for w in tables.staff_before if not is_east_asian(w))
    before = re.compile(rf"(?<![\w])(?:{before_words})\s+(?:[^\W\d]+\s+){{0,2}}?"  # no year:
                        rf"(?!(?:19|20)\d\d(?![\d.,]))\s*{amount}", re.IGNORECASE)  # "en 2026"
    cjk_words = "|".join(re.escape(w) for w in tables.staff_before if is_east_asian(w))
    counters = "".join(tables.cjk_counters)
    more = "".join(tables.cjk_more_than)
    counted = rf"{amount}\s?[{more}]?[{counters}]" if more else rf"{amount}\s?[{counters}]"
    cjk = re.compile(rf"(?:{cjk_words})[^。\n\d]{{0,6}}?{counted}")
    # or the number first: "800名员工", "約300名の社員", "450명의 직원", "团队300余人"
    cjk_first = re.compile(rf"{counted}(?:の|의)?\s?(?:{cjk_words})")
    return after, abbreviated, cjk, cjk_first, before


def _amount(digits: str | None, unit: str | None) -> int | None:
    if digits is None:
        return None
    multiplier = standardize_tables().headcount_multipliers.get((unit or "").lower(), 1)
    if re.fullmatch(_GROUPED, digits):
        return plausible_headcount(re.sub(r"\D", "", digits))
    if unit and re.fullmatch(r"\d+[.,]\d+", digits):  # "1.5k"
        value = float(digits.replace(",", ".")) * multiplier
        return int(value) if value <= MAX_EMPLOYEES else None
    whole = re.sub(r"[.,]\d+$", "", digits)
    return plausible_headcount(whole, multiplier)


@cache
def _approximate_number() -> re.Pattern[str] | None:
    words = standardize_tables().approximate_numbers
    if not words:
        return None
    alternatives = alternation(tuple(words))
    # "une quarantaine de", "una ventina di", "a dozen", "ein Dutzend"
    return re.compile(rf"(?<![\w])(?:(?:une?|una|a|ein|um|uma)\s+)?({alternatives})"
                      rf"(?:\s+(?:de|d'|d’|di|of|do|da))?\s*(?=[^\W\d])", re.IGNORECASE)


def _with_round_numbers(prose: str) -> str:
    """'une quarantaine de salariés' → '40 salariés': a round-number word read as its number."""
    pattern = _approximate_number()
    if pattern is None:
        return prose
    words = standardize_tables().approximate_numbers
    return pattern.sub(lambda m: f"{words[m.group(1).lower()]} ", prose)


_TEAM_BRACKET = re.compile(r"(?i)(?:team|équipe|equipo|equipe|squadra|abteilung|department)"
                           r"\s*\(\s*(?:about|approx\.?|ca\.?|around|~)?\s*$")


def headcount_in_text(text: object) -> tuple[int | None, tuple[int, int | None] | None]:
    """The company's headcount as prose states it ("we are about 600 people", "team of 45",
    "ca. 1.200 Mitarbeiter", "従業員約780名", "500-999 employees", "north of 5k staff",
    "une quarantaine de salariés", "ca. 850 MA"), in the shape of `parse_employees`. Only a
    number tied to a word for the company's people counts. Where several are stated ("field
    team 22 people, 9 inside, 850 MA in all"), the largest is the company's: a team is part of
    it. Nothing found → (None, None): no guessing."""
    prose = _with_round_numbers(clean_text(text))
    if not prose:
        return None, None
    best: tuple[int | None, tuple[int, int | None] | None] = (None, None)
    for pattern in _headcount_patterns():
        for match in pattern.finditer(prose):
            if _TEAM_BRACKET.search(prose, max(0, match.start() - 25), match.start()):
                continue  # "the new conveyancing team (5 people)": a team, not the company
            found = _size_of(match.groups())
            if found != (None, None) and _least(found) > _least(best):
                best = found
    return best


def _least(size: tuple[int | None, tuple[int, int | None] | None]) -> int:
    """The fewest people a size allows (-1 for none): how two statements compare."""
    count, size_range = size
    return count if count is not None else (size_range[0] if size_range else -1)


def _size_of(groups: tuple[str | None, ...]) -> tuple[int | None, tuple[int, int | None] | None]:
    """(low, unit, plus, high, high unit) of an amount → parse_employees' shape."""
    low, unit, plus, high, high_unit = groups[:5]
    first = _amount(low, unit or high_unit)
    second = _amount(high, high_unit)
    if first is None:
        return None, None
    if second is not None and second > first:
        return None, (first, second)
    if plus:
        return None, (first, None)
    return first, None


# A size field answered with the writer alone: a first-person singular pronoun, with
# "just"/"only" before it or "alone" after it ("Just me", "Only myself", "nur ich", "solo yo",
# "juste moi", "só eu", "alleen ik", "io da solo", "myself"). Grammar, not a phrase per lead.
_SOLO_VALUE = re.compile(
    r"(?i)(?:just|only|nur|solo|sólo|solamente|juste|seulement|só|somente|apenas|alleen|tylko)"
    r"\s+(?:me|myself|ich|yo|moi|eu|io|ik|ja)"
    r"|(?:me|myself|ich|yo|moi|eu|io|ik|ja)\s+(?:alone|allein|sol[oa]|seul|seule|sozinh[oa]|alleen)"
    r"|me|myself|moi|(?:one|1)[\s-]+(?:person|man|woman)(?:\s+(?:company|business|shop|"
    r"operation))?|sole\s+(?:trader|proprietor)|solo(?:preneur)?")


@cache
def _size_value_pattern() -> re.Pattern[str]:
    """A size field's value: an optional bound word, then a number or a range."""
    tables = standardize_tables()
    multipliers = alternation(tuple(tables.headcount_multipliers))
    amount = (rf"{_NUMBER}(?:\s?({multipliers})(?![\w]))?\s?(\+)?"
              rf"(?:\s?(?:-|–|to|bis|a|à|〜|~|y)\s?{_NUMBER}(?:\s?({multipliers})(?![\w]))?)?")
    lower = "|".join(re.escape(w) for w in tables.lower_bound_words)
    upper = "|".join(re.escape(w) for w in tables.upper_bound_words)
    return re.compile(rf"(?:(?<![\w])({lower})\s*|(?<![\w])({upper})\s*)?(?:ca\.?\s*|~\s*|約)?"
                      rf"{amount}\s*(以上|超)?", re.IGNORECASE)


def headcount_in_value(value: object) -> tuple[int | None, tuple[int, int | None] | None]:
    """A company-size field's value in words ("más de 10.000", "unter 50", "ca. 250",
    "Gut 500 Leute", "1,000 以上"): the field says the number is the headcount, so no staff
    word is needed; bound words make it a range. Nothing readable → (None, None)."""
    prose = _with_round_numbers(clean_text(value))
    if not prose:
        return None, None
    if _SOLO_VALUE.fullmatch(prose.strip(" .!")):
        return 1, None  # "Just me", "nur ich", "solo yo": a one-person company
    found = headcount_in_text(prose)
    if found != (None, None):
        return found
    match = _size_value_pattern().search(prose)
    if match is None:
        return None, None
    lower, upper, bound_after = match.group(1), match.group(2), match.group(8)
    count, size_range = _size_of(match.groups()[2:7])
    if count is not None and (lower or bound_after):
        return None, (count, None)
    if count is not None and upper:
        return None, (0, count - 1)
    return count, size_range


def _letters(text: str) -> str:
    return re.sub(r"[\W\d_]+", "", text.lower())


@cache
def _legal_form_regex() -> re.Pattern[str]:
    forms = sorted(standardize_tables().legal_forms, key=len, reverse=True)
    latin = [re.escape(f) for f in forms if f.isascii() or not _is_cjk(f)]
    cjk = [re.escape(f) for f in forms if not f.isascii() and _is_cjk(f)]
    # CJK scripts write no spaces: 株式会社 is joined to the name on either side
    return re.compile(r"(?<![\w])(?:" + "|".join(latin) + r")(?![\w])"
                      + ("|" + "|".join(cjk) if cjk else ""), re.IGNORECASE)


def _is_cjk(text: str) -> bool:
    return any(0x2E80 <= ord(ch) <= 0x9FFF for ch in text)


def has_legal_form(text: str) -> bool:
    return bool(text) and _legal_form_regex().search(text) is not None


def without_legal_form(name: str) -> str:
    """The name as one company: legal forms, punctuation and case aside ('São Bento
    Logística Ltda.' and 'São Bento Logística' name the same company)."""
    bare = _legal_form_regex().sub(" ", name)
    return " ".join(re.sub(r"[^\w&]+", " ", bare.lower()).split())


# "Acme GmbH, Berlin", "Acme (250 people)", "Acme in Wellington", "Acme - Lisbon office"
_COMPANY_TAIL = re.compile(r"\s*(?:,|\(|\s[-–|]\s|\sin\s|\sen\s|\sem\s|\sà\s|\saus\s).*$",
                           re.IGNORECASE)


def clean_company_name(name: str | None, domain: str | None = None) -> str | None:
    """The company's name without what follows it on the line: a location or a size after a
    comma, a dash, a parenthesis or 'in …'. Cut only when the cut is safe: right after a legal
    form ('Åkerlund Energi AB, Umeå'), or when the part before is what the company's own
    domain spells ('Saltbush Wines, Barossa Valley SA' at saltbushwines.com.au). Legal forms
    stay in the name; they are dropped only for matching (`name_key`)."""
    if not name:
        return name
    if latin := _latin_of_two_scripts(name):
        return latin
    if logo := _logo_text().match(name):  # "[Åkerlund Energi logotyp]": a logo's alt text
        return logo.group(1).strip() or None
    roles = [m for m in _ROLE_BEFORE_EMPLOYER.finditer(name)
             if len(name[:m.start()].split()) <= 6 and (
                 has_rank(name[:m.start()])
                 # "commercial chez MediDistri Maroc" at medidistri.ma: a role in lower
                 # case, and the domain spells what follows the preposition, not it
                 or (name[:m.start()].islower() and spelled_by_domain(name[m.end():], domain)
                     and not spelled_by_domain(name[:m.start()], domain)))]
    if roles:  # "gerente comercial de MotoRed Antioquia", "Head of Sales at Acme": the employer
        name = name[roles[-1].end():]
    # a sentence that ran on after the name ("Harbourside Physio Group. easiest is phone"),
    # and a full stop that ends the sentence, not an abbreviation ("Hoteles Mar Caribe.")
    forms = [m.span() for m in _legal_form_regex().finditer(name)]  # "Sp. z o.o." stays
    # (a lower-case word or a pronoun after the stop; not "San. ve Tic.")
    for stop in re.finditer(r"(?<=\w\w\w\w)\.\s+(?=[a-z]|(?:I|We|My|Our)\b)", name):
        if not any(start <= stop.start() < end for start, end in forms):
            name = name[:stop.start()]
            break
    last = name.rsplit(" ", 1)[-1]
    if name.endswith(".") and len(last) > 4 and "." not in last[:-1] \
            and not _ends_with_legal_form(name):  # "S.A.C." is an abbreviation
        name = name[:-1]
    match = _COMPANY_TAIL.search(name)
    if match is None or match.start() == 0:
        return name
    head = name[:match.start()].strip(" ,;-–|")
    if _legal_form_regex().match(name[match.start():].lstrip(" ,;-–|(")):
        return name  # "Co., Ltd.", "(Pty) Ltd": still the name ("…, Barossa Valley SA" is not)
    if spelled_by_domain(name[match.start():].strip(" ,;-–|()"), domain):
        return name  # "空橋エナジー株式会社 (Sorahashi Energy)": the name in another script
    legal = _legal_form_regex().search(name)
    if legal is not None and legal.end() <= match.start() + 1 and head:
        return head
    stem = _letters((domain or "").split(".")[0])
    if head and stem and len(stem) >= 4:
        head_letters = _letters(head)
        if len(head_letters) >= 4 and (head_letters in stem or stem in head_letters
                                       or head_letters.startswith(stem[:6])):
            return head
    return name


@cache
def _logo_text() -> re.Pattern[str]:
    """A signature's logo image, read as its alt text ("[Åkerlund Energi logotyp]", "[Acme
    logo]"; standardize.yaml `logo_words`): the name, then a logo word, in brackets."""
    words = alternation(standardize_tables().logo_words) or "(?!)"
    return re.compile(rf"(?i)^\s*\[\s*([^\[\]]*?)\s*(?:{words})\s*\]\s*$")
# A role, then its employer: "gerente comercial de MotoRed Antioquia", "Head of Sales at Acme"
_ROLE_BEFORE_EMPLOYER = re.compile(
    r"(?i:\s+(?:de|del|of|at|bei|chez|di|da|do|van)\s+)(?=[A-ZÀ-Þ0-9])")


# "Hsin Feng Tooling Co., Ltd. 新豐精密工具股份有限公司", "百星医疗 Baixing Medical", "キラメキ
# メディカル株式会社（Kirameki Medical Co., Ltd.）": one name in two scripts, apart
_LATIN_RUN = r"[A-Za-z][^\u3000-\u9fff\uac00-\ud7af]*?"
_TWO_SCRIPTS = re.compile(
    rf"^\s*(?:(?P<cjk1>[^\x00-\u024f]+?)\s*[(（]?\s*(?P<latin1>{_LATIN_RUN})\s*[)）]?"
    rf"|(?P<latin2>{_LATIN_RUN})\s*[(（]?\s*(?P<cjk2>[^\x00-\u024f]+?)\s*[)）]?)\s*$")


def _latin_of_two_scripts(name: str) -> str | None:
    """The Latin-script half of a company name written in two scripts side by side, as the
    name a CRM files it under ('Baixing Medical'); None when the scripts run together
    ("LINEヤフー株式会社", "株式会社LeadFlow") or the name is in one script."""
    match = _TWO_SCRIPTS.match(name)
    if match is None:
        return None
    latin = (match.group("latin1") or match.group("latin2") or "").strip(" ,;()（）")
    cjk = match.group("cjk1") or match.group("cjk2") or ""
    if len(latin) < 4 or len(cjk.strip()) < 2 or " " not in name.strip() or not any(
            east_asian_letter(ch) for ch in cjk):
        return None
    return latin


# letters no accent folding reaches ('Bałtyk' → 'baltyk', 'Kırşehir' → 'kirsehir')
_UNDECOMPOSED = {"ł": "l", "đ": "d", "ı": "i", "ß": "ss", "æ": "ae", "ø": "o", "œ": "oe"}
_TRANSLITERATED = str.maketrans({**_UNDECOMPOSED, "ä": "ae", "ö": "oe", "ü": "ue",
                                 "ø": "oe", "å": "aa"})
_PLAIN = str.maketrans(_UNDECOMPOSED)


def _folded_words(text: str, table: dict[int, str] = _TRANSLITERATED) -> list[str]:
    """Lower-case words without accents; German and Nordic letters as domains spell them
    ('Altenbrück' → 'altenbrueck', 'Søndergaard' → 'soendergaard'), or with `_PLAIN`
    as other languages' domains do ('Örme' → 'orme')."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(table))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [w for w in re.split(r"[^a-z0-9]+", plain) if w]


_SECOND_LEVEL = frozenset({"co", "com", "ac", "edu", "gov", "gob", "org", "net", "ne", "or",
                           "go", "mil", "nic", "ltd", "plc", "sch", "nom"})


def domain_stem(domain: str) -> str:
    """The name part of a domain, letters and digits only: 'sakura-robotics.co.jp' →
    'sakurarobotics', 'student.coralcoast.edu.au' → 'coralcoast' (a subdomain is not it)."""
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) > 1:
        labels = labels[:-1]
    if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
        labels = labels[:-1]
    return re.sub(r"[^a-z0-9]", "", labels[-1])


def shares_a_word(name: str, domain: str) -> bool:
    """A word of the name (four letters or more) is in the domain: 'Sparkasse Altenbrück' at
    sparkassealtenbrueck.de, 'Halvorsen Heating & Air' at halvorsenhvac.com — some evidence
    the name is the sender's company, enough to keep a name the lead gave."""
    stem = domain_stem(domain)
    return any(len(w) >= 4 and w in stem for w in _folded_words(name))


def spelled_by_domain(name: str | None, domain: str | None) -> bool:
    """The company's own domain spells the name: its first label is made of the name's
    words, in any order, each whole, cut to its first letters (four or more) or as its
    initial — 'Gemeente Heerdervaart' at heerdervaart.nl, 'Trillium Credit Union' at
    trilliumcu.ca, 'Construcciones Ribera del Duero' at riberaconstrucciones.es. At least
    one word must appear whole (four letters or more), so initials alone never match."""
    if not name or not domain:
        return False
    stem = domain_stem(domain)
    german, plain = _folded_words(name)[:8], _folded_words(name, _PLAIN)[:8]
    return _spells(stem, german) or (plain != german and _spells(stem, plain))


def _spells(stem: str, words: list[str]) -> bool:
    """`spelled_by_domain` for one folding of the name's words."""
    if len(stem) < 4 or not words:
        return False
    if any(len(w) >= 4 and w in stem for w in words) and len(stem) <= 24:
        whole = "".join(words)  # the domain inside the name, or most of the domain
        if stem in whole or (whole in stem and 2 * len(whole) >= len(stem)):
            return True

    @cache
    def covers(at: int, used: frozenset[int], whole_seen: bool) -> bool:
        if at == len(stem):
            return whole_seen
        for i, word in enumerate(words):
            if i in used:
                continue
            if stem.startswith(word, at) and (
                    covers(at + len(word), used | {i}, whole_seen or len(word) >= 4)):
                return True
            for cut in range(len(word) - 1, 3, -1):  # "construc" of "construcciones"
                if stem.startswith(word[:cut], at) and covers(at + cut, used | {i}, whole_seen):
                    return True
            if word[0] == stem[at] and covers(at + 1, used | {i}, whole_seen):
                return True
        return False

    return covers(0, frozenset(), False) or any(  # a word the name skips ("del", "de")
        covers(0, frozenset({i}), False) for i, w in enumerate(words) if len(w) <= 3)


# A run of capitalised words, lower-case particles allowed inside ("Construcciones Ribera
# del Duero", "Banque de l'Ouest", "Müller & Söhne").
_CAPITALISED_RUN = re.compile(
    r"(?<![\w'’-])[A-ZÀ-ÖØ-Þ][\w&'’.-]*(?:(?<!\.)[ \t]+(?:(?:de|del|la|las|los|da|do|dos|das|"
    r"di|van|von|der|den|du|des|y|e|und|et|&)[ \t]+)*[A-ZÀ-ÖØ-Þ0-9][\w&'’.-]*)*")


def company_in_text(text: object, domain: str | None) -> str | None:
    """The company as the lead's own text names it, found by the sender's domain: the
    longest run of capitalised words that the domain spells ("Trabajo en administración en
    Construcciones Ribera del Duero" at riberaconstrucciones.es, "CTO at Vectorlane" at
    vectorlanesystems.com). None without a domain or such a run: no guessing."""
    prose = clean_text(text)
    if not prose or not domain:
        return None
    found = [_with_legal_form(prose, m.start(), m.group(0).rstrip(","))
             for m in _CAPITALISED_RUN.finditer(prose)]
    found = [run if _ends_with_legal_form(run) else run.rstrip(".")  # "Inc."
             for run in found]
    spelled = [_without_speaker(run, domain) for run in found
               if len(run) <= 60 and spelled_by_domain(run, domain)]
    return max(spelled, key=len, default=None)


def _with_legal_form(prose: str, start: int, run: str) -> str:
    """A run of capitalised words with the legal form that goes on in lower case after its
    last word ("Wrzesiński Systemy Sp. z o.o.", "Sierra Madre S.A. de C.V.")."""
    last = start + run.rfind(" ") + 1
    legal = _legal_form_regex().match(prose, last)
    return prose[start:legal.end()] if legal and legal.end() > start + len(run) else run


def _ends_with_legal_form(name: str) -> bool:
    return any(m.end() == len(name) for m in _legal_form_regex().finditer(name))


_PARTICLE = re.compile(r"\s+(?:von|from|de|da|di|van|of)\s+")


def _without_speaker(run: str, domain: str) -> str:
    """'Weber von Hansa Kontraktlogistik' → 'Hansa Kontraktlogistik': words before a 'from'
    that the domain does not spell are the speaker, not the company."""
    stem = domain_stem(domain)
    for particle in _PARTICLE.finditer(run):
        head, tail = run[:particle.start()], run[particle.end():]
        if not any(len(w) >= 3 and w in stem for w in _folded_words(head)) \
                and spelled_by_domain(tail, domain):
            return tail
    return run
