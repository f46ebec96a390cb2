"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser download): a CRM filled by the real graph, served by uvicorn on
127.0.0.1, every chart drawn, the numbers in the page equal to the CRM's, no console errors,
and the page refreshing itself when new leads arrive."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from leadflow.clock import FrozenClock
from leadflow.dashboard import create_app
from leadflow.metrics import snapshot
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Lead
from tests.conftest import START, OpenCheckpoints, RunItems
from tests.metrics_story import NOW, fill_crm, person

pytestmark = pytest.mark.browser
CHROMIUM = Path(os.environ.get("LEADFLOW_CHROMIUM", "/usr/bin/chromium"))
SECTIONS = ("processing", "success", "queues", "errors", "qualification", "enrichment",
            "routing", "first-touch", "sla", "conversion", "workload")


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium; its absence is a failure (CI installs it), not a skip."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: install it (`apt-get install -y chromium`) "
                    "or point LEADFLOW_CHROMIUM at one", pytrace=False)
    return CHROMIUM


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """uvicorn on a socket bound to a free 127.0.0.1 port, in a thread; yields the base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def cell(page: Any, section: str, row: str, field: str) -> str:
    return str(page.locator(f"#{section} tr[{row}] td[data-field='{field}']").inner_text())


def test_the_dashboard_draws_every_metric_in_chromium(
        chromium: Path, run_items: RunItems, tools: Toolbox, clock: FrozenClock,
        checkpoints: OpenCheckpoints, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    fill_crm(run_items, tools, checkpoints, tmp_path)
    clock.advance(NOW - START)  # the page's "now" is the story's
    expected = snapshot(tools.crm, tools.reps, NOW)
    problems: list[str] = []
    with serving(create_app(tools)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium))
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 else None)
        page.goto(f"{base}/dashboard?refresh=1")
        page.wait_for_selector("body[data-loads]", timeout=15_000)

        # every §9 section has a labelled chart and a captioned table
        for section in SECTIONS:
            charts = page.locator(f"#{section} .chart svg[role='img']")
            assert charts.count() >= 1, section
            assert charts.first.locator(":scope > title").text_content(), section
            assert page.locator(f"#{section} table caption").count() >= 1, section
            assert page.locator(f"#{section} table tbody tr").count() >= 1, section

        # the tier counts on the page are the CRM's, in the table and in the bars
        for tier in ("hot", "warm", "cold", "unqualified"):
            in_crm = tools.crm.count(Lead, tier=tier)
            assert cell(page, "qualification", f"data-tier='{tier}'", "leads") == str(in_crm)
            bar = page.locator(f"#qualification svg rect[data-label='{tier}']")
            assert bar.get_attribute("data-value") == str(in_crm)
        assert page.locator("[data-kpi='leads'] dd").inner_text() == str(
            tools.crm.count(Lead))
        for stage in expected.conversion.stages:
            assert cell(page, "conversion", f"data-stage='{stage.stage}'",
                        "leads") == str(stage.leads)
        for agent in expected.processing.agents:
            assert cell(page, "success", f"data-agent='{agent.agent}'", "runs") == str(
                agent.runs)
        for clocks in expected.sla.by_tier:
            assert cell(page, "sla", f"data-tier='{clocks.tier}'", "breached") == str(
                clocks.breached)
        assert page.locator("[data-kpi='sla-breaches'] dd").inner_text() == "3 (75.0 %)"
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        # a new hot lead shows up on the next refresh, with no reload
        hot_before = tools.crm.count(Lead, tier="hot")
        with ThreadPoolExecutor(1) as pool:  # the graph's event loop, off Playwright's thread
            pool.submit(run_items, [person("H-9", "nina.berg@lumenhealth.com",
                                           "Lumen Health Partners", "CTO")]).result()
        assert tools.crm.count(Lead, tier="hot") == hot_before + 1
        page.wait_for_function(
            "n => document.querySelector(`#qualification tr[data-tier='hot'] "
            "td[data-field='leads']`).textContent === String(n)", arg=hot_before + 1,
            timeout=10_000)

        # a phone-sized window: charts redraw to fit and nothing widens the page
        page.set_viewport_size({"width": 390, "height": 800})
        page.wait_for_timeout(400)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(tmp_path / "dashboard-narrow.png"), full_page=True)
        browser.close()
    assert problems == []
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
