"""The lead graph: state, supervisor, workflow loader, `build_graph()` and `graph`.

Attributes load lazily so `leadflow.graph.state` can be imported by the agents without
building the graph.
"""

from typing import Any

__all__ = ["build_graph", "graph"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from leadflow.graph import build

        return getattr(build, name)
    raise AttributeError(name)
