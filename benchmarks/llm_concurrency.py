"""LLM-path concurrency: leads/s through the full graph with every agent on an LLM served by
a scripted OpenAI-compatible server (200 ms per call, separate process), at concurrency 1,
8 and 32, beside the bound concurrency / (LLM calls per lead × latency).

    python benchmarks/llm_concurrency.py [--leads 96] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leadflow.clock import SystemClock  # noqa: E402
from leadflow.data.synthetic import synthetic_leads  # noqa: E402
from leadflow.graph import build_graph  # noqa: E402
from leadflow.runner import BatchRunner, sqlite_checkpointer  # noqa: E402
from leadflow.toolbox import Toolbox  # noqa: E402
from tests.openai_stub import Reply, openai_stub  # noqa: E402

ANSWERS: dict[str, dict[str, Any]] = {
    "BantProposal": {c: {"band": b, "strength": 0.5, "evidence": "x"} for c, b in (
        ("budget", "unclear_possible"), ("authority", "significant_influence"),
        ("need", "clear_improvement"), ("timeline", "within_3_months"))} | {"conflicts": []},
    "EnrichmentSummary": {"summary": "A company.", "talking_points": ["One.", "Two."]},
    "ExtractedLead": {},
}


def answer(body: dict[str, Any]) -> dict[str, Any]:
    return ANSWERS[body["tools"][0]["function"]["name"]]


def serve(latency: float, ready: Any, port: Any) -> None:
    with openai_stub([], default=Reply(answer, delay_s=latency)) as stub:
        port.value = int(stub.url.split(":")[2].split("/")[0])
        ready.set()
        while True:
            time.sleep(3600)


async def run(items: list[dict[str, Any]], concurrency: int, home: Path) -> float:
    tools = Toolbox.open(f"sqlite:///{home / 'crm.db'}", clock=SystemClock())
    async with sqlite_checkpointer(home / "cp.db") as saver:
        runner = BatchRunner(build_graph(saver, toolbox=tools), tools,
                             context={"model": "openai:stub"})
        started = time.perf_counter()
        outcomes = await runner.run(items, concurrency=concurrency)
        seconds = time.perf_counter() - started
    calls = sum((d.get("usage") or {}).get("calls", 0) for o in outcomes
                for d in o.get("decisions") or [])
    tools.crm.close()
    return len(items) / seconds, calls / len(items)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=96)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    ready, port = multiprocessing.Event(), multiprocessing.Value("i", 0)
    server = multiprocessing.Process(target=serve, args=(args.latency, ready, port),
                                     daemon=True)
    server.start()
    ready.wait(10)
    os.environ["OPENAI_BASE_URL"] = f"http://127.0.0.1:{port.value}/v1"
    os.environ["OPENAI_API_KEY"] = "bench"
    results = []
    try:
        for concurrency in (1, 8, 32):
            leads = args.leads if concurrency > 1 else max(16, args.leads // 6)
            items = synthetic_leads(leads, seed=concurrency, prefix=f"C{concurrency}")
            with tempfile.TemporaryDirectory() as tmp:
                rate, calls = asyncio.run(run(items, concurrency, Path(tmp)))
            bound = concurrency / (calls * args.latency) if calls else float("inf")
            results.append((concurrency, rate, calls, bound))
            print(f"concurrency={concurrency:>2} leads={leads} calls/lead={calls:.2f} "
                  f"rate={rate:.1f} leads/s bound={bound:.1f} leads/s ratio={rate / bound:.2f}")
    finally:
        server.terminate()
    top = results[-1]
    print(f"llm_concurrency: c32={top[1]:.1f} leads/s bound={top[3]:.1f} "
          f"ratio={top[1] / top[3]:.2f}")


if __name__ == "__main__":
    main()
