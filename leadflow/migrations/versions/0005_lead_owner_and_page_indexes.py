"""leads.rep_id (the current owner) and the page indexes: (status|tier|rep_id, ingested_at, id)

`leads list` / GET /leads page newest first by (ingested_at, id) with a keyset cursor; each
filter leads an index that ends in those two columns, so a page reads one index in order. They
replace 0003's (status, ingested_at), (tier, ingested_at) and (ingested_at), their prefixes.

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


def upgrade() -> None:
    # a nullable column: a plain ALTER TABLE … ADD COLUMN on SQLite too, no table copy
    op.add_column('leads', sa.Column('rep_id', sa.String(length=64), nullable=True))
    # the owner so far: the assignment's rep (one assignment a lead; a reassignment moves it)
    op.execute("UPDATE leads SET rep_id = (SELECT a.rep_id FROM assignments a "
               "WHERE a.lead_id = leads.id) "
               "WHERE EXISTS (SELECT 1 FROM assignments a WHERE a.lead_id = leads.id)")
    op.drop_index('ix_leads_tier_ingested', table_name='leads', if_exists=True)
    op.drop_index('ix_leads_status_ingested', table_name='leads', if_exists=True)
    op.drop_index('ix_leads_ingested_at', table_name='leads', if_exists=True)
    op.create_index('ix_leads_arrival', 'leads', ['ingested_at', 'id'])
    op.create_index('ix_leads_status_arrival', 'leads', ['status', 'ingested_at', 'id'])
    op.create_index('ix_leads_tier_arrival', 'leads', ['tier', 'ingested_at', 'id'])
    op.create_index('ix_leads_rep_arrival', 'leads', ['rep_id', 'ingested_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_leads_rep_arrival', table_name='leads')
    op.drop_index('ix_leads_tier_arrival', table_name='leads')
    op.drop_index('ix_leads_status_arrival', table_name='leads')
    op.drop_index('ix_leads_arrival', table_name='leads')
    op.create_index('ix_leads_ingested_at', 'leads', ['ingested_at'])
    op.create_index('ix_leads_status_ingested', 'leads', ['status', 'ingested_at'])
    op.create_index('ix_leads_tier_ingested', 'leads', ['tier', 'ingested_at'])
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('rep_id')
