"""The shared poller when something other than Foundry fails: the failure is logged with its traceback once a
round and named in the waits' error events; and a status polled before a wait asks for it is not lost."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from airflow_provider_modelstudio.triggers.poller import ResourcePoller
from airflow_provider_modelstudio.waits.kinds import BUILDS
from tests.lifecycle_helpers import FAST

SLOW = "ri.models.main.model-studio.slow"


async def _first(trigger: ModelStudioRunTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("no event")


def test_an_unexpected_failure_is_logged_with_its_traceback_and_named_in_each_waits_error(
    foundry_connection: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="airflow_provider_modelstudio.triggers.poller")
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    runs = foundry_connection.create_runs(SLOW, 2)
    broken = RuntimeError("decoder exploded")

    async def failing(self: ModelStudioHook, build_rids: list[str]) -> dict[str, str | None]:
        raise broken

    monkeypatch.setattr(ModelStudioHook, "aget_build_statuses", failing)

    async def both() -> list[dict[str, Any]]:
        triggers = [
            ModelStudioRunTrigger(build_rid=r["buildRid"], retry=FAST, poll_interval=0.02, max_consecutive_failures=2)
            for r in runs
        ]
        return await asyncio.gather(*(_first(t) for t in triggers))

    events = asyncio.run(both())
    assert [(e["kind"], e["message"]) for e in events] == [
        (
            "error",
            f"Stopped waiting after 2 failed check(s) of build {r['buildRid']}: "
            "Unexpected failure while checking builds: RuntimeError('decoder exploded')",
        )
        for r in runs
    ]
    records = [r for r in caplog.records if r.name.endswith("poller")]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.ERROR, "Unexpected failure while checking 2 build(s)")
    ] * 2
    assert all(r.exc_info and r.exc_info[1] is broken for r in records)


def test_a_status_polled_before_the_wait_asks_for_it_is_handed_over_when_it_asks(foundry_connection: Any) -> None:
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    (run,) = foundry_connection.create_runs(SLOW, 1)

    async def scenario() -> str:
        poller = await ResourcePoller.acquire(BUILDS, "foundry_default", FAST)
        subscription = poller.subscribe(run["buildRid"], 3600.0)
        await asyncio.sleep(0.5)  # the first poll answers while nobody is asking; the next is an hour away
        try:
            check = await asyncio.wait_for(subscription.next(), 2.0)
        finally:
            poller.unsubscribe(run["buildRid"], subscription)
        assert isinstance(check, str)
        return check

    assert asyncio.run(scenario()) == "RUNNING"
