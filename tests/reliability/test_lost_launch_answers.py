"""Launch answers lost after Foundry created the run: exactly one run exists, and the task's result is it."""

from __future__ import annotations

import random

import pytest

from tests.conftest import StartEmulator
from tests.reliability.conftest import UseEmulator
from tests.reliability.support import (
    RETRY,
    TIME_SCALE,
    Task,
    check,
    in_threads,
    plan_tasks,
    resume,
    run_in_worker,
    run_together,
    run_triggers,
    start_deferred,
)

STUDIO = "ri.models.main.model-studio.lost-answers"


def task_on(studio: str, deferrable: bool) -> Task:
    from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

    operator = LaunchModelStudioOperator(
        task_id="launch", model_studio_rid=studio, deferrable=deferrable, poll_interval=0.05, retry=RETRY
    )
    return Task(studio, "SUCCEEDED", deferrable, operator)


def run(task: Task) -> None:
    if task.deferrable:
        start_deferred(task)
        run_triggers([task], limit=60)
        resume(task)
    else:
        run_in_worker(task)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferrable"])
@pytest.mark.parametrize("earlier_runs", [0, 1500], ids=["new studio", "1500 earlier runs"])
def test_a_launch_answer_lost_after_creation_adopts_the_one_run(
    start_emulator: StartEmulator, use_emulator: UseEmulator, deferrable: bool, earlier_runs: int
) -> None:
    emulator = start_emulator({"seed": 5}, TIME_SCALE)
    emulator.add_studio(STUDIO, duration_seconds=4)
    earlier = {r["runId"] for r in emulator.create_runs(STUDIO, earlier_runs)} if earlier_runs else set()
    emulator.advance(10)  # the earlier runs are finished
    use_emulator(emulator, "oauth2", timeout=1)
    emulator.set_faults("launch_model_studio", drop_after_create=1.0)
    emulator.set_faults("list_model_studio_runs", rate_503=0.1, rate_502=0.05)  # finding out is itself faulty
    task = task_on(STUDIO, deferrable)
    run(task)

    counters = emulator.counters()
    assert counters["launches"] == {STUDIO: 1}
    assert counters["requests"]["launch_model_studio"] == {"dropped": 1}
    new_runs = [r for r in emulator.runs(STUDIO) if r["runId"] not in earlier]
    assert len(new_runs) == 1
    (created,) = new_runs
    assert task.error is None, repr(task.error)
    assert task.result is not None
    assert task.result["run_id"] == created["runId"]
    assert task.result["build_rid"] == created["buildRid"]
    assert task.result["model_version_rid"] == created["resolvedOutputs"]["model"]["modelVersionRid"]
    assert task.ti.pushed["run_id"] == created["runId"]


@pytest.mark.timeout(600)
def test_many_tasks_with_half_their_launch_answers_lost(
    start_emulator: StartEmulator, use_emulator: UseEmulator, soak: bool
) -> None:
    emulator = start_emulator({"seed": 11}, TIME_SCALE)
    use_emulator(emulator, "oauth2", timeout=1)
    tasks = plan_tasks(emulator, 60 if soak else 12, random.Random(3), prefix="lost", durations=(10, 40))
    emulator.set_faults("launch_model_studio", drop_after_create=0.5)
    in_threads(start_deferred, [t for t in tasks if t.deferrable])
    run_together(tasks, [t for t in tasks if not t.deferrable], limit=300)
    assert emulator.counters()["requests"]["launch_model_studio"].get("dropped", 0) > 0
    problems = check(emulator, tasks)
    assert not problems, "\n".join(problems)
