"""How commands reach their data: the CRM, the input files, and the opened runtime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from leadflow.cli.terminal import err
from leadflow.settings import Settings

if TYPE_CHECKING:
    from leadflow.runtime import Runtime
    from leadflow.tools.crm import CrmStore
    from leadflow.tools.crm_reads import CrmReader


def ready(settings: Settings, *, models: bool = True) -> Settings:
    """The start-up checks (the database; with `models`, the run's model and its key): a
    misconfiguration is one line on stderr and exit code 2, before any work."""
    from leadflow.preflight import PreflightError, check_database, preflight

    try:
        if models:
            preflight(settings)
        else:
            check_database(settings.database_url)
    except PreflightError as exc:
        raise fail(str(exc), code=2) from None
    return settings


def fail(message: str, code: int = 1) -> typer.Exit:
    """A mistake of the user's: one `error:` line on stderr, and the exit to raise."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code=code)


def crm_store() -> CrmStore:
    from leadflow.tools.crm import CrmStore

    return CrmStore(ready(Settings.from_env(), models=False).database_url)


def crm_reader() -> CrmReader:
    """The CRM for a command that only shows what is stored (`leads list`, `queues`, `review
    list`): through the database's driver when the CRM is at the head revision, without
    importing SQLAlchemy; else (a new CRM, one to migrate, another kind of URL) opened as
    `crm_store()` opens it, start-up check included. A database that does not open is the
    same one `error:` line either way."""
    from leadflow.tools.crm_reads import CrmUnavailable, open_reader

    url = Settings.from_env().database_url
    try:
        reader = open_reader(url)
    except CrmUnavailable as exc:
        from leadflow.preflight import cannot_open

        raise fail(str(cannot_open(url, exc.__cause__ or exc)), code=2) from None
    return reader if reader is not None else crm_store().reads


def load_items(paths: list[Path]) -> tuple[list[dict[str, Any]], int]:
    """The items of every file, and how many files could not be read. A file that cannot be
    read is one error line and none of its items; what was guessed (an encoding) or missing
    (no items) is one warning line."""
    from leadflow.tools.ingest import UnreadableFile, read_items

    items: list[dict[str, Any]] = []
    bad = 0

    def warn(message: str) -> None:
        err.print(f"[yellow]warning:[/yellow] {escape(message)}", highlight=False)

    for path in paths:
        try:
            items.extend(list(read_items(path, warn)))
        except UnreadableFile as exc:
            err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
            bad += 1
    return items, bad


async def with_runtime(fn: Callable[[Runtime], Awaitable[Any]]) -> Any:
    """Open the configured runtime, call `fn` with it, close it."""
    from leadflow.runtime import open_runtime

    async with open_runtime(ready(Settings.from_env())) as runtime:
        return await fn(runtime)
