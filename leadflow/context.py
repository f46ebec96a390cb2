"""The run context: what a caller (or Studio) chooses per run, handed to every agent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field

from leadflow.config import default_prompt_version
from leadflow.settings import RULES, LlmSettings


def _env_model() -> str:
    return LlmSettings.from_env().model


def _env_prompt_version() -> str:
    return LlmSettings.from_env().prompt_version or default_prompt_version()


def _show_default(schema: dict[str, Any], value: str) -> None:
    """The default as it is now (environment, models.yaml), so Studio's form shows it."""
    schema["default"] = value


@dataclass(frozen=True)
class LeadflowContext:
    """Per-run configuration, passed as `context=` (Studio shows it as a form).

    model: `provider:model` for every agent (`rules` = no LLM, the offline default);
        LEADFLOW_MODEL_<AGENT> environment variables still override single agents.
    prompt_version: prompt file version for the LLM agents (leadflow/prompts/<agent>/).
    database_url: CRM database; empty means `LEADFLOW_DATABASE_URL` or the SQLite default.
    """

    model: Annotated[str, Field(
        description="provider:model for every agent, or `rules` (no LLM)",
        json_schema_extra=lambda schema: _show_default(schema, _env_model()),
    )] = field(default_factory=_env_model)
    prompt_version: Annotated[str, Field(
        description="prompt file version (leadflow/prompts/<agent>/<version>.yaml)",
        json_schema_extra=lambda schema: _show_default(schema, _env_prompt_version()),
    )] = field(default_factory=_env_prompt_version)
    database_url: str = ""

    def model_for(self, agent: str) -> str:
        """This agent's model in this run (a per-agent environment override wins)."""
        return LlmSettings.from_env().model_for(agent, self.model)


# The offline default: every agent decides by its rules, with the default prompt version.
DEFAULT_RUN = LeadflowContext(model=RULES, prompt_version=default_prompt_version())
