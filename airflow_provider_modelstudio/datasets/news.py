"""Which head of a dataset branch is news, and what the watcher remembers of the last one it announced.

A watcher announces a COMMITTED transaction that is not the one it last announced and closed later than it
(a branch moved back to an older transaction announces nothing). OPEN and ABORTED transactions announce
nothing. Foundry's branch names only its newest transaction, so several commits between two checks are
announced as one event, for the newest of them (its extra says which transaction was announced before it).

A watcher that has never announced anything starts from the branch's head as it finds it: the data already
there is not news. When the head is an OPEN transaction, anything committed from that transaction's creation
on is news, that transaction included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow_provider_modelstudio.datasets.heads import BranchHead


@dataclass(frozen=True, slots=True)
class Watermark:
    """The last transaction a watcher announced (or the point it started watching from).

    :param transaction_rid: that transaction; None when none was announced (a new watcher)
    :param closed_time: when it closed (ISO-8601, Foundry's clock); for a watcher that started at an OPEN
        transaction, that transaction's creation time; None when unknown
    """

    transaction_rid: str | None
    closed_time: str | None

    def to_json(self) -> dict[str, Any]:
        return {"transaction_rid": self.transaction_rid, "closed_time": self.closed_time}

    @classmethod
    def from_json(cls, value: Any) -> Watermark | None:
        """The watermark a stored value holds; None for a value that holds none (never saved, or edited)."""
        if not isinstance(value, dict):
            return None
        rid, closed = value.get("transaction_rid"), value.get("closed_time")
        if not (rid is None or isinstance(rid, str)) or not (closed is None or isinstance(closed, str)):
            return None
        return cls(rid, closed)


def starting_point(head: BranchHead) -> Watermark:
    """Where a new watcher starts: after the head's transaction when it is committed, before it otherwise."""
    found = head.transaction
    if found is None:
        return Watermark(None, None)
    if head.committed:
        return Watermark(found.rid, found.closed_time)
    return Watermark(None, found.created_time)


def is_news(head: BranchHead, mark: Watermark) -> bool:
    """Whether ``head`` is a commit to announce after ``mark``.

    When either time cannot be read, a transaction other than the last one announced is news: announcing twice
    is better than never.
    """
    found = head.transaction
    if found is None or not head.committed or found.rid == mark.transaction_rid:
        return False
    closed, since = _instant(found.closed_time), _instant(mark.closed_time)
    return closed is None or since is None or closed >= since


def event_payload(head: BranchHead, previous: Watermark) -> dict[str, Any]:
    """The event of an announced commit: the dataset, branch, transaction, its type and closing time, and the
    transaction announced before it (for the first event, the one the watcher started from; None when none)."""
    found = head.transaction
    assert found is not None
    return {
        "dataset_rid": head.dataset_rid,
        "branch": head.branch,
        "transaction_rid": found.rid,
        "transaction_type": found.type,
        "closed_time": found.closed_time,
        "previous_transaction_rid": previous.transaction_rid,
    }


def announced(head: BranchHead) -> Watermark:
    """The watermark after announcing ``head``."""
    found = head.transaction
    assert found is not None
    return Watermark(found.rid, found.closed_time)


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
