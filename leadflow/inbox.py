"""`leadflow watch`: an IMAP mailbox watched, each new message one email item through the
same intake as the API's (the CRM's intake queue first, then the graph).

For every batch of new messages, in this order:
1. the items go on the intake queue in one transaction (the lead is durable: a crash from
   here on finishes it on the next start);
2. only then the mailbox's cursor (UIDVALIDITY, last UID) moves past them in the CRM;
3. the messages are marked processed on the server (a flag/keyword, or moved);
4. each item runs through the graph in the background (bounded concurrency) and its intake
   row is resolved when its lead settles.
A crash between 1 and 2 reads the messages again: their intake rows are there already (the
lead id is the message's fingerprint, its Message-ID), so nothing repeats. A new
UIDVALIDITY (the server renumbered the folder) re-scans the unmarked messages the same way.
A malformed message is an item like any other: capture sends it to manual review, and the
watch goes on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from imapclient.exceptions import IMAPClientError

from leadflow.identity import workflow_id_for
from leadflow.runner import IntakeTasks
from leadflow.runtime import Runtime
from leadflow.tools.crm import INTAKE
from leadflow.tools.ingest import storable_item
from leadflow.tools.ingest.imap import FETCH_CHUNK, Fetched, ImapError, Mailbox, message_item

log = logging.getLogger(__name__)

Done = Callable[[str, dict[str, Any], str], None]  # (lead id, outcome, how)
RECONNECT_FIRST_S = 1.0
RECONNECT_MAX_S = 60.0


class InboxWatcher:
    """Watch one mailbox until `stop` is set; see the module's docstring for the order."""

    def __init__(self, runtime: Runtime, mailbox: Mailbox, *, concurrency: int = 4,
                 tick: float = 1.0, poll: float | None = None, on_done: Done | None = None,
                 say: Callable[[str], None] | None = None) -> None:
        self.runtime = runtime
        self.crm = runtime.tools.crm
        self.mailbox = mailbox
        self.key = mailbox.url.key
        self.reason = f"watched: {self.key}"
        self.tick = tick
        self.poll = poll
        self.say = say or (lambda message: log.info("%s", message))
        self.intake = IntakeTasks(runtime.runner, runtime.tools, concurrency=concurrency,
                                  on_done=on_done)
        self._stop = threading.Event()  # what the IMAP thread sees
        self.idle = asyncio.Event()  # set while the watch waits for news (tests, benchmarks)
        self.sweeps = 0

    async def run(self, stop: asyncio.Event, *, once: bool = False,
                  drain_timeout: float | None = None) -> None:
        """Open the mailbox unless it is (an ImapError here is the caller's one line), finish
        what an earlier watch accepted, then sweep and wait until `stop` (`once`: one sweep);
        leads in flight get `drain_timeout` seconds (None: all the time they need) and the
        rest resume next time."""
        loop = asyncio.get_running_loop()
        relay = asyncio.create_task(self._relay_stop(stop))
        try:
            if self.mailbox.client is None:
                await asyncio.to_thread(self.mailbox.open)
            await self._resume()
            backoff = RECONNECT_FIRST_S
            while not self._stop.is_set():
                try:
                    await self.sweep()
                    backoff = RECONNECT_FIRST_S
                    if self._stop.is_set() or once:
                        break
                    await asyncio.to_thread(
                        self.mailbox.wait, self._stop, tick=self.tick, poll=self.poll,
                        on_idle=lambda: loop.call_soon_threadsafe(self.idle.set))
                    self.idle.clear()
                except (OSError, IMAPClientError, ImapError) as exc:
                    self.idle.clear()
                    self.say(f"warning: lost {self.key} ({type(exc).__name__}: {exc}); "
                             f"reconnecting in {backoff:.0f} s")
                    await asyncio.to_thread(self.mailbox.close)
                    backoff = await self._reconnect(backoff)
        finally:
            relay.cancel()
            await asyncio.to_thread(self.mailbox.close)
            await self.intake.drain(drain_timeout)

    async def _relay_stop(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self._stop.set()

    async def _reconnect(self, backoff: float) -> float:
        while not self._stop.is_set():
            await asyncio.to_thread(self._stop.wait, backoff)
            if self._stop.is_set():
                break
            backoff = min(backoff * 2, RECONNECT_MAX_S)
            try:
                await asyncio.to_thread(self.mailbox.open)
                self.say(f"reconnected to {self.key}")
                return RECONNECT_FIRST_S
            except (OSError, IMAPClientError, ImapError) as exc:
                self.say(f"warning: {exc}; trying again in {backoff:.0f} s")
        return backoff

    # ------------------------------------------------------------------ one sweep
    async def sweep(self) -> int:
        """Take in every message after the cursor; how many were read."""
        self.sweeps += 1
        state = await asyncio.to_thread(self.mailbox.select)
        cursor = await asyncio.to_thread(self.crm.mailbox_cursor, self.key)
        fresh = cursor is None or cursor.uidvalidity != state.uidvalidity
        if cursor is not None and fresh:
            self.say(f"{self.key}: UIDVALIDITY changed ({cursor.uidvalidity} → "
                     f"{state.uidvalidity}): re-reading its unmarked messages; leads already "
                     "taken in are not taken in twice")
        last = 0 if fresh or cursor is None else cursor.last_uid
        uids = await asyncio.to_thread(self.mailbox.uids_after, last, unprocessed_only=fresh)
        # A first scan takes only the unmarked messages; its cursor then covers the whole
        # folder as it was when selected, so marked (older) ones are not read later.
        top = (state.uidnext - 1) if fresh and state.uidnext else None
        if top is not None:
            uids = [uid for uid in uids if uid <= top]
        taken = 0
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start:start + FETCH_CHUNK]
            fetched = await asyncio.to_thread(self.mailbox.fetch, chunk)
            taken += await self._take_in(state.uidvalidity, chunk[-1], fetched)
        if top is not None:
            await asyncio.to_thread(self.crm.save_mailbox_cursor, self.key, state.uidvalidity,
                                    top, self.runtime.tools.clock.now())
        return taken

    async def _take_in(self, uidvalidity: int, last_uid: int, fetched: list[Fetched]) -> int:
        now = self.runtime.tools.clock.now()
        items = [storable_item(message_item(one.raw, one.arrived)) for one in fetched]
        ids = [workflow_id_for(item, None) for item in items]
        # 1. durable: the intake rows commit before anything else happens
        await asyncio.to_thread(self.crm.record_intake, list(zip(ids, items, strict=True)),
                                self.reason, now)
        # 2. only then the cursor
        await asyncio.to_thread(self.crm.save_mailbox_cursor, self.key, uidvalidity, last_uid,
                                now)
        # 3. marked processed on the server
        await asyncio.to_thread(self.mailbox.mark, [one.uid for one in fetched])
        for one, lead_id, item in zip(fetched, ids, items, strict=True):
            self.say(f"uid {one.uid} → {lead_id}")
            self.intake.start(lead_id, item)
        return len(fetched)

    # ------------------------------------------------------------------ processing
    async def _resume(self) -> None:
        """Leads an earlier watch of this mailbox accepted but did not finish."""
        rows = await asyncio.to_thread(self.crm.queue_items, INTAKE, 100_000)
        mine = [row for row in rows if row.get("reason") == self.reason]
        self.intake.resume(mine)
        if mine:
            self.say(f"resuming {len(mine)} lead(s) taken in before a restart")
