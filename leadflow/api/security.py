"""The API's guards: an API key on every route but /healthz, a request-body size limit, and
error bodies that say what was wrong without leaking internals.

The key is read from `X-API-Key`; browsers opening the dashboard may send it as the password
of HTTP Basic auth instead (they prompt for it on the 401), so no key ever sits in a URL."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)
OPEN_PATHS = frozenset({"/healthz"})


def presented_key(request: Request) -> str | None:
    header = request.headers.get("x-api-key")
    if header:
        return header
    auth = request.headers.get("authorization", "")
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


def require_api_key(app: FastAPI, expected: str) -> None:
    """Every request but the open paths must carry the key; 401 otherwise."""

    @app.middleware("http")
    async def _api_key(request: Request, call_next: Any) -> Any:
        if request.url.path in OPEN_PATHS or key_matches(presented_key(request), expected):
            return await call_next(request)
        return JSONResponse({"detail": "missing or wrong API key (send it as X-API-Key)"},
                            status_code=401,
                            headers={"WWW-Authenticate": 'Basic realm="leadflow"'})


class BodySizeLimit:
    """Refuse bodies above `max_bytes` with 413, by Content-Length or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._too_large(send)
            return
        seen = 0
        answered = False  # we sent the 413: whatever the app sends afterwards is dropped

        async def counting_receive() -> Message:
            nonlocal seen, answered
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes and not answered:
                    answered = True
                    await self._too_large(send)
                    return {"type": "http.disconnect"}  # the app stops reading here
            return message

        async def guarded_send(message: Message) -> None:
            if not answered:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _too_large(self, send: Send) -> None:
        response = JSONResponse(
            {"detail": f"request body larger than {self.max_bytes} bytes"}, status_code=413)
        await send({"type": "http.response.start", "status": 413,
                    "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


def install_error_handlers(app: FastAPI) -> None:
    """422 lists each invalid field with its location and message; anything unexpected is
    logged here and answered with a plain 500 that names no internals."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "invalid"),
                     "type": e.get("type", "value_error")} for e in exc.errors()]
        return JSONResponse({"detail": problems}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": "internal error; the server log has the details"},
                            status_code=500)
