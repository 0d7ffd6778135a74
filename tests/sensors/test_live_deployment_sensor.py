"""LiveDeploymentSensor against the emulator: poke, deferrable, failure."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.emulator.pytest_plugin import FAST_TIME_SCALE
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.sensors.live_deployment import LiveDeploymentSensor
from tests.deploy_helpers import DEMO_BREAKS_STUDIO, DEMO_DEPLOYMENT, DEMO_PROD_MODEL, trained_candidate
from tests.lifecycle_helpers import FAST, TaskDeferred, context, run_trigger

ROLLOUT_SECONDS = 3600.0


@pytest.fixture
def foundry_emulator():
    """The plugin's emulator, with the demo deployment taking an hour of emulator time to serve a new version:
    a test sees the rollout unfinished however slow the machine is, until it advances the clock."""
    rollout = {DEMO_DEPLOYMENT: {"model": DEMO_PROD_MODEL, "ready_seconds": ROLLOUT_SECONDS}}
    with FoundryEmulator({"live_deployments": rollout}, time_scale=FAST_TIME_SCALE) as emulator:
        yield emulator


def promoted(emulator, studio=None):
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    candidate = trained_candidate(emulator) if studio is None else trained_candidate(emulator, studio)
    rid: str = ModelStudioHook().promote_model_version(DEMO_PROD_MODEL, candidate).rid
    return rid


def sensor(version, **kwargs):
    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("deferrable", False)
    return LiveDeploymentSensor(
        task_id="serving", live_deployment_rid=DEMO_DEPLOYMENT, model_version_rid=version, **kwargs
    )


def test_a_starting_deployment_is_not_done_then_serving_ready_is(foundry_connection):
    version = promoted(foundry_connection)
    s = sensor(version)
    assert s.poke(context()).is_done is False
    foundry_connection.advance(ROLLOUT_SECONDS)
    done = s.poke(context())
    assert done.is_done is True
    assert done.xcom_value == {
        "live_deployment_rid": DEMO_DEPLOYMENT,
        "model_rid": DEMO_PROD_MODEL,
        "model_version_rid": version,
        "state": "ACTIVE",
        "is_ready": True,
    }


def test_a_failed_deployment_fails_the_sensor_without_retries(foundry_connection):
    version = promoted(foundry_connection, DEMO_BREAKS_STUDIO)
    foundry_connection.advance(ROLLOUT_SECONDS)
    with pytest.raises(AirflowFailException, match="FAILED"):
        sensor(version).execute(context())


def test_deferrable_sensor_resumes_with_the_same_value_as_poking(foundry_connection):
    version = promoted(foundry_connection)
    s = sensor(version, deferrable=True)
    ctx = context()
    with pytest.raises(TaskDeferred) as deferred:
        s.execute(ctx)
    foundry_connection.advance(ROLLOUT_SECONDS)
    value = s.execute_complete(ctx, run_trigger(deferred.value.trigger))
    assert value["model_version_rid"] == version
    assert value["state"] == "ACTIVE"


def test_degraded_counts_as_ready_only_when_asked(foundry_connection):
    version = promoted(foundry_connection)
    foundry_connection.advance(ROLLOUT_SECONDS)
    foundry_connection.set_live_deployment_status(DEMO_DEPLOYMENT, "DEGRADED", True)
    assert sensor(version).poke(context()).is_done is False
    assert sensor(version, accept_degraded=True).poke(context()).is_done is True


def test_a_malformed_version_rid_is_refused_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match="model_version_rid="):
        sensor("v1")
