"""The wait in the worker: polls until the build is final, rides out transient failures up to the limit, stops at
the deadline, and sleeps no longer than the deadline allows. A fake clock stands in for time."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.errors import BuildNotFound, FoundryTransportError
from airflow_provider_modelstudio.foundry.shapes import Build
from airflow_provider_modelstudio.runs import waiting
from airflow_provider_modelstudio.runs.errors import PollingFailedError, RunTimedOutError
from airflow_provider_modelstudio.runs.progress import StatusWatch
from airflow_provider_modelstudio.runs.waiting import WaitPolicy
from airflow_provider_modelstudio.waits.kinds import BUILDS
from airflow_provider_modelstudio.waits.worker import wait_in_worker

BUILD = "ri.foundry.main.build.b1"
URL = "https://foundry.example/builds/b1"
START = 1_000_000.0
LOST = FoundryTransportError("connection lost", method="GET", path="/b", may_have_reached_server=True)


class Clock:
    """``time.time`` that only moves when the wait sleeps."""

    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Builds:
    """A hook whose ``get_build`` answers from a script: a status, an exception, or a raw answer (a dict). The
    last answer repeats; a wait that asks more than 20 times has lost its way."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []

    def get_build(self, build_rid: str) -> Build:
        self.asked.append(build_rid)
        assert len(self.asked) <= 20, "the wait kept asking"
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return Build.from_json(answer if isinstance(answer, dict) else {"rid": build_rid, "status": answer})


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(waiting.time, "time", fake.time)
    return fake


def wait(hook: Builds, clock: Clock, policy: WaitPolicy) -> str:
    watch = StatusWatch(BUILD, URL, policy.poll_interval, logging.getLogger("wait"), heartbeat=0)
    status, _verdict = wait_in_worker(BUILDS, hook, watch, policy, sleep=clock.sleep)  # type: ignore[arg-type]
    return status


def test_the_wait_polls_the_build_until_it_is_final_and_returns_its_status(clock: Clock) -> None:
    hook = Builds("RUNNING", "RUNNING", "FAILED")
    assert wait(hook, clock, WaitPolicy(30)) == "FAILED"
    assert hook.asked == [BUILD] * 3
    assert clock.slept == [30, 30]


def test_transient_failures_below_the_limit_are_ridden_out_and_logged_with_their_count(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    hook = Builds(LOST, LOST, "SUCCEEDED")
    assert wait(hook, clock, WaitPolicy(10, max_consecutive_failures=3)) == "SUCCEEDED"
    assert [r.getMessage() for r in caplog.records] == [
        "Status check 1 failed (connection lost); will check again.",
        "Status check 2 failed (connection lost); will check again.",
    ]


def test_a_passed_check_starts_the_failure_count_again(clock: Clock) -> None:
    hook = Builds(LOST, "RUNNING", LOST, "RUNNING", LOST, "SUCCEEDED")
    assert wait(hook, clock, WaitPolicy(10, max_consecutive_failures=2)) == "SUCCEEDED"


def test_transient_failures_end_the_wait_at_the_limit_naming_the_build(clock: Clock) -> None:
    hook = Builds(LOST)
    with pytest.raises(PollingFailedError) as info:
        wait(hook, clock, WaitPolicy(10, max_consecutive_failures=3))
    assert str(info.value) == f"Stopped waiting after 3 failed check(s) of build {BUILD}: connection lost"
    assert info.value.__cause__ is LOST
    assert len(hook.asked) == 3


def test_a_permanent_failure_ends_the_wait_at_the_first_check(clock: Clock) -> None:
    gone = BuildNotFound(method="GET", path="/b", status_code=404)
    hook = Builds(gone)
    with pytest.raises(BuildNotFound) as info:
        wait(hook, clock, WaitPolicy(10))
    assert info.value is gone
    assert len(hook.asked) == 1


def test_an_answer_without_a_usable_status_is_a_failed_check(clock: Clock) -> None:
    hook = Builds({"rid": BUILD})
    with pytest.raises(PollingFailedError) as info:
        wait(hook, clock, WaitPolicy(10, max_consecutive_failures=2))
    assert str(info.value) == (
        f"Stopped waiting after 2 failed check(s) of build {BUILD}: "
        f"Foundry's answer for build {BUILD} has no usable status."
    )


def test_the_last_sleep_is_cut_short_at_the_deadline(clock: Clock) -> None:
    hook = Builds("RUNNING")
    with pytest.raises(RunTimedOutError):
        wait(hook, clock, WaitPolicy(30, deadline=START + 45))
    assert clock.slept == [30, 15]


def test_the_deadline_ends_the_wait_naming_the_build_and_its_link(clock: Clock) -> None:
    hook = Builds("RUNNING")
    with pytest.raises(RunTimedOutError) as info:
        wait(hook, clock, WaitPolicy(30, deadline=START + 60))
    assert str(info.value) == f"Build {BUILD} did not finish before the wait's timeout. {URL}"
    assert len(hook.asked) == 3


def test_less_than_a_second_before_the_deadline_the_wait_still_checks_once_more(clock: Clock) -> None:
    hook = Builds("RUNNING", "SUCCEEDED")
    assert wait(hook, clock, WaitPolicy(30, deadline=START + 0.5)) == "SUCCEEDED"
    assert clock.slept == [0.5]
