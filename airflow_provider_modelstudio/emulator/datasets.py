"""The emulator's datasets: branches and their transactions, as Foundry's datasets API shows them.

A branch points at its most recent OPEN or COMMITTED transaction, never an ABORTED one: opening a transaction
moves the branch to it, aborting moves the branch back to the transaction before, committing leaves it. Datasets
appear when a scenario or a test adds them (each with a committed SNAPSHOT on ``master``); transactions are
opened, committed and aborted through the handle or the admin API, as a pipeline writing the dataset would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelstudio.emulator.clock import iso
from airflow_provider_modelstudio.emulator.errors import ErrorAnswer, require_rid
from airflow_provider_modelstudio.emulator.ids import new_rid

TRANSACTION_TYPES = ("APPEND", "UPDATE", "SNAPSHOT", "DELETE")


@dataclass
class TransactionRecord:
    rid: str
    type: str
    created: float
    status: str = "OPEN"
    closed: float | None = None

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "rid": self.rid,
            "transactionType": self.type,
            "status": self.status,
            "createdTime": iso(self.created),
        }
        if self.closed is not None:
            answer["closedTime"] = iso(self.closed)
        return answer


@dataclass
class DatasetRecord:
    rid: str
    transactions: dict[str, TransactionRecord] = field(default_factory=dict)
    branches: dict[str, list[str]] = field(default_factory=dict)
    """Per branch, its transactions in the order they were opened."""

    def head(self, branch: str) -> str | None:
        """The branch's most recent transaction that is not ABORTED."""
        live = [rid for rid in self.branches[branch] if self.transactions[rid].status != "ABORTED"]
        return live[-1] if live else None


class DatasetRegistry:
    """Every dataset the emulator knows, by RID."""

    def __init__(self) -> None:
        self._datasets: dict[str, DatasetRecord] = {}

    def add_dataset(self, rid: str, branch: str, now: float) -> dict[str, Any]:
        """Add a dataset (or a branch of one) holding one committed SNAPSHOT; return the branch."""
        dataset = self._datasets.setdefault(require_rid("datasetRid", rid), DatasetRecord(rid))
        if branch not in dataset.branches:
            dataset.branches[branch] = []
            self.commit(rid, self.open(rid, branch, "SNAPSHOT", now)["rid"], now)
        return self.get_branch(rid, branch)

    def open(self, rid: str, branch: str, transaction_type: str, now: float) -> dict[str, Any]:
        """Open a transaction on ``branch``; the branch points at it from now on."""
        if transaction_type not in TRANSACTION_TYPES:
            raise ValueError(f"transaction type {transaction_type!r} is not one of {', '.join(TRANSACTION_TYPES)}")
        dataset = self._dataset(rid)
        self._branch(dataset, branch)
        if any(dataset.transactions[t].status == "OPEN" for t in dataset.branches[branch]):
            raise ValueError(f"branch {branch!r} of {rid} already has an open transaction")
        transaction = TransactionRecord(new_rid("foundry", "transaction"), transaction_type, now)
        dataset.transactions[transaction.rid] = transaction
        dataset.branches[branch].append(transaction.rid)
        return transaction.to_json()

    def commit(self, rid: str, transaction_rid: str, now: float) -> dict[str, Any]:
        return self._close(rid, transaction_rid, "COMMITTED", now)

    def abort(self, rid: str, transaction_rid: str, now: float) -> dict[str, Any]:
        return self._close(rid, transaction_rid, "ABORTED", now)

    def delete_branch(self, rid: str, branch: str) -> None:
        self._branch(self._dataset(rid), branch)
        del self._datasets[rid].branches[branch]

    def get_branch(self, rid: str, branch: str) -> dict[str, Any]:
        """``GET /v2/datasets/{datasetRid}/branches/{branchName}``."""
        dataset = self._dataset(rid)
        self._branch(dataset, branch)
        answer: dict[str, Any] = {"name": branch}
        head = dataset.head(branch)
        if head is not None:
            answer["transactionRid"] = head
        return answer

    def get_transaction(self, rid: str, transaction_rid: str) -> dict[str, Any]:
        """``GET /v2/datasets/{datasetRid}/transactions/{transactionRid}``."""
        return self._transaction(self._dataset(rid), transaction_rid).to_json()

    def _close(self, rid: str, transaction_rid: str, status: str, now: float) -> dict[str, Any]:
        transaction = self._transaction(self._dataset(rid), transaction_rid)
        if transaction.status != "OPEN":
            raise ValueError(f"transaction {transaction_rid} is {transaction.status}, not OPEN")
        transaction.status, transaction.closed = status, now
        return transaction.to_json()

    def _dataset(self, rid: str) -> DatasetRecord:
        dataset = self._datasets.get(require_rid("datasetRid", rid))
        if dataset is None:
            raise ErrorAnswer("DatasetNotFound", datasetRid=rid)
        return dataset

    @staticmethod
    def _branch(dataset: DatasetRecord, branch: str) -> None:
        if branch not in dataset.branches:
            raise ErrorAnswer("BranchNotFound", datasetRid=dataset.rid, branchName=branch)

    @staticmethod
    def _transaction(dataset: DatasetRecord, transaction_rid: str) -> TransactionRecord:
        transaction = dataset.transactions.get(require_rid("transactionRid", transaction_rid))
        if transaction is None:
            raise ErrorAnswer("TransactionNotFound", datasetRid=dataset.rid, transactionRid=transaction_rid)
        return transaction
