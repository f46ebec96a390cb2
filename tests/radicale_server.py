"""A real CalDAV server for the tests: Radicale (from PyPI, the dev extra) run as a subprocess
of this Python on 127.0.0.1 with its own temporary storage and a htpasswd file holding one
service account, whose home holds one calendar per rep (`/leadflow/<rep id>/`).

Radicale cannot say which port it got from port 0, so a free port is found by binding one
and reading it back, then handed to Radicale; if something else takes it in between, the
start is tried again on another port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

USER = "leadflow"
PASSWORD = "calendar-s3cret-for-tests"


@dataclass
class Radicale:
    port: int
    root: Path
    proc: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        """LEADFLOW_CALDAV_URL: the service account's home, the reps' calendars under it."""
        return f"http://127.0.0.1:{self.port}/{USER}/"

    def client(self) -> Any:
        import caldav

        return caldav.DAVClient(url=self.base_url, username=USER, password=PASSWORD,
                                timeout=10)

    def make_calendar(self, rep_id: str) -> Any:
        return self.client().principal().make_calendar(name=rep_id, cal_id=rep_id)

    def calendar(self, rep_id: str) -> Any:
        return self.client().calendar(url=f"{self.base_url}{rep_id}/")

    def busy(self, rep_id: str, start: datetime, end: datetime, summary: str = "busy",
             **extra: str) -> None:
        """An event in the rep's calendar from start to end (extra: TRANSP, STATUS …)."""
        from icalendar import Calendar, Event

        ical = Calendar()
        ical.add("prodid", "-//leadflow tests//EN")
        ical.add("version", "2.0")
        event = Event()
        event.add("uid", f"{rep_id}-{start:%Y%m%dT%H%M%SZ}-{summary}")
        event.add("dtstamp", start)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", summary)
        for key, value in extra.items():
            event.add(key, value)
        ical.add_component(event)
        self.calendar(rep_id).add_event(ical.to_ical().decode())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, port: int) -> str:
    return f"""
[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {root}/users
htpasswd_encryption = plain
[rights]
type = owner_only
[storage]
filesystem_folder = {root}/collections
[logging]
level = error
mask_passwords = True
"""


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def start(root: Path, attempts: int = 5) -> Radicale:
    root.mkdir(parents=True, exist_ok=True)
    (root / "users").write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
    last = ""
    for _ in range(attempts):
        port = _free_port()
        (root / "config").write_text(_config(root, port), encoding="utf-8")
        log = (root / "radicale.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", "radicale", "--config",
                                 str(root / "config")], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            if _listening(port):
                return Radicale(port, root, proc)
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        last = (root / "radicale.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"Radicale did not start: {last}")


def running(root: Path) -> Iterator[Radicale]:
    server = start(root)
    try:
        yield server
    finally:
        server.stop()
