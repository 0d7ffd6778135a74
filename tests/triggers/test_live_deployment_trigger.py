"""``LiveDeploymentTrigger`` against the emulator: the events it sends, what it logs, and how waits on one
deployment share one GET per interval (and only waits with the same connection and retry settings do)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.triggers.live_deployment import LiveDeploymentTrigger
from airflow_provider_modelstudio.triggers.poller import ResourcePoller
from tests.conftest import emulator_connection
from tests.foundry.support import requests_of
from tests.lifecycle_helpers import FAST

CONN_ID = "foundry_live"


class Log:
    """Stands in for the trigger's logger: keeps each line as it would read."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: Any) -> None:
        self.lines.append(message % args)


@pytest.fixture
def deployment(emulator: FoundryEmulator, set_connection: Callable[..., str]) -> dict[str, Any]:
    """A deployment serving its model's only version, ready, reached through a connection that is not the default."""
    set_connection(CONN_ID, raw=json.dumps(emulator_connection(emulator)))
    model = emulator.add_model()
    emulator.add_model_version(model)
    return emulator.add_live_deployment(model)


def trigger(deployment: dict[str, Any], **kwargs: Any) -> LiveDeploymentTrigger:
    kwargs.setdefault("poll_interval", 0.05)
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("foundry_conn_id", CONN_ID)
    kwargs.setdefault("expected_version_rid", deployment["modelVersion"]["modelVersionRid"])
    made = LiveDeploymentTrigger(live_deployment_rid=deployment["rid"], **kwargs)
    made._log = Log()
    return made


async def first_event(waiting: LiveDeploymentTrigger) -> dict[str, Any]:
    async for event in waiting.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def run(*waiting: LiveDeploymentTrigger, then_idle: float = 0.0) -> list[dict[str, Any]]:
    """Run triggers side by side in one event loop to their first events; stay ``then_idle`` seconds longer."""

    async def everything() -> list[dict[str, Any]]:
        events = await asyncio.gather(*(first_event(w) for w in waiting))
        await asyncio.sleep(then_idle)
        return list(events)

    return asyncio.run(everything())


def reads(emulator: FoundryEmulator) -> int:
    return sum(requests_of(emulator.counters(), "get_live_deployment").values())


def view(deployment: dict[str, Any], state: str = "ACTIVE", ready: bool = True) -> dict[str, Any]:
    return {
        "rid": deployment["rid"],
        "state": state,
        "ready": ready,
        "model_rid": deployment["modelVersion"]["modelRid"],
        "version_rid": deployment["modelVersion"]["modelVersionRid"],
        "branch": "master",
    }


# Settings ----------------------------------------------------------------------------------------------


def test_the_trigger_serialises_every_setting_and_comes_back_the_same() -> None:
    made = LiveDeploymentTrigger(
        live_deployment_rid="ri.foundry-ml-live.main.live-deployment.d",
        expected_version_rid="ri.models.main.model-version.v",
        foundry_conn_id="foundry_other",
        poll_interval=5,
        deadline=1234.5,
        accept_degraded=True,
        retry=FAST,
        max_consecutive_failures=3,
    )
    path, kwargs = made.serialize()
    assert path == "airflow_provider_modelstudio.triggers.live_deployment.LiveDeploymentTrigger"
    assert kwargs == {
        "live_deployment_rid": "ri.foundry-ml-live.main.live-deployment.d",
        "expected_version_rid": "ri.models.main.model-version.v",
        "foundry_conn_id": "foundry_other",
        "poll_interval": 5.0,
        "deadline": 1234.5,
        "max_consecutive_failures": 3,
        "accept_degraded": True,
        "retry": FAST,
    }
    assert LiveDeploymentTrigger(**kwargs).serialize() == (path, kwargs)


def test_by_default_a_trigger_polls_every_30_s_without_deadline_and_wants_active() -> None:
    _path, kwargs = LiveDeploymentTrigger(live_deployment_rid="d", expected_version_rid="v").serialize()
    assert kwargs == {
        "live_deployment_rid": "d",
        "expected_version_rid": "v",
        "foundry_conn_id": "foundry_default",
        "poll_interval": 30.0,
        "deadline": None,
        "max_consecutive_failures": 10,
        "accept_degraded": False,
        "retry": None,
    }


# Events ------------------------------------------------------------------------------------------------


def test_a_deployment_serving_the_version_ready_ends_the_wait_with_its_view(deployment: dict[str, Any]) -> None:
    (event,) = run(trigger(deployment))
    assert event == {
        "kind": "final",
        "live_deployment_rid": deployment["rid"],
        "view": view(deployment),
        "verdict": "ready",
        "message": "",
        "transient": False,
    }


def test_a_degraded_deployment_is_ready_only_when_accepted(
    emulator: FoundryEmulator, deployment: dict[str, Any], deadline_once: Callable[..., float]
) -> None:
    emulator.set_live_deployment_status(deployment["rid"], "DEGRADED", True)
    (accepted,) = run(trigger(deployment, accept_degraded=True))
    assert accepted["verdict"] == "ready"
    read_before = reads(emulator)
    (waited,) = run(trigger(deployment, deadline=deadline_once(lambda: reads(emulator) >= read_before + 3)))
    assert (waited["kind"], waited["message"]) == (
        "timeout",
        "still DEGRADED (ready), serving " + view(deployment)["version_rid"],
    )


def test_a_wait_that_never_got_an_answer_times_out_saying_the_state_is_unknown(deployment: dict[str, Any]) -> None:
    (event,) = run(trigger(deployment, deadline=time.time() - 1))
    assert event == {
        "kind": "timeout",
        "live_deployment_rid": deployment["rid"],
        "view": None,
        "verdict": "",
        "message": "still unknown",
        "transient": False,
    }


def test_failing_reads_end_the_wait_at_the_limit_as_a_transient_error(
    emulator: FoundryEmulator, deployment: dict[str, Any]
) -> None:
    emulator.set_faults("get_live_deployment", rate_500=1.0)
    (event,) = run(trigger(deployment, max_consecutive_failures=2, retry={**FAST, "max_attempts": 1}))
    assert (event["kind"], event["transient"], event["view"]) == ("error", True, None)
    assert event["message"].startswith(
        f"Stopped waiting after 2 failed check(s) of live deployment {deployment['rid']}"
    )
    assert reads(emulator) == 2


def test_an_unexpected_failure_of_a_read_is_a_failed_check_naming_it(
    deployment: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(self: ModelStudioHook, rid: str) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(ModelStudioHook, "aget_live_deployment", broken)
    (event,) = run(trigger(deployment, max_consecutive_failures=1))
    assert event["kind"] == "error"
    assert event["message"] == (
        f"Stopped waiting after 1 failed check(s) of live deployment {deployment['rid']}: Unexpected failure while "
        f"reading live deployment {deployment['rid']}: RuntimeError('boom')"
    )


def test_each_state_the_deployment_goes_through_is_logged_once(
    emulator: FoundryEmulator, deployment: dict[str, Any], deadline_once: Callable[..., float]
) -> None:
    emulator.set_live_deployment_status(deployment["rid"], "STARTING", False)
    waiting = trigger(deployment, deadline=deadline_once(lambda: reads(emulator) >= 4))
    (event,) = run(waiting)
    assert event["kind"] == "timeout"
    assert waiting.log.lines == [  # type: ignore[attr-defined]
        f"Live deployment {deployment['rid']} is STARTING (not ready), serving {view(deployment)['version_rid']}."
    ]


def test_a_connection_that_cannot_be_read_ends_the_wait_at_once(deployment: dict[str, Any]) -> None:
    (event,) = run(trigger(deployment, foundry_conn_id="foundry_missing"))
    assert (event["kind"], event["transient"], event["view"]) == ("error", False, None)
    assert event["message"].startswith(f"Could not start waiting on live deployment {deployment['rid']}: ")


# Sharing reads -----------------------------------------------------------------------------------------


def test_waits_on_one_deployment_share_one_read(emulator: FoundryEmulator, deployment: dict[str, Any]) -> None:
    events = run(*(trigger(deployment) for _ in range(3)))
    assert [e["verdict"] for e in events] == ["ready"] * 3
    assert reads(emulator) == 1


def test_the_same_retry_settings_in_another_order_share_one_read(
    emulator: FoundryEmulator, deployment: dict[str, Any]
) -> None:
    run(trigger(deployment, retry=dict(FAST)), trigger(deployment, retry=dict(reversed(FAST.items()))))
    assert reads(emulator) == 1


def test_waits_with_other_retry_settings_read_on_their_own(
    emulator: FoundryEmulator, deployment: dict[str, Any]
) -> None:
    run(
        trigger(deployment, retry=FAST),
        trigger(deployment, retry={**FAST, "max_attempts": 2}),
        trigger(deployment, retry=None),
    )
    assert reads(emulator) == 3


def test_reading_stops_at_once_when_the_last_wait_has_its_event(
    emulator: FoundryEmulator, deployment: dict[str, Any]
) -> None:
    waiting = trigger(deployment, poll_interval=1.0)

    async def wait_then_idle() -> tuple[int, list[asyncio.Task[Any]], dict[Any, Any]]:
        events = waiting.run()
        await anext(events)
        await events.aclose()
        after_event = reads(emulator)
        await asyncio.sleep(0.2)
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        watches = dict(ResourcePoller._registry.get(asyncio.get_running_loop(), {}))
        await asyncio.sleep(0.2)
        return reads(emulator) - after_event, others, watches

    assert asyncio.run(wait_then_idle()) == (0, [], {})


def test_waits_on_several_deployments_share_one_poller_that_reads_each_deployment_once_a_round(
    emulator: FoundryEmulator,
    deployment: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    deadline_once: Callable[..., float],
) -> None:
    model = emulator.add_model()
    emulator.add_model_version(model)
    other = emulator.add_live_deployment(model)
    both = sorted([deployment["rid"], other["rid"]])
    for starting in (deployment, other):
        emulator.set_live_deployment_status(starting["rid"], "STARTING", False)
    read: list[str] = []
    rounds: list[list[str]] = []
    real_read, real_round = ModelStudioHook.aget_live_deployment, ResourcePoller._poll_once

    async def counted_read(self: ModelStudioHook, rid: str) -> Any:
        read.append(rid)
        return await real_read(self, rid)

    async def counted_round(self: ResourcePoller) -> None:
        rounds.append(sorted(self._subscribers))
        await real_round(self)

    monkeypatch.setattr(ModelStudioHook, "aget_live_deployment", counted_read)
    monkeypatch.setattr(ResourcePoller, "_poll_once", counted_round)

    async def scenario() -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
        deadline = deadline_once(lambda: rounds.count(both) >= 3)
        waits = [trigger(d, deadline=deadline) for d in (deployment, other) for _ in range(3)]
        events = asyncio.gather(*(first_event(w) for w in waits))
        while both not in rounds:
            await asyncio.sleep(0.01)
        pollers = ResourcePoller._registry[asyncio.get_running_loop()].values()
        return [(p.waitable.name, p.watched) for p in pollers], await events

    pollers, events = asyncio.run(scenario())
    assert pollers == [("live deployment", 2)]
    assert [e["kind"] for e in events] == ["timeout"] * 6
    assert sorted(read) == sorted(rid for round_ in rounds for rid in round_)  # one GET per deployment a round
    assert rounds.count(both) >= 3
