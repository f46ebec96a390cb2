"""Simulated inbound leads: who writes, from which company, through which channel, when, and
what they say, drawn from the market (`market.yaml`) with one random stream per lead, so a
lead depends only on (seed, its number), never on the order anything else was drawn in.

Each lead is an input item in the format `leadflow run` reads (SPEC §8: web_form, email,
chat or event payload) plus its ground truth: the true BANT levels the text was written from,
the hidden attributes and the noise draw of its propensity."""

from __future__ import annotations

import calendar
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from leadflow.clock import iso
from leadflow.config import icp
from leadflow.data.synthetic import FIRST_NAMES, LAST_NAMES
from leadflow.sim.market import BANT_CRITERIA, Market
from leadflow.tools.knowledge_base import bundled_profiles


@dataclass
class SimLead:
    index: int          # the lead's number in the run (0-based), the key of its random streams
    arrival: datetime
    item: dict[str, Any]  # the input item, as `leadflow run` reads it
    truth: dict[str, Any] = field(default_factory=dict)


def stream(seed: int, *key: object) -> random.Random:
    """An independent random stream for (seed, key…): str seeds hash with SHA-512, stable
    across processes and Python versions."""
    return random.Random(":".join(str(k) for k in (seed, *key)))


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


@cache
def _companies_by_region() -> dict[str, tuple[dict[str, Any], ...]]:
    rules = icp()
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for profile in bundled_profiles():
        grouped[rules.region_for(profile.get("country"))].append(profile)
    return {region: tuple(profiles) for region, profiles in grouped.items()}


def _segment(employees: int | None) -> str:
    if employees is None:
        return "unknown"
    return "smb" if employees < 200 else "mid_market" if employees < 2000 else "enterprise"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def daily_counts(market: Market, days: int, leads_per_day: int) -> list[int]:
    """Leads per day: `leads_per_day` on average, weekdays `weekday_weight` times a weekend
    day (the first simulated day is `market.start`'s weekday)."""
    start = market.start_at()
    weights = [market.weekday_weight if (start + timedelta(days=d)).weekday() < 5 else 1.0
               for d in range(days)]
    mean = sum(weights) / len(weights) if weights else 1.0
    return [round(leads_per_day * w / mean) for w in weights]


def generate_leads(market: Market, seed: int, days: int, leads_per_day: int) -> list[SimLead]:
    """Every lead of the run, in arrival order."""
    start = market.start_at()
    leads: list[SimLead] = []
    index = 0
    for day, count in enumerate(daily_counts(market, days, leads_per_day)):
        for _ in range(count):
            leads.append(draw_lead(market, seed, index, start + timedelta(days=day)))
            index += 1
    leads.sort(key=lambda lead: (lead.arrival, lead.index))
    return leads


def draw_lead(market: Market, seed: int, index: int, day: datetime) -> SimLead:
    rng = stream(seed, "lead", index)
    hour = rng.choices(range(24), weights=market.hour_weights)[0]
    arrival = day + timedelta(hours=hour, seconds=rng.randrange(3600))
    channel = _pick(rng, market.channels)
    campaigns = market.campaigns.get(channel) or ()
    campaign = (rng.choices(campaigns, weights=[c.weight for c in campaigns])[0].name
                if campaigns else "direct")
    region = _pick(rng, market.regions)
    company = _company(market, rng, region)
    seniority = _pick(rng, market.seniority)
    title = rng.choice(market.titles[seniority])
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    domain = (rng.choice(market.freemail_domains) if rng.random() < market.freemail_rate
              else company["domain"])
    email = f"{first.lower()}.{last.lower()}.{index}@{domain}"
    levels = {name: _pick(rng, {k: v.weight for k, v in market.bant[name].levels.items()})
              for name in BANT_CRITERIA}
    text, said = _inquiry(market, rng, levels, arrival)
    person = {"first": first, "last": last, "email": email, "title": title}
    item = _item(rng, channel, campaign, person, company, text,
                 f"SIM{seed}-{index:06d}", arrival)
    truth = {
        "channel": channel, "campaign": campaign, "region": region,
        "country": company["country"], "company": company["name"],
        "known_company": company["known"], "industry": company["industry"],
        "employees": company["employees"], "segment": _segment(company["employees"]),
        "seniority": seniority, "title": title, "freemail": domain != company["domain"],
        "levels": levels, "said": said, "noise": rng.gauss(0.0, market.noise_sd),
    }
    return SimLead(index=index, arrival=arrival, item=item, truth=truth)


def _company(market: Market, rng: random.Random, region: str) -> dict[str, Any]:
    known = _companies_by_region().get(region)
    if known and rng.random() >= market.unknown_company_rate:
        profile = rng.choice(known)
        return {"name": profile["name"], "domain": profile["domain"],
                "country": profile["country"], "industry": profile.get("industry") or "other",
                "employees": profile.get("employees"), "known": True}
    made = market.made_up_companies
    word, noun = rng.choice(made.words), rng.choice(made.nouns)
    suffix = rng.choice(made.suffixes)
    countries = sorted({p["country"] for p in known or ()}) or ["US"]
    country = rng.choice(countries)
    industries = sorted(market.hidden.industry)
    return {"name": " ".join(p for p in (word, noun, suffix) if p),
            "domain": f"{_slug(word + noun)}.{'com' if country == 'US' else country.lower()}",
            "country": country, "industry": rng.choice(industries),
            "employees": rng.choice(made.employees), "known": False}


def _inquiry(market: Market, rng: random.Random, levels: dict[str, str],
             arrival: datetime) -> tuple[str, dict[str, bool]]:
    """The lead's text: one sentence per BANT level it chose to mention, in random order."""
    sentences: list[str] = []
    said: dict[str, bool] = {}
    month = calendar.month_name[(arrival.month + 1) % 12 + 1]
    for name in BANT_CRITERIA:
        truth = market.bant[name]
        said[name] = rng.random() >= truth.omit_rate
        if said[name]:
            phrase = rng.choice(truth.levels[levels[name]].phrases)
            sentences.append(phrase.format(amount=f"${rng.choice(market.amounts):,}",
                                           month=month))
    rng.shuffle(sentences)
    return " ".join(sentences) or "Please get in touch.", said


def _item(rng: random.Random, channel: str, campaign: str, person: dict[str, str],
          company: dict[str, Any], text: str, item_id: str,
          arrival: datetime) -> dict[str, Any]:
    full = f"{person['first']} {person['last']}"
    payload: Any
    if channel == "email":
        payload = {"from": f"{full} <{person['email']}>",
                   "subject": rng.choice(["Question about your platform", "Demo request",
                                          "Pricing"]),
                   "body": f"Hello,\n\n{text}\n\nBest regards,\n{full}\n{person['title']}, "
                           f"{company['name']}"}
    elif channel == "chat":
        payload = [
            {"role": "bot", "text": "Hi! What's your name?"},
            {"role": "visitor", "text": full},
            {"role": "bot", "text": "What's your work email?"},
            {"role": "visitor", "text": person["email"]},
            {"role": "bot", "text": "Which company are you with, and what's your role?"},
            {"role": "visitor", "text": f"{company['name']}, {person['title']}"},
            {"role": "bot", "text": "Which country are you in?"},
            {"role": "visitor", "text": company["country"]},
            {"role": "bot", "text": "What are you hoping to achieve?"},
            {"role": "visitor", "text": text},
        ]
    else:
        payload = {"First Name": person["first"], "Last Name": person["last"],
                   "Company": company["name"], "Job Title": person["title"],
                   "Country": company["country"]}
        if channel == "event":
            payload.update({"Email Address": person["email"], "Event": campaign,
                            "Booth notes": text})
        else:
            payload.update({"Work Email": person["email"], "Message": text,
                            "utm_campaign": campaign})
        if not company["known"] and company["employees"] and rng.random() < 0.6:
            payload["Employees"] = str(company["employees"])
    return {"id": item_id, "source": channel, "received_at": iso(arrival), "payload": payload}
