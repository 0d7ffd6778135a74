"""What a killed trigger says in the triggerer's log, and how it cancels: through the task's own connection, with
a few quick retries, even when it cannot tell whether the task runs again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.triggers.modelstudio import KILL_CANCEL_RETRY, ModelStudioRunTrigger
from tests.conftest import AttemptWaits, emulator_connection
from tests.foundry.support import requests_of

SLOW = "ri.models.main.model-studio.slow"
CONN_ID = "foundry_kill"


class Log:
    """Stands in for the trigger's logger: keeps each line as it would read."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, message: str, *args: Any) -> None:
        self.lines.append(("info", message % args))

    def warning(self, message: str, *args: Any) -> None:
        self.lines.append(("warning", message % args))


@pytest.fixture
def build(emulator: FoundryEmulator, set_connection: Callable[..., str]) -> str:
    """A build that runs for an hour, on a connection that is not the default one."""
    set_connection(CONN_ID, raw=json.dumps(emulator_connection(emulator)))
    emulator.add_studio(SLOW, duration_seconds=3600)
    (run,) = emulator.create_runs(SLOW, 1)
    return str(run["buildRid"])


def kill(build_rid: str, **kwargs: Any) -> Log:
    trigger = ModelStudioRunTrigger(build_rid=build_rid, foundry_conn_id=CONN_ID, **kwargs)
    log = Log()
    trigger._log = log
    asyncio.run(trigger.on_kill())
    return log


def cancels(emulator: FoundryEmulator) -> dict[str, int]:
    return requests_of(emulator.counters(), "cancel_build")


def test_a_kill_cancels_the_build_through_the_tasks_connection_and_says_so(
    emulator: FoundryEmulator, build: str
) -> None:
    log = kill(build)
    assert cancels(emulator) == {"204": 1}
    assert log.lines == [("info", f"Task killed; asked Foundry to cancel build {build}.")]


def test_a_kill_with_cancel_on_kill_off_leaves_the_build_running_and_says_so(
    emulator: FoundryEmulator, build: str
) -> None:
    log = kill(build, cancel_on_kill=False)
    assert cancels(emulator) == {}
    assert log.lines == [("info", f"Task killed; build {build} left running (cancel_on_kill=False).")]


def test_a_cleared_task_leaves_its_build_to_the_next_try_and_says_so(
    emulator: FoundryEmulator, build: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_modelstudio.runs import task_instance

    async def cleared(ti: Any) -> bool:
        return True

    monkeypatch.setattr(task_instance, "runs_again", cleared)
    log = kill(build, keep_for_next_try=True)
    assert cancels(emulator) == {}
    assert log.lines == [
        ("info", f"Task cleared; build {build} left running for the task's next try, which reattaches to it.")
    ]


def test_a_trigger_that_does_not_know_its_task_instance_cancels(emulator: FoundryEmulator, build: str) -> None:
    kill(build, keep_for_next_try=True)
    assert cancels(emulator) == {"204": 1}


def test_a_cancel_that_keeps_failing_is_tried_three_times_and_logged_as_a_warning(
    emulator: FoundryEmulator, build: str, attempt_waits: AttemptWaits
) -> None:
    emulator.set_faults("cancel_build", rate_502=1.0)
    log = kill(build)
    assert len(attempt_waits.waits) == KILL_CANCEL_RETRY["max_attempts"] - 1  # backoff recorded, not waited out
    assert cancels(emulator) == {"502": KILL_CANCEL_RETRY["max_attempts"]}
    ((level, line),) = log.lines
    assert level == "warning"
    assert line.startswith(f"Task killed, but cancelling build {build} failed (it may still run): ")
    assert "502" in line
