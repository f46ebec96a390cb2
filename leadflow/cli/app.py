"""The root `leadflow` command; each sub-app and command lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(help="leadflow: multi-agent lead management on LangGraph.",
                  no_args_is_help=True, add_completion=False)
