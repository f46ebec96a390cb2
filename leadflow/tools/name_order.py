"""Which words of a full name written in Latin letters are the family name, where the
culture's order is not 'given names, then one family name':

- Vietnamese names put the family name first ('Nguyễn Thị Thu Hà', 'Tran Minh Khoa');
- Korean names romanised with a hyphenated given name do too ('Kim Do-hyun');
- Chinese names from Singapore, Malaysia and Hong Kong: family name first ('Tan Hui Min'),
  after a Western given name ('Aaron Tan Wei Ming'), or last ('Wei Ling Tan');
- a second given name before the family name ('Andrés Felipe Restrepo', 'Diana Marcela Rojas
  Beltrán', 'Khalid Saeed Al Mheiri') is no part of the family name: given names are told
  from surnames by the `gender-guesser` dictionary (about 40,000 first names of 50 countries),
  and an Arabic name's family name is its last word with its article ('Al-Shehri'). A
  surname that is a first name too ('Gil', 'Brás') is read as a given name: the cost of a
  dictionary, paid for the many more 'Luis Fernando Aguilar's.

The surname lists are in `standardize.yaml` (`name_order`).
"""

from __future__ import annotations

import re
from functools import cache

from leadflow.config import standardize_tables
from leadflow.tools.standardize import without_accents

# Words that begin a family name ('van der Veen', 'da Silva', 'Al Mheiri'), never a given name
NAME_PARTICLES = frozenset({"van", "von", "de", "da", "das", "do", "dos", "del", "della", "di",
                            "du", "der", "den", "la", "le", "ten", "ter", "zu", "al", "el",
                            "bin", "binti", "ben", "ibn", "abu", "bint",
                            # Irish: 'Aoife Ní Bhriain', 'Seán Ó Súilleabháin', 'Nic Amhlaoibh'
                            "ní", "nic", "ó", "uí", "mac"})

# One romanised Chinese or Vietnamese syllable: 'Wei', 'Xiang', 'Siew', 'Boon', 'Thu'.
_SYLLABLE = re.compile(r"(?i)[^aeiouy\W\d]{0,3}[aeiouy]{1,3}(?:ng|nh|ch|[nmhktpcwy])?")
# Korean given names romanised with a hyphen: 'Do-hyun', 'Seo-yeon', 'Hae-won'
_KOREAN_GIVEN = re.compile(r"[A-Z][a-z]{1,4}-[a-z]{2,5}")
# letters only Vietnamese writes (đ, ư, ơ, and vowels with a dot below or a hook above)
_VIETNAMESE_LETTERS = re.compile("[đĐưƯơƠạ-ỹẠ-Ỹ]")
# an Arabic family name's article, alone or joined: 'Al Mheiri', 'Al-Shehri', 'El-Sayed'
_ARTICLE = re.compile(r"(?i)(?:al|el)(?:-\S+)?")


def _folded(word: str) -> str:
    return without_accents(word.lower().replace("đ", "d"))  # đ is a letter, not an accent


@cache
def _surnames(culture: str) -> frozenset[str]:
    table = standardize_tables().name_order.get(f"{culture}_surnames", ())
    return frozenset(_folded(w) for w in table)


def _syllable(word: str) -> bool:
    return bool(_SYLLABLE.fullmatch(_folded(word)))


@cache
def _detector() -> object:
    import gender_guesser.detector as gender  # a 40,000-name table, read once

    return gender.Detector(case_sensitive=False)


def is_given_name(word: str) -> bool:
    """The dictionary knows the word as a first name, and not as one used for either sex
    ('andy': often a surname too, 'Santos', 'Lim')."""
    answer = _detector().get_gender(word)  # type: ignore[attr-defined]
    return answer in ("male", "female", "mostly_male", "mostly_female")


def family_name_split(parts: list[str]) -> tuple[str, str] | None:
    """(given, family) for a name of two words or more whose order the culture decides, or
    None when 'first word given, the rest family' stands."""
    folded = [_folded(p) for p in parts]
    if all(_syllable(p) for p in parts) and folded[0] in _surnames("vietnamese") and (
            len(parts) >= 3 or _VIETNAMESE_LETTERS.search(" ".join(parts))):
        return " ".join(parts[1:]), parts[0]
    if len(parts) == 2 and folded[0] in _surnames("korean") and _KOREAN_GIVEN.fullmatch(parts[1]):
        return parts[1], parts[0]
    chinese = _surnames("chinese")
    if len(parts) == 3 and all(_syllable(p) for p in parts):
        if folded[0] in chinese and folded[2] not in chinese:
            return " ".join(parts[1:]), parts[0]       # Tan Hui Min
        if folded[2] in chinese and folded[0] not in chinese:
            return " ".join(parts[:2]), parts[2]       # Wei Ling Tan
    if len(parts) == 4 and not _syllable(parts[0]) and folded[1] in chinese \
            and _syllable(parts[2]) and _syllable(parts[3]):
        return parts[0], parts[1]                      # Aaron Tan Wei Ming
    return _after_second_given_name(parts)


def _after_second_given_name(parts: list[str]) -> tuple[str, str] | None:
    """'Andrés Felipe Restrepo' → ('Andrés Felipe', 'Restrepo'): two given names, as Spanish
    and Portuguese names carry them together ('Luz Marina', 'João Pedro'); 'Khalid Saeed Al
    Mheiri' → ('Khalid', 'Al Mheiri'): before an Arabic family name the second name is the
    father's, no part of the person's own. The second word must be a given name and a family
    name must remain after it."""
    if len(parts) < 3 or parts[1].lower() in NAME_PARTICLES or not is_given_name(parts[1]):
        return None
    rest = parts[2:]
    if len(rest) > 2:  # 'Turki bin Abdulaziz Al Saud': patronymic chains are not read
        return None
    if len(rest) == 1 and _ARTICLE.fullmatch(rest[0]) and "-" not in rest[0]:
        return None  # 'Hassan Ali Al': no family name after the article
    if is_given_name(rest[-1]) and rest[0].lower() not in NAME_PARTICLES \
            and not _ARTICLE.match(rest[0]):
        return None  # 'Maria Rosa Elena': three given names, or a surname the table lists
        # as a first name too ('Tavares'); after a particle ('da Silva') it is a surname
    given = parts[0] if _ARTICLE.match(rest[0]) else " ".join(parts[:2])
    return given, " ".join(rest)
