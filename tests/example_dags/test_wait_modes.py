"""The whole DAG path through ``dag.test()`` for the ways of waiting the example DAGs do not use."""

from __future__ import annotations

from typing import Any

import pytest

from tests.example_dags.conftest import task_states, xcom

DEMO = "ri.models.main.model-studio.demo"


@pytest.mark.usefixtures("airflow_db")
def test_waiting_in_the_worker_hands_the_new_version_downstream(
    wait_mode_dags: dict[str, Any], foundry_connection: Any
) -> None:
    run = wait_mode_dags["wait_in_worker"].test()
    assert run.state == "success", task_states(run)
    (emulated,) = foundry_connection.runs(DEMO)
    assert xcom(run, "handed_on") == emulated["resolvedOutputs"]["model"]["modelVersionRid"]


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
@pytest.mark.usefixtures("airflow_db")
def test_the_sensor_returns_the_operators_result_shape(
    wait_mode_dags: dict[str, Any], foundry_connection: Any, mode: str
) -> None:
    run = wait_mode_dags[f"sense_by_{mode}"].test()
    assert run.state == "success", task_states(run)
    (emulated,) = foundry_connection.runs(DEMO)
    sensed = xcom(run, "wait")
    launched = xcom(run, "launch")
    assert set(sensed) == set(launched)
    assert sensed["build_status"] == "SUCCEEDED"
    assert sensed["run_id"] == launched["run_id"] == emulated["runId"]
    assert sensed["model_version_rid"] == emulated["resolvedOutputs"]["model"]["modelVersionRid"]
