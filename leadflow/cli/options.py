"""Options several commands share."""

from __future__ import annotations

from typing import Annotated

import typer

from leadflow.cli.terminal import err
from leadflow.settings import Framework, qualification_framework, set_framework


def _chosen_framework(value: Framework | None) -> Framework:
    """`--framework` becomes the framework of every run this process starts; without it,
    LEADFLOW_FRAMEWORK is checked here, so a wrong value is one line before anything runs."""
    if value:
        set_framework(value)
    try:
        return qualification_framework()
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc


FrameworkOption = Annotated[Framework | None, typer.Option(
    help="qualification framework, bant or meddic (default: LEADFLOW_FRAMEWORK, else bant)",
    callback=_chosen_framework, show_default=False)]
