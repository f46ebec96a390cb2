"""The tools every agent node uses, opened once per database and shared by the process."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from leadflow.clock import Clock, SystemClock
from leadflow.config import IcpConfig, icp
from leadflow.settings import Settings
from leadflow.tools.calendar import Calendars
from leadflow.tools.crm import CrmStore
from leadflow.tools.knowledge_base import KnowledgeBase
from leadflow.tools.notifier import Notifier
from leadflow.tools.reps import RepDirectory


@dataclass
class Toolbox:
    crm: CrmStore
    kb: KnowledgeBase
    reps: RepDirectory
    notifier: Notifier
    icp: IcpConfig
    clock: Clock
    _calendar: Calendars | None = field(default=None, repr=False)

    @property
    def calendar(self) -> Calendars:
        """The reps' CalDAV calendars (off until LEADFLOW_CALDAV_URL or a rep's own calendar
        URL is set: see `Calendars.enabled`)."""
        if self._calendar is None:
            self._calendar = Calendars(self.reps)
        return self._calendar

    @calendar.setter
    def calendar(self, value: Calendars) -> None:
        self._calendar = value

    @classmethod
    def open(cls, database_url: str, *, clock: Clock | None = None,
             kb_dir: Path | None = None, reps: RepDirectory | None = None) -> Toolbox:
        """reps: another team than reps.yaml's (the evals size it to the dataset)."""
        crm = CrmStore(database_url)
        reps = reps or RepDirectory()
        return cls(crm=crm, kb=shared_kb(kb_dir), reps=reps, notifier=Notifier(crm, reps),
                   icp=icp(), clock=clock or SystemClock())


@cache
def shared_kb(persist_dir: Path | None = None) -> KnowledgeBase:
    """The knowledge base is read-only: one per process is enough."""
    return KnowledgeBase(persist_dir=persist_dir)


_opened: dict[str, Toolbox] = {}
_lock = threading.Lock()


def opened_toolbox(database_url: str = "") -> Toolbox | None:
    """The toolbox already opened for this URL, without blocking; None before first use."""
    return _opened.get(database_url)


def toolbox_for(database_url: str = "") -> Toolbox:
    """Toolbox for a database URL ('' → settings), created on first use."""
    found = _opened.get(database_url)
    if found is not None:
        return found
    with _lock:
        if database_url not in _opened:
            settings = Settings.from_env()
            _opened[database_url] = Toolbox.open(database_url or settings.database_url,
                                                 kb_dir=settings.kb_dir)
        return _opened[database_url]
