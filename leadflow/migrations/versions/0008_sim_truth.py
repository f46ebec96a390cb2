"""sim_truth: the ground truth of simulated leads (`leadflow simulate`)

One row per lead the market simulator made: its latent conversion probabilities, the terms
of its propensity and the furthest stage it reached. Evaluators read it; the pipeline and any
model's features never do.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 15:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sim_truth',
    sa.Column('lead_id', sa.String(length=40), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('p_won_prior', sa.Float(), nullable=False),
    sa.Column('p_won', sa.Float(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('truth', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('lead_id')
    )
    op.create_index(op.f('ix_sim_truth_arrived_at'), 'sim_truth', ['arrived_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sim_truth_arrived_at'), table_name='sim_truth')
    op.drop_table('sim_truth')
