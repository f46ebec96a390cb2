"""The workflow definition (workflow.yaml, SPEC §5) as typed objects the supervisor follows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leadflow.config import CONFIG_DIR, read_yaml

END = "end"
AGENT_MODULES = ("capture", "enrichment", "qualification", "routing", "followup")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: object) -> float | None:
    """'2m' → 120.0, '24h' → 86400.0, 30 → 30.0, None → None."""
    if value is None:
        return None
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"bad duration {value!r}; use e.g. 90s, 2m, 1h")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


@dataclass(frozen=True)
class Transition:
    goto: str
    when: dict[str, tuple[str, ...]] | None = None
    flag: str | None = None

    def matches(self, facts: dict[str, Any]) -> bool:
        return not self.when or all(
            str(facts.get(key)) in values for key, values in self.when.items()
        )


@dataclass(frozen=True)
class Step:
    name: str
    agent: str
    timeout_s: float | None
    on_success: tuple[Transition, ...]
    on_failure: tuple[Transition, ...]
    on_duplicate: tuple[Transition, ...]
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Action:
    """A supervisor disposition that settles the lead in one SPEC §6 status."""

    name: str
    status: str
    message_type: str
    queue: str | None = None
    notify: str | None = None
    set_tier: str | None = None
    assign_to: str | None = None
    deadline_s: float | None = None
    review: bool = False  # pause for a person (interrupt) after queueing
    wait: str | None = None  # "engagement": wait (interrupt) for events and sweeps

    def reason_for(self, step: Mapping[str, Any]) -> str:
        """Why the lead is disposed of: the last step's error, else its notes, else the
        action's own name."""
        return str(step.get("error") or step.get("notes") or self.name)


@dataclass(frozen=True)
class Workflow:
    start: str
    steps: dict[str, Step]
    actions: dict[str, Action]
    source: str = ""

    def step_for_agent(self, agent: str) -> Step | None:
        return next((s for s in self.steps.values() if s.agent == agent), None)

    def next_transition(self, step: str, outcome: str, facts: dict[str, Any]) -> Transition:
        spec = self.steps[step]
        rules = {"success": spec.on_success, "failure": spec.on_failure,
                 "duplicate": spec.on_duplicate}[outcome]
        for rule in rules:
            if rule.matches(facts):
                return rule
        return Transition(goto=END)

    def targets(self, step: str) -> tuple[str, ...]:
        spec = self.steps[step]
        return tuple(dict.fromkeys(
            t.goto for t in (*spec.on_success, *spec.on_failure, *spec.on_duplicate)
        ))


def _transitions(raw: object, where: str) -> tuple[Transition, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (Transition(goto=raw),)
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ValueError(f"workflow {where}: expected a step name, a mapping or a list")
    out = []
    for rule in raw:
        if not isinstance(rule, dict) or "goto" not in rule:
            raise ValueError(f"workflow {where}: every rule needs a `goto`")
        when = rule.get("when")
        out.append(Transition(
            goto=str(rule["goto"]),
            when={k: tuple(str(x) for x in (v if isinstance(v, list) else [v]))
                  for k, v in when.items()} if when else None,
            flag=rule.get("flag"),
        ))
    return tuple(out)


def load_workflow(path: Path | str | None = None) -> Workflow:
    """Parse and validate workflow.yaml; every error names the offending key."""
    path = Path(path) if path else CONFIG_DIR / "workflow.yaml"
    raw = read_yaml(path)
    steps: dict[str, Step] = {}
    for name, spec in (raw.get("steps") or {}).items():
        agent = spec.get("agent", name)
        if agent not in AGENT_MODULES:
            raise ValueError(f"workflow steps.{name}: unknown agent {agent!r}")
        steps[name] = Step(
            name=name,
            agent=agent,
            timeout_s=parse_duration(spec.get("timeout")),
            on_success=_transitions(spec.get("on_success"), f"steps.{name}.on_success"),
            on_failure=_transitions(spec.get("on_failure"), f"steps.{name}.on_failure"),
            on_duplicate=_transitions(spec.get("on_duplicate", END),
                                      f"steps.{name}.on_duplicate"),
            settings={k: v for k, v in spec.items() if k not in (
                "agent", "timeout", "on_success", "on_failure", "on_duplicate")},
        )
    actions = {
        name: Action(
            name=name,
            status=spec["status"],
            message_type=spec.get("message_type", "escalation"),
            queue=spec.get("queue"),
            notify=spec.get("notify"),
            set_tier=spec.get("set_tier"),
            assign_to=spec.get("assign_to"),
            deadline_s=parse_duration(spec.get("deadline")),
            review=bool(spec.get("review", False)),
            wait=spec.get("wait"),
        )
        for name, spec in (raw.get("actions") or {}).items()
    }
    workflow = Workflow(start=raw.get("start", "capture"), steps=steps, actions=actions,
                        source=str(path))
    known = set(steps) | set(actions) | {END}
    if workflow.start not in steps:
        raise ValueError(f"workflow start {workflow.start!r} is not a step")
    for name in steps:
        for target in workflow.targets(name):
            if target not in known:
                raise ValueError(f"workflow steps.{name}: unknown target {target!r}")
    if set(steps) & set(actions):
        raise ValueError("workflow: a name cannot be both a step and an action")
    return workflow
