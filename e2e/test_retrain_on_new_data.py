"""Retraining on new data in a real deployment: the example ``retrain_on_new_data`` (linked into ``e2e/dags``)
runs once per commit to the demo studio's training dataset, started by its dataset watcher in the triggerer.

One commit starts one run that trains, gates and deploys; a commit made while the triggerer is SIGKILLed starts
exactly one run once a new triggerer took the watcher over (the last commit announced is in a Variable); an
OPEN transaction and an ABORTED one start none. The DAG is paused again and the emulator reset at the end, so
later tests find the demo deployment as seeded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from airflow_deployment import AirflowDeployment, wait_until

from airflow_provider_modelstudio.emulator import DEMO_STUDIO, FoundryEmulator
from airflow_provider_modelstudio.emulator.catalog import training_dataset_rid
from e2e.support import FINAL_RUN_STATES, WAIT_SECONDS, wait_for_run_end

DAG_ID = "retrain_on_new_data"
DATASET = training_dataset_rid(DEMO_STUDIO)
WATERMARKS = "modelstudio_dataset_watermark."


@dataclass(frozen=True)
class Retrained:
    """What the commits left behind.

    :param commits: the two committed transactions, in order.
    :param runs: every run of the DAG, oldest first, once they ended.
    :param commits_of_runs: per run, the transactions its triggering asset events name.
    :param watermark: the watcher's Variable at the end.
    :param aborted: the transaction opened and aborted.
    :param launches: launches of the demo studio the emulator counted while the DAG was on.
    """

    commits: list[str]
    runs: list[dict[str, Any]]
    commits_of_runs: list[list[str]]
    watermark: dict[str, Any]
    aborted: str
    launches: int


def dag_runs(airflow: AirflowDeployment) -> list[dict[str, Any]]:
    answer = airflow.api.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", query={"order_by": "id", "limit": 100})
    runs: list[dict[str, Any]] = answer["dag_runs"]
    return runs


def watermarks(airflow: AirflowDeployment) -> list[dict[str, Any]]:
    answer = airflow.api.request("GET", "/api/v2/variables", query={"variable_key_pattern": f"{WATERMARKS}%"})
    return [v for v in answer["variables"] if v["key"].startswith(WATERMARKS + DATASET)]


def branch_reads(emulator: FoundryEmulator) -> int:
    return sum(emulator.counters()["requests"].get("get_dataset_branch", {}).values())


def wait_for_reads(emulator: FoundryEmulator, more: int) -> None:
    target = branch_reads(emulator) + more
    wait_until(f"{more} more checks of the dataset's branch", lambda: branch_reads(emulator) >= target or None, 60)


def wait_for_run(airflow: AirflowDeployment, count: int) -> dict[str, Any]:
    """Wait until the DAG has ``count`` runs and the newest ended; return it."""

    def probe() -> dict[str, Any] | None:
        runs = dag_runs(airflow)
        return runs[-1] if len(runs) >= count and runs[-1]["state"] in FINAL_RUN_STATES else None

    newest = wait_until(f"run {count} of {DAG_ID} to start from a commit and end", probe, WAIT_SECONDS)
    return wait_for_run_end(airflow, DAG_ID, newest["dag_run_id"])


def triggering_commits(airflow: AirflowDeployment, run_id: str) -> list[str]:
    answer = airflow.api.request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/upstreamAssetEvents")
    return [event["extra"]["payload"]["transaction_rid"] for event in answer["asset_events"]]


@pytest.fixture(scope="module")
def retrained(airflow: AirflowDeployment, emulator: FoundryEmulator) -> Iterator[Retrained]:
    airflow.wait_for_dags([DAG_ID])
    assert dag_runs(airflow) == [] and airflow.api.dag(DAG_ID)["is_paused"], "the example must start paused"
    launched_before = emulator.counters()["launches"].get(DEMO_STUDIO, 0)  # earlier tests train this studio too
    airflow.api.set_paused(DAG_ID, False)
    try:
        wait_until("the watcher to start from the branch as it is", lambda: watermarks(airflow) or None, WAIT_SECONDS)
        commits = [emulator.commit(DATASET)]
        wait_for_run(airflow, 1)

        airflow.kill("triggerer")
        commits.append(emulator.commit(DATASET))
        airflow.restart("triggerer")
        wait_for_run(airflow, 2)

        aborted = emulator.open_transaction(DATASET)
        wait_for_reads(emulator, 3)
        emulator.abort_transaction(DATASET, aborted)
        wait_for_reads(emulator, 3)
        runs = dag_runs(airflow)
        (watermark,) = watermarks(airflow)
        yield Retrained(
            commits=commits,
            runs=runs,
            commits_of_runs=[triggering_commits(airflow, run["dag_run_id"]) for run in runs],
            watermark=watermark,
            aborted=aborted,
            launches=emulator.counters()["launches"].get(DEMO_STUDIO, 0) - launched_before,
        )
    finally:
        airflow.api.set_paused(DAG_ID, True)
        emulator.reset()


def test_each_commit_starts_exactly_one_run_that_trains_gates_and_deploys(retrained: Retrained) -> None:
    assert [run["run_type"] for run in retrained.runs] == ["asset_triggered"] * 2
    assert [run["state"] for run in retrained.runs] == ["success"] * 2
    assert retrained.commits_of_runs == [[commit] for commit in retrained.commits]
    assert retrained.launches == 2


def test_the_commit_made_while_the_triggerer_was_dead_was_announced_once_after_the_restart(
    retrained: Retrained,
) -> None:
    assert retrained.commits_of_runs[1] == [retrained.commits[1]]
    assert f'"transaction_rid": "{retrained.commits[1]}"' in retrained.watermark["value"]


def test_open_and_aborted_transactions_start_nothing(retrained: Retrained) -> None:
    assert len(retrained.runs) == 2
    assert all(retrained.aborted not in commits for commits in retrained.commits_of_runs)
