"""Servers the tests and benchmarks start in another process listen on a port the OS picks
(port 0) and say which one; `announced` reads it back from what they print. (Finding a
free port, releasing it and handing the number to a server later is a race that a second
run of the suite, or anything else on the machine, can win.)"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

# What uvicorn logs once it listens (the real port, also when it was asked for port 0).
UVICORN = re.compile(r"Uvicorn running on (http://\S+:\d+)")


def announced(proc: subprocess.Popen[bytes], log: Path, pattern: re.Pattern[str],
              timeout_s: float) -> re.Match[str]:
    """Wait until `log` (where `proc` writes) has a line matching `pattern`; polled, with a
    deadline, failing at once if the process exits first."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = log.read_text(errors="replace") if log.exists() else ""
        if (found := pattern.search(text)) is not None:
            return found
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited ({proc.returncode}):\n{text[-3000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{proc.args!r} did not say where it listens within "
                               f"{timeout_s:.0f} s:\n{text[-3000:]}")
        time.sleep(0.1)
