"""Speed-to-lead end to end (issue 17): how long from a lead's email landing in the sales
mailbox until its rep is notified, and until the first email offering the rep's open
meeting slots exists, beside the same leads posted to `POST /leads`.

Everything is real and local: a throw-away Dovecot (tests/dovecot.py) holds the mailbox, a
Radicale (tests/radicale_server.py) one calendar per rep, `leadflow watch imap://…` runs as
its own process (IDLE), and the HTTP API (the app `leadflow serve` runs) under uvicorn in
another, each with its own SQLite CRM and checkpoints, rules model (no LLM). The leads are
the hot e-mails of evals/datasets/leads.jsonl (each again with a `+k` address when more are
asked for than there are), delivered at a fixed rate, open loop: one APPEND to the mailbox,
or one POST, every 1/rate seconds whether or not the earlier ones are done.

Per lead, from its arrival (the moment the APPEND returned, or the POST was sent):
- notified: the CRM outbox row telling its rep (`notifications.created_at`, audience rep or
  sales_manager), written by the routing step;
- slots: the first-email drafts (`outreach_drafts.created_at`), for the leads whose first
  email offers slots (the follow-up step's hand-off message says "offers N slots of <rep>":
  hot leads whose rep's calendar had open time).
Both timestamps come from the lead's own process's clock, the arrivals from this one's: one
machine, one clock. A hot lead the rules send to a person first (`manual_review`: a big
deal) is counted as `review` and left out of the times; one that was not notified within
--timeout counts as missing (exit 1).

    python benchmarks/speed_to_lead.py [--leads 20] [--rate 1] [--timeout 60]

Prints one line per path:
speed_to_lead: path=imap n=N notified=K review=R p50_s=… p95_s=… slots_n=M slots_p50_s=…
slots_p95_s=… p95_vs_target=… (target p95 ≤ 5 s plus LLM time; rules model: 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_P95_S = 5.0  # issue 17: p95 ≤ 5 s plus LLM time (none here: rules model)
KEY = "bench-key-speed17"
DATASET = ROOT / "evals" / "datasets" / "leads.jsonl"
NOTIFIED_AUDIENCES = ("rep", "sales_manager")
FOLLOWUP_AGENT = "FollowUp Monitor"
REVIEW = "manual_review"
# the follow-up step's hand-off notes when its first email offers the rep's slots
OFFERED = re.compile(r"\boffers [1-9]\d* slots of ")


# ---------------------------------------------------------------------------- the leads
def hot_emails() -> list[str]:
    """The raw RFC 822 e-mails labelled hot (only hot) in the main eval set."""
    found = []
    for line in DATASET.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        item = row["item"]
        if item.get("source") == "email" and isinstance(item.get("payload"), str) and \
                row["labels"].get("tier") == ["hot"]:
            found.append(item["payload"])
    if not found:
        raise SystemExit(f"no hot e-mails in {DATASET}")
    return found


SENDER = re.compile(r"^(From:[^\n]*?<?)([^<>\s@]+)@([^<>\s]+?)(>?)\s*$", re.MULTILINE)
MESSAGE_ID = re.compile(r"^Message-ID:[^\n]*\n", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class Lead:
    email: str  # the sender's address: how both CRMs find the lead
    raw: str  # the message, CRLF line ends


def leads(count: int, tag: str) -> list[Lead]:
    """`count` hot e-mails; past the dataset's size the senders get `+k` addresses (a new
    person each, the same company). Every Message-ID is new (`tag` tells runs apart)."""
    base = hot_emails()
    out = []
    for i in range(count):
        raw = base[i % len(base)]
        k = i // len(base)
        match = SENDER.search(raw)
        if match is None:
            raise SystemExit(f"no sender in dataset e-mail {i % len(base)}")
        local = match.group(2) + (f"+{tag}{k}" if k or tag == "warm" else "")
        email = f"{local}@{match.group(3)}".lower()
        raw = raw[:match.start(2)] + local + raw[match.end(2):]
        raw = MESSAGE_ID.sub("", raw, count=1)
        raw = f"Message-ID: <speed-{tag}-{i}-{os.getpid()}@bench.leadflow.example>\n" + raw
        out.append(Lead(email, raw.replace("\r\n", "\n").replace("\n", "\r\n")))
    return out


# ---------------------------------------------------------------------------- measuring
@dataclass
class Timings:
    name: str
    arrived: dict[str, datetime] = field(default_factory=dict)  # email → arrival
    notified_s: list[float] = field(default_factory=list)
    slots_s: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    review: list[str] = field(default_factory=list)  # hot leads a person decides first
    stages: dict[str, list[float]] = field(default_factory=dict)  # stage → seconds
    late_s: float = 0.0  # how far behind its schedule the sender itself fell (max)

    def line(self) -> str:
        p95 = pct(self.notified_s, 95)
        return (f"speed_to_lead: path={self.name} n={len(self.arrived)} "
                f"notified={len(self.notified_s)} review={len(self.review)} "
                f"p50_s={pct(self.notified_s, 50):.3f} "
                f"p95_s={p95:.3f} slots_n={len(self.slots_s)} "
                f"slots_p50_s={pct(self.slots_s, 50):.3f} "
                f"slots_p95_s={pct(self.slots_s, 95):.3f} "
                f"p95_vs_target={p95 / TARGET_P95_S:.3f} "
                f"slots_p95_vs_target={pct(self.slots_s, 95) / TARGET_P95_S:.3f} "
                f"sender_late_s={self.late_s:.3f}")

    def stage_line(self) -> str:
        """Medians of the steps between arrival and the offer, one lead's time split."""
        parts = " ".join(f"{name}_p50_s={pct(values, 50):.3f}"
                         for name, values in self.stages.items())
        return f"speed_to_lead_stages: path={self.name} {parts}"


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN for none)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def read_times(database_url: str, emails: list[str]) -> dict[str, dict[str, Any]]:
    """Per sender address: the lead's status, whether its outcome offers slots, when its
    rep was notified and when its first-email drafts were written (None: not yet)."""
    from sqlalchemy import create_engine, select

    from leadflow.tools.crm import INTAKE
    from leadflow.tools.crm.schema import Lead as LeadRow
    from leadflow.tools.crm.schema import MessageLog, Notification, OutreachDraftRow, QueueItem

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(LeadRow.id, LeadRow.email_key, LeadRow.status,
                                       LeadRow.outcome)
                                .where(LeadRow.email_key.in_(emails))).all()
            by_id = {r.id: r for r in rows}
            notes: dict[str, datetime] = {}
            for lead_id, at in conn.execute(
                    select(Notification.lead_id, Notification.created_at).where(
                        Notification.lead_id.in_(list(by_id)),
                        Notification.audience.in_(NOTIFIED_AUDIENCES))):
                notes[lead_id] = min(at, notes.get(lead_id, at))
            drafts: dict[str, datetime] = {}
            for lead_id, at in conn.execute(
                    select(OutreachDraftRow.lead_id, OutreachDraftRow.created_at).where(
                        OutreachDraftRow.lead_id.in_(list(by_id)),
                        OutreachDraftRow.chosen.is_(True))):
                drafts[lead_id] = at
            taken = dict(conn.execute(select(QueueItem.lead_id, QueueItem.created_at).where(
                QueueItem.lead_id.in_(list(by_id)), QueueItem.queue == INTAKE)).all())
            started: dict[str, datetime] = {}
            offered: set[str] = set()
            for lead_id, at, sender, body in conn.execute(
                    select(MessageLog.lead_id, MessageLog.created_at, MessageLog.from_agent,
                           MessageLog.body).where(MessageLog.lead_id.in_(list(by_id)))):
                started[lead_id] = min(at, started.get(lead_id, at))
                said = str(((body or {}).get("payload") or {}).get("processing_notes") or "")
                if sender == FOLLOWUP_AGENT and OFFERED.search(said):
                    offered.add(lead_id)
    finally:
        engine.dispose()
    out = {}
    for lead_id, row in by_id.items():
        out[row.email_key] = {"lead_id": lead_id, "status": row.status,
                              "settled": row.outcome is not None,
                              "offers_slots": lead_id in offered,
                              "notified": notes.get(lead_id), "drafted": drafts.get(lead_id),
                              "taken": taken.get(lead_id), "started": started.get(lead_id)}
    return out


def collect(path: Timings, database_url: str, timeout: float) -> None:
    """Wait (polling the CRM, up to `timeout` s after the last arrival) until every lead
    has settled or paused, then turn the timestamps into seconds from arrival."""
    emails = list(path.arrived)
    deadline = time.monotonic() + timeout
    while True:
        found = read_times(database_url, emails)
        if all(found.get(e, {}).get("settled") for e in emails) or \
                time.monotonic() > deadline:
            break
        time.sleep(0.25)
    for email, arrived in path.arrived.items():
        one = found.get(email)
        if one is not None and one["notified"] is None and one["status"] == REVIEW:
            path.review.append(email)  # by design: a big deal waits for a person's decision
            continue
        if one is None or one["notified"] is None:
            path.missing.append(f"{email}: " + ("never captured" if one is None else
                                                f"status {one['status']}, no rep notified"))
            continue
        path.notified_s.append((one["notified"] - arrived).total_seconds())
        if one["offers_slots"] and one["drafted"] is not None:
            path.slots_s.append((one["drafted"] - arrived).total_seconds())
        marks = [("taken_in", one["taken"]), ("graph_started", one["started"]),
                 ("notified", one["notified"]), ("drafted", one["drafted"])]
        before = arrived
        for name, at in marks:
            if at is not None:
                path.stages.setdefault(name, []).append((at - before).total_seconds())
                before = at


def paced(count: int, rate: float, path: Timings) -> Iterator[int]:
    """0 … count-1, each yielded at its slot t0 + i / rate (open loop)."""
    started = time.monotonic()
    for i in range(count):
        delay = started + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            path.late_s = max(path.late_s, -delay)
        yield i


# ---------------------------------------------------------------------------- the two paths
def deliver_imap(server: Any, batch: list[Lead], rate: float, path: Timings) -> None:
    client = server.client("INBOX")
    try:
        for i in paced(len(batch), rate, path):
            client.append("INBOX", batch[i].raw.encode("utf-8"))
            path.arrived[batch[i].email] = datetime.now(UTC)  # the message is in the mailbox
    finally:
        client.logout()


def deliver_api(base_url: str, batch: list[Lead], rate: float, path: Timings) -> None:
    import httpx

    errors: list[str] = []

    async def go() -> None:
        async with httpx.AsyncClient(base_url=base_url, headers={"X-API-Key": KEY},
                                     timeout=30) as client:
            tasks = []

            async def post(lead: Lead) -> None:
                path.arrived[lead.email] = datetime.now(UTC)
                response = await client.post("/leads", json={
                    "source": "email", "received_at": datetime.now(UTC).isoformat(),
                    "payload": lead.raw})
                if response.status_code != 202:
                    errors.append(f"{response.status_code} {response.text[:200]}")

            started = time.monotonic()
            for i, lead in enumerate(batch):
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    path.late_s = max(path.late_s, -delay)
                tasks.append(asyncio.create_task(post(lead)))
            await asyncio.gather(*tasks)

    asyncio.run(go())
    if errors:
        raise SystemExit(f"POST /leads failed: {errors[:3]}")


# ---------------------------------------------------------------------------- processes
def serve_api() -> None:
    """`--serve`: the API (the app `leadflow serve` runs) under uvicorn on a port of its
    own choosing; prints it, stops when stdin closes."""
    import uvicorn

    from leadflow.api import create_app
    from leadflow.settings import ApiSettings, Settings

    app = create_app(Settings.from_env(), ApiSettings(api_key=KEY))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections wait in the backlog until uvicorn serves them
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                           server_header=False))

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def stop_when_stdin_closes() -> None:
            sys.stdin.read()
            loop.call_soon_threadsafe(setattr, server, "should_exit", True)

        threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
        await server.serve(sockets=[sock])

    print("PORT", sock.getsockname()[1], flush=True)
    asyncio.run(main())


def child_env(home: Path, caldav: Any, extra: dict[str, str]) -> dict[str, str]:
    from tests import radicale_server as rs

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LEADFLOW_", "OPENAI_", "LANGSMITH_"))}
    env.update({"LEADFLOW_HOME": str(home), "LEADFLOW_MODEL": "rules",
                "LEADFLOW_CALDAV_URL": caldav.base_url, "LEADFLOW_CALDAV_USER": rs.USER,
                "LEADFLOW_CALDAV_PASSWORD": rs.PASSWORD,
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]),
                **extra})
    return env


@contextmanager
def process(argv: list[str], env: dict[str, str], cwd: Path, ready: str,
            log: Path, timeout: float = 120) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A child process, until the line containing `ready` on its stdout or stderr (merged
    into `log`); yields it and that line. Stopped (stdin closed, SIGTERM) on the way out."""
    out = log.open("w")
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines: list[str] = []
    seen = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for text in proc.stdout:
            out.write(text)
            out.flush()
            if not seen.is_set():
                lines.append(text)
                if ready in text:
                    seen.set()
        seen.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        if not seen.wait(timeout) or not lines or ready not in lines[-1]:
            raise SystemExit(f"{argv[2:4]} did not start:\n{''.join(lines)[-3000:]}")
        yield proc, lines[-1]
    finally:
        if proc.poll() is None:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.terminate()
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()


def run(count: int, rate: float, timeout: float, keep: Path | None = None) -> list[Timings]:
    """Both paths, one after the other, against fresh servers; the two measured paths."""
    from leadflow.tools.reps import RepDirectory
    from tests import dovecot as dc
    from tests import radicale_server as rs

    if dc.DOVECOT is None:
        raise SystemExit("Dovecot is not installed (apt-get install dovecot-imapd)")
    work = keep or Path(tempfile.mkdtemp(prefix="leadflow-speed-"))
    with ExitStack() as stack:
        if keep is None:
            stack.callback(shutil.rmtree, work, True)
        started = dc.start(work / "dovecot")
        stack.callback(lambda: (dc.stop(started.proc),
                                shutil.rmtree(started.home, ignore_errors=True)
                                if started.home != work / "dovecot" / "home" else None))
        caldav = rs.start(work / "radicale")
        stack.callback(caldav.stop)
        for rep in RepDirectory().reps:
            caldav.make_calendar(rep.id)
        imap_home, api_home = work / "imap", work / "api"
        imap_home.mkdir()
        api_home.mkdir()
        imap_url = f"sqlite:///{imap_home / 'crm.db'}"
        api_url = f"sqlite:///{api_home / 'crm.db'}"
        python = sys.executable
        stack.enter_context(process(
            [python, "-m", "leadflow.cli", "watch", started.server.url("INBOX"), "--plain"],
            child_env(imap_home, caldav, {"LEADFLOW_IMAP_PASSWORD": dc.PASSWORD}),
            imap_home, "watching", work / "watch.log"))
        _, port_line = stack.enter_context(process(
            [python, str(Path(__file__).resolve()), "--serve"],
            child_env(api_home, caldav, {"LEADFLOW_API_KEY": KEY}), api_home, "PORT",
            work / "api.log"))
        base_url = f"http://127.0.0.1:{port_line.split()[1]}"

        # one lead each first, not measured: imports, the knowledge base, the first IDLE
        warm_imap, warm_api = Timings("warm-imap"), Timings("warm-api")
        deliver_imap(started.server, leads(1, "warm"), 1.0, warm_imap)
        deliver_api(base_url, leads(1, "warm"), 1.0, warm_api)
        collect(warm_imap, imap_url, timeout=120)
        collect(warm_api, api_url, timeout=120)
        for warm in (warm_imap, warm_api):
            if warm.missing:
                raise SystemExit(f"warm-up lead not notified ({warm.name}): {warm.missing}; "
                                 f"see {work}/*.log")

        batch = leads(count, "m")
        imap, api = Timings("imap"), Timings("api")
        deliver_imap(started.server, batch, rate, imap)
        collect(imap, imap_url, timeout)
        deliver_api(base_url, batch, rate, api)
        collect(api, api_url, timeout)
        return [imap, api]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=20, help="leads per path")
    parser.add_argument("--rate", type=float, default=1.0, help="leads per second")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds to wait for the last lead to settle")
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it "
                                                  "(logs, CRMs)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve_api()
        return 0
    paths = run(args.leads, args.rate, args.timeout, args.keep)
    for path in paths:
        for missing in path.missing:
            print(f"missing ({path.name}): {missing}", file=sys.stderr)
        print(path.stage_line(), flush=True)
        print(path.line(), flush=True)
    return 1 if any(path.missing for path in paths) else 0


if __name__ == "__main__":
    sys.exit(main())
