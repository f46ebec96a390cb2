"""Misconfiguration fails loudly, at once: a model without its key or server, a model name
without its provider, a database that is not there, a notification channel nobody set up.
Each is one line on stderr and a non-zero exit, before any lead is touched; no secret shown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadflow.cli import app
from leadflow.tools.crm import CrmStore
from tests.conftest import form_item
from tests.openai_stub import Reply, openai_stub

SECRET = "sk-test-DO-NOT-PRINT-1234567890"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clean home, no model configuration and no delivery channel from the machine."""
    for name in list(os.environ):
        if name.startswith(("LEADFLOW_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LEADFLOW_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    source = tmp_path / "leads.jsonl"
    source.write_text(json.dumps(form_item("PF-1")) + "\n")
    return source


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def lead_count(home: Path) -> int:
    db = home / "crm.db"
    if not db.exists():
        return 0
    crm = CrmStore(f"sqlite:///{db}")
    try:
        return len(crm.list_leads(limit=1000))
    finally:
        crm.close()


def one_error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines
    return lines[0]


@pytest.fixture
def models_server() -> Iterator[dict[str, Any]]:
    """An OpenAI-compatible server's /v1/models: 401 without the right key, else a list."""
    state: dict[str, Any] = {"key": SECRET, "models": ["served-model"], "auth": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state["auth"].append(self.headers.get("Authorization"))
            ok = self.headers.get("Authorization") == f"Bearer {state['key']}"
            body = (json.dumps({"object": "list", "data": [
                {"id": m, "object": "model", "owned_by": "x"} for m in state["models"]]})
                if ok else json.dumps({"error": {"message": "bad key", "type": "auth"}}))
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()


def test_an_openai_model_without_a_key_stops_before_any_lead(
        env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_MODEL", "openai:gpt-4o-mini")
    result = invoke("run", "-i", str(env), "--no-progress")
    assert result.exit_code == 2
    assert "needs OPENAI_API_KEY" in one_error_line(result)
    assert lead_count(tmp_path / "home") == 0


def test_a_model_name_without_provider_is_refused(env: Path, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_MODEL", "gpt-4o-mini")
    result = invoke("run", "-i", str(env), "--no-progress")
    assert result.exit_code == 2
    assert "expected provider:model" in one_error_line(result)
    assert lead_count(tmp_path / "home") == 0


def test_an_unreachable_model_server_stops_the_run(env: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_MODEL", "openai:gpt-4o-mini")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens
    result = invoke("run", "-i", str(env), "--no-progress")
    assert result.exit_code == 2
    assert "cannot reach the model server at http://127.0.0.1:9/v1" in one_error_line(result)


def test_a_refused_key_is_named_but_never_shown(env: Path, models_server: dict[str, Any],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_MODEL", "openai:served-model")
    monkeypatch.setenv("OPENAI_BASE_URL", models_server["url"])
    monkeypatch.setenv("OPENAI_API_KEY", SECRET + "-wrong")
    result = invoke("run", "-i", str(env), "--no-progress")
    assert result.exit_code == 2
    assert "refused the API key" in one_error_line(result)
    assert SECRET not in result.output + result.stderr
    assert models_server["auth"] == [f"Bearer {SECRET}-wrong"]  # it did ask the server


def test_a_model_the_server_does_not_serve_is_named_with_what_it_offers(
        env: Path, models_server: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_MODEL", "openai:gpt-4o-mini")
    monkeypatch.setenv("OPENAI_BASE_URL", models_server["url"])
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    result = invoke("run", "-i", str(env), "--no-progress")
    assert result.exit_code == 2
    assert "does not serve 'gpt-4o-mini' (it offers: served-model)" in one_error_line(result)
    # the right model passes the check (the leads then run; no completions needed to start)
    monkeypatch.setenv("LEADFLOW_MODEL", "rules")
    monkeypatch.setenv("LEADFLOW_MODEL_QUALIFICATION", "openai:served-model")
    assert invoke("eval", "--dataset", "nope-no-such-set").exit_code == 2  # dataset, not model


BAD_URLS = [
    ("postgresql://postgres:hunter2@127.0.0.1:9/test", "cannot open the database"),
    ("mysql+nodriver://u:hunter2@h/db", "is not a database URL"),
    ("sqlite:///{tmp}/no/such/dir/crm.db", "cannot open the database"),
]


@pytest.mark.parametrize(("url", "expected"), BAD_URLS, ids=["refused", "scheme", "no-dir"])
@pytest.mark.parametrize("command", ["leads list", "queues", "review list", "run",
                                     "notify deliver", "db upgrade"])
def test_a_bad_database_url_is_one_line(env: Path, tmp_path: Path, url: str, expected: str,
                                        command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADFLOW_DATABASE_URL", url.format(tmp=tmp_path))
    args = command.split() + (["-i", str(env), "--no-progress"] if command == "run" else [])
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert expected in one_error_line(result)
    assert "hunter2" not in result.output + result.stderr


@pytest.mark.parametrize("command", ["leads list", "queues", "review list"])
def test_a_file_that_is_not_a_database_is_one_line(env: Path, tmp_path: Path, command: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands that read the CRM through its driver open it, and say so when they
    cannot, in the start-up check's words."""
    garbage = tmp_path / "crm.db"
    garbage.write_text("not a database\n" * 200)
    monkeypatch.setenv("LEADFLOW_DATABASE_URL", f"sqlite:///{garbage}")
    result = invoke(*command.split())
    assert result.exit_code == 2, result.output
    assert one_error_line(result) == (f"error: cannot open the database sqlite:///{garbage}: "
                                      "file is not a database")


def test_a_bad_database_url_is_one_line_from_a_real_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADFLOW_", "OPENAI_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "leadflow.cli", "leads", "list"], capture_output=True, text=True,
        env={**env, "LEADFLOW_DATABASE_URL": BAD_URLS[0][0],
             "LEADFLOW_HOME": str(tmp_path / "home")}, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.count("\n") == 1 and BAD_URLS[0][1] in proc.stderr, proc.stderr[-2000:]
    assert "hunter2" not in proc.stdout + proc.stderr


def test_the_run_summary_counts_fallbacks_and_says_why(env: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with openai_stub([], default=Reply(status=500)) as stub:  # lists no models, fails calls
        monkeypatch.setenv("LEADFLOW_MODEL", "openai:gpt-4o-mini")
        monkeypatch.setenv("OPENAI_BASE_URL", stub.url)
        monkeypatch.setenv("LEADFLOW_LLM_MAX_RETRIES", "0")
        source = env.parent / "two.jsonl"
        source.write_text("".join(json.dumps(form_item(f"FB-{n}", **{
            "Work Email": f"buyer{n}@example-corp{n}.com",
            "message": "We might look at options at some point, not sure about budget."})) + "\n"
            for n in (1, 2)))
        result = invoke("run", "-i", str(source), "--no-progress")
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if "fell back" in line]
    assert len(warning) == 1, result.stderr
    assert "2 of 2 leads fell back to the rules" in warning[0]
    assert "the call failed: 2" in warning[0] and "Error code: 500" in warning[0]


def test_notify_deliver_without_a_channel_says_so_and_delivers_nothing(
        env: Path, tmp_path: Path) -> None:
    assert invoke("run", "-i", str(env), "--no-progress").exit_code == 0
    crm = CrmStore(f"sqlite:///{tmp_path / 'home' / 'crm.db'}")
    try:
        due = [n for n in crm.notifications() if n["channel"] != "console"]
        assert due, "the hot lead's rep and ops are notified by email/webhook"
        result = invoke("notify", "deliver")
        assert result.exit_code == 1
        assert "delivered 0" in result.output
        assert "wait for a channel that is not configured" in result.stderr
        assert "LEADFLOW_SMTP_HOST" in result.stderr or "LEADFLOW_WEBHOOK_URL" in result.stderr
        assert all(n["delivered_at"] is None for n in crm.notifications()
                   if n["channel"] != "console")
    finally:
        crm.close()
