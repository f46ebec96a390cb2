"""The API's ASGI guards, each a plain ASGI middleware (no per-request task or buffering):
request size limits (headers 431, body 413), HEAD answered wherever GET is, and the
security headers of every response (`secure`'s middleware, one policy per kind of page)."""

from __future__ import annotations

from typing import cast

from secure import (
    CacheControl,
    ContentSecurityPolicy,
    CrossOriginResourcePolicy,
    ReferrerPolicy,
    Secure,
    XContentTypeOptions,
    XFrameOptions,
)
from secure.middleware import SecureASGIMiddleware
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# JSON answers: nothing in them may run, be sniffed into HTML, be framed or be cached
# (they carry leads' personal data).
API_HEADERS = Secure(
    csp=ContentSecurityPolicy().default_src("'none'").frame_ancestors("'none'"),
    xfo=XFrameOptions().deny(),
    xcto=XContentTypeOptions().nosniff(),
    referrer=ReferrerPolicy().no_referrer(),
    corp=CrossOriginResourcePolicy().same_origin(),
    cache=CacheControl().no_store(),
)
# FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from their CDN with inline
# script: they keep working, but may not be framed or sniffed.
DOCS_HEADERS = Secure(
    csp=ContentSecurityPolicy().frame_ancestors("'none'"),
    xfo=XFrameOptions().deny(),
    xcto=XContentTypeOptions().nosniff(),
    referrer=ReferrerPolicy().no_referrer(),
)


# request.state flag: the body was cut off here (413 sent), not by the client going away
BODY_REFUSED = "body_refused"


async def _answer(send: Send, status: int, detail: str,
                  headers: dict[str, str] | None = None) -> None:
    response = JSONResponse({"detail": detail}, status_code=status, headers=headers)
    await send({"type": "http.response.start", "status": status,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class SecurityHeaders:
    """Security headers on every HTTP response: `by_prefix` policies for paths under a
    prefix (the dashboard, the docs), `default` for the rest."""

    def __init__(self, app: ASGIApp, default: Secure, by_prefix: dict[str, Secure]) -> None:
        def guarded(policy: Secure) -> ASGIApp:  # `secure` types ASGI messages as object
            return cast(ASGIApp, SecureASGIMiddleware(app, secure=policy))

        self.default = guarded(default)
        self.by_prefix = [(prefix.rstrip("/"), guarded(policy))
                          for prefix, policy in by_prefix.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        for prefix, guarded in self.by_prefix:
            if path == prefix or path.startswith(prefix + "/"):
                await guarded(scope, receive, send)
                return
        await self.default(scope, receive, send)


class HeaderSizeLimit:
    """431 for a request whose request line and headers exceed `max_bytes`, before any
    route or the key check sees it. (The server has read them by then: a hard cap on what
    it buffers is the server's, e.g. uvicorn's h11 `h11_max_incomplete_event_size`.)"""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            size += sum(len(name) + len(value) + 4 for name, value in scope.get("headers") or [])
            if size > self.max_bytes:
                await _answer(send, 431, f"request headers larger than {self.max_bytes} bytes")
                return
        await self.app(scope, receive, send)


class HeadAsGet:
    """HEAD wherever GET is allowed: the GET route runs and only its status and headers
    (Content-Length included) go out. FastAPI routes answer only the methods they name."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        # a copy: the server reads the original's method to know it owes no body
        await self.app({**scope, "method": "GET"}, receive, headers_only)


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
                    scope.setdefault("state", {})[BODY_REFUSED] = True
                    await self._too_large(send)
                    return {"type": "http.disconnect"}  # the app stops reading here
            return message

        async def guarded_send(message: Message) -> None:
            if not answered:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _too_large(self, send: Send) -> None:
        await _answer(send, 413, f"request body larger than {self.max_bytes} bytes")
