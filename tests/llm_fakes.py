"""Scripted chat models for tests: no network, deterministic, with structured output."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

Reply = dict[str, Any] | str | Exception | Callable[[list[BaseMessage]], Any]


def tool_reply(schema_name: str, args: dict[str, Any] | str, tokens: int = 100) -> AIMessage:
    """A reply calling the structured-output tool; `args` as a string may be broken JSON."""
    if isinstance(args, str):
        return AIMessage(content="", invalid_tool_calls=[{
            "name": schema_name, "args": args, "id": "call_bad", "error": "bad json",
            "type": "invalid_tool_call"}],
            usage_metadata={"input_tokens": tokens, "output_tokens": 20,
                            "total_tokens": tokens + 20})
    return AIMessage(content="", tool_calls=[{"name": schema_name, "args": args, "id": "call_1",
                                              "type": "tool_call"}],
                     usage_metadata={"input_tokens": tokens, "output_tokens": 40,
                                     "total_tokens": tokens + 40})


class ScriptedChatModel(BaseChatModel):
    """Replies in order from a script. Each entry is tool-call args (a dict), broken JSON
    (a str), an exception to raise, or a function of the conversation returning either.
    `bind_tools` returns the model itself, so `with_structured_output` works."""

    schema_name: str
    script: list[Any]
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)

    @property
    def calls(self) -> list[list[BaseMessage]]:
        return self._calls

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:  # type: ignore[override]
        return self

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        self._calls.append(list(messages))
        if not self.script:
            raise AssertionError("the scripted model was called more often than scripted")
        reply = self.script.pop(0)
        if callable(reply) and not isinstance(reply, Exception):
            reply = reply(messages)
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, AIMessage):
            return reply
        return tool_reply(self.schema_name, reply)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages))])

    async def _agenerate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                         run_manager: AsyncCallbackManagerForLLMRun | None = None,
                         **kwargs: Any) -> ChatResult:
        return self._generate(messages, stop)


def prompt_text(messages: list[BaseMessage]) -> str:
    return "\n".join(str(m.content) for m in messages)


def bant_args(budget: tuple[str, float, str], authority: tuple[str, float, str],
              need: tuple[str, float, str], timeline: tuple[str, float, str],
              conflicts: list[str] | None = None) -> dict[str, Any]:
    def crit(spec: tuple[str, float, str]) -> dict[str, Any]:
        return {"band": spec[0], "strength": spec[1], "evidence": spec[2]}
    return {"budget": crit(budget), "authority": crit(authority), "need": crit(need),
            "timeline": crit(timeline), "conflicts": conflicts or []}




_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def plausible_arguments(tool_name: str, text: str) -> dict[str, Any]:
    """Valid arguments for one of leadflow's structured-output tools, grounded in the
    prompt's <lead_data> (shared by SchemaAwareFake and the scripted HTTP server)."""
    lead = text.split("<lead_data>")[-1].split("</lead_data>")[0].strip()
    quote = (lead.split(".")[0] or lead)[:80].strip() or "n/a"
    if tool_name == "BantProposal":
        return bant_args(("unclear_possible", 0.5, quote), ("some_influence", 0.5, quote),
                         ("clear_improvement", 0.5, quote), ("within_6_months", 0.5, quote))
    if tool_name == "MeddicProposal":  # middle bands of every MEDDIC criterion
        middle = {"metrics": "stated_goal", "economic_buyer": "engaged",
                  "decision_criteria": "some", "decision_process": "partial",
                  "identify_pain": "clear", "champion": "potential"}
        return {**{name: {"band": band, "strength": 0.5, "evidence": quote}
                   for name, band in middle.items()}, "conflicts": []}
    if tool_name == "EnrichmentSummary":
        return {"summary": "Scripted summary.", "talking_points": [quote, "Follow up."]}
    if tool_name == "RoutingReview":
        return {"action": "escalate", "reason": "scripted"}
    if tool_name == "OutreachDraft":
        return {"subject": "Following up", "body": f"Hello, about: {quote}. Call this week?"}
    if tool_name == "JudgeVerdict":
        return {"winner": "benefit_focused", "reasons": "scripted judge"}
    if tool_name == "ExtractedLead":  # only what is literally in the item: the email
        found = _EMAIL.search(lead)
        return {"email": found.group(0)} if found else {}
    return {}


class SchemaAwareFake(BaseChatModel):
    """Answers whichever structured-output tool it is bound to, plausibly and grounded in the
    prompt: for eval plumbing runs, not for quality."""

    tool_name: str = ""

    @property
    def _llm_type(self) -> str:
        return "schema-aware-fake"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> SchemaAwareFake:  # type: ignore[override]
        tool = tools[0]
        return self.model_copy(update={"tool_name": getattr(tool, "__name__", str(tool))})

    def _reply(self, messages: list[BaseMessage]) -> dict[str, Any]:
        return plausible_arguments(self.tool_name, prompt_text(messages))

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        reply = tool_reply(self.tool_name, self._reply(messages))
        return ChatResult(generations=[ChatGeneration(message=reply)])


__all__ = ["ScriptedChatModel", "SchemaAwareFake", "tool_reply", "prompt_text", "bant_args",
           "plausible_arguments", "json"]
