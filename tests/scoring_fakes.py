"""Hand-built histories for the conversion-scoring tests: leads with a known pattern (a
campaign and a seniority that convert more, a BANT total that says a little), so a model has
something the rules' total does not have."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from leadflow.scoring.features import Example, routing_features

START = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
CAMPAIGNS = {"spring_webinar": 1.6, "partner_referral": 0.6, "cold_list": -1.4}
SENIORITY = {"c_level": 0.8, "vp": 0.4, "manager": -0.4}


def lead_record(*, campaign: str = "spring_webinar", seniority: str = "vp",
                industry: str = "healthcare", segment: str = "mid_market",
                region: str = "NA", employees: int | None = 900,
                arrived: datetime = START, channel: str = "web_form") -> dict[str, Any]:
    """A lead record as the pipeline stores it (contact, company, source)."""
    return {
        "contact": {"first_name": "Ines", "last_name": "Varga", "email": "ines@example.org",
                    "phone": None, "title": "Head of Data", "seniority": seniority,
                    "department": "data"},
        "company": {"name": "Example Org", "industry": industry, "employees": employees,
                    "country": "US", "region": region, "segment": segment,
                    "tech_stack": ["Snowflake", "Excel"]},
        "source": {"channel": channel, "campaign": campaign,
                   "received_at": arrived.isoformat()},
        "inquiry": "We would like to talk about our reporting.",
    }


def qualification(total: int, tier: str = "warm") -> dict[str, Any]:
    """An outcome record's `bant` with this total split over the four criteria."""
    part = total // 4
    scores = {"budget": part, "authority": part, "need": part, "timeline": total - 3 * part}
    return {"framework": "BANT", "total": total, "tier": tier,
            **{c: {"score": s, "band": "some", "evidence": ""} for c, s in scores.items()}}


def history(n: int, *, seed: int = 1, hours_apart: float = 6.0) -> list[Example]:
    """n labelled leads, one every `hours_apart`, whose conversion depends mostly on the
    campaign and the seniority (which the BANT total does not weigh) and a little on it."""
    rng = random.Random(seed)
    out: list[Example] = []
    for i in range(n):
        campaign = rng.choice(list(CAMPAIGNS))
        seniority = rng.choice(list(SENIORITY))
        total = rng.randint(45, 95)
        arrived = START + timedelta(hours=hours_apart * i)
        z = -0.6 + CAMPAIGNS[campaign] + SENIORITY[seniority] + (total - 70) / 40
        label = rng.random() < 1 / (1 + math.exp(-z))
        bant = qualification(total, "hot" if total >= 80 else "warm")
        features = routing_features(lead_record(campaign=campaign, seniority=seniority,
                                                arrived=arrived), bant, ["freemail"],
                                    arrived=arrived, routed_to="rep-1",
                                    target_tech=["Snowflake"],
                                    routing_flags=["freemail"])
        out.append(Example(lead_id=f"L{i:04d}", arrived_at=arrived, features=features,
                           baseline=float(total), label=label))
    return out
