"""The example DAG ``retrain_then_deploy`` in the deployment: train, gate, deploy, both waits in the triggerer.

``dags/retrain_then_deploy.py`` is a link to ``example_dags/``, so this is the file users start from. Its
defaults train the emulator's demo studio (runs take 5 s) into a version better than the champion the live
deployment serves; the deployment serves a newly promoted version 3 s after it lands. Both are emulator
seconds on a real-time clock, so the run needs no clock advancing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from airflow_deployment import AirflowDeployment

from airflow_provider_modelstudio.emulator import (
    DEMO_CHAMPION_VERSION,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    FoundryEmulator,
)
from e2e.support import TRIGGER_COMPLETED, TaskInstance, describe, wait_for_run_end

DAG_ID = "retrain_then_deploy"
TASKS = ("train", "gate", "deploy")
DEFERRED_TASKS = ("train", "deploy")


@dataclass(frozen=True)
class Outcome:
    """What the DAG run left behind.

    :param dag_run: the DAG run as the REST API has it at the end.
    :param tasks: each task instance in its final state, by task id.
    :param new_version: the model version the training run wrote.
    :param deployed: the deploy task's result.
    :param served: the live deployment as the emulator has it at the end.
    """

    dag_run: dict[str, Any]
    tasks: dict[str, TaskInstance]
    new_version: str
    deployed: dict[str, Any]
    served: dict[str, Any]


@pytest.fixture(scope="module")
def outcome(airflow: AirflowDeployment, emulator: FoundryEmulator) -> Outcome:
    """Trigger the DAG with its defaults (the demo studio and live deployment) and wait until the run ends."""
    airflow.wait_for_dags([DAG_ID])
    run_id = airflow.api.trigger_dag_run(DAG_ID)
    dag_run = wait_for_run_end(airflow, DAG_ID, run_id)
    tasks = {ti["task_id"]: ti for ti in airflow.api.task_instances(DAG_ID, run_id)}
    trained = airflow.api.xcom(DAG_ID, run_id, "train") if tasks["train"]["state"] == "success" else {}
    deployed = airflow.api.xcom(DAG_ID, run_id, "deploy") if tasks["deploy"]["state"] == "success" else {}
    served = emulator.live_deployments()[DEMO_DEPLOYMENT]
    return Outcome(dag_run, tasks, trained.get("model_version_rid", ""), deployed, served)


def test_train_gate_and_deploy_succeed(outcome: Outcome, airflow: AirflowDeployment) -> None:
    assert {task: ti["state"] for task, ti in outcome.tasks.items()} == dict.fromkeys(TASKS, "success"), [
        describe(airflow, ti) for ti in outcome.tasks.values()
    ]
    assert outcome.dag_run["state"] == "success"


def test_the_live_deployment_serves_a_promoted_copy_of_the_new_model_version(
    outcome: Outcome, emulator: FoundryEmulator
) -> None:
    promoted = outcome.deployed["promoted_version_rid"]
    (copy,) = [version for version in emulator.model_versions(DEMO_PROD_MODEL) if version["rid"] == promoted]
    assert copy["source"]["previousModelVersionRid"] == outcome.new_version
    assert outcome.served["modelVersion"]["modelVersionRid"] == promoted == outcome.deployed["served_version_rid"]
    assert (outcome.served["status"]["state"], outcome.served["status"]["isReady"]) == ("ACTIVE", True)
    assert outcome.deployed["previous_version_rid"] == DEMO_CHAMPION_VERSION


def test_the_new_version_comes_from_the_demo_studio_and_passed_every_gate_check(
    outcome: Outcome, airflow: AirflowDeployment
) -> None:
    run_id = outcome.dag_run["dag_run_id"]
    assert airflow.api.xcom(DAG_ID, run_id, "train")["model_studio_rid"] == DEMO_STUDIO
    rows = airflow.api.xcom(DAG_ID, run_id, "gate", key="gate")
    assert [(row["check"], row["verdict"]) for row in rows] == [("threshold", "PASS")] * 2 + [("champion", "PASS")] * 2


def test_training_and_deploying_waited_in_the_triggerer(outcome: Outcome, airflow: AirflowDeployment) -> None:
    """In some try: the DAG gives both tasks a retry against Airflow's deferral race, whose retry may find the
    run or the rollout already finished and end in the worker."""
    for task_id in DEFERRED_TASKS:
        ti = outcome.tasks[task_id]
        events = [
            event
            for try_number in range(1, ti["try_number"] + 1)
            for event in airflow.api.task_log(DAG_ID, ti["dag_run_id"], task_id, try_number)
        ]
        assert any(event.get("event") == TRIGGER_COMPLETED for event in events), task_id
