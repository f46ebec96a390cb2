"""HTTP API latency under a fixed request rate: the real app (`leadflow serve`'s, rules
model, SQLite CRM and checkpoints in a temp dir) under uvicorn on 127.0.0.1, in its own
process, driven with httpx at a fixed rate (open loop: each request is sent at its
scheduled time whether or not the earlier ones have answered, and its latency counts from
that time, so a stalled server cannot hide its queue).

Beside it, in the same server process and event loop, two hello-world routes measured at
the same rate in the same run: a bare FastAPI app (the framework's floor on this machine)
and `GET /bench/hello` added to leadflow's app, behind its guards (key check, size limits,
security headers) — what a request costs before any leadflow code runs.

    python benchmarks/api_load.py [--seconds 20] [--post-rate 20] [--get-rate 50]

Phases, one after the other: hello (bare), hello (guards), POST /leads (one new item a
request; the graph runs behind, up to LEADFLOW_API_CONCURRENCY=8 leads at once), then,
once every posted lead has settled, GET /leads/{id} over those leads. Each phase also
reports the server process's CPU time per request (for POST, the graph runs that happened
during the phase included): the capacity of one process, whatever else the machine is
doing. Last line:
api_load: post p50=… p95=… get p50=… p95=… hello p50=… p95=… post/hello=… get/hello=…
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

KEY = "bench-key-0f3a"
HEADERS = {"X-API-Key": KEY}


# ---------------------------------------------------------------------------- server side
def serve(home: Path) -> None:
    """Both apps in this process, one event loop; prints their ports, stops when stdin
    closes."""
    import uvicorn
    from fastapi import FastAPI

    from leadflow.api import create_app
    from leadflow.settings import ApiSettings, Settings

    app = create_app(Settings.local(home), ApiSettings(api_key=KEY))

    @app.get("/bench/hello", include_in_schema=False)
    async def guarded_hello() -> dict[str, str]:
        return {"hello": "world"}

    bare = FastAPI()

    @bare.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    sockets = []
    for _ in range(2):
        # proto=IPPROTO_TCP, as uvicorn's own sockets: asyncio sets TCP_NODELAY only on
        # sockets that say they are TCP; without it Nagle + delayed ACK add 40 ms a request
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    servers = [uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                             server_header=False)),
               uvicorn.Server(uvicorn.Config(bare, log_level="warning", lifespan="off",
                                             server_header=False))]

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def stop_when_stdin_closes() -> None:
            sys.stdin.read()
            for server in servers:
                loop.call_soon_threadsafe(setattr, server, "should_exit", True)

        threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
        await asyncio.gather(*(server.serve(sockets=[sock])
                               for server, sock in zip(servers, sockets, strict=True)))

    print("PORTS", *(sock.getsockname()[1] for sock in sockets), flush=True)
    asyncio.run(main())


# ---------------------------------------------------------------------------- client side
@dataclass
class Phase:
    name: str
    rate: float
    latencies_ms: list[float] = field(default_factory=list)  # from the scheduled time
    service_ms: list[float] = field(default_factory=list)  # from when it was actually sent
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    late_ms: float = 0.0  # how far behind schedule the client itself fell (max)
    server_cpu_s: float = float("nan")  # the server process's CPU time over the phase

    def pct(self, q: float, service: bool = False) -> float:
        ordered = sorted(self.service_ms if service else self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

    def row(self) -> str:
        ok = sum(n for status, n in self.statuses.items() if status < 400)
        return (f"| {self.name} | {self.rate:g} | {len(self.latencies_ms)} | {ok} | "
                f"{self.pct(50):.1f} | {self.pct(95):.1f} | {self.pct(99):.1f} | "
                f"{max(self.latencies_ms, default=float('nan')):.1f} | "
                f"{self.pct(50, True):.1f} | {self.pct(95, True):.1f} | "
                f"{self.server_cpu_s * 1000 / max(1, len(self.latencies_ms)):.2f} |")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(client: httpx.AsyncClient, phase: Phase, seconds: float,
                request: Any, server_pid: int) -> list[httpx.Response]:
    """`request(i)` → an awaitable response, sent at t0 + i / rate for `seconds`."""
    count = int(seconds * phase.rate)
    cpu_before = cpu_seconds(server_pid)
    started = time.perf_counter()
    responses: list[httpx.Response] = []

    async def one(i: int, due: float) -> None:
        sent = time.perf_counter()
        try:
            response = await request(i)
        except httpx.HTTPError:
            phase.errors += 1
            return
        answered = time.perf_counter()
        phase.latencies_ms.append((answered - due) * 1000)
        phase.service_ms.append((answered - sent) * 1000)
        phase.statuses[response.status_code] = phase.statuses.get(response.status_code, 0) + 1
        responses.append(response)

    tasks = []
    for i in range(count):
        due = started + i / phase.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            phase.late_ms = max(phase.late_ms, -delay * 1000)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    phase.server_cpu_s = cpu_seconds(server_pid) - cpu_before
    return responses


async def settle(client: httpx.AsyncClient, lead_ids: list[str], timeout: float) -> int:
    """Wait until no lead is `processing`; returns how many settled."""
    deadline = time.monotonic() + timeout
    waiting = set(lead_ids)
    while waiting and time.monotonic() < deadline:
        for lead_id in list(waiting):
            response = await client.get(f"/leads/{lead_id}")
            if response.status_code == 200 and response.json()["status"] != "processing":
                waiting.discard(lead_id)
        if waiting:
            await asyncio.sleep(0.5)
    return len(lead_ids) - len(waiting)


async def measure(app_url: str, hello_url: str, args: argparse.Namespace,
                  pid: int) -> list[Phase]:
    from leadflow.data.synthetic import synthetic_leads

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=app_url, headers=HEADERS, limits=limits,
                                 timeout=60) as client, \
            httpx.AsyncClient(base_url=hello_url, limits=limits, timeout=60) as bare:
        for _ in range(50):  # warm both apps, the connection pools and the graph
            await bare.get("/hello")
            await client.get("/bench/hello")
        warm = synthetic_leads(5, seed=99, prefix="WARM")
        await settle(client, (await client.post("/leads", json=warm)).json()["lead_ids"], 60)

        hello = Phase("GET /hello (bare FastAPI, same process)", args.get_rate)
        await drive(bare, hello, args.hello_seconds, lambda i: bare.get("/hello"), pid)
        guarded = Phase("GET /bench/hello (leadflow's guards)", args.get_rate)
        await drive(client, guarded, args.hello_seconds,
                    lambda i: client.get("/bench/hello"), pid)

        items = synthetic_leads(int(args.seconds * args.post_rate), seed=11, prefix="LOAD")
        post = Phase("POST /leads (one item)", args.post_rate)
        accepted = await drive(client, post, args.seconds,
                               lambda i: client.post("/leads", json=items[i]), pid)
        lead_ids = [r.json()["lead_ids"][0] for r in accepted if r.status_code == 202]
        settled = await settle(client, lead_ids, timeout=600)
        print(f"{settled} of {len(lead_ids)} posted leads settled before the GET phase",
              flush=True)

        get = Phase("GET /leads/{id} (settled lead)", args.get_rate)
        await drive(client, get, args.seconds,
                    lambda i: client.get(f"/leads/{lead_ids[i % len(lead_ids)]}"), pid)
    return [hello, guarded, post, get]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="length of the POST and GET phases")
    parser.add_argument("--hello-seconds", type=float, default=10.0)
    parser.add_argument("--post-rate", type=float, default=20.0, help="POST /leads per second")
    parser.add_argument("--get-rate", type=float, default=50.0,
                        help="GET /leads/{id} (and hello) per second")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    with tempfile.TemporaryDirectory(prefix="leadflow-api-load-") as tmp:
        env = {**os.environ, "LEADFLOW_MODEL": "rules"}
        env.pop("LANGSMITH_API_KEY", None)
        env.pop("LANGSMITH_TRACING", None)
        server = subprocess.Popen([sys.executable, __file__, "--serve", tmp], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            line = server.stdout.readline().split()
            if not line or line[0] != "PORTS":
                raise SystemExit(f"the server did not start (exit {server.wait(10)})")
            app_url, hello_url = (f"http://127.0.0.1:{port}" for port in line[1:3])
            for _ in range(300):  # the app opens its runtime (graph, knowledge base) first
                try:
                    if httpx.get(f"{app_url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            else:
                raise SystemExit("the API did not become healthy within 30 s")
            phases = asyncio.run(measure(app_url, hello_url, args, server.pid))
        finally:
            if server.stdin:
                server.stdin.close()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()

    load = os.getloadavg()
    print(f"\n{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          "latency in ms from each request's scheduled send time (sent→answer: from when "
          "the client actually sent it; the two differ when the client itself falls behind)")
    print("| route | rate/s | requests | 2xx/3xx | p50 | p95 | p99 | max | sent→answer p50 "
          "| sent→answer p95 | server CPU ms/request |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for phase in phases:
        print(phase.row())
    for phase in phases:
        if phase.errors or any(status >= 400 for status in phase.statuses):
            print(f"  {phase.name}: {phase.errors} transport errors, statuses "
                  f"{json.dumps(phase.statuses)}")
        if phase.late_ms > 50:
            print(f"  {phase.name}: the client fell {phase.late_ms:.0f} ms behind schedule")
    hello, _guarded, post, get = phases
    print(f"api_load: post p50={post.pct(50):.1f} p95={post.pct(95):.1f} "
          f"get p50={get.pct(50):.1f} p95={get.pct(95):.1f} "
          f"hello p50={hello.pct(50):.1f} p95={hello.pct(95):.1f} "
          f"post/hello={post.pct(50) / hello.pct(50):.1f} "
          f"get/hello={get.pct(50) / hello.pct(50):.1f} (p50 ratios)")


if __name__ == "__main__":
    main()
