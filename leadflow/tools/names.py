"""People's names as capture standardises them: capitalisation, the given and family name
of a full name in its culture's order (East Asian scripts family name first, initials with a
name in brackets, prefixes and nicknames dropped), and the order an address confirms."""

from __future__ import annotations

import re

from leadflow.tools.cjk_names import unspaced_cjk_name
from leadflow.tools.name_order import NAME_PARTICLES as _NAME_PARTICLES
from leadflow.tools.name_order import family_name_split
from leadflow.tools.standardize import clean_line, is_east_asian, without_accents


def capitalize_name(value: str) -> str:
    """'PRIYA' → 'Priya', "o'brien" → "O'Brien", 'jean-luc' → 'Jean-Luc'; mixed case is kept."""
    value = clean_line(value).strip(" ,;:.")
    if not value or (not value.isupper() and not value.islower()):
        return value
    words = []
    for i, word in enumerate(value.split()):
        if i and word.lower() in _NAME_PARTICLES:
            words.append(word.lower())
            continue
        words.append(re.sub(r"(^|[-'’])(\w)", lambda m: m.group(1) + m.group(2).upper(),
                            word.lower()))
    return " ".join(words)


def split_name(full: str) -> tuple[str | None, str | None]:
    """'Priya Nair' → ('Priya', 'Nair'); 'Nair, Priya' → ('Priya', 'Nair'); '高橋 美咲' →
    ('美咲', '高橋') (East Asian scripts put the family name first); a name without spaces in
    those scripts splits where its script says (`cjk_names`), else is kept whole."""
    full = clean_line(full).strip(" ,;:.")
    if called := _INITIALS_CALLED.fullmatch(full):
        # "R. (Ruud) Hoekstra", "J.P. (Jan-Pieter) de Vries": initials, then the given name
        # the person goes by in brackets (a Dutch and Flemish convention)
        return capitalize_name(called.group(1)), capitalize_name(called.group(2))
    # courtesy and professional or academic prefixes: "Dr.", "Ing.", "Lic.", "Dott.ssa",
    # "Dipl.-Ing.", "Mag.", "Arq.", "mgr inż.", "Prof.ª", "Dra.": never part of a name
    full = re.sub(r"^(?:(?:mr|mrs|ms|miss|dr|prof|sr|sra|srta|herr|frau|m|mme|mlle|ing|lic|licda|"
                  r"arq|dott|dott\.ssa|dipl\.?-ing|dr\.?-ing|mag|eng|engº|ir|drs|mgr|inż|sig|"
                  r"sig\.ra|dkfm|shri|shrimati|smt|sri|cr|cra|abg|atty|hon|dra|profa)\.?[ªº]?\s+|"
                  r"(?-i:DI|DDr)\s+|"
                  r"(?:[a-z]{1,3}\.){2,}\s+)+", "", full,
                  flags=re.I)  # and any dotted abbreviation: "C.P.", "M.Sc."
    # a greeting before the name ("Hi! Jasmine po") and Filipino courtesy's "po" after it are
    # what a chat turn wraps a name in, no part of it
    full = _GREETING.sub("", full)
    full = re.sub(r"\s+po\.?$", "", full).strip() or full
    # a nickname in quotes is what the person goes by, not a name part: 'Maria "Tin" Cruz'
    full = re.sub(r"\s*[\"“‘「][^\"“”‘’」]{1,20}[\"”’」](?=\s|$)", "", full).strip() or full
    if not full:
        return None, None
    if "," in full:
        last, _, first = full.partition(",")
        if first.strip():
            return capitalize_name(first), capitalize_name(last)
    bare = re.sub(r"\s*[(（][^)）]*[)）]\s*", " ", full).strip() or full  # "大輔 (Daisuke W.)"
    noted = bare != full  # a bracketed reading: the name may be only one part of it
    full = bare
    parts = full.split()
    if len(parts) == 1 and _is_hangul_name(parts[0]):
        # '박지훈': a Korean name is written without a space, the family name first; it is
        # one syllable, or two for the few compound family names ('남궁민수')
        cut = 2 if parts[0][:2] in _KOREAN_COMPOUND_FAMILY_NAMES and len(parts[0]) >= 4 else 1
        return parts[0][cut:], parts[0][:cut]
    if len(parts) == 1 and not noted and (split := unspaced_cjk_name(parts[0])):
        return split
    if len(parts) == 1:
        return capitalize_name(parts[0]), None
    if len(parts) == 2 and all(is_east_asian(p) for p in parts):
        return parts[1], parts[0]  # 高橋 美咲, 김 민수: the family name comes first
    shouted = [p.isupper() and sum(ch.isalpha() for ch in p) >= 3 for p in parts]
    if any(shouted) and not all(shouted):
        # "LEFEBVRE-KERHERVÉ Sandrine", "Sandrine LEFEBVRE": the family name in capitals, as
        # French, Belgian and much international correspondence writes it, wherever it stands
        family = [p for p, up in zip(parts, shouted, strict=True) if up]
        given = [p for p, up in zip(parts, shouted, strict=True) if not up]
        if shouted == sorted(shouted, reverse=True) or shouted == sorted(shouted):  # one block
            return capitalize_name(" ".join(given)), capitalize_name(" ".join(family))
    if ordered := family_name_split(parts):  # 'Nguyễn Thị Thu Hà', 'Andrés Felipe Restrepo'
        return capitalize_name(ordered[0]), capitalize_name(ordered[1])
    rest = parts[1:]
    if len(rest) > 1:  # "Harold J. Vance": a middle initial is no part of the family name
        rest = [p for p in rest[:-1] if not re.fullmatch(r"[A-Z]\.?", p)] + rest[-1:]
    return capitalize_name(parts[0]), capitalize_name(" ".join(rest))


def name_from_address(first: str | None, last: str | None,
                      email: str | None) -> tuple[str | None, str | None]:
    """A one-word name completed by the address that spells it: 'Weber' with
    thomas.weber@… → ('Thomas', 'Weber'); 'Cláudia' with claudia.reis@… stays 'Cláudia'
    (first names are not completed: the address may spell a nickname or initials). The
    address must be exactly two alphabetic parts, one of them the name given."""
    given = first if first and not last else None
    if first and last and email and "@" in email:
        return _family_name_by_address(first, last, email)
    if not given or " " in given or not email or "@" not in email:
        return first, last
    pieces = re.split(r"[._-]", email.split("@", 1)[0].lower())
    if len(pieces) != 2 or not all(p.isalpha() and len(p) > 1 for p in pieces):
        return first, last
    if without_accents(given) == pieces[1] and without_accents(given) != pieces[0]:
        return capitalize_name(pieces[0]), given  # the name given was the family name
    return first, last


def _family_name_by_address(first: str, last: str, email: str) -> tuple[str, str]:
    """Which word is the family name, as the address spells it: a two-word name whose
    family name came first, or where the family name starts in a name of three words or
    more: 'Luz' + 'Marina Cárdenas Ortiz' at lmcardenas@ → ('Luz Marina', 'Cárdenas Ortiz');
    'Rui' + 'Manuel Carvalhais' at rcarvalhais@ → ('Rui Manuel', 'Carvalhais'). The family
    name is the word the local part ends with, or the one its second part starts with
    (luzmarina.cardenas@); otherwise the split stays as it was."""
    words = f"{first} {last}".split()
    local = email.split("@", 1)[0].lower()
    pieces = [without_accents(p) for p in re.split(r"[._-]", local) if p]
    joined = "".join(pieces)
    folded = [re.sub(r"[^a-z]", "", without_accents(w)) for w in words]
    if len(words) == 2 and len(folded[0]) >= 3 and folded[1] and len(pieces[0]) == 1 \
            and joined == folded[1][0] + folded[0]:
        # "Pfeifenberger-Leitner Wolfgang" at w.pfeifenberger-leitner@: the display name put
        # the family name first, the address its initial and the family name
        return last, first
    if len(words) < 3:
        return first, last
    if len(pieces) == 2 and pieces[1] == folded[0] and pieces[0] == "".join(folded[1:]):
        # the family name written first, the address given-name first: 'Lim Siew Ling' at
        # siewling.lim@ → ('Siew Ling', 'Lim')
        return " ".join(words[1:]), words[0]
    for k in range(1, len(words)):
        word = folded[k]
        if len(word) >= 3 and (joined.endswith(word) or
                               (len(pieces) > 1 and pieces[1].startswith(word))):
            before = joined[:joined.rfind(word)] if joined.endswith(word) else pieces[0]
            while k > 1 and words[k - 1].lower() in _NAME_PARTICLES:  # "van Beethoven"
                k -= 1
            # the address's surname is followed by another (a second surname: the whole is
            # the family name), or what precedes it spells every given name ("lm" for Luz
            # Marina); "renata.lima" for Renata Carvalho Lima says nothing of Carvalho
            if k < len(words) - 1 or before in ("".join(folded[:k]),
                                                "".join(w[:1] for w in folded[:k])):
                return " ".join(words[:k]), " ".join(words[k:])
            break
    return first, last




_GREETING = re.compile(r"(?i)^(?:hi|hello|hey|hiya|hola|oi|olá|ola|bonjour|hallo|ciao|salut|"
                       r"buenas|buenos días|bom dia|boa tarde|good morning|good afternoon)"
                       r"[!,.]*\s+(?=\S)")
_INITIALS_CALLED = re.compile(r"(?:[A-ZÀ-Þ]\.\s?)+\s*[(（]"
                              r"([A-ZÀ-Þ][^\W\d_]+(?:-[A-ZÀ-Þ][^\W\d_]+)?)[)）]\s+(\S.*)")
_KOREAN_COMPOUND_FAMILY_NAMES = frozenset({"남궁", "황보", "제갈", "선우", "독고", "사공", "서문"})


def _is_hangul_name(word: str) -> bool:
    """Three to five Hangul syllables and nothing else: a Korean full name as written (a
    given name alone is usually two)."""
    return 3 <= len(word) <= 5 and all(0xAC00 <= ord(ch) <= 0xD7A3 for ch in word)
