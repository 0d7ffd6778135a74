"""LaunchModelStudioOperator with a configuration: it creates the studio's next configuration version from the
latest with the task's parameters, launches it, and proves the run used it; bad parameters are refused before
anything is created."""

from __future__ import annotations

import time
from dataclasses import asdict

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.deploys.deploy_lock import Holder
from airflow_provider_modelstudio.emulator.catalog import CUSTOM_CONFIG
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.runs.configuration import LAUNCH_LOCK_PREFIX, LOCK_CHECK_SECONDS
from tests.hooks.test_hook_async_twins import new_config_version_body
from tests.lifecycle_helpers import DEMO, context
from tests.operators.test_launch_operator import operator

DATASET = "ri.foundry.main.dataset.fresh-data"


def test_a_launch_with_parameters_trains_a_new_version_holding_them(foundry_connection, memory_deploy_locks):
    op = operator(
        custom_config={"learning_rate": 0.05},
        training_resources={"memory": "16G"},
        input_datasets={"training_data": DATASET},
        config_name="lr 0.05",
        changelog="a smaller learning rate",
    )
    result = op.execute(context())
    assert result["config_version"] == 2
    (run,) = foundry_connection.runs(DEMO)
    assert run["configVersion"] == 2
    made = ModelStudioHook().get_config_version(DEMO, 2)
    assert (made.name, made.changelog) == ("lr 0.05", "a smaller learning rate")
    assert made.custom_config == {**CUSTOM_CONFIG, "learning_rate": 0.05}
    assert made.datasets == (DATASET,)
    assert made.resources == {"memory": "16G", "cpu": "2"}
    assert memory_deploy_locks.variables == {}


def test_without_parameters_the_latest_configuration_is_launched_and_none_created(foundry_connection):
    assert operator().execute(context())["config_version"] == 1
    assert [v.version for v in ModelStudioHook().list_config_versions(DEMO)] == [1]


def test_a_custom_configuration_outside_the_trainers_schema_is_refused_before_anything_is_created(
    foundry_connection, memory_deploy_locks
):
    op = operator(custom_config={"learning_rate": "fast", "max_depth": 0})
    with pytest.raises(AirflowFailException) as info:
        op.execute(context())
    message = str(info.value)
    assert "custom_config['learning_rate']: 'fast' is not of type 'number'" in message
    assert "custom_config['max_depth']: 0 is less than the minimum of 1" in message
    assert "nothing was created" in message
    assert [v.version for v in ModelStudioHook().list_config_versions(DEMO)] == [1]
    assert foundry_connection.runs(DEMO) == []


def test_an_unknown_input_alias_is_refused_naming_the_aliases_there_are(foundry_connection, memory_deploy_locks):
    with pytest.raises(AirflowFailException, match="its dataset inputs are: training_data"):
        operator(input_datasets={"labels": DATASET}).execute(context())
    assert foundry_connection.runs(DEMO) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"custom_config": ["learning_rate", 0.1]}, "custom_config=['learning_rate', 0.1] must be a dict"),
        ({"training_resources": {"": "16G"}}, "training_resources={'': '16G'} must be a dict with string keys"),
        ({"input_datasets": {"training_data": "x"}}, "input_datasets['training_data']='x' is not a dataset RID"),
        ({"config_name": " "}, "config_name=' ' must be a non-empty string or None"),
        ({"changelog": 3}, "config_changelog=3 must be a non-empty string or None"),
    ],
)
def test_arguments_that_cannot_be_right_are_refused_when_the_dag_is_parsed(arguments, message):
    with pytest.raises(FoundryConfigError) as info:
        operator(**arguments)
    assert message in str(info.value)


def test_templated_arguments_are_checked_once_rendered():
    op = operator(input_datasets={"training_data": "{{ params.dataset }}"}, custom_config="{{ params.config }}")
    assert op.custom_config == "{{ params.config }}"


def test_a_run_of_another_launchers_configuration_is_cancelled_and_both_versions_named(
    foundry_connection, memory_deploy_locks, monkeypatch
):
    real = ModelStudioHook.launch_model_studio

    def another_launcher_first(hook, studio):
        hook.create_config_version(studio, new_config_version_body(hook, max_depth=9))
        return real(hook, studio)

    monkeypatch.setattr(ModelStudioHook, "launch_model_studio", another_launcher_first)
    with pytest.raises(AirflowFailException) as info:
        operator(custom_config={"max_depth": 3}).execute(context())
    (run,) = foundry_connection.runs(DEMO)
    assert f"Foundry launched run {run['runId']} of {DEMO} with configuration version 3, not version 2" in str(
        info.value
    )
    assert "was cancelled by this task because it used configuration version 3, not 2" in str(info.value)
    assert foundry_connection.counters()["cancels"] == {run["buildRid"]: 1}


def test_a_launch_waits_for_another_task_launching_the_same_studio(
    foundry_connection, memory_deploy_locks, monkeypatch
):
    other = Holder("dag", "other-run", "launch", -1, 1)
    key = LAUNCH_LOCK_PREFIX + DEMO
    memory_deploy_locks.variables[key] = asdict(other)
    memory_deploy_locks.states[("dag", "other-run", "launch", -1)] = "running"
    slept = []
    real_sleep = time.sleep

    def other_finishes(seconds):
        if seconds != LOCK_CHECK_SECONDS:
            return real_sleep(seconds)
        slept.append(seconds)
        if len(slept) == 2:
            memory_deploy_locks.variables.pop(key)
        return None

    monkeypatch.setattr("airflow_provider_modelstudio.runs.configuration.time.sleep", other_finishes)
    assert operator(custom_config={"max_depth": 3}).execute(context())["config_version"] == 2
    assert slept == [LOCK_CHECK_SECONDS, LOCK_CHECK_SECONDS]
    assert key not in memory_deploy_locks.variables


def test_a_launch_lock_held_too_long_fails_the_task_naming_the_holder(
    foundry_connection, memory_deploy_locks, monkeypatch
):
    key = LAUNCH_LOCK_PREFIX + DEMO
    memory_deploy_locks.variables[key] = asdict(Holder("dag", "other-run", "launch", -1, 1))
    memory_deploy_locks.states[("dag", "other-run", "launch", -1)] = "running"
    monkeypatch.setattr("airflow_provider_modelstudio.runs.configuration.time.sleep", lambda seconds: None)
    with pytest.raises(AirflowFailException) as info:
        operator(custom_config={"max_depth": 3}).execute(context())
    assert "task launch of DAG dag, run other-run (try 1) is creating a configuration version" in str(info.value)
    assert f"delete the Airflow Variable {key!r}" in str(info.value)
    assert [v.version for v in ModelStudioHook().list_config_versions(DEMO)] == [1]
