"""The gate's verdicts and its table, on an in-memory Foundry."""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelstudio.deploys.gate import run_gate
from airflow_provider_modelstudio.deploys.gate_arguments import candidate_version, gate_spec
from airflow_provider_modelstudio.deploys.lineage import VersionRef
from airflow_provider_modelstudio.deploys.metrics import MissingMetricError
from tests.deploys.fakes import DEPLOYMENT, MODEL, TARGET, FakeFoundry, version_rid


def spec(thresholds=None, compare=None, margin=0.0, **champion):
    return gate_spec(thresholds=thresholds, compare=compare, margin=margin, rendered=True, **champion)


def deployed_champion(foundry, **metrics):
    trained = foundry.trained("champion", **metrics)
    served = foundry.promoted("served", MODEL, trained)
    foundry.serve(TARGET, served)


def test_the_gate_passes_when_every_threshold_and_comparison_passes():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=0.91, val_loss_MIN=0.2)
    deployed_champion(foundry, val_auc_LAST=0.90, val_loss_MIN=0.25)
    gate = spec(
        thresholds={"val_auc": ">= 0.85", "val_loss:MIN": "<= 0.3"},
        compare={"val_auc": "higher", "val_loss:MIN": "lower"},
        champion_live_deployment_rid=DEPLOYMENT,
    )
    result = run_gate(foundry, VersionRef(MODEL, candidate), gate)
    assert result.passed
    assert [(row.metric, row.check, row.verdict) for row in result.rows] == [
        ("val_auc:LAST", "threshold", "PASS"),
        ("val_loss:MIN", "threshold", "PASS"),
        ("val_auc:LAST", "champion", "PASS"),
        ("val_loss:MIN", "champion", "PASS"),
    ]
    assert [row.champion for row in result.rows] == [None, None, 0.90, 0.25]


def test_one_failed_check_fails_the_gate_and_the_summary_names_it():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=0.88)
    deployed_champion(foundry, val_auc_LAST=0.90)
    gate = spec(
        thresholds={"val_auc": ">= 0.85"}, compare={"val_auc": "higher"}, champion_live_deployment_rid=DEPLOYMENT
    )
    result = run_gate(foundry, VersionRef(MODEL, candidate), gate)
    assert not result.passed
    assert [row.verdict for row in result.rows] == ["PASS", "FAIL"]
    assert result.summary().startswith(
        f"The gate stopped model version {candidate} of model {MODEL}: 1 of 2 checks failed (val_auc:LAST >= champion)."
    )


def test_the_champion_is_the_newest_version_on_its_branch():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=0.91)
    old = foundry.trained("old", model=TARGET, val_auc_LAST=0.95)
    new = foundry.trained("new", model=TARGET, val_auc_LAST=0.90)
    foundry.branches[(TARGET, "master")] = [
        {"rid": old, "createdTime": "2026-01-01T00:00:00Z"},
        {"rid": new, "createdTime": "2026-02-01T00:00:00Z"},
    ]
    gate = spec(compare={"val_auc": "higher"}, champion_model_rid=TARGET, champion_branch="master")
    result = run_gate(foundry, VersionRef(MODEL, candidate), gate)
    assert result.rows[0].champion == 0.90
    assert result.as_dict()["champion"]["model_version_rid"] == new


@pytest.mark.parametrize(
    ("champion", "note"),
    [
        ({"champion_live_deployment_rid": DEPLOYMENT}, f"live deployment {DEPLOYMENT} serves no model version yet"),
        (
            {"champion_model_rid": TARGET, "champion_branch": "master"},
            f"branch 'master' of model {TARGET} has no version yet",
        ),
    ],
)
def test_with_no_champion_yet_the_comparisons_pass_with_a_note(champion, note):
    foundry = FakeFoundry()
    foundry.serve(None, None)
    candidate = foundry.trained("candidate", val_auc_LAST=0.5)
    result = run_gate(foundry, VersionRef(MODEL, candidate), spec(compare={"val_auc": "higher"}, **champion))
    (row,) = result.rows
    assert (row.verdict, row.champion, row.note) == ("PASS", None, f"no champion: {note}")
    assert f"no champion: {note}" in result.table()


def test_with_no_champion_yet_the_candidate_must_still_have_the_compared_metric():
    foundry = FakeFoundry()
    foundry.serve(None, None)
    candidate = foundry.trained("candidate", val_loss_LAST=0.5)
    with pytest.raises(MissingMetricError, match="has no metric val_auc:LAST"):
        run_gate(
            foundry,
            VersionRef(MODEL, candidate),
            spec(compare={"val_auc": "higher"}, champion_live_deployment_rid=DEPLOYMENT),
        )


def test_a_champion_without_a_compared_metric_is_an_error_naming_the_champion():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=0.91)
    deployed_champion(foundry, val_loss_LAST=0.2)
    with pytest.raises(MissingMetricError) as error:
        run_gate(
            foundry,
            VersionRef(MODEL, candidate),
            spec(compare={"val_auc": "higher"}, champion_live_deployment_rid=DEPLOYMENT),
        )
    message = str(error.value)
    assert f"champion model version {version_rid('served')} of model {TARGET}" in message
    assert "has no metric val_auc:LAST" in message
    assert "val_loss:LAST" in message


def test_a_candidate_gated_against_its_own_promoted_copy_says_so():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=0.91)
    foundry.serve(TARGET, foundry.promoted("served", MODEL, candidate))
    result = run_gate(
        foundry,
        VersionRef(MODEL, candidate),
        spec(compare={"val_auc": "higher"}, champion_live_deployment_rid=DEPLOYMENT),
    )
    assert result.rows[0].note == "the champion is this same model (same experiment)"


def test_the_table_is_fixed_width_text_with_one_line_per_check():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=0.91, val_loss_MIN=0.35)
    deployed_champion(foundry, val_auc_LAST=0.9)
    gate = spec(
        thresholds={"val_auc": ">= 0.85", "val_loss:MIN": "<= 0.3"},
        compare={"val_auc": "higher by 0.005"},
        champion_live_deployment_rid=DEPLOYMENT,
    )
    assert run_gate(foundry, VersionRef(MODEL, candidate), gate).table().splitlines() == [
        "METRIC        CANDIDATE  CHAMPION  THRESHOLD            VERDICT  NOTE",
        "val_auc:LAST  0.91       -         >= 0.85              PASS",
        "val_loss:MIN  0.35       -         <= 0.3               FAIL",
        "val_auc:LAST  0.91       0.9       >= champion + 0.005  PASS",
    ]


def test_the_result_is_json_safe_and_can_be_the_next_tasks_candidate():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=0.91)
    deployed_champion(foundry, val_auc_LAST=0.9)
    result = run_gate(
        foundry,
        VersionRef(MODEL, candidate),
        spec(compare={"val_auc": "higher"}, champion_live_deployment_rid=DEPLOYMENT),
    ).as_dict()
    assert json.loads(json.dumps(result)) == result
    assert candidate_version(None, None, result, rendered=True) == (MODEL, candidate)
    assert result["champion"] == {
        "source": f"live deployment {DEPLOYMENT}",
        "model_rid": TARGET,
        "model_version_rid": version_rid("served"),
        "experiment_rid": "ri.models.main.experiment.champion",
        "note": "",
    }
    assert result["rows"][0] == {
        "metric": "val_auc:LAST",
        "check": "champion",
        "candidate": 0.91,
        "champion": 0.9,
        "threshold": ">= champion",
        "verdict": "PASS",
        "note": "",
    }


def test_a_missing_metric_of_an_unfinished_experiment_says_it_is_unfinished():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate")
    foundry.experiments["ri.models.main.experiment.candidate"]["status"] = "RUNNING"
    with pytest.raises(
        MissingMetricError, match=r"experiment ri\.models\.main\.experiment\.candidate, which is RUNNING"
    ):
        run_gate(foundry, VersionRef(MODEL, candidate), spec(thresholds={"val_auc": ">= 0.8"}))


def test_the_summary_warns_of_an_experiment_that_has_not_succeeded():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=0.91)
    foundry.experiments["ri.models.main.experiment.candidate"]["status"] = "FAILED"
    result = run_gate(foundry, VersionRef(MODEL, candidate), spec(thresholds={"val_auc": ">= 0.8"}))
    assert result.summary().splitlines()[0] == (
        f"The gate passed model version {candidate} of model {MODEL}: 1 check passed. The candidate's experiment "
        "ri.models.main.experiment.candidate is FAILED: its metrics may not be final."
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [(float("inf"), "Infinity"), (10**400, "1" + "0" * 59 + "..."), (float("nan"), "NaN"), ("0.9", "the text '0.9'")],
    ids=["infinity", "integer-beyond-float", "nan", "text"],
)
def test_a_candidate_metric_that_is_not_a_finite_number_fails_its_checks_with_a_note(value, shown):
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=value)
    deployed_champion(foundry, val_auc_LAST=0.90)
    gate = spec(
        thresholds={"val_auc": ">= 0.85"}, compare={"val_auc": "higher"}, champion_live_deployment_rid=DEPLOYMENT
    )
    result = run_gate(foundry, VersionRef(MODEL, candidate), gate)
    note = f"the candidate's val_auc:LAST is {shown}, not a finite number"
    assert [(row.verdict, row.candidate, row.note) for row in result.rows] == [("FAIL", None, note)] * 2
    assert "\n".join(result.table().splitlines()[1:]) == "\n".join(
        [
            f"val_auc:LAST  -          -         >= 0.85      FAIL     {note}",
            f"val_auc:LAST  -          0.9       >= champion  FAIL     {note}",
        ]
    )
    json.dumps(result.as_dict(), allow_nan=False)


def test_a_champion_metric_that_is_not_a_finite_number_fails_the_comparison_with_a_note():
    foundry = FakeFoundry()
    candidate = foundry.trained("candidate", val_auc_LAST=0.91)
    deployed_champion(foundry, val_auc_LAST=float("nan"))
    gate = spec(compare={"val_auc": "higher"}, champion_live_deployment_rid=DEPLOYMENT)
    (row,) = run_gate(foundry, VersionRef(MODEL, candidate), gate).rows
    assert (row.verdict, row.candidate, row.champion) == ("FAIL", 0.91, None)
    assert row.note == "the champion's val_auc:LAST is NaN, not a finite number"
