"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 for tests: the real
`ChatOpenAI` client talks to it over HTTP, so retries, timeouts and parsing are the real ones.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted response: tool-call arguments (dict, or raw text for broken JSON), or an
    HTTP error status; optionally delayed."""

    args: dict[str, Any] | str | Callable[[dict[str, Any]], dict[str, Any]] | None = None
    status: int = 200
    delay_s: float = 0.0


@dataclass
class StubServer:
    script: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    default: Reply | None = None  # served when the script is used up

    def next_reply(self, body: dict[str, Any]) -> Reply:
        self.requests.append(body)
        if self.script:
            return self.script.pop(0)
        if self.default is not None:
            return self.default
        return Reply(status=500)


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    tool = (body.get("tools") or [{}])[0].get("function", {}).get("name", "tool")
    args = reply.args(body) if callable(reply.args) else reply.args
    arguments = args if isinstance(args, str) else json.dumps(args)
    return {
        "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
        "model": body.get("model", "stub"),
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": f"call_{len(arguments)}", "type": "function",
                            "function": {"name": tool, "arguments": arguments}}]}}],
        "usage": {"prompt_tokens": 150, "completion_tokens": 50, "total_tokens": 200},
    }


@contextmanager
def openai_stub(script: list[Reply], default: Reply | None = None) -> Iterator[StubServer]:
    stub = StubServer(script=list(script), default=default)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 — http.server's naming
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            reply = stub.next_reply(body)
            time.sleep(reply.delay_s)
            if reply.status != 200:
                payload = json.dumps({"error": {"message": f"scripted {reply.status}",
                                                "type": "server_error"}}).encode()
                self.send_response(reply.status)
                self.send_header("retry-after-ms", "5")  # keeps the client's backoff short
            else:
                payload = json.dumps(_completion(body, reply)).encode()
                self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
