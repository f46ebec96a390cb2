"""The sales-ops dashboard (SPEC §9): one page of charts over `leadflow.metrics`.

`router` is mounted by the full API (`leadflow serve`) and by `create_app()`, the small app
behind `leadflow dashboard`."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from secure.middleware import SecureASGIMiddleware

from leadflow.dashboard.deps import get_toolbox
from leadflow.dashboard.headers import DASHBOARD_HEADERS
from leadflow.dashboard.routes import router
from leadflow.toolbox import Toolbox


def create_app(tools: Toolbox | None = None) -> FastAPI:
    """An app with just the dashboard; `tools` pins its CRM (tests, `leadflow dashboard`).
    HEAD is answered wherever GET is, and every answer has the dashboard's security
    headers."""
    from leadflow.api.guards import HeadAsGet

    app = FastAPI(title="leadflow dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        return RedirectResponse("/dashboard")

    if tools is not None:
        app.dependency_overrides[get_toolbox] = lambda: tools
    app.add_middleware(HeadAsGet)
    app.add_middleware(SecureASGIMiddleware, secure=DASHBOARD_HEADERS)
    return app


__all__ = ["create_app", "get_toolbox", "router"]
