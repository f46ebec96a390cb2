"""Redis for the tests and benchmarks that start `leadflow worker`s: each run gets its own
key prefix (LEADFLOW_BROKER_PREFIX) and deletes only the keys under it afterwards, so two
runs of the suite at once — or a developer's own workers — never see each other's queue,
unacknowledged messages or lead locks, and nobody's database is flushed.

`LEADFLOW_TEST_REDIS_URL` picks the server and database (default database 12, away from
the 7, 8 and 11 that older checkouts of this suite still flush)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis

TEST_REDIS_URL = os.environ.get("LEADFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/12")


@dataclass(frozen=True)
class BrokerKeys:
    url: str  # LEADFLOW_BROKER_URL
    prefix: str  # LEADFLOW_BROKER_PREFIX

    @property
    def env(self) -> dict[str, str]:
        """What a worker, `run --distributed` or `enqueue` needs to use these keys."""
        return {"LEADFLOW_BROKER_URL": self.url, "LEADFLOW_BROKER_PREFIX": self.prefix}

    def key(self, name: str) -> str:
        """A broker key as it is stored (`leadflow.leads`, `unacked`, …)."""
        return f"{self.prefix}{name}"

    def stored(self) -> list[str]:
        """The keys under this prefix, as stored."""
        with redis.Redis.from_url(self.url) as client:
            return sorted(k.decode() for k in client.scan_iter(match=f"{self.prefix}*"))

    def delete(self) -> int:
        """Delete this run's keys (and no other); how many there were."""
        with redis.Redis.from_url(self.url) as client:
            found = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
            return sum(int(client.delete(*found[i:i + 500])) for i in range(0, len(found), 500))


@contextmanager
def broker_keys(tag: str, url: str = TEST_REDIS_URL) -> Iterator[BrokerKeys]:
    """A fresh prefix (`lf-<tag>-<random>:`) on `url`, its keys deleted afterwards."""
    keys = BrokerKeys(url, f"lf-{tag}-{uuid.uuid4().hex[:12]}:")
    try:
        yield keys
    finally:
        keys.delete()
