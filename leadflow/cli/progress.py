"""How far a batch is, while it runs: on a terminal a bar with leads/s and the time left; in a
log or a pipe (no terminal to redraw) one plain line at every tenth of the batch and at least
every PLAIN_EVERY_S seconds; nothing with --no-progress."""

from __future__ import annotations

import time
from datetime import timedelta
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

PLAIN_EVERY_S = 10.0


class _Speed(ProgressColumn):
    """Leads per second over rich's recent window (the whole run's rate once finished)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("— leads/s" if speed is None else f"{speed:.1f} leads/s",
                    style="progress.data.speed")


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))


class BatchProgress:
    """`advance(status)` after every lead; a context manager around the batch."""

    def __init__(self, total: int, console: Console, enabled: bool = True) -> None:
        self.total, self.console, self.enabled = total, console, enabled
        self.done = 0
        self.started = self.last_line = time.monotonic()
        self.next_tenth = 1
        self.bar: Progress | None = None
        if enabled and console.is_terminal:
            self.bar = Progress(TextColumn("[bold]leads"), BarColumn(), MofNCompleteColumn(),
                                _Speed(), TimeElapsedColumn(), TextColumn("ETA"),
                                TimeRemainingColumn(), TextColumn("{task.description}"),
                                console=console)
            self.task = self.bar.add_task("", total=total)

    def __enter__(self) -> BatchProgress:
        self.started = self.last_line = time.monotonic()
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.bar is not None:
            self.bar.stop()

    def line(self) -> str:
        """'leads 12/40 (30%)  3.1 leads/s  ETA 0:00:09' from the run's average rate."""
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = self.total - self.done
        eta = _clock(left / rate) if rate and left else ("done in " + _clock(elapsed)
                                                          if not left else "—")
        share = 100 * self.done // self.total if self.total else 100
        return (f"leads {self.done}/{self.total} ({share}%)  {rate:.1f} leads/s  "
                + (eta if eta.startswith("done") else f"ETA {eta}"))

    def advance(self, status: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=status)
            return
        if not self.enabled:
            return
        now = time.monotonic()
        tenth = 10 * self.done // self.total if self.total else 10
        if tenth >= self.next_tenth or now - self.last_line >= PLAIN_EVERY_S \
                or self.done == self.total:
            self.next_tenth = tenth + 1
            self.last_line = now
            self.console.print(self.line(), highlight=False, soft_wrap=True)
