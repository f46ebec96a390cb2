"""Where the dashboard gets its CRM: a FastAPI dependency, so an app can swap it
(`app.dependency_overrides[get_toolbox]`) for the toolbox it already holds."""

from __future__ import annotations

from leadflow.toolbox import Toolbox, toolbox_for


def get_toolbox() -> Toolbox:
    """The process's toolbox for the configured database (settings / environment)."""
    return toolbox_for("")
