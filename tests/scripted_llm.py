"""A scripted OpenAI-compatible chat-completions server for the reliability suite and the
benchmarks: every structured-output tool of leadflow answered plausibly, a fixed delay per
request (requests are served on their own threads, so delays overlap instead of queueing),
and deterministic failure injection.

    python -m tests.scripted_llm --port 8765 --delay-ms 200 --failure-rate 0.3 --seed 1

or in-process: `with ScriptedLLM(delay_ms=5, failure_rate=0.3) as llm: ... llm.url ...`.

Failures are decided by a hash of (seed, request body, how often that exact body was seen),
not by a shared random stream: the same lead meets the same failures whatever the request
interleaving, and the client's retry of a failed request (same body) gets a fresh draw. The
failing fraction is split evenly between HTTP 500, HTTP 429 with `retry-after-ms`, a tool
call whose arguments are not JSON, and a reply slower than the client's timeout (which, for a
client too busy to notice its timeout, ends as a 504 — a failure either way).

GET /stats reports calls, the calls answered with a completion and the tokens those reported,
failures by kind and "asks": one ask is one question of one agent
(the system + first user message), counting the client's retries and the repair turn as the
same ask; an ask failed when the last reply it got was a failure. Each ask carries the lead
named in its <lead_data> (its email, or a pattern of the caller's), so a test can tell which
leads the LLM failed for good.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.llm_fakes import plausible_arguments

FAILURE_KINDS = ("http_500", "http_429", "malformed", "slow")
# What names a lead inside <lead_data>: by default its email; tests that need every prompt
# to name its lead put a reference in the inquiry and pass a pattern for it.
EMAIL_PATTERN = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"


def _unit(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by its inputs."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _text(content: object) -> str:
    if isinstance(content, list):  # content parts
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p)
                       for p in content)
    return "" if content is None else str(content)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # many workers connect at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (timed out, was killed) is part of the script: no noise."""


@dataclass
class _Ask:
    tool: str
    lead: str | None
    replies: list[str] = field(default_factory=list)  # "ok" or a failure kind, by arrival


class ScriptedLLM:
    """The server. `slow_ms` is how long a "slow" failure takes (set it above the client's
    timeout, LEADFLOW_LLM_TIMEOUT_S); 429s ask for `retry_after_ms`, 500s say nothing, so
    the client's own exponential backoff with jitter applies to them."""

    def __init__(self, *, delay_ms: float = 200.0, failure_rate: float = 0.0, seed: int = 1,
                 slow_ms: float = 3000.0, retry_after_ms: int = 20,
                 kinds: tuple[str, ...] = FAILURE_KINDS, lead_pattern: str = EMAIL_PATTERN,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate must be within [0, 1]")
        unknown = set(kinds) - set(FAILURE_KINDS)
        if unknown or not kinds:
            raise ValueError(f"failure kinds must be among {FAILURE_KINDS}, got {kinds}")
        self.delay_s = delay_ms / 1000
        self.failure_rate = failure_rate
        self.seed = seed
        self.slow_s = slow_ms / 1000
        self.retry_after_ms = retry_after_ms
        self.kinds = kinds
        self.lead_pattern = re.compile(lead_pattern)
        self._lock = threading.Lock()
        self._seen: Counter[str] = Counter()
        self._asks: dict[str, _Ask] = {}
        self._counts: Counter[str] = Counter()
        self._by_tool: Counter[str] = Counter()
        self._in_flight = 0
        self._peak = 0
        self._server = _Server((host, port), self._handler())  # bound now: the port is known
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- decisions
    def decide(self, body_key: str, occurrence: int) -> str | None:
        """The failure kind for the n-th sight of this body, or None to answer."""
        if self.failure_rate <= 0:
            return None
        draw = _unit(self.seed, body_key, occurrence)
        if draw >= self.failure_rate:
            return None
        return self.kinds[min(len(self.kinds) - 1, int(draw / self.failure_rate * len(self.kinds)))]

    def _record(self, body: dict[str, Any]) -> tuple[str, str]:
        """Count the request; returns (tool name, what to do: ok or a failure kind)."""
        raw = json.dumps(body, sort_keys=True)
        messages = body.get("messages") or []
        tool = ((body.get("tools") or [{}])[0].get("function") or {}).get("name", "")
        opening = json.dumps([tool, messages[:2]], sort_keys=True)
        ask_key = hashlib.sha256(opening.encode()).hexdigest()
        body_key = hashlib.sha256(raw.encode()).hexdigest()
        with self._lock:
            occurrence = self._seen[body_key]
            self._seen[body_key] += 1
            what = self.decide(body_key, occurrence) or "ok"
            ask = self._asks.get(ask_key)
            if ask is None:
                lead = _text(messages[1].get("content")) if len(messages) > 1 else ""
                lead = lead.split("<lead_data>")[-1].split("</lead_data>")[0]
                found = self.lead_pattern.search(lead)
                name = (found.group(1) if found.re.groups else found.group(0)) if found else None
                ask = self._asks[ask_key] = _Ask(tool, name)
            ask.replies.append(what)
            self._counts["calls"] += 1
            self._counts[what] += 1
            self._by_tool[tool] += 1
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
        return tool, what

    def _done(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _reply(self, body: dict[str, Any], tool: str, what: str) -> tuple[int, dict[str, str],
                                                                          bytes]:
        if what in ("http_500", "http_429", "slow"):
            status = {"http_500": 500, "http_429": 429, "slow": 504}[what]
            headers = {"retry-after-ms": str(self.retry_after_ms)} if status == 429 else {}
            error = {"error": {"message": f"scripted {status}", "type": "server_error"}}
            return status, headers, json.dumps(error).encode()
        text = "\n".join(_text(m.get("content")) for m in body.get("messages") or [])
        args = plausible_arguments(tool, text)
        arguments = json.dumps(args)
        if what == "malformed":  # cut mid-value: not JSON at all
            arguments = arguments[: max(1, len(arguments) // 2)]
        usage = {"prompt_tokens": len(text) // 4, "completion_tokens": len(arguments) // 4}
        with self._lock:  # what the answered calls cost, for tests that audit usage records
            self._counts["prompt_tokens"] += usage["prompt_tokens"]
            self._counts["completion_tokens"] += usage["completion_tokens"]
        completion = {
            "id": f"chatcmpl-{self._counts['calls']}", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": None,
                "tool_calls": [{"id": "call_scripted", "type": "function",
                                "function": {"name": tool, "arguments": arguments}}]}}],
            "usage": {**usage, "total_tokens": sum(usage.values())},
        }
        return 200, {}, json.dumps(completion).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        llm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the client reuses its connections
            disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

            def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                try:
                    self.send_response(status)
                    for name, value in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    self.close_connection = True

            def do_GET(self) -> None:  # noqa: N802 — http.server's naming
                if self.path.rstrip("/").endswith("/stats"):
                    self._send(200, {}, json.dumps(llm.stats()).encode())
                else:
                    self._send(404, {}, b"{}")

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                tool, what = llm._record(body)
                try:
                    time.sleep(llm.slow_s if what == "slow" else llm.delay_s)
                    self._send(*llm._reply(body, tool, what))
                finally:
                    llm._done()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    # ------------------------------------------------------------------ results
    def stats(self) -> dict[str, Any]:
        """Counters so far; `failed_ask_leads` names each lead (by `lead_pattern`) with an ask
        that failed, `asks_without_lead` counts asks whose prompt named none."""
        with self._lock:
            counts = dict(self._counts)
            asks = list(self._asks.values())
            peak = self._peak
            by_tool = dict(self._by_tool)
        calls = counts.get("calls", 0)
        failures = sum(counts.get(k, 0) for k in FAILURE_KINDS)
        failed = [a for a in asks if a.replies and a.replies[-1] != "ok"]
        return {
            "calls": calls, "failures": failures,
            "failure_fraction": failures / calls if calls else 0.0,
            "by_kind": {k: counts.get(k, 0) for k in ("ok", *FAILURE_KINDS)},
            # calls answered with a completion (ok or malformed) and the tokens they reported
            "answered": counts.get("ok", 0) + counts.get("malformed", 0),
            "prompt_tokens": counts.get("prompt_tokens", 0),
            "completion_tokens": counts.get("completion_tokens", 0),
            "by_tool": by_tool, "peak_concurrency": peak,
            "asks": len(asks), "failed_asks": len(failed),
            "failed_ask_leads": sorted({a.lead for a in failed if a.lead}),
            "failed_ask_details": [{"lead": a.lead, "tool": a.tool, "replies": a.replies}
                                   for a in failed],
            "asks_without_lead": sum(1 for a in asks if a.lead is None),
            "config": {"delay_ms": self.delay_s * 1000, "failure_rate": self.failure_rate,
                       "seed": self.seed, "slow_ms": self.slow_s * 1000,
                       "kinds": list(self.kinds)},
        }

    # ---------------------------------------------------------------- lifecycle
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The OpenAI base URL (OPENAI_BASE_URL)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedLLM:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="scripted-llm", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--delay-ms", type=float, default=200.0)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--slow-ms", type=float, default=3000.0,
                        help="duration of a 'slow' failure; above the client's timeout")
    parser.add_argument("--retry-after-ms", type=int, default=20)
    parser.add_argument("--kinds", default=",".join(FAILURE_KINDS),
                        help="failure kinds to inject, comma-separated")
    args = parser.parse_args(argv)
    llm = ScriptedLLM(delay_ms=args.delay_ms, failure_rate=args.failure_rate, seed=args.seed,
                      slow_ms=args.slow_ms, retry_after_ms=args.retry_after_ms,
                      kinds=tuple(k for k in args.kinds.split(",") if k), host=args.host,
                      port=args.port)
    with llm:
        print(f"scripted LLM on {llm.url} (GET {llm.url}/stats)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
