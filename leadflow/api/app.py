"""The FastAPI application behind `leadflow serve`: routes, the LangServe-style graph
surface, the dashboard, and the guards, around one compiled graph with a checkpointer."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from langgraph.checkpoint.base import BaseCheckpointSaver

from leadflow.api.graph_surface import LeadGraphRunnable
from leadflow.api.routes import router
from leadflow.api.security import BodySizeLimit, install_error_handlers, require_api_key
from leadflow.api.service import LeadService
from leadflow.checkpoint import open_checkpointer as open_app_checkpointer
from leadflow.settings import Settings
from leadflow.toolbox import Toolbox

log = logging.getLogger(__name__)
CheckpointerFactory = Callable[[], AbstractAsyncContextManager[BaseCheckpointSaver[Any]]]


@dataclass(frozen=True)
class ApiSettings:
    api_key: str
    max_body_bytes: int = 1_048_576
    concurrency: int = 8
    drain_seconds: float = 10.0
    distributed: bool = False  # hand leads to `leadflow worker`s (Celery) instead

    @classmethod
    def from_env(cls) -> ApiSettings:
        key = os.environ.get("LEADFLOW_API_KEY", "")
        if not key:
            raise RuntimeError("LEADFLOW_API_KEY is not set: the API refuses to start without "
                               "a key (put one in .env; every route but /healthz needs it)")
        return cls(api_key=key,
                   max_body_bytes=int(os.environ.get("LEADFLOW_API_MAX_BODY_BYTES", 1_048_576)),
                   concurrency=int(os.environ.get("LEADFLOW_API_CONCURRENCY", 8)),
                   distributed=os.environ.get("LEADFLOW_DISTRIBUTED", "") in ("1", "true"))


def create_app(settings: Settings | None = None, api: ApiSettings | None = None, *,
               tools: Toolbox | None = None,
               checkpointer: CheckpointerFactory | None = None) -> FastAPI:
    """The app; `tools` and `checkpointer` let tests bring a frozen clock or a temp DB."""
    from leadflow.graph import build_graph

    settings = settings or Settings.from_env()
    api = api or ApiSettings.from_env()
    open_checkpointer = checkpointer or (lambda: open_app_checkpointer(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        toolbox = tools or Toolbox.open(settings.database_url, kb_dir=settings.kb_dir)
        async with open_checkpointer() as saver:
            graph = build_graph(saver, toolbox=toolbox, timeout_scale=settings.timeout_scale)
            service = LeadService(graph, toolbox, concurrency=api.concurrency,
                                  context={"model": settings.model},
                                  distributed=api.distributed)
            app.state.service = service
            resumed = await service.resume_intake()
            if resumed:
                log.info("resuming %d leads accepted before the last shutdown", resumed)
            try:
                yield
            finally:
                await service.drain(api.drain_seconds)
        if tools is None:
            toolbox.crm.close()

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
