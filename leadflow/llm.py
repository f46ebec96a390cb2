"""LLM access for the agents: which model an agent uses, the chat model itself (LangChain's
`init_chat_model`), and structured calls with one repair retry and token accounting.

Models are named `provider:model` (`openai:gpt-4o-mini`; any OpenAI-compatible server via
OPENAI_BASE_URL). `rules` means no LLM: the agent's rules implementation decides.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.rate_limiters import InMemoryRateLimiter
from pydantic import BaseModel

from leadflow.config import model_settings
from leadflow.settings import RULES, LlmSettings

Schema = TypeVar("Schema", bound=BaseModel)


def model_for(agent: str, run_model: str | None = None) -> str:
    """The agent's model: LEADFLOW_MODEL_<AGENT>, else the run's (context) model, else
    LEADFLOW_MODEL, else `rules`."""
    return LlmSettings.from_env().model_for(agent, run_model)


def validate_model_name(name: str) -> None:
    if name == RULES:
        return
    provider, _, model = name.partition(":")
    if not provider or not model:
        raise ValueError(f"model {name!r}: expected provider:model (e.g. openai:gpt-4o-mini) "
                         "or rules")


@dataclass(frozen=True)
class ModelParams:
    temperature: float
    max_tokens: int
    timeout_s: float
    max_retries: int
    structured_output_method: str
    repair_attempts: int
    requests_per_minute: float

    @classmethod
    def for_agent(cls, agent: str) -> ModelParams:
        settings = model_settings()
        merged = {**settings["defaults"], **(settings.get("agents", {}).get(agent) or {})}
        env = LlmSettings.from_env()
        if env.requests_per_minute is not None:
            merged["requests_per_minute"] = env.requests_per_minute
        if env.structured_output_method:  # json_schema for llama.cpp
            merged["structured_output_method"] = env.structured_output_method
        if env.timeout_s is not None:  # per request; a local server is quick
            merged["timeout_s"] = env.timeout_s
        if env.max_retries is not None:
            merged["max_retries"] = env.max_retries
        return cls(**{k: merged[k] for k in cls.__dataclass_fields__})


_registered: dict[str, BaseChatModel] = {}
_lock = threading.Lock()


def register_chat_model(name: str, model: BaseChatModel) -> None:
    """Make a ready chat model available under `name` (a scripted model in tests, or one an
    app built itself); `chat_model(name, …)` then returns it instead of calling init."""
    with _lock:
        _registered[name] = model


def is_registered(name: str) -> bool:
    with _lock:
        return name in _registered


def _init(name: str, params: ModelParams, base_url: str | None) -> BaseChatModel:
    from langchain.chat_models import init_chat_model

    provider, _, model = name.partition(":")
    kwargs: dict[str, Any] = {"temperature": params.temperature,
                              "max_tokens": params.max_tokens}
    if params.requests_per_minute > 0:  # LangChain's limiter, shared by this model's calls
        kwargs["rate_limiter"] = InMemoryRateLimiter(
            requests_per_second=params.requests_per_minute / 60, check_every_n_seconds=0.05,
            max_bucket_size=max(1.0, params.requests_per_minute / 60))
    if provider == "openai":  # also any OpenAI-compatible server through OPENAI_BASE_URL
        import openai

        kwargs.update(timeout=params.timeout_s, max_retries=params.max_retries,
                      # its own pool: LangChain's default async client is one per base URL
                      # for the whole process, whatever loop it was first used on
                      http_async_client=openai.DefaultAsyncHttpxClient(timeout=params.timeout_s))
        if base_url:
            kwargs["base_url"] = base_url
            if not LlmSettings.from_env().has_openai_key:
                kwargs["api_key"] = "not-needed"  # local servers ignore it; the client insists
    chat = init_chat_model(model, model_provider=provider, **kwargs)
    assert isinstance(chat, BaseChatModel)
    return chat


# One model per event loop: an async HTTP client's pooled connections belong to the loop
# that opened them, so a model reused by a second `asyncio.run` in the same process (the
# CLI's commands, evals, tests, benchmarks) failed every call with "Event loop is closed",
# until its circuit breaker opened. Key → (the loop it was built on, the model).
_models: dict[tuple[str, ModelParams, str | None], tuple[Callable[[], object], BaseChatModel]] = {}


def _no_loop() -> None:
    return None


def chat_model(name: str, agent: str) -> BaseChatModel:
    validate_model_name(name)
    if name in _registered:
        return _registered[name]
    key = (name, ModelParams.for_agent(agent), LlmSettings.from_env().openai_base_url)
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    with _lock:
        cached = _models.get(key)
        if cached is not None and cached[0]() is loop:
            return cached[1]
        model = _init(*key)
        _models[key] = (weakref.ref(loop) if loop else _no_loop, model)
        if cached is not None:  # its structured runnables go with it
            for stale in [k for k, (m, _) in _structured_cache.items() if m is cached[1]]:
                del _structured_cache[stale]
        return model


class CircuitBreaker:
    """Consecutive-failure breaker for one agent's model: open after N failures, let one
    call through after the cooldown (half-open), close on success."""

    def __init__(self, failures_to_open: int, cooldown_s: float) -> None:
        self.failures_to_open = failures_to_open
        self.cooldown_s = cooldown_s
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    def allow(self, now: float) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            if now - self.opened_at >= self.cooldown_s:
                self.opened_at = now  # half-open: this call probes, others keep waiting
                return True
            return False

    def record(self, ok: bool, now: float) -> bool:
        """Record a call; True when this failure just opened the breaker."""
        with self._lock:
            if ok:
                self.failures, self.opened_at = 0, None
                return False
            self.failures += 1
            if self.failures >= self.failures_to_open:
                was_closed = self.opened_at is None
                self.opened_at = now
                return was_closed
            return False


_breakers: dict[tuple[str, str], CircuitBreaker] = {}


def breaker_for(agent: str, model: str) -> CircuitBreaker:
    with _lock:
        if (agent, model) not in _breakers:
            spec = model_settings()["circuit_breaker"]
            _breakers[(agent, model)] = CircuitBreaker(int(spec["failures_to_open"]),
                                                       float(spec["cooldown_s"]))
        return _breakers[(agent, model)]


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0

    def add(self, message: BaseMessage | None) -> None:
        self.calls += 1
        meta = getattr(message, "usage_metadata", None) or {}
        self.input_tokens += int(meta.get("input_tokens") or 0)
        self.output_tokens += int(meta.get("output_tokens") or 0)

    def as_dict(self) -> dict[str, int]:
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "calls": self.calls}


def estimate_cost_usd(model: str, input_tokens: int, output_tokens: int) -> float:
    """Cost by the price table in models.yaml (USD per 1M tokens); unknown models cost 0."""
    price = (model_settings().get("prices") or {}).get(model)
    if not price:
        return 0.0
    return (input_tokens * price["input"] + output_tokens * price["output"]) / 1_000_000


def add_usage(*usages: Mapping[str, int] | None) -> dict[str, int] | None:
    """Several calls' usage as one (None when none of them reached a model)."""
    known = [u for u in usages if u]
    if not known:
        return None
    return {key: sum(int(u.get(key, 0)) for u in known)
            for key in ("input_tokens", "output_tokens", "calls")}


def batch_decisions(outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every step the batch's items caused, each once. A repeat inquiry's outcome is its
    lead's as it stands (all of the lead's decisions so far), so each lead's decisions are
    taken once, from its longest record (steps are only ever appended); a repeat item's own
    thread adds its `item_decisions`."""
    longest: dict[Any, list[dict[str, Any]]] = {}
    extra: list[dict[str, Any]] = []
    for n, outcome in enumerate(outcomes):
        key = outcome.get("lead_id") or f"#{n}"
        decisions = list(outcome.get("decisions") or [])
        if len(decisions) >= len(longest.get(key, [])):
            longest[key] = decisions
        extra.extend(outcome.get("item_decisions") or [])
    return [d for decisions in longest.values() for d in decisions] + extra


def batch_usage(outcomes: list[dict[str, Any]]) -> dict[str, float]:
    """Tokens and estimated cost summed over the batch's decisions (`batch_decisions`). A
    step whose calls went to several models (the outreach drafters and judge can each have
    their own) prices each model's share from its `usage_by_model`."""
    totals = {"input_tokens": 0.0, "output_tokens": 0.0, "calls": 0.0, "cost_usd": 0.0}
    for decision in batch_decisions(outcomes):
        usage = decision.get("usage") or {}
        inp, out = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
        totals["input_tokens"] += inp
        totals["output_tokens"] += out
        totals["calls"] += usage.get("calls", 0)
        shares = decision.get("usage_by_model") or {decision.get("model") or RULES: usage}
        totals["cost_usd"] += sum(
            estimate_cost_usd(model, share.get("input_tokens", 0), share.get("output_tokens", 0))
            for model, share in shares.items())
    return totals


@dataclass
class StructuredResult(Generic[Schema]):
    parsed: Schema | None
    usage: Usage = field(default_factory=Usage)
    error: str | None = None  # last validation error when parsed is None
    repaired: bool = False


async def call_structured(
    model: BaseChatModel, schema: type[Schema], messages: list[BaseMessage],
    params: ModelParams, usage: Usage | None = None,
) -> StructuredResult[Schema]:
    """Ask for `schema`; on invalid output, retry once quoting the validation error.

    Transport errors (429, 5xx, timeouts) are retried inside the client and re-raised here
    when they persist; the caller turns them into a fallback. `usage`: counted into as each
    reply arrives, so a caller still knows what was spent when a later turn raises (an
    invalid first reply, then a repair turn that fails)."""
    runnable = _structured(model, schema, params.structured_output_method)
    result: StructuredResult[Schema] = StructuredResult(
        parsed=None, usage=usage if usage is not None else Usage())
    conversation = list(messages)
    for attempt in range(1 + params.repair_attempts):
        out = await runnable.ainvoke(conversation)
        raw = out.get("raw") if isinstance(out, dict) else None
        result.usage.add(raw)
        parsed = out.get("parsed") if isinstance(out, dict) else None
        if isinstance(parsed, schema):
            result.parsed, result.error, result.repaired = parsed, None, attempt > 0
            return result
        error = out.get("parsing_error") if isinstance(out, dict) else None
        broken = raw.invalid_tool_calls if isinstance(raw, AIMessage) else []
        result.error = (f"{type(error).__name__}: {error}" if error
                        else f"arguments are not valid JSON: {broken[0].get('args')!r:.300}"
                        if broken else "no structured output in the reply")[:1500]
        conversation = [*conversation, *_repair_turn(raw, result.error)]
    return result


_structured_cache: dict[tuple[int, type[BaseModel], str], tuple[BaseChatModel, Any]] = {}


def _structured(model: BaseChatModel, schema: type[BaseModel], method: str) -> Any:
    """`with_structured_output` builds the tool's JSON schema (~3 ms); build it once per
    model and schema. The entry keeps its model alive and is checked by identity, so a
    collected model's reused `id()` can never hand out another model's runnable."""
    key = (id(model), schema, method)
    entry = _structured_cache.get(key)
    if entry is None or entry[0] is not model:
        entry = (model, model.with_structured_output(schema, include_raw=True, method=method))
        _structured_cache[key] = entry
    return entry[1]


def _repair_turn(raw: object, error: str) -> list[BaseMessage]:
    """The model's bad reply plus our correction. Tool calls (valid JSON or not) must each be
    answered by a ToolMessage before the conversation may go on."""
    correction = (f"Your reply did not match the required schema: {error}\n"
                  "Call the tool again with arguments that satisfy the schema exactly.")
    if not isinstance(raw, AIMessage):
        return [HumanMessage(correction)]
    call_ids = [c.get("id") for c in (*raw.tool_calls, *raw.invalid_tool_calls) if c.get("id")]
    if not call_ids:
        return [raw, HumanMessage(correction)]
    return [raw, *(ToolMessage(correction, tool_call_id=str(i)) for i in call_ids)]
