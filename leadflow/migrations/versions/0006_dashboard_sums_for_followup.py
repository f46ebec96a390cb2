"""dashboard sums for follow-up, workload and conversion; indexes the dashboard reads

The running sums (metric_totals, metric_values, lead_facts) now also carry each lead's
follow-up clock, first-touch wait, engagement events and rep (leadflow/facts.py). They are
derived data: this revision empties them, and the first dashboard read rebuilds them from
the stored outcomes (`backfill_facts`), once.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 12:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("resolved_at IS NULL")


def upgrade() -> None:
    op.drop_index('ix_metric_values_sample', table_name='metric_values')
    op.create_index('ix_metric_values_sample', 'metric_values',
                    ['name', 'key', 'sample', 'value'])
    op.create_index('ix_queue_items_open', 'queue_items', ['queue', 'created_at'],
                    sqlite_where=OPEN, postgresql_where=OPEN, if_not_exists=True)
    for table in ('lead_facts', 'metric_values', 'metric_totals'):
        op.execute(sa.text(f'DELETE FROM {table}'))


def downgrade() -> None:
    op.drop_index('ix_queue_items_open', table_name='queue_items')
    op.drop_index('ix_metric_values_sample', table_name='metric_values')
    op.create_index('ix_metric_values_sample', 'metric_values', ['name', 'key', 'sample'])
    for table in ('lead_facts', 'metric_values', 'metric_totals'):  # rebuilt on first read
        op.execute(sa.text(f'DELETE FROM {table}'))
