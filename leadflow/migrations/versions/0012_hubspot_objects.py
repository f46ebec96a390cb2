"""hubspot_objects: the leadflow record each HubSpot object stands for (`leadflow sync hubspot`)

One row per (object type, leadflow id) with the HubSpot object id, unique per object type
too, and the owner leadflow last wrote or read back.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('hubspot_objects',
    sa.Column('object_type', sa.String(length=16), nullable=False),
    sa.Column('leadflow_id', sa.String(length=64), nullable=False),
    sa.Column('hubspot_id', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('object_type', 'leadflow_id'),
    sa.UniqueConstraint('object_type', 'hubspot_id', name='uq_hubspot_objects_type_hubspot_id')
    )


def downgrade() -> None:
    op.drop_table('hubspot_objects')
