"""One batch of tagged synthetic leads through the batch runner against the scripted LLM
failing a given share of calls, as its own process (the three failure rates of
test_llm_failures run side by side on separate cores):

    python -m tests.reliability.llm_batch --rate 0.3 --leads 1000 --home DIR

The CRM and checkpoints go to DIR (SQLite); DIR/result.json gets the scripted LLM's stats,
the outcomes returned and the seconds taken. The test audits DIR/crm.db itself."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from leadflow.checkpoint import sqlite_checkpointer
from leadflow.clock import SystemClock
from leadflow.graph import build_graph
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox
from tests.reliability.conftest import LEAD_REF, tagged_leads
from tests.scripted_llm import ScriptedLLM

TIMEOUT_S = 1.5  # the client's per-request timeout (LEADFLOW_LLM_TIMEOUT_S)
SLOW_MS = 2000  # a "slow" failure outlasts it


def batch_items(rate: float, leads: int) -> list[dict[str, Any]]:
    pct = round(rate * 100)
    return tagged_leads(leads, seed=pct, prefix=f"LLM{pct}")


async def run(args: argparse.Namespace) -> dict[str, Any]:
    pct = round(args.rate * 100)
    items = batch_items(args.rate, args.leads)
    with ScriptedLLM(delay_ms=args.delay_ms, failure_rate=args.rate, seed=pct,
                     slow_ms=SLOW_MS, lead_pattern=LEAD_REF) as llm:
        os.environ.update(OPENAI_BASE_URL=llm.url, OPENAI_API_KEY="scripted",
                          LEADFLOW_LLM_TIMEOUT_S=str(TIMEOUT_S))
        tools = Toolbox.open(f"sqlite:///{args.home / 'crm.db'}", clock=SystemClock())
        try:
            async with sqlite_checkpointer(args.home / "checkpoints.db") as saver:
                runner = BatchRunner(build_graph(saver, toolbox=tools), tools,
                                     context={"model": f"openai:scripted-{pct}"})
                started = time.monotonic()
                outcomes = await runner.run(items, concurrency=args.concurrency)
                seconds = time.monotonic() - started
        finally:
            tools.crm.close()
        return {"stats": llm.stats(), "outcomes": len(outcomes), "seconds": seconds,
                "errors": sum(1 for o in outcomes if "processing_error" in o["flags"])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay-ms", type=float, default=5.0)
    args = parser.parse_args()
    args.home.mkdir(parents=True, exist_ok=True)
    for name in [n for n in os.environ if n.startswith("LEADFLOW_MODEL")]:
        del os.environ[name]
    result = asyncio.run(run(args))
    (args.home / "result.json").write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
