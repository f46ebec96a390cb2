"""HTTP API (`leadflow serve`): FastAPI routes, a LangServe-style graph surface, the
dashboard; API-key auth on everything but /healthz."""

from leadflow.api.app import ApiSettings, create_app

__all__ = ["ApiSettings", "create_app"]
