"""Clearing a deferred launch task (the UI's "Clear", here ``POST .../clearTaskInstances``).

Try 2 starts while try 1's trigger is being cancelled; try 1's ``on_kill`` runs about then. The builds end
only after try 1's trigger has ended, so whatever its ``on_kill`` did has already reached Foundry.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from airflow_deployment import AirflowDeployment

from airflow_provider_modelstudio.emulator import FoundryEmulator
from e2e.support import (
    LAUNCH_TASK,
    ONE_LAUNCH_DAG,
    TaskInstance,
    add_studio,
    build_statuses,
    describe,
    finish_builds,
    wait_for_trigger_end,
    wait_until_waiting_in_the_triggerer,
)


@dataclass(frozen=True)
class Outcome:
    """What clearing left behind.

    :param studio: the studio launched.
    :param task: the task instance in its final state.
    """

    studio: str
    task: TaskInstance


@pytest.fixture(scope="module")
def outcome(airflow: AirflowDeployment, emulator: FoundryEmulator) -> Outcome:
    """Launch, wait in the triggerer, clear, let try 1's trigger end, then end every build until the task ends."""
    studio = add_studio(emulator, "clear")
    run_id = airflow.api.trigger_dag_run(ONE_LAUNCH_DAG, {"model_studio_rid": studio})
    (first_try,) = wait_until_waiting_in_the_triggerer(airflow, emulator, ONE_LAUNCH_DAG, run_id)
    airflow.api.clear_task_instances(ONE_LAUNCH_DAG, run_id, [LAUNCH_TASK])
    wait_for_trigger_end(airflow, ONE_LAUNCH_DAG, run_id, LAUNCH_TASK, first_try["try_number"])
    return Outcome(studio, finish_builds(airflow, emulator, ONE_LAUNCH_DAG, run_id))


def test_a_cleared_deferred_launch_runs_again_and_succeeds(outcome: Outcome, airflow: AirflowDeployment) -> None:
    assert outcome.task["state"] == "success", describe(airflow, outcome.task)


def test_clearing_a_deferred_launch_leaves_no_build_running(outcome: Outcome, emulator: FoundryEmulator) -> None:
    assert "RUNNING" not in build_statuses(emulator, outcome.studio)
