"""A branch's head is one branch read, plus a transaction read only until that transaction is seen closed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_modelstudio.datasets import heads
from airflow_provider_modelstudio.datasets.heads import (
    BranchHead,
    ClosedTransactions,
    aread_head,
    branch_key,
    read_head,
    split_key,
)
from airflow_provider_modelstudio.foundry.errors import FoundryAnswerError, FoundryConfigError
from airflow_provider_modelstudio.foundry.shapes import DatasetBranch, Transaction

DATASET = "ri.foundry.main.dataset.d"


class Hook:
    """Answers a branch and its transactions from a script; counts reads."""

    foundry_conn_id = "foundry_default"

    def __init__(self, pointed: str | None, *answers: Transaction) -> None:
        self.pointed = pointed
        self.answers = list(answers)
        self.transaction_reads = 0

    def get_dataset_branch(self, dataset_rid: str, branch_name: str) -> DatasetBranch:
        return DatasetBranch(branch_name, self.pointed)

    def get_dataset_transaction(self, dataset_rid: str, transaction_rid: str) -> Transaction:
        self.transaction_reads += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    async def aget_dataset_branch(self, dataset_rid: str, branch_name: str) -> DatasetBranch:
        return self.get_dataset_branch(dataset_rid, branch_name)

    async def aget_dataset_transaction(self, dataset_rid: str, transaction_rid: str) -> Transaction:
        return self.get_dataset_transaction(dataset_rid, transaction_rid)


@pytest.fixture(autouse=True)
def _fresh_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heads, "CLOSED", ClosedTransactions())


def both_reads(hook: Any, key: str) -> list[BranchHead]:
    return [read_head(hook, key), asyncio.run(aread_head(hook, key))]


def test_an_open_transaction_is_read_each_time_and_a_closed_one_once() -> None:
    key = branch_key(DATASET, "master")
    open_, committed = Transaction("t1", "APPEND", "OPEN"), Transaction("t1", "APPEND", "COMMITTED", closed_time="x")
    hook = Hook("t1", open_, open_, committed)
    assert [h.transaction for h in both_reads(hook, key)] == [open_, open_]
    assert [h.transaction for h in both_reads(hook, key) + both_reads(hook, key)] == [committed] * 4
    assert hook.transaction_reads == 3


def test_a_branch_without_a_transaction_reads_none() -> None:
    hook = Hook(None, Transaction("t1", "APPEND", "COMMITTED"))
    assert both_reads(hook, branch_key(DATASET, "dev")) == [BranchHead(DATASET, "dev", None)] * 2
    assert hook.transaction_reads == 0


def test_an_answer_about_another_transaction_is_refused() -> None:
    hook = Hook("t1", Transaction("t9", "APPEND", "COMMITTED"))
    for read in (
        lambda: read_head(hook, branch_key(DATASET, "master")),
        lambda: asyncio.run(aread_head(hook, branch_key(DATASET, "master"))),
    ):
        with pytest.raises(FoundryAnswerError, match=r"GET transaction t1 of dataset .* answered transaction t9"):
            read()


def test_an_answer_without_a_rid_is_refused_saying_so() -> None:
    hook = Hook("t1", Transaction(None, "APPEND", "COMMITTED"))
    with pytest.raises(FoundryAnswerError, match="answered transaction without a RID; a server that answers another"):
        read_head(hook, branch_key(DATASET, "master"))


def test_the_memory_of_closed_transactions_is_bounded_and_keeps_the_most_recently_used() -> None:
    memory = ClosedTransactions(limit=2)
    for rid in ("a", "b"):
        memory.keep("c", DATASET, Transaction(rid, "APPEND", "COMMITTED"))
    memory.keep("c", DATASET, Transaction("o", "APPEND", "OPEN"))
    assert memory.get("c", DATASET, "a") is not None  # a is now the most recent
    memory.keep("c", DATASET, Transaction("z", "APPEND", "ABORTED"))
    assert [memory.get("c", DATASET, rid) is not None for rid in ("a", "b", "z", "o")] == [True, False, True, False]
    assert memory.get("other connection", DATASET, "a") is None and len(memory) == 2


def test_a_branch_key_is_checked_and_split_back() -> None:
    assert split_key(branch_key(DATASET, "feature/x")) == (DATASET, "feature/x")
    assert split_key(branch_key(DATASET, "a/branches/b")) == (DATASET, "a/branches/b")
    with pytest.raises(FoundryConfigError, match=r"^dataset_rid="):
        branch_key("ri.models.main.model.m", "master")
    with pytest.raises(FoundryConfigError, match="branch=''"):
        branch_key(DATASET, "")


@pytest.mark.parametrize(
    ("transaction", "described"),
    [
        (None, "at no transaction yet"),
        (
            Transaction("t1", "APPEND", "COMMITTED", closed_time="2026"),
            "at COMMITTED APPEND transaction t1 (closed 2026)",
        ),
        (Transaction("t1", None, None), "at unknown transaction t1"),
    ],
)
def test_a_head_describes_itself_in_a_few_words(transaction: Transaction | None, described: str) -> None:
    assert BranchHead(DATASET, "master", transaction).describe() == described
