"""The lead graph: supervisor, workflow loader, nodes, `build_graph()` and `graph`.

`build_graph` and `graph` load on first access, so importing `leadflow.graph.workflow` (the
CLI, the API) does not compile the module-level graph.
"""

from typing import Any

__all__ = ["build_graph", "graph"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from leadflow.graph import build

        return getattr(build, name)
    raise AttributeError(name)
