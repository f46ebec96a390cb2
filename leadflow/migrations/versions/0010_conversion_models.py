"""models and lead_scores: conversion models trained on the CRM's history, and their scores

`leadflow model train` stores each model (pickled bytes with their sha256, metrics, features,
status shadow/promoted/retired); every lead settled while a model exists gets a row in
`lead_scores` per model that scored it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('models',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('trained_through', sa.DateTime(timezone=True), nullable=False),
    sa.Column('horizon_days', sa.Float(), nullable=False),
    sa.Column('n_train', sa.Integer(), nullable=False),
    sa.Column('n_test', sa.Integer(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('features', sa.JSON(), nullable=False),
    sa.Column('artefact', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('replaces', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_index(op.f('ix_models_status'), 'models', ['status'], unique=False)
    op.create_table('lead_scores',
    sa.Column('lead_id', sa.String(length=40), nullable=False),
    sa.Column('model_version', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('priority', sa.String(length=1), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('lead_id', 'model_version')
    )


def downgrade() -> None:
    op.drop_table('lead_scores')
    op.drop_index(op.f('ix_models_status'), table_name='models')
    op.drop_table('models')
