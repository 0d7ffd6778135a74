"""A dataset branch's head: the transaction the branch points at, read with one branch GET per check.

Foundry's ``Branch`` names its most recent OPEN or COMMITTED transaction; its type, status and closing time
take a second GET. A closed (COMMITTED or ABORTED) transaction never changes again, so it is read once and
remembered (:class:`ClosedTransactions`); only a branch that points at a transaction not seen closed yet costs
that second GET. A thousand quiet branches cost a thousand branch GETs per interval, nothing more.

A branch is named by one string key, ``<datasetRid>/branches/<branch>`` (a RID holds no ``/``), because the
poller keys what it reads by one string.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_modelstudio.foundry.errors import FoundryAnswerError, FoundryConfigError
from airflow_provider_modelstudio.foundry.rids import DATASET, validate_rid

if TYPE_CHECKING:
    from airflow_provider_modelstudio.foundry.shapes import Transaction
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

KEY_SEPARATOR = "/branches/"
CLOSED_STATUSES = frozenset({"COMMITTED", "ABORTED"})
REMEMBERED_TRANSACTIONS = 20_000
"""Closed transactions remembered per process (about 200 bytes each)."""


def branch_key(dataset_rid: str, branch: str) -> str:
    """The key of one branch of a dataset: ``<datasetRid>/branches/<branch>``.

    :param dataset_rid: the dataset, ``ri.foundry.<instance>.dataset.<locator>``
    :param branch: the branch's name
    :raises FoundryConfigError: for a value that is not a dataset RID, or an empty branch name
    """
    validate_rid(dataset_rid, DATASET, field="dataset_rid")
    if not isinstance(branch, str) or not branch.strip():
        raise FoundryConfigError(f"branch={branch!r} is not a branch name; name the branch, e.g. 'master'.")
    return f"{dataset_rid}{KEY_SEPARATOR}{branch}"


def split_key(key: str) -> tuple[str, str]:
    """The dataset RID and branch of a :func:`branch_key`."""
    dataset_rid, _, branch = key.partition(KEY_SEPARATOR)
    return dataset_rid, branch


@dataclass(frozen=True, slots=True)
class BranchHead:
    """Where a dataset branch stands.

    :param dataset_rid: the dataset
    :param branch: the branch
    :param transaction: the transaction it points at; None when it has none yet
    """

    dataset_rid: str
    branch: str
    transaction: Transaction | None

    @property
    def committed(self) -> bool:
        """Whether the branch points at a COMMITTED transaction."""
        return self.transaction is not None and self.transaction.status == "COMMITTED"

    def describe(self) -> str:
        """E.g. ``at COMMITTED APPEND transaction ri.foundry.main.transaction.1 (closed 2026-12-05T10:00:00Z)``."""
        found = self.transaction
        if found is None:
            return "at no transaction yet"
        closed = f" (closed {found.closed_time})" if found.closed_time else ""
        return f"at {found.status or 'unknown'} {found.type or ''} transaction {found.rid}{closed}".replace("  ", " ")


class ClosedTransactions:
    """Closed transactions already read, per connection, least recently used dropped first.

    :param limit: how many to keep
    """

    def __init__(self, limit: int = REMEMBERED_TRANSACTIONS) -> None:
        self.limit = limit
        self._found: OrderedDict[tuple[str, str, str], Transaction] = OrderedDict()

    def get(self, conn_id: str, dataset_rid: str, transaction_rid: str) -> Transaction | None:
        found = self._found.get((conn_id, dataset_rid, transaction_rid))
        if found is not None:
            self._found.move_to_end((conn_id, dataset_rid, transaction_rid))
        return found

    def keep(self, conn_id: str, dataset_rid: str, transaction: Transaction) -> None:
        """Remember ``transaction`` when it is closed (an OPEN one may still change)."""
        if transaction.status not in CLOSED_STATUSES or transaction.rid is None:
            return
        self._found[(conn_id, dataset_rid, transaction.rid)] = transaction
        self._found.move_to_end((conn_id, dataset_rid, transaction.rid))
        while len(self._found) > self.limit:
            self._found.popitem(last=False)

    def __len__(self) -> int:
        return len(self._found)


CLOSED = ClosedTransactions()
"""The process's memory of closed transactions (the poller's reads and a sensor's share it)."""


def read_head(hook: ModelStudioHook, key: str) -> BranchHead:
    """A branch's head, read synchronously.

    :param hook: the hook to read through
    :param key: a :func:`branch_key`
    """
    dataset_rid, branch = split_key(key)
    pointed = hook.get_dataset_branch(dataset_rid, branch).transaction_rid
    if pointed is None:
        return BranchHead(dataset_rid, branch, None)
    found = CLOSED.get(hook.foundry_conn_id, dataset_rid, pointed)
    if found is None:
        found = _checked(hook.get_dataset_transaction(dataset_rid, pointed), dataset_rid, pointed)
        CLOSED.keep(hook.foundry_conn_id, dataset_rid, found)
    return BranchHead(dataset_rid, branch, found)


async def aread_head(hook: ModelStudioHook, key: str) -> BranchHead:
    """A branch's head, read through the hook's async client.

    :param hook: the hook to read through
    :param key: a :func:`branch_key`
    """
    dataset_rid, branch = split_key(key)
    pointed = (await hook.aget_dataset_branch(dataset_rid, branch)).transaction_rid
    if pointed is None:
        return BranchHead(dataset_rid, branch, None)
    found = CLOSED.get(hook.foundry_conn_id, dataset_rid, pointed)
    if found is None:
        found = _checked(await hook.aget_dataset_transaction(dataset_rid, pointed), dataset_rid, pointed)
        CLOSED.keep(hook.foundry_conn_id, dataset_rid, found)
    return BranchHead(dataset_rid, branch, found)


def _checked(found: Transaction, dataset_rid: str, asked: str) -> Transaction:
    """``found`` when it is the transaction asked for; a :class:`FoundryAnswerError` otherwise."""
    if found.rid != asked:
        raise FoundryAnswerError(
            f"GET transaction {asked} of dataset {dataset_rid} answered transaction {found.rid or 'without a RID'}; "
            "a server that answers another transaction cannot be watched."
        )
    return found
