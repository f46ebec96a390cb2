"""leads.rep_id (the current owner), and the page indexes: each filter combination, then
(ingested_at, id)

`leads list` / GET /leads page newest first by (ingested_at, id) with a keyset cursor; every
combination of status, tier and rep leads an index that ends in those two columns, so a page
reads limit + 1 entries of one index in order. They replace 0003's (status, ingested_at),
(tier, ingested_at) and (ingested_at), their prefixes (0001's (status) and (tier) stay:
narrower for counting by status or tier).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 11:50:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# as tools/crm/schema.py declares them at this revision (a migration keeps its own copy)
PAGE_INDEXES = {
    'ix_leads_arrival': [], 'ix_leads_status_arrival': ['status'],
    'ix_leads_tier_arrival': ['tier'], 'ix_leads_rep_arrival': ['rep_id'],
    'ix_leads_status_tier_arrival': ['status', 'tier'],
    'ix_leads_rep_status_arrival': ['rep_id', 'status'],
    'ix_leads_rep_tier_arrival': ['rep_id', 'tier'],
    'ix_leads_rep_status_tier_arrival': ['rep_id', 'status', 'tier']}
OLD_INDEXES = {'ix_leads_ingested_at': ['ingested_at'],
               'ix_leads_status_ingested': ['status', 'ingested_at'],
               'ix_leads_tier_ingested': ['tier', 'ingested_at']}


def upgrade() -> None:
    # a nullable column: a plain ALTER TABLE … ADD COLUMN on SQLite too, no table copy
    op.add_column('leads', sa.Column('rep_id', sa.String(length=64), nullable=True))
    # the owner so far: the assignment's rep (one assignment a lead; a reassignment moves it)
    op.execute("UPDATE leads SET rep_id = (SELECT a.rep_id FROM assignments a "
               "WHERE a.lead_id = leads.id) "
               "WHERE EXISTS (SELECT 1 FROM assignments a WHERE a.lead_id = leads.id)")
    for old in OLD_INDEXES:
        op.drop_index(old, table_name='leads', if_exists=True)
    for name, columns in PAGE_INDEXES.items():
        op.create_index(name, 'leads', [*columns, 'ingested_at', 'id'])


def downgrade() -> None:
    for name in reversed(PAGE_INDEXES):
        op.drop_index(name, table_name='leads')
    for old, columns in OLD_INDEXES.items():
        op.create_index(old, 'leads', columns)
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('rep_id')
