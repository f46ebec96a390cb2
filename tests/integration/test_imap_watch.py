"""`leadflow watch` against a real IMAP server (Dovecot, tests/dovecot.py): new mail while
watching, a restart in the middle of a mailbox, a mailbox whose UIDVALIDITY changed, a
malformed message, and the one-line errors of the command."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from leadflow.inbox import InboxWatcher
from leadflow.runtime import open_runtime
from leadflow.settings import Settings
from leadflow.toolbox import Toolbox
from leadflow.tools.crm import INTAKE, Lead
from leadflow.tools.ingest.imap import Mailbox, parse_mailbox_url
from tests import dovecot as dc
from tests.conftest import OpenCheckpoints

pytestmark = [
    pytest.mark.imap,
    pytest.mark.skipif(dc.DOVECOT is None, reason="Dovecot is not installed (apt-get install "
                                                  "dovecot-imapd; .ci/run installs it)"),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dc.Dovecot]:
    yield from dc.running(tmp_path / "dovecot")


def mail(n: int, *, domain: str = "northwind-robotics.com", message_id: bool = True) -> bytes:
    """A lead's email, one sender per n (so each message is its own lead)."""
    head = f"From: Dana Quill{n} <dana{n}@{domain}>\r\nTo: sales@ourco.example\r\n" \
           f"Subject: Pricing for 40 seats\r\n"
    if message_id:
        head += f"Message-ID: <lead-{n}@{domain}>\r\n"
    body = ("Hello, we are evaluating tools for our 40-person support team and have budget "
            "approved for this quarter. Could you send pricing?\r\n\r\n--\r\n"
            f"Dana Quill{n}\r\nHead of Support, Northwind Robotics\r\n")
    return (head + "\r\n" + body).encode()


def append(server: dc.Dovecot, folder: str, *messages: bytes) -> None:
    client = server.client(folder)
    try:
        for raw in messages:
            client.append(folder, raw)
    finally:
        client.logout()


class Watch:
    """A watcher on its own event loop in a thread, as `leadflow watch` runs it."""

    def __init__(self, server: dc.Dovecot, tools: Toolbox, checkpoints: OpenCheckpoints,
                 home: Path, folder: str = "INBOX", **mailbox: Any) -> None:
        self.runs: list[tuple[str, str, str]] = []  # (lead id, status, how)
        self.lines: list[str] = []
        url = parse_mailbox_url(server.url(folder), plain=True)
        self.mailbox = Mailbox(url, dc.PASSWORD, **mailbox)
        self.tools, self.checkpoints, self.home = tools, checkpoints, home
        self.error: BaseException | None = None
        self.watcher: InboxWatcher | None = None
        self.task: asyncio.Task[None] | None = None

    async def _main(self, body: Callable[[InboxWatcher], Awaitable[None]] | None,
                    once: bool) -> None:
        stop = asyncio.Event()
        async with open_runtime(Settings.from_env(home=self.home), tools=self.tools,
                                checkpointer=self.checkpoints) as runtime:
            watcher = InboxWatcher(
                runtime, self.mailbox, tick=0.05,
                on_done=lambda lid, o, how: self.runs.append((lid, o["status"], how)),
                say=self.lines.append)
            self.watcher = watcher
            task = asyncio.create_task(watcher.run(stop, once=once))
            self.task = task
            try:
                if body is not None:
                    await body(watcher)
                    stop.set()
                await task
            finally:
                stop.set()
                if not task.done():
                    await task

    def run(self, body: Callable[[InboxWatcher], Awaitable[None]] | None = None,
            once: bool = False) -> None:
        asyncio.run(self._main(body, once))


async def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait for `check`; a watch that stopped on an error meanwhile raises it at once."""
    deadline = time.monotonic() + timeout
    task = next((t for t in asyncio.all_tasks() if t.get_coro().__qualname__  # type: ignore[union-attr]
                 == "InboxWatcher.run"), None)
    while not check():
        if task is not None and task.done():
            task.result()
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def seen_flags(server: dc.Dovecot, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
    client = server.client(folder)
    try:
        uids = client.search(["ALL"])
        return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()}
    finally:
        client.logout()


def lead_count(tools: Toolbox) -> int:
    return tools.crm.count(Lead)


def test_new_mail_while_watching_becomes_leads_then_seen(
        server: dc.Dovecot, tools: Toolbox, checkpoints: OpenCheckpoints, tmp_path: Path) -> None:
    watch = Watch(server, tools, checkpoints, tmp_path / "home")

    async def body(watcher: InboxWatcher) -> None:
        await until(watcher.idle.is_set)  # waiting with IDLE: nothing there yet
        await asyncio.to_thread(append, server, "INBOX", mail(1), mail(2))
        await until(lambda: len(watch.runs) == 2)

    watch.run(body)
    assert sorted(how for _, _, how in watch.runs) == ["processed", "processed"]
    assert all(status != "manual_review" for _, status, _ in watch.runs)
    assert lead_count(tools) == 2
    flags = seen_flags(server)
    assert all(b"\\Seen" in f for f in flags.values()), flags
    cursor = tools.crm.mailbox_cursor(watch.mailbox.url.key)
    assert cursor is not None and cursor.last_uid == 2
    assert not tools.crm.queue_items(INTAKE)  # every intake row resolved
    outcome = tools.crm.get_lead(watch.runs[0][0])
    assert outcome is not None and outcome["channel"] == "email"


def test_restart_mid_stream_loses_and_repeats_nothing(
        server: dc.Dovecot, tools: Toolbox, checkpoints: OpenCheckpoints, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The watch dies after message 2's intake committed but before the cursor moved past
    it; two more arrive while it is down. The restart finishes 2, reads 2 again (a no-op)
    and takes 4 and 5: five leads, each processed once."""
    append(server, "INBOX", mail(1), mail(2), mail(3))
    monkeypatch.setattr("leadflow.inbox.FETCH_CHUNK", 1)
    real_save = tools.crm.save_mailbox_cursor
    calls = {"n": 0}

    def dies_on_second(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemError("killed between intake and cursor")
        real_save(*args, **kwargs)

    monkeypatch.setattr(tools.crm, "save_mailbox_cursor", dies_on_second)
    first = Watch(server, tools, checkpoints, tmp_path / "home")
    with pytest.raises(SystemError):
        first.run(once=True)
    key = first.mailbox.url.key
    cursor = tools.crm.mailbox_cursor(key)
    assert cursor is not None and cursor.last_uid == 1
    assert len(tools.crm.queue_items(INTAKE)) == 1  # message 2: durable, not yet run

    monkeypatch.setattr(tools.crm, "save_mailbox_cursor", real_save)
    append(server, "INBOX", mail(4), mail(5))
    second = Watch(server, tools, checkpoints, tmp_path / "home")
    second.run(once=True)

    runs = first.runs + second.runs
    processed = Counter(lid for lid, _, how in runs if how == "processed")
    assert len(processed) == 5 and set(processed.values()) == {1}, runs
    assert lead_count(tools) == 5
    cursor = tools.crm.mailbox_cursor(key)
    assert cursor is not None and cursor.last_uid == 5
    assert not tools.crm.queue_items(INTAKE)
    assert any("resuming 1 lead" in line for line in second.lines)


def test_uidvalidity_changed_rescans_without_duplicate_leads(
        server: dc.Dovecot, tools: Toolbox, checkpoints: OpenCheckpoints, tmp_path: Path) -> None:
    append(server, "Leads", mail(1), mail(2))
    Watch(server, tools, checkpoints, tmp_path / "home", folder="Leads").run(once=True)
    assert lead_count(tools) == 2
    # The folder is recreated (a migration, a restored backup): new UIDVALIDITY, the same
    # two messages unflagged, and a third one.
    client = server.client("INBOX")
    old = client.folder_status("Leads", [b"UIDVALIDITY"])[b"UIDVALIDITY"]
    client.delete_folder("Leads")
    client.create_folder("Leads")
    assert client.folder_status("Leads", [b"UIDVALIDITY"])[b"UIDVALIDITY"] != old
    client.logout()
    append(server, "Leads", mail(1), mail(2), mail(3))

    again = Watch(server, tools, checkpoints, tmp_path / "home", folder="Leads")
    again.run(once=True)
    assert lead_count(tools) == 3
    hows = Counter(how for _, _, how in again.runs)
    assert hows == {"already_done": 2, "processed": 1}, again.runs
    assert any("UIDVALIDITY changed" in line for line in again.lines)
    cursor = tools.crm.mailbox_cursor(again.mailbox.url.key)
    assert cursor is not None and cursor.uidvalidity != old and cursor.last_uid == 3


def test_malformed_message_goes_to_manual_review_and_the_watch_goes_on(
        server: dc.Dovecot, tools: Toolbox, checkpoints: OpenCheckpoints, tmp_path: Path) -> None:
    """A message with no header block, no sender, bytes that are not UTF-8: manual review;
    the lead after it is processed as usual. Processed messages are moved this time."""
    garbage = b"\xff\xfe this is not an email \x81\x82\r\nno headers, no sender\r\n"
    watch = Watch(server, tools, checkpoints, tmp_path / "home", move_to="Processed")

    async def body(watcher: InboxWatcher) -> None:
        await until(watcher.idle.is_set)
        await asyncio.to_thread(append, server, "INBOX", garbage)
        await until(lambda: len(watch.runs) == 1)
        await asyncio.to_thread(append, server, "INBOX", mail(7, message_id=False))
        await until(lambda: len(watch.runs) == 2)

    watch.run(body)
    (bad, bad_status, _), (good, good_status, _) = watch.runs
    assert bad_status == "manual_review"
    assert bad in {row["lead_id"] for row in tools.crm.queue_items("manual_review")}
    assert good_status != "manual_review"
    assert seen_flags(server, "INBOX") == {}  # both moved out of the inbox
    assert len(seen_flags(server, "Processed")) == 2


def _free_closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_watch_once_and_its_one_line_errors(
        server: dc.Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from leadflow.cli import app

    monkeypatch.setenv("LEADFLOW_HOME", str(tmp_path / "cli-home"))
    monkeypatch.delenv("LEADFLOW_DATABASE_URL", raising=False)
    monkeypatch.setenv("LEADFLOW_IMAP_PASSWORD", dc.PASSWORD)
    runner = CliRunner()
    append(server, "INBOX", mail(11))
    done = runner.invoke(app, ["watch", server.url(), "--plain", "--once"])
    assert done.exit_code == 0, done.output
    assert "LEAD-" in done.output and "(processed)" in done.output

    cases = [
        (["watch", "http://example.com/INBOX"], 2, "not a mailbox URL"),
        (["watch", "imap://sales@mail.example.com/INBOX", "--plain"], 2, "only allowed"),
        (["watch", "imap://sales:pw@127.0.0.1/INBOX"], 2, "LEADFLOW_IMAP_PASSWORD"),
        (["watch", f"imap://sales@127.0.0.1:{_free_closed_port()}/INBOX", "--plain"], 1,
         "cannot reach"),
    ]
    for args, code, words in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.output)
        assert words in result.output, (args, result.output)
        assert "Traceback" not in result.output
    monkeypatch.setenv("LEADFLOW_IMAP_PASSWORD", "wrong")
    result = runner.invoke(app, ["watch", server.url(), "--plain"])
    assert result.exit_code == 1 and "login refused" in result.output, result.output


def test_a_stop_during_idle_returns_within_a_tick(
        server: dc.Dovecot, tools: Toolbox, checkpoints: OpenCheckpoints, tmp_path: Path) -> None:
    watch = Watch(server, tools, checkpoints, tmp_path / "home")
    stopped = threading.Event()

    async def body(watcher: InboxWatcher) -> None:
        await until(watcher.idle.is_set)
        stopped.set()

    started = time.monotonic()
    watch.run(body)
    # IDLE renews after 600 s: well under that is "within a tick", on a machine however busy
    assert stopped.is_set() and time.monotonic() - started < 300


def test_mail_that_arrives_while_a_sweep_runs_is_not_left_for_the_idle_renewal(
        server: dc.Dovecot) -> None:
    """A message delivered after the sweep's SEARCH is announced (untagged EXISTS) in the
    answer to one of the sweep's later commands, and IDLE never repeats it: `wait` must
    return at once so the next sweep takes it, not after the renewal (found by
    benchmarks/speed_to_lead.py: a lead held back for ten minutes)."""
    append(server, "INBOX", mail(1))
    mailbox = Mailbox(parse_mailbox_url(server.url(), plain=True), dc.PASSWORD)
    mailbox.open()
    try:
        mailbox.select()
        assert mailbox.uids_after(0) == [1]
        assert not mailbox.news_since_select()
        append(server, "INBOX", mail(2))  # arrives mid-sweep...
        mailbox.fetch([1])  # ...and is announced in this command's answer
        assert mailbox.news_since_select()
        stop = threading.Event()
        waiter = threading.Thread(target=mailbox.wait, args=(stop,), kwargs={"renew": 3600})
        waiter.start()
        waiter.join(120)  # a deadline for the hang it was: IDLE until the renewal
        returned = not waiter.is_alive()
        stop.set()
        waiter.join()
        assert returned
        mailbox.select()  # the next sweep starts afresh
        assert not mailbox.news_since_select() and mailbox.uids_after(1) == [2]
    finally:
        mailbox.close()
