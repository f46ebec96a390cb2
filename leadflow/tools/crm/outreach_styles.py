"""The first-email styles' running counts per segment, style and week of sending
(`outreach_style_counts`): moved in the transaction that stores a sent draft or records its
reward, so the outreach bandit reads its posteriors in one small grouped query and the
report reads the traffic by week, never scanning the leads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from leadflow.events import REPLY_EVENTS
from leadflow.tools.crm.base import StoreBase, dialect_insert
from leadflow.tools.crm.schema import OutreachDraftRow, OutreachStyleCount


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def bump(conn: Connection, segment: str, style: str, week: str, **deltas: int) -> None:
    """Add `deltas` (sent, replies, no_replies) to one (segment, style, week) row."""
    conn.execute(dialect_insert(conn)(OutreachStyleCount).values(
        segment=segment, style=style, week=week, sent=0, replies=0, no_replies=0)
        .on_conflict_do_nothing())
    table = OutreachStyleCount
    conn.execute(update(table).where(table.segment == segment, table.style == style,
                                     table.week == week)
                 .values({getattr(table, k): getattr(table, k) + v for k, v in deltas.items()}))


def reward_sent_draft(conn: Connection, lead_id: str, event: str) -> None:
    """The sent draft's reward after `event`: 1 at its first reply (or later stage), 0 when
    the lead is lost before one; counted once (the row keeps it), a late reply after a loss
    moves the count from no reply to reply."""
    reward = 1 if event in REPLY_EVENTS else 0 if event == "closed_lost" else None
    if reward is None:
        return
    row = conn.execute(select(OutreachDraftRow.id, OutreachDraftRow.style,
                              OutreachDraftRow.choice, OutreachDraftRow.reward,
                              OutreachDraftRow.created_at)
                       .where(OutreachDraftRow.lead_id == lead_id,
                              OutreachDraftRow.chosen.is_(True))).first()
    if row is None or not row.choice or (row.reward is not None and row.reward >= reward):
        return
    conn.execute(update(OutreachDraftRow).where(OutreachDraftRow.id == row.id)
                 .values(reward=reward))
    deltas = {"replies": 1, **({"no_replies": -1} if row.reward == 0 else {})} if reward \
        else {"no_replies": 1}
    bump(conn, row.choice.get("segment") or "unknown", row.style, iso_week(row.created_at),
         **deltas)


class OutreachStyleStore(StoreBase):
    """Reads of the running counts."""

    def style_counts(self, segment: str) -> dict[str, tuple[int, int]]:
        """style → (replies, no replies) of the first emails sent to `segment`'s leads."""
        table = OutreachStyleCount
        with self.engine.connect() as conn:
            rows = conn.execute(select(table.style, func.sum(table.replies),
                                       func.sum(table.no_replies))
                                .where(table.segment == segment)
                                .group_by(table.style)).all()
        return {style: (int(r or 0), int(n or 0)) for style, r, n in rows}

    def style_count_rows(self) -> list[dict[str, Any]]:
        """Every (segment, style, week) row: what `leadflow report outreach` shows."""
        table = OutreachStyleCount.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).order_by(table.c.week, table.c.segment,
                                                       table.c.style)).mappings().all()
        return [dict(r) for r in rows]

    def sent_choices(self) -> dict[str, dict[str, Any]]:
        """lead id → the sent draft's `choice` record, for every lead that got a first email
        (evaluators: the simulator's regret)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(OutreachDraftRow.lead_id, OutreachDraftRow.choice)
                                .where(OutreachDraftRow.chosen.is_(True))).all()
        return {lead_id: dict(choice) for lead_id, choice in rows if choice}
