"""MEDDIC's rules (icp.yaml `meddic:`), typed: six criteria with their bands and signals.

The second qualification framework (SPEC §4.3), chosen per run. Each criterion has the same
shape as a BANT one (`Criterion`: bands strongest first, `*_phrases` lists, other settings);
the total of the six is scaled to 0–100 and takes icp.yaml's `tiers`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from leadflow.config import CONFIG_DIR, Band, Criterion, read_yaml

MEDDIC_CRITERIA = ("metrics", "economic_buyer", "decision_criteria", "decision_process",
                   "identify_pain", "champion")
# The band names the rules proposer and the prompt speak, strongest first; icp.yaml sets
# their score ranges.
MEDDIC_BANDS = {
    "metrics": ("quantified", "stated_goal", "implied", "none"),
    "economic_buyer": ("is_contact", "engaged", "reachable", "unknown"),
    "decision_criteria": ("explicit", "some", "implied", "unknown"),
    "decision_process": ("defined", "partial", "vague", "unknown"),
    "identify_pain": ("critical", "clear", "mild", "none"),
    "champion": ("strong", "potential", "weak", "none"),
}


class MeddicRules(BaseModel):
    """The six MEDDIC criteria, in MEDDIC order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    criteria: dict[str, Criterion]

    def __getitem__(self, name: str) -> Criterion:
        return self.criteria[name]

    @property
    def max_points(self) -> int:
        """The sum of the six strongest bands' maxima: the raw total that scales to 100."""
        return sum(max(b.high for b in c.bands) for c in self.criteria.values())

    def scaled(self, points: int) -> int:
        """A raw total on the 0–100 scale of the tiers (half up, clamped)."""
        top = self.max_points
        return max(0, min(100, (points * 200 + top) // (2 * top))) if top else 0


def _criterion(name: str, spec: Any) -> Criterion:
    where = f"icp.yaml meddic.{name}"
    if not isinstance(spec, dict) or not isinstance(spec.get("bands"), dict) or not spec["bands"]:
        raise ValueError(f"{where}: needs a `bands` mapping (name: [low, high], strongest first)")
    if tuple(spec["bands"]) != MEDDIC_BANDS[name]:
        raise ValueError(f"{where}.bands: expected {', '.join(MEDDIC_BANDS[name])} (strongest "
                         f"first), got {', '.join(map(str, spec['bands']))}")
    bands = []
    for band, limits in spec["bands"].items():
        if (not isinstance(limits, list | tuple) or len(limits) != 2
                or not all(isinstance(v, int) for v in limits) or not 0 <= limits[0] <= limits[1]):
            raise ValueError(f"{where}.bands.{band}: {limits!r} is not [low, high] with "
                             "0 <= low <= high")
        bands.append(Band(name=band, low=limits[0], high=limits[1]))
    phrases = {k: tuple(str(p) for p in v) for k, v in spec.items() if k.endswith("_phrases")}
    settings = {k: v for k, v in spec.items() if k != "bands" and not k.endswith("_phrases")}
    return Criterion(name=name, bands=tuple(bands), phrases=phrases, settings=settings)


def load_meddic(path: Path | None = None) -> MeddicRules:
    """The `meddic:` section of icp.yaml; a clear error names what is missing or wrong."""
    raw = read_yaml(path or CONFIG_DIR / "icp.yaml").get("meddic")
    if not isinstance(raw, dict):
        raise ValueError("icp.yaml has no `meddic:` section (the MEDDIC framework's rules)")
    missing = [name for name in MEDDIC_CRITERIA if name not in raw]
    unknown = [name for name in raw if name not in MEDDIC_CRITERIA]
    if missing or unknown:
        raise ValueError("icp.yaml meddic: " + "; ".join(filter(None, (
            f"missing {', '.join(missing)}" if missing else "",
            f"unknown {', '.join(unknown)}" if unknown else ""))))
    return MeddicRules(criteria={name: _criterion(name, raw[name]) for name in MEDDIC_CRITERIA})


@cache
def meddic_rules() -> MeddicRules:
    """The bundled MEDDIC rules, parsed once per process."""
    return load_meddic()
