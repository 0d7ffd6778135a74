"""What the deployment tests share: the DAGs they trigger, and waits on Airflow's and the emulator's state.

Builds in these tests last an hour of emulator time; a test ends them by advancing the emulator's clock once
Airflow is where the test wants it, so nothing depends on how fast this machine is. Every wait gives up
with a message naming what it waited for and what it saw last.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from airflow_deployment import AirflowDeployment, wait_until

from airflow_provider_modelstudio.emulator import FoundryEmulator

ONE_LAUNCH_DAG = "e2e_one_launch"
TEN_LAUNCHES_DAG = "e2e_ten_launches"
LAUNCH_TASK = "launch"
DAG_IDS = [ONE_LAUNCH_DAG, TEN_LAUNCHES_DAG]
STUDIO_PREFIX = "ri.models.main.model-studio.e2e-"
# The OAuth2 client's secret, made for this session so that finding it in a file can only mean a leak.
CLIENT_SECRET = f"e2e-client-secret-{secrets.token_hex(16)}"
BUILD_SECONDS = 3600.0
CANCEL_DELAY_SECONDS = 1.0
WAIT_SECONDS = 180.0
FINAL_TASK_STATES = frozenset({"success", "failed", "upstream_failed", "skipped", "removed"})
FINAL_RUN_STATES = frozenset({"success", "failed"})
TRIGGER_COMPLETED = "trigger completed"

TaskInstance = dict[str, Any]


def add_studio(emulator: FoundryEmulator, name: str) -> str:
    """Add a studio whose runs succeed after :data:`BUILD_SECONDS` of emulator time; return its RID.

    :param emulator: the emulator.
    :param name: a name unique within the session (studios are never reset).
    """
    rid = STUDIO_PREFIX + name
    emulator.add_studio(rid, duration_seconds=BUILD_SECONDS)
    return rid


def build_statuses(emulator: FoundryEmulator, studio_rid: str) -> list[str]:
    """The status of every build launched for a studio, newest first.

    :param emulator: the emulator.
    :param studio_rid: the studio.
    """
    return [str(build["status"]) for build in _builds_of(emulator, studio_rid)]


def _builds_of(emulator: FoundryEmulator, studio_rid: str) -> list[dict[str, Any]]:
    builds = emulator.builds()
    return [builds[run["buildRid"]] for run in emulator.runs(studio_rid)]


def status_checks(emulator: FoundryEmulator) -> int:
    """How many getBatch status checks the emulator has answered (every deferred wait polls through it)."""
    return sum(emulator.counters()["requests"].get("get_builds_batch", {}).values())


def wait_for_status_check(emulator: FoundryEmulator) -> None:
    """Wait until the triggerer has checked builds once more (its triggers are running, not just assigned).

    :param emulator: the emulator.
    """
    before = status_checks(emulator)
    wait_until("the triggerer to check the builds' status", lambda: status_checks(emulator) > before, WAIT_SECONDS)


def wait_for_tasks(
    airflow: AirflowDeployment, dag_id: str, run_id: str, what: str, done: Callable[[list[TaskInstance]], bool]
) -> list[TaskInstance]:
    """Wait until the run's task instances satisfy ``done``; fail at once if a task ends before that.

    :param airflow: the deployment.
    :param dag_id: the DAG.
    :param run_id: the run.
    :param what: what is awaited, for the error message.
    :param done: the condition on every task instance of the run.
    :raises AssertionError: when a task instance ends first, naming it and its state.
    """

    def probe() -> list[TaskInstance] | None:
        instances = airflow.api.task_instances(dag_id, run_id)
        if instances and done(instances):
            return instances
        ended = {ti["task_id"]: ti["state"] for ti in instances if ti["state"] in FINAL_TASK_STATES}
        if ended:
            raise AssertionError(f"while waiting for {what}, tasks of {dag_id} {run_id} ended: {ended}")
        return None

    return wait_until(what, probe, WAIT_SECONDS)


def deferred_in_a_triggerer(instances: list[TaskInstance]) -> bool:
    """Whether every task instance is deferred and its trigger is assigned to a triggerer."""
    return all(ti["state"] == "deferred" and ti["triggerer_job"] for ti in instances)


def wait_until_waiting_in_the_triggerer(
    airflow: AirflowDeployment, emulator: FoundryEmulator, dag_id: str, run_id: str
) -> list[TaskInstance]:
    """Wait until every task of the run is deferred, its trigger runs in a triggerer and has checked its build.

    :param airflow: the deployment.
    :param emulator: the emulator.
    :param dag_id: the DAG.
    :param run_id: the run.
    """
    instances = wait_for_tasks(airflow, dag_id, run_id, "every task to wait in the triggerer", deferred_in_a_triggerer)
    wait_for_status_check(emulator)
    return instances


def wait_for_trigger_end(airflow: AirflowDeployment, dag_id: str, run_id: str, task_id: str, try_number: int) -> None:
    """Wait until the trigger of one try has ended, its ``on_kill`` included (the triggerer logs it last).

    :param airflow: the deployment.
    :param dag_id: the DAG.
    :param run_id: the run.
    :param task_id: the task.
    :param try_number: the try whose trigger is awaited.
    """

    def ended() -> bool:
        events = airflow.api.task_log(dag_id, run_id, task_id, try_number)
        return any(event.get("event") == TRIGGER_COMPLETED for event in events)

    wait_until(f"the trigger of {task_id} try {try_number} to end", ended, WAIT_SECONDS)


def finish_builds(airflow: AirflowDeployment, emulator: FoundryEmulator, dag_id: str, run_id: str) -> TaskInstance:
    """End the builds a task waits for, by advancing the clock while it is deferred, until the task ends.

    :param airflow: the deployment.
    :param emulator: the emulator.
    :param dag_id: a DAG of one task.
    :param run_id: the run.
    :return: the task instance in its final state.
    """

    def probe() -> TaskInstance | None:
        (instance,) = airflow.api.task_instances(dag_id, run_id)
        if instance["state"] in FINAL_TASK_STATES:
            return instance
        if instance["state"] == "deferred":
            emulator.advance(BUILD_SECONDS)
        return None

    return wait_until(f"the task of {dag_id} {run_id} to end", probe, WAIT_SECONDS)


def wait_for_run_end(airflow: AirflowDeployment, dag_id: str, run_id: str) -> dict[str, Any]:
    """Wait until a DAG run succeeded or failed and return it.

    :param airflow: the deployment.
    :param dag_id: the DAG.
    :param run_id: the run.
    """

    def probe() -> dict[str, Any] | None:
        dag_run = airflow.api.dag_run(dag_id, run_id)
        return dag_run if dag_run["state"] in FINAL_RUN_STATES else None

    return wait_until(f"{dag_id} {run_id} to end", probe, WAIT_SECONDS)


def describe(airflow: AirflowDeployment, instance: TaskInstance) -> str:
    """The task instance's try and state, with the exceptions its log reports (for assertion messages).

    :param airflow: the deployment.
    :param instance: an unmapped task instance.
    """
    events = airflow.api.task_log(
        instance["dag_id"], instance["dag_run_id"], instance["task_id"], instance["try_number"]
    )
    errors = [
        f"{detail.get('exc_type')}: {detail.get('exc_value')}"
        for event in events
        if event.get("level") == "error"
        for detail in event.get("error_detail") or []
    ]
    return f"{instance['task_id']} try {instance['try_number']} ended {instance['state']}; errors: {errors or 'none'}"
