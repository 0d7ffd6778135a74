"""What the trigger's on_kill does with the build: clear leaves it to the next try, mark failed cancels it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from tests.lifecycle_helpers import FAST

SLOW = "ri.models.main.model-studio.slow"
TI = SimpleNamespace(dag_id="d", task_id="launch", run_id="r1", map_index=-1)


class FakeComms:
    """Answers GetTaskStates like the triggerer's supervisor, with a given state for the task."""

    def __init__(self, state: str | None, fail: bool = False) -> None:
        self.state = state
        self.fail = fail
        self.asked: list[object] = []

    async def asend(self, message):
        if getattr(message, "type", "") != "GetTaskStates":
            return None
        self.asked.append(message)
        if self.fail:
            raise ConnectionError("supervisor gone")
        return SimpleNamespace(task_states={"r1": {"launch": self.state}})


@pytest.fixture
def slow_build(foundry_connection):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    (run,) = foundry_connection.create_runs(SLOW, 1)
    return run["buildRid"]


def kill(build_rid, comms, monkeypatch, **kwargs):
    from airflow.sdk.execution_time import task_runner

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", comms, raising=False)
    trigger = ModelStudioRunTrigger(build_rid=build_rid, retry=FAST, **kwargs)
    trigger.task_instance = TI
    asyncio.run(trigger.on_kill())


@pytest.mark.parametrize("state", ["scheduled", "queued", "running", "deferred", None])
def test_a_cleared_task_leaves_its_build_to_the_next_try(foundry_connection, slow_build, monkeypatch, state):
    comms = FakeComms(state)
    kill(slow_build, comms, monkeypatch, keep_for_next_try=True)
    assert foundry_connection.counters()["cancels"] == {}
    assert comms.asked[0].task_ids == ["launch"]


@pytest.mark.parametrize("state", ["failed", "success"])
def test_a_task_marked_failed_or_succeeded_cancels_its_build(foundry_connection, slow_build, monkeypatch, state):
    kill(slow_build, FakeComms(state), monkeypatch, keep_for_next_try=True)
    assert foundry_connection.counters()["cancels"] == {slow_build: 1}


def test_when_airflow_cannot_be_asked_the_build_is_cancelled(foundry_connection, slow_build, monkeypatch):
    kill(slow_build, FakeComms("running", fail=True), monkeypatch, keep_for_next_try=True)
    assert foundry_connection.counters()["cancels"] == {slow_build: 1}


def test_a_task_whose_retry_cannot_reattach_cancels_even_when_cleared(foundry_connection, slow_build, monkeypatch):
    comms = FakeComms("running")
    kill(slow_build, comms, monkeypatch, keep_for_next_try=False)
    assert foundry_connection.counters()["cancels"] == {slow_build: 1}
    assert comms.asked == []
