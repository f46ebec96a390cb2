"""Runtime context: what a caller (or Studio) may choose per run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from leadflow.llm import model_settings


@dataclass
class LeadflowContext:
    """Per-run configuration, passed as `context=` (Studio shows it as a form).

    model: `provider:model` for every agent (`rules` = no LLM, the offline default);
        LEADFLOW_MODEL_<AGENT> environment variables still override single agents.
    prompt_version: prompt file version for the LLM agents (leadflow/prompts/<agent>/).
    database_url: CRM database; empty means `LEADFLOW_DATABASE_URL` or the SQLite default.
    """

    model: str = field(default_factory=lambda: os.environ.get("LEADFLOW_MODEL", "rules"))
    prompt_version: str = field(
        default_factory=lambda: os.environ.get("LEADFLOW_PROMPT_VERSION")
        or str(model_settings()["prompt_version"]))
    database_url: str = ""
