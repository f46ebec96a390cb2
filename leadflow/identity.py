"""Who an inbound item is: its fingerprint, the lead's workflow id (= its thread id) and the
LangGraph config that addresses that thread. Every caller spells thread access through here."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a type only: importing langchain_core here would slow every `leadflow` command
    from langchain_core.runnables import RunnableConfig


def item_fingerprint(item: object) -> str:
    """Stable id of an input item: its own id when it has one, else a hash of its content."""
    if isinstance(item, dict) and item.get("id") not in (None, ""):
        basis = f"{item.get('source')}|{item['id']}"
    else:
        basis = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:16]


def workflow_id_for(item: object, thread_id: str | None = None) -> str:
    """The lead's workflow id = its thread id; derived from the item when no thread is set."""
    if thread_id and thread_id.startswith("LEAD-"):
        return thread_id
    return f"LEAD-{item_fingerprint(item)}"


def thread_config(lead_id: str) -> RunnableConfig:
    """The config that addresses a lead's checkpointed thread."""
    return {"configurable": {"thread_id": lead_id}}
