"""The progress `leadflow run` prints when its output is not a terminal (a log, a pipe, CI):
plain lines with the rate and the time left, written through a real rich Console."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from leadflow.cli import progress
from leadflow.cli.progress import BatchProgress

LINE = re.compile(r"^leads (\d+)/(\d+) \((\d+)%\)  (\d+\.\d) leads/s  "
                  r"(ETA \d+:\d\d:\d\d|done in \d+:\d\d:\d\d)$")


def run(total: int, enabled: bool = True) -> list[str]:
    out = io.StringIO()
    console = Console(file=out, width=60)  # a file: not a terminal
    with BatchProgress(total, console, enabled=enabled) as bar:
        for _ in range(total):
            bar.advance("routed")
    return out.getvalue().splitlines()


def test_a_line_at_every_tenth_of_the_batch_and_at_the_end() -> None:
    lines = run(1000)
    matched = [LINE.match(line) for line in lines]
    assert all(matched), lines
    assert [int(m.group(1)) for m in matched if m] == list(range(100, 1001, 100))
    assert lines[-1].startswith("leads 1000/1000 (100%)") and "done in" in lines[-1]


def test_a_line_at_least_every_interval_in_a_slow_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)  # every interval has passed
    assert len(run(25)) == 25


def test_nothing_with_no_progress() -> None:
    assert run(50, enabled=False) == []
