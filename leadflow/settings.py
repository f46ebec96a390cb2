"""Process settings from `.env` / the environment (SPEC §8): the one module that reads them.

`Settings` is what a process opens its runtime with (model, database, checkpoints); the
sections below it (`LlmSettings`, `DeliverySettings`, `ApiSettings`, `WorkerSettings`) are
read where they are used, at that moment, so a changed environment (a test's monkeypatch, a
`--rpm` flag) takes effect without restarting the process. Every default is written here once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

from dotenv import load_dotenv

RULES = "rules"  # the model name that means "no LLM: the rules decide"
DEFAULT_HOME = ".leadflow"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_SMTP_FROM = "leadflow@leadflow.example"

Durability = Literal["sync", "async", "exit"]  # when LangGraph writes a step's checkpoint
# Batches checkpoint synchronously after every step: a crash loses at most the step in
# flight, and that step's side effects are idempotent, so resuming is always safe.
BATCH_DURABILITY: Durability = "sync"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name) or default


def _float(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


@dataclass(frozen=True)
class LlmSettings:
    """Which model decides, and per-request overrides of `config/models.yaml`."""

    model: str = RULES  # LEADFLOW_MODEL
    prompt_version: str | None = None  # LEADFLOW_PROMPT_VERSION (else models.yaml's)
    agent_models: dict[str, str] = field(default_factory=dict)  # LEADFLOW_MODEL_<AGENT>
    requests_per_minute: float | None = None  # LEADFLOW_LLM_RPM
    structured_output_method: str | None = None  # LEADFLOW_LLM_STRUCTURED_METHOD
    timeout_s: float | None = None  # LEADFLOW_LLM_TIMEOUT_S
    max_retries: int | None = None  # LEADFLOW_LLM_MAX_RETRIES
    openai_base_url: str | None = None  # OPENAI_BASE_URL (any OpenAI-compatible server)
    has_openai_key: bool = False  # OPENAI_API_KEY is set (its value is never kept here)
    judge_model: str = ""  # LEADFLOW_EVAL_JUDGE_MODEL

    @classmethod
    def from_env(cls) -> LlmSettings:
        prefix = "LEADFLOW_MODEL_"
        retries = os.environ.get("LEADFLOW_LLM_MAX_RETRIES")
        return cls(
            model=_env("LEADFLOW_MODEL", RULES),
            prompt_version=os.environ.get("LEADFLOW_PROMPT_VERSION") or None,
            agent_models={k[len(prefix):].lower(): v for k, v in os.environ.items()
                          if k.startswith(prefix) and v},
            requests_per_minute=_float("LEADFLOW_LLM_RPM"),
            structured_output_method=os.environ.get("LEADFLOW_LLM_STRUCTURED_METHOD") or None,
            timeout_s=_float("LEADFLOW_LLM_TIMEOUT_S"),
            max_retries=int(retries) if retries else None,
            openai_base_url=os.environ.get("OPENAI_BASE_URL") or None,
            has_openai_key=bool(os.environ.get("OPENAI_API_KEY")),
            judge_model=_env("LEADFLOW_EVAL_JUDGE_MODEL"),
        )

    def model_for(self, agent: str, run_model: str | None = None) -> str:
        """The agent's model: LEADFLOW_MODEL_<AGENT>, else the run's (context) model, else
        LEADFLOW_MODEL, else `rules`."""
        override = self.agent_models.get(agent.lower())
        return (override or run_model or self.model or RULES).strip()


@dataclass(frozen=True)
class DeliverySettings:
    """Where notifications go besides the log: a webhook and/or an SMTP server."""

    webhook_url: str = ""  # LEADFLOW_WEBHOOK_URL
    smtp_host: str = ""  # LEADFLOW_SMTP_HOST
    smtp_port: int = 25  # LEADFLOW_SMTP_PORT
    smtp_from: str = DEFAULT_SMTP_FROM  # LEADFLOW_SMTP_FROM

    @classmethod
    def from_env(cls) -> DeliverySettings:
        return cls(webhook_url=_env("LEADFLOW_WEBHOOK_URL"),
                   smtp_host=_env("LEADFLOW_SMTP_HOST"),
                   smtp_port=int(_env("LEADFLOW_SMTP_PORT", "25")),
                   smtp_from=_env("LEADFLOW_SMTP_FROM", DEFAULT_SMTP_FROM))


@dataclass(frozen=True)
class ApiSettings:
    """The HTTP API's key and guards (`leadflow serve`)."""

    api_key: str
    max_body_bytes: int = 1_048_576
    max_header_bytes: int = 16_384  # request line + headers; 431 above
    concurrency: int = 8
    drain_seconds: float = 10.0
    distributed: bool = False  # hand leads to `leadflow worker`s (Celery) instead
    # a client address that sent this many wrong keys within the window gets 429 until the
    # oldest of them is older than the window
    auth_failures: int = 10
    auth_window_s: int = 60

    @classmethod
    def from_env(cls) -> ApiSettings:
        key = _env("LEADFLOW_API_KEY")
        if not key:
            raise RuntimeError("LEADFLOW_API_KEY is not set: the API refuses to start without "
                               "a key (put one in .env; every route but /healthz needs it)")
        return cls(api_key=key,
                   max_body_bytes=int(_env("LEADFLOW_API_MAX_BODY_BYTES", "1048576")),
                   max_header_bytes=int(_env("LEADFLOW_API_MAX_HEADER_BYTES", "16384")),
                   concurrency=int(_env("LEADFLOW_API_CONCURRENCY", "8")),
                   distributed=_env("LEADFLOW_DISTRIBUTED") in ("1", "true"),
                   auth_failures=int(_env("LEADFLOW_API_AUTH_FAILURES", "10")),
                   auth_window_s=int(_env("LEADFLOW_API_AUTH_WINDOW_SECONDS", "60")))


@dataclass(frozen=True)
class WorkerSettings:
    """The Celery broker, the Redis lead lock of `leadflow worker`, and the CRM lease every
    runner takes on a lead (tools/crm/leases.py)."""

    broker_url: str = DEFAULT_BROKER  # LEADFLOW_BROKER_URL
    # LEADFLOW_BROKER_PREFIX: put before every Redis key the workers use (Celery's queue and
    # bookkeeping, the lead locks), so several deployments or test runs share one database
    key_prefix: str = ""
    visibility_timeout_s: float = 600.0  # LEADFLOW_TASK_VISIBILITY_TIMEOUT
    lead_lock_s: float = 300.0  # LEADFLOW_LEAD_LOCK_SECONDS
    lead_lease_s: float = 60.0  # LEADFLOW_LEAD_LEASE_SECONDS (renewed every third)

    @classmethod
    def from_env(cls) -> WorkerSettings:
        return cls(broker_url=_env("LEADFLOW_BROKER_URL", DEFAULT_BROKER),
                   key_prefix=_env("LEADFLOW_BROKER_PREFIX", ""),
                   visibility_timeout_s=float(_env("LEADFLOW_TASK_VISIBILITY_TIMEOUT", "600")),
                   lead_lock_s=float(_env("LEADFLOW_LEAD_LOCK_SECONDS", "300")),
                   lead_lease_s=float(_env("LEADFLOW_LEAD_LEASE_SECONDS", "60")))


@dataclass(frozen=True)
class ImapSettings:
    """`leadflow watch`'s login: the user (when the URL names none), the password (never in
    the URL: a command line is visible to every user of the machine) and an extra CA file
    for a server whose certificate a private CA signed."""

    user: str = ""  # LEADFLOW_IMAP_USER
    password: str = ""  # LEADFLOW_IMAP_PASSWORD
    ca_file: str = ""  # LEADFLOW_IMAP_CA_FILE

    @classmethod
    def from_env(cls) -> ImapSettings:
        load_dotenv(override=False)
        return cls(user=_env("LEADFLOW_IMAP_USER"), password=_env("LEADFLOW_IMAP_PASSWORD"),
                   ca_file=_env("LEADFLOW_IMAP_CA_FILE"))


@dataclass(frozen=True)
class CalendarSettings:
    """Where the reps' CalDAV calendars are and how leadflow logs in: one service account
    (LEADFLOW_CALDAV_USER / _PASSWORD) or one login per rep (LEADFLOW_CALDAV_USER_<REP> /
    _PASSWORD_<REP>, the rep id in capitals with `-` as `_`: LEADFLOW_CALDAV_PASSWORD_REP_NA_01).
    No LEADFLOW_CALDAV_URL and no rep with a calendar URL of its own: no slots are offered."""

    base_url: str = ""  # LEADFLOW_CALDAV_URL: the reps' calendar paths are under it
    user: str = ""  # LEADFLOW_CALDAV_USER
    password: str = ""  # LEADFLOW_CALDAV_PASSWORD
    timeout_s: float = 10.0  # LEADFLOW_CALDAV_TIMEOUT: one request to the calendar server
    per_rep: dict[str, tuple[str, str]] = field(default_factory=dict)  # rep key → (user, pw)

    @classmethod
    def from_env(cls) -> CalendarSettings:
        load_dotenv(override=False)
        users = {k.removeprefix("LEADFLOW_CALDAV_USER_"): v for k, v in os.environ.items()
                 if k.startswith("LEADFLOW_CALDAV_USER_") and v}
        passwords = {k.removeprefix("LEADFLOW_CALDAV_PASSWORD_"): v
                     for k, v in os.environ.items()
                     if k.startswith("LEADFLOW_CALDAV_PASSWORD_") and v}
        return cls(base_url=_env("LEADFLOW_CALDAV_URL"), user=_env("LEADFLOW_CALDAV_USER"),
                   password=_env("LEADFLOW_CALDAV_PASSWORD"),
                   timeout_s=float(_env("LEADFLOW_CALDAV_TIMEOUT", "10")),
                   per_rep={key: (users.get(key, ""), passwords.get(key, ""))
                            for key in {*users, *passwords}})

    @staticmethod
    def rep_key(rep_id: str) -> str:
        return "".join(c if c.isalnum() else "_" for c in rep_id).upper()

    def login_for(self, rep_id: str) -> tuple[str, str]:
        """(user, password) for a rep's calendar: their own, else the service account's."""
        user, password = self.per_rep.get(self.rep_key(rep_id), ("", ""))
        return user or self.user, password or self.password


HUBSPOT_API = "https://api.hubapi.com"


@dataclass(frozen=True)
class HubSpotSettings:
    """The HubSpot sync (`leadflow sync hubspot`, the outbox's `hubspot` channel): on only
    when LEADFLOW_HUBSPOT_SYNC says so, with a private app's token; the base URL is
    overridable so tests point the real client at a local server."""

    enabled: bool = False  # LEADFLOW_HUBSPOT_SYNC=1
    token: str = ""  # LEADFLOW_HUBSPOT_TOKEN (a private app's access token)
    base_url: str = HUBSPOT_API  # LEADFLOW_HUBSPOT_BASE_URL
    timeout_s: float = 10.0  # LEADFLOW_HUBSPOT_TIMEOUT: one request

    @classmethod
    def from_env(cls) -> HubSpotSettings:
        load_dotenv(override=False)
        return cls(enabled=cls.sync_on(),
                   token=_env("LEADFLOW_HUBSPOT_TOKEN"),
                   base_url=_env("LEADFLOW_HUBSPOT_BASE_URL", HUBSPOT_API).rstrip("/"),
                   timeout_s=float(_env("LEADFLOW_HUBSPOT_TIMEOUT", "10")))

    @staticmethod
    def sync_on() -> bool:
        """LEADFLOW_HUBSPOT_SYNC as the process has it (its .env already read): whether a
        settling lead queues its sync. Cheap enough for every lead."""
        return _env("LEADFLOW_HUBSPOT_SYNC").strip().lower() in ("1", "true")

    @property
    def ready(self) -> bool:
        """Enabled and able to log in."""
        return self.enabled and bool(self.token)


CheckpointHistory = Literal["latest", "all"]


def checkpoint_history() -> CheckpointHistory:
    """LEADFLOW_CHECKPOINT_HISTORY: what a lead's thread keeps once it settles or pauses —
    `latest` (default: its last checkpoint, all that resuming and auditing need) or `all`
    (every step, for time travel in Studio)."""
    value = _env("LEADFLOW_CHECKPOINT_HISTORY", "latest").strip().lower()
    if value not in ("latest", "all"):
        raise ValueError(f"LEADFLOW_CHECKPOINT_HISTORY={value!r}: use latest or all")
    return cast(CheckpointHistory, value)


@dataclass(frozen=True)
class RetentionSettings:
    """How long an unconverted lead keeps the person's data (`leadflow retention apply`)."""

    months: int | None = None  # LEADFLOW_RETENTION_MONTHS; unset: retention is off

    @classmethod
    def from_env(cls) -> RetentionSettings:
        value = _env("LEADFLOW_RETENTION_MONTHS").strip()
        if not value:
            return cls()
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"LEADFLOW_RETENTION_MONTHS={value!r} is not a whole number of "
                             "months (1 or more); leave it unset to keep leads")
        return cls(months=int(value))


def langsmith_enabled() -> bool:
    """LangSmith is used (tracing, the eval bridge) only when its key is set."""
    return bool(os.environ.get("LANGSMITH_API_KEY"))


def set_requests_per_minute(rpm: float) -> None:
    """`leadflow run --rpm`: the limit every model of this process is built with."""
    os.environ["LEADFLOW_LLM_RPM"] = str(rpm)


Framework = Literal["bant", "meddic"]  # the qualification frameworks (SPEC §4.3)
FRAMEWORKS: tuple[Framework, ...] = ("bant", "meddic")
DEFAULT_FRAMEWORK: Framework = "bant"


def qualification_framework() -> Framework:
    """LEADFLOW_FRAMEWORK: the framework of a run that does not choose one (default bant)."""
    value = _env("LEADFLOW_FRAMEWORK", DEFAULT_FRAMEWORK).strip().lower()
    if value not in FRAMEWORKS:
        raise ValueError(f"LEADFLOW_FRAMEWORK={value!r} is not a qualification framework: "
                         f"use {' or '.join(FRAMEWORKS)}")
    return cast(Framework, value)


def set_framework(framework: Framework) -> None:
    """`leadflow run --framework`: the framework every run of this process defaults to."""
    os.environ["LEADFLOW_FRAMEWORK"] = framework


def current_user(default: str = "cli") -> str:
    return _env("USER", default)


@dataclass(frozen=True)
class Settings:
    """What a process opens its runtime with: the database section and the run's model."""

    model: str
    home: Path
    database_url: str
    checkpoint_path: Path
    timeout_scale: float
    kb_dir: Path | None

    @classmethod
    def from_env(cls, home: Path | None = None) -> Settings:
        load_dotenv(override=False)
        base = home or Path(_env("LEADFLOW_HOME", DEFAULT_HOME))
        base.mkdir(parents=True, exist_ok=True)
        kb_dir = os.environ.get("LEADFLOW_KB_DIR")
        return cls(
            model=LlmSettings.from_env().model,
            home=base,
            database_url=os.environ.get("LEADFLOW_DATABASE_URL")
            or f"sqlite:///{(base / 'crm.db').resolve()}",
            checkpoint_path=Path(os.environ.get("LEADFLOW_CHECKPOINT_DB")
                                 or base / "checkpoints.db"),
            timeout_scale=float(_env("LEADFLOW_TIMEOUT_SCALE", "1.0")),
            kb_dir=Path(kb_dir) if kb_dir else None,
        )

    @classmethod
    def local(cls, home: Path, model: str = RULES) -> Settings:
        """Everything in one directory (the demo, evals, tests): SQLite CRM + checkpoints."""
        return cls(model=model, home=home, database_url=f"sqlite:///{home / 'crm.db'}",
                   checkpoint_path=home / "checkpoints.db", timeout_scale=1.0, kb_dir=None)
