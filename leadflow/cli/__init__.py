"""`leadflow` command line (typer + rich). `app` is the entry point; importing the command
modules registers their commands on it, in the order `leadflow --help` lists them."""
# ruff: noqa: I001, F401 — the import order is the help's order; imports register commands

from leadflow.cli.app import app
from leadflow.cli import (batch, leads, review, report, followup, notify, evals, db, erasure,
                          serve, graph, watch, simulate, model, whatif,
                          weekly, rep_queue, sync)
from leadflow.cli.terminal import console

__all__ = ["app", "console"]
