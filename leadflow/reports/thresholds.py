"""Does a tier cut (icp.yaml `tiers`) separate leads that convert differently? The rule, stated
once here and in docs/weekly.md, over the worked leads (routed to a rep) of the trend weeks:

For each cut `c` between two worked tiers, upper U (total ≥ c) and lower L:
- *lower the cut* when the band just under it, B = [c − w, c), converts like U and unlike the
  rest of L: U's rate lies inside B's Wilson interval and B's rate lies above the upper end
  of the interval of L without B;
- *raise the cut* when the band just over it, A = [c, c + w), converts like L and unlike the
  rest of U: L's rate lies inside A's interval and A's rate lies below the lower end of the
  interval of U without A;
- *tiers not separated* when U's and L's intervals overlap (the cut decides who is called
  first, but the data cannot tell the two tiers apart).
Every group a rule compares needs `min_leads` leads, else the finding is "not enough data"
and no recommendation is made. A cut next to a tier that is not worked (its leads go to a
queue, not a rep) cannot be tested from outcomes, and the report says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist


@dataclass(frozen=True)
class Rate:
    """Conversions among leads, with a two-sided Wilson score interval."""

    leads: int
    converted: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        return self.converted / self.leads if self.leads else None

    def contains(self, value: float | None) -> bool:
        return (value is not None and self.low is not None and self.high is not None
                and self.low <= value <= self.high)


def wilson(converted: int, leads: int, confidence: float) -> Rate:
    """The Wilson interval: sound at small counts and near 0 or 1, unlike the normal one."""
    if leads <= 0:
        return Rate(0, 0, None, None)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = converted / leads
    denominator = 1 + z * z / leads
    centre = (p + z * z / (2 * leads)) / denominator
    half = z * math.sqrt(p * (1 - p) / leads + z * z / (4 * leads * leads)) / denominator
    return Rate(leads, converted, max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Scored:
    """One worked lead: its qualification total and whether it converted."""

    total: int
    converted: bool


@dataclass(frozen=True)
class Finding:
    cut: int
    upper: str
    lower: str
    verdict: str  # lower_cut | raise_cut | not_separated | ok | thin_data | untestable
    message: str


def _rate(leads: Sequence[Scored], confidence: float) -> Rate:
    return wilson(sum(lead.converted for lead in leads), len(leads), confidence)


def _pct(rate: Rate) -> str:
    if rate.rate is None or rate.low is None or rate.high is None:
        return f"n={rate.leads}"
    return (f"{rate.rate:.0%} [{rate.low:.0%}–{rate.high:.0%}] "
            f"({rate.converted}/{rate.leads})")


def judge_cuts(tiers: Sequence[tuple[str, int]], worked: Sequence[str], leads: Sequence[Scored],
              *, confidence: float, min_leads: int, band: int) -> list[Finding]:
    """One finding per cut between adjacent tiers (`tiers`: (name, min total), any order)."""
    ordered = sorted(tiers, key=lambda t: -t[1])
    findings = []
    for i in range(len(ordered) - 1):
        (upper, cut), (lower, lower_min) = ordered[i], ordered[i + 1]
        top = ordered[i - 1][1] if i else None  # the upper tier ends where the next begins
        if upper not in worked or lower not in worked:
            idle = " and ".join(t for t in (upper, lower) if t not in worked)
            findings.append(Finding(cut, upper, lower, "untestable",
                                    f"{idle} leads are not worked by a rep: their conversion "
                                    f"is not observed, so the cut at {cut} cannot be tested"))
            continue
        u = [x for x in leads if x.total >= cut and (top is None or x.total < top)]
        lo = [x for x in leads if lower_min <= x.total < cut]
        findings.append(_one_cut(cut, upper, lower, u, lo, confidence, min_leads, band))
    return findings


def _one_cut(cut: int, upper: str, lower: str, u: list[Scored], lo: list[Scored],
             confidence: float, min_leads: int, band: int) -> Finding:
    ru, rl = _rate(u, confidence), _rate(lo, confidence)
    if ru.leads < min_leads or rl.leads < min_leads:
        return Finding(cut, upper, lower, "thin_data",
                       f"not enough data: {upper} n={ru.leads}, {lower} n={rl.leads} "
                       f"(each needs ≥ {min_leads}); no recommendation")
    under = [x for x in lo if x.total >= cut - band]
    rest_lower = [x for x in lo if x.total < cut - band]
    rb, rrl = _rate(under, confidence), _rate(rest_lower, confidence)
    if (rb.leads >= min_leads and rrl.leads >= min_leads and rb.contains(ru.rate)
            and rb.rate is not None and rrl.high is not None and rb.rate > rrl.high):
        return Finding(cut, upper, lower, "lower_cut",
                       f"lower the {upper} cut from {cut} to {cut - band}: totals "
                       f"{cut - band}–{cut - 1} convert {_pct(rb)}, like {upper} {_pct(ru)} "
                       f"and above the rest of {lower} {_pct(rrl)}")
    over = [x for x in u if x.total < cut + band]
    rest_upper = [x for x in u if x.total >= cut + band]
    ra, rru = _rate(over, confidence), _rate(rest_upper, confidence)
    if (ra.leads >= min_leads and rru.leads >= min_leads and ra.contains(rl.rate)
            and ra.rate is not None and rru.low is not None and ra.rate < rru.low):
        return Finding(cut, upper, lower, "raise_cut",
                       f"raise the {upper} cut from {cut} to {cut + band}: totals "
                       f"{cut}–{cut + band - 1} convert {_pct(ra)}, like {lower} {_pct(rl)} "
                       f"and below the rest of {upper} {_pct(rru)}")
    if ru.low is not None and rl.high is not None and ru.low <= rl.high:
        return Finding(cut, upper, lower, "not_separated",
                       f"{upper} {_pct(ru)} and {lower} {_pct(rl)} are not separated (their "
                       f"intervals overlap): review what the cut at {cut} rewards")
    return Finding(cut, upper, lower, "ok",
                   f"the cut at {cut} separates {upper} {_pct(ru)} from {lower} {_pct(rl)}")
