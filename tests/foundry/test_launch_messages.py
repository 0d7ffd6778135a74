"""What a launch that may have created a run says, and how it counts its failed launches: the duplicate-runs
refusal in full, the launch-again log line, and late runs of several failed launches all cancelled."""

from __future__ import annotations

import logging
import random

import pytest

from airflow_provider_modelstudio.foundry import launch as launch_module
from airflow_provider_modelstudio.foundry.errors import DuplicateRunsError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from tests.foundry.test_launch_reconciliation import BAD_GATEWAY, LOST, STUDIO, Clock, Foundry, a_run, launch


class FixedBackoff(RetryPolicy):
    """Waits 1.5 s before every launch again."""

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        return 1.5


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(launch_module, "time", fake)
    return fake


def test_several_new_runs_after_a_lost_answer_are_refused_naming_each_run(fake_clock: Clock) -> None:
    foundry = Foundry(fake_clock, (a_run("r-a"), LOST))
    foundry.runs.append(a_run("r-b"))  # listed after the first note is taken: another launcher's run
    noted = iter([[], foundry.runs])
    foundry.listing = lambda: next(noted, foundry.runs)
    with pytest.raises(DuplicateRunsError) as info:
        launch(foundry, fake_clock)
    assert str(info.value) == (
        f"The launch of {STUDIO} got no answer ({LOST}), and meanwhile 2 new runs appeared: r-b, r-a. Another task "
        "or person launched the same studio, so which run is this task's is unknown; nothing was launched again. "
        "Check the runs in Foundry and cancel any that are not wanted."
    )
    assert info.value.run_ids == ["r-b", "r-a"]
    assert [name for name, _ in foundry.requests].count("launch_model_studio") == 1


def test_launching_again_logs_the_failure_and_the_wait(fake_clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    foundry = Foundry(fake_clock, BAD_GATEWAY, a_run("r-ours"))
    foundry.retry = FixedBackoff(max_attempts=3)
    assert launch(foundry, fake_clock)["run_id"] == "r-ours"
    assert caplog.messages == [
        f"The launch failed ({BAD_GATEWAY}) and created no run; launching again in 1.5 s.",
    ]


def test_late_runs_of_two_failed_launches_are_both_cancelled(
    fake_clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ours, late_1, late_2 = a_run("r-ours"), a_run("r-late-1"), a_run("r-late-2")
    foundry = Foundry(fake_clock, BAD_GATEWAY, BAD_GATEWAY, ours)
    foundry.listing = lambda: [ours, late_1, late_2] if ours in foundry.runs else []
    assert launch(foundry, fake_clock)["run_id"] == "r-ours"
    assert foundry.after_launch(2) == ["launch_model_studio", "list_model_studio_runs", "cancel_build", "cancel_build"]
    assert [m for m in caplog.messages if m.startswith("Run ")] == [
        f"Run {late} of {STUDIO} appeared late: an earlier launch of this task, whose answer was lost, created it "
        f"after all. This task continues with run r-ours; the build of run {late} (ri.foundry.main.build.{late}) was "
        "cancelled so that one launch makes one run."
        for late in ("r-late-1", "r-late-2")
    ]
