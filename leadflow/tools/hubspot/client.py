"""HubSpot's official client (`hubspot-api-client`) as leadflow opens it: the base URL and
token from `HubSpotSettings`, a retry policy that honours 429's Retry-After, and one error
type for whatever a call raises.

The retries live in the client's urllib3 pool (one policy for every request): a 429 is
retried for any method (HubSpot refused the request, so nothing was done), a 5xx only for
methods that are safe to repeat. A POST that failed with a 5xx may have created its object,
so it is not repeated here: the sync fails, the outbox tries again later, and that attempt
finds the object by its key before it creates one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from urllib3.util.retry import Retry

from leadflow.settings import HubSpotSettings

T = TypeVar("T")
Sleep = Callable[[float], None]
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"})
RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class HubSpotError(Exception):
    """A HubSpot call that did not succeed: its HTTP status (None: no answer) and message."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"HubSpot {status or 'unreachable'}: {message}"[:500])
        self.status = status
        self.message = message


class HubSpotRetry(Retry):
    """urllib3's Retry, with 429 retried for every method, each wait at most `max_wait`
    seconds, and the wait itself through `pause` (tests record it instead of sleeping)."""

    pause: Sleep = staticmethod(time.sleep)
    max_wait: float = 60.0

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:
            return True
        return method.upper() in SAFE_METHODS and status_code in RETRIED_STATUSES

    def sleep(self, response: Any = None) -> None:
        """Retry-After when the answer has one, else backoff_factor × 2^(retries so far − 1)
        (urllib3's own back-off does not wait before the first retry)."""
        after = self.get_retry_after(response) if response is not None else None
        wait = (after if after is not None
                else self.backoff_factor * 2 ** max(len(self.history) - 1, 0))
        if wait > 0:
            type(self).pause(min(wait, self.max_wait))


def retry_policy(retry: dict[str, Any], sleep: Sleep = time.sleep) -> Retry:
    """The client's retries, from hubspot.yaml's `retry`."""
    policy = type("Retry", (HubSpotRetry,), {"pause": staticmethod(sleep),
                                              "max_wait": float(retry["max_wait_s"])})
    return policy(total=int(retry["max_retries"]), connect=2, read=0,
                  backoff_factor=float(retry["backoff_factor_s"]),
                  backoff_max=float(retry["max_wait_s"]), status_forcelist=RETRIED_STATUSES,
                  allowed_methods=SAFE_METHODS, raise_on_status=False,
                  respect_retry_after_header=True)


def open_client(settings: HubSpotSettings, retry: dict[str, Any],
                sleep: Sleep = time.sleep) -> Any:
    """The official client on `settings.base_url` with the token and the retry policy."""
    try:
        from hubspot import HubSpot
    except ImportError:
        raise HubSpotError(None, "hubspot-api-client is not installed: "
                                 "pip install 'leadflow[hubspot]'") from None
    return HubSpot(access_token=settings.token, retry=retry_policy(retry, sleep),
                   host=settings.base_url)


_EXISTING_ID = re.compile(r"Existing ID: ?(\d+)")


def existing_id(error: HubSpotError) -> str | None:
    """The id a 409 Conflict names ("Contact already exists. Existing ID: 123")."""
    found = _EXISTING_ID.search(error.message) if error.status == 409 else None
    return found.group(1) if found else None


def call(fn: Callable[..., T], *args: Any, timeout_s: float, **kwargs: Any) -> T:
    """Run one client call; whatever it raises becomes a HubSpotError."""
    try:
        return fn(*args, _request_timeout=timeout_s, **kwargs)
    except Exception as exc:  # each API module has its own ApiException, none in common
        status = getattr(exc, "status", None)
        if status is None:
            raise HubSpotError(None, f"{type(exc).__name__}: {exc}") from exc
        raise HubSpotError(int(status), str(getattr(exc, "body", None) or exc)) from exc
