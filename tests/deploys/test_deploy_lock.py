"""The deploy lock: one deploy per live deployment, a stale or own holder taken over, a lost race refused."""

from __future__ import annotations

import logging
from dataclasses import asdict

import pytest

from airflow_provider_modelstudio.deploys.deploy_lock import DeploymentBusy, Holder, acquire, confirm, lock_key, release
from tests.deploy_locks import MemoryLockStore

LOG = logging.getLogger(__name__)
DEPLOYMENT = "ri.foundry-ml-live.main.live-deployment.live"
FIRST = Holder("deploy_on_new_model_version", "asset_triggered__1", "deploy", -1, 1)
SECOND = Holder("deploy_on_new_model_version", "asset_triggered__2", "deploy", -1, 1)


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> MemoryLockStore:
    monkeypatch.setattr(MemoryLockStore, "variables", {})
    monkeypatch.setattr(MemoryLockStore, "states", {})
    return MemoryLockStore()


def held_by(store: MemoryLockStore, holder: Holder, state: str | None) -> None:
    store.variables[lock_key(DEPLOYMENT)] = asdict(holder)
    store.states[(holder.dag_id, holder.run_id, holder.task_id, holder.map_index)] = state


@pytest.mark.parametrize("state", ["running", "deferred", "queued", "up_for_retry"])
def test_a_deploy_is_refused_while_another_task_deploys_naming_it_and_the_fix(store, state):
    held_by(store, FIRST, state)
    with pytest.raises(DeploymentBusy) as refused:
        acquire(store, DEPLOYMENT, SECOND, LOG)
    assert str(refused.value) == (
        f"Live deployment {DEPLOYMENT} is being deployed by task deploy of DAG deploy_on_new_model_version, run "
        f"asset_triggered__1 (try 1), which is {state}; two deploys at once would roll each other back, so this one "
        "promoted nothing. Let that task finish, then run this one again; to deploy one run at a time set "
        "max_active_runs=1 on the DAG. If that task is gone, delete the Airflow Variable "
        f"'modelstudio_deploy_lock.{DEPLOYMENT}'."
    )
    assert store.variables[lock_key(DEPLOYMENT)] == asdict(FIRST)


@pytest.mark.parametrize("state", ["failed", "success", "skipped", "upstream_failed", "removed"])
def test_a_holder_that_will_not_run_again_is_taken_over(store, state, caplog):
    held_by(store, FIRST, state)
    acquire(store, DEPLOYMENT, SECOND, LOG)
    assert store.variables[lock_key(DEPLOYMENT)] == asdict(SECOND)
    assert f"from {FIRST.describe()}, which is {state}" in caplog.text


def test_a_holder_airflow_no_longer_knows_is_taken_over(store):
    store.variables[lock_key(DEPLOYMENT)] = asdict(FIRST)
    acquire(store, DEPLOYMENT, SECOND, LOG)
    assert store.variables[lock_key(DEPLOYMENT)] == asdict(SECOND)


def test_another_try_of_the_same_task_is_the_same_deploy(store):
    held_by(store, FIRST, "running")
    retry = Holder(FIRST.dag_id, FIRST.run_id, FIRST.task_id, FIRST.map_index, 2)
    acquire(store, DEPLOYMENT, retry, LOG)
    assert store.variables[lock_key(DEPLOYMENT)] == asdict(retry)


def test_another_map_index_of_the_same_task_is_another_deploy(store):
    held_by(store, Holder(FIRST.dag_id, FIRST.run_id, FIRST.task_id, 0, 1), "running")
    with pytest.raises(DeploymentBusy, match=r"by task deploy\[0\] of DAG"):
        acquire(store, DEPLOYMENT, Holder(FIRST.dag_id, FIRST.run_id, FIRST.task_id, 1, 1), LOG)


def test_of_two_deploys_writing_the_lock_at_once_the_one_overwritten_backs_off(store, monkeypatch):
    real_set = MemoryLockStore.set

    def overwritten_at_once(self, key, value):
        real_set(self, key, value)
        real_set(self, key, asdict(FIRST))

    monkeypatch.setattr(MemoryLockStore, "set", overwritten_at_once)
    with pytest.raises(DeploymentBusy, match=r"asset_triggered__1 \(try 1\), which took the lock at the same moment"):
        acquire(store, DEPLOYMENT, SECOND, LOG)


def test_release_gives_back_only_a_lock_this_task_holds(store):
    held_by(store, FIRST, "running")
    release(store, DEPLOYMENT, SECOND)
    assert store.variables[lock_key(DEPLOYMENT)] == asdict(FIRST)
    release(store, DEPLOYMENT, Holder(FIRST.dag_id, FIRST.run_id, FIRST.task_id, -1, 3))
    assert lock_key(DEPLOYMENT) not in store.variables


def test_a_deploy_whose_lock_another_took_since_backs_off_before_promoting(store):
    acquire(store, DEPLOYMENT, FIRST, LOG)
    store.variables[lock_key(DEPLOYMENT)] = asdict(SECOND)
    with pytest.raises(DeploymentBusy, match=r"asset_triggered__2 \(try 1\), which took the lock while this deploy"):
        confirm(store, DEPLOYMENT, FIRST)
    confirm(store, DEPLOYMENT, SECOND)
