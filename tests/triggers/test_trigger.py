"""ModelStudioRunTrigger and its shared poller, against the emulator."""

from __future__ import annotations

import asyncio
import json
import math
import time

from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from airflow_provider_modelstudio.triggers.poller import ResourcePoller
from tests.lifecycle_helpers import DEMO, FAST, run_trigger

SLOW = "ri.models.main.model-studio.slow"


def trigger_for(build_rid, **kwargs):
    kwargs.setdefault("poll_interval", 0.05)
    kwargs.setdefault("retry", FAST)
    return ModelStudioRunTrigger(build_rid=build_rid, **kwargs)


def test_serialize_round_trips_through_json():
    trigger = trigger_for("ri.foundry.main.build.b", deadline=123.5, started_at=100.0, keep_for_next_try=True)
    classpath, kwargs = trigger.serialize()
    rebuilt = ModelStudioRunTrigger(**json.loads(json.dumps(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)
    assert classpath.endswith("triggers.modelstudio.ModelStudioRunTrigger")


def test_a_trigger_given_only_its_build_serialises_the_documented_defaults():
    classpath, kwargs = ModelStudioRunTrigger(build_rid="ri.foundry.main.build.b").serialize()
    assert classpath == "airflow_provider_modelstudio.triggers.modelstudio.ModelStudioRunTrigger"
    assert kwargs == {
        "build_rid": "ri.foundry.main.build.b",
        "foundry_conn_id": "foundry_default",
        "poll_interval": 30.0,
        "deadline": None,
        "max_consecutive_failures": 10,
        "heartbeat": 60.0,
        "retry": None,
        "cancel_on_kill": True,
        "keep_for_next_try": False,
        "started_at": None,
    }


def test_a_run_is_followed_to_its_final_status(foundry_connection):
    (run,) = foundry_connection.create_runs(DEMO, 1)
    event = run_trigger(trigger_for(run["buildRid"]))
    assert event["kind"] == "final"
    assert event["status"] == "SUCCEEDED"
    assert event["build_rid"] == run["buildRid"]


def test_the_deadline_ends_the_wait_with_a_timeout_event(foundry_connection):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    (run,) = foundry_connection.create_runs(SLOW, 1)
    event = run_trigger(trigger_for(run["buildRid"], deadline=time.time() + 0.3))
    assert event["kind"] == "timeout"


def test_a_deadline_already_past_times_out_at_once(foundry_connection):
    (run,) = foundry_connection.create_runs(DEMO, 1)
    assert run_trigger(trigger_for(run["buildRid"], deadline=time.time() - 1))["kind"] == "timeout"


def test_persistent_failures_end_with_an_error_event_not_a_crash(foundry_connection):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    (run,) = foundry_connection.create_runs(SLOW, 1)
    foundry_connection.set_faults("get_builds_batch", rate_500=1.0)
    event = run_trigger(trigger_for(run["buildRid"], max_consecutive_failures=2))
    assert event["kind"] == "error"
    assert "2 failed check(s)" in event["message"]


def test_an_unknown_build_ends_with_an_error_event(foundry_connection):
    event = run_trigger(trigger_for("ri.foundry.main.build.nope", max_consecutive_failures=2))
    assert event["kind"] == "error"
    assert "did not return build" in event["message"]


def test_transient_faults_at_20_percent_still_end_with_the_right_status(foundry_connection):
    emu = foundry_connection
    # Seed 1's first fault draw is 0.13: the first getBatch meets a fault however few rounds a slow machine makes.
    emu.set_scenario({"seed": 1})
    emu.add_studio("ri.models.main.model-studio.ok", duration_seconds=20)
    emu.add_studio("ri.models.main.model-studio.bad", duration_seconds=15, outcome="FAILED")
    runs = emu.create_runs("ri.models.main.model-studio.ok", 10) + emu.create_runs(
        "ri.models.main.model-studio.bad", 10
    )
    emu.set_faults("get_builds_batch", rate_429=0.05, rate_503=0.05, rate_502=0.05, rate_drop=0.05)

    async def wait_all():
        triggers = [trigger_for(r["buildRid"]) for r in runs]
        return await asyncio.gather(*(_first(t) for t in triggers))

    events = asyncio.run(wait_all())
    assert [e["status"] for e in events] == ["SUCCEEDED"] * 10 + ["FAILED"] * 10
    assert sum(emu.counters()["faults_injected"].get("get_builds_batch", {}).values()) > 0


async def _first(trigger):
    async for event in trigger.run():
        return event.payload
    raise AssertionError("no event")


def test_a_hundred_waits_cost_one_status_request_per_interval(foundry_connection, monkeypatch):
    emu = foundry_connection
    runs = emu.create_runs(DEMO, 100)
    rounds: list[int] = []
    real_get_statuses = ModelStudioHook.aget_build_statuses

    async def spy(self, build_rids):
        build_rids = list(build_rids)
        rounds.append(len(build_rids))
        return await real_get_statuses(self, build_rids)

    monkeypatch.setattr(ModelStudioHook, "aget_build_statuses", spy)

    async def wait_all():
        return await asyncio.gather(*(_first(trigger_for(r["buildRid"], poll_interval=0.1)) for r in runs))

    events = asyncio.run(wait_all())
    assert all(e["status"] == "SUCCEEDED" for e in events)
    requests = emu.counters()["requests"]
    batch_requests = sum(requests.get("get_builds_batch", {}).values())
    assert rounds and max(rounds) <= 100
    assert batch_requests == sum(math.ceil(n / 100) for n in rounds) == len(rounds)
    assert "get_build" not in requests


def test_waits_through_one_connection_share_one_poller_that_stops_when_idle(foundry_connection):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    runs = emu.create_runs(SLOW, 3)

    async def scenario():
        tasks = [asyncio.create_task(_first(trigger_for(r["buildRid"]))) for r in runs]
        await asyncio.sleep(0.2)
        pollers = ResourcePoller._registry[asyncio.get_running_loop()]
        shared = list(pollers.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.sleep(0)
        return shared, dict(pollers)

    shared, left = asyncio.run(scenario())
    assert len(shared) == 1
    assert shared[0].watched == 0
    assert left == {}


def test_on_kill_cancels_the_build(foundry_connection):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    (run,) = emu.create_runs(SLOW, 1)
    asyncio.run(trigger_for(run["buildRid"]).on_kill())
    assert emu.counters()["cancels"] == {run["buildRid"]: 1}


def test_on_kill_leaves_the_build_when_asked_to(foundry_connection):
    emu = foundry_connection
    (run,) = emu.create_runs(DEMO, 1)
    asyncio.run(trigger_for(run["buildRid"], cancel_on_kill=False).on_kill())
    assert emu.counters()["cancels"] == {}


def test_many_oauth2_waits_share_one_token(foundry_emulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", foundry_emulator.connection_env(auth="oauth2"))
    runs = foundry_emulator.create_runs(DEMO, 30)

    async def wait_all():
        return await asyncio.gather(*(_first(trigger_for(r["buildRid"])) for r in runs))

    assert all(e["status"] == "SUCCEEDED" for e in asyncio.run(wait_all()))
    assert foundry_emulator.counters()["tokens_issued"] == 1


def test_an_error_event_after_transient_failures_says_they_were_transient(foundry_connection):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    (run,) = foundry_connection.create_runs(SLOW, 1)
    foundry_connection.set_faults("get_builds_batch", rate_503=1.0)
    event = run_trigger(trigger_for(run["buildRid"], max_consecutive_failures=2))
    assert event["transient"] is True


def test_an_error_event_for_a_missing_build_is_not_transient(foundry_connection):
    event = run_trigger(trigger_for("ri.foundry.main.build.nope", max_consecutive_failures=2))
    assert event["transient"] is False


def test_a_missing_connection_ends_with_an_error_event(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_NOPE", raising=False)
    event = run_trigger(trigger_for("ri.foundry.main.build.b", foundry_conn_id="nope"))
    assert event["kind"] == "error"
    assert "nope" in event["message"]
