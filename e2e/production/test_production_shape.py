"""The shape platform teams run: PostgreSQL, the CeleryExecutor with Redis, two triggerers.

Deferred launches and a deferred deploy wait in one triggerer, which is SIGKILLed: the other triggerer takes
their triggers over, and every task ends right. Then a Celery worker is SIGKILLed while a task has launched its
run and not yet deferred: the task's retry reattaches to that run. Throughout, one run per launch, one copy per
promotion, and no build left running, as the emulator counts them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from airflow_deployment import CELERY_WORKER, AirflowDeployment, wait_until

from airflow_provider_modelstudio.emulator import DEMO_PROD_MODEL, DEMO_STUDIO, FoundryEmulator
from e2e.production.conftest import SECOND_TRIGGERER
from e2e.support import (
    BUILD_SECONDS,
    WAIT_SECONDS,
    TaskInstance,
    add_studio,
    build_statuses,
    describe,
    wait_for_run_end,
    wait_for_tasks,
)

LAUNCHES_DAG = "prod_launches"
DEPLOY_DAG = "prod_deploy"
LAUNCHES = 4
ROLLOUT_SECONDS = 3600.0
# Each status check of the worker's first wait takes this long, so the worker is killed in the middle of it.
SLOW_CHECK_SECONDS = 120.0


@dataclass(frozen=True)
class Waits:
    """The runs of the triggerer scenario.

    :param studios: the studios the launches ran.
    :param launches_run: the DAG run of ``prod_launches``.
    :param deploy_run: the DAG run of ``prod_deploy``.
    :param candidate: the version deployed.
    :param deployment: the live deployment deployed to.
    """

    studios: list[str]
    launches_run: str
    deploy_run: str
    candidate: str
    deployment: str


def a_trained_version(emulator: FoundryEmulator) -> str:
    """A model version of the demo studio, trained without Airflow."""
    (run,) = emulator.create_runs(DEMO_STUDIO, 1)
    emulator.advance(BUILD_SECONDS)
    return str(run["resolvedOutputs"]["model"]["modelVersionRid"])


def deferred_in(instances: list[TaskInstance]) -> set[int]:
    """The triggerer jobs holding the instances' triggers (empty until every one is deferred and assigned)."""
    if not all(ti["state"] == "deferred" and ti["triggerer_job"] for ti in instances):
        return set()
    return {ti["triggerer_job"]["id"] for ti in instances}


def moved(instances: list[TaskInstance], killed: set[int]) -> bool:
    """Whether every instance is deferred in a triggerer other than the ``killed`` ones."""
    held = deferred_in(instances)
    return bool(held) and not held & killed


@pytest.fixture(scope="module")
def waits(airflow: AirflowDeployment, emulator: FoundryEmulator) -> Waits:
    """Launches and a deploy all deferred in the first triggerer (the second is stopped meanwhile), then the
    first SIGKILLed with the second running; the clock moves on only once the second holds every trigger."""
    studios = [add_studio(emulator, f"prod-{index}") for index in range(LAUNCHES)]
    candidate = a_trained_version(emulator)
    deployment = emulator.add_live_deployment(DEMO_PROD_MODEL, ready_seconds=ROLLOUT_SECONDS)["rid"]
    airflow.kill(SECOND_TRIGGERER)
    launches_run = airflow.api.trigger_dag_run(LAUNCHES_DAG, {"studio_prefix": studios[0].removesuffix("-0")})
    deploy_run = airflow.api.trigger_dag_run(
        DEPLOY_DAG, {"live_deployment_rid": deployment, "model_version_rid": candidate}
    )
    runs = ((LAUNCHES_DAG, launches_run), (DEPLOY_DAG, deploy_run))
    first: set[int] = set()
    for run in runs:
        first |= deferred_in(wait_for_tasks(airflow, *run, "every task to defer", lambda tis: bool(deferred_in(tis))))
    airflow.restart(SECOND_TRIGGERER)
    airflow.kill("triggerer")
    for run in runs:
        wait_for_tasks(airflow, *run, "the second triggerer to take every trigger over", lambda tis: moved(tis, first))
    emulator.advance(max(BUILD_SECONDS, ROLLOUT_SECONDS))
    for run in runs:
        wait_for_run_end(airflow, *run)
    return Waits(studios, launches_run, deploy_run, candidate, deployment)


def test_every_deferred_task_ends_right_after_its_triggerer_was_killed(
    waits: Waits, airflow: AirflowDeployment
) -> None:
    for dag_id, run_id in ((LAUNCHES_DAG, waits.launches_run), (DEPLOY_DAG, waits.deploy_run)):
        instances = airflow.api.task_instances(dag_id, run_id)
        assert {ti["state"] for ti in instances} == {"success"}, [describe(airflow, ti) for ti in instances]


def test_each_launch_started_one_run_and_no_build_is_left_running(waits: Waits, emulator: FoundryEmulator) -> None:
    launches = Counter(emulator.counters()["launches"])
    assert {studio: launches[studio] for studio in waits.studios} == dict.fromkeys(waits.studios, 1)
    assert {studio: build_statuses(emulator, studio) for studio in waits.studios} == {
        studio: ["SUCCEEDED"] for studio in waits.studios
    }


def test_the_deploy_made_one_copy_and_the_deployment_serves_it(waits: Waits, emulator: FoundryEmulator) -> None:
    copies = [
        version["rid"]
        for version in emulator.model_versions(DEMO_PROD_MODEL)
        if (version.get("source") or {}).get("previousModelVersionRid") == waits.candidate
    ]
    served = emulator.live_deployments()[waits.deployment]
    assert len(copies) == 1
    assert served["modelVersion"]["modelVersionRid"] == copies[0]
    assert (served["status"]["state"], served["status"]["isReady"]) == ("ACTIVE", True)


@dataclass(frozen=True)
class Crash:
    """The worker-kill scenario.

    :param studios: the studios launched.
    :param instances: the task instances at the end.
    :param launches: launches the emulator counted, by studio.
    """

    studios: list[str]
    instances: list[TaskInstance]
    launches: dict[str, int]


@pytest.fixture(scope="module")
def crash(airflow: AirflowDeployment, emulator: FoundryEmulator, waits: Waits) -> Crash:
    """One launch whose worker is SIGKILLed after the launch reached Foundry, before the task deferred; a new
    worker runs the task's retry."""
    studios = [add_studio(emulator, f"crash-{index}") for index in range(LAUNCHES)]
    emulator.set_faults("get_build", latency_seconds=SLOW_CHECK_SECONDS)
    run_id = airflow.api.trigger_dag_run(LAUNCHES_DAG, {"studio_prefix": studios[0].removesuffix("-0")})
    wait_until(
        "every launch to reach the emulator",
        lambda: all(emulator.counters()["launches"].get(studio) for studio in studios),
        WAIT_SECONDS,
    )
    airflow.kill(CELERY_WORKER)
    emulator.clear_faults()
    airflow.restart(CELERY_WORKER)

    def deferred_again() -> bool:
        instances = airflow.api.task_instances(LAUNCHES_DAG, run_id)
        return all(ti["state"] == "deferred" and ti["try_number"] == 2 for ti in instances)

    wait_until("every task's retry to defer", deferred_again, WAIT_SECONDS)
    emulator.advance(BUILD_SECONDS)
    wait_for_run_end(airflow, LAUNCHES_DAG, run_id)
    instances = airflow.api.task_instances(LAUNCHES_DAG, run_id)
    launches = Counter(emulator.counters()["launches"])
    return Crash(studios, instances, {studio: launches[studio] for studio in studios})


def test_tasks_whose_worker_died_mid_launch_succeed_on_their_retry(crash: Crash, airflow: AirflowDeployment) -> None:
    assert {(ti["state"], ti["try_number"]) for ti in crash.instances} == {("success", 2)}, [
        describe(airflow, ti) for ti in crash.instances
    ]


def test_each_retry_reattached_to_the_run_the_dead_worker_launched(crash: Crash, emulator: FoundryEmulator) -> None:
    assert crash.launches == dict.fromkeys(crash.studios, 1)
    assert {studio: build_statuses(emulator, studio) for studio in crash.studios} == {
        studio: ["SUCCEEDED"] for studio in crash.studios
    }
