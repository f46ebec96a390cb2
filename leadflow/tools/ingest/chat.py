"""The chat-transcript parser: fields from the bot's questions and the visitor's answers,
plus what the visitor says unasked ('I'm Ana, CTO at Acme', '200 employees').
"""

from __future__ import annotations

import re

from leadflow.config import standardize_tables
from leadflow.tools.ingest.parsed import IngestError, ParsedFields
from leadflow.tools.ingest.patterns import PHONE_ANY, POST_NOMINAL
from leadflow.tools.ingest.text import MAX_TEXT_CHARS
from leadflow.tools.prose import has_legal_form
from leadflow.tools.standardize import EMAIL_RE, clean_text, first_matching, without_accents

_ASKS = (
    ("email", r"e-?mail|correo|courriel|メール"),
    ("phone", r"phone|number to reach|teléfono|telefone|telefon|téléphone|電話"),
    ("company", r"company(?! size)|organi[sz]ation|work for|employer|empresa|firma|entreprise|"
                r"société|unternehmen|会社|bedrijf|azienda|firmie|organización|organização|"
                r"organizzazione|şirket"),
    # whole words: "a job-management app", "role-based access" ask for no title
    ("title", r"(?<![\w-])(?:role|rolle|rol|ruolo|functie|title|position|job|cargo|puesto|poste|"
              r"fonction|funktion|görev|unvan|chức vụ|chức danh)(?![\w-])|stanowisk|役職"),
    ("country", r"where are you|country|based|located|país|pays|land|どちら|国"),
    # "how many people would use it?" asks for users, not the company's size
    ("employees", r"how many (people|employees)(?!\s+(?:would|will|need|to)\b)|"
                  r"company size|team size|employees|empleados|"
                  r"mitarbeiter|how (big|large)|wie groß|wie gross|quel(le)? taille|"
                  r"qué tamaño|que tamanho|quanto (è )?grande|quantas pessoas|cuántas personas|"
                  r"combien de (personnes|salariés)"),
    ("full_name", r"name|nombre|nome|nom\b|お名前|wie heißen|who am i speaking|naam|"
                  r"appelez|appelles|llamas|llama usted|chiami|chiama|imię|nazywasz|adınız|"
                  r"heißen sie|heisst du|heißt du"),
    ("inquiry", r"help|looking for|need|interest|bring you|assist you|ayudar|ajudar|helfen|aider|"
                r"can we do|ご用件"),
)
# The words a person says before their own name, in the languages of the chats we get.
_INTRO = (r"\bi am|\bi'm|\bmy name is|\bthis is|\bme llamo|\bsoy|\bje suis|\bje m'appelle|"
          r"\bich bin|\bmein name ist|\beu sou|\bmeu nome é|\bsono|\bhabla|\bte habla|\baquí|"
          r"\bc'est|\bik ben|\bmijn naam is|\bmi chiamo|\bnazywam się|\bjestem")
_SELF_INTRO = re.compile(
    r"(?i:" + _INTRO + r"|(?:^|(?<=[,.!:] ))hier(?:\s+(?:ist|spricht))?)\s+"
    r"([A-ZÀ-Þ][\w'’-]+(?:\s+[A-ZÀ-Þ][\w'’-]+){0,2})"
    # "Greg Lindahl here"; a name starts a word run ("A'A'A'…" is one try, not one a letter)
    r"|(?<![\w'’-])([A-ZÀ-Þ][\w'’-]+(?:\s+[A-ZÀ-Þ][\w'’-]+){1,2}) here\b"
)
# Who to ask for on a call back is the visitor ("call me at …, ask for Ray", "demandez
# Mathilde"): their name when nothing else in the chat gives it.
_ASK_FOR = re.compile(
    r"(?i:\bask for|\bdemandez|\bdemander|\bpregunte por|\bpreguntar por|\bpregunta por|"
    r"\bpergunte por|\bperguntar por|\bfragen sie nach|\bverlangen sie)\s+"
    r"([A-ZÀ-Þ][\w'’-]+(?:\s+[A-ZÀ-Þ][\w'’-]+){0,2})")
_HEADCOUNT = re.compile(
    r"(?i)(?:~|about |around |approx\.? |ca\. )?(?<![\d,.])(\d[\d,.]*)\+?\s*"
    r"(?:people|employees|staff|mitarbeiter(?:innen)?|empleados|funcionários|colaboradores|"
    r"salariés|personnes)\b"
)
# A clause starts after punctuation + lowercase; "Sp. z o.o." and "Co., Ltd" are not breaks.
_TEAM_SIZE = re.compile(r"(?i)\bteam|equipo|equipe|abteilung")
_CLAUSE_BREAK = re.compile(r"(?:[,;:!?]|(?<!\b\w\w)(?<!\b\w)\.|\s[-–])\s+(?=[a-z¿¡])|\s+\(")
_ROLE = r"(?:,|\bas|\bI'm|\bI am|\bwork as|^)\s*(?:the\s+|an?\s+)?([^\W\d][\w&/ .-]{1,60}?)\s+"
_COMPANY_END = r"(?=[,.;!()]|\s+\(|\s+(?:and|in|y|und|et|e)\b|$)"
# "Head of IT at Solvik Power": a connector that only joins a role to its employer ...
_ROLE_AT = re.compile(
    _ROLE + r"(?:at|@|from|with|en|bei(?: der| dem)?|chez|na|no|w)\s+"
    r"([A-Z0-9ÀÁÂÄÅÉÍÓÖØÚÜ][\w&.'’ -]{1,60}?)" + _COMPANY_END, re.MULTILINE)
# ... and "directora de revenue management de Hoteles Mar Caribe": 'de'/'of' also join words
# inside a title, so the company after one must be capitalised words only.
_ROLE_OF = re.compile(
    _ROLE + r"(?:de(?: la| l')?|da|do|del|della|di|van|von|der|des|du|of|z)\s+"
    r"((?:[A-Z0-9ÀÁÂÄÅÉÍÓÖØÚÜ][\w&.'’-]*)(?:\s+(?:&\s+)?[A-Z0-9ÀÁÂÄÅÉÍÓÖØÚÜ][\w&.'’-]*)+)"
    + _COMPANY_END, re.MULTILINE)
# A contact card typed as one line: "Rob Hughes, Ashgrove Insurance Brokers, r.hughes@…, 07700…"
# "…, Partnerships Officer. a.otieno@…": a stop before the address ends the title too.
_CARD_SPLIT = re.compile(r"\s*(?:[,;]|\s[-–—|/]\s|(?<=[a-z\d])\.\s+(?=[A-ZÀ-Þ]|[\w.+-]+@))\s*")
# A part of a card that speaks in the first person is a sentence, not a job title.
_FIRST_PERSON = re.compile(r"(?i)(?<![\w'’])(?:i|i'd|i'm|i've|i'll|we|we're|our|my|me|ich|wir|"
                           r"unser\w*|mein\w*|yo|mi|nuestr\w+|je|nous|notre|mon|ma|eu|nós|"
                           r"nosso\w*|io|noi|ik|wij|ons|onze)(?![\w'’])")
_NAME_WORD = r"(?:[A-ZÀ-Þ][^\W\d_][\w'’-]*|van|von|de|der|da|del|la)"
_NAME_PART = re.compile(rf"{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}")
# "I'm with Calloway Advisors", "my company, Pinebrook Home Services", "trabajo en Acme"
_COMPANY_INTRO = re.compile(
    r"(?:\bI'm with|\bI am with|\bI work (?:at|for)|\bmy company,?|\bour company,?|"
    r"\btrabajo en|\btrabalho na|\btrabalho no|\bje travaille chez|\bich arbeite bei)\s+"
    r"([A-Z0-9][\w&.'’ -]{1,60}?)" + _COMPANY_END)
# "株式会社ベイロジ・パートナーズの木村です": company の name です
_JA_INTRO = re.compile(r"([^\s、。「」]{2,30}(?:株式会社|有限会社|合同会社|会社|[^\s、。]{0,20}))の"
                       r"([^\s、。の]{1,6})(?:です|と申します|といいます)")


# "東邦化成商事の営業企画課で課長をしております、森田と申します": company, a role, then the name
_JA_ROLE_INTRO = re.compile(r"([^\s、。「」]{2,40}?)の[^、。]{0,30}?(?:しております|しています|"
                            r"務めております|勤めております)[、,]\s?([^\s、。]{1,6}?)(?:です|と申します)")
# A name alone before the address ("林志豪，jh.lin@…"), or "我是/我叫 林志豪，"
_ZH_NAME = re.compile(r"^([\u4e00-\u9fff]{2,4})[，,、]\s?(?=[\w.+-]+@)"
                      r"|我(?:是|叫)([\u4e00-\u9fff]{2,3})[，,。]")
# Korean: "이름은 윤지혜이고", "팀장 정민호입니다" (a rank word, then the name)
_KO_NAME = re.compile(r"이름은\s?([가-힣]{2,4}?)(?:이고|입니다|이에요|예요|라고)"
                      r"|(?:팀장|과장|부장|차장|대리|주무관|매니저|실장|대표|이사|사원|주임|선임|책임)"
                      r"\s([가-힣]{2,4}?)입니다")


_COMPANY_NAME = re.compile(
    r"(?i)\b(?:company|business|organi[sz]ation|firm)[\s-]?name\b|\bfirmen[\s-]?name|"
    r"\bunternehmens[\s-]?name|\bname\s+(?:of\s+)?(?:your|the)\s+(?:company|business|firm)\b|"
    r"\bnombre\s+de\s+(?:la|tu|su)\s+empresa|\bnom\s+de\s+(?:l'|l’|votre\s+)(?:entreprise|"
    r"société)|\bnome\s+da\s+(?:sua\s+)?empresa|\braison sociale|\brazón social|\brazão social|"
    r"会社名")


# A question about who would use the product ("Quantas pessoas usariam?", "¿Cuántas personas
# lo usarían?", "Combien de personnes l'utiliseraient ?", "how many users?"): seats, not size.
_USE_WORDS = re.compile(
    r"(?i)(?<!\w)(?:us(?:e|ers?|ing)|usar\w*|usari\w*|usuári\w*|usuari\w*|utiliz\w*|"
    r"licen[cs]\w*|seats?|nutz\w*|benutz\w*|gebruik\w*|utilis\w*|userebbe\w*|"
    r"ut(?:i|e)lizz\w*)(?!\w)")


def _asked_fields(turn: str) -> list[str]:
    """Fields a bot turn asks for, in the order asked ('company, and your role?'); only the
    turn's last question counts ("I'm Flo, the assistant. What's your name?" asks a name)."""
    sentences = [s for s in re.split(r"(?<=[.!?。！？])\s*", turn) if s.strip()]
    questions = [s for s in sentences if "?" in s or "？" in s]
    question = (questions or sentences or [turn])[-1]
    # "company name?", "Firmenname?", "nombre de la empresa?": the company's name, not the
    # person's — the name word is read as part of the company question
    question = _COMPANY_NAME.sub(" company ", question)
    found = [(m.start(), field) for field, rx in _ASKS
             if (m := re.search(rx, question, re.IGNORECASE))]
    fields = [field for _, field in sorted(found)]
    if "employees" in fields and "company" in fields:  # "How big is your company?": its size
        fields.remove("company")
    if "employees" in fields and _USE_WORDS.search(question):
        fields.remove("employees")  # "Quantas pessoas usariam?": the users, not the company
    return fields if len(fields) <= 2 else fields[:1]


def _answers(asked: list[str], text: str) -> list[tuple[str, str]]:
    """Map a visitor's reply to the asked fields; a title-looking part goes to `title`."""
    fields = [f for f in asked if f not in ("email", "phone")]
    if not fields:
        return []
    answer = _without_lead_in(PHONE_ANY.sub("", EMAIL_RE.sub("", text)).strip(" ,;-!"))
    if fields == ["inquiry"]:
        return [("inquiry", answer)] if answer else []
    if len(fields) == 2:
        parts = [p.strip() for p in re.split(r",\s*|\s+[-–]\s+|\.\s+", answer, maxsplit=2)]
        pairs: list[tuple[str, str]] = []
        remaining = list(fields)
        for part in parts[:2]:
            looks_like_title = bool(first_matching(standardize_tables().seniority, part))
            field = "title" if "title" in remaining and looks_like_title else next(
                (f for f in remaining if f != "title"), None)
            if field is None:  # only `title` is left and this part is not a job title
                break
            remaining.remove(field)
            value = _first_clause(_without_lead_in(part))
            pairs.append((field, re.sub(r"(?<=\w\w\w)\.$", "", value)))  # a stop, not "K.K."
        return [(f, v) for f, v in pairs if v]
    field = fields[0]
    if field == "full_name":
        value = re.sub(r"(です|と申します|といいます)$", "", answer.split(",")[0].strip())
        if _sentence_not_name(value):
            return []  # "Jesteśmy software housem z Wrocławia": a reply, not the name asked
    else:
        value = _first_clause(answer)
    if field == "title":  # "Sales manager. I report to the owner": the title, not the sentence
        value = _title_sentence(value)
    value = re.sub(r"(?<=\w\w\w)\.$", "", value.strip())  # sentence stop, not "K.K."
    return [(field, value)] if value and len(value) <= 80 else []


_NAME_PARTICLES = frozenset({"van", "von", "de", "der", "den", "da", "das", "do", "dos", "del",
                             "della", "di", "du", "la", "le", "y", "e", "bin", "binti", "al"})


def _sentence_not_name(value: str) -> bool:
    """Two words or more in lower case that are not name particles: words of a sentence.
    A name typed all in lower case ("maria lopez") has at most two words and passes."""
    words = value.split()
    lower = [w for w in words if w[:1].islower() and w not in _NAME_PARTICLES]
    return len(words) >= 3 and len(lower) >= 2


def _without_lead_in(answer: str) -> str:
    """'I'm the practice manager' → 'practice manager', 'ich bin IT-Leiter' → 'IT-Leiter'."""
    answer = re.sub(r"(?i)^(?:it's|it is|we are|we're|i work (at|for)|at|from|in|sou|"
                    + _INTRO + r")\s+", "", answer.strip()).strip()
    return re.sub(r"(?i)^(the|a|an)\s+", "", answer)


def _title_sentence(value: str) -> str:
    """'Sales manager. I report to the owner, Dave' → 'Sales manager': a title answer ends
    at the first sentence stop whose left part holds a rank word ("Dept. Head of Sales" and
    "Sr. Manager" keep their abbreviations)."""
    ranks = standardize_tables().seniority
    for stop in re.finditer(r"(?<=\w)\.\s+(?=\S)", value):
        if first_matching(ranks, value[:stop.start()]):
            value = value[:stop.start()]
            break
    # "Nguyễn Thị Hà, Giám đốc Marketing, Công ty …": name, title, company in one answer
    parts = value.split(", ")
    if len(parts) > 1 and not first_matching(ranks, parts[0]):
        return next((p for p in parts[1:] if first_matching(ranks, p)), value)
    return value


def _first_clause(answer: str) -> str:
    """'cafe nandu, soy analista…' → 'cafe nandu'; 'Australia (Melbourne)' → 'Australia'."""
    return _CLAUSE_BREAK.split(answer, maxsplit=1)[0].strip(" ,;")


def _contact_card(text: str, address: str | None = None,
                  company: str | None = None) -> dict[str, str] | None:
    """Name, company and title from a line that reads like a contact card: parts split at
    commas, dashes and sentence ends, one of them an email address, a phone number or a job
    title, the others a name (two to four capitalised words, or one word the email address
    spells), a job title (a rank word) and a company (the rest)."""
    tables = standardize_tables()

    def rank(part: str) -> str | None:  # "I'd need to get our COO on board" is a sentence
        return None if _FIRST_PERSON.search(part) else first_matching(tables.seniority, part)

    for line in text.split("\n"):
        parts = [p.strip(" .") for p in _CARD_SPLIT.split(line) if p.strip(" .")]
        contact = [p for p in parts if EMAIL_RE.search(p) or PHONE_ANY.search(p)]
        rest = [p for p in parts if p not in contact and len(p) <= 60]
        titled = any(rank(p) for p in rest)
        if not (contact or titled) or not rest or len(parts) < 2:
            continue
        card: dict[str, str] = {}
        for i, part in enumerate(rest):
            if part == company or _spelled_by_domain(part, address):
                card.setdefault("company", part)  # "De Boer Bloemen" at deboerbloemen.nl
                continue
            if "full_name" not in card and not rank(part) and (
                    (_NAME_PART.fullmatch(part) and (contact or i + 1 < len(rest) and
                                                     rank(rest[i + 1])))
                    or _spelled_by_address(part, address)):
                card["full_name"] = part
            elif "title" not in card and rank(part):
                card["title"] = part
            elif "company" not in card and "full_name" in card and part[:1].isupper():
                card["company"] = part
        if "full_name" in card:
            return card
    return None


def _spelled_by_domain(part: str, address: str | None) -> bool:
    """The words spell the email domain's name ('Castellini Farmaceutici' and
    castellini-farmaceutici.it): a company, not a person."""
    if not address or "@" not in address:
        return False
    stem = re.sub(r"[^a-z0-9]", "", address.rsplit("@", 1)[1].split(".")[0])
    letters = re.sub(r"[^a-z0-9]", "", without_accents(part))
    return len(stem) >= 4 and len(letters) >= 4 and (letters in stem or stem in letters)


def _named_by_address(name: str, address: str | None) -> bool:
    """The address's local part holds the name's last word ('Sabine Kretschmer' and
    sabine.kretschmer@…, s.kretschmer@…), the initial and the last word glued
    (nbergeron@…), or the first word of a name whose last one it shortens
    (meenakshi.sk@…): the writer's own name, not a company's."""
    if not address or "@" not in address:
        return False
    pieces = re.split(r"[._-]", without_accents(address.split("@", 1)[0]))
    words = [without_accents(word) for word in name.split()]
    return (words[-1] in pieces or f"{words[0][:1]}{words[-1]}" in pieces
            or (len(words[0]) >= 3 and words[0] in pieces))


# a credential after a name on its own line: "Nicole Bergeron, CPA", "Jan Novak, MBA"
_CREDENTIAL = re.compile(rf",\s*(?:{POST_NOMINAL.pattern})\s*$")


def _bare_name(line: str) -> str | None:
    """The name a visitor's turn ends with when that sentence is nothing but a name (two to
    four capitalised words, a credential after a comma dropped), else None."""
    last = re.split(r"(?<=[.!?])\s+", line.strip())[-1].strip(" .")
    last = _CREDENTIAL.sub("", last).strip()
    return last if _NAME_PART.fullmatch(last) else None


def _spelled_by_address(part: str, address: str | None) -> bool:
    """One capitalised word that the email address's local part starts with or is made of
    ('Cláudia' and claudia.reis@…): the writer's name, confirmed by the address."""
    if not address or not re.fullmatch(r"[A-ZÀ-Þ][^\W\d_]{2,}", part):
        return False
    pieces = re.split(r"[._-]", without_accents(address.split("@", 1)[0]))
    return without_accents(part) in pieces


# A capitalised word the agent says to someone: before a comma, "!" or the turn's end
# ("Thanks Karthik, …", "Valeu, Bruna!", "Bonne journée M. Perrot !").
_VOCATIVE = re.compile(r"(?<![\w'’-])([A-ZÀ-Þ][^\W\d_]{2,})\s?(?=[,!]|\.?\s*$)")


def _addressed_name(agent_turns: list[str], address: str | None) -> tuple[str, str] | None:
    """The visitor's name as our agent addresses them, confirmed by the visitor's address:
    ('first_name' | 'last_name', word). The word must be a part of the address's local part
    (or start with it: the Polish "Tomaszu" for tomasz.…), or, for an initial-and-surname
    address (gtrevino@), the first word after a one-word greeting starting with its
    initial. The agent's own name ("Hi Aroha, Tom here") is never the visitor's."""
    if not address or "@" not in address:
        return None
    local = without_accents(address.split("@", 1)[0])
    pieces = [p for p in re.split(r"[._-]", local) if p.isalpha()]
    if not pieces:
        return None
    for turn in agent_turns:
        own = {m.group(1) or m.group(2) for m in _SELF_INTRO.finditer(turn)}
        for match in _VOCATIVE.finditer(turn):
            word = match.group(1)
            if any(word in name.split() for name in own if name):
                continue
            folded = without_accents(word)
            for i, piece in enumerate(pieces):
                if len(piece) >= 3 and (folded == piece or (
                        folded.startswith(piece) and len(folded) - len(piece) <= 2)):
                    field = "last_name" if i and i == len(pieces) - 1 else "first_name"
                    return field, word[:len(piece)] if folded != piece else word
            greeted = re.match(r"\s*[^\W\d_]+,?\s+$", turn[:match.start()])
            # gtrevino@, r.delacruz@: an initial, then the family name
            initial = (pieces[0] if len(pieces[0]) == 1 and len(pieces) == 2
                       else local[0] if len(pieces) == 1 and len(local) >= 5 else None)
            if greeted and initial and folded[0] == initial and pieces[-1][1:] not in folded:
                return "first_name", word
    return None


def _cjk_introduction(text: str, out: ParsedFields) -> None:
    """A visitor naming themselves in Japanese, Chinese or Korean: a Japanese introduction
    gives the family name (and the company before の), a Korean or Chinese one the whole
    name, which capture splits where its script says (`names.split_name`)."""
    if ja := _JA_ROLE_INTRO.search(text):
        out.setdefault("company", ja.group(1))
        out["last_name"] = ja.group(2)
    elif found := _KO_NAME.search(text) or _ZH_NAME.search(text):
        out["full_name"] = found.group(1) or found.group(2)


def parse_chat(payload: object) -> ParsedFields:
    """Chat transcript → fields from bot Q&A pairs and the visitor's own words."""
    if not isinstance(payload, list):
        raise IngestError("chat payload must be a list of {role, text} turns")
    out: ParsedFields = {}
    visitor_lines: list[str] = []
    agent_turns: list[str] = []  # what our side said: it may address the visitor by name
    asked: list[str] = []
    introduced: str | None = None  # "I'm X": used only when no Q&A answer gave the name
    for turn in payload:
        if not isinstance(turn, dict):
            continue
        role = clean_text(turn.get("role")).lower()
        text = clean_text(turn.get("text"))
        if not text:
            continue
        if role not in ("visitor", "user", "customer", "lead", "human", "prospect"):
            asked = _asked_fields(text)
            agent_turns.append(text)
            continue
        visitor_lines.append(text)
        if (found := EMAIL_RE.search(text)) and "email" not in out:
            out["email"] = found.group(0)
        if (phone := PHONE_ANY.search(text)) and "phone" not in out:
            out["phone"] = phone.group(1)
        if (ja := _JA_INTRO.search(text)) and "company" not in out:
            # "株式会社ベイロジ・パートナーズの木村です": the company, then the family name
            out["company"] = ja.group(1)
            out.setdefault("last_name", ja.group(2))
            asked = [f for f in asked if f not in ("company", "full_name")]
        if not ({"full_name", "first_name", "last_name"} & out.keys()):
            _cjk_introduction(text, out)
        for field, answer in _answers(asked, text):
            out.setdefault(field, answer)  # type: ignore[misc]
        for intro in _SELF_INTRO.finditer(text):
            name = intro.group(1) or intro.group(2)
            if not introduced and not first_matching(standardize_tables().seniority, name):
                introduced = name  # "ich bin Director Data Platform" is a role, not a name
                break
        tables = standardize_tables()
        for role_at in [*_ROLE_AT.finditer(text), *_ROLE_OF.finditer(text)]:
            role = re.sub(r"^.*\b(?:soy|sou|bin|am|I'm|suis|sono|jestem)\s+", "", role_at.group(1))
            if role_at.re is _ROLE_OF and first_matching(tables.department, role_at.group(2)) \
                    and not has_legal_form(role_at.group(2)):
                continue  # "Director of Data Governance": the rest of the title, not a company
            if first_matching(tables.seniority, role) and len(role) <= 60:
                out.setdefault("title", role.strip(" ,"))
                out.setdefault("company", role_at.group(2).strip())
                break
        if (card := _contact_card(text, out.get("email"), out.get("company"))) is not None \
                and not _SELF_INTRO.search(text):
            for field, value in card.items():  # a self-introduction names the person better
                out.setdefault(field, value)  # type: ignore[misc]
        if (with_company := _COMPANY_INTRO.search(text)) and "company" not in out:
            out["company"] = with_company.group(1).strip()
        size = _HEADCOUNT.search(text)
        if "employees" not in out and size and not _TEAM_SIZE.search(
                text[max(0, size.start() - 30):size.start()]):  # "my team (8 people)"
            out["employees"] = size.group(1)
        asked = []
    if not introduced and "full_name" not in out and "last_name" not in out:
        # a turn, or a turn's last sentence, that is only a name ("Sabine Kretschmer",
        # "me, I'm Head of Growth. Meenakshi Sundaresan-Kapoor", "Nicole Bergeron, CPA"),
        # confirmed by the address
        introduced = next((name for line in visitor_lines
                           if (name := _bare_name(line))
                           and _named_by_address(name, out.get("email"))), None)
    if not introduced and "full_name" not in out and "last_name" not in out:
        introduced = next((m.group(1) for line in visitor_lines
                           if (m := _ASK_FOR.search(line))), None)
    if introduced and "last_name" not in out:
        out.setdefault("full_name", introduced)
    if not ({"full_name", "first_name", "last_name"} & out.keys()) and (
            addressed := _addressed_name(agent_turns, out.get("email"))):
        out[addressed[0]] = addressed[1]  # type: ignore[literal-required]
    all_text = "\n".join(visitor_lines)
    out.setdefault("inquiry", all_text)
    out["text"] = all_text[:MAX_TEXT_CHARS]
    if "inquiry" in out:
        out["inquiry"] = out["inquiry"][:MAX_TEXT_CHARS]
    return out
