"""Ten deferred launches while the triggerer is SIGKILLed and started again.

The triggerer dies with every trigger running in it (no cleanup runs); a new one takes the triggers over once
the dead one's heartbeat is stale, rebuilding each from its serialised form. Only then do the builds end.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from airflow_deployment import AirflowDeployment

from airflow_provider_modelstudio.emulator import FoundryEmulator
from e2e.support import (
    BUILD_SECONDS,
    TEN_LAUNCHES_DAG,
    add_studio,
    build_statuses,
    wait_for_run_end,
    wait_for_status_check,
    wait_for_tasks,
    wait_until_waiting_in_the_triggerer,
)

LAUNCHES = 10


@dataclass(frozen=True)
class Outcome:
    """What the scenario left behind.

    :param studios: the ten studios, one per task.
    :param dag_run: the DAG run as the REST API has it at the end.
    :param task_states: final state by task id.
    :param launches: launches the emulator counted, by studio.
    """

    studios: list[str]
    dag_run: dict[str, Any]
    task_states: dict[str, str]
    launches: dict[str, int]


@pytest.fixture(scope="module")
def outcome(airflow: AirflowDeployment, emulator: FoundryEmulator) -> Outcome:
    """Ten deferred launches; the triggerer is SIGKILLed, restarted, takes them over; then the builds end."""
    studios = [add_studio(emulator, f"restart-{index}") for index in range(LAUNCHES)]
    run_id = airflow.api.trigger_dag_run(TEN_LAUNCHES_DAG, {"studio_prefix": studios[0].removesuffix("-0")})
    waiting = wait_until_waiting_in_the_triggerer(airflow, emulator, TEN_LAUNCHES_DAG, run_id)
    killed_jobs = {ti["triggerer_job"]["id"] for ti in waiting}

    airflow.kill("triggerer")
    airflow.restart("triggerer")
    wait_for_tasks(
        airflow,
        TEN_LAUNCHES_DAG,
        run_id,
        "the new triggerer to take every trigger over",
        lambda instances: all(
            ti["state"] == "deferred" and ti["triggerer_job"] and ti["triggerer_job"]["id"] not in killed_jobs
            for ti in instances
        ),
    )
    wait_for_status_check(emulator)
    emulator.advance(BUILD_SECONDS)

    dag_run = wait_for_run_end(airflow, TEN_LAUNCHES_DAG, run_id)
    task_states = {ti["task_id"]: ti["state"] for ti in airflow.api.task_instances(TEN_LAUNCHES_DAG, run_id)}
    launches = Counter(emulator.counters()["launches"])
    return Outcome(studios, dag_run, task_states, {studio: launches[studio] for studio in studios})


def test_every_deferred_launch_succeeds_across_a_triggerer_kill_and_restart(outcome: Outcome) -> None:
    assert (outcome.dag_run["state"], set(outcome.task_states.values())) == ("success", {"success"}), (
        outcome.task_states
    )


def test_every_task_launched_exactly_one_run_across_the_restart(outcome: Outcome) -> None:
    assert outcome.launches == dict.fromkeys(outcome.studios, 1)


def test_no_build_is_left_running_after_the_restart(outcome: Outcome, emulator: FoundryEmulator) -> None:
    statuses = {studio: build_statuses(emulator, studio) for studio in outcome.studios}
    assert statuses == {studio: ["SUCCEEDED"] for studio in outcome.studios}
