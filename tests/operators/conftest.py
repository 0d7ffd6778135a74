"""Operators run here outside Airflow's task runner: the deploy lock keeps its Variables in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.deploy_locks import MemoryLockStore


@pytest.fixture(autouse=True)
def memory_deploy_locks(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[MemoryLockStore]]:
    monkeypatch.setattr(MemoryLockStore, "variables", {})
    monkeypatch.setattr(MemoryLockStore, "states", {})
    monkeypatch.setattr("airflow_provider_modelstudio.deploys.deploy_lock.AirflowLockStore", MemoryLockStore)
    yield MemoryLockStore
