"""The example DAGs: they import cleanly, have the documented tasks, and run end to end against the
emulator with ``dag.test()`` (deferred waits run their trigger inline); the README shows two of them
verbatim."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.emulator import (
    DEMO_BREAKS_STUDIO,
    DEMO_CHAMPION_METRICS,
    DEMO_CHAMPION_VERSION,
    DEMO_PROD_MODEL,
    DEMO_WORSE_STUDIO,
)
from tests.deploy_helpers import promoted_from, served
from tests.example_dags.conftest import EXAMPLE_DAGS, dag_bag, task_states, xcom
from tests.lifecycle_helpers import context

DEMO = "ri.models.main.model-studio.demo"
DEMO_FAILS = "ri.models.main.model-studio.demo-fails"
MANY_STUDIOS = [
    "ri.models.main.model-studio.churn",
    "ri.models.main.model-studio.fraud",
    "ri.models.main.model-studio.demand",
]
README = Path(__file__).resolve().parents[2] / "README.md"

EXPECTED_TASKS = {
    "retrain_on_new_data": {"new_data", "train", "gate", "deploy"},
    "modelstudio_quickstart": {"train", "use_new_version"},
    "retrain_then_deploy": {"train", "gate", "deploy"},
    "launch_and_sense": {"launch_training", "wait_for_training", "report"},
    "retrain_many": {"retrain", "collect"},
    "deploy_on_new_model_version": {"version_in_the_event", "deploy"},
    "sweep_then_deploy": {"train", "gate", "deploy"},
}
# Scheduled on a model's asset (a producer's event starts it); every other example is triggered by hand.
ASSET_SCHEDULED = {"deploy_on_new_model_version", "retrain_on_new_data"}


def only_run(emu: Any, studio: str) -> dict[str, Any]:
    (run,) = emu.runs(studio)
    return run


def new_version(run: dict[str, Any]) -> str:
    return run["resolvedOutputs"]["model"]["modelVersionRid"]


def copies_of(emu: Any, version_rid: str) -> list[dict[str, Any]]:
    """The production model's versions promoted from ``version_rid``."""
    return [v for v in emu.model_versions(DEMO_PROD_MODEL) if promoted_from(v, version_rid)]


def verdicts(dag_run: Any) -> list[str]:
    """The verdicts of the gate's table, as the gate pushed it to XCom."""
    return [row["verdict"] for row in xcom(dag_run, "gate", key="gate")]


# Integrity ---------------------------------------------------------------------------------------------


def test_every_example_dag_imports_with_its_tasks(example_dags: dict[str, Any]) -> None:
    assert {dag_id: {t.task_id for t in dag.tasks} for dag_id, dag in example_dags.items()} == EXPECTED_TASKS
    for dag in example_dags.values():
        assert dag.schedule is None or dag.dag_id in ASSET_SCHEDULED
        assert dag.catchup is False


def test_each_example_file_holds_one_dag(example_dags: dict[str, Any]) -> None:
    files = sorted(EXAMPLE_DAGS.glob("*.py"))
    assert len(files) == len(EXPECTED_TASKS)
    for path in files:
        bag = dag_bag(path)
        assert not bag.import_errors, bag.import_errors
        assert len(bag.dags) == 1, path.name


def test_parsing_the_examples_again_sends_foundry_nothing(example_dags: dict[str, Any], _session_emulator: Any) -> None:
    """Airflow parses DAG files every few seconds: what a file reads from Foundry when parsed (a studio's
    training datasets) is read once, then kept. How long a parse takes is measured by ``make bench``."""
    before = _session_emulator.counters()["requests"]
    for _ in range(2):
        assert set(dag_bag().dag_ids) == set(EXPECTED_TASKS)
    assert _session_emulator.counters()["requests"] == before


def test_the_readme_shows_the_quickstart_dag_verbatim() -> None:
    source = (EXAMPLE_DAGS / "quickstart.py").read_text(encoding="utf-8")
    assert f"```python\n{source}```" in README.read_text(encoding="utf-8")


def test_the_readme_shows_the_retrain_then_deploy_dag_verbatim() -> None:
    source = (EXAMPLE_DAGS / "retrain_then_deploy.py").read_text(encoding="utf-8")
    assert f"```python\n{source}```" in README.read_text(encoding="utf-8")


# End to end against the emulator ------------------------------------------------------------------------


@pytest.mark.usefixtures("airflow_db")
def test_retrain_then_deploy_trains_gates_and_serves_the_new_model_version(
    example_dags: dict[str, Any], foundry_connection: Any
) -> None:
    run = example_dags["retrain_then_deploy"].test()
    assert task_states(run) == {"train": "success", "gate": "success", "deploy": "success"}
    assert run.state == "success"
    emulated = only_run(foundry_connection, DEMO)
    launched = xcom(run, "train")
    assert launched["build_status"] == "SUCCEEDED"
    assert launched["run_id"] == emulated["runId"]
    assert launched["model_studio_rid"] == DEMO
    assert launched["model_version_rid"] == new_version(emulated)
    assert xcom(run, "train", key="model_version_rid") == new_version(emulated)
    gate = xcom(run, "gate")
    assert (gate["passed"], gate["model_version_rid"]) == (True, new_version(emulated))
    assert gate["champion"]["model_version_rid"] == DEMO_CHAMPION_VERSION
    assert verdicts(run) == ["PASS"] * 4
    deployed = xcom(run, "deploy")
    (copy,) = copies_of(foundry_connection, new_version(emulated))
    assert deployed["candidate_version_rid"] == new_version(emulated)
    assert deployed["promoted_version_rid"] == deployed["served_version_rid"] == copy["rid"]
    assert (deployed["previous_version_rid"], deployed["rolled_back"]) == (DEMO_CHAMPION_VERSION, False)
    assert 0 <= deployed["smoke_test_output"]["prediction"] < 1
    assert served(foundry_connection) == (copy["rid"], "ACTIVE", True)


@pytest.mark.usefixtures("airflow_db")
def test_a_candidate_worse_than_the_champion_is_stopped_at_the_gate_and_nothing_is_deployed(
    example_dags: dict[str, Any], foundry_connection: Any
) -> None:
    run = example_dags["retrain_then_deploy"].test(run_conf={"model_studio_rid": DEMO_WORSE_STUDIO})
    assert task_states(run) == {"train": "success", "gate": "failed", "deploy": "upstream_failed"}
    assert run.state == "failed"
    rows = xcom(run, "gate", key="gate")
    assert [(row["metric"], row["check"], row["verdict"]) for row in rows] == [
        ("val_auc:LAST", "threshold", "FAIL"),
        ("val_loss:LAST", "threshold", "FAIL"),
        ("val_auc:LAST", "champion", "FAIL"),
        ("val_loss:LAST", "champion", "FAIL"),
    ]
    champion = [DEMO_CHAMPION_METRICS["val_auc"], DEMO_CHAMPION_METRICS["val_loss"]]
    assert [row["champion"] for row in rows[2:]] == champion
    assert served(foundry_connection) == (DEMO_CHAMPION_VERSION, "ACTIVE", True)
    assert [v["rid"] for v in foundry_connection.model_versions(DEMO_PROD_MODEL)] == [DEMO_CHAMPION_VERSION]


@pytest.mark.usefixtures("airflow_db")
def test_a_version_that_breaks_the_deployment_is_rolled_back_to_the_champion(
    example_dags: dict[str, Any], foundry_connection: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    run = example_dags["retrain_then_deploy"].test(run_conf={"model_studio_rid": DEMO_BREAKS_STUDIO})
    assert task_states(run) == {"train": "success", "gate": "success", "deploy": "failed"}
    assert run.state == "failed"
    candidate = new_version(only_run(foundry_connection, DEMO_BREAKS_STUDIO))
    (rollback_copy,) = copies_of(foundry_connection, DEMO_CHAMPION_VERSION)
    result = xcom(run, "deploy", key="deploy_result")
    assert (result["candidate_version_rid"], result["previous_version_rid"]) == (candidate, DEMO_CHAMPION_VERSION)
    assert (result["served_version_rid"], result["rolled_back"]) == (rollback_copy["rid"], True)
    assert served(foundry_connection) == (rollback_copy["rid"], "ACTIVE", True)
    out, err = capfd.readouterr()
    assert f"Rolled back: it serves {rollback_copy['rid']} (a copy of {DEMO_CHAMPION_VERSION}) again" in out + err


@pytest.mark.usefixtures("airflow_db")
def test_a_failed_training_run_fails_the_launch_task_and_stops_the_pipeline(
    example_dags: dict[str, Any], foundry_connection: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    run = example_dags["retrain_then_deploy"].test(run_conf={"model_studio_rid": DEMO_FAILS})
    assert run.state == "failed"
    assert task_states(run) == {
        "train": "failed",
        "gate": "upstream_failed",
        "deploy": "upstream_failed",
    }
    emulated = only_run(foundry_connection, DEMO_FAILS)
    # The run is in XCom although the task failed, so a person can find it.
    assert xcom(run, "train", key="run_id") == emulated["runId"]
    out, err = capfd.readouterr()
    assert f"{DEMO_FAILS} run {emulated['runId']} (build {emulated['buildRid']}" in out + err
    assert "ended FAILED" in out + err
    assert served(foundry_connection) == (DEMO_CHAMPION_VERSION, "ACTIVE", True)


@pytest.mark.usefixtures("airflow_db")
def test_launch_and_sense_returns_the_new_model_version(example_dags: dict[str, Any], foundry_connection: Any) -> None:
    run = example_dags["launch_and_sense"].test()
    assert run.state == "success", task_states(run)
    emulated = only_run(foundry_connection, DEMO)
    launched = xcom(run, "launch_training")
    assert launched["build_status"] == "RUNNING"  # wait_for_completion=False returns at once
    sensed = xcom(run, "wait_for_training")
    assert sensed["build_status"] == "SUCCEEDED"
    assert sensed["run_id"] == launched["run_id"] == emulated["runId"]
    assert xcom(run, "report") == new_version(emulated)


@pytest.mark.usefixtures("airflow_db")
def test_retrain_many_collects_one_new_version_per_studio(
    example_dags: dict[str, Any], foundry_connection: Any
) -> None:
    for studio in MANY_STUDIOS:  # the placeholders of retrain_many.py, as studios of the emulator
        foundry_connection.add_studio(studio)
    run = example_dags["retrain_many"].test()
    assert run.state == "success", task_states(run)
    assert task_states(run) == {
        "retrain[0]": "success",
        "retrain[1]": "success",
        "retrain[2]": "success",
        "collect": "success",
    }
    expected = {studio: new_version(only_run(foundry_connection, studio)) for studio in MANY_STUDIOS}
    assert xcom(run, "collect") == expected
    assert len(set(expected.values())) == 3


@pytest.mark.usefixtures("airflow_db")
def test_the_quickstart_runs(example_dags: dict[str, Any], foundry_connection: Any) -> None:
    dag = example_dags["modelstudio_quickstart"]
    dag.get_task("train").poll_interval = 0.1  # the file keeps the default of 30 s
    run = dag.test()
    assert run.state == "success", task_states(run)
    assert xcom(run, "use_new_version") == new_version(only_run(foundry_connection, DEMO))


def test_the_gate_refuses_a_training_result_with_several_model_outputs(
    example_dags: dict[str, Any], foundry_connection: Any
) -> None:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
    from airflow_provider_modelstudio.runs.result import build_result

    run = ModelStudioHook().launch_model_studio(DEMO)
    result = build_result(run, build_status="SUCCEEDED", build_url="", model_studio_rid=DEMO)
    two_outputs = {"a": result["model_outputs"]["model"], "b": result["model_outputs"]["model"]}
    gate = copy.copy(example_dags["retrain_then_deploy"].get_task("gate"))
    gate.candidate = {**result, "model_outputs": two_outputs, "model_version_rid": {"a": "x", "b": "y"}}
    with pytest.raises(AirflowFailException, match=r"candidate is a run with several model outputs \(a, b\)"):
        gate.execute(context())


# The README's other code -------------------------------------------------------------------------------


def readme_connection_values() -> list[str]:
    values = re.findall(r"^export AIRFLOW_CONN_FOUNDRY_DEFAULT='(.+)'$", README.read_text(encoding="utf-8"), re.M)
    assert len(values) == 10, values
    return values


def test_the_readme_connections_for_the_emulator_connect(
    foundry_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    local = [value for value in readme_connection_values() if "127.0.0.1:" in value]
    assert len(local) == 6  # three with PORT; the emulator's printed two and the five-minute run's one, with 8765
    for value in local:
        port = str(foundry_emulator.port)
        monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", value.replace("PORT", port).replace("8765", port))
        ok, message = ModelStudioHook().test_connection()
        assert ok, (value, message)
        assert message.startswith(f"Connected to {foundry_emulator.url} with ")


def test_the_readme_connections_for_foundry_read_as_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    remote = [value for value in readme_connection_values() if "example.palantirfoundry.com" in value]
    assert len(remote) == 4
    for value in remote:
        filled = value.replace("<token>", "tok").replace("<client id>", "cid").replace("<client secret>", "sec")
        monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", filled)
        settings = ModelStudioHook().settings
        assert settings.base_url == "https://example.palantirfoundry.com"
        assert settings.secret == ("tok" if "<token>" in value else "sec")
        assert settings.auth_type == ("token" if "<token>" in value else "oauth2")
        assert settings.client_id == (None if "<token>" in value else "cid")
        assert settings.timeout == (60.0 if "timeout" in value else 30.0)


def test_the_readme_pytest_example_passes(foundry_connection: Any) -> None:
    blocks = re.findall(r"```python\n(pytest_plugins = .+?)```", README.read_text(encoding="utf-8"), re.S)
    (snippet,) = [block for block in blocks if "def test_launch(" in block]  # the other one is a conftest
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    namespace["test_launch"](foundry_connection)
