"""Handing a wait to the triggerer (a build or a live deployment, through one helper): the trigger carries every
setting of the wait and when and where the task deferred, and the task resumes in ``execute_complete``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_modelstudio.runs.waiting import WaitPolicy
from airflow_provider_modelstudio.triggers import resume_hold
from airflow_provider_modelstudio.waits.deferral import defer_wait
from airflow_provider_modelstudio.waits.kinds import BUILDS, LIVE_DEPLOYMENTS


class Task:
    """Records what ``defer`` was called with."""

    def defer(self, *, trigger: Any, method_name: str) -> None:
        self.trigger = trigger
        self.method_name = method_name


DEFERRED_AT = 1_800_000_000.0


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deferral's clock reads :data:`DEFERRED_AT`."""
    monkeypatch.setattr(resume_hold, "time", SimpleNamespace(time=lambda: DEFERRED_AT))


def test_the_trigger_carries_every_setting_of_the_wait() -> None:
    task = Task()
    retry = {"max_attempts": 2, "backoff_initial": 0.1, "backoff_max": 1.0, "max_elapsed": 5.0}
    defer_wait(
        task,  # type: ignore[arg-type]
        BUILDS,
        "ri.foundry.main.build.b",
        foundry_conn_id="foundry_other",
        policy=WaitPolicy(12.0, deadline=1234.5, max_consecutive_failures=4, heartbeat=7.0),
        retry=retry,
        started_at=1000.0,
        cancel_on_kill=False,
        keep_for_next_try=True,
    )
    assert task.method_name == "execute_complete"
    _path, kwargs = task.trigger.serialize()
    assert kwargs == {
        "build_rid": "ri.foundry.main.build.b",
        "foundry_conn_id": "foundry_other",
        "poll_interval": 12.0,
        "deadline": 1234.5,
        "max_consecutive_failures": 4,
        "heartbeat": 7.0,
        "retry": retry,
        "cancel_on_kill": False,
        "keep_for_next_try": True,
        "started_at": 1000.0,
        "deferred_at": DEFERRED_AT,
        "deferred_from": resume_hold.this_process(),
    }


def test_a_live_deployment_wait_defers_to_its_trigger_through_the_same_helper() -> None:
    task = Task()
    defer_wait(
        task,  # type: ignore[arg-type]
        LIVE_DEPLOYMENTS,
        "ri.foundry-ml-live.main.live-deployment.d",
        foundry_conn_id="foundry_other",
        policy=WaitPolicy(12.0, deadline=1234.5, heartbeat=0),
        retry=None,
        expected_version_rid="ri.models.main.model-version.v",
        accept_degraded=True,
    )
    assert task.method_name == "execute_complete"
    assert task.trigger.serialize() == (
        "airflow_provider_modelstudio.triggers.live_deployment.LiveDeploymentTrigger",
        {
            "live_deployment_rid": "ri.foundry-ml-live.main.live-deployment.d",
            "expected_version_rid": "ri.models.main.model-version.v",
            "foundry_conn_id": "foundry_other",
            "poll_interval": 12.0,
            "deadline": 1234.5,
            "max_consecutive_failures": 10,
            "accept_degraded": True,
            "retry": None,
            "deferred_at": DEFERRED_AT,
            "deferred_from": resume_hold.this_process(),
        },
    )
