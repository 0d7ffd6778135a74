"""The shared poller: one bad answer is one failed check per wait, never the end of every wait."""

from __future__ import annotations

import asyncio

from airflow_provider_modelstudio.foundry.errors import FoundryPermissionDenied, FoundryTransportError
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from tests.lifecycle_helpers import DEMO, FAST, run_trigger

SLOW = "ri.models.main.model-studio.slow"


async def _first(trigger):
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


def wait_all(build_rids, **kwargs):
    kwargs.setdefault("poll_interval", 0.05)

    async def gather():
        triggers = [ModelStudioRunTrigger(build_rid=rid, retry=FAST, **kwargs) for rid in build_rids]
        return await asyncio.gather(*(_first(t) for t in triggers))

    return asyncio.run(gather())


def fail_first_rounds(monkeypatch, failures):
    """Make the first poll rounds fail with the given exceptions, then answer normally."""
    real = ModelStudioHook.aget_build_statuses
    pending = list(failures)

    async def flaky(self, build_rids):
        if pending:
            raise pending.pop(0)
        return await real(self, build_rids)

    monkeypatch.setattr(ModelStudioHook, "aget_build_statuses", flaky)


def test_one_unreadable_batch_answer_does_not_end_twenty_waits(foundry_connection, monkeypatch):
    runs = foundry_connection.create_runs(DEMO, 20)
    fail_first_rounds(monkeypatch, [UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad Content-Encoding")])
    events = wait_all([r["buildRid"] for r in runs])
    assert [e["kind"] for e in events] == ["final"] * 20
    assert {e["status"] for e in events} == {"SUCCEEDED"}


def test_one_refused_batch_answer_is_one_failed_check_for_each_wait(foundry_connection, monkeypatch):
    runs = foundry_connection.create_runs(DEMO, 5)
    refused = FoundryPermissionDenied(method="POST", path="/getBatch", status_code=403)
    fail_first_rounds(
        monkeypatch, [refused, FoundryTransportError("lost", method="POST", path="/p", may_have_reached_server=True)]
    )
    events = wait_all([r["buildRid"] for r in runs], max_consecutive_failures=3)
    assert [e["status"] for e in events] == ["SUCCEEDED"] * 5


def test_a_persistent_refusal_ends_each_wait_at_its_own_limit_as_not_transient(foundry_connection, monkeypatch):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    runs = foundry_connection.create_runs(SLOW, 3)
    refused = FoundryPermissionDenied(method="POST", path="/getBatch", status_code=403)
    fail_first_rounds(monkeypatch, [refused] * 100)
    events = wait_all([r["buildRid"] for r in runs], max_consecutive_failures=2)
    assert [(e["kind"], e["transient"]) for e in events] == [("error", False)] * 3
    assert all("2 failed check(s)" in e["message"] for e in events)


def test_a_build_answer_without_a_usable_status_is_a_failed_check(foundry_connection, monkeypatch):
    (run,) = foundry_connection.create_runs(DEMO, 1)

    async def no_status(self, build_rids):
        return dict.fromkeys(build_rids)

    monkeypatch.setattr(ModelStudioHook, "aget_build_statuses", no_status)
    event = run_trigger(
        ModelStudioRunTrigger(build_rid=run["buildRid"], retry=FAST, poll_interval=0.01, max_consecutive_failures=3)
    )
    assert event["kind"] == "error"
    assert "no usable status" in event["message"]


def test_the_poller_polls_at_the_smallest_interval_asked_for(foundry_connection, monkeypatch):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    slow, fast = foundry_connection.create_runs(SLOW, 2)
    rounds: list[int] = []
    real = ModelStudioHook.aget_build_statuses

    async def counting(self, build_rids):
        rounds.append(len(build_rids))
        return await real(self, build_rids)

    monkeypatch.setattr(ModelStudioHook, "aget_build_statuses", counting)

    async def scenario():
        waits = [
            asyncio.create_task(_first(ModelStudioRunTrigger(build_rid=slow["buildRid"], poll_interval=60))),
            asyncio.create_task(_first(ModelStudioRunTrigger(build_rid=fast["buildRid"], poll_interval=0.02))),
        ]
        await asyncio.sleep(0.5)
        for wait in waits:
            wait.cancel()
        await asyncio.gather(*waits, return_exceptions=True)

    asyncio.run(scenario())
    assert len(rounds) >= 5
