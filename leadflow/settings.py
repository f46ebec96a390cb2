"""Process settings from `.env` / the environment (SPEC §8), read once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv


@dataclass(frozen=True)
class Settings:
    model: str
    home: Path
    database_url: str
    checkpoint_path: Path
    timeout_scale: float
    kb_dir: Path | None

    @classmethod
    def from_env(cls, home: Path | None = None) -> Settings:
        load_dotenv(override=False)
        base = home or Path(os.environ.get("LEADFLOW_HOME", ".leadflow"))
        base.mkdir(parents=True, exist_ok=True)
        kb_dir = os.environ.get("LEADFLOW_KB_DIR")
        return cls(
            model=os.environ.get("LEADFLOW_MODEL", "rules"),
            home=base,
            database_url=os.environ.get("LEADFLOW_DATABASE_URL")
            or f"sqlite:///{(base / 'crm.db').resolve()}",
            checkpoint_path=Path(os.environ.get("LEADFLOW_CHECKPOINT_DB")
                                 or base / "checkpoints.db"),
            timeout_scale=float(os.environ.get("LEADFLOW_TIMEOUT_SCALE", "1.0")),
            kb_dir=Path(kb_dir) if kb_dir else None,
        )
