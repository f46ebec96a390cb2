"""The configuration a what-if replay runs with: the changed files of a directory, the
current ones for every file it does not hold, read by the same loaders the pipeline uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from leadflow.config import (
    CONFIG_DIR,
    IcpConfig,
    RepDirectoryConfig,
    icp,
    load_icp,
    load_reps,
    model_settings,
    read_yaml,
)
from leadflow.graph.workflow import Workflow, load_workflow
from leadflow.scoring.features import ScoringConfig, load_scoring, scoring_config

# What a replay can change. The other bundled files are read through process-wide caches
# (standardize.yaml, notifications.yaml) or describe the simulator (market.yaml): a changed
# copy of those would be silently ignored, so a directory holding one is refused.
APPLIED = ("icp.yaml", "reps.yaml", "workflow.yaml", "models.yaml", "scoring.yaml")
NOT_APPLIED = ("standardize.yaml", "notifications.yaml", "market.yaml")


@dataclass(frozen=True)
class ReplayConfig:
    """Every piece of configuration the pipeline reads up to routing, plus scoring's."""

    icp: IcpConfig
    reps: RepDirectoryConfig
    workflow: Workflow
    scoring: ScoringConfig
    prompt_version: str
    files: tuple[str, ...] = ()  # the files taken from the directory (empty: all current)
    notes: tuple[str, ...] = ()  # what of a changed file a replay does not apply


def current_config() -> ReplayConfig:
    """The configuration the pipeline runs with now (the bundled files)."""
    return ReplayConfig(icp=icp(), reps=load_reps(), workflow=load_workflow(),
                        scoring=scoring_config(),
                        prompt_version=str(model_settings()["prompt_version"]))


def load_changed(directory: Path) -> ReplayConfig:
    """The configuration with the directory's files in place of the current ones.

    Raises ValueError for a directory that does not exist, holds none of the files a replay
    applies, or holds one it cannot apply (named, with the ones it can)."""
    if not directory.is_dir():
        raise ValueError(f"{directory} is not a directory")
    refused = [name for name in NOT_APPLIED if (directory / name).exists()]
    if refused:
        raise ValueError(f"{', '.join(refused)} in {directory}: a what-if replay cannot apply "
                         f"{'it' if len(refused) == 1 else 'them'} (it applies "
                         f"{', '.join(APPLIED)})")
    files = tuple(name for name in APPLIED if (directory / name).is_file())
    if not files:
        raise ValueError(f"{directory} holds none of {', '.join(APPLIED)}")
    base = current_config()

    def path(name: str) -> Path | None:
        return directory / name if name in files else None

    icp_path, reps_path = path("icp.yaml"), path("reps.yaml")
    workflow_path, scoring_path = path("workflow.yaml"), path("scoring.yaml")
    prompt_version, notes = base.prompt_version, []
    if (models_path := path("models.yaml")) is not None:
        models = read_yaml(models_path)
        prompt_version = str(models.get("prompt_version") or prompt_version)
        ignored = sorted(k for k, v in models.items()
                         if k != "prompt_version" and v != model_settings().get(k))
        if ignored:
            notes.append(f"models.yaml: only prompt_version is replayed; {', '.join(ignored)} "
                         "differ but are read process-wide (set them in "
                         f"{CONFIG_DIR / 'models.yaml'} or the environment)")
    if icp_path is not None and (read_yaml(icp_path).get("meddic")
                                 != read_yaml(CONFIG_DIR / "icp.yaml").get("meddic")):
        notes.append("icp.yaml: the meddic section is read process-wide; a MEDDIC run "
                     "replays the current one")
    return ReplayConfig(
        icp=load_icp(icp_path) if icp_path else base.icp,
        reps=load_reps(reps_path) if reps_path else base.reps,
        workflow=load_workflow(workflow_path) if workflow_path else base.workflow,
        scoring=load_scoring(scoring_path) if scoring_path else base.scoring,
        prompt_version=prompt_version, files=files, notes=tuple(notes))
