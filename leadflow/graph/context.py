"""Runtime context: what a caller (or Studio) may choose per run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass
class LeadflowContext:
    """Per-run configuration, passed as `context=` (Studio shows it as a form).

    model: `provider:model` string; `rules` is the offline default and the only
        implementation until the LLM agents land (SPEC §4).
    database_url: CRM database; empty means `LEADFLOW_DATABASE_URL` or the SQLite default.
    """

    model: str = field(default_factory=lambda: os.environ.get("LEADFLOW_MODEL", "rules"))
    database_url: str = ""
