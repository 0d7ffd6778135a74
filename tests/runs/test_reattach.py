"""Which run a retried task reattaches to: the one its earlier try stored (in Foundry's form or the task's), with
its current build status; the studio's running run only where Airflow has no task state store and the user
asked for it; nothing when the earlier run failed."""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.foundry.shapes import Build, Run, read_run, read_runs
from airflow_provider_modelstudio.runs.ownership import STATE_KEY, earlier_run, remembered_run
from tests.lifecycle_helpers import StateStore, context

STUDIO = "ri.models.main.model-studio.s"
STORED = {"runId": "r1", "buildRid": "ri.foundry.main.build.b1", "buildStatus": "RUNNING"}


class Foundry:
    """A hook with one build status for every build, and the studio's runs (listing them is recorded)."""

    def __init__(self, status: str, runs: list[dict[str, Any]] | None = None) -> None:
        self.status = status
        self.runs = runs or []
        self.listed = 0

    def get_build(self, build_rid: str) -> Build:
        return Build(build_rid, self.status)

    def list_model_studio_runs(self, studio_rid: str) -> list[Run]:
        self.listed += 1
        return read_runs(self.runs, what="the fake's runs")


def stored(value: Any) -> dict[str, Any]:
    store = StateStore()
    store.set(STATE_KEY, value)
    return context(store)


def test_a_run_stored_in_foundrys_form_is_read_back() -> None:
    run = remembered_run(stored(STORED))
    assert run is not None
    assert (run["run_id"], run["build_rid"]) == ("r1", "ri.foundry.main.build.b1")


def test_a_run_stored_in_the_tasks_form_is_read_back() -> None:
    assert remembered_run(stored(dict(read_run(STORED, what="a test")))) == read_run(STORED, what="a test")


def test_a_stored_value_without_a_usable_build_is_no_run() -> None:
    assert remembered_run(stored({"buildRid": 7})) is None
    assert remembered_run(stored("r1")) is None


def test_a_retry_reattaches_to_its_stored_run_with_the_builds_current_status() -> None:
    hook = Foundry("SUCCEEDED")
    run = earlier_run(stored(STORED), hook, STUDIO, reattach_to_running_run=True)  # type: ignore[arg-type]
    assert run is not None
    assert (run["run_id"], run["build_status"]) == ("r1", "SUCCEEDED")
    assert hook.listed == 0


def test_a_retry_launches_afresh_when_its_stored_run_failed() -> None:
    hook = Foundry("FAILED")
    assert earlier_run(stored(STORED), hook, STUDIO, reattach_to_running_run=True) is None  # type: ignore[arg-type]


def test_with_a_task_state_store_the_studios_running_run_is_never_adopted() -> None:
    hook = Foundry("RUNNING", runs=[STORED])
    assert earlier_run(context(StateStore()), hook, STUDIO, reattach_to_running_run=True) is None  # type: ignore[arg-type]
    assert hook.listed == 0


def test_without_a_task_state_store_the_studios_running_run_is_adopted_only_when_asked() -> None:
    hook = Foundry("RUNNING", runs=[STORED])
    assert earlier_run(context(), hook, STUDIO, reattach_to_running_run=False) is None  # type: ignore[arg-type]
    assert hook.listed == 0
    run = earlier_run(context(), hook, STUDIO, reattach_to_running_run=True)  # type: ignore[arg-type]
    assert run is not None
    assert run["run_id"] == "r1"
