"""LLM-path concurrency: leads/s through the full graph with every agent on an LLM served by
the scripted OpenAI-compatible server (tests/scripted_llm.py: every structured-output tool
answered, 200 ms per call, in its own process), at concurrency 1, 8 and 32, beside the bound
concurrency / (sequential LLM calls per lead × latency).

    python benchmarks/llm_concurrency.py [--leads 96] [--latency 0.2]

Calls per lead are every call the outcomes record (llm.batch_usage: the follow-up step's
three drafts and judge included). The bound follows the real call graph, in which a lead's
calls are sequential except the three outreach drafts, which run together
(`asyncio.gather` in leadflow/agents/outreach.py) and so cost one call's latency: a lead's
sequential calls are its recorded calls minus (its LLM-written drafts − 1), the drafts read
from the CRM (`written_by`). A repair turn inside one draft would lengthen that path by a
call the model does not see; the scripted server here fails nothing, so there are none, and
`llm_fell_back` says if that ever changes. `unrecorded_calls` is the server's count of answered
calls during the measured run minus the recorded ones (0 unless usage goes missing again).

It also prints the process's CPU time per lead, because that is the other ceiling: one Python
process cannot go faster than 1 / (CPU seconds per lead), whatever the concurrency. A warm-up
batch runs first so imports and model set-up are not counted. Any lead the LLM failed (and
the rules decided instead) is counted: a benchmark that silently fell back would flatter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leadflow.checkpoint import sqlite_checkpointer  # noqa: E402
from leadflow.clock import SystemClock  # noqa: E402
from leadflow.data.synthetic import synthetic_leads  # noqa: E402
from leadflow.graph import build_graph  # noqa: E402
from leadflow.llm import batch_usage  # noqa: E402
from leadflow.runner import BatchRunner  # noqa: E402
from leadflow.toolbox import Toolbox  # noqa: E402
from tests.ports import announced  # noqa: E402

FELL_BACK = "llm_fallback"  # set whenever rules replaced an LLM answer, whatever the cause




def start_llm(latency_s: float) -> tuple[subprocess.Popen[bytes], str]:
    """The scripted LLM in its own process, so its threads don't share our GIL; on a port
    the OS picks, read back from the line it prints."""
    log = Path(tempfile.mkdtemp(prefix="scripted-llm-")) / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.scripted_llm", "--port", "0",
             "--delay-ms", str(latency_s * 1000)], cwd=ROOT, stdout=out)
    url = announced(server, log, re.compile(r"scripted LLM on (http://\S+/v1)"), 30).group(1)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/stats", timeout=1).read()
            return server, url
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the scripted LLM did not start")


def served(url: str) -> int:
    """Calls the scripted LLM has answered so far."""
    return int(json.loads(urllib.request.urlopen(f"{url}/stats", timeout=5).read())["answered"])


async def run(items: list[dict[str, Any]], concurrency: int, home: Path,
              warm_up: list[dict[str, Any]], url: str) -> dict[str, float]:
    tools = Toolbox.open(f"sqlite:///{home / 'crm.db'}", clock=SystemClock())
    try:
        async with sqlite_checkpointer(home / "cp.db") as saver:
            runner = BatchRunner(build_graph(saver, toolbox=tools), tools,
                                 context={"model": "openai:scripted"})
            await runner.run(warm_up, concurrency=min(concurrency, 8))
            before = served(url)
            cpu, started = time.process_time(), time.perf_counter()
            outcomes = await runner.run(items, concurrency=concurrency)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            answered = served(url) - before
        # the drafts run in parallel: all of a lead's LLM drafts take one call's time
        overlapped = sum(max(0, sum(d["written_by"] == "llm"
                                    for d in tools.crm.drafts_for(o["lead_id"])) - 1)
                         for o in outcomes)
    finally:
        tools.crm.close()
    calls = batch_usage(outcomes)["calls"]
    fell_back = sum(FELL_BACK in (o.get("flags") or []) for o in outcomes)
    return {"rate": len(items) / seconds, "calls": calls / len(items),
            "sequential": (calls - overlapped) / len(items),
            "unrecorded": answered - calls,  # answered calls no decision recorded: 0
            "cpu_ms": cpu / len(items) * 1000, "fell_back": fell_back}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=96)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    server, url = start_llm(args.latency)
    os.environ.update(OPENAI_BASE_URL=url, OPENAI_API_KEY="bench")
    results = []
    try:
        for concurrency in (1, 8, 32):
            leads = args.leads if concurrency > 1 else max(16, args.leads // 6)
            items = synthetic_leads(leads, seed=concurrency, prefix=f"C{concurrency}")
            warm_up = synthetic_leads(8, seed=100 + concurrency, prefix=f"W{concurrency}")
            with tempfile.TemporaryDirectory() as tmp:
                r = asyncio.run(run(items, concurrency, Path(tmp), warm_up, url))
            bound = (concurrency / (r["sequential"] * args.latency) if r["sequential"]
                     else float("inf"))
            results.append((concurrency, r, bound))
            print(f"concurrency={concurrency:>2} leads={leads} calls/lead={r['calls']:.2f} "
                  f"sequential/lead={r['sequential']:.2f} "
                  f"rate={r['rate']:.1f} leads/s bound={bound:.1f} leads/s "
                  f"ratio={r['rate'] / bound:.2f} cpu={r['cpu_ms']:.1f} ms/lead "
                  f"(one process: at most {1000 / r['cpu_ms']:.1f} leads/s) "
                  f"llm_fell_back={r['fell_back']} unrecorded_calls={r['unrecorded']:.0f}",
                  flush=True)
        stats = json.loads(urllib.request.urlopen(f"{url}/stats", timeout=5).read())
        print(f"scripted LLM: {stats.get('calls')} calls, failures {stats.get('failures')}")
    finally:
        server.terminate()
        server.wait(10)
    concurrency, top, bound = results[-1]
    print(f"llm_concurrency: c{concurrency}={top['rate']:.1f} leads/s bound={bound:.1f} "
          f"ratio={top['rate'] / bound:.2f} cpu_ceiling={1000 / top['cpu_ms']:.1f} leads/s")


if __name__ == "__main__":
    main()
