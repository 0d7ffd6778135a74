"""One launch call never starts two training runs, whatever happens to the launch request's answer.

The launch's settling windows, surplus watch and backoff run on a fake clock (``launch_clock``); the requests
and the emulator are real."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import DEMO, requests_of

Connect = Callable[..., ModelStudioHook]

pytestmark = pytest.mark.usefixtures("launch_clock")


def before_launch(hook: ModelStudioHook, mocker: Any, action: Callable[[], None]) -> None:
    """Run ``action`` just before the hook's launch request is sent (as another launcher would, meanwhile)."""
    real_call = hook.client.call

    def call(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "launch_model_studio":
            action()
        return real_call(name, *args, **kwargs)

    mocker.patch.object(hook.client, "call", side_effect=call)


def test_launch_answer_lost_after_creation_adopts_the_created_run(
    emulator: FoundryEmulator, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    emulator.set_faults("launch_model_studio", drop_after_create=1.0)
    run = connect(emulator).launch_model_studio(DEMO)
    (created,) = emulator.runs(DEMO)
    assert run["run_id"] == created["runId"]
    assert run["build_rid"] == created["buildRid"]
    counters = emulator.counters()
    assert counters["launches"] == {DEMO: 1}
    assert requests_of(counters, "launch_model_studio") == {"dropped": 1}
    assert "adopting it instead of launching again" in caplog.text


def test_launch_answer_lost_with_earlier_runs_adopts_only_the_new_one(
    emulator: FoundryEmulator, connect: Connect
) -> None:
    earlier = {r["runId"] for r in emulator.create_runs(DEMO, 120)}
    emulator.set_faults("launch_model_studio", drop_after_create=1.0)
    run = connect(emulator).launch_model_studio(DEMO)
    assert run["run_id"] not in earlier
    assert run["run_id"] == emulator.runs(DEMO)[0]["runId"]
    assert emulator.counters()["launches"] == {DEMO: 1}


def test_launch_truncated_answer_adopts_the_created_run(emulator: FoundryEmulator, connect: Connect) -> None:
    emulator.set_faults("launch_model_studio", rate_truncated_json=1.0)
    run = connect(emulator).launch_model_studio(DEMO)
    assert run["run_id"] == emulator.runs(DEMO)[0]["runId"]
    assert emulator.counters()["launches"] == {DEMO: 1}


@pytest.mark.parametrize("rate", ["rate_502", "rate_500", "rate_504", "rate_drop"])
def test_launch_failure_before_creation_launches_again_once(
    emulator: FoundryEmulator, connect: Connect, fail_first: Any, rate: str
) -> None:
    fail_first(emulator, "launch_model_studio", rate)
    run = connect(emulator, timeout=1).launch_model_studio(DEMO)  # the settling window is 2 s after a drop
    (created,) = emulator.runs(DEMO)
    assert run["run_id"] == created["runId"]
    counters = emulator.counters()
    assert counters["launches"] == {DEMO: 1}
    assert sum(counters["faults_injected"]["launch_model_studio"].values()) == 1
    assert sum(requests_of(counters, "launch_model_studio").values()) == 2
    listed = requests_of(counters, "list_model_studio_runs")
    assert set(listed) == {"200"}
    assert listed["200"] >= 2  # before, and (for a settling window) after the failure


def test_launch_failing_before_creation_every_time_gives_up_without_any_run(
    emulator: FoundryEmulator, connect: Connect
) -> None:
    emulator.set_faults("launch_model_studio", rate_502=1.0)
    with pytest.raises(errors.FoundryServerError) as info:
        connect(emulator).launch_model_studio(DEMO)
    assert info.value.status_code == 502
    assert emulator.runs(DEMO) == []
    attempts = requests_of(emulator.counters(), "launch_model_studio")
    assert set(attempts) == {"502"}
    assert 2 <= attempts["502"] <= 4  # bounded by max_attempts and, with a 2 s settling window each, max_elapsed


def test_launch_attempts_stop_at_max_elapsed(
    emulator: FoundryEmulator, set_connection: Callable[..., str], mocker: Any
) -> None:
    from types import SimpleNamespace

    from airflow_provider_modelstudio.foundry import launch

    readings = iter([0.0, 100.0, 200.0, 300.0, 400.0])
    mocker.patch.object(launch, "time", SimpleNamespace(monotonic=lambda: next(readings)))
    set_connection(raw=emulator.connection_env())
    hook = ModelStudioHook(retry={"max_attempts": 4, "backoff_initial": 0.01, "backoff_max": 0.05, "max_elapsed": 5})
    emulator.set_faults("launch_model_studio", rate_502=1.0)
    with pytest.raises(errors.FoundryServerError):
        hook.launch_model_studio(DEMO)
    assert requests_of(emulator.counters(), "launch_model_studio") == {"502": 1}


def test_launch_answer_lost_while_another_run_appeared_raises_duplicate_runs(
    emulator: FoundryEmulator, connect: Connect, mocker: Any
) -> None:
    hook = connect(emulator)
    emulator.set_faults("launch_model_studio", drop_after_create=1.0)
    before_launch(hook, mocker, lambda: emulator.create_runs(DEMO, 1))
    with pytest.raises(errors.DuplicateRunsError) as info:
        hook.launch_model_studio(DEMO)
    served = {r["runId"] for r in emulator.runs(DEMO)}
    assert len(served) == 2
    assert set(info.value.run_ids) == served
    message = str(info.value)
    assert all(run_id in message for run_id in served)
    assert "nothing was launched again" in message
    assert "cancel any that are not wanted" in message
    assert emulator.counters()["launches"] == {DEMO: 1}


def test_launch_answer_lost_and_runs_unlistable_refuses_to_launch_again(
    emulator: FoundryEmulator, connect: Connect, mocker: Any
) -> None:
    hook = connect(emulator)
    emulator.set_faults("launch_model_studio", drop_after_create=1.0)
    before_launch(
        hook, mocker, lambda: emulator.set_faults("list_model_studio_runs", rate_503=1.0, do_not_retry_hint=True)
    )
    with pytest.raises(errors.FoundryError) as info:
        hook.launch_model_studio(DEMO)
    assert "could not be listed" in str(info.value)
    assert "Nothing was launched again" in str(info.value)
    assert isinstance(info.value.__cause__, errors.FoundryUnavailable)
    assert emulator.counters()["launches"] == {DEMO: 1}


def test_launch_refused_outright_is_not_checked_or_repeated(emulator: FoundryEmulator, connect: Connect) -> None:
    with pytest.raises(errors.LaunchModelStudioPermissionDenied):
        connect(emulator).launch_model_studio("ri.models.main.model-studio.demo-denied")
    counters = emulator.counters()
    assert requests_of(counters, "launch_model_studio") == {"403": 1}
    assert requests_of(counters, "list_model_studio_runs") == {"200": 1}  # the note taken before


def test_launch_logs_the_retry_without_a_new_run(
    emulator: FoundryEmulator, connect: Connect, fail_first: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    fail_first(emulator, "launch_model_studio", "rate_502")
    connect(emulator).launch_model_studio(DEMO)
    assert "created no run; launching again" in caplog.text


def test_a_launch_answer_without_a_build_rid_is_refused_with_a_readable_error(
    emulator: FoundryEmulator, connect: Connect, mocker: Any
) -> None:
    hook = connect(emulator)
    real_call = hook.client.call

    def call(name: str, *args: Any, **kwargs: Any) -> Any:
        answer = real_call(name, *args, **kwargs)
        return {"runId": "abc"} if name == "launch_model_studio" else answer

    mocker.patch.object(hook.client, "call", side_effect=call)
    with pytest.raises(errors.FoundryError, match="has no buildRid"):
        hook.launch_model_studio(DEMO)
