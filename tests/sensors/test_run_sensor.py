"""ModelStudioRunSensor against the emulator: poke, deferrable, and its arguments."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException, AirflowSensorTimeout
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from airflow_provider_modelstudio.runs.events import make_event
from airflow_provider_modelstudio.sensors.modelstudio import ModelStudioRunSensor
from tests.lifecycle_helpers import DEMO, DEMO_FAILS, FAST, TaskDeferred, context, run_trigger

SLOW = "ri.models.main.model-studio.slow"


def launched(studio=DEMO):
    op = LaunchModelStudioOperator(
        task_id="launch", model_studio_rid=studio, wait_for_completion=False, retry=FAST, deferrable=False
    )
    return op.execute(context())


def sensor(**kwargs):
    kwargs.setdefault("poke_interval", 0.05)
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("deferrable", False)
    return ModelStudioRunSensor(task_id="wait", **kwargs)


def poke_until_done(s, ctx, emu):
    for _ in range(200):
        value = s.poke(ctx)
        if value.is_done:
            return value.xcom_value
        emu.advance(1)
    raise AssertionError("the run never finished")


def test_poking_returns_the_same_result_as_the_operator(foundry_connection):
    run = launched()
    result = poke_until_done(sensor(run=run), context(), foundry_connection)
    waited = LaunchModelStudioOperator(
        task_id="l", model_studio_rid=DEMO, retry=FAST, poll_interval=0.05, deferrable=False
    ).execute(context())
    assert set(result) == set(waited)
    assert result["build_status"] == "SUCCEEDED"
    assert result["run_id"] == run["run_id"]
    assert result["model_version_rid"] == run["model_version_rid"]
    assert result["model_studio_rid"] == DEMO


def test_a_failed_run_fails_the_sensor_without_retries(foundry_connection):
    run = launched(DEMO_FAILS)
    with pytest.raises(AirflowFailException, match="ended FAILED"):
        poke_until_done(sensor(run=run), context(), foundry_connection)


def test_a_running_build_is_not_done(foundry_connection):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    assert sensor(run=launched(SLOW)).poke(context()).is_done is False


def test_transient_failures_while_poking_mean_check_again(foundry_connection):
    run = launched()
    foundry_connection.set_faults("get_build", rate_503=1.0)
    assert sensor(run=run).poke(context()).is_done is False


def test_a_build_rid_with_studio_and_run_id_finds_the_model_outputs(foundry_connection):
    run = launched()
    s = sensor(build_rid=run["build_rid"], model_studio_rid=DEMO, run_id=run["run_id"])
    result = poke_until_done(s, context(), foundry_connection)
    assert result["model_version_rid"] == run["model_version_rid"]


def test_a_build_rid_alone_succeeds_with_no_model_output_when_allowed(foundry_connection):
    run = launched()
    s = sensor(build_rid=run["build_rid"], fail_on_missing_model_output=False)
    result = poke_until_done(s, context(), foundry_connection)
    assert result["build_status"] == "SUCCEEDED"
    assert result["model_version_rid"] is None


def test_deferrable_sensor_defers_and_resumes_with_the_same_result(foundry_connection):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    run = launched(SLOW)
    s = sensor(run=run, deferrable=True)
    ctx = context()
    with pytest.raises(TaskDeferred) as deferred:
        s.execute(ctx)
    foundry_connection.advance(3600)
    result = s.execute_complete(ctx, run_trigger(deferred.value.trigger))
    assert result["build_status"] == "SUCCEEDED"
    assert result["model_version_rid"] == run["model_version_rid"]
    assert deferred.value.trigger.cancel_on_kill is False


def test_deferrable_sensor_on_a_finished_run_does_not_defer(foundry_connection):
    foundry_connection.add_studio("ri.models.main.model-studio.instant", duration_seconds=0)
    run = launched("ri.models.main.model-studio.instant")
    assert sensor(run=run, deferrable=True).execute(context())["build_status"] == "SUCCEEDED"


def test_a_deferred_sensor_timeout_is_a_sensor_timeout_that_leaves_the_build(foundry_connection):
    event = make_event("timeout", build_rid="ri.foundry.main.build.b")
    with pytest.raises(AirflowSensorTimeout, match="left running"):
        sensor(build_rid="ri.foundry.main.build.b").execute_complete(context(), event)
    assert foundry_connection.counters()["cancels"] == {}


def test_sensor_needs_exactly_one_of_run_and_build_rid():
    with pytest.raises(FoundryConfigError, match="exactly one of run"):
        sensor()
    with pytest.raises(FoundryConfigError, match="exactly one of run"):
        sensor(run={"build_rid": "ri.foundry.main.build.b"}, build_rid="ri.foundry.main.build.b")


def test_sensor_refuses_a_malformed_build_rid_at_parse_time():
    with pytest.raises(FoundryConfigError, match="build_rid='build-1'"):
        sensor(build_rid="build-1")


def test_sensor_refuses_a_run_that_is_not_an_operator_result_at_parse_time():
    with pytest.raises(FoundryConfigError, match="not a LaunchModelStudioOperator result"):
        sensor(run={"something": 1})


def test_sensor_refuses_a_rendered_run_that_is_not_an_operator_result(foundry_connection):
    s = sensor(run="{{ ti.xcom_pull(task_ids='launch') }}")
    s.run = {"something": 1}  # what the template rendered to
    with pytest.raises(AirflowFailException, match="not a LaunchModelStudioOperator result"):
        s.execute(context())


def test_run_id_without_studio_is_refused():
    with pytest.raises(FoundryConfigError, match="needs model_studio_rid"):
        sensor(build_rid="ri.foundry.main.build.b", run_id="abc")


def test_poking_pushes_the_build_link_to_xcom(foundry_connection):
    run = launched()
    ctx = context()
    sensor(run=run).poke(ctx)
    assert ctx["ti"].pushed["build_url"] == run["build_url"]


def test_poking_through_persistent_failures_gives_up_at_the_same_limit_as_other_waits(foundry_connection):
    from airflow_provider_modelstudio.runs.errors import PollingFailedError
    from airflow_provider_modelstudio.runs.waiting import MAX_CONSECUTIVE_POLL_FAILURES

    run = launched()
    foundry_connection.set_faults("get_build", rate_503=1.0)
    s = sensor(run=run, retry={"max_attempts": 1})
    for _ in range(MAX_CONSECUTIVE_POLL_FAILURES - 1):
        assert s.poke(context()).is_done is False
    with pytest.raises(PollingFailedError, match=f"{MAX_CONSECUTIVE_POLL_FAILURES} failed check"):
        s.poke(context())


def test_sensor_refuses_a_malformed_studio_rid_at_parse_time():
    with pytest.raises(FoundryConfigError, match="model_studio_rid='studio'"):
        sensor(build_rid="ri.foundry.main.build.b", model_studio_rid="studio", run_id="abc")


def test_sensor_refuses_an_empty_run_id_at_parse_time():
    with pytest.raises(FoundryConfigError, match="run_id='' must be a non-empty string"):
        sensor(build_rid="ri.foundry.main.build.b", model_studio_rid=DEMO, run_id="")


def test_sensor_refuses_a_flag_given_as_a_string_at_parse_time():
    with pytest.raises(FoundryConfigError, match="deferrable='true' must be True or False"):
        sensor(build_rid="ri.foundry.main.build.b", deferrable="true")


def test_a_sensed_success_logs_one_line_naming_the_new_model_version(foundry_connection, capsys):
    run = launched()
    result = poke_until_done(sensor(run=run), context(), foundry_connection)
    lines = [line for line in capsys.readouterr().out.splitlines() if "new model version" in line]
    assert len(lines) == 1
    assert result["model_version_rid"] in lines[0]
