"""The example ``retrain_on_new_data``: scheduled on the demo studio's training dataset, watched; run by hand it
trains, gates and deploys; the commits that started a run are listed from its events. (The watcher starting it
on a commit, across a triggerer kill, is in ``make e2e``: ``e2e/test_retrain_on_new_data.py``.)"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator.catalog import training_dataset_rid
from tests.example_dags.conftest import EXAMPLE_DAGS, task_states, xcom

DEMO = "ri.models.main.model-studio.demo"


def test_it_is_scheduled_on_the_studios_training_dataset_watched_by_a_dataset_trigger(
    example_dags: dict[str, Any],
) -> None:
    dag = example_dags["retrain_on_new_data"]
    (asset,) = dag.schedule
    assert asset.uri.endswith(f"/datasets/{training_dataset_rid(DEMO)}/branches/master")
    (watcher,) = asset.watchers
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath.endswith(".FoundryDatasetTrigger")
    assert (kwargs["dataset_rid"], kwargs["branch"]) == (training_dataset_rid(DEMO), "master")
    assert dag.max_active_runs == 1


@pytest.mark.usefixtures("airflow_db")
def test_run_by_hand_it_trains_gates_and_deploys_on_the_data_as_it_is(
    example_dags: dict[str, Any], foundry_connection: Any
) -> None:
    run = example_dags["retrain_on_new_data"].test()
    assert task_states(run) == {"new_data": "success", "train": "success", "gate": "success", "deploy": "success"}
    assert xcom(run, "new_data") == []
    (emulated,) = foundry_connection.runs(DEMO)
    assert xcom(run, "deploy")["candidate_version_rid"] == emulated["resolvedOutputs"]["model"]["modelVersionRid"]


@pytest.mark.usefixtures("foundry_connection")
def test_the_commits_that_started_a_run_are_listed_oldest_first_and_other_events_ignored() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("retrain_on_new_data_module", EXAMPLE_DAGS / "retrain_on_new_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def event(rid: str | None, closed: str) -> Any:
        return SimpleNamespace(extra={"from_trigger": True, "payload": {"transaction_rid": rid, "closed_time": closed}})

    events = {
        "a": [event("t2", "2026-12-05T11:00:00Z"), SimpleNamespace(extra=None)],
        "b": [event("t1", "2026-12-05T10:00:00Z"), event(None, "x")],
    }
    assert [c["transaction_rid"] for c in module.commits_of(events)] == ["t1", "t2"]
