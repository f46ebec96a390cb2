"""A real IMAP server for the tests: Debian's Dovecot (`dovecot-imapd`, which .ci/run
installs) started in the foreground with a throw-away configuration: a passwd-file user,
a maildir under a temporary directory, 127.0.0.1 on a free port, no TLS, and nothing
written outside the test's directories (base_dir, state_dir and the log are in it).

Dovecot cannot listen on port 0 (in its configuration `port = 0` turns a listener off) and
takes no socket handed to it outside systemd, so a free port is found by binding one and
reading it back, then handed to Dovecot. Another process may take the port in between: then
Dovecot fails to bind and the start is tried again on another port, and the server is only
taken once the listening socket on that port is one the Dovecot we started holds (the kernel's
socket table against its open files), so a server of anyone else's is never mistaken for it.

Run as root, Dovecot refuses to run its login or mail processes as root: they run as the
`dovenull` and `dovecot` users the package creates, and the passwd file and the mail are
then in a directory of its own under the system's temporary directory that those users can
reach (pytest's tmp_path is private to root), removed when the server stops."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

DOVECOT = shutil.which("dovecot") or next(
    (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if Path(p).exists()), None)
USER = "sales"
PASSWORD = "s3cret-for-tests"
# A deadline for a hang, not a speed claim: a loaded 2-core machine can take many seconds.
START_DEADLINE_S = 120


@dataclass
class Dovecot:
    port: int
    root: Path
    log: Path

    def client(self, folder: str = "INBOX") -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(USER, PASSWORD)
        if not client.folder_exists(folder):
            client.create_folder(folder)
        client.select_folder(folder)
        return client

    def url(self, folder: str = "INBOX") -> str:
        return f"imap://{USER}@127.0.0.1:{self.port}/{folder}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(root: Path, home: Path, port: int, *, as_root: bool) -> str:
    """`home` holds the passwd file and the users' mail: the auth and mail processes read it."""
    me = pwd.getpwuid(os.getuid()).pw_name
    my_group = grp.getgrgid(os.getgid()).gr_name
    login_user = "dovenull" if as_root else me
    internal_user, internal_group = ("dovecot", "dovecot") if as_root else (me, my_group)
    mail_uid, mail_gid = ("dovecot", "dovecot") if as_root else (str(os.getuid()),
                                                                 str(os.getgid()))
    return f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {home}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={home}/users/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _ours(pid: int, port: int) -> bool:
    """Whether the socket listening on 127.0.0.1:`port` is held open by process `pid`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and local == f"0100007F:{port:04X}":  # LISTEN on 127.0.0.1:port
            inodes.add(f"socket:[{inode}]")
    try:
        return any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # gone, or fds closed while we read them
        return False


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False


@dataclass
class Started:
    server: Dovecot
    proc: subprocess.Popen[bytes]
    home: Path


def start(root: Path) -> Started:
    """Dovecot on a free port under `root`, answering; the caller stops it."""
    assert DOVECOT is not None
    as_root = os.getuid() == 0
    root.mkdir(parents=True, exist_ok=True)
    if as_root:
        home = Path(tempfile.mkdtemp(prefix="leadflow-dovecot-"))
        home.chmod(0o755)
        shutil.chown(home, "dovecot", "dovecot")
    else:
        home = root / "home"
        home.mkdir()
    (home / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    (home / "passwd").chmod(0o644)
    last = ""
    for _attempt in range(3):
        port = _free_port()
        conf = root / "dovecot.conf"
        conf.write_text(_config(root, home, port, as_root=as_root))
        log = root / "dovecot.log"
        out = (root / "stdout.log").open("ab")
        proc = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline and proc.poll() is None:
            if _listening(port) and _ours(proc.pid, port):
                return Started(Dovecot(port, root, log), proc, home)
            time.sleep(0.05)
        stop(proc)
        last = (log.read_text(errors="replace") if log.exists() else "") + \
            (root / "stdout.log").read_text(errors="replace")
    raise RuntimeError(f"dovecot did not start:\n{last[-3000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def running(root: Path) -> Iterator[Dovecot]:
    started = start(root)
    try:
        yield started.server
    finally:
        stop(started.proc)
        if started.home != root / "home":
            shutil.rmtree(started.home, ignore_errors=True)
