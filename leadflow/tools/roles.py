"""The writer's own role as their prose states it (issue 14): "I'm the IT Manager",
"As head of procurement, I …", "ich leite bei uns den Einkauf", "I have a grooming salon",
"課長の田中です" — read by grammar from the `self_description` table of standardize.yaml, and
never a title that belongs to someone else ("on behalf of our CFO").
"""

from __future__ import annotations

import re
from functools import cache

from leadflow.config import standardize_tables
from leadflow.tools.standardize import clean_text, contains_phrase, first_matching, phrase_regex


# A self-description: "I'm the IT Manager", "ich bin Leiterin Controlling", "soy gerente de
# TI", "c'est moi le gérant", "Controller here". The cue words, articles and verbs are the
# `self_description` table of standardize.yaml; the grammar is here.
def _alternation(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+")
                    for w in sorted(words, key=len, reverse=True)) or r"(?!)"


@cache
def _role_patterns() -> dict[str, re.Pattern[str]]:
    table = standardize_tables().self_description
    cues, articles = _alternation(table.get("cues", ())), _alternation(table.get("articles", ()))
    article = rf"(?:(?:{articles})\s+|l'|l’)?"
    fillers = _alternation(table.get("verb_fillers", ()))
    verbs = _alternation(tuple(v for kind in ("manage_verbs", "head_verbs", "lead_verbs")
                               for v in table.get(kind, ())))
    have = _alternation(table.get("have_verbs", ()))
    indefinite = _alternation(table.get("indefinite_articles", ()))
    business = _alternation(table.get("business_nouns", ()))
    after = _alternation(table.get("business_after", ()))
    between_stop = _alternation(tuple(w for kind in ("business_after", "articles", "possessives",
                                                    "not_between")
                                      for w in table.get(kind, ())))
    return {
        "cue": re.compile(rf"(?i)(?:\b(?:{cues})\s+{article})([^\W\d][\w&/'’ .-]{{1,70}})"),
        # "As head of procurement, I …", "Als Einkaufsleiterin suche ich …": a sentence that
        # opens with the writer's role
        "as": re.compile(rf"(?i)(?:^|(?<=[.!?\n]))\s*(?:{_alternation(table.get('as_cues', ()))})"
                         rf"\s+{article}([^\W\d][\w&/'’ .-]{{1,60}}?)"
                         rf"(?:\s*,|\s(?:i|je|yo|eu)\b|\s[^\W\d]+\s+ich\b)"),
        "verb": re.compile(rf"(?i)(?<!\w)({verbs})(?:\s+|(?<=['’]))(?:(?:{fillers})\s+)?"
                           rf"{article}([^\W\d][\w&/'’ -]{{1,50}})"),
        # "I have a dog grooming salon", "tenho uma distribuidora", "j'ai une boulangerie"
        # (the words between are the business's description, "a small family", never a
        # preposition or a possessive: "I have a question about your company" owns nothing)
        "owner": re.compile(rf"(?i)(?<!\w)(?:{have})\s+(?:{indefinite})\s+"
                            rf"(?:(?!(?:{between_stop})\s)[^\W\d][\w'-]*\s+){{0,3}}?(?:{business})"
                            rf"(?=\s*(?:[,.;:!?()]|$)|\s+(?:{after})\s)"),
        "business": re.compile(rf"(?i)^(?:[^\W\d][\w'-]*\s+){{0,3}}?(?:{business})$"),
        # a business named by two trades joined ("a plumbing and heating firm", "un estudio
        # de diseño y branding"): the conjunction is inside the object, not where it ends
        "joined_business": re.compile(
            rf"(?i)^(?:[^\W\d][\w'-]*\s+){{1,2}}(?:and|&|y|e|et|und|en|och|og|i)\s+"
            rf"(?:[^\W\d][\w'-]*\s+){{0,2}}?(?:{business})(?!\w)"),
    }


# "I am Rohit Verma, a data engineer", "soy Ana Ruiz, jefa de compras": the writer's name,
# then the role in apposition.
_NAMED_ROLE = re.compile(
    r"(?i:\b(?:i'm|i am|my name is|this is|ich bin|je suis|soy|me llamo|sou|sono|ik ben|"
    r"jestem))\s+(?:[A-ZÀ-Þ][\w'’-]+(?:\s+[A-ZÀ-Þ][\w'’-]+){0,2}),\s+"
    r"(?i:(?:the|an?|el|la|le|der|die|o|il|de|het)\s+)?([^\W\d][\w&/'’ .-]{1,70})")
# "4 people: me (CEO), 2 sales reps", "ja (CEO)", "yo (gerente)": the writer, then their
# role in brackets.
_PRONOUN_ROLE = re.compile(r"(?i)(?<![\w'’])(?:me|myself|ja|yo|moi|ich|eu|io|ik|i)\s*"
                           r"[(（]([^()（）]{2,40})[)）]")
_ROLE_HERE = re.compile(r"(?:^|(?<=[.!?\n]))\s*([^\W\d][\w&/ -]{1,40}?)\s+here\b")
# "CTO at Vectorlane.", "…, Partner bei der Alpina Treuhand AG": a role, then its employer.
_ROLE_AT_EMPLOYER = re.compile(
    r"(?:^|(?<=[.!?,\n]))\s*([^\W\d][\w&/ -]{1,40}?)\s+"
    r"(?:at|@|bei(?: der| dem)?|chez|presso|bij|na|w)\s+(?=[A-Z0-9])")
# Where a role phrase ends: the employer, a place, a clause, a sentence, a description of
# the employer ("jefa de compras de una cadena de…", "manager of a family bakery").
_ROLE_END = re.compile(
    r"(?i)\s+(?:at|@|for|with|in|on|within|from|and|but|so|who|that|since|bei|chez|en|na|no|w|und|et|y|e|à|au|"
    r"desde|depuis|seit|dal|sinds|od|together|juntos|juntas|zusammen|ensemble|insieme|samen|razem|"
    # Indonesian and Malay "to", "from", "at", "for": "saya ajukan ke direktur" is no title
    r"ke|kepada|dari|untuk|pada|"
    r"maar|aber|mais|pero|mas|ma|ale|men|på|hos|ved|vid|och|og|ja|sekä|"
    r"auprès|au sein|dans|presso|bij|van de|of the company|of an?|de una?|d'une?|di una?|"
    r"einer|eines|"
    r"van een|de um|de uma|do um)(?:\s|$)|[,;:!?()]|\.(?:\s|$)|\s[-–—]\s")
_EMPLOYER_AFTER = re.compile(r"\s+(?:of|de|di|da|do|del|della|van|von)\s+(?=[A-Z])")
# Japanese: "物流企画部のマネージャーをしています", "情報システム部の課長です".
_JA_ROLE = re.compile(
    r"([\u3040-\u30ff\u4e00-\u9fff]{1,12}?(?:部|課|室|グループ|チーム|本部))?の?"
    r"(マネージャー|部長|課長|室長|係長|リーダー|責任者|社長|取締役|代表取締役|本部長|代表|店主|"
    r"秘書|アナリスト|エンジニア|学生|個人事業主|自営業|オーナー)"
    r"(?:を(?:して|務めて)|です|として|の|なので|ですので)")
# Korean: "저는 (주)한성 경영기획팀 팀장 김도현입니다", "저 그냥 대학생이에요": the writer,
# then the rank.
_KO_RANKS = (r"대표이사|대표|본부장|부장|실장|팀장|차장|과장|대리|사원|연구원|매니저|대학원생|"
             r"대학생|학생")
_KO_ROLE = re.compile(
    rf"(?<![가-힣])저(?:는)?\s[^.\n]{{0,40}}?([가-힣]{{0,6}}?(?:{_KO_RANKS}))"
    r"(?=\s|입니다|이에요|예요|이고|으로|$)")
# "한빛솔루션 영업팀장 이승훈입니다": the rank, then the writer's name and "I am"
_KO_ROLE_NAMED = re.compile(
    rf"(?<![가-힣])([가-힣]{{0,6}}?(?:{_KO_RANKS}))\s[가-힣]{{2,4}}(?:입니다|이에요|예요)")
# Chinese: "我是深圳某某科技有限公司的商务总监周凯", "我是数据部经理".
# The organisation may come without 的 ("我是百兴医疗集团信息中心主任王磊"): the title is the
# last few characters before the rank word.
_ZH_ROLE = re.compile(
    r"我是(?:[^，。,\n]{0,40}?的|[^，。,\n]{0,30}?)?([\u4e00-\u9fff]{0,4}?(?:总经理|總經理|董事长|"
    r"董事長|创始人|創辦人|总监|總監|经理|經理|副理|协理|協理|主任|处长|處長|主管|老板|老闆|工程师|"
    r"工程師|分析师|分析師|专员|專員|学生|學生))")
# Vietnamese: "anh là Tùng, trưởng phòng IT bên Cty …", "tôi là giám đốc tại …" — a pronoun,
# "là", perhaps the name, then the role up to where the employer or the clause begins.
_VI_ROLE = re.compile(
    r"(?i)(?<!\w)(?:tôi|em|anh|chị|mình|con)\s+là\s+(?:[^,.\n]{1,25},\s*)?"
    r"([^,.\n]{2,40}?)(?=\s+(?:bên|tại|của|ở|công ty|cty)(?!\w)|\s*[,.\n]|$)")
# Turkish says "I am" with a suffix on the title: "operasyon koordinatörüyüm", "satın alma
# müdürüyüm", "kurucusuyum", "sahibiyim": the title is the words before the suffix.
_TR_ROLE = re.compile(
    r"(?i)(?<![\w'’])((?:[^\W\d][\w-]*\s+){0,3}?[^\W\d]\w*?)"
    r"(?:s?[ıiuü]y[ıiuü]m|y[ıiuü]m)(?!\w)")
# "Sou dona de uma confeitaria", "soy dueño de un taller", "je suis propriétaire d'un salon":
# owning what they name, whatever it is
_OWNER_OF = re.compile(
    r"(?i)(?<!\w)(?:sou|soy|je suis|ich bin|i am|i'm|i’m)\s+(?:o\s+|a\s+|el\s+|la\s+|le\s+|"
    r"the\s+|der\s+|die\s+)?(?:dono|dona|dueño|dueña|propietario|propietaria|propriétaire|"
    r"owner|inhaber|inhaberin)\s+(?:de|d'|d’|of|der|des|von)(?!\w)")
# "I own Karoo Solar Installations", "I founded Brightpath Analytics": the writer owns the firm
# they name (capitalised words, so "I own the budget" owns nothing)
_OWNS_NAMED = re.compile(r"(?<![\w'’])(?i:i)\s+(?i:own|founded|co-founded)\s+"
                         r"(?:[A-Z][\w&'’.-]*)(?:\s+[A-Z&][\w&'’.-]*){0,4}")
# "社員120名ほどの会社を経営しております": the writer runs the business.
_JA_RUNS = re.compile(r"(?:会社|企業|事業|店|店舗|法人|工場|事務所)を(?:経営|営んで|営っ)")


# A role the writer denies: a negation opening the phrase, or just before the cue.
_DENIED = re.compile(r"(?i)(?:not|no|nicht|kein\w*|pas|non|nie|niet|inte|ikke|ei|não|nem)\s")
_DENIED_BEFORE = re.compile(r"(?i)(?<!\w)(?:no|não|non|nie|ne)\s+$")


def _verb_title(verb: str, what: str) -> str | None:
    """The title a role verb and its object make: "I manage" + "warehouse operations" →
    "Warehouse Operations Manager", "I run" + "IT" → "Head of IT", "ich leite" +
    "Vertriebsinnendienst" → "Head of Vertriebsinnendienst", "je gère" + "boutique" →
    "Boutique Manager", "I run" + "a small bakery" → "Managing Director"; None when the
    object is no department, team, shop or business."""
    table = standardize_tables().self_description
    said = " ".join(verb.lower().split())
    kind = next((k for k in ("manage_verbs", "head_verbs", "lead_verbs")
                 if said in (" ".join(w.lower().split()) for w in table.get(k, ()))),
                "manage_verbs")
    template = (table.get(kind.replace("verbs", "titles")) or ("{}",))[0]
    if _role_patterns()["business"].match(what):  # the business itself
        if kind == "head_verbs":
            return "Managing Director"
        return template.format(_capitalised(what.split()[-1]))  # "Boutique Manager"
    units = (*table.get("team_nouns", ()), *table.get("department_nouns", ()))
    unit = re.search(rf"(?i)\s*\b({_alternation(units)})$", what)
    core = what[:unit.start()].strip() if unit else what
    if not core or len(core.split()) > 4 or not (unit or _department_like(core)):
        return None
    if unit and kind == "head_verbs" and unit.group(1).lower() in (
            w.lower() for w in table.get("team_nouns", ())):
        template = (table.get("manage_titles") or ("{}",))[0]  # "I run the SDR team"
    return template.format(_capitalised(core))


def _department_like(words: str) -> bool:
    """The words name a department ("finance", "IT"), also as the first part of a German
    compound ("Vertriebsinnendienst", "Einkaufsabteilung")."""
    departments = standardize_tables().department
    if first_matching(departments, words):
        return True
    stems = [p for _, phrases in departments for p in phrases if len(p) >= 5 and " " not in p]
    return any(w.lower().startswith(stem) for w in words.split() for stem in stems)


def _someone_elses(phrase: str) -> bool:
    """A possessive before the rank ("on behalf of our CFO", "assistant to my VP"): the
    role named is someone else's, not the writer's."""
    others = standardize_tables().self_description.get("possessives", ())
    rank = phrase_regex(tuple(p for _, ps in standardize_tables().seniority for p in ps))
    found = rank.search(phrase)
    before = phrase[:found.start()] if found else phrase
    return bool(others) and re.search(rf"(?i)(?<!\w)(?:{_alternation(others)})(?!\w)",
                                      before) is not None


def _before_possessive(phrase: str) -> str:
    """'CFO of our group' → 'CFO': what follows a preposition and a possessive is the
    writer's organisation, not part of the title."""
    others = standardize_tables().self_description.get("possessives", ())
    if not others:
        return phrase
    return re.split(rf"(?i)\s+(?:of|to|for|at|de|du|des|von|do|da|für)\s+"
                    rf"(?:{_alternation(others)})(?!\w)", phrase, maxsplit=1)[0]


def role_in_text(text: object) -> str | None:
    """The writer's own job title when the text states it ("I'm the IT Manager at …",
    "Controller here", "As head of procurement, I …", "I manage practice operations",
    "ich leite bei uns den Vertriebsinnendienst", "I have a dog grooming salon" → Owner),
    or None. Only a phrase holding a rank word the seniority table knows counts, so "I'm
    curious" or "I'm in Lyon" is not a title; the phrase ends where the employer, a place
    or the clause begins; a rank after a possessive ("on behalf of our CFO") is someone
    else's."""
    prose = clean_text(text)
    if not prose:
        return None
    ranks = standardize_tables().seniority
    patterns = _role_patterns()
    candidates: list[tuple[int, str]] = []
    for match in [*patterns["cue"].finditer(prose), *_NAMED_ROLE.finditer(prose),
                  *patterns["as"].finditer(prose)]:
        phrase = _ROLE_END.split(match.group(1), maxsplit=1)[0].strip(" .'’")
        if _DENIED.match(phrase) or _DENIED_BEFORE.search(prose, 0, match.start()):
            continue  # "I am not the project owner", "no soy el dueño": a role denied
        if len(phrase.split()) > 4:  # "… di gestione di Ferretti Logistica": the employer
            phrase = _EMPLOYER_AFTER.split(phrase, maxsplit=1)[0]
        candidates.append((match.start(), _before_possessive(phrase)))
    for match in _PRONOUN_ROLE.finditer(prose):
        candidates.append((match.start(), match.group(1).strip()))
    for match in [*_ROLE_HERE.finditer(prose), *_ROLE_AT_EMPLOYER.finditer(prose)]:
        if not patterns["cue"].match(match.group(1)):  # "Ich bin Leiter … bei": the cue's own
            candidates.append((match.start(), match.group(1).strip()))
    for match in patterns["verb"].finditer(prose):
        joined = patterns["joined_business"].match(match.group(2))
        what = joined.group(0) if joined else \
            _ROLE_END.split(match.group(2), maxsplit=1)[0].strip(" .")
        what = _EMPLOYER_AFTER.split(what, maxsplit=1)[0]  # "la boutique de Nantes"
        what = re.sub(r"(?i)\s+(?:d'|d’|de|of)\s*$", "", what)
        if what and (title := _verb_title(match.group(1), what)):
            candidates.append((match.start(), title))
    for match in patterns["owner"].finditer(prose):
        candidates.append((match.start(), "Owner"))
    for match in _JA_ROLE.finditer(prose):
        candidates.append((match.start(), (match.group(1) or "") + match.group(2)))
    for match in [*_KO_ROLE.finditer(prose), *_KO_ROLE_NAMED.finditer(prose),
                  *_ZH_ROLE.finditer(prose),
                  *_VI_ROLE.finditer(prose)]:
        candidates.append((match.start(), match.group(1).strip()))
    for match in _TR_ROLE.finditer(prose):
        candidates.append((match.start(), match.group(1)))
    for match in [*_OWNER_OF.finditer(prose), *_OWNS_NAMED.finditer(prose)]:
        candidates.append((match.start(), "Owner"))
    if found := contains_phrase(prose, tuple(
            standardize_tables().self_description.get("student_phrases", ()))):
        candidates.append((found.start(), "Student"))
    for match in _JA_RUNS.finditer(prose):
        candidates.append((match.start(), "経営者"))
    for _, phrase in sorted(candidates):
        if 2 <= len(phrase) <= 60 and len(phrase.split()) <= 7 \
                and first_matching(ranks, phrase) and not _someone_elses(phrase):
            return phrase
    return None


def _capitalised(words: str) -> str:
    return " ".join(w if w.isupper() else w.capitalize() for w in words.split())
