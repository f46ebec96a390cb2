"""Business rules loaded once from the YAML files beside this module into typed objects.

Code holds mechanisms; the numbers, word lists and directories live in the YAML files
(`icp.yaml`, `reps.yaml`, `standardize.yaml`, `workflow.yaml`) so ops can change them.
"""

from __future__ import annotations

from datetime import date, time
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CONFIG_DIR = Path(__file__).resolve().parent


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one YAML mapping with a clear error naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read config {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"config {path} must be a YAML mapping")
    return data


@cache
def model_settings() -> dict[str, Any]:
    """`models.yaml`: LLM parameters per agent, the default prompt version, prices."""
    return read_yaml(CONFIG_DIR / "models.yaml")


def default_prompt_version() -> str:
    return str(model_settings()["prompt_version"])


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Band(_Frozen):
    name: str
    low: int
    high: int


class Criterion(_Frozen):
    """One BANT criterion: its bands (strongest first) and the phrase lists that signal them."""

    name: str
    bands: tuple[Band, ...]
    phrases: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)

    def band(self, name: str) -> Band:
        for band in self.bands:
            if band.name == name:
                return band
        raise KeyError(f"{self.name} has no band {name!r}")


class Tier(_Frozen):
    name: str
    min: int


class Segment(_Frozen):
    name: str
    below: int | None


class IcpConfig(_Frozen):
    """Derived-field, scoring, routing and SLA rules (icp.yaml)."""

    country_region: dict[str, str]
    segments: tuple[Segment, ...]
    tiers: tuple[Tier, ...]
    bant: dict[str, Criterion]
    injection: dict[str, Any] = Field(default_factory=dict)  # word classes, per language
    target_tech: tuple[str, ...]
    routing: dict[str, Any]
    review: dict[str, Any]
    currency: dict[str, Any] = Field(default_factory=dict)
    outreach: dict[str, Any]
    sla: dict[str, Any]

    def region_for(self, country: str | None) -> str:
        if not country:
            return "unassigned"
        return self.country_region.get(country.upper(), "unassigned")

    def segment_for(self, employees: int | None) -> str:
        if employees is None or employees < 0:
            return "unknown"
        for seg in self.segments:
            if seg.below is None or employees < seg.below:
                return seg.name
        return "unknown"

    def segment_floor(self, segment: str | None) -> int:
        """The fewest employees a segment holds (enterprise: 2000), 0 for none or unknown:
        a size stated as a range ("10,000+") gives the segment, not a count."""
        floor = 0
        for seg in self.segments:
            if seg.name == segment:
                return floor
            floor = seg.below or floor
        return 0

    def tier_for(self, total: int) -> str:
        for tier in sorted(self.tiers, key=lambda t: -t.min):
            if total >= tier.min:
                return tier.name
        return self.tiers[-1].name


def load_icp(path: Path | None = None) -> IcpConfig:
    raw = read_yaml(path or CONFIG_DIR / "icp.yaml")
    country_region: dict[str, str] = {}
    for region, countries in raw["regions"].items():
        for code in countries:
            if not isinstance(code, str) or len(code) != 2:
                raise ValueError(f"icp.yaml regions.{region}: {code!r} is not an ISO alpha-2 code")
            country_region[code.upper()] = region
    bant: dict[str, Criterion] = {}
    for name, spec in raw["bant"].items():
        bands = tuple(Band(name=b, low=lo, high=hi) for b, (lo, hi) in spec["bands"].items())
        phrases = {k: tuple(v) for k, v in spec.items() if k.endswith("_phrases")}
        settings = {k: v for k, v in spec.items() if k != "bands" and not k.endswith("_phrases")}
        bant[name] = Criterion(name=name, bands=bands, phrases=phrases, settings=settings)
    return IcpConfig(
        country_region=country_region,
        segments=tuple(Segment(**s) for s in raw["segments"]),
        tiers=tuple(Tier(**t) for t in raw["tiers"]),
        bant=bant,
        injection=raw["injection"],
        target_tech=tuple(raw["data_quality"]["target_tech"]),
        routing=raw["routing"],
        review=raw.get("review") or {},
        currency=raw.get("currency") or {},
        outreach=raw.get("outreach") or {},
        sla=raw["sla"],
    )


class Person(_Frozen):
    id: str
    name: str
    email: str


class OutOfOffice(_Frozen):
    start: date = Field(alias="from")
    until: date

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.until


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _zone(name: str) -> str:
    """An IANA time zone name (`Europe/Berlin`), refused with the name when unknown."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as "
                         "Europe/Berlin)") from exc
    return name


class WorkingHours(_Frozen):
    """When a rep takes meetings, in the rep's own time zone: the weekdays and one span."""

    days: tuple[str, ...] = WEEKDAYS[:5]
    start: time = time(9, 0)
    end: time = time(17, 0)

    @field_validator("days")
    @classmethod
    def _known_days(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        days = tuple(d.lower()[:3] for d in v)
        unknown = [d for d in days if d not in WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}: use {', '.join(WEEKDAYS)}")
        return days

    @model_validator(mode="after")
    def _ends_after_start(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError(f"working hours end ({self.end}) must be after start ({self.start})")
        return self

    def works_on(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.days


class Rep(Person):
    region: str
    segments: tuple[str, ...]
    industries: tuple[str, ...] = ()
    capacity: int = Field(gt=0)
    active: bool = True
    out_of_office: OutOfOffice | None = None
    named_accounts: tuple[str, ...] = ()
    # meetings (reps.yaml `calendars` gives the defaults): the rep's IANA time zone, working
    # hours in it, and the CalDAV calendar (a URL, or a path under LEADFLOW_CALDAV_URL)
    timezone: str | None = None
    working_hours: WorkingHours | None = None
    calendar: str | None = None

    @field_validator("named_accounts")
    @classmethod
    def _lower_domains(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(d.lower() for d in v)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        return None if v is None else _zone(v)


class CalendarRules(_Frozen):
    """How meetings are offered and booked (reps.yaml `calendars`): slot length, how soon
    the first one may start, how many the first email offers, how far ahead to look, which
    tiers get them, and the defaults of reps that name no zone, hours or calendar."""

    slot_minutes: int = Field(default=30, gt=0, le=480)
    buffer_minutes: int = Field(default=60, ge=0)
    offer: int = Field(default=3, ge=1, le=20)
    horizon_days: int = Field(default=14, ge=1, le=90)
    offer_tiers: tuple[str, ...] = ("hot",)
    working_hours: WorkingHours = WorkingHours()
    region_timezones: dict[str, str] = Field(default_factory=dict)
    default_timezone: str = "UTC"
    calendar_path: str = "{rep_id}/"  # under LEADFLOW_CALDAV_URL, for reps naming none
    event_title: str = "{company} and {rep_name}: introduction"
    # the sentence the rules drafts end with when slots are offered ({rep_name}, {zone},
    # {times}); the LLM drafters get the slots as data in their prompt files instead
    offer_text: str = ("{rep_name} has these times free ({zone}): {times}. "
                       "Would one of them suit you?")
    local_format: str = "%a %d %b %H:%M"  # how a slot is written to the lead (strftime)

    @field_validator("default_timezone")
    @classmethod
    def _known_default(cls, v: str) -> str:
        return _zone(v)

    @field_validator("region_timezones")
    @classmethod
    def _known_zones(cls, v: dict[str, str]) -> dict[str, str]:
        return {region: _zone(zone) for region, zone in v.items()}


class RepDirectoryConfig(_Frozen):
    managers: dict[str, Person]
    reps: tuple[Rep, ...]
    audiences: dict[str, str]
    calendars: CalendarRules = CalendarRules()


def load_reps(path: Path | None = None) -> RepDirectoryConfig:
    cfg = RepDirectoryConfig.model_validate(read_yaml(path or CONFIG_DIR / "reps.yaml"))
    ids = [r.id for r in cfg.reps]
    if len(ids) != len(set(ids)):
        raise ValueError("reps.yaml: rep ids must be unique")
    return cfg


class StandardizeConfig(_Frozen):
    seniority: tuple[tuple[str, tuple[str, ...]], ...]
    department: tuple[tuple[str, tuple[str, ...]], ...]
    industry: tuple[tuple[str, tuple[str, ...]], ...]
    title_expansions: dict[str, str]
    country_aliases: dict[str, str]
    form_exact: dict[str, str]
    form_keywords: tuple[tuple[str, tuple[str, ...]], ...]
    full_name_markers: tuple[str, ...] = ()
    no_company_values: frozenset[str] = frozenset()
    staff_nouns: tuple[str, ...] = ()
    staff_before: tuple[str, ...] = ()
    headcount_multipliers: dict[str, int] = Field(default_factory=dict)
    staff_abbreviations: tuple[str, ...] = ()
    cjk_counters: tuple[str, ...] = ()
    cjk_more_than: tuple[str, ...] = ()
    approximate_numbers: dict[str, int] = Field(default_factory=dict)
    lower_bound_words: tuple[str, ...] = ()
    upper_bound_words: tuple[str, ...] = ()
    own_domains: tuple[str, ...] = ()
    unattended_local_parts: tuple[str, ...] = ()
    platform_domains: tuple[str, ...] = ()
    logo_words: tuple[str, ...] = ()
    legal_forms: tuple[str, ...] = ()
    organisation_endings: tuple[str, ...] = ()
    places: dict[str, Any] = Field(default_factory=dict)
    mail: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    self_description: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    name_order: dict[str, tuple[str, ...]] = Field(default_factory=dict)


def load_standardize(path: Path | None = None) -> StandardizeConfig:
    raw = read_yaml(path or CONFIG_DIR / "standardize.yaml")
    return StandardizeConfig(
        seniority=tuple((k, tuple(v)) for k, v in raw["seniority"]),
        department=tuple((k, tuple(v)) for k, v in raw["department"]),
        industry=tuple((k, tuple(v)) for k, v in raw["industry"]),
        title_expansions={str(k).lower(): str(v) for k, v in raw["title_expansions"].items()},
        country_aliases={str(k).lower(): str(v).upper() for k, v in raw["country_aliases"].items()},
        form_exact={
            str(alias).lower(): field
            for field, aliases in raw["form_fields"]["exact"].items()
            for alias in aliases
        },
        form_keywords=tuple((k, tuple(v)) for k, v in raw["form_fields"]["keywords"]),
        full_name_markers=tuple(raw["form_fields"].get("full_name_markers") or ()),
        no_company_values=frozenset(str(v).lower()
                                    for v in raw["form_fields"].get("no_company_values") or ()),
        staff_nouns=tuple(raw["headcount_in_text"]["staff_nouns"]),
        staff_before=tuple(raw["headcount_in_text"]["staff_before"]),
        headcount_multipliers={str(k): int(v)
                               for k, v in raw["headcount_in_text"]["multipliers"].items()},
        staff_abbreviations=tuple(raw["headcount_in_text"].get("staff_abbreviations") or ()),
        cjk_counters=tuple(raw["headcount_in_text"]["cjk_counters"]),
        cjk_more_than=tuple(raw["headcount_in_text"].get("cjk_more_than") or ()),
        approximate_numbers={str(k).lower(): int(v) for k, v in
                             (raw["headcount_in_text"].get("approximate_numbers") or {}).items()},
        lower_bound_words=tuple(str(w).lower() for w in
                                raw["headcount_in_text"].get("lower_bound_words") or ()),
        upper_bound_words=tuple(str(w).lower() for w in
                                raw["headcount_in_text"].get("upper_bound_words") or ()),
        own_domains=tuple(str(d).lower() for d in raw.get("own_domains") or ()),
        unattended_local_parts=tuple(str(d).lower() for d in
                                     raw.get("unattended_local_parts") or ()),
        platform_domains=tuple(str(d).lower() for d in raw.get("platform_domains") or ()),
        logo_words=tuple(str(w).lower() for w in raw.get("logo_words") or ()),
        legal_forms=tuple(str(f).lower() for f in raw.get("legal_forms") or ()),
        organisation_endings=tuple(str(w) for w in raw.get("organisation_endings") or ()),
        places=dict(raw.get("places") or {}),
        mail={str(k): tuple(str(w).lower() for w in v)
              for k, v in (raw.get("mail") or {}).items()},
        self_description={str(k): tuple(str(w) for w in v) for k, v in
                          (raw.get("self_description") or {}).items()},
        name_order={str(k): tuple(str(w) for w in v) for k, v in
                    (raw.get("name_order") or {}).items()},
    )


@cache
def icp() -> IcpConfig:
    """The bundled ICP rules, parsed once per process."""
    return load_icp()


@cache
def standardize_tables() -> StandardizeConfig:
    return load_standardize()
