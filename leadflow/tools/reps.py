"""Rep directory: who can take which lead (reps.yaml), with managers per region."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from leadflow.config import CalendarRules, Person, Rep, RepDirectoryConfig, WorkingHours, load_reps


class RepDirectory:
    def __init__(self, config: RepDirectoryConfig | None = None) -> None:
        self.config = config or load_reps()
        self._by_id = {r.id: r for r in self.config.reps}
        self._named = {d: r.id for r in self.config.reps for d in r.named_accounts}

    @property
    def reps(self) -> tuple[Rep, ...]:
        return self.config.reps

    def get(self, rep_id: str) -> Rep | None:
        return self._by_id.get(rep_id)

    def person(self, person_id: str) -> Person | None:
        """A rep or a manager by id."""
        found = self._by_id.get(person_id)
        if found:
            return found
        return next((m for m in self.config.managers.values() if m.id == person_id), None)

    def with_room_for(self, leads: int) -> RepDirectory:
        """The same team with every capacity multiplied by one factor, so that no rep fills
        up before `leads` leads are assigned. One factor keeps the order of every load ratio,
        so each lead goes where this team would send it while it had room."""
        smallest = min((r.capacity for r in self.reps), default=leads or 1)
        factor = -(-leads // smallest)
        if factor <= 1:
            return self
        return RepDirectory(self.config.model_copy(update={"reps": tuple(
            r.model_copy(update={"capacity": r.capacity * factor}) for r in self.reps)}))

    def manager_for(self, region: str | None) -> Person:
        managers = self.config.managers
        return managers.get(region or "unassigned") or managers["unassigned"]

    def named_owner(self, domain: str | None) -> str | None:
        return self._named.get(domain.lower()) if domain else None

    @staticmethod
    def available(rep: Rep, day: date) -> bool:
        return rep.active and not (rep.out_of_office and rep.out_of_office.covers(day))

    # ------------------------------------------------------------------ meetings
    @property
    def calendar_rules(self) -> CalendarRules:
        return self.config.calendars

    def timezone(self, rep: Rep) -> ZoneInfo:
        """The rep's zone, else their region's (reps.yaml `calendars`), else the default."""
        rules = self.config.calendars
        return ZoneInfo(rep.timezone or rules.region_timezones.get(rep.region)
                        or rules.default_timezone)

    def working_hours(self, rep: Rep) -> WorkingHours:
        return rep.working_hours or self.config.calendars.working_hours

    def calendar_location(self, rep: Rep) -> str:
        """The rep's calendar: a URL, or a path the calendar tool puts under its base URL."""
        return rep.calendar or self.config.calendars.calendar_path.format(rep_id=rep.id)
