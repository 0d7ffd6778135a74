"""The shared poller's life: it retires at once when its last wait leaves, leaving a build it never had is
harmless, a failed round is logged once for all its builds, and a run's final event carries nothing else."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.errors import FoundryServerError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from airflow_provider_modelstudio.triggers.poller import ResourcePoller, Subscription
from airflow_provider_modelstudio.waits.kinds import BUILDS
from tests.lifecycle_helpers import DEMO, FAST, run_trigger

SLOW = "ri.models.main.model-studio.slow"


def test_the_poller_stops_at_once_when_its_last_wait_leaves(foundry_connection: Any) -> None:
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    (run,) = foundry_connection.create_runs(SLOW, 1)

    async def scenario() -> tuple[list[asyncio.Task[Any]], dict[Any, Any]]:
        poller = await ResourcePoller.acquire(BUILDS, "foundry_default", FAST)
        subscription = poller.subscribe(run["buildRid"], 1.0)
        await subscription.next()
        poller.unsubscribe(run["buildRid"], subscription)
        await asyncio.sleep(0.2)
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        return others, dict(ResourcePoller._registry.get(asyncio.get_running_loop(), {}))

    assert asyncio.run(scenario()) == ([], {})


def test_leaving_a_build_the_poller_never_had_is_harmless(foundry_connection: Any) -> None:
    async def scenario() -> int:
        poller = await ResourcePoller.acquire(BUILDS, "foundry_default", FAST)
        poller.unsubscribe("ri.foundry.main.build.never", Subscription(1.0))
        return poller.watched

    assert asyncio.run(scenario()) == 0


def test_a_failed_round_is_logged_once_naming_how_many_builds_it_checked(
    foundry_connection: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airflow_provider_modelstudio.triggers.poller")
    runs = foundry_connection.create_runs(DEMO, 2)
    failure = FoundryServerError(method="POST", path="/getBatch", status_code=500)
    pending = [failure]
    real = ModelStudioHook.aget_build_statuses

    async def flaky(self: ModelStudioHook, build_rids: list[str]) -> dict[str, str | None]:
        if pending:
            raise pending.pop()
        return await real(self, build_rids)

    monkeypatch.setattr(ModelStudioHook, "aget_build_statuses", flaky)

    async def both() -> list[Any]:
        triggers = [ModelStudioRunTrigger(build_rid=r["buildRid"], retry=FAST, poll_interval=0.02) for r in runs]
        return await asyncio.gather(*(first(t) for t in triggers))

    assert [e["kind"] for e in asyncio.run(both())] == ["final", "final"]
    assert [r.getMessage() for r in caplog.records if r.name.endswith("poller")] == [
        f"Checking 2 build(s) failed: {failure}"
    ]


async def first(waiting: ModelStudioRunTrigger) -> dict[str, Any]:
    async for event in waiting.run():
        return dict(event.payload)
    raise AssertionError("no event")


def test_a_final_event_carries_the_status_and_nothing_else(foundry_connection: Any) -> None:
    (run,) = foundry_connection.create_runs(DEMO, 1)
    event = run_trigger(ModelStudioRunTrigger(build_rid=run["buildRid"], retry=FAST, poll_interval=0.02))
    assert event == {
        "kind": "final",
        "build_rid": run["buildRid"],
        "status": "SUCCEEDED",
        "message": "",
        "transient": False,
    }


def test_waits_with_other_retry_settings_poll_through_a_poller_of_their_own(foundry_connection: Any) -> None:
    patient = {"max_attempts": 7, "backoff_initial": 0.5}

    async def scenario() -> list[ResourcePoller]:
        return [
            await ResourcePoller.acquire(BUILDS, "foundry_default", None),
            await ResourcePoller.acquire(BUILDS, "foundry_default", patient),
            await ResourcePoller.acquire(BUILDS, "foundry_default", {"backoff_initial": 0.5, "max_attempts": 7}),
            await ResourcePoller.acquire(BUILDS, "foundry_default", FAST),
        ]

    default, first, reordered, fast = asyncio.run(scenario())
    assert first is reordered
    assert len({id(default), id(first), id(fast)}) == 3
    assert [p.hook.retry for p in (default, first, fast)] == [
        RetryPolicy.from_value(None),
        RetryPolicy.from_value(patient),
        RetryPolicy.from_value(FAST),
    ]


def test_a_trigger_polls_through_a_hook_with_its_own_retry_settings(foundry_connection: Any) -> None:
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    (run,) = foundry_connection.create_runs(SLOW, 1)

    async def scenario() -> list[RetryPolicy]:
        trigger = ModelStudioRunTrigger(build_rid=run["buildRid"], retry=FAST, poll_interval=0.05)
        wait = asyncio.create_task(trigger.run().__anext__())
        await asyncio.sleep(0.2)
        policies = [p.hook.retry for p in ResourcePoller._registry[asyncio.get_running_loop()].values()]
        wait.cancel()
        await asyncio.gather(wait, return_exceptions=True)
        return policies

    assert asyncio.run(scenario()) == [RetryPolicy.from_value(FAST)]
