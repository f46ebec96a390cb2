"""outreach_style_counts, and outreach_drafts.choice / reward: the outreach bandit's data

The bandit (leadflow/agents/style_choice.py) reads per segment and style how many sent first
emails got a reply and how many were lost without one; the running counts per (segment,
style, ISO week of sending) are moved when a draft is stored and when its reward is known.
The sent draft keeps why it was chosen (`choice`) and its reward. The history already in the
CRM is counted here once: the judge chose those emails, the lead's segment is its record's,
a reply (or a meeting, a win) is a reward of 1, a loss before any is 0.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:00:00

"""

from collections import Counter
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPLY_EVENTS = ("replied", "meeting_booked", "closed_won")  # as leadflow/events.py at 0011


def upgrade() -> None:
    op.create_table('outreach_style_counts',
    sa.Column('segment', sa.String(length=32), nullable=False),
    sa.Column('style', sa.String(length=32), nullable=False),
    sa.Column('week', sa.String(length=10), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('replies', sa.Integer(), nullable=False),
    sa.Column('no_replies', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('segment', 'style', 'week')
    )
    # nullable columns: a plain ALTER TABLE … ADD COLUMN on SQLite too, no table copy
    op.add_column('outreach_drafts', sa.Column('choice', sa.JSON(), nullable=True))
    op.add_column('outreach_drafts', sa.Column('reward', sa.Integer(), nullable=True))
    _count_the_history()


def _count_the_history() -> None:
    """The sent drafts already stored, counted once (in chunks: no lead list in memory)."""
    conn = op.get_bind()
    meta = sa.MetaData()
    drafts = sa.Table('outreach_drafts', meta, autoload_with=conn)
    leads = sa.Table('leads', meta, autoload_with=conn)
    events = sa.Table('events', meta, autoload_with=conn)
    counts: Counter[tuple[str, str, str, str]] = Counter()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(drafts.c.id, drafts.c.lead_id, drafts.c.style, drafts.c.engagement,
                      drafts.c.created_at, leads.c.record)
            .select_from(drafts.outerjoin(leads, leads.c.id == drafts.c.lead_id))
            .where(drafts.c.chosen.is_(True), drafts.c.id > last)
            .order_by(drafts.c.id).limit(2000)).all()
        if not rows:
            break
        last = rows[-1].id
        lost = {lead for (lead,) in conn.execute(
            sa.select(events.c.lead_id).where(events.c.lead_id.in_([r.lead_id for r in rows]),
                                              events.c.event_type == 'closed_lost'))}
        for row in rows:
            segment = ((row.record or {}).get('company') or {}).get('segment') or 'unknown'
            reward = (1 if row.engagement in REPLY_EVENTS
                      else 0 if row.lead_id in lost else None)
            year, week, _ = row.created_at.isocalendar()
            key = (segment, row.style, f"{year}-W{week:02d}")
            counts[(*key, 'sent')] += 1
            if reward is not None:
                counts[(*key, 'replies' if reward else 'no_replies')] += 1
            conn.execute(drafts.update().where(drafts.c.id == row.id).values(
                reward=reward, choice={'style': row.style, 'chosen_by': 'judge',
                                       'judge_pick': row.style, 'segment': segment,
                                       'counted_by_migration': True}))
    table = sa.Table('outreach_style_counts', meta, autoload_with=conn)
    totals: dict[tuple[str, str, str], dict[str, int]] = {}
    for (segment, style, week, column), n in counts.items():
        totals.setdefault((segment, style, week),
                          {'sent': 0, 'replies': 0, 'no_replies': 0})[column] = n
    if totals:
        conn.execute(table.insert(), [{'segment': s, 'style': st, 'week': w, **v}
                                      for (s, st, w), v in totals.items()])


def downgrade() -> None:
    with op.batch_alter_table('outreach_drafts', schema=None) as batch_op:
        batch_op.drop_column('reward')
        batch_op.drop_column('choice')
    op.drop_table('outreach_style_counts')
