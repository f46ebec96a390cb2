"""Keep every exception a step's error handler took alive until its run ends.

LangGraph 1.2's runner remembers the exceptions it routed to an error handler by `id()` only,
and for the rest of the run it does not re-raise any exception with a remembered id. Once a
handled exception is freed, CPython may give its address to a later `GraphInterrupt`: that
interrupt is then swallowed, the waiting node counts as finished with no writes, and the lead's
thread ends instead of pausing. Seen here: a lead whose enrichment timed out lost its follow-up
wait in about one run in twenty under load, so no sweep or event could reach it again.

Holding the exception for as long as the run's loop object lives keeps its id unique for
exactly as long as the runner can consult it, and frees it with the run.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from langchain_core.runnables import RunnableConfig

# The run's loop is reachable from a task's config through the `call` hook LangGraph puts
# there (its `schedule_task` keyword is a bound method of the loop). Internal, so guarded.
_CALL_KEY = "__pregel_call"
_PIN_ATTR = "_leadflow_handled_errors"
# If LangGraph's internals move, a bounded process-wide pin still keeps recent ids unique.
_FALLBACK: deque[BaseException] = deque(maxlen=10_000)


def run_loop(config: RunnableConfig | None) -> Any | None:
    """The object whose lifetime is the current graph run, if LangGraph exposes it."""
    call = ((config or {}).get("configurable") or {}).get(_CALL_KEY)
    schedule = (getattr(call, "keywords", None) or {}).get("schedule_task")
    return getattr(schedule, "__self__", None)


def keep_until_run_ends(exc: BaseException, config: RunnableConfig | None) -> None:
    """Pin `exc` to the run that handled it (see the module docstring)."""
    loop = run_loop(config)
    try:
        pinned: list[BaseException] = getattr(loop, _PIN_ATTR)
    except AttributeError:
        pinned = []
        try:
            setattr(loop, _PIN_ATTR, pinned)
        except (AttributeError, TypeError):  # no loop found, or it takes no attributes
            _FALLBACK.append(exc)
            return
    pinned.append(exc)
