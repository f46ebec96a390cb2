"""What the lead did and what was written to it: engagement events (once per lead, event
and moment) and the first-outreach drafts, credited with the best engagement that followed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update

from leadflow.tools.crm.base import StoreBase, dialect_insert
from leadflow.tools.crm.outreach_styles import bump, iso_week, reward_sent_draft
from leadflow.tools.crm.schema import EngagementEvent, OutreachDraftRow


class EngagementStore(StoreBase):
    """Engagement events and outreach drafts."""

    def record_event(self, lead_id: str, event_type: str, at: datetime,
                     payload: Mapping[str, Any] | None = None) -> bool:
        """One row per (lead, event, moment): a replayed resume records nothing twice."""
        with self.transaction() as conn:
            return self._insert_ignore(conn, EngagementEvent.__table__, {
                "dedupe_key": f"{lead_id}:{event_type}:{at.isoformat()}",
                "lead_id": lead_id, "event_type": event_type, "occurred_at": at,
                "payload": dict(payload) if payload else None})

    def events_for(self, lead_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(EngagementEvent.__table__)
                                .where(EngagementEvent.lead_id == lead_id)
                                .order_by(EngagementEvent.occurred_at)).mappings().all()
        return [dict(r) for r in rows]

    def store_drafts(self, lead_id: str, contest: Mapping[str, Any], now: datetime) -> None:
        """The variants, once: `chosen` marks the one sent (with `choice`, why: the outreach
        bandit's record), `judge_reasons` the judge's pick (`judge_pick`, else the sent one);
        the first store counts the send for its segment, style and week."""
        judged = contest.get("judge_pick") or contest["chosen"]
        choice = contest.get("choice")
        with self.transaction() as conn:
            if conn.execute(select(OutreachDraftRow.id)
                            .where(OutreachDraftRow.lead_id == lead_id).limit(1)).first():
                return  # a replayed step: the drafts and the send are stored already
            conn.execute(dialect_insert(conn)(OutreachDraftRow).on_conflict_do_nothing(), [{
                "lead_id": lead_id, "style": style, "subject": draft["subject"][:500],
                "body": draft["body"], "written_by": contest["written_by"][style],
                "chosen": style == contest["chosen"],
                "judge_reasons": contest["reasons"] if style == judged else None,
                "choice": choice if style == contest["chosen"] else None,
                "created_at": now} for style, draft in contest["variants"].items()])
            if choice:
                bump(conn, choice.get("segment") or "unknown", contest["chosen"],
                     iso_week(now), sent=1)

    def sent_choice(self, lead_id: str) -> dict[str, Any] | None:
        """The stored choice of the lead's sent first email (a resumed step reuses it)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(OutreachDraftRow.choice)
                               .where(OutreachDraftRow.lead_id == lead_id,
                                      OutreachDraftRow.chosen.is_(True))).first()
        return dict(row.choice) if row is not None and row.choice else None

    def credit_outreach(self, lead_id: str, event: str, rank: Mapping[str, int]) -> None:
        """Keep the best engagement that followed the chosen draft, and its reward for the
        outreach bandit's counts."""
        with self.transaction() as conn:
            reward_sent_draft(conn, lead_id, event)
            row = conn.execute(select(OutreachDraftRow.id, OutreachDraftRow.engagement)
                               .where(OutreachDraftRow.lead_id == lead_id,
                                      OutreachDraftRow.chosen.is_(True))).first()
            if row is not None and rank.get(event, 0) >= rank.get(row.engagement or "", 0):
                conn.execute(update(OutreachDraftRow).where(OutreachDraftRow.id == row.id)
                             .values(engagement=event))

    def outreach_results(self) -> list[dict[str, Any]]:
        """Per style and furthest stage the lead reached after the first email: the leads,
        and how many of them were lost in the end (`closed_lost` at any stage: a draft is
        credited with the best stage only, so a lead lost after a reply still reads
        `replied`)."""
        lost = (select(EngagementEvent.id)
                .where(EngagementEvent.lead_id == OutreachDraftRow.lead_id,
                       EngagementEvent.event_type == "closed_lost").exists())
        lost_not_won = case((lost & OutreachDraftRow.engagement.is_distinct_from("closed_won"),
                             1), else_=0)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(OutreachDraftRow.style, OutreachDraftRow.engagement, func.count(),
                       func.sum(lost_not_won))
                .where(OutreachDraftRow.chosen.is_(True))
                .group_by(OutreachDraftRow.style, OutreachDraftRow.engagement)).all()
        return [{"style": s, "engagement": e, "leads": int(n), "lost": int(k or 0)}
                for s, e, n, k in rows]

    def drafts_for(self, lead_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(OutreachDraftRow.__table__)
                                .where(OutreachDraftRow.lead_id == lead_id)
                                .order_by(OutreachDraftRow.style)).mappings().all()
        return [dict(r) for r in rows]
