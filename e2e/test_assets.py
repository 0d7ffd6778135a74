"""Chaining DAGs on model versions in the deployment: ``e2e_train_and_announce`` trains the demo studio with the
model's asset among its outlets, and the scheduler runs the example ``deploy_on_new_model_version`` (linked into
``e2e/dags``) from that event, once, deploying exactly the version trained. A failed training run records no
event and starts nothing.

The example deploys to the emulator's demo live deployment, which later tests expect as seeded: the emulator is
reset to its scenario once this module is done with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from airflow_deployment import AirflowDeployment, DeploymentError, wait_until

from airflow_provider_modelstudio.assets import model_asset
from airflow_provider_modelstudio.emulator import (
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
    FoundryEmulator,
)
from e2e.support import FINAL_RUN_STATES, WAIT_SECONDS, wait_for_run_end

PRODUCER = "e2e_train_and_announce"
CONSUMER = "deploy_on_new_model_version"


@dataclass(frozen=True)
class Chain:
    """What the producer's runs left behind.

    :param trained: the producer's successful run.
    :param version: the model version it trained.
    :param events: the asset events of that run.
    :param consumer_runs: every run of the consumer once it ended.
    :param failed: the producer's run of a failing studio.
    :param failed_events: the asset events of that run.
    :param queued: the consumer's queued asset events at the end.
    :param served: the live deployment as the emulator has it after the consumer's run.
    :param promoted: the version of the production model the consumer's deploy promoted.
    """

    trained: dict[str, Any]
    version: str
    events: list[dict[str, Any]]
    consumer_runs: list[dict[str, Any]]
    failed: dict[str, Any]
    failed_events: list[dict[str, Any]]
    queued: list[dict[str, Any]]
    served: dict[str, Any]
    promoted: dict[str, Any]


def asset_events(airflow: AirflowDeployment, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """The asset events a DAG run's tasks recorded."""
    answer = airflow.api.request(
        "GET", "/api/v2/assets/events", query={"source_dag_id": dag_id, "source_run_id": run_id}
    )
    events: list[dict[str, Any]] = answer["asset_events"]
    return events


def dag_runs(airflow: AirflowDeployment, dag_id: str) -> list[dict[str, Any]]:
    """Every run of a DAG, oldest first."""
    answer = airflow.api.request("GET", f"/api/v2/dags/{dag_id}/dagRuns", query={"order_by": "id", "limit": 100})
    runs: list[dict[str, Any]] = answer["dag_runs"]
    return runs


def queued_events(airflow: AirflowDeployment, dag_id: str) -> list[dict[str, Any]]:
    """The asset events waiting to start a run of ``dag_id`` (none: Airflow may answer 404)."""
    try:
        answer = airflow.api.request("GET", f"/api/v2/dags/{dag_id}/assets/queuedEvents")
    except DeploymentError as error:
        if " answered 404:" in str(error):
            return []
        raise
    events: list[dict[str, Any]] = answer["queued_events"]
    return events


def wait_for_consumer_run(airflow: AirflowDeployment) -> list[dict[str, Any]]:
    """Wait until the consumer has a run and every run of it ended; return its runs."""

    def ended() -> list[dict[str, Any]] | None:
        runs = dag_runs(airflow, CONSUMER)
        return runs if runs and all(run["state"] in FINAL_RUN_STATES for run in runs) else None

    return wait_until(f"a run of {CONSUMER} to start from the asset event and end", ended, WAIT_SECONDS)


@pytest.fixture(scope="module")
def chain(airflow: AirflowDeployment, emulator: FoundryEmulator) -> Iterator[Chain]:
    """Train once (the consumer runs from the event and deploys), then train a studio that fails."""
    airflow.wait_for_dags([PRODUCER, CONSUMER])
    try:
        trained = wait_for_run_end(airflow, PRODUCER, airflow.api.trigger_dag_run(PRODUCER))
        version = airflow.api.xcom(PRODUCER, trained["dag_run_id"], "train")["model_version_rid"]
        wait_for_consumer_run(airflow)
        served = emulator.live_deployments()[DEMO_DEPLOYMENT]
        serving = served["modelVersion"]["modelVersionRid"]
        (promoted,) = [v for v in emulator.model_versions(DEMO_PROD_MODEL) if v["rid"] == serving]
        emulator.add_studio(DEMO_STUDIO, outcome="FAILED")
        failed = wait_for_run_end(airflow, PRODUCER, airflow.api.trigger_dag_run(PRODUCER))
        yield Chain(
            trained=trained,
            version=version,
            events=asset_events(airflow, PRODUCER, trained["dag_run_id"]),
            consumer_runs=dag_runs(airflow, CONSUMER),
            failed=failed,
            failed_events=asset_events(airflow, PRODUCER, failed["dag_run_id"]),
            queued=queued_events(airflow, CONSUMER),
            served=served,
            promoted=promoted,
        )
    finally:
        emulator.reset()


def test_the_training_run_announces_its_version_on_the_models_asset(chain: Chain, emulator: FoundryEmulator) -> None:
    assert chain.trained["state"] == "success"
    (event,) = chain.events
    assert event["uri"] == model_asset(DEMO_STUDIO_MODEL, host=emulator.url).uri
    assert event["extra"]["model_version_rid"] == chain.version
    assert event["extra"]["model_rid"] == DEMO_STUDIO_MODEL


def test_the_event_starts_exactly_one_run_of_the_consumer(chain: Chain) -> None:
    (event,) = chain.events
    (run,) = chain.consumer_runs
    assert run["run_type"] == "asset_triggered"
    assert [created["run_id"] for created in event["created_dagruns"]] == [run["dag_run_id"]]
    assert chain.queued == []


def test_the_consumer_deploys_exactly_the_announced_version(chain: Chain, airflow: AirflowDeployment) -> None:
    (run,) = chain.consumer_runs
    assert run["state"] == "success"
    assert airflow.api.xcom(CONSUMER, run["dag_run_id"], "version_in_the_event") == chain.version
    assert chain.promoted["source"]["previousModelVersionRid"] == chain.version
    assert (chain.served["status"]["state"], chain.served["status"]["isReady"]) == ("ACTIVE", True)


def test_a_failed_training_run_announces_nothing_and_starts_nothing(chain: Chain) -> None:
    assert chain.failed["state"] == "failed"
    assert chain.failed_events == []
    assert len(chain.consumer_runs) == 1
