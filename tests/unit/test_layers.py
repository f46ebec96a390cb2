"""The import rules of ARCHITECTURE.md: each layer imports only its own layer and those below.

Read from the source with `ast` (every import, including those inside functions and under
TYPE_CHECKING), so a lazy import cannot hide an upward dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "leadflow"

# From the ground floor up; the first prefix that matches a module names its layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("shared types", ("leadflow.settings", "leadflow.clock", "leadflow.config", "leadflow.events",
                      "leadflow.state", "leadflow.context", "leadflow.identity",
                      "leadflow.prompts")),
    ("tools", ("leadflow.db", "leadflow.llm", "leadflow.checkpoint", "leadflow.tools",
               "leadflow.data", "leadflow.migrations")),
    ("toolbox", ("leadflow.toolbox",)),
    ("agents", ("leadflow.agents",)),
    ("graph", ("leadflow.outcome", "leadflow.review", "leadflow.followup", "leadflow.retry",
               "leadflow.repeat", "leadflow.facts", "leadflow.graph",
               "leadflow.meetings", "leadflow.scoring")),
    ("runtime", ("leadflow.runner", "leadflow.runtime", "leadflow.metrics", "leadflow.explain",
                 "leadflow.preflight", "leadflow.inbox",
                 "leadflow.sim", "leadflow.whatif", "leadflow.reports")),
    ("entry points", ("leadflow.cli", "leadflow.api", "leadflow.dashboard", "leadflow.worker",
                      "leadflow.evals")),
]


def layer_of(module: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer: add it to ARCHITECTURE.md and LAYERS")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def leadflow_imports(path: Path) -> set[str]:
    """Every leadflow module this file imports (`from leadflow.x import y` counts as
    leadflow.x.y when that is a module, else leadflow.x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("leadflow"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith("leadflow"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / Path(*sub.split("."))).with_suffix(".py").exists() \
                    or (PACKAGE.parent / Path(*sub.split("."))).is_dir()
                found.add(sub if is_module else node.module)
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations/versions" not in p.as_posix())


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_a_module_imports_only_its_layer_and_below(path: Path) -> None:
    here = module_name(path)
    mine = layer_of(here)
    upward = sorted(m for m in leadflow_imports(path) if layer_of(m) > mine)
    assert not upward, (f"{here} ({LAYERS[mine][0]}) imports from a higher layer: "
                        + ", ".join(f"{m} ({LAYERS[layer_of(m)][0]})" for m in upward))


def test_tools_and_agents_keep_to_their_side() -> None:
    """The rules newcomers trip on, spelled out: tools never reach for the toolbox, the
    graph or the agents; agents never import the graph that runs them."""
    for path in SOURCES:
        here, imported = module_name(path), leadflow_imports(path)
        if here.startswith("leadflow.tools"):
            assert not {m for m in imported if m.startswith(("leadflow.toolbox", "leadflow.graph",
                                                             "leadflow.agents"))}, here
        if here.startswith("leadflow.agents"):
            assert not {m for m in imported if m.startswith("leadflow.graph")}, here


def test_the_layer_check_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself: an upward import in a ground-floor module is found."""
    bad = tmp_path / "state.py"
    bad.write_text("from leadflow.graph.build import build_graph\n", encoding="utf-8")
    imported = leadflow_imports(bad)
    assert "leadflow.graph.build" in imported
    assert max(layer_of(m) for m in imported) > layer_of("leadflow.state")


def test_no_module_is_too_big_to_hold_in_ones_head() -> None:
    sizes = {module_name(p): len(p.read_text(encoding="utf-8").splitlines()) for p in SOURCES}
    assert not {m: n for m, n in sizes.items() if n > 500}


def test_thread_config_is_spelled_out_once() -> None:
    spelled = [module_name(p) for p in SOURCES
               if '{"configurable": {"thread_id"' in p.read_text(encoding="utf-8")]
    assert spelled == ["leadflow.identity"]


def test_settings_is_the_only_reader_of_the_environment() -> None:
    readers = [module_name(p) for p in SOURCES
               if re.search(r"os\.environ|os\.getenv|getenv\(", p.read_text(encoding="utf-8"))]
    assert readers == ["leadflow.settings"]
