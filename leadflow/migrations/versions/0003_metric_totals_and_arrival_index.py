"""metric totals: dashboard sums kept as leads settle; leads by arrival (and status, tier)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 05:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('metric_totals',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('name', 'key')
    )
    op.create_table('metric_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('lead_id', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('sample', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_metric_values_sample', 'metric_values', ['name', 'key', 'sample'])
    op.create_index('ix_metric_values_value', 'metric_values', ['name', 'key', 'value'])
    op.create_index(op.f('ix_metric_values_lead_id'), 'metric_values', ['lead_id'])
    op.create_table('lead_facts',
    sa.Column('lead_id', sa.String(length=40), nullable=False),
    sa.Column('totals', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('lead_id')
    )
    # a CRM made by create_all before Alembic may have it already
    op.create_index(op.f('ix_leads_ingested_at'), 'leads', ['ingested_at'], if_not_exists=True)
    op.create_index('ix_leads_status_ingested', 'leads', ['status', 'ingested_at'],
                    if_not_exists=True)
    op.create_index('ix_leads_tier_ingested', 'leads', ['tier', 'ingested_at'],
                    if_not_exists=True)


def downgrade() -> None:
    op.drop_index('ix_leads_tier_ingested', table_name='leads')
    op.drop_index('ix_leads_status_ingested', table_name='leads')
    op.drop_index(op.f('ix_leads_ingested_at'), table_name='leads')
    op.drop_table('lead_facts')
    op.drop_index(op.f('ix_metric_values_lead_id'), table_name='metric_values')
    op.drop_index('ix_metric_values_value', table_name='metric_values')
    op.drop_index('ix_metric_values_sample', table_name='metric_values')
    op.drop_table('metric_values')
    op.drop_table('metric_totals')
