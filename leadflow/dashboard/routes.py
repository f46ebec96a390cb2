"""The dashboard's routes: the page, its static files (shipped in the package, no CDN) and
the metrics snapshot it polls."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import HTMLResponse, Response

from leadflow.dashboard.deps import get_toolbox
from leadflow.metrics import snapshot
from leadflow.toolbox import Toolbox

router = APIRouter(tags=["dashboard"])
# Chart.js 4.6.1 (MIT), vendored from npm's `chart.js` dist/chart.umd.min.js with its
# source-map comment removed; chart.LICENSE.md is its licence, served next to it.
STATIC_TYPES = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "chart.umd.min.js": "text/javascript; charset=utf-8",
    "chart.LICENSE.md": "text/markdown; charset=utf-8",
}


@cache
def static_text(name: str) -> str:
    return resources.files("leadflow.dashboard").joinpath("static", name).read_text("utf-8")


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page() -> HTMLResponse:
    """The sales-ops page; it fetches data.json itself (`?refresh=N` seconds, default 30)."""
    return HTMLResponse(static_text("dashboard.html"), headers={"Cache-Control": "no-cache"})


@router.get("/dashboard/static/{name}", response_class=Response, responses={
    200: {"description": "the asset", "content": {
        kind.split(";")[0]: {"schema": {"type": "string"}} for kind in STATIC_TYPES.values()}},
    404: {"description": "no such asset"}})
def dashboard_static(name: Annotated[str, Path(json_schema_extra={
        "enum": sorted(STATIC_TYPES)})]) -> Response:
    """The page's script, style sheet and vendored Chart.js; only these names, nothing else
    from disk."""
    media_type = STATIC_TYPES.get(name)
    if media_type is None:
        raise HTTPException(404, "not found")
    return Response(static_text(name), media_type=media_type,
                    headers={"Cache-Control": "no-cache"})


# A sync route: FastAPI runs it in its thread pool, so the SQL never blocks the event loop.
@router.get("/dashboard/data.json")
def dashboard_data(tools: Annotated[Toolbox, Depends(get_toolbox)],
                   response: Response) -> dict[str, Any]:
    """Every SPEC §9 metric as of now (see leadflow.metrics.DashboardMetrics); never
    stored by a cache (it names the leads waiting for review)."""
    response.headers["Cache-Control"] = "no-store"
    metrics = snapshot(tools.crm, tools.reps, tools.clock.now(), rules=tools.icp)
    return metrics.model_dump(mode="json")
