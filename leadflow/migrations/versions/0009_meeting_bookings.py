"""meeting_bookings: a rep's meeting slot taken by a lead, unique per (rep, slot start)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 15:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('meeting_bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rep_id', sa.String(length=64), nullable=False),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('slot_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lead_id', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('event_uid', sa.String(length=200), nullable=False),
    sa.Column('event_url', sa.String(length=1000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('rep_id', 'slot_start', name='uq_meeting_bookings_rep_slot')
    )
    op.create_index(op.f('ix_meeting_bookings_lead_id'), 'meeting_bookings', ['lead_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_meeting_bookings_lead_id'), table_name='meeting_bookings')
    op.drop_table('meeting_bookings')
