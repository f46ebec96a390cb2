"""The FastAPI application behind `leadflow serve`: routes, the LangServe-style graph
surface, the dashboard, and the guards, around one compiled graph with a checkpointer."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI

from leadflow.api.graph_surface import LeadGraphRunnable
from leadflow.api.guards import (
    API_HEADERS,
    DOCS_HEADERS,
    BodySizeLimit,
    HeadAsGet,
    HeaderSizeLimit,
    SecurityHeaders,
)
from leadflow.api.routes import ERRORS, router
from leadflow.api.security import ApiKeyGuard, install_error_handlers, json_body
from leadflow.api.service import LeadService
from leadflow.dashboard.headers import DASHBOARD_HEADERS
from leadflow.settings import ApiSettings, Settings

if TYPE_CHECKING:  # the runtime (graph, agents, knowledge base) loads when the app starts
    from leadflow.runtime import CheckpointerFactory
    from leadflow.toolbox import Toolbox

log = logging.getLogger(__name__)
# One server-sent event of /graph/stream, as LangServe sends them: `metadata` (the run id),
# `data` (a JSON chunk: {"node": …} per step, then {"outcome": …}), `error`, `end`.
STREAM_EVENT = {"type": "object", "required": ["event"], "properties": {
    "event": {"type": "string", "enum": ["metadata", "data", "error", "end"]},
    "data": {"type": "string", "description": "the chunk, JSON-encoded"}}}


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
    # the last added runs first: headers on every answer, then the size limits and the key
    app.add_middleware(BodySizeLimit, max_bytes=api.max_body_bytes)
    app.add_middleware(ApiKeyGuard, expected=api.api_key, failures=api.auth_failures,
                       window_s=api.auth_window_s)
    app.add_middleware(HeadAsGet)
    app.add_middleware(HeaderSizeLimit, max_bytes=api.max_header_bytes)
    app.add_middleware(SecurityHeaders, default=API_HEADERS,
                       by_prefix={"/dashboard": DASHBOARD_HEADERS, "/docs": DOCS_HEADERS,
                                  "/redoc": DOCS_HEADERS})
    _document_honestly(app)
    return app


def _document_honestly(app: FastAPI) -> None:
    """The OpenAPI document as the app answers:

    - A query string has no null: an optional filter is simply left out. FastAPI documents
      `status: Status | None = None` as `anyOf: [enum, null]`, which invites clients (and
      schemathesis) to send `?status=null`; document the non-null branch instead.
    - The guards' answers (401, 413, 422, 429, 431) can come from every route, the
      LangServe routes included; /graph/stream answers with an event stream."""
    from fastapi.openapi.utils import get_openapi

    from leadflow.api.schemas import Problem

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version,
                                   description=app.description, routes=app.routes)
            problem = {"content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/Problem"}}}}
            document.setdefault("components", {}).setdefault("schemas", {}).setdefault(
                "Problem", Problem.model_json_schema())
            for route, path in document.get("paths", {}).items():
                for operation in path.values():
                    for param in operation.get("parameters", []):
                        schema = param.get("schema", {})
                        options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
                        if param.get("in") == "query" and len(options) == 1:
                            param["schema"] = {**{k: v for k, v in schema.items()
                                                  if k != "anyOf"}, **options[0]}
                        elif param.get("in") == "query" and options:  # `since`: 3 kinds
                            param["schema"] = {**schema, "anyOf": options}
                    responses = operation.setdefault("responses", {})
                    if route.startswith("/graph/"):  # LangServe's 422s may be plain text
                        responses.pop("422", None)
                    for status, spec in ERRORS.items():
                        responses.setdefault(str(status), {
                            "description": spec["description"], **problem})
                    if route == "/graph/stream" and "200" in responses:
                        responses["200"]["content"] = {"text/event-stream": {
                            "schema": STREAM_EVENT}}
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_graph_routes(app: FastAPI) -> None:
    from langserve import add_routes

    add_routes(app, LeadGraphRunnable(lambda: app.state.service), path="/graph",
               enabled_endpoints=["invoke", "batch", "stream", "input_schema",
                                  "output_schema", "config_schema"],
               dependencies=[Depends(json_body)])  # a body that is not JSON: 422


def _add_dashboard(app: FastAPI) -> None:
    """The sales-ops dashboard, reading the same CRM as the API."""
    from leadflow.dashboard import router as dashboard_router
    from leadflow.dashboard.deps import get_toolbox

    app.include_router(dashboard_router)
    app.dependency_overrides[get_toolbox] = lambda: app.state.service.tools
