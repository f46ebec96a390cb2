"""Deterministic synthetic web-form leads over the bundled companies, for benchmarks and
large-batch tests (the hand-written samples are for the demo and unit tests). The person
names are shared with the market simulator (`leadflow.sim.leads`)."""

from __future__ import annotations

import random
from typing import Any

from leadflow.tools.knowledge_base import bundled_profiles

FIRST_NAMES = ["Ana", "Ben", "Chen", "Dara", "Elif", "Femi", "Goran", "Hana", "Ivan", "Jade",
               "Kofi", "Lena", "Mateo", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sven", "Tara",
               "Uma", "Vik"]
LAST_NAMES = ["Alves", "Brandt", "Costa", "Dubois", "Eze", "Fischer", "Gupta", "Haddad", "Ito",
              "Jensen", "Kowalski", "Lopez", "Mensah", "Novak", "Okafor", "Park", "Rossi", "Silva"]
_TITLES = ["CTO", "VP of Operations", "Director of IT", "Head of Data", "Sales Manager",
           "Data Analyst", "CFO", "Marketing Director", "Software Engineer", "COO"]
_MESSAGES = [
    "Our current system is failing and we need to replace it urgently. Budget approved: $120k."
    " We want to sign this month.",
    "We are evaluating tools to automate lead routing, ideally live next quarter.",
    "Looking for pricing for about 40 seats; we plan to decide within 6 months.",
    "Just curious how this works, no timeline yet.",
    "Interested in a demo. We need to consolidate our CRM data this quarter.",
    "Student researching sales tools for my thesis.",
]


def synthetic_leads(count: int, seed: int = 7, prefix: str = "SYN") -> list[dict[str, Any]]:
    rng = random.Random(seed)
    profiles = bundled_profiles()
    items = []
    for n in range(count):
        company = profiles[n % len(profiles)]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        items.append({
            "id": f"{prefix}-{n:06d}",
            "source": "web_form",
            "received_at": "2026-11-24T09:00:00Z",
            "payload": {
                "First Name": first, "Last Name": last,
                "Work Email": f"{first.lower()}.{last.lower()}.{prefix.lower()}{n}"
                              f"@{company['domain']}",
                "Company": company["name"], "Job Title": rng.choice(_TITLES),
                "Country": company["country"], "message": rng.choice(_MESSAGES),
            },
        })
    return items
