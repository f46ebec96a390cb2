"""The FastAPI application behind `leadflow serve`: routes, the LangServe-style graph
surface, the dashboard, and the guards, around one compiled graph with a checkpointer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from leadflow.api.graph_surface import LeadGraphRunnable
from leadflow.api.routes import router
from leadflow.api.security import BodySizeLimit, install_error_handlers, require_api_key
from leadflow.api.service import LeadService
from leadflow.settings import ApiSettings, Settings

if TYPE_CHECKING:  # the runtime (graph, agents, knowledge base) loads when the app starts
    from leadflow.runtime import CheckpointerFactory
    from leadflow.toolbox import Toolbox

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, api: ApiSettings | None = None, *,
               tools: Toolbox | None = None,
               checkpointer: CheckpointerFactory | None = None) -> FastAPI:
    """The app; `tools` and `checkpointer` let tests bring a frozen clock or a temp DB."""
    from leadflow.runtime import open_runtime

    settings = settings or Settings.from_env()
    api = api or ApiSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, tools=tools, checkpointer=checkpointer) as runtime:
            service = LeadService(runtime, concurrency=api.concurrency,
                                  distributed=api.distributed)
            app.state.service = service
            resumed = await service.resume_intake()
            if resumed:
                log.info("resuming %d leads accepted before the last shutdown", resumed)
            try:
                yield
            finally:
                await service.drain(api.drain_seconds)

    app = FastAPI(title="leadflow", version="0.1.0", lifespan=lifespan,
                  description="Multi-agent lead management on LangGraph (SPEC §8). Every route "
                              "but /healthz needs the X-API-Key header.")
    install_error_handlers(app)
    app.include_router(router)
    _add_graph_routes(app)
    _add_dashboard(app)
    require_api_key(app, api.api_key)
    app.add_middleware(BodySizeLimit, max_bytes=api.max_body_bytes)
    _document_query_params_honestly(app)
    return app


def _document_query_params_honestly(app: FastAPI) -> None:
    """A query string has no null: an optional filter is simply left out. FastAPI documents
    `status: Status | None = None` as `anyOf: [enum, null]`, which invites clients (and
    schemathesis) to send `?status=null`; document the non-null branch instead."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version,
                                   description=app.description, routes=app.routes)
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    for param in operation.get("parameters", []):
                        schema = param.get("schema", {})
                        options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
                        if param.get("in") == "query" and len(options) == 1:
                            param["schema"] = {**{k: v for k, v in schema.items()
                                                  if k != "anyOf"}, **options[0]}
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_graph_routes(app: FastAPI) -> None:
    from langserve import add_routes

    add_routes(app, LeadGraphRunnable(lambda: app.state.service), path="/graph",
               enabled_endpoints=["invoke", "batch", "stream", "input_schema",
                                  "output_schema", "config_schema"])


def _add_dashboard(app: FastAPI) -> None:
    """The sales-ops dashboard, reading the same CRM as the API."""
    from leadflow.dashboard import router as dashboard_router
    from leadflow.dashboard.deps import get_toolbox

    app.include_router(dashboard_router)
    app.dependency_overrides[get_toolbox] = lambda: app.state.service.tools
