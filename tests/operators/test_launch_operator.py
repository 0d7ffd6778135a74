"""LaunchModelStudioOperator against the emulator: the three ways of running, failures, timeouts, kills."""

from __future__ import annotations

import json
import time

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from airflow_provider_modelstudio.triggers.modelstudio import ModelStudioRunTrigger
from tests.lifecycle_helpers import DEMO, DEMO_DENIED, DEMO_FAILS, FAST, StateStore, TaskDeferred, context, run_trigger

SLOW = "ri.models.main.model-studio.slow"
HOUR = 3600.0


def operator(**kwargs):
    kwargs.setdefault("model_studio_rid", DEMO)
    kwargs.setdefault("poll_interval", 0.05)
    kwargs.setdefault("deferrable", False)
    kwargs.setdefault("retry", FAST)
    return LaunchModelStudioOperator(task_id="launch", **kwargs)


def hold(emulator, studio, outcome="SUCCEEDED"):
    """Make the studio's runs last an hour of emulator time: a task always finds its run still running, however
    slow the machine, until the test advances the clock."""
    emulator.add_studio(studio, outcome=outcome, duration_seconds=HOUR)


def run_deferred(op, ctx, emulator=None):
    """Execute until the task defers; with ``emulator``, let an hour pass (a held run ends); resume with the
    trigger's first event."""
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    if emulator is not None:
        emulator.advance(HOUR)
    trigger = deferred.value.trigger
    assert isinstance(trigger, ModelStudioRunTrigger)
    assert deferred.value.method_name == "execute_complete"
    return op.execute_complete(ctx, run_trigger(trigger))


def without_run_identity(result):
    """A result minus what differs between two runs of the same studio."""
    varying = {
        "run_id",
        "build_rid",
        "job_rid",
        "started_time",
        "build_url",
        "model_version_rid",
        "resolved_outputs",
        "model_outputs",
    }
    return {k: v for k, v in result.items() if k not in varying}


def test_waiting_in_the_worker_returns_the_new_model_version(foundry_connection):
    ctx = context()
    result = operator().execute(ctx)
    (run,) = foundry_connection.runs(DEMO)
    assert result["build_status"] == "SUCCEEDED"
    assert result["run_id"] == run["runId"]
    assert result["model_version_rid"] == run["resolvedOutputs"]["model"]["modelVersionRid"]
    assert result["model_version_rid"].startswith("ri.models.main.model-version.")
    json.dumps(result)


def test_the_run_is_pushed_to_xcom_at_launch(foundry_connection):
    ctx = context()
    op = operator(model_studio_rid=DEMO_FAILS)
    with pytest.raises(AirflowFailException):
        op.execute(ctx)
    (run,) = foundry_connection.runs(DEMO_FAILS)
    pushed = ctx["ti"].pushed
    assert pushed["run_id"] == run["runId"]
    assert pushed["build_rid"] == run["buildRid"]
    assert pushed["job_rid"] == run["jobRid"]
    assert pushed["config_version"] == run["configVersion"]
    assert pushed["model_version_rid"] == run["resolvedOutputs"]["model"]["modelVersionRid"]
    assert run["buildRid"] in pushed["build_url"]


def test_deferred_and_worker_and_no_wait_give_one_result_shape(foundry_connection):
    in_worker = operator().execute(context())
    hold(foundry_connection, DEMO)
    deferred = run_deferred(operator(deferrable=True), context(), foundry_connection)
    not_waiting = operator(wait_for_completion=False).execute(context())
    assert set(in_worker) == set(deferred) == set(not_waiting)
    assert without_run_identity(in_worker) == without_run_identity(deferred)
    assert not_waiting["build_status"] == "RUNNING"
    assert {k: v for k, v in without_run_identity(not_waiting).items() if k != "build_status"} == {
        k: v for k, v in without_run_identity(in_worker).items() if k != "build_status"
    }


def test_a_failed_run_fails_the_task_without_retries_and_says_where(foundry_connection):
    with pytest.raises(AirflowFailException) as failure:
        operator(model_studio_rid=DEMO_FAILS).execute(context())
    (run,) = foundry_connection.runs(DEMO_FAILS)
    message = str(failure.value)
    for fact in (DEMO_FAILS, run["runId"], run["buildRid"], "FAILED", "http"):
        assert fact in message


def test_a_failed_run_may_be_retried_when_the_user_opts_in(foundry_connection):
    from airflow_provider_modelstudio.runs.errors import RunFailedError

    with pytest.raises(RunFailedError):
        operator(model_studio_rid=DEMO_FAILS, retry_on_run_failure=True).execute(context())


def test_a_deferred_failed_run_fails_the_same_way(foundry_connection):
    hold(foundry_connection, DEMO_FAILS, "FAILED")
    with pytest.raises(AirflowFailException, match="ended FAILED"):
        run_deferred(operator(model_studio_rid=DEMO_FAILS, deferrable=True), context(), foundry_connection)


def test_a_build_canceled_in_foundry_fails_the_task_saying_this_try_did_not_cancel_it(foundry_connection, monkeypatch):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)

    def cancel_in_foundry(_seconds):
        (run,) = emu.runs(SLOW)
        emu.set_build_status(run["buildRid"], "CANCELED")

    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", cancel_in_foundry)
    with pytest.raises(AirflowFailException, match="ended CANCELED") as failure:
        operator(model_studio_rid=SLOW).execute(context())
    assert "This try of the task did not cancel it" in str(failure.value)


def test_a_run_already_final_is_finished_in_the_worker_without_deferring(foundry_connection):
    foundry_connection.add_studio("ri.models.main.model-studio.instant", duration_seconds=0)
    result = operator(model_studio_rid="ri.models.main.model-studio.instant", deferrable=True).execute(context())
    assert result["build_status"] == "SUCCEEDED"


def test_timeout_in_the_worker_cancels_the_build_and_says_so(foundry_connection):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    with pytest.raises(AirflowFailException, match="was cancelled"):
        operator(model_studio_rid=SLOW, timeout=0.3).execute(context())
    (run,) = emu.runs(SLOW)
    assert emu.counters()["cancels"] == {run["buildRid"]: 1}


def test_timeout_while_deferred_cancels_the_build(foundry_connection):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    with pytest.raises(AirflowFailException, match="was cancelled"):
        run_deferred(operator(model_studio_rid=SLOW, timeout=0.3, deferrable=True), context())
    (run,) = emu.runs(SLOW)
    assert emu.counters()["cancels"] == {run["buildRid"]: 1}


def test_timeout_without_cancel_on_kill_leaves_the_build_running(foundry_connection):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    with pytest.raises(AirflowFailException, match="left running"):
        operator(model_studio_rid=SLOW, timeout=0.2, cancel_on_kill=False).execute(context())
    assert emu.counters()["cancels"] == {}


def test_killing_the_task_while_it_waits_cancels_the_build(foundry_connection, monkeypatch):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    op = operator(model_studio_rid=SLOW)

    class Killed(BaseException):
        pass

    def kill_during_wait(_seconds):
        op.on_kill()
        raise Killed

    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", kill_during_wait)
    with pytest.raises(Killed):
        op.execute(context())
    (run,) = emu.runs(SLOW)
    assert emu.counters()["cancels"] == {run["buildRid"]: 1}


def test_a_crashed_and_retried_task_reattaches_instead_of_launching_again(foundry_connection, monkeypatch):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    store = StateStore()

    class WorkerCrashed(BaseException):
        pass

    def crash(_seconds):
        raise WorkerCrashed

    real_sleep = time.sleep
    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", crash)
    with pytest.raises(WorkerCrashed):
        operator(model_studio_rid=SLOW).execute(context(store))
    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", real_sleep)
    (run,) = emu.runs(SLOW)
    emu.set_build_status(run["buildRid"], "SUCCEEDED")
    result = operator(model_studio_rid=SLOW).execute(context(store))
    assert emu.counters()["launches"] == {SLOW: 1}
    assert result["run_id"] == run["runId"]
    assert result["build_status"] == "SUCCEEDED"


def test_a_retry_after_a_failed_run_launches_a_fresh_one(foundry_connection):
    store = StateStore()
    with pytest.raises(AirflowFailException):
        operator(model_studio_rid=DEMO_FAILS).execute(context(store))
    with pytest.raises(AirflowFailException):
        operator(model_studio_rid=DEMO_FAILS).execute(context(store))
    assert foundry_connection.counters()["launches"] == {DEMO_FAILS: 2}


def test_without_a_state_store_reattach_finds_the_running_run(foundry_connection):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    first = operator(model_studio_rid=SLOW, wait_for_completion=False).execute(context())
    again = operator(model_studio_rid=SLOW, wait_for_completion=False, reattach_to_running_run=True).execute(context())
    assert again["run_id"] == first["run_id"]
    assert emu.counters()["launches"] == {SLOW: 1}


def test_an_unknown_status_is_waited_on_and_logged_once(foundry_connection, monkeypatch, capsys):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    checks = []

    def advance(_seconds):
        checks.append(1)
        (run,) = emu.runs(SLOW)
        emu.set_build_status(run["buildRid"], "QUEUED" if len(checks) < 4 else "SUCCEEDED")

    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", advance)
    result = operator(model_studio_rid=SLOW).execute(context())
    assert result["build_status"] == "SUCCEEDED"
    captured = capsys.readouterr()
    assert (captured.out + captured.err).count("'QUEUED', which this provider does not know") == 1


def test_a_run_without_model_output_fails_unless_allowed(foundry_connection):
    emu = foundry_connection
    emu.add_studio("ri.models.main.model-studio.bare", duration_seconds=0, omit_resolved_outputs=True)
    with pytest.raises(AirflowFailException, match="resolved no model output"):
        operator(model_studio_rid="ri.models.main.model-studio.bare").execute(context())
    result = operator(model_studio_rid="ri.models.main.model-studio.bare", fail_on_missing_model_output=False).execute(
        context()
    )
    assert result["model_version_rid"] is None
    assert result["resolved_outputs"] == {}


def test_several_model_outputs_are_returned_by_alias(foundry_connection):
    emu = foundry_connection
    emu.add_studio("ri.models.main.model-studio.pair", duration_seconds=0, outputs=["model", "baseline"])
    result = operator(model_studio_rid="ri.models.main.model-studio.pair").execute(context())
    assert set(result["model_version_rid"]) == {"model", "baseline"}
    assert all(v.startswith("ri.models.main.model-version.") for v in result["model_version_rid"].values())


def test_a_denied_launch_fails_without_retries_and_names_the_fix(foundry_connection):
    with pytest.raises(AirflowFailException, match="LaunchModelStudioPermissionDenied") as failure:
        operator(model_studio_rid=DEMO_DENIED).execute(context())
    assert "edit access" in str(failure.value)


def test_a_literal_bad_rid_fails_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match="model_studio_rid='studio-42'"):
        operator(model_studio_rid="studio-42")


def test_a_templated_rid_is_checked_when_the_task_runs(foundry_connection):
    op = operator(model_studio_rid="{{ params.studio }}")
    with pytest.raises(AirflowFailException, match="model_studio_rid="):
        op.execute(context())
    assert foundry_connection.counters()["launches"] == {}


@pytest.mark.parametrize(("name", "value"), [("poll_interval", 0), ("poll_interval", "fast"), ("timeout", -1)])
def test_bad_numbers_fail_when_the_dag_is_parsed(name, value):
    with pytest.raises(FoundryConfigError, match=f"{name}="):
        operator(**{name: value})


def test_the_trigger_carries_only_plain_values(foundry_connection):
    hold(foundry_connection, DEMO)
    with pytest.raises(TaskDeferred) as deferred:
        operator(deferrable=True, timeout=600).execute(context())
    classpath, kwargs = deferred.value.trigger.serialize()
    assert classpath == "airflow_provider_modelstudio.triggers.modelstudio.ModelStudioRunTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert kwargs["deadline"] is not None


def test_a_deferred_wait_ends_before_execution_timeout_so_the_run_can_be_cancelled(foundry_connection):
    hold(foundry_connection, DEMO)
    from datetime import timedelta

    ctx = context()
    with pytest.raises(TaskDeferred) as deferred:
        operator(deferrable=True, execution_timeout=timedelta(seconds=200)).execute(ctx)
    deadline = deferred.value.trigger.serialize()[1]["deadline"]
    limit = ctx["ti"].start_date.timestamp() + 200
    assert limit - 30 <= deadline < limit


def test_the_earlier_of_timeout_and_execution_timeout_wins(foundry_connection):
    hold(foundry_connection, DEMO)
    from datetime import timedelta

    ctx = context()
    with pytest.raises(TaskDeferred) as deferred:
        operator(deferrable=True, timeout=20, execution_timeout=timedelta(hours=1)).execute(ctx)
    deadline = deferred.value.trigger.serialize()[1]["deadline"]
    assert deadline <= time.time() + 20


def _transient_event(run):
    from airflow_provider_modelstudio.runs.events import make_event

    return make_event(
        "error",
        build_rid=run["build_rid"],
        message="Stopped waiting after 10 failed check(s)",
        transient=True,
    )


def test_deferred_transient_trouble_stays_retryable_when_a_retry_can_reattach(foundry_connection):
    from airflow_provider_modelstudio.runs.errors import PollingFailedError

    launched = operator(wait_for_completion=False).execute(context())
    with pytest.raises(PollingFailedError):
        operator(deferrable=True).execute_complete(context(StateStore()), _transient_event(launched))


def test_deferred_transient_trouble_fails_for_good_when_a_retry_would_launch_again(foundry_connection):
    launched = operator(wait_for_completion=False).execute(context())
    with pytest.raises(AirflowFailException, match="could not reattach"):
        operator(deferrable=True).execute_complete(context(), _transient_event(launched))


def test_waiting_through_persistent_server_errors_is_retryable_with_a_state_store(foundry_connection, monkeypatch):
    from airflow_provider_modelstudio.foundry.errors import FoundryServerError

    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    foundry_connection.set_faults("get_build", rate_500=1.0)
    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", lambda _s: None)
    with pytest.raises(FoundryServerError):
        operator(model_studio_rid=SLOW).execute(context(StateStore()))
    assert foundry_connection.counters()["launches"] == {SLOW: 1}


def test_transient_trouble_before_any_launch_stays_retryable(foundry_connection):
    from airflow_provider_modelstudio.foundry.errors import FoundryUnavailable

    foundry_connection.set_faults("list_model_studio_runs", rate_503=1.0)
    with pytest.raises(FoundryUnavailable):
        operator().execute(context())
    assert foundry_connection.counters()["launches"] == {}


def test_the_link_is_known_without_xcom_once_the_task_ran(foundry_connection):
    from airflow_provider_modelstudio.links.foundry import FoundryBuildLink

    op = operator(wait_for_completion=False)
    result = op.execute(context())
    assert FoundryBuildLink().get_link(op, ti_key=None) == result["build_url"]
    denied = operator(model_studio_rid=DEMO_DENIED)
    with pytest.raises(AirflowFailException):
        denied.execute(context())
    assert FoundryBuildLink().get_link(denied, ti_key=None) == ""


def _deny_status_checks(monkeypatch):
    from airflow_provider_modelstudio.foundry.errors import FoundryPermissionDenied
    from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook

    def denied(self, build_rid):
        raise FoundryPermissionDenied(method="GET", path=f"/builds/{build_rid}", status_code=403)

    monkeypatch.setattr(ModelStudioHook, "get_build", denied)


def test_giving_up_on_a_refused_status_check_cancels_the_build_and_says_so(foundry_connection, monkeypatch):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    _deny_status_checks(monkeypatch)
    with pytest.raises(AirflowFailException, match=r"gave up on build .* cancelled by this task because") as failure:
        operator(model_studio_rid=SLOW).execute(context(StateStore()))
    (run,) = foundry_connection.runs(SLOW)
    assert foundry_connection.counters()["cancels"] == {run["buildRid"]: 1}
    assert "403" in str(failure.value)


def test_giving_up_without_cancel_on_kill_says_the_build_still_runs(foundry_connection, monkeypatch):
    foundry_connection.add_studio(SLOW, duration_seconds=3600)
    _deny_status_checks(monkeypatch)
    with pytest.raises(AirflowFailException, match="left running"):
        operator(model_studio_rid=SLOW, cancel_on_kill=False).execute(context())
    assert foundry_connection.counters()["cancels"] == {}


def test_a_build_this_task_cancelled_is_not_blamed_on_foundry(foundry_connection, monkeypatch):
    emu = foundry_connection
    emu.add_studio(SLOW, duration_seconds=3600)
    op = operator(model_studio_rid=SLOW)
    checks = []

    def killed_then_cancelled(_seconds):
        checks.append(1)
        if len(checks) == 1:
            op.on_kill()
            (run,) = emu.runs(SLOW)
            emu.set_build_status(run["buildRid"], "CANCELED")

    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", killed_then_cancelled)
    with pytest.raises(AirflowFailException) as failure:
        op.execute(context())
    message = str(failure.value)
    assert "This task cancelled it because the task was killed" in message
    assert "Foundry judged" not in message


def test_the_deferred_wait_starts_its_clock_at_the_runs_start(foundry_connection):
    hold(foundry_connection, DEMO)
    with pytest.raises(TaskDeferred) as deferred:
        operator(deferrable=True).execute(context())
    kwargs = deferred.value.trigger.serialize()[1]
    (run,) = foundry_connection.runs(DEMO)
    from airflow_provider_modelstudio.foundry.shapes import epoch_seconds

    assert kwargs["started_at"] == epoch_seconds(run["startedTime"])


def test_a_retry_typo_fails_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match="max_attempt"):
        operator(retry={"max_attempt": 3})


# Parse-time checks, the default poll interval, the success line ----------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "wait_for_completion",
        "deferrable",
        "cancel_on_kill",
        "fail_on_missing_model_output",
        "retry_on_run_failure",
        "reattach_to_running_run",
    ],
)
def test_a_flag_given_as_a_string_is_refused_when_the_dag_is_parsed(name):
    with pytest.raises(FoundryConfigError, match=f"{name}='false' must be True or False"):
        operator(**{name: "false"})


def test_a_retry_typo_is_refused_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match="max_attempt"):
        operator(retry={"max_attempt": 3})


def test_the_studio_may_be_another_tasks_output():
    from airflow.sdk import DAG, task

    with DAG("upstream_studio", schedule=None):

        @task
        def pick() -> str:
            return DEMO

        launch = operator(model_studio_rid=pick())
    assert launch.upstream_task_ids == {"pick"}


def test_the_default_poll_interval_against_the_local_emulator_is_one_second(foundry_connection):
    op = operator(poll_interval=None)
    assert op._poll_interval() == 1.0


def test_the_default_poll_interval_against_foundry_is_thirty_seconds(set_connection):
    set_connection(host="example.palantirfoundry.com", password="some-token-1")
    assert operator(poll_interval=None)._poll_interval() == 30.0


def test_a_success_logs_one_line_naming_the_new_model_version_and_its_link(foundry_connection, capsys):
    result = operator().execute(context())
    lines = [line for line in capsys.readouterr().out.splitlines() if "new model version" in line]
    assert len(lines) == 1
    assert result["model_version_rid"] in lines[0]
    assert f"{foundry_connection.url}/workspace/models/{result['model_rid']}/versions/" in lines[0]


@pytest.mark.parametrize(
    ("studio", "deferrable", "status"),
    [(DEMO, False, "SUCCEEDED"), (DEMO, True, "SUCCEEDED"), (DEMO_FAILS, False, "FAILED")],
    ids=["succeeded-in-worker", "succeeded-deferred", "failed"],
)
def test_the_task_state_store_holds_the_status_the_wait_ended_on(foundry_connection, studio, deferrable, status):
    store = StateStore()
    op = operator(model_studio_rid=studio, deferrable=deferrable)
    try:
        if deferrable:
            run_deferred(op, context(store))
        else:
            op.execute(context(store))
    except AirflowFailException:
        assert status == "FAILED"
    (run,) = foundry_connection.runs(studio)
    stored = store.data["modelstudio_run"]
    assert (stored["run_id"], stored["build_status"]) == (run["runId"], status)
