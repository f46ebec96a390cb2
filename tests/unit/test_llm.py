"""Model selection, parameters, prompts and cost accounting (no network)."""

from __future__ import annotations

import pytest
from langchain_openai import ChatOpenAI

from leadflow.llm import (
    ModelParams,
    batch_usage,
    chat_model,
    estimate_cost_usd,
    model_for,
    validate_model_name,
)
from leadflow.prompts import available_versions, load_prompt


def test_model_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADFLOW_MODEL", raising=False)
    monkeypatch.delenv("LEADFLOW_MODEL_QUALIFICATION", raising=False)
    assert model_for("qualification") == "rules"
    monkeypatch.setenv("LEADFLOW_MODEL", "openai:gpt-4o-mini")
    assert model_for("qualification") == "openai:gpt-4o-mini"
    assert model_for("qualification", "openai:gpt-4.1-nano") == "openai:gpt-4.1-nano"
    monkeypatch.setenv("LEADFLOW_MODEL_QUALIFICATION", "openai:gpt-4o")
    assert model_for("qualification", "openai:gpt-4.1-nano") == "openai:gpt-4o"
    assert model_for("capture", "openai:gpt-4.1-nano") == "openai:gpt-4.1-nano"


@pytest.mark.parametrize("name", ["gpt-4o", ":x", "openai:", ""])
def test_bad_model_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="expected provider:model"):
        validate_model_name(name)


def test_per_agent_params_override_defaults() -> None:
    enrichment, qualification = (ModelParams.for_agent("enrichment"),
                                 ModelParams.for_agent("qualification"))
    assert enrichment.temperature == 0.2 and enrichment.max_tokens == 600
    assert qualification.temperature == 0.0 and qualification.repair_attempts == 1


def test_openai_compatible_server_through_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    model = chat_model("openai:qwen2.5-7b-instruct", "qualification")
    assert isinstance(model, ChatOpenAI)
    assert model.model_name == "qwen2.5-7b-instruct"
    assert str(model.openai_api_base) == "http://127.0.0.1:9/v1"
    assert model.max_retries == 3 and model.temperature == 0.0


def test_prompts_are_versioned_files() -> None:
    for agent in ("capture", "enrichment", "qualification"):
        assert "v1" in available_versions(agent)
        prompt = load_prompt(agent, "v1")
        assert prompt.examples, f"{agent} v1 has no few-shot examples"
        assert "<lead_data>" in prompt.user and "untrusted" in prompt.system
    with pytest.raises(ValueError, match="available: v1"):
        load_prompt("qualification", "v0")


def test_cost_by_price_table() -> None:
    assert estimate_cost_usd("openai:gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert estimate_cost_usd("openai:some-local-model", 10**6, 10**6) == 0.0
    outcomes = [{"decisions": [
        {"model": "openai:gpt-4o-mini", "usage": {"input_tokens": 1000, "output_tokens": 200,
                                                  "calls": 1}},
        {"model": "rules", "usage": None}]}] * 2
    totals = batch_usage(outcomes)
    assert totals["calls"] == 2 and totals["input_tokens"] == 2000
    assert totals["cost_usd"] == pytest.approx(2 * (1000 * 0.15 + 200 * 0.60) / 1e6)


def test_batch_usage_counts_each_lead_once_and_prices_each_model() -> None:
    """A repeat inquiry's outcome is its lead's (all its decisions so far) plus its own
    thread's `item_decisions`; a follow-up whose judge ran on another model than the
    drafters prices each model's share."""
    call = {"input_tokens": 1000, "output_tokens": 100, "calls": 1}
    first = {"lead_id": "LEAD-a", "decisions": [
        {"model": "openai:gpt-4o-mini", "usage": call},
        {"model": "openai:gpt-4o-mini, openai:gpt-4o",
         "usage": {"input_tokens": 4000, "output_tokens": 400, "calls": 4},
         "usage_by_model": {"openai:gpt-4o-mini": {"input_tokens": 3000, "output_tokens": 300,
                                                   "calls": 3},
                            "openai:gpt-4o": call}}]}
    repeat = {**first, "decisions": [*first["decisions"],
                                      {"model": "openai:gpt-4o-mini", "usage": call}],
              "item_decisions": [{"model": "openai:gpt-4o-mini", "usage": call}]}
    totals = batch_usage([first, repeat])
    assert totals["calls"] == 1 + 4 + 1 + 1
    assert totals["input_tokens"] == 7000
    assert totals["cost_usd"] == pytest.approx(
        (6000 * 0.15 + 600 * 0.60 + 1000 * 2.50 + 100 * 10.00) / 1e6)


def test_requests_per_minute_uses_langchains_rate_limiter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("LEADFLOW_LLM_RPM", "120")
    model = chat_model("openai:rate-limited", "qualification")
    assert isinstance(model, ChatOpenAI) and model.rate_limiter is not None
    assert model.rate_limiter.requests_per_second == 2.0  # type: ignore[attr-defined]


def test_circuit_breaker_opens_and_half_opens() -> None:
    from leadflow.llm import CircuitBreaker

    breaker = CircuitBreaker(failures_to_open=2, cooldown_s=10)
    assert breaker.allow(0) and not breaker.record(False, 0)
    assert breaker.record(False, 1)  # opened now
    assert not breaker.allow(5)
    assert breaker.allow(11)  # one probe after the cooldown
    assert not breaker.allow(12)
    breaker.record(True, 12)
    assert breaker.allow(12)


def test_structured_runnable_cache_survives_a_reused_object_id() -> None:
    """CI once saw a fresh fake model answer with a collected model's runnable: CPython
    reuses `id()`s, so the cache must check identity, not the number alone."""
    from pydantic import BaseModel

    from leadflow.llm import _structured, _structured_cache
    from tests.llm_fakes import ScriptedChatModel

    class Probe(BaseModel):
        x: int

    stale = ScriptedChatModel(schema_name="Probe", script=[])
    fresh = ScriptedChatModel(schema_name="Probe", script=[{"x": 1}])
    # Simulate the collected model's entry sitting under the fresh model's id.
    _structured_cache[(id(fresh), Probe, "function_calling")] = (stale, "stale runnable")
    runnable = _structured(fresh, Probe, "function_calling")
    assert runnable != "stale runnable"
    assert runnable.invoke("hi")["parsed"] == Probe(x=1)


def test_a_model_works_in_each_event_loop_a_process_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`asyncio.run` twice in one process (CLI commands, evals, benchmarks): the second run
    once got the first loop's pooled connections and failed every call with "Event loop is
    closed", until the agent's circuit breaker opened and rules decided every lead."""
    import asyncio

    from langchain_core.messages import HumanMessage
    from pydantic import BaseModel

    from leadflow.llm import call_structured
    from tests.openai_stub import Reply, openai_stub

    class Probe(BaseModel):
        x: int

    async def ask() -> tuple[BaseModel | None, int]:
        model = chat_model("openai:stub", "enrichment")
        params = ModelParams.for_agent("enrichment")
        answers = await asyncio.gather(*(call_structured(
            model, Probe, [HumanMessage("x?")], params) for _ in range(3)))
        return answers[0].parsed, id(model)

    with openai_stub([], default=Reply({"x": 7})) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        monkeypatch.setenv("LEADFLOW_LLM_MAX_RETRIES", "0")
        first, first_model = asyncio.run(ask())
        second, second_model = asyncio.run(ask())
    assert first == second == Probe(x=7)
    assert first_model != second_model  # a model (and HTTP pool) per loop
    assert len(stub.requests) == 6
