"""Chaining DAGs on model versions in ``dag.test()``: a producer's outlet event schedules
``deploy_on_new_model_version``, which deploys exactly the announced version; a failed run announces nothing.

The consumer's run is made by the scheduler's own code from the queue the producer's event filled (see
:mod:`tests.example_dags.asset_runs`), then its tasks run in-process as ``dag.test()`` runs them.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelstudio.assets import model_asset
from airflow_provider_modelstudio.emulator import (
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
)
from tests.deploy_helpers import promoted_from, served
from tests.example_dags import asset_runs
from tests.example_dags.conftest import EXAMPLE_DAGS, dag_bag, task_states, xcom

CONSUMER = "deploy_on_new_model_version"
PRODUCER = "train_and_announce"
PROMOTION_TARGET = "ri.models.main.model.announce-target"
"""The model ``promote_and_announce`` promotes into (importing that DAG file would parse it)."""


@pytest.fixture
def dags(airflow_db: None, foundry_connection: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The consumer and the producers, parsed and written to the database with this test's emulator as
    ``foundry_default`` (so both name the same asset), every DAG unpaused."""
    import airflow.settings

    monkeypatch.setenv("AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST", asset_runs.BUNDLES_WITH_PRODUCERS)
    # Every test's emulator has its own port, so its DAGs name other assets: write them, however recent the last.
    monkeypatch.setenv("AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL", "0")
    monkeypatch.setattr(airflow.settings, "MIN_SERIALIZED_DAG_UPDATE_INTERVAL", 0, raising=False)  # Airflow < 3.2
    asset_runs.sync_bundles()
    asset_runs.empty_queue()
    found = {}
    for folder in (EXAMPLE_DAGS, asset_runs.PRODUCERS):
        bag = dag_bag(folder)
        assert not bag.import_errors, bag.import_errors
        found.update(bag.dags)
    return found


def new_versions_uri() -> str:
    return model_asset(DEMO_STUDIO_MODEL).uri


def trained_version(emulator: Any, studio: str) -> str:
    (run,) = emulator.runs(studio)
    return str(run["resolvedOutputs"]["model"]["modelVersionRid"])


def test_the_example_is_scheduled_on_the_asset_of_the_model_the_demo_studio_trains(dags: dict[str, Any]) -> None:
    assert [asset.uri for asset in dags[CONSUMER].schedule] == [new_versions_uri()]


def test_a_successful_training_run_announces_its_version_once(dags: dict[str, Any], foundry_connection: Any) -> None:
    dag_run = dags[PRODUCER].test()

    assert dag_run.state == "success"
    version = trained_version(foundry_connection, DEMO_STUDIO)
    (event,) = [e for e in asset_runs.asset_events(new_versions_uri()) if e["source_run_id"] == dag_run.run_id]
    assert event["extra"]["model_version_rid"] == version
    assert event["extra"]["model_rid"] == DEMO_STUDIO_MODEL
    assert event["extra"]["model_studio_rid"] == DEMO_STUDIO
    assert asset_runs.queued_for(CONSUMER) == 1


def test_the_announced_version_triggers_the_consumer_once_and_it_deploys_exactly_that_version(
    dags: dict[str, Any], foundry_connection: Any
) -> None:
    earlier = {run.run_id for run in asset_runs.asset_triggered_runs(CONSUMER)}
    assert dags[PRODUCER].test().state == "success"
    version = trained_version(foundry_connection, DEMO_STUDIO)

    asset_runs.schedule_queued_runs()
    asset_runs.schedule_queued_runs()
    (consumer_run,) = [run for run in asset_runs.asset_triggered_runs(CONSUMER) if run.run_id not in earlier]
    state = asset_runs.run_tasks(dags[CONSUMER], consumer_run)

    assert state == "success", task_states(consumer_run)
    assert asset_runs.consumed_versions(consumer_run) == [version]
    assert xcom(consumer_run, "version_in_the_event") == version
    result = xcom(consumer_run, "deploy")
    assert result["candidate_version_rid"] == version
    (serving,) = [
        v for v in foundry_connection.model_versions(DEMO_PROD_MODEL) if v["rid"] == served(foundry_connection)[0]
    ]
    assert promoted_from(serving, version)
    assert asset_runs.queued_for(CONSUMER) == 0


def test_a_failed_training_run_announces_nothing_and_triggers_nothing(
    dags: dict[str, Any], foundry_connection: Any
) -> None:
    earlier = {run.run_id for run in asset_runs.asset_triggered_runs(CONSUMER)}
    foundry_connection.add_studio(DEMO_STUDIO, outcome="FAILED")

    dag_run = dags[PRODUCER].test()
    asset_runs.schedule_queued_runs()

    assert dag_run.state == "failed"
    assert [e for e in asset_runs.asset_events(new_versions_uri()) if e["source_run_id"] == dag_run.run_id] == []
    assert asset_runs.queued_for(CONSUMER) == 0
    assert [run for run in asset_runs.asset_triggered_runs(CONSUMER) if run.run_id not in earlier] == []


# Promotions and deploys announce the copies they made ----------------------------------------------------------


def test_a_promotion_announces_the_copy_on_the_target_branch(dags: dict[str, Any], foundry_connection: Any) -> None:
    foundry_connection.add_model(PROMOTION_TARGET)

    dag_run = dags["promote_and_announce"].test()

    assert dag_run.state == "success"
    (copy,) = foundry_connection.model_versions(PROMOTION_TARGET, "staging")
    uri = model_asset(PROMOTION_TARGET, branch="staging").uri
    (event,) = [e for e in asset_runs.asset_events(uri) if e["source_run_id"] == dag_run.run_id]
    assert event["extra"]["model_version_rid"] == copy["rid"]
    assert event["extra"]["model_rid"] == PROMOTION_TARGET
    assert event["extra"]["made_by"] == "promotion"
    assert event["extra"]["source_model_version_rid"] == DEMO_CHAMPION_SOURCE_VERSION


def test_a_deploy_announces_the_copy_the_live_deployment_serves(dags: dict[str, Any], foundry_connection: Any) -> None:
    dag_run = dags["deploy_and_announce"].test()

    assert dag_run.state == "success"
    uri = model_asset(DEMO_PROD_MODEL).uri
    (event,) = [e for e in asset_runs.asset_events(uri) if e["source_run_id"] == dag_run.run_id]
    assert event["extra"]["model_version_rid"] == served(foundry_connection)[0]
    assert event["extra"]["live_deployment_rid"] == DEMO_DEPLOYMENT
    assert event["extra"]["source_model_version_rid"] == DEMO_CHAMPION_SOURCE_VERSION
