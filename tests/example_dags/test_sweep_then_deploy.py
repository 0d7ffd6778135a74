"""example_dags/sweep_then_deploy.py end to end against the emulator with ``dag.test()``: three configurations
train as three runs of the config versions asked for, the gate ranks them, and only the best is deployed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import DEMO_CHAMPION_VERSION, DEMO_PROD_MODEL, DEMO_STUDIO, FoundryEmulator
from airflow_provider_modelstudio.emulator.pytest_plugin import FAST_TIME_SCALE
from tests.deploy_helpers import promoted_from, served
from tests.example_dags.conftest import task_states, xcom

# What the DAG file asks for, in its order. With the emulator's formula (emulator/metrics.py) the studio's
# val_auc 0.91 becomes 0.896303 (a learning rate away from 0.1), 0.92638 (deeper trees, twice as many) and
# 0.910863 (deeper trees, a learning rate away from 0.1): the second is the best.
CONFIGURATIONS = [
    {"learning_rate": 0.05, "max_depth": 6, "n_estimators": 200},
    {"learning_rate": 0.1, "max_depth": 8, "n_estimators": 400},
    {"learning_rate": 0.2, "max_depth": 10, "n_estimators": 200},
]
BEST = 1


@pytest.fixture(scope="module")
def sweep(example_dags: dict[str, Any], airflow_db: None) -> Iterator[tuple[Any, FoundryEmulator]]:
    """The DAG run, once for this module (it takes a while), and the emulator it ran against, which stays the
    connection ``foundry_default`` until the module's tests are done."""
    with FoundryEmulator(time_scale=FAST_TIME_SCALE) as emulator, pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", emulator.connection_env())
        yield example_dags["sweep_then_deploy"].test(), emulator


@pytest.fixture
def swept(sweep: tuple[Any, FoundryEmulator]) -> Any:
    return sweep[0]


@pytest.fixture
def foundry_connection(sweep: tuple[Any, FoundryEmulator]) -> FoundryEmulator:
    return sweep[1]


def test_every_task_succeeds(swept: Any) -> None:
    assert task_states(swept) == {
        "train[0]": "success",
        "train[1]": "success",
        "train[2]": "success",
        "gate": "success",
        "deploy": "success",
    }
    assert swept.state == "success"


def test_three_runs_train_the_config_versions_that_were_asked_for(swept: Any, foundry_connection: Any) -> None:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    runs = {run["runId"]: run for run in foundry_connection.runs(DEMO_STUDIO)}
    assert len(runs) == 3
    launched = [xcom(swept, "train", map_index=i) for i in range(3)]
    assert sorted(result["config_version"] for result in launched) == [2, 3, 4]
    hook = ModelStudioHook()
    for asked, result in zip(CONFIGURATIONS, launched, strict=True):
        assert runs[result["run_id"]]["configVersion"] == result["config_version"]
        assert hook.get_config_version(DEMO_STUDIO, result["config_version"]).custom_config == asked


def test_the_gate_ranks_the_runs_and_passes_the_best(swept: Any) -> None:
    launched = [xcom(swept, "train", map_index=i) for i in range(3)]
    ranking = xcom(swept, "gate", key="ranking")
    assert [(row["model_version_rid"], row["rank"]) for row in ranking] == [
        (launched[0]["model_version_rid"], 3),
        (launched[1]["model_version_rid"], 1),
        (launched[2]["model_version_rid"], 2),
    ]
    assert [row["metrics"]["val_auc:LAST"] for row in ranking] == [0.896303, 0.92638, 0.910863]
    gate = xcom(swept, "gate")
    assert (gate["passed"], gate["model_version_rid"], gate["config_version"]) == (
        True,
        launched[BEST]["model_version_rid"],
        launched[BEST]["config_version"],
    )
    assert gate["champion"]["model_version_rid"] == DEMO_CHAMPION_VERSION
    assert [row["verdict"] for row in gate["rows"]] == ["PASS"] * 4


def test_only_the_best_is_deployed_and_served(swept: Any, foundry_connection: Any) -> None:
    launched = [xcom(swept, "train", map_index=i) for i in range(3)]
    production = foundry_connection.model_versions(DEMO_PROD_MODEL)
    copies = [[v for v in production if promoted_from(v, r["model_version_rid"])] for r in launched]
    assert [len(found) for found in copies] == [0, 1, 0]
    (copy,) = copies[BEST]
    deployed = xcom(swept, "deploy")
    assert deployed["candidate_version_rid"] == launched[BEST]["model_version_rid"]
    assert deployed["served_version_rid"] == copy["rid"]
    assert served(foundry_connection) == (copy["rid"], "ACTIVE", True)
