"""ModelVersionGateOperator against the emulator: thresholds, champions, failing and skipping, missing
metrics, templated arguments, and what importing it costs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest

from airflow_provider_modelstudio._compat import AirflowFailException, AirflowSkipException
from airflow_provider_modelstudio.emulator import STATIC_TOKEN
from airflow_provider_modelstudio.emulator.scenario import (
    DEMO_BREAKS_STUDIO,
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_CHAMPION_VERSION,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
    DEMO_WORSE_STUDIO,
)
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryServerError
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from airflow_provider_modelstudio.operators.model_versions import ModelVersionGateOperator
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from tests.lifecycle_helpers import FAST, context

THRESHOLDS = {"val_auc": ">= 0.85", "val_loss:MIN": "<= 0.3"}
AGAINST_THE_DEPLOYMENT = {
    "compare": {"val_auc": "higher", "val_loss": "lower"},
    "champion_live_deployment_rid": DEMO_DEPLOYMENT,
}

SLOW_STUDIO = "ri.models.main.model-studio.gate-slow"


def gate(**kwargs):
    kwargs.setdefault("retry", FAST)
    return ModelVersionGateOperator(task_id="gate", **kwargs)


def trained(studio=DEMO_STUDIO):
    """The result of a finished launch of ``studio`` (demo: val_auc 0.91, val_loss 0.21; worse: 0.84, 0.31)."""
    launch = LaunchModelStudioOperator(
        task_id="train", model_studio_rid=studio, poll_interval=0.05, deferrable=False, retry=FAST
    )
    return launch.execute(context())


class TaskInstance:
    """Answers ``xcom_pull(task_id)`` with another task's result, as templates ask it, and records pushes."""

    def __init__(self, results):
        self.results = results
        self.pushed = {}

    def xcom_pull(self, task_ids=None, key="return_value", **_):
        return self.results[task_ids] if key == "return_value" else None

    def xcom_push(self, key, value):
        self.pushed[key] = value


# Passing ----------------------------------------------------------------------------------------------------


def test_a_candidate_better_than_the_deployed_champion_passes_and_returns_the_table(foundry_connection):
    candidate = trained()
    ctx = context()
    result = gate(candidate=candidate, thresholds=THRESHOLDS, **AGAINST_THE_DEPLOYMENT).execute(ctx)
    assert result["passed"] is True
    assert (result["model_rid"], result["model_version_rid"]) == (
        candidate["model_rid"],
        candidate["model_version_rid"],
    )
    assert [(row["metric"], row["candidate"], row["champion"], row["verdict"]) for row in result["rows"]] == [
        ("val_auc:LAST", 0.91, None, "PASS"),
        ("val_loss:MIN", pytest.approx(0.1995), None, "PASS"),
        ("val_auc:LAST", 0.91, 0.88, "PASS"),
        ("val_loss:LAST", 0.21, 0.25, "PASS"),
    ]
    assert result["champion"]["model_version_rid"] == DEMO_CHAMPION_VERSION
    assert json.loads(json.dumps(result)) == result


def test_the_gate_table_goes_to_xcom_under_gate_and_the_version_under_its_own_keys(foundry_connection):
    ctx = context()
    candidate = trained()
    result = gate(candidate=candidate, thresholds=THRESHOLDS).execute(ctx)
    assert ctx["ti"].pushed["gate"] == result["rows"]
    pushed = (ctx["ti"].pushed["model_rid"], ctx["ti"].pushed["model_version_rid"])
    assert pushed == (candidate["model_rid"], candidate["model_version_rid"])


def test_a_promoted_candidate_is_judged_by_the_experiment_of_the_version_it_was_promoted_from(foundry_connection):
    (source,) = [
        v for v in foundry_connection.model_versions(DEMO_STUDIO_MODEL) if v["rid"] == DEMO_CHAMPION_SOURCE_VERSION
    ]
    result = gate(
        model_rid=DEMO_PROD_MODEL, model_version_rid=DEMO_CHAMPION_VERSION, thresholds={"val_auc": ">= 0.85"}
    ).execute(context())
    assert result["experiment_rid"] == source["linkedExperiment"]
    assert result["rows"][0]["candidate"] == 0.88


def test_the_champion_may_be_the_newest_version_on_a_branch(foundry_connection):
    result = gate(
        candidate=trained(),
        compare={"val_auc": "higher"},
        champion_model_rid=DEMO_PROD_MODEL,
        champion_branch="master",
    ).execute(context())
    assert result["champion"]["model_version_rid"] == DEMO_CHAMPION_VERSION
    assert result["rows"][0]["champion"] == 0.88


def test_an_empty_champion_branch_lets_the_comparison_pass_with_a_note(foundry_connection):
    result = gate(
        candidate=trained(),
        compare={"val_auc": "higher"},
        champion_model_rid=DEMO_PROD_MODEL,
        champion_branch="canary",
    ).execute(context())
    (row,) = result["rows"]
    assert (row["verdict"], row["champion"]) == ("PASS", None)
    assert row["note"] == f"no champion: branch 'canary' of model {DEMO_PROD_MODEL} has no version yet"


# Failing ----------------------------------------------------------------------------------------------------


def test_a_candidate_worse_than_the_champion_fails_the_task_without_retries_showing_the_table(foundry_connection):
    candidate = trained(DEMO_WORSE_STUDIO)
    with pytest.raises(AirflowFailException) as failure:
        gate(candidate=candidate, thresholds=THRESHOLDS, **AGAINST_THE_DEPLOYMENT).execute(context())
    message = str(failure.value)
    assert f"The gate stopped model version {candidate['model_version_rid']}" in message
    assert "3 of 4 checks failed (val_auc:LAST >= 0.85, val_auc:LAST >= champion, val_loss:LAST <= champion)" in message
    assert message.splitlines()[1:] == [
        "METRIC         CANDIDATE  CHAMPION  THRESHOLD    VERDICT  NOTE",
        "val_auc:LAST   0.84       -         >= 0.85      FAIL",
        "val_loss:MIN   0.2945     -         <= 0.3       PASS",
        "val_auc:LAST   0.84       0.88      >= champion  FAIL",
        "val_loss:LAST  0.31       0.25      <= champion  FAIL",
    ]


def test_a_failed_gate_still_pushes_its_table(foundry_connection):
    ctx = context()
    with pytest.raises(AirflowFailException):
        gate(candidate=trained(DEMO_WORSE_STUDIO), **AGAINST_THE_DEPLOYMENT).execute(ctx)
    assert [row["verdict"] for row in ctx["ti"].pushed["gate"]] == ["FAIL", "FAIL"]


def test_a_failed_gate_pushes_its_verdict_with_the_candidate_the_champion_and_the_model_name(foundry_connection):
    candidate = trained(DEMO_WORSE_STUDIO)
    foundry_connection.add_model(candidate["model_rid"], name="Churn <b>worse</b>")
    ctx = context()
    with pytest.raises(AirflowFailException):
        gate(candidate=candidate, **AGAINST_THE_DEPLOYMENT).execute(ctx)
    verdict = ctx["ti"].pushed["gate_verdict"]
    assert "rows" not in verdict
    assert (verdict["passed"], verdict["model_version_rid"], verdict["model_name"]) == (
        False,
        candidate["model_version_rid"],
        "Churn <b>worse</b>",
    )
    assert verdict["champion"]["model_version_rid"] == DEMO_CHAMPION_VERSION
    assert (verdict["champion_live_deployment_rid"], verdict["foundry_conn_id"]) == (DEMO_DEPLOYMENT, "foundry_default")


def test_a_passed_gate_pushes_its_verdict_without_a_name_foundry_does_not_give(foundry_connection):
    ctx = context()
    result = gate(candidate=trained(), thresholds=THRESHOLDS).execute(ctx)
    verdict = ctx["ti"].pushed["gate_verdict"]
    assert verdict == {**{k: v for k, v in result.items() if k != "rows"}, **verdict}
    assert (verdict["passed"], verdict["model_name"], verdict["champion_live_deployment_rid"]) == (True, None, None)


def test_a_failed_gate_skips_the_task_when_asked(foundry_connection):
    with pytest.raises(AirflowSkipException, match="The gate stopped"):
        gate(candidate=trained(DEMO_WORSE_STUDIO), on_failure="skip", **AGAINST_THE_DEPLOYMENT).execute(context())


def test_the_candidate_must_beat_the_champion_by_the_margin(foundry_connection):
    with pytest.raises(AirflowFailException, match=r"val_auc:LAST >= champion \+ 0.05"):
        gate(
            candidate=trained(),
            compare={"val_auc": "higher"},
            margin=0.05,
            champion_live_deployment_rid=DEMO_DEPLOYMENT,
        ).execute(context())


def test_a_missing_metric_fails_the_task_naming_the_version_and_the_metrics_available_even_when_skipping(
    foundry_connection,
):
    candidate = trained()
    with pytest.raises(AirflowFailException) as failure:
        gate(candidate=candidate, thresholds={"val_f1": ">= 0.5"}, on_failure="skip").execute(context())
    message = str(failure.value)
    assert candidate["model_version_rid"] in message
    assert "has no metric val_f1:LAST" in message
    assert "val_auc:LAST, val_auc:MAX, val_auc:MIN, val_loss:LAST" in message


def test_a_champion_missing_a_compared_metric_fails_the_task(foundry_connection):
    emu = foundry_connection
    model = emu.add_model()
    emu.add_model_version(model, metrics={"val_loss": 0.2})
    deployment = emu.add_live_deployment(model)["rid"]
    with pytest.raises(AirflowFailException, match=r"The champion model version .* has no metric val_auc:LAST"):
        gate(candidate=trained(), compare={"val_auc": "higher"}, champion_live_deployment_rid=deployment).execute(
            context()
        )


def test_a_version_without_an_experiment_fails_the_task(foundry_connection):
    emu = foundry_connection
    model = emu.add_model()
    version = emu.add_model_version(model)["rid"]
    with pytest.raises(AirflowFailException) as failure:
        gate(model_rid=model, model_version_rid=version, thresholds=THRESHOLDS).execute(context())
    assert f"model version {version} of model {model} has no linked experiment" in str(failure.value)


def test_a_candidate_whose_run_has_not_finished_fails_saying_its_experiment_is_running(foundry_connection):
    # an hour of emulator time: the run is still training when the gate reads it, however slow the machine
    foundry_connection.add_studio(SLOW_STUDIO, duration_seconds=3600)
    launch = LaunchModelStudioOperator(
        task_id="train", model_studio_rid=SLOW_STUDIO, wait_for_completion=False, retry=FAST
    )
    candidate = launch.execute(context())
    with pytest.raises(AirflowFailException, match="which is RUNNING"):
        gate(candidate=candidate, thresholds=THRESHOLDS).execute(context())


def test_transient_trouble_reading_foundry_leaves_the_task_to_airflow_retries(foundry_connection):
    candidate = trained()
    foundry_connection.set_faults("get_experiment", rate_503=1.0)
    with pytest.raises(FoundryServerError):
        gate(
            candidate=candidate,
            thresholds=THRESHOLDS,
            retry={"max_attempts": 2, "backoff_initial": 0.01, "backoff_max": 0.01, "max_elapsed": 1},
        ).execute(context())


# Arguments --------------------------------------------------------------------------------------------------


def test_templated_rids_and_thresholds_render_from_the_launch_result_and_params(foundry_connection):
    op = gate(
        model_rid="{{ ti.xcom_pull('train')['model_rid'] }}",
        model_version_rid="{{ ti.xcom_pull('train')['model_version_rid'] }}",
        thresholds={"val_auc": ">= {{ params.min_auc }}"},
    )
    candidate = trained()
    ctx = {"ti": TaskInstance({"train": candidate}), "params": {"min_auc": 0.95}}
    op.render_template_fields(ctx)
    with pytest.raises(AirflowFailException, match=r"val_auc:LAST  0.91       -         >= 0.95"):
        op.execute(ctx)


def test_a_templated_threshold_that_renders_badly_fails_the_task_naming_it(foundry_connection):
    op = gate(candidate=trained(), thresholds={"val_auc": "{{ params.min_auc }}"})
    ctx = {"ti": TaskInstance({}), "params": {"min_auc": 0.95}}
    op.render_template_fields(ctx)
    with pytest.raises(AirflowFailException, match=r"thresholds\['val_auc'\]='0.95' is not a comparison"):
        op.execute(ctx)


def test_bad_thresholds_are_refused_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match=r"thresholds\['val_auc'\]='high'.*e\.g\. thresholds="):
        gate(candidate={"model_rid": "x"}, thresholds={"val_auc": "high"})


def test_bad_compare_specs_are_refused_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match=r"compare\['val_auc'\]='better'"):
        gate(
            model_rid=DEMO_PROD_MODEL,
            model_version_rid=DEMO_CHAMPION_VERSION,
            compare={"val_auc": "better"},
            champion_live_deployment_rid=DEMO_DEPLOYMENT,
        )


def test_a_malformed_candidate_rid_is_refused_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match="model_version_rid='latest' is not a model version RID"):
        gate(model_rid=DEMO_PROD_MODEL, model_version_rid="latest", thresholds=THRESHOLDS)


def test_an_unknown_on_failure_is_refused_when_the_dag_is_parsed():
    with pytest.raises(FoundryConfigError, match="on_failure='warn'"):
        gate(
            model_rid=DEMO_PROD_MODEL, model_version_rid=DEMO_CHAMPION_VERSION, thresholds=THRESHOLDS, on_failure="warn"
        )


def test_templated_arguments_pass_the_parse_time_checks():
    op = gate(
        candidate="{{ ti.xcom_pull('train') }}",
        thresholds="{{ params.thresholds | tojson }}",
        compare={"val_auc": "{{ params.direction }}"},
        champion_live_deployment_rid="{{ params.deployment }}",
    )
    assert op.thresholds == "{{ params.thresholds | tojson }}"


def test_importing_the_operator_module_imports_neither_the_hook_nor_an_http_client():
    probe = (
        "import sys, json, airflow.sdk\n"
        "before = set(sys.modules)\n"
        "import airflow_provider_modelstudio.operators.model_versions\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    loaded = json.loads(
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    )
    heavy = ("requests", "httpx", "urllib3", "airflow_provider_modelstudio.hooks.modelstudio")
    assert [name for name in loaded if name.split(".")[0] in heavy or name in heavy] == []
    assert "airflow_provider_modelstudio.deploys.gate_arguments" in loaded


def test_the_candidate_may_be_the_launch_tasks_output(foundry_connection):
    from airflow.sdk import DAG

    with DAG("retrain", schedule=None):
        train = LaunchModelStudioOperator(task_id="train", model_studio_rid=DEMO_STUDIO)
        op = gate(candidate=train.output, thresholds=THRESHOLDS)
    assert op.upstream_task_ids == {"train"}
    candidate = trained()
    ctx = {"ti": TaskInstance({"train": candidate})}
    op.render_template_fields(ctx)
    assert op.execute(ctx)["model_version_rid"] == candidate["model_version_rid"]


# The best of several candidates -------------------------------------------------------------------------------

BEST_BY = {"val_auc": "higher", "val_loss": "lower"}


def test_the_best_of_several_launch_results_is_gated_and_returned_with_the_ranking(foundry_connection):
    results = [trained(DEMO_STUDIO), trained(DEMO_WORSE_STUDIO), trained(DEMO_BREAKS_STUDIO)]  # val_auc .91 .84 .92
    ctx = context()
    result = gate(candidates=results, best_by=BEST_BY, thresholds=THRESHOLDS, **AGAINST_THE_DEPLOYMENT).execute(ctx)
    best = results[2]
    assert (result["passed"], result["model_rid"], result["model_version_rid"], result["config_version"]) == (
        True,
        best["model_rid"],
        best["model_version_rid"],
        1,
    )
    assert [(row["model_version_rid"], row["rank"]) for row in result["ranking"]] == [
        (results[0]["model_version_rid"], 2),
        (results[1]["model_version_rid"], 3),
        (best["model_version_rid"], 1),
    ]
    assert result["ranking"][2]["metrics"] == {"val_auc:LAST": 0.92, "val_loss:LAST": 0.2}
    assert ctx["ti"].pushed["ranking"] == result["ranking"]
    assert ctx["ti"].pushed["gate"] == result["rows"]
    pushed = (ctx["ti"].pushed["model_rid"], ctx["ti"].pushed["model_version_rid"])
    assert pushed == (best["model_rid"], best["model_version_rid"])
    assert json.loads(json.dumps(result)) == result


def test_the_ranking_table_is_logged_before_the_gate_of_the_best(foundry_connection, capfd):
    results = [trained(DEMO_WORSE_STUDIO), trained(DEMO_STUDIO)]
    capfd.readouterr()
    gate(candidates=results, best_by={"val_auc": "higher"}, thresholds=THRESHOLDS).execute(context())
    logged = "".join(capfd.readouterr())
    assert "Ranked 2 of 2 candidates by val_auc:LAST (higher): the best is candidates[1]" in logged
    assert logged.index("CANDIDATE") < logged.index(f"The gate passed model version {results[1]['model_version_rid']}")


def test_when_the_best_fails_the_gate_the_task_fails_without_trying_the_runner_up(foundry_connection):
    results = [trained(DEMO_STUDIO), trained(DEMO_BREAKS_STUDIO)]
    ctx = context()
    with pytest.raises(AirflowFailException, match=f"The gate stopped model version {results[1]['model_version_rid']}"):
        gate(candidates=results, best_by={"val_auc": "higher"}, thresholds={"val_auc": ">= 0.95"}).execute(ctx)
    assert [row["rank"] for row in ctx["ti"].pushed["ranking"]] == [2, 1]


def test_when_no_candidate_can_be_ranked_the_task_fails_naming_each(foundry_connection):
    results = [trained(), trained()]
    with pytest.raises(AirflowFailException) as failure:
        gate(candidates=results, best_by={"val_f1": "higher"}, thresholds=THRESHOLDS).execute(context())
    message = str(failure.value)
    assert "No candidate can be ranked by val_f1:LAST" in message
    for place, result in enumerate(results):
        assert f"candidates[{place}] (model version {result['model_version_rid']}, config version 1)" in message


def test_the_candidates_may_be_a_mapped_launchs_output():
    from airflow.sdk import DAG

    with DAG("sweep", schedule=None):
        train = LaunchModelStudioOperator.partial(task_id="train", model_studio_rid=DEMO_STUDIO).expand(
            custom_config=[{"max_depth": 4}, {"max_depth": 8}]
        )
        op = gate(candidates=train.output, best_by=BEST_BY, thresholds=THRESHOLDS)
    assert op.upstream_task_ids == {"train"}
    assert "candidates" in op.template_fields


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"candidate": {"model_rid": "x"}, "candidates": [{"model_rid": "x"}], "best_by": BEST_BY},
            r"Pass either candidates=<several launch results> or one candidate",
        ),
        ({"candidate": {"model_rid": "x"}, "best_by": BEST_BY}, r"best_by=.* ranks several candidates, but no"),
        ({"candidates": [{"model_rid": "x"}]}, r"candidates=.* needs best_by to choose one"),
        ({"candidates": [{"model_rid": "x"}], "best_by": {"val_auc": "up"}}, r"best_by\['val_auc'\]='up' must be"),
        ({"candidates": [], "best_by": BEST_BY}, r"candidates=\[\] is empty"),
    ],
)
def test_sweep_arguments_that_cannot_be_right_are_refused_when_the_dag_is_parsed(arguments, message):
    with pytest.raises(FoundryConfigError, match=message):
        gate(thresholds=THRESHOLDS, **arguments)


# Secrets echoed in answers ----------------------------------------------------------------------------------


def echo_the_token(answer, where):
    """``answer`` with the connection's token where a hostile or debugging server might echo it."""
    if where == "version source" and "linkedExperiment" in answer:
        rest = {k: v for k, v in answer.items() if k != "linkedExperiment"}
        return {**rest, "source": {"type": "promoted", "previousModelRid": f"Authorization: Bearer {STATIC_TOKEN}"}}
    if where == "metric value" and "summaryMetrics" in answer:
        metrics = [
            {**m, "value": STATIC_TOKEN} if m["seriesName"] == "val_auc" else m for m in answer["summaryMetrics"]
        ]
        return {**answer, "summaryMetrics": metrics}
    if where == "experiment status" and "summaryMetrics" in answer:
        return {**answer, "status": f"FAILED for {STATIC_TOKEN}"}
    return answer


@pytest.mark.parametrize("where", ["version source", "metric value", "experiment status"])
def test_a_token_echoed_in_a_gate_answer_reaches_no_result_message_xcom_or_log(
    foundry_connection, monkeypatch, caplog, capsys, where
):
    caplog.set_level(logging.DEBUG)
    candidate = trained()
    real_call = FoundryClient.call

    def call(self, name, *args, **kwargs):
        answer = real_call(self, name, *args, **kwargs)
        return echo_the_token(answer, where) if name in ("get_model_version", "get_experiment") else answer

    monkeypatch.setattr(FoundryClient, "call", call)
    ctx = context()
    try:
        outcome = json.dumps(gate(candidate=candidate, thresholds=THRESHOLDS).execute(ctx))
    except AirflowFailException as failure:
        outcome = f"{failure}\n{failure!r}"
    everything = "\n".join([outcome, json.dumps(ctx["ti"].pushed), caplog.text, capsys.readouterr().out])
    assert "***" in everything
    assert STATIC_TOKEN not in everything
