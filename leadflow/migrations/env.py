"""Alembic environment for the CRM schema.

`leadflow.db.upgrade_to_head` hands in an open connection (inside its migration lock); the
`alembic` command line (e.g. `revision --autogenerate`) connects to `LEADFLOW_DATABASE_URL`.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from leadflow.db import include_name, sqlalchemy_url
from leadflow.tools.crm import Base, UtcDateTime

config = context.config


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render the CRM's UTC datetime as the column type it is in the database, so a
    revision does not import application code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_name=include_name,
        render_item=render_item,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from leadflow.settings import Settings

    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
