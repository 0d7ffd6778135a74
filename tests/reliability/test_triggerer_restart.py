"""A triggerer restart mid-wait: every trigger serialised, cancelled, rebuilt in a fresh event loop.

The triggerer keeps only ``serialize()``'s ``(classpath, kwargs)`` in the database; a restart (or a move to
another triggerer) cancels the running triggers and builds new ones from that. Every wait must still end
with the right result, nothing may be launched again, and no build may be cancelled by the restart.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import random
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry.auth import TOKEN_CACHE
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from airflow_provider_modelstudio.triggers.poller import ResourcePoller
from tests.conftest import StartEmulator
from tests.reliability.conftest import UseEmulator
from tests.reliability.support import (
    TIME_SCALE,
    Task,
    check,
    first_event,
    in_threads,
    plan_tasks,
    resume,
    start_deferred,
)


def rebuild(serialised: tuple[str, dict[str, Any]]) -> ModelStudioRunTrigger:
    """What the triggerer does with a stored trigger: import the class path, call it with the JSON kwargs."""
    classpath, kwargs = serialised
    module, _, name = classpath.rpartition(".")
    trigger_class = getattr(importlib.import_module(module), name)
    stored = json.loads(json.dumps(kwargs))  # the database keeps JSON
    trigger: ModelStudioRunTrigger = trigger_class(**stored)
    return trigger


def batch_requests(emulator: FoundryEmulator) -> int:
    return sum(emulator.counters()["requests"].get("get_builds_batch", {}).values())


async def run_until_polled(
    tasks: list[Task], emulator: FoundryEmulator, rounds: int
) -> list[tuple[str, dict[str, Any]]]:
    """Run the waiting tasks' triggers until the poller checked ``rounds`` more times, then stop them all
    the way a triggerer does on shutdown (cancel), returning their serialised form."""
    waiting = [t for t in tasks if t.event is None and t.trigger is not None]
    running = {asyncio.ensure_future(first_event(t.trigger)): t for t in waiting}  # type: ignore[arg-type]
    target = batch_requests(emulator) + rounds
    for _ in range(2000):  # bounded: at most ~20 s
        if batch_requests(emulator) >= target or all(f.done() for f in running):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the poller did not poll")
    serialised = []
    for future, task in running.items():
        if future.done() and not future.cancelled() and future.exception() is None:
            task.event = future.result()  # finished before the restart: the task resumes normally
        else:
            serialised.append(task.trigger.serialize())  # type: ignore[union-attr]
            future.cancel()
    await asyncio.gather(*running, return_exceptions=True)
    loop = asyncio.get_running_loop()
    assert not ResourcePoller._registry.get(loop), "a poller outlived its triggers"
    return serialised


@pytest.mark.timeout(300)
def test_every_wait_survives_triggerer_restarts(
    start_emulator: StartEmulator, use_emulator: UseEmulator, soak: bool
) -> None:
    emulator = start_emulator({"seed": 9, "token_lifetime_seconds": 40}, TIME_SCALE)
    use_emulator(emulator, "oauth2", timeout=1)
    tasks = plan_tasks(emulator, 200 if soak else 24, random.Random(5), prefix="restart", durations=(20, 60))
    for task in tasks:
        task.operator.deferrable = True
        task.operator.poll_interval = 0.1
        task.deferrable = True
    in_threads(start_deferred, tasks)
    assert all(task.trigger is not None for task in tasks), [repr(t.error) for t in tasks if t.trigger is None]
    launches_before = emulator.counters()["launches"]
    emulator.set_faults("get_builds_batch", rate_503=0.05, rate_drop=0.05)

    for restart in range(3 if soak else 2):
        TOKEN_CACHE.clear()  # a new triggerer process starts without a token
        serialised = asyncio.run(run_until_polled(tasks, emulator, rounds=2))
        if restart == 0:
            assert len(serialised) >= len(tasks) // 2, "most waits should have been cut off mid-wait"
        by_build = {kwargs["build_rid"]: (path, kwargs) for path, kwargs in serialised}
        for task in tasks:
            if task.event is None:
                task.trigger = rebuild(by_build[task.trigger.build_rid])  # type: ignore[union-attr]
        assert emulator.counters()["cancels"] == {}, f"restart {restart} cancelled builds"

    TOKEN_CACHE.clear()

    async def finish() -> None:
        waiting = [t for t in tasks if t.event is None]
        events = await asyncio.wait_for(asyncio.gather(*(first_event(t.trigger) for t in waiting)), 120)  # type: ignore[arg-type]
        for task, event in zip(waiting, events, strict=True):
            task.event = event

    asyncio.run(finish())
    for task in tasks:
        resume(task)
    assert emulator.counters()["launches"] == launches_before, "a restart launched a run again"
    problems = check(emulator, tasks)
    assert not problems, "\n".join(problems)


def test_the_serialised_trigger_is_plain_json_and_rebuilds_identically() -> None:
    trigger = ModelStudioRunTrigger(
        build_rid="ri.foundry-build.main.build.1",
        foundry_conn_id="foundry_other",
        poll_interval=7.5,
        deadline=1_900_000_000.25,
        started_at=1_899_999_000.5,
        keep_for_next_try=True,
        retry={"max_attempts": 3, "backoff_initial": 0.1, "backoff_max": 1.0, "max_elapsed": 9.0},
        cancel_on_kill=False,
        max_consecutive_failures=4,
    )
    classpath, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert rebuild((classpath, kwargs)).serialize() == (classpath, kwargs)
