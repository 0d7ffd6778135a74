"""How long a launch that may have created a run looks for that run, how long a launch again watches for a late
run, and what it says about either. A scripted client and a fake clock stand in for Foundry and time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import launch as launch_module
from airflow_provider_modelstudio.foundry.errors import (
    CancelBuildPermissionDenied,
    FoundryAnswerError,
    FoundryError,
    FoundryRateLimited,
    FoundryServerError,
    FoundryTransportError,
    LaunchOutcomeUnknown,
)
from airflow_provider_modelstudio.foundry.launch import launch_once
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.shapes import read_run
from tests.foundry.support import settings_from

STUDIO = "ri.models.main.model-studio.s"
SECRET = "launch-token-7f3a"
LOST = FoundryTransportError("connection lost", method="POST", path="/launch", may_have_reached_server=True)
BAD_GATEWAY = FoundryServerError(method="POST", path="/launch", status_code=502)


def a_run(run_id: str, started_by: str = "user-1", **extra: Any) -> dict[str, Any]:
    return {"runId": run_id, "buildRid": f"ri.foundry.main.build.{run_id}", "startedBy": started_by, **extra}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class NoBackoff(RetryPolicy):
    """Launches again at once, so that the fake clock moves only by the launch module's own waits."""

    def backoff(self, attempt: int, rng: Any = None) -> float:
        return 0.0


class Foundry:
    """A sync client whose launch answers are scripted, and whose listing shows ``listing()`` (by default the runs
    created so far). Every request is recorded with the fake time it was made at; a listing takes ``takes``
    seconds of it.

    :param launches: per launch request: a run it creates and returns, an exception it raises, or both (a run
        it creates before its answer is lost)
    :param timeout: the connection's read timeout
    """

    def __init__(
        self,
        clock: Clock,
        *launches: Exception | dict[str, Any] | tuple[dict[str, Any], Exception],
        timeout: float = 1.0,
        takes: float = 0.1,
    ) -> None:
        self.clock = clock
        self.launches = list(launches)
        self.takes = takes
        self.settings = settings_from(
            {"conn_type": "foundry", "host": "foundry.example", "password": SECRET, "extra": {"timeout": timeout}}
        )
        self.retry = NoBackoff(max_attempts=3)
        self.runs: list[dict[str, Any]] = []
        self.listing: Callable[[], list[dict[str, Any]]] = lambda: self.runs
        self.cancel_refused: Exception | None = None
        self.requests: list[tuple[str, float]] = []

    def _record(self, name: str) -> None:
        assert len(self.requests) < 200, "the launch kept asking"
        self.requests.append((name, self.clock.now))

    def call(self, name: str, path_params: Any = None, query: Any = None, json_body: Any = None) -> Any:
        self._record(name)
        if name == "cancel_build":
            if self.cancel_refused is not None:
                raise self.cancel_refused
            return None
        assert name == "launch_model_studio"
        step = self.launches.pop(0)
        if isinstance(step, tuple):
            self.runs.append(step[0])
            raise step[1]
        if isinstance(step, Exception):
            raise step
        self.runs.append(step)
        return step

    def paged(self, name: str, path_params: Any, query: Any) -> list[dict[str, Any]]:
        assert name == "list_model_studio_runs"
        self._record(name)
        shown = self.listing()
        self.clock.now += self.takes
        return shown

    def listings_after_launch(self, which: int) -> list[float]:
        """Times of the listings after launch request ``which`` (0 for the first), up to the next one."""
        times: list[float] = []
        launches = -1
        for name, at in self.requests:
            if name == "launch_model_studio":
                launches += 1
            elif name == "list_model_studio_runs" and launches == which:
                times.append(at)
        return times

    def after_launch(self, which: int) -> list[str]:
        """The names of the requests from launch request ``which`` on."""
        starts = [i for i, (name, _) in enumerate(self.requests) if name == "launch_model_studio"]
        return [name for name, _ in self.requests[starts[which] :]]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(launch_module, "time", fake)
    return fake


def launch(foundry: Foundry, clock: Clock) -> dict[str, Any]:
    return launch_once(foundry, STUDIO, sleep=clock.sleep)  # type: ignore[arg-type]


def gaps(times: list[float]) -> list[float]:
    return [round(later - earlier, 6) for earlier, later in pairwise(times)]


def span(times: list[float]) -> float:
    return round(times[-1] - times[0], 6)


# Looking for the run a failed launch may have created --------------------------------------------------


def test_after_a_lost_answer_the_runs_are_watched_for_twice_the_read_timeout_in_eighths(clock: Clock) -> None:
    foundry = Foundry(clock, LOST, a_run("r-ours"), timeout=5)
    launch(foundry, clock)
    listings = foundry.listings_after_launch(0)
    assert gaps(listings) == [1.35] * 7 + [0.55]
    assert span(listings) == 10.0


def test_the_watch_after_a_lost_answer_lasts_at_least_two_seconds_in_quarter_seconds(clock: Clock) -> None:
    foundry = Foundry(clock, LOST, a_run("r-ours"), timeout=0.5)
    launch(foundry, clock)
    listings = foundry.listings_after_launch(0)
    assert gaps(listings) == [0.35] * 5 + [0.25]
    assert span(listings) == 2.0


def test_after_an_error_answer_the_runs_are_watched_for_two_seconds(clock: Clock) -> None:
    foundry = Foundry(clock, BAD_GATEWAY, a_run("r-ours"), timeout=5)
    launch(foundry, clock)
    assert span(foundry.listings_after_launch(0)) == 2.0


def test_a_listing_that_fails_after_a_lost_answer_leaves_the_outcome_unknown_and_says_what_to_check(
    clock: Clock,
) -> None:
    foundry = Foundry(clock, LOST)
    refused = FoundryServerError(method="GET", path="/runs", status_code=500)

    def listing() -> list[dict[str, Any]]:
        if any(name == "launch_model_studio" for name, _ in foundry.requests):
            raise refused
        return []

    foundry.listing = listing
    with pytest.raises(LaunchOutcomeUnknown) as info:
        launch(foundry, clock)
    assert str(info.value) == (
        f"The launch of {STUDIO} got no usable answer ({LOST}), and the studio's runs could not be listed to find "
        f"out whether a run was created ({refused}). Nothing was launched again: check the studio's runs in Foundry "
        "before retrying the task."
    )
    assert info.value.__cause__ is refused


def test_run_ids_quoted_in_the_log_are_shortened(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    long_id = "r" * 150
    assert launch(Foundry(clock, (a_run(long_id), LOST)), clock)["run_id"] == long_id
    assert f"Foundry created run {'r' * 100}...: adopting it" in caplog.messages[-1]


def test_a_run_id_holding_the_token_is_quoted_redacted(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    launch(Foundry(clock, (a_run(f"run-{SECRET}"), LOST)), clock)
    assert "Foundry created run run-***: adopting it" in caplog.messages[-1]
    assert SECRET not in caplog.text


# Watching for a late run after launching again ---------------------------------------------------------


def test_after_launching_again_the_listing_is_watched_for_five_seconds_from_when_it_shows_the_run(
    clock: Clock,
) -> None:
    foundry = Foundry(clock, BAD_GATEWAY, a_run("r-ours"), takes=0)
    assert launch(foundry, clock)["run_id"] == "r-ours"
    watch = foundry.listings_after_launch(1)
    assert gaps(watch) == [0.625] * 8


def test_the_five_seconds_count_from_the_first_listing_that_shows_the_run(clock: Clock) -> None:
    foundry = Foundry(clock, BAD_GATEWAY, a_run("r-ours"), takes=0)
    lagging = [3]

    def listing() -> list[dict[str, Any]]:
        if foundry.runs and lagging[0]:
            lagging[0] -= 1
            return []
        return foundry.runs

    foundry.listing = listing
    launch(foundry, clock)
    assert gaps(foundry.listings_after_launch(1)) == [0.625] * 11


@pytest.mark.parametrize(("takes", "listings"), [(0.0, 17), (0.1, 15)])
def test_a_listing_that_never_shows_the_run_launched_again_is_watched_for_ten_seconds_at_most(
    clock: Clock, takes: float, listings: int
) -> None:
    foundry = Foundry(clock, BAD_GATEWAY, a_run("r-ours"), takes=takes)
    foundry.listing = lambda: []
    launch(foundry, clock)
    watch = foundry.listings_after_launch(1)
    assert span(watch) == 10.0
    assert len(watch) == listings


def test_a_late_run_is_cancelled_as_soon_as_it_is_found_and_both_runs_are_named(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ours, late = a_run("r-ours"), a_run("r-late")
    foundry = Foundry(clock, BAD_GATEWAY, ours)
    foundry.listing = lambda: [ours, late] if foundry.runs else []
    assert launch(foundry, clock)["run_id"] == "r-ours"
    assert foundry.after_launch(1) == ["launch_model_studio", "list_model_studio_runs", "cancel_build"]
    assert caplog.messages[-1] == (
        f"Run r-late of {STUDIO} appeared late: an earlier launch of this task, whose answer was lost, created it "
        "after all. This task continues with run r-ours; the build of run r-late (ri.foundry.main.build.r-late) was "
        "cancelled so that one launch makes one run."
    )


def test_a_late_run_whose_cancel_is_refused_is_named_with_what_to_do(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ours, late = a_run("r-ours"), a_run("r-late")
    foundry = Foundry(clock, BAD_GATEWAY, ours)
    foundry.listing = lambda: [ours, late] if foundry.runs else []
    refused = CancelBuildPermissionDenied(method="POST", path="/cancel", status_code=403)
    foundry.cancel_refused = refused
    launch(foundry, clock)
    assert caplog.messages[-1] == (
        f"Run r-late of {STUDIO} appeared late: an earlier launch of this task, whose answer was lost, created it "
        f"after all, while this task continues with run r-ours. Cancelling its build failed ({refused}): cancel run "
        "r-late in Foundry."
    )


def test_a_late_run_without_a_build_is_named_with_what_to_do(clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    ours, late = a_run("r-ours"), {"runId": "r-late", "startedBy": "user-1"}
    foundry = Foundry(clock, BAD_GATEWAY, ours)
    foundry.listing = lambda: [ours, late] if foundry.runs else []
    launch(foundry, clock)
    assert "Cancelling its build failed (the run has no buildRid): cancel run r-late in Foundry." in caplog.messages[-1]
    assert "cancel_build" not in foundry.after_launch(1)


def test_more_late_runs_than_failed_launches_are_named_and_left_alone(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ours = a_run("r-ours")
    foundry = Foundry(clock, BAD_GATEWAY, ours)
    foundry.listing = lambda: [ours, a_run("r-a"), a_run("r-b")] if foundry.runs else []
    launch(foundry, clock)
    assert caplog.messages[-1] == (
        f"After launching {STUDIO} again (run r-ours), 2 other new runs appeared (r-a, r-b), more than this task's 1 "
        "failed launch(es) could have created: another launcher is busy on this studio, so none was cancelled. Check "
        "them in Foundry."
    )
    assert "cancel_build" not in foundry.after_launch(1)


def test_a_listing_that_fails_while_watching_for_a_late_run_is_logged_and_the_run_kept(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ours = a_run("r-ours")
    foundry = Foundry(clock, BAD_GATEWAY, ours)
    refused = FoundryServerError(method="GET", path="/runs", status_code=500)

    def listing() -> list[dict[str, Any]]:
        if foundry.runs:
            raise refused
        return []

    foundry.listing = listing
    assert launch(foundry, clock)["run_id"] == "r-ours"
    assert caplog.messages[-1] == (
        f"Launched run r-ours of {STUDIO} after a launch that may have created a run, but the studio's runs could not "
        f"be listed to look for that run ({refused}). Check the studio's runs in Foundry and cancel any this task did "
        "not return."
    )


# Launching again, and the launch's answer ----------------------------------------------------------------


def test_a_launch_that_keeps_creating_nothing_is_tried_as_often_as_the_policy_allows(clock: Clock) -> None:
    foundry = Foundry(clock, BAD_GATEWAY, BAD_GATEWAY, BAD_GATEWAY, takes=0)
    with pytest.raises(FoundryServerError) as info:
        launch(foundry, clock)
    assert info.value is BAD_GATEWAY
    assert [name for name, _ in foundry.requests].count("launch_model_studio") == 3


def test_a_rate_limited_launch_that_created_nothing_is_launched_again_after_retry_after(clock: Clock) -> None:
    throttled = FoundryRateLimited(
        method="POST",
        path="/launch",
        status_code=429,
        error_code="CUSTOM_SERVER",
        error_name="Default:TooManyRequests",
        retry_after=7.0,
    )
    foundry = Foundry(clock, throttled, a_run("r-ours"), takes=0)
    launch(foundry, clock)
    (first, second) = [at for name, at in foundry.requests if name == "launch_model_studio"]
    assert second - first == 2.0 + 7.0  # the settling window, then Retry-After


def test_an_adopted_run_is_logged_with_the_lost_answer_and_the_run(
    clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    launch(Foundry(clock, (a_run("r-1"), LOST)), clock)
    assert caplog.messages == [
        f"The launch answer was lost ({LOST}), but Foundry created run r-1: adopting it instead of launching again."
    ]


def test_an_accepted_launch_without_a_build_says_what_it_answered_redacted_and_short(clock: Clock) -> None:
    answer = {"runId": "r-1", "note": SECRET, "padding": "p" * 400}
    with pytest.raises(FoundryError) as info:
        launch(Foundry(clock, answer), clock)
    quoted = f'{{"runId": "r-1", "note": "***", "padding": "{"p" * 400}"}}'[:300] + "..."
    assert str(info.value) == (
        f"Foundry accepted the launch of {STUDIO} but its answer has no buildRid to follow: {quoted}. Check the "
        "studio's runs in Foundry; a newer API version may have changed the answer."
    )


def test_a_launch_answer_naming_no_build_rid_is_reconciled_and_the_listed_run_adopted(clock: Clock) -> None:
    listed = a_run("r-1")
    foundry = Foundry(clock, {**listed, "buildRid": "ri.models.main.model-version.v"})
    foundry.listing = lambda: [listed] if foundry.runs else []
    assert launch(foundry, clock) == read_run(listed, what="a test")
    assert [name for name, _ in foundry.requests].count("launch_model_studio") == 1


def test_a_build_rid_that_is_not_one_in_the_answer_and_the_listing_is_refused_quoted_short_and_redacted(
    clock: Clock,
) -> None:
    bad = {**a_run("r-1"), "buildRid": f"ri.foundry.main.build.{SECRET}/../../{'x' * 300}"}
    foundry = Foundry(clock, bad)
    with pytest.raises(FoundryAnswerError) as info:
        launch(foundry, clock)
    assert str(info.value) == (
        f"Foundry's answer to the launch of {STUDIO} holds ri.foundry.main.build.***/../../{'x' * 68}... as buildRid, "
        "which is not a build RID (ri.foundry-build.<instance>.build.<locator>), so it is neither used nor announced. "
        "A proxy or a server that is not Foundry may have answered: check the connection's host, and the result in "
        "Foundry."
    )
    assert [name for name, _ in foundry.requests].count("launch_model_studio") == 1
