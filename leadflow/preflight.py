"""Start-up checks: a misconfigured model, key or database fails at once, in one line.

Without them a run with `openai:…` and no key (or no network) finished "normally" while every
lead silently fell back to the rules and parked in `retry_later`, a model name without its
provider sent every lead to manual review, and a bad database URL printed hundreds of lines
of traceback. Each check raises `PreflightError` with one sentence saying what is wrong and
what to do, and never prints a secret (passwords in URLs are masked; keys never read here).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from leadflow.db import sqlalchemy_url
from leadflow.settings import RULES, LlmSettings, Settings

PROBE_TIMEOUT_S = 5.0
OPENAI_URL = "https://api.openai.com/v1"


class PreflightError(Exception):
    """A configuration the run cannot work with; its message is the one line to show."""


def masked(url: str) -> str:
    """The URL as the user wrote it, password hidden (or only its host part when it does
    not parse): what every message naming the database shows."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def check_database(url: str) -> None:
    """Connect once: an unknown scheme, a refused connection or an unwritable SQLite file
    is one line, not a traceback."""
    try:
        engine = create_engine(sqlalchemy_url(url))
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise PreflightError(f"LEADFLOW_DATABASE_URL {masked(url)!r} is not a database URL "
                             f"leadflow can use (sqlite:///path or postgresql://…): "
                             f"{_first_line(exc)}") from None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise cannot_open(url, exc.orig or exc) from None
    finally:
        engine.dispose()


def cannot_open(url: str, error: BaseException) -> PreflightError:
    """The one line for a database that is there to open and did not open (the driver's
    error): `check_database`'s, and the light CRM reads' (`leadflow.tools.crm_reads`)."""
    return PreflightError(f"cannot open the database {masked(url)}: {_first_line(error)}")


def models_in_use(settings: Settings, run_model: str | None = None) -> set[str]:
    """The run's model and every per-agent override (LEADFLOW_MODEL_<AGENT>)."""
    llm = LlmSettings.from_env()
    return {run_model or settings.model, *llm.agent_models.values()}


def check_models(names: Iterable[str]) -> None:
    """Every model named is well-formed, its provider's client can be built, and an
    OpenAI-compatible server answers with the key given and serves the model."""
    from leadflow.llm import is_registered, validate_model_name  # LLM clients: only when used

    for name in sorted(set(names)):
        if name == RULES or is_registered(name):
            continue
        try:
            validate_model_name(name)
        except ValueError as exc:
            raise PreflightError(str(exc)) from None
        provider, _, model = name.partition(":")
        if provider == "openai":
            _probe_openai(name, model)
        else:
            _build(name)


def _probe_openai(name: str, model: str) -> None:
    import openai

    llm = LlmSettings.from_env()
    base = llm.openai_base_url or OPENAI_URL
    if not llm.openai_base_url and not llm.has_openai_key:
        raise PreflightError(f"model {name} needs OPENAI_API_KEY (or OPENAI_BASE_URL for an "
                             "OpenAI-compatible server); set it in the environment or .env, "
                             "or use LEADFLOW_MODEL=rules to run offline")
    client = openai.OpenAI(base_url=base, timeout=PROBE_TIMEOUT_S, max_retries=0,
                           api_key=None if llm.has_openai_key else "not-needed")
    try:
        offered = [m.id for m in client.models.list()]
    except openai.AuthenticationError:
        raise PreflightError(f"the model server at {base} refused the API key (401): check "
                             "OPENAI_API_KEY") from None
    except openai.PermissionDeniedError:
        raise PreflightError(f"the model server at {base} denied access (403) for "
                             f"{name}") from None
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        raise PreflightError(f"cannot reach the model server at {base} for {name}: "
                             f"{_first_line(exc.__cause__ or exc)}") from None
    except openai.APIStatusError:
        return  # it answers but does not list models (404/405/501): the run will tell
    finally:
        client.close()
    if offered and model not in offered:
        shown = ", ".join(sorted(offered)[:8]) + (" …" if len(offered) > 8 else "")
        raise PreflightError(f"the model server at {base} does not serve {model!r} "
                             f"(it offers: {shown})")


def _build(name: str) -> None:
    """Other providers: building the client catches a missing package or key."""
    from leadflow.llm import chat_model

    try:
        chat_model(name, "preflight")
    except Exception as exc:  # noqa: BLE001 — whatever the provider raises, one line
        raise PreflightError(f"model {name}: {_first_line(exc)}") from None


def preflight(settings: Settings, run_model: str | None = None) -> None:
    """All start-up checks of a process that will run leads."""
    check_database(settings.database_url)
    check_models(models_in_use(settings, run_model))
    check_scoring_policy()


def check_scoring_policy() -> None:
    """icp.yaml `scoring.mode` is one the scorer knows (advise | blend)."""
    from leadflow.scoring.policy import scoring_policy

    try:
        scoring_policy()
    except ValueError as exc:
        raise PreflightError(str(exc)) from None


def _first_line(exc: BaseException | object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
