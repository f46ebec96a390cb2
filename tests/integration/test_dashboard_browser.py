"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser download): a CRM filled by the real graph, served by uvicorn on
127.0.0.1, every chart drawn by the vendored Chart.js, the numbers in the page equal to the
CRM's, hostile lead text shown as text, no console errors (a Content-Security-Policy
refusal is one), and the page refreshing itself (charts updated in place) when new leads
arrive; and the same page behind `leadflow serve`'s API key, given in the address or at
the password prompt, with times in the browser's locale."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
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
# Lead text that would run if it ever reached the page as HTML.
XSS_FIRST, XSS_LAST = "<script>alert(1)</script>", "<img src=x onerror=alert(2)>"
XSS_COMPANY = "<script>alert(3)</script> & <b>Co</b>"
XSS_REASON = "imported record needs a look: <svg onload=alert(4)>"
# How long a page may take to load or redraw before the test gives up: a deadline for a
# hang, not a speed claim. With four suites at once on this 2-core machine (load ~30), the
# first load of the page took over 15 s.
PAGE_DEADLINE_MS = 120_000


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
    deadline = time.monotonic() + PAGE_DEADLINE_MS / 1000
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


def add_hostile_lead(tools: Toolbox) -> str:
    """A lead whose name and company are markup (as an import or a CRM user could write
    them), waiting in manual review: written through the CRM's own API."""
    lead_id, now = "LEAD-xss", START + timedelta(hours=2)
    tools.crm.capture_lead(
        lead_id=lead_id, fingerprint="xss-1", source_id="XSS-1", now=now,
        record={"contact": {"first_name": XSS_FIRST, "last_name": XSS_LAST, "email": None},
                "company": {"name": XSS_COMPANY, "domain": None},
                "source": {"channel": "web_form"}})
    tools.crm.update_lead(lead_id, now, status="manual_review")
    tools.crm.enqueue("manual_review", lead_id, XSS_REASON, now)
    return lead_id


def chart_values(page: Any, section: str) -> dict[str, Any]:
    """The first chart's label → first-series value, read from Chart.js itself."""
    return dict(page.evaluate(
        """section => {
             const chart = Chart.getChart(document.querySelector(`#${section} canvas`));
             return Object.fromEntries(chart.data.labels.map(
               (label, i) => [label, chart.data.datasets[0].data[i]]));
           }""", section))


def test_the_dashboard_draws_every_metric_in_chromium(
        chromium: Path, run_items: RunItems, tools: Toolbox, clock: FrozenClock,
        checkpoints: OpenCheckpoints, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    fill_crm(run_items, tools, checkpoints, tmp_path)
    hostile = add_hostile_lead(tools)
    clock.advance(NOW - START)  # the page's "now" is the story's
    expected = snapshot(tools.crm, tools.reps, NOW)
    problems: list[str] = []
    with serving(create_app(tools)) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium),
                                             timeout=PAGE_DEADLINE_MS)
        # reduced motion: the page turns Chart.js animations off, so screenshots are final
        page = browser.new_page(viewport={"width": 1400, "height": 1000},
                                reduced_motion="reduce")
        page.set_default_timeout(PAGE_DEADLINE_MS)
        page.on("dialog", lambda d: (problems.append(f"dialog opened: {d.message}"),
                                     d.dismiss()))
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
                if r.status >= 400 else None)
        page.goto(f"{base}/dashboard?refresh=1")
        page.wait_for_selector("body[data-loads]", timeout=PAGE_DEADLINE_MS)

        # every §9 section has a labelled canvas Chart.js drew, and a captioned table
        for section in SECTIONS:
            canvases = page.locator(f"#{section} .chart canvas[role='img']")
            assert canvases.count() >= 1, section
            for i in range(canvases.count()):
                drawn = canvases.nth(i).evaluate(
                    "c => { const chart = Chart.getChart(c); return chart ? "
                    "[chart.width, chart.height, chart.data.datasets.length] : null; }")
                assert drawn and drawn[0] > 100 and drawn[1] > 30 and drawn[2] >= 1, section
                assert canvases.nth(i).get_attribute("aria-label"), section
            assert page.locator(f"#{section} table caption").count() >= 1, section
            assert page.locator(f"#{section} table tbody tr").count() >= 1, section

        # the tier counts on the page are the CRM's, in the table, the bars and the label
        tiers = {tier: tools.crm.count(Lead, tier=tier)
                 for tier in ("hot", "warm", "cold", "unqualified")}
        assert chart_values(page, "qualification") == tiers
        label = page.locator("#qualification canvas").get_attribute("aria-label")
        for tier, in_crm in tiers.items():
            assert cell(page, "qualification", f"data-tier='{tier}'", "leads") == str(in_crm)
            assert f"{tier}: {in_crm}" in str(label)
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

        # the manual-review queue: the CRM's open items, newest first, markup as plain text
        review = page.locator("#review tbody tr")
        assert [review.nth(i).get_attribute("data-lead") for i in range(review.count())] == [
            item.lead_id for item in expected.review_queue.items]
        assert review.first.get_attribute("data-lead") == hostile  # queued last
        row = f"data-lead='{hostile}'"
        assert cell(page, "review", row, "contact") == f"{XSS_FIRST} {XSS_LAST}"
        assert cell(page, "review", row, "company") == XSS_COMPANY
        assert cell(page, "review", row, "reason") == XSS_REASON
        assert page.locator("#review script, #review img, #review svg, #review b").count() == 0
        assert page.evaluate("document.images.length") == 0
        assert page.evaluate("[...document.scripts].map(s => s.getAttribute('src'))") == [
            "dashboard/static/chart.umd.min.js", "dashboard/static/dashboard.js"]
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        # a new hot lead shows up on the next refresh, with no reload; the charts are the
        # same Chart.js objects, their data updated
        chart_ids = page.evaluate(
            "[...document.querySelectorAll('canvas')].map(c => Chart.getChart(c).id)")
        hot_before = tools.crm.count(Lead, tier="hot")
        with ThreadPoolExecutor(1) as pool:  # the graph's event loop, off Playwright's thread
            pool.submit(run_items, [person("H-9", "nina.berg@lumenhealth.com",
                                           "Lumen Health Partners", "CTO")]).result()
        assert tools.crm.count(Lead, tier="hot") == hot_before + 1
        page.wait_for_function(
            "n => document.querySelector(`#qualification tr[data-tier='hot'] "
            "td[data-field='leads']`).textContent === String(n)", arg=hot_before + 1,
            timeout=PAGE_DEADLINE_MS)
        assert chart_values(page, "qualification")["hot"] == hot_before + 1
        assert page.evaluate(
            "[...document.querySelectorAll('canvas')].map(c => Chart.getChart(c).id)"
        ) == chart_ids

        # a phone-sized window: charts redraw to fit and nothing widens the page
        page.set_viewport_size({"width": 390, "height": 800})
        page.wait_for_function(  # until every chart has been redrawn to the new width
            "w => [...document.querySelectorAll('canvas')].every(c => Chart.getChart(c).width"
            " <= w) && document.documentElement.scrollWidth <= w", arg=390,
            timeout=PAGE_DEADLINE_MS)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(tmp_path / "dashboard-narrow.png"), full_page=True)
        browser.close()
    assert problems == []
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000


@pytest.mark.parametrize(("how", "locale", "zone", "local_time"), [
    ("key in the URL", "de-DE", "Europe/Berlin", "10:00"),
    ("password prompt", "en-US", "America/New_York", "4:00 AM"),
])
def test_the_dashboard_through_leadflow_serve_with_the_api_key(
        chromium: Path, tools: Toolbox, tmp_path: Path, how: str, locale: str, zone: str,
        local_time: str) -> None:
    """`leadflow serve` puts the page behind the API key, given as the password of HTTP
    Basic auth: typed into the browser's prompt, or in the address
    (http://user:key@host/dashboard), where the page may not fetch() a URL that carries
    credentials. Either way the data loads and refreshes; times are in the browser's
    locale and time zone."""
    import httpx
    from playwright.sync_api import sync_playwright

    from tests.conftest import form_item
    from tests.integration.test_api import HEADERS, KEY, start_server, stop_server, wait_for

    server, thread, base = start_server(tools, tmp_path)
    problems: list[str] = []
    data_requests: list[str] = []
    try:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as client:
            [lead_id] = client.post("/leads", json=form_item("DASH-1")).json()["lead_ids"]
            assert wait_for(client, lead_id)["status"] == "awaiting_followup"
        page_url = (f"http://ops:{KEY}@{base.removeprefix('http://')}/dashboard?refresh=1"
                    if how == "key in the URL" else f"{base}/dashboard?refresh=1")
        prompt = {"username": "ops", "password": KEY} if how == "password prompt" else None
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium),
                                             timeout=PAGE_DEADLINE_MS)
            context = browser.new_context(locale=locale, timezone_id=zone,
                                          http_credentials=prompt)
            page = context.new_page()
            page.set_default_timeout(PAGE_DEADLINE_MS)
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)  # CSP refusals land here
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.on("request", lambda r: data_requests.append(r.url)
                    if "data.json" in r.url else None)
            page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
                    if r.status >= 400 else None)
            page.goto(page_url)
            page.wait_for_function("() => Number(document.body.dataset.loads) >= 2",
                                   timeout=PAGE_DEADLINE_MS)  # loaded, then refreshed
            assert page.locator("[data-kpi='leads'] dd").inner_text() == "1"
            assert page.locator("#status").inner_text() == ""
            updated = page.locator("#updated time")
            assert updated.get_attribute("datetime") == "2026-11-24T09:00:00Z"
            assert local_time in updated.inner_text() and "2026" in updated.inner_text()
            browser.close()
    finally:
        stop_server(server, thread)
    assert problems == []
    assert data_requests and all(url.startswith(f"{base}/dashboard/data.json")
                                 for url in data_requests)  # no credentials in them
