"""One launch is one run, whatever a server answers to the launch (issue 9, items 4, 5 and 12).

Only a connect failure is retried blindly; every other failure that does not prove a refusal (a 4xx but 408
and 429), Foundry's own error envelope on a 429/503 included, goes through finding the run it may have
created (issue 17, item 1). A run that
shows up only after launching again is surplus: its build is cancelled, and the log names both runs.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry import launch as launch_module
from airflow_provider_modelstudio.foundry.launch import launch_once
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.settings import FoundrySettings
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from tests.foundry.support import FAST_RETRY, FakeClock
from tests.hostile.conftest import LAUNCH_PATH, RUNS_PATH, STUDIO, connection
from tests.hostile.server import Answer, Exchange, HostileServer, drop, envelope, reply

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000


def a_run(run_id: str, started_by: str = "user-1") -> dict[str, Any]:
    return {
        "runId": run_id,
        "buildRid": f"ri.foundry.main.build.{run_id}",
        "configVersion": 1,
        "startedBy": started_by,
        "buildStatus": "RUNNING",
        "resolvedOutputs": {},
    }


class Studio:
    """The studio's runs as the server lists them, changed by the launch answers."""

    def __init__(self, server: HostileServer) -> None:
        self.listed: list[dict[str, Any]] = []
        self.lagging = 0  # listings still to answer with nothing
        server.on("GET", RUNS_PATH, self.listing)

    def listing(self, exchange: Exchange) -> bool:
        if self.lagging:
            self.lagging -= 1
            return reply(200, {"data": []})(exchange)
        return reply(200, {"data": self.listed})(exchange)

    def creates(self, *runs: dict[str, Any], then: Answer) -> Answer:
        """An answer that makes ``runs`` appear in the listing, then answers ``then``."""

        def answer(exchange: Exchange) -> bool:
            self.listed.extend(runs)
            return then(exchange)

        return answer


def launch(settings: FoundrySettings, clock: FakeClock, mocker: Any) -> dict[str, Any]:
    """One launch call with the sync client; the launch module's waits run on ``clock``."""
    mocker.patch.object(launch_module, "time", clock)
    client = FoundryClient(settings, retry=RetryPolicy(**FAST_RETRY), sleep=lambda seconds: None)
    return launch_once(client, STUDIO, sleep=clock.sleep)


AMBIGUOUS = {
    "a proxy's 503 page": reply(503, b"<html><h1>503 Service Unavailable</h1></html>", {"Content-Type": "text/html"}),
    "an empty 503": reply(503),
    "an empty 429": reply(429),
    "a 429 that is not Foundry's envelope": reply(429, {"message": "slow down"}),
    "a garbled 500": reply(500, b"\x00\xff{{not json", {"Content-Type": "application/json"}),
    "an empty 502": reply(502),
    "a 504 page": reply(504, b"<html>Gateway Timeout</html>", {"Content-Type": "text/html"}),
    "a 200 cut short": reply(200, b'{"runId": "r-1", "buil', {"Content-Type": "application/json"}),
    "no answer at all": drop(),
    "a 503 with deeply nested JSON": reply(503, DEEP_JSON, {"Content-Type": "application/json"}),
    "Foundry's own 503 envelope": envelope(503, "CUSTOM_SERVER", "Default:Unavailable"),
    "Foundry's own 429 envelope": envelope(429, "CUSTOM_SERVER", "Default:TooManyRequests"),
}


@pytest.mark.parametrize("answer", list(AMBIGUOUS.values()), ids=list(AMBIGUOUS))
def test_a_launch_failure_after_the_run_was_created_adopts_that_run_without_launching_again(
    hostile: HostileServer, clock: FakeClock, mocker: Any, answer: Answer
) -> None:
    studio = Studio(hostile)
    hostile.on("POST", LAUNCH_PATH, studio.creates(a_run("r-1"), then=answer))
    run = launch(connection(hostile), clock, mocker)
    assert run["run_id"] == "r-1"
    assert len(hostile.requests_to(LAUNCH_PATH)) == 1


@pytest.mark.parametrize(("status", "name"), [(503, "Default:Unavailable"), (429, "Default:TooManyRequests")])
def test_foundrys_own_qos_envelope_to_a_launch_is_launched_again_only_after_looking_for_a_run(
    hostile: HostileServer, clock: FakeClock, mocker: Any, status: int, name: str
) -> None:
    studio = Studio(hostile)
    hostile.on(
        "POST",
        LAUNCH_PATH,
        envelope(status, "CUSTOM_SERVER", name),
        studio.creates(a_run("r-1"), then=reply(200, a_run("r-1"))),
    )
    run = launch(connection(hostile), clock, mocker)
    assert run["run_id"] == "r-1"
    assert len(hostile.requests_to(LAUNCH_PATH)) == 2
    assert len(hostile.requests_to(RUNS_PATH)) > 2  # the note before, the settling window, the surplus watch


def test_a_launch_failure_whose_outcome_cannot_be_found_out_is_not_a_transient_error(
    hostile: HostileServer, clock: FakeClock, mocker: Any
) -> None:
    hostile.on(
        "GET",
        RUNS_PATH,
        reply(200, {"data": []}),
        envelope(403, "PERMISSION_DENIED", "ApiUsageDenied", missingScope="api:models-read"),
    )
    hostile.on("POST", LAUNCH_PATH, reply(503, b"<html>busy</html>", {"Content-Type": "text/html"}))
    with pytest.raises(errors.LaunchOutcomeUnknown) as info:
        launch(connection(hostile), clock, mocker)
    assert not isinstance(
        info.value, errors.FoundryTransportError | errors.FoundryRateLimited | errors.FoundryServerError
    )
    assert "could not be listed" in str(info.value)
    assert "Nothing was launched again" in str(info.value)
    assert len(hostile.requests_to(LAUNCH_PATH)) == 1


def test_a_launch_that_created_nothing_is_launched_again_once(
    hostile: HostileServer, clock: FakeClock, mocker: Any
) -> None:
    studio = Studio(hostile)
    hostile.on("POST", LAUNCH_PATH, reply(503), studio.creates(a_run("r-2"), then=reply(200, a_run("r-2"))))
    run = launch(connection(hostile), clock, mocker)
    assert run["run_id"] == "r-2"
    assert len(hostile.requests_to(LAUNCH_PATH)) == 2
    assert hostile.requests_to("/api/v2/orchestration/builds/ri.foundry.main.build.r-2/cancel") == []


# A run that shows up late ------------------------------------------------------------------------------


def cancels(server: HostileServer, run_id: str) -> int:
    return len(server.requests_to(f"/api/v2/orchestration/builds/ri.foundry.main.build.{run_id}/cancel"))


def test_a_run_listed_only_after_the_launch_again_is_cancelled_and_both_runs_are_named(
    hostile: HostileServer, clock: FakeClock, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    studio = Studio(hostile)
    late, ours = a_run("r-late"), a_run("r-ours")
    hostile.on("POST", LAUNCH_PATH, reply(502), studio.creates(ours, late, then=reply(200, ours)))
    hostile.on("POST", "/api/v2/orchestration/builds/ri.foundry.main.build.r-late/cancel", reply(204))
    run = launch(connection(hostile), clock, mocker)
    assert run["run_id"] == "r-ours"
    assert cancels(hostile, "r-late") == 1
    assert cancels(hostile, "r-ours") == 0
    (warning,) = [r.getMessage() for r in caplog.records if "appeared late" in r.getMessage()]
    assert "r-late" in warning
    assert "r-ours" in warning
    assert "cancelled" in warning


def test_the_watch_for_a_late_run_waits_until_the_listing_shows_the_run_launched_again(
    hostile: HostileServer, clock: FakeClock, mocker: Any
) -> None:
    studio = Studio(hostile)
    late, ours = a_run("r-late"), a_run("r-ours")

    def relaunch(exchange: Exchange) -> bool:
        studio.lagging = 12  # the listing is behind by more than a settling window's worth of listings
        return studio.creates(ours, late, then=reply(200, ours))(exchange)

    hostile.on("POST", LAUNCH_PATH, reply(502), relaunch)
    hostile.on("POST", "/api/v2/orchestration/builds/ri.foundry.main.build.r-late/cancel", reply(204))
    assert launch(connection(hostile), clock, mocker)["run_id"] == "r-ours"
    assert cancels(hostile, "r-late") == 1


def test_a_late_run_started_by_another_user_is_left_alone(
    hostile: HostileServer, clock: FakeClock, mocker: Any
) -> None:
    studio = Studio(hostile)
    ours, theirs = a_run("r-ours"), a_run("r-theirs", started_by="someone-else")
    hostile.on("POST", LAUNCH_PATH, reply(502), studio.creates(ours, theirs, then=reply(200, ours)))
    assert launch(connection(hostile), clock, mocker)["run_id"] == "r-ours"
    assert cancels(hostile, "r-theirs") == 0


def test_more_late_runs_than_failed_launches_are_named_but_not_cancelled(
    hostile: HostileServer, clock: FakeClock, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    studio = Studio(hostile)
    ours = a_run("r-ours")
    hostile.on("POST", LAUNCH_PATH, reply(502), studio.creates(ours, a_run("r-a"), a_run("r-b"), then=reply(200, ours)))
    assert launch(connection(hostile), clock, mocker)["run_id"] == "r-ours"
    assert cancels(hostile, "r-a") == cancels(hostile, "r-b") == 0
    assert "r-a" in caplog.text
    assert "r-b" in caplog.text
    assert "another launcher is busy" in caplog.text


def test_a_late_run_whose_cancel_fails_is_named_with_what_to_do(
    hostile: HostileServer, clock: FakeClock, mocker: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    studio = Studio(hostile)
    late, ours = a_run("r-late"), a_run("r-ours")
    hostile.on("POST", LAUNCH_PATH, reply(502), studio.creates(ours, late, then=reply(200, ours)))
    hostile.on(
        "POST",
        "/api/v2/orchestration/builds/ri.foundry.main.build.r-late/cancel",
        envelope(403, "PERMISSION_DENIED", "CancelBuildPermissionDenied"),
    )
    assert launch(connection(hostile), clock, mocker)["run_id"] == "r-ours"
    assert "cancel run r-late in Foundry" in caplog.text


def test_without_a_late_run_the_watch_ends_and_cancels_nothing(
    hostile: HostileServer, clock: FakeClock, mocker: Any
) -> None:
    studio = Studio(hostile)
    ours = a_run("r-ours")
    hostile.on("POST", LAUNCH_PATH, reply(502), studio.creates(ours, then=reply(200, ours)))
    assert launch(connection(hostile), clock, mocker)["run_id"] == "r-ours"
    assert [r for r in hostile.seen if r.path.endswith("/cancel")] == []
