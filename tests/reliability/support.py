"""Driving many operator tasks against a faulty emulator, and checking what each one ended with.

A :class:`Task` is one ``LaunchModelStudioOperator`` task on a studio of its own, with the outcome its
studio is set up to produce. Tasks run the way Airflow would run them, outside a scheduler: waiting in
the worker (``execute`` in a thread, as parallel workers would), or deferred (``execute`` until
``TaskDeferred``, every trigger in one event loop as the triggerer runs them, then ``execute_complete``).
:func:`check` compares every task with the emulator's record: the right status and model version, one
launch per studio, and no build left without a task.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from tests.lifecycle_helpers import FakeTI, TaskDeferred

RETRY = {"max_attempts": 8, "backoff_initial": 0.05, "backoff_max": 0.4, "max_elapsed": 30.0}
"""Fast, generous retries: ~10% of requests fail, so eight attempts in a row fail about once in 10^8."""

TIME_SCALE = 20.0
"""Emulator seconds per real second: a 60 s training run takes 3 s."""

TOKEN_LIFETIME = 40.0
"""Emulator seconds (2 real seconds): the provider renews its token every second or so."""

TIMEOUT = "TIMEOUT"
"""Outcome of a task whose run never finishes: the task gives up at its timeout and cancels the build."""

FINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})


def fault_profile(*, hang_on_launch: bool = False) -> dict[str, dict[str, Any]]:
    """About 10% of requests fail at random, per endpoint: 429 with and without Retry-After, 503, 502, 504,
    dropped connections, answers slower than the connection's 1 s timeout.

    :param hang_on_launch: include slow launches (they create the run after the client gave up waiting)
    """
    everywhere = {
        "rate_429": 0.02,
        "rate_503": 0.02,
        "rate_502": 0.015,
        "rate_504": 0.015,
        "rate_drop": 0.015,
        "rate_hang": 0.015,
        "hang_seconds": 2.5,
    }
    with_retry_after = {**everywhere, "rate_429": 0.03, "rate_hang": 0.01, "retry_after_seconds": 1}
    launch = {"rate_429": 0.03, "rate_503": 0.02, "rate_502": 0.02, "rate_504": 0.015, "rate_drop": 0.015}
    if hang_on_launch:
        launch.update(rate_hang=0.02, hang_seconds=2.5)
    return {
        "*": everywhere,
        "get_build": with_retry_after,
        "get_builds_batch": with_retry_after,
        "launch_model_studio": launch,
    }


@dataclass
class Task:
    """One operator task on a studio of its own."""

    studio: str
    outcome: str
    deferrable: bool
    operator: LaunchModelStudioOperator
    ti: FakeTI = field(default_factory=FakeTI)
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    trigger: ModelStudioRunTrigger | None = None
    event: dict[str, Any] | None = None

    @property
    def context(self) -> dict[str, Any]:
        return {"ti": self.ti}

    def __str__(self) -> str:
        return f"{'deferred' if self.deferrable else 'worker'} task on {self.studio} (expects {self.outcome})"


def plan_tasks(
    emulator: FoundryEmulator,
    count: int,
    rng: random.Random,
    *,
    prefix: str = "soak",
    poll_interval: float = 0.2,
    durations: tuple[float, float] = (40.0, 120.0),
) -> list[Task]:
    """Add ``count`` studios with random outcomes and durations; one task each, half of them deferrable.

    :param durations: range of the runs' durations in emulator seconds (a twentieth of that in real time)
    """
    tasks = []
    for index in range(count):
        studio = f"ri.models.main.model-studio.{prefix}-{index:04d}"
        outcome = rng.choices(["SUCCEEDED", "FAILED", "CANCELED", TIMEOUT], weights=[70, 14, 8, 8])[0]
        if outcome == TIMEOUT:
            emulator.add_studio(studio, duration_seconds=10**6)
        else:
            emulator.add_studio(studio, outcome=outcome, duration_seconds=rng.uniform(*durations))
        deferrable = index % 2 == 1
        operator = LaunchModelStudioOperator(
            task_id=f"launch_{index}",
            model_studio_rid=studio,
            deferrable=deferrable,
            poll_interval=poll_interval,
            timeout=1.5 if outcome == TIMEOUT else 120,
            retry=RETRY,
        )
        tasks.append(Task(studio, outcome, deferrable, operator))
    return tasks


def run_in_worker(task: Task) -> None:
    try:
        task.result = task.operator.execute(task.context)
    except Exception as exc:
        task.error = exc


def start_deferred(task: Task) -> None:
    """``execute`` up to the deferral (a run already final finishes without deferring)."""
    try:
        task.result = task.operator.execute(task.context)
    except TaskDeferred as deferred:
        task.trigger = deferred.trigger
    except Exception as exc:
        task.error = exc


def resume(task: Task) -> None:
    """``execute_complete`` with the trigger's event, as the worker does after the triggerer fired."""
    if task.event is None:
        return
    try:
        task.result = task.operator.execute_complete(task.context, task.event)
    except Exception as exc:
        task.error = exc


async def first_event(trigger: ModelStudioRunTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def run_triggers(tasks: list[Task], limit: float) -> None:
    """Every deferred task's trigger in one fresh event loop, as the triggerer runs them."""
    waiting = [task for task in tasks if task.trigger is not None and task.event is None]

    async def all_events() -> list[dict[str, Any]]:
        return await asyncio.wait_for(asyncio.gather(*(first_event(t.trigger) for t in waiting)), limit)  # type: ignore[arg-type]

    for task, event in zip(waiting, asyncio.run(all_events()), strict=True):
        task.event = event


def run_together(triggered: list[Task], in_worker: list[Task], limit: float) -> None:
    """The worker tasks on their threads while the triggers of ``triggered`` run; then ``triggered`` resumes."""
    workers = threading.Thread(target=in_threads, args=(run_in_worker, in_worker), name="workers")
    workers.start()
    try:
        run_triggers(triggered, limit=limit)
    finally:
        workers.join(limit)
    for task in triggered:
        resume(task)


def in_threads(action: Any, tasks: list[Task], workers: int = 6) -> None:
    """Run ``action(task)`` for every task on a few threads (parallel worker slots); every task completes."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="worker-slot") as pool:
        list(pool.map(action, tasks))


def check(emulator: FoundryEmulator, tasks: list[Task]) -> list[str]:
    """What is wrong with the tasks' outcomes, compared with the emulator's record (empty: all right).

    Call after every task ended. Advances the emulator clock past the cancel delay, then requires: every
    task ended as its studio was set up to end, with the run and model version Foundry made; exactly one
    launch and one run per studio; every build final; no build that no task started.
    """
    problems: list[str] = []
    counters = emulator.counters()
    for task in tasks:
        runs = emulator.runs(task.studio)
        launches = counters["launches"].get(task.studio, 0)
        if len(runs) != 1 or launches != 1:
            problems.append(f"{task}: {launches} launches and {len(runs)} runs, expected exactly 1")
            continue
        run = runs[0]
        if task.ti.pushed.get("run_id") != run["runId"] or task.ti.pushed.get("build_rid") != run["buildRid"]:
            problems.append(f"{task}: XCom at launch {task.ti.pushed} does not name run {run['runId']}")
        if task.outcome == "SUCCEEDED":
            expected_version = run["resolvedOutputs"]["model"]["modelVersionRid"]
            if task.error is not None or task.result is None:
                problems.append(f"{task}: failed with {task.error!r}")
            elif (task.result["build_status"], task.result["run_id"], task.result["model_version_rid"]) != (
                "SUCCEEDED",
                run["runId"],
                expected_version,
            ):
                problems.append(f"{task}: returned {task.result}, expected run {run['runId']} / {expected_version}")
            else:
                json.dumps(task.result)
        else:
            needle = "was cancelled" if task.outcome == TIMEOUT else f"ended {task.outcome}"
            if not isinstance(task.error, AirflowFailException) or needle not in str(task.error):
                problems.append(
                    f"{task}: ended with {task.error!r} / {task.result}, expected a failure saying {needle!r}"
                )
            if task.outcome == TIMEOUT and not counters["cancels"].get(run["buildRid"]):
                problems.append(f"{task}: gave up without cancelling build {run['buildRid']}")
    emulator.advance(10)  # cancels requested by tasks that gave up take effect
    builds = emulator.builds()
    started = {task.ti.pushed.get("build_rid") for task in tasks}
    orphans = sorted(set(builds) - started)
    if orphans:
        problems.append(f"builds no task started or waited on: {orphans}")
    still_running = sorted(rid for rid, build in builds.items() if build["status"] not in FINAL)
    if still_running:
        problems.append(f"builds left running after every task ended: {still_running}")
    return problems


def faults_seen(emulator: FoundryEmulator) -> dict[str, int]:
    """Faults injected, by kind, over all endpoints."""
    seen: dict[str, int] = {}
    for kinds in emulator.counters()["faults_injected"].values():
        for kind, count in kinds.items():
            seen[kind] = seen.get(kind, 0) + count
    return seen
