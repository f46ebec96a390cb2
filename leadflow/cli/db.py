"""`leadflow db`: the database schema (Alembic migrations)."""

from __future__ import annotations

import typer

from leadflow.cli.app import app
from leadflow.cli.terminal import console
from leadflow.settings import Settings

db_app = typer.Typer(help="The database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate LEADFLOW_DATABASE_URL to the latest schema (CRM, and checkpoints on PostgreSQL)."""
    import asyncio

    from leadflow.checkpoint import open_checkpointer
    from leadflow.cli.access import ready
    from leadflow.db import head_revision, is_postgres
    from leadflow.tools.crm import CrmStore

    settings = ready(Settings.from_env(), models=False)
    crm = CrmStore(settings.database_url)  # opening migrates
    crm.close()
    if is_postgres(settings.database_url):  # the checkpointer's tables live there too
        async def setup_checkpoints() -> None:
            async with open_checkpointer(settings):
                pass
        asyncio.run(setup_checkpoints())
    console.print(f"CRM schema: {crm.migrated_from or 'empty'} → {head_revision()} (head)")


@db_app.command("current")
def db_current() -> None:
    """Show the database's schema revision and the latest one; exit 1 when behind."""
    from sqlalchemy import create_engine

    from leadflow.cli.access import ready
    from leadflow.db import current_revision, head_revision, sqlalchemy_url

    engine = create_engine(sqlalchemy_url(ready(Settings.from_env(), models=False).database_url))
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    finally:
        engine.dispose()
    console.print(f"current: {current or 'none'}\nhead: {head_revision()}")
    if current != head_revision():
        raise typer.Exit(code=1)
