"""The emulator's datasets through the hook: a branch names its newest OPEN or COMMITTED transaction, never an
ABORTED one; unknown datasets, branches and transactions answer Foundry's named errors; Palantir's SDK reads it."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from foundry_sdk.v2.datasets.models import Branch, Transaction

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import requests_of

DATASET = "ri.foundry.main.dataset.training"


@pytest.fixture
def hook(emulator: FoundryEmulator, connect: Callable[..., ModelStudioHook]) -> ModelStudioHook:
    return connect(emulator)


def test_a_new_dataset_branch_names_its_committed_snapshot(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    emulator.add_dataset(DATASET)
    branch = hook.get_dataset_branch(DATASET, "master")
    assert branch.name == "master"
    assert branch.transaction_rid is not None
    snapshot = hook.get_dataset_transaction(DATASET, branch.transaction_rid)
    assert (snapshot.rid, snapshot.type, snapshot.status) == (branch.transaction_rid, "SNAPSHOT", "COMMITTED")
    assert snapshot.closed_time is not None


def test_an_open_transaction_moves_the_branch_and_an_abort_moves_it_back(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    emulator.add_dataset(DATASET)
    before = hook.get_dataset_branch(DATASET, "master").transaction_rid
    opened = emulator.open_transaction(DATASET)
    assert hook.get_dataset_branch(DATASET, "master").transaction_rid == opened
    transaction = hook.get_dataset_transaction(DATASET, opened)
    assert (transaction.type, transaction.status, transaction.closed_time) == ("APPEND", "OPEN", None)
    emulator.abort_transaction(DATASET, opened)
    assert hook.get_dataset_branch(DATASET, "master").transaction_rid == before
    assert hook.get_dataset_transaction(DATASET, opened).status == "ABORTED"
    committed = emulator.commit(DATASET, transaction_type="UPDATE")
    assert hook.get_dataset_branch(DATASET, "master").transaction_rid == committed
    assert hook.get_dataset_transaction(DATASET, committed).type == "UPDATE"


def test_unknown_datasets_branches_and_transactions_answer_foundrys_errors_once(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    with pytest.raises(errors.FoundryNotFound, match="DatasetNotFound"):
        hook.get_dataset_branch(DATASET, "master")
    emulator.add_dataset(DATASET)
    with pytest.raises(errors.FoundryNotFound, match="BranchNotFound"):
        hook.get_dataset_branch(DATASET, "develop")
    with pytest.raises(errors.FoundryNotFound, match="TransactionNotFound"):
        hook.get_dataset_transaction(DATASET, "ri.foundry.main.transaction.unknown")
    emulator.delete_dataset_branch(DATASET, "master")
    with pytest.raises(errors.FoundryNotFound, match="BranchNotFound"):
        hook.get_dataset_branch(DATASET, "master")
    assert requests_of(emulator.counters(), "get_dataset_branch") == {"404": 3}


def test_bad_input_is_refused_before_any_request(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    with pytest.raises(errors.FoundryConfigError, match="dataset_rid='x' is not a dataset RID"):
        hook.get_dataset_branch("x", "master")
    with pytest.raises(errors.FoundryConfigError, match="branch_name='' must be the name of a dataset branch"):
        hook.get_dataset_branch(DATASET, "")
    with pytest.raises(errors.FoundryConfigError, match="transaction_rid="):
        hook.get_dataset_transaction(DATASET, "ri.foundry.main.dataset.not-a-transaction")
    assert emulator.counters()["requests"] == {}


def test_the_sdk_reads_the_branch_and_transaction_answers(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    emulator.add_dataset(DATASET)
    committed = emulator.commit(DATASET)
    branch = Branch.model_validate(
        hook.client.call("get_dataset_branch", {"datasetRid": DATASET, "branchName": "master"})
    )
    assert branch.transaction_rid == committed
    raw = hook.client.call("get_dataset_transaction", {"datasetRid": DATASET, "transactionRid": committed})
    transaction = Transaction.model_validate(raw)
    assert (transaction.status, transaction.transaction_type) == ("COMMITTED", "APPEND")


def test_the_admin_api_opens_commits_and_aborts_transactions(emulator: FoundryEmulator) -> None:
    headers = {"X-Foundry-Emulator-Admin": "1"}
    with httpx.Client(base_url=emulator.url + "/_emulator", headers=headers) as admin:
        added = admin.post("/datasets", json={"rid": DATASET}).json()
        assert (added["rid"], added["name"]) == (DATASET, "master")
        opened = admin.post(f"/datasets/{DATASET}/transactions", json={"type": "SNAPSHOT"}).json()
        assert (opened["status"], opened["transactionType"]) == ("OPEN", "SNAPSHOT")
        assert admin.post(f"/datasets/{DATASET}/transactions", json={}).status_code == 400
        committed = admin.post(f"/datasets/{DATASET}/transactions/{opened['rid']}/commit", json={}).json()
        assert committed["status"] == "COMMITTED"
        again = admin.post(f"/datasets/{DATASET}/transactions/{opened['rid']}/abort", json={})
        assert again.status_code == 400
        assert admin.post("/datasets/ri.foundry.main.dataset.none/transactions", json={}).status_code == 404
