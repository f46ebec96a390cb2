"""Start-up time of the `leadflow` command: `leadflow --help` and `leadflow leads list` (an
empty, already migrated SQLite CRM) beside a bare `python -c pass`, each run as a fresh
subprocess of the installed `leadflow` entry point. Rounds are interleaved (python, help,
leads list, python, …) so a busy machine slows all three alike; one warm-up round first
(it also creates and migrates the CRM). Prints the medians on one line:

    cli: help=0.41s leads_list=0.62s python=0.02s

    python benchmarks/cli_startup.py [--runs 9]

The target is each command within 0.5 s of bare Python: neither command imports chromadb,
LangChain or LangGraph, and `leads list` on a CRM at the head revision imports neither
Alembic nor SQLAlchemy (tests/unit/test_cli_imports.py checks that, not the time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def leadflow_command() -> list[str]:
    """The `leadflow` console script installed beside this Python (else the one on PATH)."""
    beside = Path(sys.executable).with_name("leadflow")
    found = str(beside) if beside.is_file() else shutil.which("leadflow")
    if found is None:
        sys.exit("error: no `leadflow` command beside this Python or on PATH (pip install -e .)")
    return [found]


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="timed runs of each command")
    args = parser.parse_args()

    leadflow = leadflow_command()
    commands = {"python": [sys.executable, "-c", "pass"],
                "help": [*leadflow, "--help"],
                "leads_list": [*leadflow, "leads", "list"]}
    with tempfile.TemporaryDirectory(prefix="leadflow-cli-bench-") as tmp:
        home = Path(tmp)
        # the configured database and .env stay out of it: a fresh SQLite CRM under `home`
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADFLOW_")}
        env.update(LEADFLOW_HOME=str(home / "home"), COLUMNS="100")
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_ in range(args.runs + 1):
            for name, argv in commands.items():
                seconds = timed(argv, env, home)
                if round_:  # round 0 warms the disk cache and migrates the CRM
                    times[name].append(seconds)
    med = {name: statistics.median(values) for name, values in times.items()}
    print(f"cli: help={med['help']:.2f}s leads_list={med['leads_list']:.2f}s "
          f"python={med['python']:.2f}s")


if __name__ == "__main__":
    main()
