"""erasures: the audit of forgetting a person; leads.erased_at; the indexes an erasure reads

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 05:32:09.284473

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('erasures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('lead_ids', sa.JSON(), nullable=False),
    sa.Column('threads', sa.Integer(), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_erasures_erased_at'), 'erasures', ['erased_at'], unique=False)
    # a nullable column: a plain ALTER TABLE … ADD COLUMN on SQLite too, no table copy
    op.add_column('leads', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_leads_contact_id'), 'leads', ['contact_id'], unique=False)
    op.create_index(op.f('ix_queue_items_lead_id'), 'queue_items', ['lead_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_queue_items_lead_id'), table_name='queue_items')
    op.drop_index(op.f('ix_leads_contact_id'), table_name='leads')
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
    op.drop_index(op.f('ix_erasures_erased_at'), table_name='erasures')
    op.drop_table('erasures')
