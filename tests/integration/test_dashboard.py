"""The dashboard's HTTP surface without a browser: the page, its packaged static files, the
data feed (through the `get_toolbox` dependency), and `leadflow dashboard` as a process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from leadflow.dashboard import create_app
from leadflow.metrics import snapshot
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import Lead, QueueItem
from tests.conftest import RunItems, form_item
from tests.ports import announced


@pytest.fixture
def client(tools: Toolbox) -> TestClient:
    return TestClient(create_app(tools))


def test_the_page_is_self_contained(client: TestClient) -> None:
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "http://" not in page.text and "https://" not in page.text  # no CDN, no network
    for name, kind in (("dashboard.js", "text/javascript"), ("dashboard.css", "text/css")):
        assert f'"dashboard/static/{name}"' in page.text
        asset = client.get(f"/dashboard/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        assert "http://" not in asset.text.replace("http://www.w3.org/2000/svg", "")
    for section in ("processing", "success", "queues", "errors", "qualification",
                    "enrichment", "routing", "first-touch", "sla", "conversion", "workload",
                    "review"):
        assert f'id="{section}"' in page.text


def test_chart_js_is_vendored_with_its_licence(client: TestClient) -> None:
    page = client.get("/dashboard").text
    # loaded from this server, before the script that uses it (both deferred: in order)
    assert page.index('"dashboard/static/chart.umd.min.js"') < page.index(
        '"dashboard/static/dashboard.js"')
    chart = client.get("/dashboard/static/chart.umd.min.js")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("text/javascript")
    assert chart.text.startswith("/*!\n * Chart.js v4.") and "sourceMappingURL" not in chart.text
    licence = client.get("/dashboard/static/chart.LICENSE.md")
    assert licence.status_code == 200 and "The MIT License" in licence.text


def test_leadflow_dashboard_sends_the_page_security_headers_and_answers_head(
        client: TestClient) -> None:
    """The standalone app (`leadflow dashboard`) guards its page as `leadflow serve` does:
    only this origin's scripts, styles and data; no framing; no sniffing."""
    for path in ("/dashboard", "/dashboard/static/dashboard.js", "/dashboard/data.json"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == got.headers["content-length"]
        for response in (got, head):
            csp = response.headers["content-security-policy"]
            assert "default-src 'none'" in csp and "script-src 'self'" in csp
            assert "frame-ancestors 'none'" in csp and "unsafe" not in csp
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/dashboard/data.json").headers["cache-control"] == "no-store"


@pytest.mark.parametrize("name", ["../deps.py", "..%2Fdeps.py", "dashboard.html", "x.js"])
def test_only_the_page_assets_are_served(client: TestClient, name: str) -> None:
    assert client.get(f"/dashboard/static/{name}").status_code == 404


def test_data_json_is_the_snapshot_of_the_toolbox_crm(client: TestClient, tools: Toolbox,
                                                      run_items: RunItems) -> None:
    run_items([form_item("H-1"), form_item("M-1", **{"Work Email": None})])
    data = client.get("/dashboard/data.json").json()
    expected = snapshot(tools.crm, tools.reps, tools.clock.now()).model_dump(mode="json")
    assert data == expected
    assert data["leads_total"] == tools.crm.count(Lead) == 2
    assert data["generated_at"] == "2026-11-24T09:00:00Z"  # the toolbox's (frozen) clock


def test_the_review_queue_lists_open_items_newest_first_with_who(
        client: TestClient, tools: Toolbox, run_items: RunItems) -> None:
    (failed,) = run_items([form_item("M-1", **{"Work Email": None})])  # capture: no contact
    now = tools.clock.now()
    for n in range(60):  # more than the page shows; bare items with no lead behind them
        tools.crm.enqueue("manual_review", f"LEAD-x{n:02d}", f"check {n}",
                          now - timedelta(minutes=n + 1))
    tools.crm.enqueue("nurture", "LEAD-other", "not a review item", now)
    tools.crm.enqueue("manual_review", "LEAD-done", "resolved", now)
    tools.crm.resolve("manual_review", "LEAD-done", now, "looked at it")

    review = client.get("/dashboard/data.json").json()["review_queue"]
    assert review["open"] == 61 == tools.crm.queue_counts()["manual_review"]
    assert review["limit"] == len(review["items"]) == 50
    first, second, last = review["items"][0], review["items"][1], review["items"][-1]
    assert first == {"lead_id": failed["lead_id"], "since": "2026-11-24T09:00:00Z",
                     "reason": "no usable contact: neither an email address nor a phone number",
                     "contact": "Priya Nair", "company": "Lumen Health Partners"}
    assert (second["lead_id"], second["contact"], second["company"]) == (
        "LEAD-x00", None, None)
    assert last["lead_id"] == "LEAD-x48"  # the oldest eleven are left off
    assert tools.crm.count(QueueItem, queue="manual_review") == 62




@pytest.mark.slow
def test_leadflow_dashboard_serves_the_configured_crm(run_items: RunItems, tools: Toolbox,
                                                      database_url: str,
                                                      tmp_path: Path) -> None:
    run_items([form_item("H-1")])
    env = {**os.environ, "LEADFLOW_DATABASE_URL": database_url,
           "LEADFLOW_HOME": str(tmp_path / "home")}
    log = tmp_path / "dashboard.log"
    with log.open("wb") as out:  # port 0: it binds a free port, then prints its URL
        server = subprocess.Popen(
            [sys.executable, "-m", "leadflow.cli", "dashboard", "--port", "0"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = announced(server, log, re.compile(r"dashboard: (http://127\.0\.0\.1:\d+)/dashboard"),
                        timeout_s=60).group(1)
        data = None
        deadline = time.monotonic() + 30
        while data is None and time.monotonic() < deadline:  # listening; serving soon
            try:
                with urllib.request.urlopen(f"{url}/dashboard/data.json", timeout=2) as reply:
                    data = json.load(reply)
            except OSError:
                assert server.poll() is None, log.read_text()
                time.sleep(0.2)
        assert data is not None, "leadflow dashboard did not answer within 30 s"
        assert data["leads_total"] == 1
        assert {t["tier"]: t["leads"] for t in data["qualification"]["tiers"]}["hot"] == 1
        with urllib.request.urlopen(f"{url}/", timeout=30) as reply:
            assert reply.url.endswith("/dashboard") and b'id="qualification"' in reply.read()
        # the server answers on the port the line names, not a port it was told earlier
        assert int(url.rsplit(":", 1)[1]) not in (0, 8050)
    finally:
        server.terminate()
        server.wait(timeout=10)
