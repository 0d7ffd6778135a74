"""Marking a deferred launch task failed (the UI's "Mark as failed", here a PATCH of its state)."""

from __future__ import annotations

from airflow_deployment import AirflowDeployment

from airflow_provider_modelstudio.emulator import FoundryEmulator
from e2e.support import (
    CANCEL_DELAY_SECONDS,
    LAUNCH_TASK,
    ONE_LAUNCH_DAG,
    add_studio,
    wait_for_trigger_end,
    wait_until_waiting_in_the_triggerer,
)


def test_marking_a_deferred_launch_failed_cancels_its_build(
    airflow: AirflowDeployment, emulator: FoundryEmulator
) -> None:
    studio = add_studio(emulator, "mark-failed")
    run_id = airflow.api.trigger_dag_run(ONE_LAUNCH_DAG, {"model_studio_rid": studio})
    (deferred,) = wait_until_waiting_in_the_triggerer(airflow, emulator, ONE_LAUNCH_DAG, run_id)

    airflow.api.set_task_instance_state(ONE_LAUNCH_DAG, run_id, LAUNCH_TASK, "failed")
    wait_for_trigger_end(airflow, ONE_LAUNCH_DAG, run_id, LAUNCH_TASK, deferred["try_number"])
    emulator.advance(CANCEL_DELAY_SECONDS)

    build_rid = airflow.api.xcom(ONE_LAUNCH_DAG, run_id, LAUNCH_TASK, "build_rid")
    assert emulator.builds()[build_rid]["status"] == "CANCELED"
