"""A real CalDAV server for the tests: Radicale (from PyPI, the dev extra) run as a subprocess
of this Python on 127.0.0.1 with its own temporary storage and a htpasswd file holding one
service account, whose home holds one calendar per rep (`/leadflow/<rep id>/`).

Radicale's own server refuses port 0 ("127.0.0.1:0" is not a valid `hosts` entry), so its
WSGI application is served by `wsgiref` in the subprocess instead, on a socket bound to port
0 whose number the subprocess prints: no port is found, released and handed over later (a
race another run of the suite could win)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.ports import announced

# Radicale's application (its storage, auth and rights as configured) behind a threading
# wsgiref server on port 0; the line it prints says the port.
SERVE = """
import socketserver, sys, wsgiref.simple_server as wsgi
import radicale, radicale.config, radicale.log
configuration = radicale.config.load([(sys.argv[1], False)])
radicale.log.setup()
radicale.log.set_level(configuration.get("logging", "level"), False)
class Server(socketserver.ThreadingMixIn, wsgi.WSGIServer):
    daemon_threads = True
class Quiet(wsgi.WSGIRequestHandler):
    def log_message(self, *args):
        pass
httpd = wsgi.make_server("127.0.0.1", 0, radicale.Application(configuration),
                         server_class=Server, handler_class=Quiet)
print(f"radicale listening on 127.0.0.1:{httpd.server_port}", flush=True)
httpd.serve_forever()
"""
LISTENING = re.compile(r"radicale listening on 127\.0\.0\.1:(\d+)")
# A deadline for a hang, not a speed claim: a loaded 2-core machine can take many seconds.
START_DEADLINE_S = 120

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


def _config(root: Path) -> str:
    return f"""
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


def start(root: Path) -> Radicale:
    """Radicale under `root`, answering on the port it printed; the caller stops it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "users").write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
    (root / "config").write_text(_config(root), encoding="utf-8")
    log_path = root / "radicale.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", SERVE, str(root / "config")],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        port = int(announced(proc, log_path, LISTENING, timeout_s=START_DEADLINE_S).group(1))
    except RuntimeError:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        raise
    return Radicale(port, root, proc)


def running(root: Path) -> Iterator[Radicale]:
    server = start(root)
    try:
        yield server
    finally:
        server.stop()
