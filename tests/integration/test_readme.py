"""The README's Mermaid diagram is the compiled graph's."""

from __future__ import annotations

import re
from pathlib import Path

from leadflow.graph import graph

README = Path(__file__).parents[2] / "README.md"


def test_readme_mermaid_matches_the_compiled_graph() -> None:
    block = re.search(r"<!-- graph:start -->\n```mermaid\n(.*?)\n```\n<!-- graph:end -->",
                      README.read_text(), re.DOTALL)
    assert block, "README lost its graph block"
    assert block.group(1).strip() == graph.get_graph().draw_mermaid().strip(), (
        "README graph is stale: run `.venv/bin/leadflow graph --readme README.md`")


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text()
    assert text.index("make demo") < text.index("make test") < text.index("## Using it")
