"""The LLM half of an agent: ask the run's model for a structured output with the agent's
versioned prompt; any failure comes back as flags so the agent falls back to its rules."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Generic

from langchain_core.language_models import BaseChatModel

from leadflow.context import LeadflowContext
from leadflow.llm import (
    RULES,
    ModelParams,
    Schema,
    Usage,
    breaker_for,
    call_structured,
    chat_model,
)
from leadflow.prompts import load_prompt


@dataclass
class LlmAnswer(Generic[Schema]):
    parsed: Schema | None
    model: str
    prompt_version: str
    usage: dict[str, int] | None = None
    flags: list[str] = field(default_factory=list)
    note: str = ""


def provenance(answer: LlmAnswer[Any] | None) -> dict[str, Any]:
    """The model / prompt_version / usage fields of a StepOutput; `rules` when the step asked
    no LLM."""
    if answer is None:
        return {"model": RULES, "prompt_version": None, "usage": None}
    return {"model": answer.model, "prompt_version": answer.prompt_version,
            "usage": answer.usage}


async def ask_llm(agent: str, run: LeadflowContext, schema: type[Schema], fields: dict[str, Any],
                  model: BaseChatModel | None = None,
                  prompt_name: str | None = None) -> LlmAnswer[Schema]:
    """One structured call (plus its repair retry). Transport errors that outlive the
    client's own retries, and output still invalid after the repair, both return
    `parsed=None` with flag `llm_fallback` and a note saying why. `prompt_name`: another
    prompt than the agent's own (e.g. `qualification_meddic`), same model and settings."""
    name = run.model_for(agent)
    prompt = load_prompt(prompt_name or agent, run.prompt_version)
    answer: LlmAnswer[Schema] = LlmAnswer(None, name, prompt.version)
    breaker = breaker_for(agent, name)
    if not breaker.allow(time.monotonic()):
        answer.flags = ["llm_fallback", "circuit_open"]
        answer.note = f"{agent} LLM circuit open after repeated failures; rules used"
        return answer
    spent = Usage()  # replies that did arrive are paid for, even if a later turn fails
    try:
        chat = model or chat_model(name, agent)
        result = await call_structured(chat, schema, prompt.messages(**fields),
                                       ModelParams.for_agent(agent), spent)
    except Exception as exc:  # noqa: BLE001 — any provider error means: use the rules
        answer.usage = spent.as_dict() if spent.calls else None
        opened = breaker.record(False, time.monotonic())
        answer.flags = ["llm_fallback", "llm_error", *(["circuit_opened"] if opened else [])]
        answer.note = f"LLM call failed ({type(exc).__name__}: {str(exc)[:200]}); rules used"
        return answer
    breaker.record(True, time.monotonic())
    answer.usage = result.usage.as_dict()
    if result.parsed is None:
        answer.flags = ["llm_fallback", "llm_invalid_output"]
        answer.note = f"LLM output invalid after repair ({(result.error or '')[:200]}); rules used"
        return answer
    answer.parsed = result.parsed
    if result.repaired:
        answer.flags = ["llm_repaired"]
    return answer
