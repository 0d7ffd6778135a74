"""Each kind of fault, hit on purpose, on each path: the task still ends with the right run and model version.

The emulator draws faults from a generator seeded with 1, whose first draws are 0.134, 0.847, 0.764, 0.255,
0.495, 0.449, 0.652, 0.789: a fault rate of 0.14 makes exactly the first request to the endpoint fail and
the next seven succeed. Connections use a 0.5 s timeout, so a 1.5 s hang is a slow read past the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry.auth import TOKEN_CACHE
from tests.conftest import StartEmulator
from tests.reliability.conftest import UseEmulator
from tests.reliability.support import RETRY, Task, check, resume, run_in_worker, run_triggers, start_deferred

QUICK = "ri.models.main.model-studio.quick"
FIRST_ONLY = 0.14
SCENARIO = {"seed": 1, "studios": {QUICK: {"duration_seconds": 1.0}}}

KINDS: dict[str, dict[str, Any]] = {
    "429": {"rate_429": FIRST_ONLY},
    "429 with Retry-After": {"rate_429": FIRST_ONLY, "retry_after_seconds": 1},
    "503": {"rate_503": FIRST_ONLY},
    "500": {"rate_500": FIRST_ONLY},
    "502": {"rate_502": FIRST_ONLY},
    "504": {"rate_504": FIRST_ONLY},
    "HTML error page": {"rate_html": FIRST_ONLY},
    "dropped connection": {"rate_drop": FIRST_ONLY},
    "slow read past the timeout": {"rate_hang": FIRST_ONLY, "hang_seconds": 1.5},
    "truncated JSON": {"rate_truncated_json": FIRST_ONLY},
}


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[FoundryEmulator]:
    with FoundryEmulator(SCENARIO, time_scale=20) as emulator:
        yield emulator


@pytest.fixture
def emulator(module_emulator: FoundryEmulator, use_emulator: UseEmulator) -> FoundryEmulator:
    module_emulator.reset()  # no runs, counters zeroed, fault generator back at seed 1
    use_emulator(module_emulator, "oauth2", timeout=0.5)
    return module_emulator


def one_task(deferrable: bool) -> Task:
    from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

    operator = LaunchModelStudioOperator(
        task_id="launch", model_studio_rid=QUICK, deferrable=deferrable, poll_interval=0.05, retry=RETRY
    )
    return Task(QUICK, "SUCCEEDED", deferrable, operator)


def run_deferred_in_own_triggerer(task: Task) -> None:
    """Defer, then run the trigger as a triggerer process would: with a token cache of its own."""
    start_deferred(task)
    assert task.trigger is not None, f"the task did not defer: {task.error!r} {task.result}"
    TOKEN_CACHE.clear()
    run_triggers([task], limit=60)
    resume(task)


def injected(emulator: FoundryEmulator, endpoint: str) -> int:
    return sum(emulator.counters()["faults_injected"].get(endpoint, {}).values())


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.usefixtures("attempt_waits")  # a Retry-After of 1 s and backoffs are recorded, not waited out
def test_a_status_check_fault_is_ridden_out_in_the_worker(emulator: FoundryEmulator, kind: str) -> None:
    emulator.set_faults("get_build", **KINDS[kind])
    task = one_task(deferrable=False)
    run_in_worker(task)
    assert injected(emulator, "get_build") == 1
    problems = check(emulator, [task])
    assert not problems, "\n".join(problems)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.usefixtures("attempt_waits")  # a Retry-After of 1 s and backoffs are recorded, not waited out
def test_a_status_check_fault_is_ridden_out_by_the_trigger(emulator: FoundryEmulator, kind: str) -> None:
    emulator.set_faults("get_builds_batch", **KINDS[kind])
    task = one_task(deferrable=True)
    run_deferred_in_own_triggerer(task)
    assert injected(emulator, "get_builds_batch") == 1
    problems = check(emulator, [task])
    assert not problems, "\n".join(problems)


TOKEN_KINDS = [
    "429",
    "503",
    "502",
    "dropped connection",
    "slow read past the timeout",
    "truncated JSON",
    "HTML error page",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", TOKEN_KINDS)
@pytest.mark.parametrize("deferrable", [False, True], ids=["worker", "triggerer"])
def test_a_token_endpoint_fault_is_ridden_out(emulator: FoundryEmulator, kind: str, deferrable: bool) -> None:
    task = one_task(deferrable)
    if deferrable:
        start_deferred(task)
        emulator.set_faults("oauth2_token", **KINDS[kind])  # the triggerer's own first token request fails
        TOKEN_CACHE.clear()
        run_triggers([task], limit=60)
        resume(task)
    else:
        emulator.set_faults("oauth2_token", **KINDS[kind])
        run_in_worker(task)
    assert injected(emulator, "oauth2_token") == 1
    problems = check(emulator, [task])
    assert not problems, "\n".join(problems)


LAUNCH_KINDS = [
    "429",
    "503",
    "500",
    "502",
    "504",
    "dropped connection",
    "HTML error page",
    "truncated JSON",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", LAUNCH_KINDS)
@pytest.mark.usefixtures("launch_clock")
def test_a_launch_fault_starts_exactly_one_run(emulator: FoundryEmulator, kind: str) -> None:
    """Launching happens in the worker on both paths (before any deferral), so the worker path covers both.

    The launch's settling window and surplus watch run on a fake clock."""
    emulator.set_faults("launch_model_studio", **KINDS[kind])
    task = one_task(deferrable=False)
    run_in_worker(task)
    assert injected(emulator, "launch_model_studio") == 1
    problems = check(emulator, [task])
    assert not problems, "\n".join(problems)


@pytest.mark.timeout(60)
def test_a_launch_slower_than_the_timeout_starts_exactly_one_run(
    start_emulator: StartEmulator, use_emulator: UseEmulator
) -> None:
    # Real time on purpose: the hung launch creates its run 1.5 s after it was sent, and the settling window
    # (and the surplus watch) must really last long enough to see it.
    emulator = start_emulator(SCENARIO, 20)  # a private one: the hung launch creates its run after the test
    use_emulator(emulator, "oauth2", timeout=0.5)
    emulator.set_faults("launch_model_studio", **KINDS["slow read past the timeout"])
    started = time.monotonic()
    task = one_task(deferrable=False)
    run_in_worker(task)
    # The hang is real time (the emulator clock cannot shorten it): give the emulator until the hung
    # request has been processed, as Foundry would process it, before counting runs.
    time.sleep(max(0.0, started + KINDS["slow read past the timeout"]["hang_seconds"] + 0.5 - time.monotonic()))
    problems = check(emulator, [task])
    assert not problems, "\n".join(problems)
