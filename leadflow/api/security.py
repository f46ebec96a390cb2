"""The API's key check and its error bodies: an API key on every route but /healthz, with a
back-off for an address that keeps sending wrong keys, and error bodies that say what was
wrong without leaking internals.

The key is read from `X-API-Key`; browsers opening the dashboard may send it as the password
of HTTP Basic auth instead (they prompt for it on the 401, or take it from a
`http://user:key@host/` URL)."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException  # FastAPI's is a subclass; routing raises this
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from leadflow.api.guards import BODY_REFUSED

log = logging.getLogger(__name__)
OPEN_PATHS = frozenset({"/healthz"})
CHALLENGE = {"WWW-Authenticate": 'Basic realm="leadflow", charset="UTF-8"'}


def presented_key(headers: Mapping[str, str]) -> str | None:
    header = headers.get("x-api-key")
    if header:
        return header
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            _user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password or None
    return None


def key_matches(presented: str | None, expected: str) -> bool:
    """Constant-time comparison, so response timing does not reveal how much matched."""
    return presented is not None and hmac.compare_digest(presented.encode(), expected.encode())


class ApiKeyGuard:
    """Every request but the open paths must carry the key: 401 otherwise (with a Basic
    challenge, so a browser asks for it).

    An address that sent `failures` wrong keys within `window_s` seconds gets 429 with
    Retry-After, whatever key it sends, until the oldest of those failures is older than
    the window: guessing is slowed to `failures` per window, and the right key's holder on
    the same address waits at most one window. A request with no key at all (a browser's
    first try, before its prompt) is not a failure. Counted per process, in memory."""

    def __init__(self, app: ASGIApp, expected: str, *, failures: int = 10,
                 window_s: int = 60) -> None:
        self.app = app
        self.expected = expected
        self.limit = RateLimitItemPerSecond(max(1, failures), max(1, window_s))
        self.failures = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if not await self.failures.test(self.limit, client):
            reset_at, _left = await self.failures.get_window_stats(self.limit, client)
            wait = max(1, math.ceil(reset_at - time.time()))
            await self._refuse(scope, send, 429, f"too many wrong API keys from {client}; "
                               f"try again in {wait} s", {"Retry-After": str(wait)})
            return
        presented = presented_key(Headers(scope=scope))
        if key_matches(presented, self.expected):
            await self.app(scope, receive, send)
            return
        if presented is not None:
            await self.failures.hit(self.limit, client)
            log.warning("wrong API key from %s on %s %s", client, scope.get("method", "WS"),
                        scope["path"])
        await self._refuse(scope, send, 401, "missing or wrong API key (send it as X-API-Key)",
                           CHALLENGE)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, status: int, detail: str,
                      headers: dict[str, str]) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": detail[:120]})
            return
        response = JSONResponse({"detail": detail}, status_code=status, headers=headers)
        await send({"type": "http.response.start", "status": status,
                    "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


async def json_body(request: Request) -> None:
    """A route dependency for routes that parse their own body (the LangServe surface):
    a POST body that is not JSON is a 422 naming the problem, before the route reads it
    (the parsed body is cached on the request, so the route does not parse it again)."""
    if request.method != "POST":
        return
    raw = await request.body()
    if not raw.strip():
        raise RequestValidationError([{"loc": ["body"], "type": "missing",
                                       "msg": "the body is empty: send a JSON object"}])
    try:
        await request.json()
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        raise RequestValidationError([{"loc": ["body"], "type": "json_invalid",
                                       "msg": f"the body is not valid JSON: {reason}"[:300]}],
                                     ) from None


def _problem(error: object) -> dict[str, Any]:
    """One entry of a 422's list. FastAPI gives dicts; LangServe raises the error with
    plain strings (e.g. "Invalid JSON body")."""
    if isinstance(error, dict):
        return {"loc": list(error.get("loc", ())), "msg": str(error.get("msg", "invalid")),
                "type": str(error.get("type", "value_error"))}
    return {"loc": ["body"], "msg": str(error), "type": "value_error"}


def install_error_handlers(app: FastAPI) -> None:
    """422 lists each invalid field with its location and message; a client that goes away
    mid-request is a log line; anything unexpected is logged here and answered with a plain
    500 that names no internals."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": [_problem(e) for e in exc.errors()]}, status_code=422)

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _exc: Exception) -> Response:
        if not request.scope.get("state", {}).get(BODY_REFUSED):  # else: our 413 is sent
            log.info("client %s went away before sending the whole body of %s %s",
                     (request.client.host if request.client else "?"), request.method,
                     request.url.path)
        return Response(status_code=400)  # nobody is left to read it

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if isinstance(exc.__cause__, ClientDisconnect):  # FastAPI's 400 for an unread body
            return await _gone(request, exc.__cause__)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; the server log has the details"},
                            status_code=500)
