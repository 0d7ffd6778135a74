"""A wait's event is held until Airflow can resume the deferred task without failing it (apache/airflow#72716).

The hold's clock is frozen and its sleep recorded instead of slept, so these tests see exactly how long an
event would be held, whatever the machine's speed, without waiting it.
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from structlog.testing import capture_logs

from airflow_provider_modelstudio.triggers import resume_hold
from airflow_provider_modelstudio.triggers.live_deployment import LiveDeploymentTrigger
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from airflow_provider_modelstudio.triggers.resume_hold import Deferral, hold_seconds, this_process
from tests.lifecycle_helpers import DEMO, FAST, run_trigger

ELSEWHERE = "worker-7:4242"
"""A deferring process other than this one, as a worker deferring to a triggerer is."""
NOW = 1_800_000_000.0
"""The hold's clock, frozen."""


@pytest.fixture
def holds(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds each event was held, recorded instead of slept, the hold's clock frozen at :data:`NOW`."""
    held: list[float] = []

    async def record(seconds: float) -> None:
        held.append(seconds)

    monkeypatch.setattr(resume_hold, "sleep", record)
    monkeypatch.setattr(resume_hold, "time", SimpleNamespace(time=lambda: NOW))
    return held


def deferred(seconds_ago: float, process: str = ELSEWHERE) -> dict[str, Any]:
    return Deferral(NOW - seconds_ago, process).to_kwargs()


def build_trigger(build_rid: str, **kwargs: Any) -> ModelStudioRunTrigger:
    return ModelStudioRunTrigger(build_rid=build_rid, poll_interval=0.05, retry=FAST, **kwargs)


def test_an_event_soon_after_a_deferral_elsewhere_is_held_until_twice_the_workers_heartbeat_interval(
    foundry_connection: Any, holds: list[float]
) -> None:
    (run,) = foundry_connection.create_runs(DEMO, 1)
    foundry_connection.set_build_status(run["buildRid"], "SUCCEEDED")
    with capture_logs() as logs:
        event = run_trigger(build_trigger(run["buildRid"], **deferred(1.0)))
    assert event["kind"] == "final" and event["status"] == "SUCCEEDED"
    assert hold_seconds() == 10.0
    assert holds == [9.0]
    (line,) = [entry["event"] for entry in logs if "apache/airflow#72716" in str(entry["event"])]
    assert f"build {run['buildRid']}" in line and "ended 1.0 s after the task deferred" in line


def test_the_hold_follows_the_workers_min_heartbeat_interval(
    foundry_connection: Any, holds: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL", "2")
    (run,) = foundry_connection.create_runs(DEMO, 1)
    foundry_connection.set_build_status(run["buildRid"], "SUCCEEDED")
    run_trigger(build_trigger(run["buildRid"], **deferred(1.0)))
    assert holds == [3.0]


def test_a_wait_run_in_the_process_that_deferred_is_not_held(foundry_connection: Any, holds: list[float]) -> None:
    (run,) = foundry_connection.create_runs(DEMO, 1)
    foundry_connection.set_build_status(run["buildRid"], "SUCCEEDED")
    assert run_trigger(build_trigger(run["buildRid"], **deferred(0.0, this_process())))["kind"] == "final"
    assert holds == []


def test_a_wait_ending_after_the_hold_is_not_held(foundry_connection: Any, holds: list[float]) -> None:
    (run,) = foundry_connection.create_runs(DEMO, 1)
    foundry_connection.set_build_status(run["buildRid"], "SUCCEEDED")
    assert run_trigger(build_trigger(run["buildRid"], **deferred(hold_seconds() + 1)))["kind"] == "final"
    assert holds == []


def test_a_trigger_built_without_a_deferral_is_not_held(foundry_connection: Any, holds: list[float]) -> None:
    (run,) = foundry_connection.create_runs(DEMO, 1)
    foundry_connection.set_build_status(run["buildRid"], "SUCCEEDED")
    assert run_trigger(build_trigger(run["buildRid"]))["kind"] == "final"
    assert holds == []


@pytest.mark.parametrize(
    ("kwargs", "kind"),
    [
        pytest.param({"foundry_conn_id": "nope"}, "error", id="a wait that cannot start"),
        pytest.param({"deadline": 1.0}, "timeout", id="a deadline already past"),
        pytest.param({"max_consecutive_failures": 1}, "error", id="failed checks"),
    ],
)
def test_every_kind_of_early_end_is_held(
    foundry_connection: Any, holds: list[float], monkeypatch: pytest.MonkeyPatch, kwargs: dict[str, Any], kind: str
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NOPE", raising=False)
    event = run_trigger(build_trigger("ri.foundry.main.build.unknown", **kwargs, **deferred(0.5)))
    assert event["kind"] == kind
    assert holds == [9.5]


def test_a_live_deployment_wait_is_held_like_a_builds(foundry_connection: Any, holds: list[float]) -> None:
    trigger = LiveDeploymentTrigger(
        live_deployment_rid="ri.foundry-ml-live.main.live-deployment.unknown",
        expected_version_rid="ri.models.main.model-version.v",
        poll_interval=0.05,
        retry=FAST,
        max_consecutive_failures=1,
        **deferred(0.5),
    )
    assert run_trigger(trigger)["kind"] == "error"
    assert holds == [9.5]


@pytest.mark.parametrize("trigger_class", [ModelStudioRunTrigger, LiveDeploymentTrigger])
def test_a_deferral_records_when_and_where_and_survives_serialisation(trigger_class: Any) -> None:
    from airflow_provider_modelstudio.runs.waiting import WaitPolicy

    before = time.time()
    settings = (
        {"expected_version_rid": "ri.models.main.model-version.v"} if trigger_class is LiveDeploymentTrigger else {}
    )
    trigger = trigger_class.waiting_on(
        "ri.x.main.thing.t", foundry_conn_id="c", policy=WaitPolicy(1.0, None, 3), retry=None, **settings
    )
    classpath, kwargs = trigger.serialize()
    assert before <= kwargs["deferred_at"] <= time.time()
    assert kwargs["deferred_from"] == this_process()
    rebuilt = trigger_class(**json.loads(json.dumps(kwargs)))
    assert rebuilt.deferral == trigger.deferral
    assert rebuilt.serialize() == (classpath, kwargs)
