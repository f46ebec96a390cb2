"""HTTP API (`leadflow serve`): FastAPI routes, a LangServe-style graph surface, the
dashboard; API-key auth on everything but /healthz (settings: `leadflow.settings.ApiSettings`)."""

from leadflow.api.app import create_app

__all__ = ["create_app"]
