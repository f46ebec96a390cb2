"""`leadflow serve`, `dashboard` and `worker`: the long-running processes."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer

from leadflow.cli.access import ready
from leadflow.cli.app import app
from leadflow.cli.terminal import console, err
from leadflow.settings import Settings


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
) -> None:
    """The HTTP API, the LangServe-style /graph routes and the dashboard (needs
    LEADFLOW_API_KEY)."""
    import uvicorn

    from leadflow.settings import ApiSettings

    try:
        ApiSettings.from_env()
    except RuntimeError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    ready(Settings.from_env())
    uvicorn.run("leadflow.api.asgi:app", host=host, port=port, workers=workers,
                proxy_headers=False, server_header=False)


@app.command()
def dashboard(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535,
                                      help="0: any free port (the URL printed names it)")]
    = 8050,
) -> None:
    """Only the sales-ops dashboard (SPEC §9 charts) over the configured CRM; no API key, so
    keep it on localhost — `leadflow serve` puts the same page behind the API key."""
    import uvicorn

    from leadflow.dashboard import create_app
    from leadflow.preflight import masked

    if host not in ("127.0.0.1", "localhost", "::1"):
        err.print(f"[yellow]warning:[/yellow] the dashboard has no authentication and "
                  f"listens on {host}")
    crm = masked(ready(Settings.from_env(), models=False).database_url)
    # Bound here, before the URL is printed, so the URL names the port really listened on.
    try:
        sock = socket.create_server((host, port), family=socket.AF_INET6 if ":" in host
                                    else socket.AF_INET, reuse_port=False)
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot listen on {host}:{port}: {exc.strerror}")
        raise typer.Exit(code=1) from exc
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    console.print(f"dashboard: http://{shown}:{bound}/dashboard  (CRM {crm})", highlight=False,
                  soft_wrap=True)
    server = uvicorn.Server(uvicorn.Config(create_app(), host=host, port=bound,
                                           server_header=False))
    server.run(sockets=[sock])


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="worker processes (prefork)")] = 1,
    name: Annotated[str | None, typer.Option(help="node name (default: leadflow-<pid>@host)")]
    = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "INFO",
) -> None:
    """A Celery worker that processes leads sent by `run --distributed` or the API
    (broker: LEADFLOW_BROKER_URL; database: LEADFLOW_DATABASE_URL, PostgreSQL to share)."""
    from leadflow.worker import QUEUE, celery_app

    ready(Settings.from_env())

    celery_app.worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}",
                            "--pool=prefork", "-Q", QUEUE, "--without-gossip",
                            "--without-mingle", "-n", name or f"leadflow-{os.getpid()}@%h"])
