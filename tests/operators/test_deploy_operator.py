"""DeployModelVersionOperator against the emulator: promote, wait until served, smoke test, roll back."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException
from airflow_provider_modelstudio.deploys.deploy_lock import Holder, lock_key
from airflow_provider_modelstudio.emulator import STATIC_TOKEN
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryPermissionDenied
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from airflow_provider_modelstudio.operators.model_versions import DeployModelVersionOperator
from airflow_provider_modelstudio.triggers.live_deployment import LiveDeploymentTrigger
from tests.deploy_helpers import (
    DEMO_BREAKS_STUDIO,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    promoted_from,
    served,
    trained_candidate,
)
from tests.lifecycle_helpers import FAST, StateStore, TaskDeferred, context, run_trigger

REAL_SLEEP = time.sleep
SMOKE_INPUT = {"tenure_months": 12, "monthly_charges": 70.5}


def operator(candidate, **kwargs):
    kwargs.setdefault("poll_interval", 0.05)
    kwargs.setdefault("timeout", 30)
    kwargs.setdefault("deferrable", False)
    kwargs.setdefault("retry", FAST)
    return DeployModelVersionOperator(
        task_id="deploy", live_deployment_rid=DEMO_DEPLOYMENT, model_version_rid=candidate, **kwargs
    )


def run_deferred(op, ctx):
    """Run a deferrable operator through every deferral, the way dag.test() does."""
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    while True:
        trigger = deferred.value.trigger
        assert isinstance(trigger, LiveDeploymentTrigger)
        event = run_trigger(trigger)
        try:
            return op.execute_complete(ctx, event)
        except TaskDeferred as again:
            deferred = pytest.ExceptionInfo.from_exc_info((type(again), again, again.__traceback__))


def copies_of(emulator, candidate):
    return [v for v in emulator.model_versions(DEMO_PROD_MODEL) if promoted_from(v, candidate)]


def test_a_good_version_is_promoted_served_and_smoke_tested(foundry_connection):
    candidate = trained_candidate(foundry_connection)
    before = served(foundry_connection)[0]
    result = operator(candidate, smoke_test_input=SMOKE_INPUT).execute(context())
    (copy,) = copies_of(foundry_connection, candidate)
    assert result["promoted_version_rid"] == copy["rid"] == result["served_version_rid"]
    assert result["previous_version_rid"] == before
    assert result["rolled_back"] is False
    assert result["state"] == "ACTIVE"
    assert isinstance(result["smoke_test_output"], dict)
    assert result["smoke_test_latency_ms"] >= 0
    assert served(foundry_connection) == (copy["rid"], "ACTIVE", True)


def test_a_deploy_pushes_its_target_when_it_starts(foundry_connection):
    ctx = context()
    operator(trained_candidate(foundry_connection)).execute(ctx)
    assert ctx["ti"].pushed["deploy_target"] == {
        "live_deployment_rid": DEMO_DEPLOYMENT,
        "foundry_conn_id": "foundry_default",
    }


def test_deferrable_and_worker_modes_return_the_same_result(foundry_connection):
    varying = {
        "promoted_version_rid",
        "served_version_rid",
        "previous_version_rid",
        "candidate_version_rid",
        "smoke_test_latency_ms",
        "smoke_test_output",
    }
    in_worker = operator(trained_candidate(foundry_connection), smoke_test_input=SMOKE_INPUT).execute(context())
    deferred = run_deferred(
        operator(trained_candidate(foundry_connection), smoke_test_input=SMOKE_INPUT, deferrable=True), context()
    )
    assert set(in_worker) == set(deferred)
    assert {k: v for k, v in in_worker.items() if k not in varying} == {
        k: v for k, v in deferred.items() if k not in varying
    }
    assert deferred["previous_version_rid"] == in_worker["promoted_version_rid"]


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_version_that_breaks_the_deployment_is_rolled_back_and_the_task_says_what_serves(
    foundry_connection, deferrable
):
    before = served(foundry_connection)[0]
    candidate = trained_candidate(foundry_connection, DEMO_BREAKS_STUDIO)
    op = operator(candidate, deferrable=deferrable)
    ctx = context()
    with pytest.raises(AirflowFailException) as failure:
        run_deferred(op, ctx) if deferrable else op.execute(ctx)
    now_serving, state, ready = served(foundry_connection)
    rollback_copy = next(v for v in foundry_connection.model_versions(DEMO_PROD_MODEL) if promoted_from(v, before))
    assert (now_serving, state, ready) == (rollback_copy["rid"], "ACTIVE", True)
    message = str(failure.value)
    assert "Rolled back" in message and now_serving in message and "FAILED" in message
    assert ctx["ti"].pushed["deploy_result"]["rolled_back"] is True


def test_a_failed_smoke_test_rolls_back(foundry_connection):
    before = served(foundry_connection)[0]
    candidate = trained_candidate(foundry_connection)
    op = operator(candidate, smoke_test_input=SMOKE_INPUT, smoke_test_check={"prediction": "impossible"})
    with pytest.raises(AirflowFailException, match="smoke test"):
        op.execute(context())
    now_serving = served(foundry_connection)[0]
    assert promoted_from(
        next(v for v in foundry_connection.model_versions(DEMO_PROD_MODEL) if v["rid"] == now_serving), before
    )


def test_without_rollback_a_failed_deploy_says_it_was_not_rolled_back(foundry_connection):
    candidate = trained_candidate(foundry_connection, DEMO_BREAKS_STUDIO)
    with pytest.raises(AirflowFailException, match="Not rolled back"):
        operator(candidate, rollback_on_failure=False).execute(context())
    assert served(foundry_connection)[1] == "FAILED"


def test_a_lost_promote_answer_makes_one_promoted_version(foundry_connection):
    candidate = trained_candidate(foundry_connection)
    foundry_connection.set_faults("promote_model_version", drop_after_create=1.0)
    result = operator(candidate).execute(context())
    (copy,) = copies_of(foundry_connection, candidate)
    assert result["promoted_version_rid"] == copy["rid"]


def test_a_retry_after_a_worker_crash_mid_deploy_does_not_promote_again(foundry_connection, monkeypatch):
    candidate = trained_candidate(foundry_connection)
    store = StateStore()

    class WorkerCrashed(BaseException):
        pass

    def crash(_seconds):
        raise WorkerCrashed

    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", crash)
    with pytest.raises(WorkerCrashed):
        operator(candidate).execute(context(store))
    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", REAL_SLEEP)
    result = operator(candidate).execute(context(store))
    (copy,) = copies_of(foundry_connection, candidate)
    assert result["promoted_version_rid"] == copy["rid"] == result["served_version_rid"]


def test_a_retry_without_a_state_store_adopts_the_promotion_of_an_earlier_try(foundry_connection, monkeypatch):
    candidate = trained_candidate(foundry_connection)

    class WorkerCrashed(BaseException):
        pass

    def crash(_seconds):
        raise WorkerCrashed

    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", crash)
    with pytest.raises(WorkerCrashed):
        operator(candidate).execute(context())
    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", REAL_SLEEP)
    result = operator(candidate).execute(context())
    assert len(copies_of(foundry_connection, candidate)) == 1
    assert result["served_version_rid"] == result["promoted_version_rid"]


def test_a_smoke_test_check_without_an_input_is_refused_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match="smoke_test_check needs smoke_test_input"):
        operator("ri.models.main.model-version.v", smoke_test_check={"prediction": 1})


def test_a_malformed_deployment_rid_is_refused_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match="live_deployment_rid="):
        DeployModelVersionOperator(
            task_id="deploy", live_deployment_rid="deployment-1", model_version_rid="ri.models.main.model-version.v"
        )


def refuse_deployment_reads_after_promoting(monkeypatch, *, until_rollback):
    """Reads of the deployment (sync and async) answer 403 from the first promotion on; until the next
    promotion (the rollback's) when ``until_rollback``, else for good."""
    hook_class = ModelStudioHook
    real_read, real_aread, real_promote = (
        hook_class.get_live_deployment,
        hook_class.aget_live_deployment,
        hook_class.promote_model_version,
    )
    promotions = []

    def refused() -> bool:
        return len(promotions) == 1 or (len(promotions) > 1 and not until_rollback)

    def refusal(rid):
        return FoundryPermissionDenied(
            method="GET",
            path=f"/api/v2/models/liveDeployments/{rid}",
            status_code=403,
            error_name="ApiUsageDenied",
            error_code="PERMISSION_DENIED",
        )

    def promote(self, *args, **kwargs):
        copy = real_promote(self, *args, **kwargs)
        promotions.append(copy)
        return copy

    def read(self, rid):
        if refused():
            raise refusal(rid)
        return real_read(self, rid)

    async def aread(self, rid):
        if refused():
            raise refusal(rid)
        return await real_aread(self, rid)

    monkeypatch.setattr(hook_class, "promote_model_version", promote)
    monkeypatch.setattr(hook_class, "get_live_deployment", read)
    monkeypatch.setattr(hook_class, "aget_live_deployment", aread)


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_refused_deployment_read_after_promoting_rolls_back_and_says_what_serves(
    foundry_connection, monkeypatch, deferrable
):
    before = served(foundry_connection)[0]
    candidate = trained_candidate(foundry_connection)
    refuse_deployment_reads_after_promoting(monkeypatch, until_rollback=True)
    op, ctx = operator(candidate, deferrable=deferrable), context()
    with pytest.raises(AirflowFailException) as failure:
        run_deferred(op, ctx) if deferrable else op.execute(ctx)
    (copy,) = copies_of(foundry_connection, candidate)
    now_serving = served(foundry_connection)[0]
    assert promoted_from(
        next(v for v in foundry_connection.model_versions(DEMO_PROD_MODEL) if v["rid"] == now_serving), before
    )
    message = str(failure.value)
    assert f"(as {copy['rid']})" in message and "ApiUsageDenied" in message
    assert f"Rolled back: it serves {now_serving} (a copy of {before}) again, ACTIVE and ready." in message


def test_a_refused_deployment_read_after_promoting_without_rollback_names_the_live_untested_copy(
    foundry_connection, monkeypatch
):
    candidate = trained_candidate(foundry_connection)
    before = served(foundry_connection)[0]
    refuse_deployment_reads_after_promoting(monkeypatch, until_rollback=False)
    with pytest.raises(AirflowFailException) as failure:
        operator(candidate, rollback_on_failure=False).execute(context())
    (copy,) = copies_of(foundry_connection, candidate)
    message = str(failure.value)
    assert "ApiUsageDenied" in message and "Not rolled back (rollback_on_failure=False)." in message
    assert (
        f"The promoted copy {copy['rid']} is the latest version on branch master of {DEMO_PROD_MODEL}, so live "
        f"deployment {DEMO_DEPLOYMENT} serves it (or is starting to), without a passed smoke test. Check the "
        f"deployment in Foundry, and promote {before} back if it must not serve."
    ) in message


def test_a_refused_rollback_wait_names_the_rollback_copy_as_the_latest_version(foundry_connection, monkeypatch):
    candidate = trained_candidate(foundry_connection)
    before = served(foundry_connection)[0]
    refuse_deployment_reads_after_promoting(monkeypatch, until_rollback=False)
    with pytest.raises(AirflowFailException) as failure:
        operator(candidate).execute(context())
    rollback_copy = next(v for v in foundry_connection.model_versions(DEMO_PROD_MODEL) if promoted_from(v, before))
    assert (
        f"Rolled back: the rollback copy {rollback_copy['rid']} (of {before}) is the latest version on the branch, "
        "but waiting for the deployment to serve it failed ("
    ) in str(failure.value)


def test_a_smoke_test_check_that_raises_rolls_back_naming_the_exception(foundry_connection):
    candidate = trained_candidate(foundry_connection)

    def broken_check(output):
        raise KeyError("score")

    op = operator(candidate, smoke_test_input=SMOKE_INPUT, smoke_test_check=broken_check)
    with pytest.raises(
        AirflowFailException, match=r"the smoke_test_check callable raised KeyError: 'score'\. Rolled back"
    ):
        op.execute(context())


def echo_the_token_in_smoke_answers(monkeypatch):
    """transformJson answers echo the request's headers, as a debugging model or proxy would."""
    real_call = FoundryClient.call

    def call(self, name, *args, **kwargs):
        answer = real_call(self, name, *args, **kwargs)
        if name != "transform_json":
            return answer
        return {"output": {**answer["output"], "headers": {"Authorization": f"Bearer {STATIC_TOKEN}"}}}

    monkeypatch.setattr(FoundryClient, "call", call)


def assert_no_token(*places):
    for place in places:
        text = json.dumps(place, default=str) if not isinstance(place, str) else place
        assert STATIC_TOKEN not in text


def test_a_smoke_answer_echoing_the_token_puts_it_in_no_failure_xcom_state_store_or_log(
    foundry_connection, monkeypatch, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    echo_the_token_in_smoke_answers(monkeypatch)
    candidate = trained_candidate(foundry_connection)
    store = StateStore()
    ctx = context(store)
    op = operator(candidate, smoke_test_input=SMOKE_INPUT, smoke_test_check={"prediction": "impossible"})
    with pytest.raises(AirflowFailException) as failure:
        op.execute(ctx)
    assert '"headers": {"Authorization": "Bearer ***"}' in str(failure.value)
    assert "Bearer ***" in ctx["ti"].pushed["deploy_state"]["problem"]
    logs = caplog.text + capsys.readouterr().out
    assert "Bearer ***" in logs
    assert_no_token(str(failure.value), repr(failure.value), ctx["ti"].pushed, store.data, logs)


def test_a_passed_smoke_answer_echoing_the_token_is_returned_and_logged_without_it(
    foundry_connection, monkeypatch, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    echo_the_token_in_smoke_answers(monkeypatch)
    ctx = context(StateStore())
    result = operator(trained_candidate(foundry_connection), smoke_test_input=SMOKE_INPUT).execute(ctx)
    assert result["smoke_test_output"]["headers"] == {"Authorization": "Bearer ***"}
    logs = caplog.text + capsys.readouterr().out
    assert "Smoke test answered" in logs and "Bearer ***" in logs
    assert_no_token(result, ctx["ti"].pushed, ctx["task_state_store"].data, logs)


# One deploy at a time ---------------------------------------------------------------------------------------

OTHER_DEPLOY = Holder("retrain_then_deploy", "manual__2026-12-05", "deploy", -1, 1)


def test_a_deploy_while_another_task_deploys_to_the_same_deployment_promotes_nothing_and_names_it(
    foundry_connection, memory_deploy_locks
):
    memory_deploy_locks.variables[lock_key(DEMO_DEPLOYMENT)] = asdict(OTHER_DEPLOY)
    memory_deploy_locks.states[("retrain_then_deploy", "manual__2026-12-05", "deploy", -1)] = "deferred"
    candidate = trained_candidate(foundry_connection)
    with pytest.raises(AirflowFailException) as refused:
        operator(candidate).execute(context())
    assert (
        f"Live deployment {DEMO_DEPLOYMENT} is being deployed by task deploy of DAG retrain_then_deploy, run "
        "manual__2026-12-05 (try 1), which is deferred;"
    ) in str(refused.value)
    assert copies_of(foundry_connection, candidate) == []
    assert memory_deploy_locks.variables[lock_key(DEMO_DEPLOYMENT)] == asdict(OTHER_DEPLOY)


def test_the_deploy_lock_is_kept_while_deferred_and_given_back_when_the_deploy_ends(
    foundry_connection, memory_deploy_locks
):
    op, ctx = operator(trained_candidate(foundry_connection), deferrable=True), context()
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)
    assert memory_deploy_locks.variables[lock_key(DEMO_DEPLOYMENT)]["run_id"] == ctx["ti"].run_id
    op.execute_complete(ctx, run_trigger(deferred.value.trigger))
    assert lock_key(DEMO_DEPLOYMENT) not in memory_deploy_locks.variables


def test_a_failed_deploy_gives_the_lock_back(foundry_connection, memory_deploy_locks):
    earlier_try = Holder("dag", "run", "launch", -1, 1)
    memory_deploy_locks.variables[lock_key(DEMO_DEPLOYMENT)] = asdict(earlier_try)
    with pytest.raises(AirflowFailException):
        operator(trained_candidate(foundry_connection, DEMO_BREAKS_STUDIO)).execute(context())
    assert lock_key(DEMO_DEPLOYMENT) not in memory_deploy_locks.variables


def test_a_failed_deploy_does_not_roll_back_over_a_version_promoted_after_its_own(foundry_connection):
    before = served(foundry_connection)[0]
    candidate, later = trained_candidate(foundry_connection), trained_candidate(foundry_connection)

    def another_deploy_promotes_meanwhile(output):
        ModelStudioHook().promote_model_version(DEMO_PROD_MODEL, later, "master")
        return False

    op = operator(candidate, smoke_test_input=SMOKE_INPUT, smoke_test_check=another_deploy_promotes_meanwhile)
    with pytest.raises(AirflowFailException) as failure:
        op.execute(context())
    (later_copy,) = copies_of(foundry_connection, later)
    assert f"Not rolled back: {later_copy['rid']} was promoted onto the branch after this deploy's copy" in str(
        failure.value
    )
    assert not any(promoted_from(v, before) for v in foundry_connection.model_versions(DEMO_PROD_MODEL))
    assert foundry_connection.model_versions(DEMO_PROD_MODEL, "master")[0]["rid"] == later_copy["rid"]


def test_a_deploy_killed_while_waiting_logs_the_promoted_copy_it_left_live(foundry_connection, monkeypatch, capsys):
    candidate = trained_candidate(foundry_connection)
    before = served(foundry_connection)[0]

    class Killed(BaseException):
        pass

    def killed(_seconds):
        raise Killed

    monkeypatch.setattr("airflow_provider_modelstudio.waits.worker.time.sleep", killed)
    op = operator(candidate)
    with pytest.raises(Killed):
        op.execute(context())
    op.on_kill()
    (copy,) = copies_of(foundry_connection, candidate)
    assert (
        f"Deploying {candidate} (as {copy['rid']}) to {DEMO_DEPLOYMENT} failed: the task was killed. Not rolled back. "
        f"The promoted copy {copy['rid']} is the latest version on branch master of {DEMO_PROD_MODEL}, so live "
        f"deployment {DEMO_DEPLOYMENT} serves it (or is starting to), without a passed smoke test. Check the "
        f"deployment in Foundry, and promote {before} back if it must not serve."
    ) in capsys.readouterr().out


def test_a_deploy_whose_lock_is_taken_while_it_reads_the_deployment_promotes_nothing(
    foundry_connection, memory_deploy_locks, monkeypatch
):
    candidate = trained_candidate(foundry_connection)
    real_read = ModelStudioHook.get_live_deployment

    def another_deploy_takes_the_lock_meanwhile(self, rid):
        memory_deploy_locks.variables[lock_key(DEMO_DEPLOYMENT)] = asdict(OTHER_DEPLOY)
        return real_read(self, rid)

    monkeypatch.setattr(ModelStudioHook, "get_live_deployment", another_deploy_takes_the_lock_meanwhile)
    with pytest.raises(AirflowFailException, match="which took the lock while this deploy read the deployment"):
        operator(candidate).execute(context())
    assert copies_of(foundry_connection, candidate) == []
