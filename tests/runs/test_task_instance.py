"""Asking Airflow, from the triggerer, whether a killed task runs again: the question names exactly this task
instance (mapped or not), and any answer that does not say so is "unknown"."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_modelstudio.runs.task_instance import runs_again


class Supervisor:
    """Answers ``GetTaskStates`` with a fixed answer (or fails), and keeps the questions."""

    def __init__(self, answer: Any = None, fail: Exception | None = None) -> None:
        self.answer = answer
        self.fail = fail
        self.asked: list[Any] = []

    async def asend(self, message: Any) -> Any:
        self.asked.append(message)
        if self.fail is not None:
            raise self.fail
        return self.answer


def states(states_by_run: dict[str, dict[str, str]]) -> SimpleNamespace:
    return SimpleNamespace(task_states=states_by_run)


def ask(monkeypatch: pytest.MonkeyPatch, supervisor: Supervisor, map_index: int | None) -> bool | None:
    from airflow.sdk.execution_time import task_runner

    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", supervisor, raising=False)
    ti = SimpleNamespace(dag_id="d", task_id="launch", run_id="r1", map_index=map_index)
    return asyncio.run(runs_again(ti))


@pytest.mark.parametrize("map_index", [-1, None])
def test_an_unmapped_task_is_asked_about_by_its_task_id(monkeypatch: pytest.MonkeyPatch, map_index: Any) -> None:
    supervisor = Supervisor(states({"r1": {"launch": "queued"}}))
    assert ask(monkeypatch, supervisor, map_index) is True
    (question,) = supervisor.asked
    assert (question.dag_id, question.task_ids, question.run_ids, question.map_index) == ("d", ["launch"], ["r1"], None)


@pytest.mark.parametrize("map_index", [0, 3])
def test_a_mapped_task_is_asked_about_by_its_map_index(monkeypatch: pytest.MonkeyPatch, map_index: int) -> None:
    supervisor = Supervisor(states({"r1": {f"launch_{map_index}": "failed", "launch": "queued"}}))
    assert ask(monkeypatch, supervisor, map_index) is False
    (question,) = supervisor.asked
    assert (question.task_ids, question.run_ids, question.map_index) == (["launch"], ["r1"], map_index)


def test_a_task_airflow_does_not_list_is_unknown_without_a_complaint(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert ask(monkeypatch, Supervisor(states({"r1": {"other": "running"}})), -1) is None
    assert ask(monkeypatch, Supervisor(states({"r0": {"launch": "running"}})), -1) is None
    assert ask(monkeypatch, Supervisor(SimpleNamespace()), -1) is None
    assert caplog.records == []


def test_when_airflow_cannot_be_asked_the_answer_is_unknown_and_the_reason_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    assert ask(monkeypatch, Supervisor(fail=ConnectionError("supervisor gone")), -1) is None
    assert [r.getMessage() for r in caplog.records] == [
        "Could not ask Airflow for the state of the task instance (supervisor gone)."
    ]
