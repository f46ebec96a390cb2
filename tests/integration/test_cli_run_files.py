"""`leadflow run` on the files users actually have: the real CLI (typer's CliRunner in this
process, a real pseudo-terminal for the live bar), real files in tmp_path, a real SQLite CRM."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from leadflow.cli import app
from leadflow.data.synthetic import synthetic_leads

GERMAN_CSV = "Vorname,Nachname,E-Mail,Firma\nJürgen,Müller,jm@firma.de,Müller & Söhne GmbH\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LEADFLOW_DATABASE_URL", "LEADFLOW_CHECKPOINT_DB", "LEADFLOW_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEADFLOW_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def leadflow(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def outcomes(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def lines_of(text: str, prefix: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_a_cp1252_csv_keeps_its_names_and_the_guess_is_said_and_flagged(
        home: Path, tmp_path: Path) -> None:
    source, out = tmp_path / "messe.csv", tmp_path / "out.jsonl"
    source.write_bytes(GERMAN_CSV.encode("cp1252"))
    result = leadflow("run", "-i", str(source), "--out", str(out), "--no-progress")
    assert result.exit_code == 0, result.output
    [warning] = lines_of(result.stderr, "warning:")
    assert "not UTF-8" in warning and "cp1252" in warning and "Müller" in warning
    [outcome] = outcomes(out)
    assert outcome["contact"]["first_name"] == "Jürgen"  # type: ignore[index]
    assert outcome["contact"]["last_name"] == "Müller"  # type: ignore[index]
    assert "\ufffd" not in json.dumps(outcome, ensure_ascii=False)
    assert "encoding_guessed:cp1252" in outcome["flags"]  # type: ignore[operator]


def test_a_csv_with_no_contact_column_is_one_error_line_and_exit_1(home: Path,
                                                                   tmp_path: Path) -> None:
    source, out = tmp_path / "badges.csv", tmp_path / "out.jsonl"
    source.write_text("Name,Organisation,Notes\nAna,X,hi\nBo,Y,yo\nCy,Z,ok\n", encoding="utf-8")
    result = leadflow("run", "-i", str(source), "--out", str(out), "--no-progress")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1  # one line, not a manual-review item per row
    assert result.stderr.startswith("error:") and "no contact column" in result.stderr
    assert "'Name', 'Organisation', 'Notes'" in result.stderr
    assert "Email" in result.stderr and "Phone" in result.stderr
    assert "runs:" not in result.stdout and not out.exists()


def test_a_pretty_printed_json_array_in_a_jsonl_file_runs_its_items(home: Path,
                                                                    tmp_path: Path) -> None:
    items = [{"source": "web_form", "payload": {"email": "ana@lima.com.br",
                                                "company": "Lima Logística"}},
             {"source": "web_form", "payload": {"email": "bo@ek.se", "company": "Ek AB"}}]
    source, out = tmp_path / "leads.jsonl", tmp_path / "out.jsonl"
    source.write_text(json.dumps(items, indent=2, ensure_ascii=False), encoding="utf-8")
    result = leadflow("run", "-i", str(source), "--out", str(out), "--no-progress")
    assert result.exit_code == 0, result.output
    assert [o["contact"]["email"] for o in outcomes(out)] == ["ana@lima.com.br",  # type: ignore[index]
                                                               "bo@ek.se"]
    assert all(o["status"] != "manual_review" for o in outcomes(out))


def test_a_typo_in_input_leaves_an_existing_out_as_it_was(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "outcomes.jsonl"
    out.write_text('{"lead_id": "LEAD-yesterday"}\n', encoding="utf-8")
    result = leadflow("run", "-i", str(tmp_path / "leads.jsnol"), "--out", str(out),
                      "--no-progress")
    assert result.exit_code == 1
    [error] = lines_of(result.stderr, "error:")
    assert "leads.jsnol" in error and "No such file" in error
    assert out.read_text(encoding="utf-8") == '{"lead_id": "LEAD-yesterday"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "outcomes.jsonl"]


@pytest.mark.slow
def test_out_is_replaced_only_when_the_batch_ends(tmp_path: Path) -> None:
    """Killed mid-batch (kill -9), yesterday's --out is still whole and the outcomes so far
    are in OUT.partial; the same command again finishes and replaces --out."""
    items = synthetic_leads(30, prefix="PART")
    source, out = tmp_path / "leads.jsonl", tmp_path / "outcomes.jsonl"
    partial = tmp_path / "outcomes.jsonl.partial"
    source.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    out.write_text('{"lead_id": "LEAD-yesterday"}\n', encoding="utf-8")
    env = {**os.environ, "LEADFLOW_HOME": str(tmp_path / "home")}
    for name in ("LEADFLOW_DATABASE_URL", "LEADFLOW_CHECKPOINT_DB", "LEADFLOW_MODEL"):
        env.pop(name, None)
    command = [sys.executable, "-m", "leadflow.cli", "run", "-i", str(source), "--out",
               str(out), "--no-progress"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while (not partial.exists() or partial.read_text(encoding="utf-8").count("\n") < 5) \
            and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 5 <= partial.read_text(encoding="utf-8").count("\n") < len(items)
    assert out.read_text(encoding="utf-8") == '{"lead_id": "LEAD-yesterday"}\n'
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert [o["source_id"] for o in outcomes(out)] == [i["id"] for i in items]
    assert not partial.exists()


def test_a_run_stopped_at_start_up_leaves_out_and_no_partial(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source, out = tmp_path / "leads.jsonl", tmp_path / "outcomes.jsonl"
    source.write_text(json.dumps(synthetic_leads(1)[0]) + "\n", encoding="utf-8")
    out.write_text('{"lead_id": "LEAD-yesterday"}\n', encoding="utf-8")
    monkeypatch.setenv("LEADFLOW_DATABASE_URL", "nosuchdb://nowhere/crm")
    result = leadflow("run", "-i", str(source), "--out", str(out), "--no-progress")
    assert result.exit_code == 2  # the start-up checks' code for a misconfiguration
    assert out.read_text(encoding="utf-8") == '{"lead_id": "LEAD-yesterday"}\n'
    assert not (tmp_path / "outcomes.jsonl.partial").exists()


@pytest.mark.parametrize("case", ["same file as -i", "a directory"])
def test_an_out_that_cannot_be_the_outcomes_is_one_error(home: Path, tmp_path: Path,
                                                         case: str) -> None:
    source = tmp_path / "leads.jsonl"
    text = "".join(json.dumps(i) + "\n" for i in synthetic_leads(1))
    source.write_text(text, encoding="utf-8")
    out = source if case == "same file as -i" else tmp_path
    result = leadflow("run", "-i", str(source), "--out", str(out), "--no-progress")
    assert result.exit_code == 1
    [error] = lines_of(result.stderr, "error:")
    assert "--out" in error and ("also an input" in error or "is a directory" in error)
    assert source.read_text(encoding="utf-8") == text


def test_run_without_out_says_where_the_outcomes_are(home: Path, tmp_path: Path) -> None:
    source = tmp_path / "leads.jsonl"
    source.write_text(json.dumps(synthetic_leads(1)[0]) + "\n", encoding="utf-8")
    result = leadflow("run", "-i", str(source), "--no-progress")
    assert result.exit_code == 0, result.output
    [where] = lines_of(result.stdout, "outcomes are in the CRM")
    assert f"sqlite:///{(home / 'crm.db').resolve()}" in where
    assert "`leadflow leads list`" in where and "--out FILE" in where
    lead_id = re.search(r"leadflow leads show (LEAD-[0-9a-f]+)", where)
    assert lead_id is not None
    shown = leadflow("leads", "show", lead_id.group(1))  # what it says to run shows the lead
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["contact"]["email"] == "kofi.eze.syn0@northwind-analytics.com"


@pytest.mark.parametrize(("name", "content", "why"), [
    ("leads.jsonl", "", "empty file"),
    ("badges.csv", "First Name,Email\n", "a header line and no rows"),
])
def test_an_input_with_no_items_says_so_and_exits_1(home: Path, tmp_path: Path, name: str,
                                                    content: str, why: str) -> None:
    source, out = tmp_path / name, tmp_path / "out.jsonl"
    source.write_text(content, encoding="utf-8")
    result = leadflow("run", "-i", str(source), "--out", str(out), "--no-progress")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"warning: {source}: no items ({why})",
                                          "error: no items to process"]
    assert "runs:" not in result.stdout and not out.exists()


def test_an_empty_file_beside_good_ones_is_a_warning_and_the_rest_runs(home: Path,
                                                                       tmp_path: Path) -> None:
    empty, good = tmp_path / "empty.jsonl", tmp_path / "good.jsonl"
    empty.write_text("", encoding="utf-8")
    good.write_text(json.dumps(synthetic_leads(1)[0]) + "\n", encoding="utf-8")
    result = leadflow("run", "-i", str(empty), "-i", str(good), "--no-progress")
    assert result.exit_code == 0, result.output
    assert lines_of(result.stderr, "warning:") == [f"warning: {empty}: no items (empty file)"]
    assert "runs: processed 1" in result.stdout


PLAIN = re.compile(r"^leads (\d+)/20 \((\d+)%\)  \d+\.\d leads/s  "
                   r"(ETA \d+:\d\d:\d\d|done in \d+:\d\d:\d\d)$")


def test_run_says_what_it_reads_first_then_rate_and_eta_lines_when_not_a_terminal(
        home: Path, tmp_path: Path) -> None:
    source = tmp_path / "leads.jsonl"
    source.write_text("".join(json.dumps(i) + "\n" for i in synthetic_leads(20)),
                      encoding="utf-8")
    result = leadflow("run", "-i", str(source))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"reading {source}…"
    progress = [m for m in map(PLAIN.match, result.stdout.splitlines()) if m]
    assert [int(m.group(1)) for m in progress] == list(range(2, 21, 2))  # every tenth
    assert all(m.group(3).startswith("ETA") for m in progress[:-1])
    assert progress[-1].group(3).startswith("done in")
    quiet = leadflow("run", "-i", str(source), "--no-progress")  # read back, no progress
    assert not any(map(PLAIN.match, quiet.stdout.splitlines()))


def test_run_on_a_terminal_shows_a_live_bar_with_rate_and_eta(tmp_path: Path) -> None:
    source = tmp_path / "leads.jsonl"
    source.write_text("".join(json.dumps(i) + "\n" for i in synthetic_leads(12)),
                      encoding="utf-8")
    env = {**os.environ, "LEADFLOW_HOME": str(tmp_path / "home"), "COLUMNS": "160"}
    for name in ("LEADFLOW_DATABASE_URL", "LEADFLOW_CHECKPOINT_DB", "LEADFLOW_MODEL",
                 "TTY_COMPATIBLE", "TTY_INTERACTIVE", "FORCE_TERMINAL"):
        env.pop(name, None)
    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "leadflow.cli", "run", "-i", str(source)],
                            stdin=terminal, stdout=terminal, stderr=terminal, env=env)
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed when the process ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert proc.wait(timeout=120) == 0, shown.decode(errors="replace")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode(errors="replace"))
    frames = [f for f in re.split(r"[\r\n]", text) if f.startswith("leads ")]
    assert any(re.search(r"\d+/12 +\d+\.\d leads/s .*ETA \d+:\d\d:\d\d", f) for f in frames)
    assert any("12/12" in f for f in frames)
    assert text.lstrip().startswith(f"reading {source}…")
