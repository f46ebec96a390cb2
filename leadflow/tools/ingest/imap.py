"""An IMAP mailbox as a source of email items (`leadflow watch`), through `imapclient`.

What this module does is only IMAP: read a mailbox URL, log in (TLS by default), read the
mailbox's UIDVALIDITY, find messages after a UID, fetch them without setting \\Seen, mark
them processed (a flag or a keyword, or a move to another folder), and wait for news with
IDLE (or by polling a server without it). The watch loop that makes the items durable and
runs them is `leadflow.inbox`.

Every failure a user can fix (a bad URL, a refused login, a server that cannot be reached,
a mailbox that does not exist) is an `ImapError` whose message is the one line to show.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from leadflow.tools.ingest.files import GUESSED_FLAG, message_text

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
IMPLICIT_TLS_PORT = 993
# IMAP IDLE must be renewed before the server's 30-minute inactivity limit (RFC 2177).
IDLE_RENEW_S = 600.0
COMMAND_TIMEOUT_S = 30.0
FETCH_CHUNK = 50
MAX_ID_LENGTH = 200  # the API's item id limit: the same message has the same id everywhere
# the unprocessed search for a mark that is a system flag; any other mark is a keyword
_UNFLAGGED = {"\\seen": ["UNSEEN"], "\\flagged": ["UNFLAGGED"],
              "\\answered": ["UNANSWERED"]}
_MESSAGE_ID = re.compile(rb"(?im)^message-id[ \t]*:[ \t]*(.*(?:\r?\n[ \t]+.*)*)")


class ImapError(RuntimeError):
    """A problem the user fixes (URL, credentials, server, mailbox): its text is one line."""


@dataclass(frozen=True)
class MailboxUrl:
    """`imap://user@host:port/Folder` read: TLS is `implicit` (imaps://, or port 993),
    `starttls` (imap:// on any other port) or `plain` (only asked for, only on localhost)."""

    user: str
    host: str
    port: int
    folder: str
    tls: str  # implicit | starttls | plain

    @property
    def key(self) -> str:
        """The mailbox's name in the CRM's cursor table: no password, ever."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"imap://{self.user}@{host}:{self.port}/{self.folder}"


def parse_mailbox_url(url: str, *, plain: bool = False, user: str = "") -> MailboxUrl:
    """Read `imap[s]://user@host[:port]/Folder`; the user may come from `user`
    (LEADFLOW_IMAP_USER) instead. Raises ImapError saying what is wrong."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ImapError(f"not a mailbox URL ({exc}): expected imap://user@host:port/INBOX"
                        ) from None
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ImapError(f"not a mailbox URL: {url!r}; expected imap://user@host:port/INBOX "
                        "(or imaps://)")
    if parts.password:
        raise ImapError("put the password in LEADFLOW_IMAP_PASSWORD (environment or .env), "
                        "not in the URL: a command line is visible to every user")
    if parts.query or parts.fragment:
        raise ImapError(f"a mailbox URL has no ?query or #fragment: {url!r}")
    login = unquote(parts.username or "") or user
    if not login:
        raise ImapError("no user: write imap://user@host/INBOX or set LEADFLOW_IMAP_USER")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    host = parts.hostname
    if plain:
        if host not in LOCAL_HOSTS:
            raise ImapError(f"--plain sends the password unencrypted; it is only allowed for "
                            f"a server on this machine (localhost), not {host}")
        tls = "plain"
    elif parts.scheme == "imaps" or port == IMPLICIT_TLS_PORT:
        tls = "implicit"
    else:
        tls = "starttls"
    default_port = IMPLICIT_TLS_PORT if tls == "implicit" else 143
    return MailboxUrl(user=login, host=host, port=port or default_port, folder=folder, tls=tls)


@dataclass(frozen=True)
class Fetched:
    uid: int
    raw: bytes
    arrived: datetime | None  # INTERNALDATE: when the server received it


@dataclass(frozen=True)
class MailboxState:
    uidvalidity: int
    uidnext: int | None


def message_id(raw: bytes) -> str | None:
    """The Message-ID header as written (unfolded), or None. Read from the bytes, not a
    parsed message: a malformed header elsewhere must not lose the id."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = _MESSAGE_ID.search(head)
    if found is None:
        return None
    value = b" ".join(found.group(1).split()).decode("ascii", "replace").strip()
    return value or None


def message_item(raw: bytes, arrived: datetime | None) -> dict[str, Any]:
    """A fetched message as an email item (SPEC §8). Its id is the Message-ID (the same
    message is one lead however often it is read: after a restart, after UIDVALIDITY
    changed, copied into a second watched mailbox), or a hash of its bytes when it has none."""
    mid = message_id(raw)
    if mid is None or len(mid) > MAX_ID_LENGTH:
        mid = "sha256:" + hashlib.sha256(raw).hexdigest()[:40]
    text, guessed = message_text(raw)
    item: dict[str, Any] = {"id": mid, "source": "email", "payload": text}
    if arrived is not None:
        stamp = arrived if arrived.tzinfo else arrived.replace(tzinfo=UTC)
        item["received_at"] = stamp.astimezone(UTC).isoformat()
    if guessed:
        item["_flags"] = [f"{GUESSED_FLAG}{guessed}"]
    return item


class Mailbox:
    """One logged-in IMAP session on one folder. Not thread-safe: one caller at a time."""

    def __init__(self, url: MailboxUrl, password: str, *, flag: str = "\\Seen",
                 move_to: str | None = None, ca_file: str = "",
                 timeout: float = COMMAND_TIMEOUT_S) -> None:
        self.url = url
        self.password = password
        self.flag = flag
        self.move_to = move_to
        self.ca_file = ca_file
        self.timeout = timeout
        self.client: IMAPClient | None = None

    # ------------------------------------------------------------------ session
    def open(self) -> MailboxState:
        """Connect, log in, select the folder (and create the move-to folder); the state."""
        url = self.url
        where = f"{url.host}:{url.port}"
        try:
            context = ssl.create_default_context(cafile=self.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise ImapError(f"cannot read LEADFLOW_IMAP_CA_FILE {self.ca_file}: {exc}") from None
        try:
            client = IMAPClient(url.host, port=url.port, ssl=url.tls == "implicit",
                                ssl_context=context, timeout=self.timeout)
        except ssl.SSLError as exc:
            raise ImapError(f"TLS with {where} failed: {exc.reason or exc}") from None
        except (OSError, IMAPClientError) as exc:
            raise ImapError(f"cannot reach the IMAP server {where}: {_why(exc)}") from None
        self.client = client
        try:
            client.normalise_times = False  # INTERNALDATE with its zone
            if url.tls == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise ImapError(f"{where} offers no STARTTLS: use imaps:// (port 993), or "
                                    "--plain for a server on this machine")
                client.starttls(context)
            try:
                client.login(url.user, self.password)
            except LoginError:
                raise ImapError(f"login refused for {url.user} at {where}: check the user and "
                                "LEADFLOW_IMAP_PASSWORD") from None
            if self.move_to and not client.folder_exists(self.move_to):
                client.create_folder(self.move_to)
            return self.select()
        except ImapError:
            self.close()
            raise
        except ssl.SSLError as exc:
            self.close()
            raise ImapError(f"TLS with {where} failed: {exc.reason or exc}") from None
        except (OSError, IMAPClientError) as exc:
            self.close()
            raise ImapError(f"IMAP server {where}: {_why(exc)}") from None

    def select(self) -> MailboxState:
        client = self._client()
        try:
            info = client.select_folder(self.url.folder)
        except IMAPClientError as exc:
            raise ImapError(f"cannot open mailbox {self.url.folder!r} on {self.url.host}: "
                            f"{_why(exc)}") from None
        uidnext = info.get(b"UIDNEXT")
        return MailboxState(uidvalidity=int(info[b"UIDVALIDITY"]),
                            uidnext=int(uidnext) if uidnext is not None else None)

    def close(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 — the session is over either way
            with contextlib.suppress(Exception):
                client.shutdown()

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise ImapError("the mailbox is not open")
        return self.client

    # ------------------------------------------------------------------ messages
    def unprocessed(self) -> list[str]:
        """The search for messages not yet marked processed (a first scan, or one after
        UIDVALIDITY changed): a moved message is gone from the folder, a flagged one has it."""
        if self.move_to:
            return ["ALL"]
        return _UNFLAGGED.get(self.flag.lower(), ["UNKEYWORD", self.flag])

    def uids_after(self, last_uid: int, *, unprocessed_only: bool = False) -> list[int]:
        """UIDs above `last_uid`, in order (`n:*` also matches the highest UID when it is
        below n, hence the filter)."""
        criteria: list[Any] = ["UID", f"{last_uid + 1}:*"]
        if unprocessed_only:
            criteria += self.unprocessed()
        found = self._client().search(criteria)
        return sorted(int(uid) for uid in found if int(uid) > last_uid)

    def fetch(self, uids: Sequence[int]) -> list[Fetched]:
        """The messages' bytes (BODY.PEEK: reading sets no flag) and arrival times; a UID
        expunged meanwhile is simply absent."""
        if not uids:
            return []
        data = self._client().fetch(list(uids), ["BODY.PEEK[]", "INTERNALDATE"])
        out = []
        for uid in sorted(data):
            parts = data[uid]
            raw = parts.get(b"BODY[]")
            if raw is None:
                continue
            arrived = parts.get(b"INTERNALDATE")
            out.append(Fetched(int(uid), bytes(raw),
                               arrived if isinstance(arrived, datetime) else None))
        return out

    def mark(self, uids: Sequence[int]) -> None:
        """Mark processed messages: move them (MOVE, or COPY + \\Deleted + expunge on a
        server without it) or add the flag/keyword."""
        if not uids:
            return
        client = self._client()
        if self.move_to:
            if client.has_capability("MOVE"):
                client.move(list(uids), self.move_to)
                return
            client.copy(list(uids), self.move_to)
            client.add_flags(list(uids), [b"\\Deleted"])
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(list(uids))
            else:
                client.expunge()
            return
        client.add_flags(list(uids), [self.flag.encode()])

    # ------------------------------------------------------------------ waiting
    @property
    def can_idle(self) -> bool:
        return bool(self._client().has_capability("IDLE"))

    def news_since_select(self) -> bool:
        """Whether the server announced a message (an untagged EXISTS or RECENT beyond the
        SELECT's own) while a sweep's later commands ran. IDLE reports only what arrives
        after it starts, so such a message would otherwise wait for the next one or for the
        IDLE renewal (minutes). imaplib keeps untagged responses, cleared at each SELECT, in
        `untagged_responses`; IMAPClient has no public view of them."""
        untagged = self._client()._imap.untagged_responses
        return len(untagged.get("EXISTS", ())) > 1 or len(untagged.get("RECENT", ())) > 1

    def wait(self, stop: threading.Event, *, tick: float = 1.0, poll: float | None = None,
             renew: float = IDLE_RENEW_S, on_idle: Callable[[], object] | None = None) -> None:
        """Return when the mailbox may have news (IDLE said EXISTS, the IDLE renewal time
        came, or a poll interval passed) or `stop` is set; checks `stop` every `tick`."""
        client = self._client()
        if poll is not None or not self.can_idle:
            deadline = time.monotonic() + (poll if poll is not None else 30.0)
            while not stop.is_set() and time.monotonic() < deadline:
                stop.wait(min(tick, max(0.0, deadline - time.monotonic())))
            if not stop.is_set():
                client.noop()
            return
        if self.news_since_select():  # it came while the sweep ran: sweep again now
            return
        client.idle()
        try:
            if on_idle is not None:
                on_idle()
            deadline = time.monotonic() + renew
            while not stop.is_set() and time.monotonic() < deadline:
                responses = client.idle_check(timeout=tick)
                if any(isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT")
                       for r in responses):
                    return
        finally:
            client.idle_done()


def _why(exc: BaseException) -> str:
    """An exception as a few words: the OS's reason for a socket error, else its text."""
    if isinstance(exc, socket.gaierror):
        return f"unknown host ({exc.strerror})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]
