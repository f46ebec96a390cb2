"""`leadflow graph`: the compiled graph as a Mermaid diagram."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from leadflow.cli.app import app
from leadflow.cli.terminal import err

README_GRAPH = re.compile(r"(<!-- graph:start -->\n```mermaid\n)(.*?)(\n```\n<!-- graph:end -->)",
                          re.DOTALL)


@app.command("graph")
def show_graph(
    readme: Annotated[Path | None, typer.Option(help="rewrite this README's graph block")] = None,
) -> None:
    """Print the compiled graph as a Mermaid diagram (or refresh the README's copy)."""
    from leadflow.graph import graph

    mermaid = graph.get_graph().draw_mermaid().strip()
    if readme is None:
        typer.echo(mermaid)
        return
    text = readme.read_text(encoding="utf-8")
    if not README_GRAPH.search(text):
        err.print(f"[red]error:[/red] {readme} has no <!-- graph:start --> block")
        raise typer.Exit(code=1)
    readme.write_text(README_GRAPH.sub(lambda m: m.group(1) + mermaid + m.group(3), text),
                      encoding="utf-8")
