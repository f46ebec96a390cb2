"""The run context: what a caller (or Studio) chooses per run, handed to every agent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field

from leadflow.config import default_prompt_version
from leadflow.settings import (
    DEFAULT_FRAMEWORK,
    FRAMEWORKS,
    RULES,
    Framework,
    LlmSettings,
    qualification_framework,
)


def _env_model() -> str:
    return LlmSettings.from_env().model


def _env_prompt_version() -> str:
    return LlmSettings.from_env().prompt_version or default_prompt_version()


def _env_framework() -> Framework:
    return qualification_framework()


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
    framework: qualification framework, `bant` or `meddic` (SPEC §4.3); default
        LEADFLOW_FRAMEWORK, else bant.
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
    framework: Annotated[Framework, Field(
        description="qualification framework: bant or meddic",
        json_schema_extra=lambda schema: _show_default(schema, _env_framework()),
    )] = field(default_factory=_env_framework)

    def __post_init__(self) -> None:
        # A context from Studio or the API is not type-checked: refuse an unknown framework
        # here rather than score with the wrong one.
        framework = str(self.framework).strip().lower()
        if framework not in FRAMEWORKS:
            raise ValueError(f"framework {self.framework!r} is not a qualification framework: "
                             f"use {' or '.join(FRAMEWORKS)}")
        object.__setattr__(self, "framework", framework)

    def model_for(self, agent: str) -> str:
        """This agent's model in this run (a per-agent environment override wins)."""
        return LlmSettings.from_env().model_for(agent, self.model)


# The offline default: every agent decides by its rules, with the default prompt version and
# BANT (a graph invoked without any context; the environment does not change it).
DEFAULT_RUN = LeadflowContext(model=RULES, prompt_version=default_prompt_version(),
                              framework=DEFAULT_FRAMEWORK)
