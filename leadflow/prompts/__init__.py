"""Versioned prompt files, one per agent and version: `leadflow/prompts/<agent>/<version>.yaml`.

A prompt file holds the system text (with `{placeholders}` filled from config at run time),
few-shot examples, and the template of the user message. Lead text always goes inside
<lead_data> delimiters: it is data, never instructions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str
    examples: tuple[dict[str, Any], ...]

    def messages(self, **fields: Any) -> list[BaseMessage]:
        """System message (with rendered few-shot examples) + the user message."""
        system = self.system.format(**fields)
        if self.examples:
            shots = "\n\n".join(
                f"Example {n}:\n<lead_data>\n{ex['input'].strip()}\n</lead_data>\n"
                f"Correct output: {json.dumps(ex['output'], ensure_ascii=False)}"
                for n, ex in enumerate(self.examples, start=1)
            )
            system = f"{system}\n\n{shots}"
        return [SystemMessage(system), HumanMessage(self.user.format(**fields))]


def available_versions(name: str) -> list[str]:
    folder = resources.files("leadflow.prompts").joinpath(name)
    if not folder.is_dir():
        return []
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


@cache
def load_prompt(name: str, version: str) -> Prompt:
    """Load `<name>/<version>.yaml`; a clear error lists the versions that exist."""
    path = resources.files("leadflow.prompts").joinpath(name, f"{version}.yaml")
    if not path.is_file():
        raise ValueError(f"no prompt {name!r} version {version!r}; available: "
                         f"{', '.join(available_versions(name)) or 'none'}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Prompt(name=name, version=version, system=raw["system"].strip(),
                  user=raw["user"].strip(), examples=tuple(raw.get("examples") or ()))
