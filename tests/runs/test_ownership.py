"""Task-level ownership of a run: remembering it for a retry, finding the studio's running run on Airflow < 3.3,
and cancelling a build the task gives up on (saying what happened either way)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.errors import CancelBuildPermissionDenied
from airflow_provider_modelstudio.foundry.shapes import Run, read_run, read_runs
from airflow_provider_modelstudio.runs.ownership import (
    STATE_KEY,
    can_reattach,
    cancel_build,
    remember_run,
    running_run_of_studio,
)
from tests.lifecycle_helpers import StateStore, context

STUDIO = "ri.models.main.model-studio.s"
LOG = logging.getLogger("ownership")


def run_json(run_id: str, status: str, started: str | None) -> dict[str, Any]:
    run = {"runId": run_id, "buildRid": f"ri.foundry.main.build.{run_id}", "buildStatus": status}
    if started is not None:
        run["startedTime"] = started
    return run


class Studio:
    """A hook that lists a studio's runs, and cancels builds (or refuses to)."""

    def __init__(self, *runs: dict[str, Any], refuse_cancel: Exception | None = None) -> None:
        self.runs = list(runs)
        self.refuse_cancel = refuse_cancel
        self.cancelled: list[str] = []

    def list_model_studio_runs(self, studio_rid: str) -> list[Run]:
        assert studio_rid == STUDIO
        return read_runs(self.runs, what="the fake's runs")

    def cancel_build(self, build_rid: str) -> None:
        if self.refuse_cancel is not None:
            raise self.refuse_cancel
        self.cancelled.append(build_rid)


def test_a_context_that_is_not_a_mapping_has_no_task_state_store() -> None:
    assert can_reattach(object(), reattach_to_running_run=False) is False


def test_the_launched_run_is_remembered_in_the_task_state_store() -> None:
    store = StateStore()
    run = read_run(run_json("r1", "RUNNING", None), what="a test")
    assert remember_run(context(store), run) is True
    assert store.data[STATE_KEY] == dict(run)


def test_without_a_task_state_store_nothing_is_remembered() -> None:
    run = read_run(run_json("r1", "RUNNING", None), what="a test")
    assert remember_run(context(), run) is False


def test_the_newest_running_run_of_the_studio_is_found() -> None:
    hook = Studio(
        run_json("older", "RUNNING", "2026-01-01T10:00:00Z"),
        run_json("newest", "RUNNING", "2026-01-01T12:00:00Z"),
        run_json("middle", "RUNNING", "2026-01-01T11:00:00Z"),
    )
    found = running_run_of_studio(hook, STUDIO)  # type: ignore[arg-type]
    assert found is not None
    assert found["run_id"] == "newest"


def test_finished_runs_are_not_reattached_to_however_new() -> None:
    hook = Studio(
        run_json("running", "RUNNING", "2026-01-01T10:00:00Z"),
        run_json("done", "SUCCEEDED", "2026-01-01T12:00:00Z"),
        run_json("failed", "FAILED", "2026-01-01T13:00:00Z"),
    )
    found = running_run_of_studio(hook, STUDIO)  # type: ignore[arg-type]
    assert found is not None
    assert found["run_id"] == "running"


def test_a_running_run_without_a_start_time_counts_as_the_oldest() -> None:
    hook = Studio(
        run_json("dated", "RUNNING", "2026-01-01T10:00:00Z"),
        run_json("undated", "RUNNING", None),
    )
    found = running_run_of_studio(hook, STUDIO)  # type: ignore[arg-type]
    assert found is not None
    assert found["run_id"] == "dated"


def test_a_studio_without_a_running_run_has_none_to_reattach_to() -> None:
    hook = Studio(run_json("done", "SUCCEEDED", "2026-01-01T12:00:00Z"))
    assert running_run_of_studio(hook, STUDIO) is None  # type: ignore[arg-type]


def test_cancelling_a_build_says_why_in_the_log_and_the_task_message(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    hook = Studio()
    said = cancel_build(hook, "ri.foundry.main.build.b", why="the wait timed out", log=LOG)  # type: ignore[arg-type]
    assert said == "cancelled by this task because the wait timed out"
    assert hook.cancelled == ["ri.foundry.main.build.b"]
    assert [r.getMessage() for r in caplog.records] == [
        "Asked Foundry to cancel build ri.foundry.main.build.b: the wait timed out."
    ]


def test_a_refused_cancel_says_the_build_still_runs_and_how_to_stop_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    refused = CancelBuildPermissionDenied(method="POST", path="/cancel", status_code=403)
    hook = Studio(refuse_cancel=refused)
    said = cancel_build(hook, "ri.foundry.main.build.b", why="the wait timed out", log=LOG)  # type: ignore[arg-type]
    assert said == f"NOT cancelled and still running ({refused}); cancel it in Foundry"
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == f"Cancelling build ri.foundry.main.build.b (the wait timed out) failed: {refused}"
