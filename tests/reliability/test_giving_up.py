"""When status checks keep failing long enough for a task to give up, no build may be left orphaned.

Either the task stays retryable and its retry reattaches to the same build (Airflow 3.3's task state store),
or, when a retry could not reattach, the task cancels the build before it fails for good.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from tests.conftest import StartEmulator
from tests.lifecycle_helpers import StateStore, TaskDeferred, context, run_trigger
from tests.reliability.conftest import UseEmulator

STUDIO = "ri.models.main.model-studio.flaky-checks"
GIVE_UP_FAST = {"max_attempts": 2, "backoff_initial": 0.01, "backoff_max": 0.02, "max_elapsed": 1}


@pytest.fixture
def emulator(start_emulator: StartEmulator, use_emulator: UseEmulator) -> FoundryEmulator:
    emulator = start_emulator({"seed": 2}, 20)
    emulator.add_studio(STUDIO, duration_seconds=600)  # 30 s real: still running when the task gives up
    use_emulator(emulator, "oauth2", timeout=1)
    return emulator


def operator(deferrable: bool) -> LaunchModelStudioOperator:
    return LaunchModelStudioOperator(
        task_id="launch", model_studio_rid=STUDIO, deferrable=deferrable, poll_interval=0.02, retry=GIVE_UP_FAST
    )


def give_up(emulator: FoundryEmulator, deferrable: bool, ctx: dict[str, Any]) -> Exception:
    """Run one try of the task while every status check answers 503; return what the try raised."""
    emulator.set_faults("get_build", rate_503=1.0)
    emulator.set_faults("get_builds_batch", rate_503=1.0)
    op = operator(deferrable)
    try:
        if deferrable:
            with pytest.raises(TaskDeferred) as deferred:
                op.execute(ctx)
            event = run_trigger(deferred.value.trigger)
            assert event["kind"] == "error"
            op.execute_complete(ctx, event)
        else:
            op.execute(ctx)
    except Exception as exc:
        return exc
    finally:
        emulator.clear_faults()
    raise AssertionError("the task did not give up")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_with_a_task_state_store_the_retry_reattaches_to_the_same_build(
    emulator: FoundryEmulator, deferrable: bool
) -> None:
    store = StateStore()
    failure = give_up(emulator, deferrable, context(store))
    assert not isinstance(failure, AirflowFailException), f"not retryable: {failure}"
    (run,) = emulator.runs(STUDIO)
    emulator.set_build_status(run["buildRid"], "SUCCEEDED")
    result = operator(deferrable).execute(context(store))  # Airflow's retry of the task
    assert emulator.counters()["launches"] == {STUDIO: 1}
    assert (result["run_id"], result["build_status"]) == (run["runId"], "SUCCEEDED")
    assert result["model_version_rid"] == run["resolvedOutputs"]["model"]["modelVersionRid"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "deferred"])
def test_without_a_way_to_reattach_a_task_that_gives_up_cancels_its_build(
    emulator: FoundryEmulator, deferrable: bool
) -> None:
    failure = give_up(emulator, deferrable, context())
    (run,) = emulator.runs(STUDIO)
    assert isinstance(failure, AirflowFailException), f"retryable, so a retry would launch again: {failure!r}"
    assert emulator.counters()["cancels"].get(run["buildRid"]), f"build {run['buildRid']} left running: {failure}"
