"""The best of several candidates: eligibility, order, ties, and the gate of the best one, on an in-memory Foundry."""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelstudio.deploys.gate_arguments import Candidate, gate_spec, parse_best_by
from airflow_provider_modelstudio.deploys.ranking import NoEligibleCandidateError, run_best_gate
from tests.deploys.fakes import DEPLOYMENT, MODEL, TARGET, FakeFoundry, version_rid

AUC_THEN_LOSS = {"val_auc": "higher", "val_loss": "lower"}


def candidates(foundry, *metrics_per_candidate):
    """One trained version per entry (``{"val_auc_LAST": 0.9, ...}``), as launch results in list order."""
    return [
        Candidate(i, MODEL, foundry.trained(f"c{i}", **metrics), config_version=i + 2)
        for i, metrics in enumerate(metrics_per_candidate)
    ]


def best_gate(foundry, found, best_by=None, thresholds=None, **champion):
    gate = gate_spec(
        thresholds=thresholds or {"val_auc": ">= 0.5"},
        compare=champion.pop("compare", None),
        margin=0.0,
        rendered=True,
        **champion,
    )
    return run_best_gate(foundry, found, parse_best_by(best_by or AUC_THEN_LOSS), gate)


def ranks(result):
    return [row["rank"] for row in result.as_dict()["ranking"]]


def test_the_candidate_with_the_best_first_metric_is_chosen_and_gated():
    foundry = FakeFoundry()
    found = candidates(
        foundry,
        {"val_auc_LAST": 0.90, "val_loss_LAST": 0.2},
        {"val_auc_LAST": 0.93, "val_loss_LAST": 0.3},
        {"val_auc_LAST": 0.91, "val_loss_LAST": 0.1},
    )
    result = best_gate(foundry, found)
    outcome = result.as_dict()
    assert (outcome["model_rid"], outcome["model_version_rid"], outcome["config_version"]) == (
        MODEL,
        version_rid("c1"),
        3,
    )
    assert outcome["passed"] is True
    assert [row["metric"] for row in outcome["rows"]] == ["val_auc:LAST"]
    assert ranks(result) == [3, 1, 2]
    assert json.loads(json.dumps(outcome)) == outcome


def test_lower_is_better_ranks_the_smallest_value_first():
    foundry = FakeFoundry()
    found = candidates(foundry, {"val_loss_LAST": 0.3}, {"val_loss_LAST": 0.1}, {"val_loss_LAST": 0.2})
    result = best_gate(foundry, found, best_by={"val_loss": "lower"}, thresholds={"val_loss": "<= 1"})
    assert ranks(result) == [3, 1, 2]


def test_a_tie_on_the_first_metric_goes_to_the_next_and_both_rows_say_so():
    foundry = FakeFoundry()
    found = candidates(
        foundry,
        {"val_auc_LAST": 0.92, "val_loss_LAST": 0.25},
        {"val_auc_LAST": 0.92, "val_loss_LAST": 0.20},
        {"val_auc_LAST": 0.80, "val_loss_LAST": 0.10},
    )
    result = best_gate(foundry, found)
    rows = result.as_dict()["ranking"]
    assert ranks(result) == [2, 1, 3]
    assert rows[1]["note"] == "ahead of candidates[0]: the same val_auc:LAST, val_loss:LAST decides"
    assert rows[0]["note"] == "behind candidates[1]: the same val_auc:LAST, val_loss:LAST decides"
    assert rows[2]["note"] == ""


def test_values_equal_as_the_table_shows_them_tie():
    foundry = FakeFoundry()
    found = candidates(
        foundry,
        {"val_auc_LAST": 0.1 + 0.2, "val_loss_LAST": 0.3},
        {"val_auc_LAST": 0.3, "val_loss_LAST": 0.2},
    )
    assert ranks(best_gate(foundry, found, thresholds={"val_auc": ">= 0.1"})) == [2, 1]


def test_candidates_equal_on_every_metric_keep_their_list_order():
    foundry = FakeFoundry()
    same = {"val_auc_LAST": 0.9, "val_loss_LAST": 0.2}
    found = candidates(foundry, {"val_auc_LAST": 0.5, "val_loss_LAST": 0.2}, same, same)
    result = best_gate(foundry, found, thresholds={"val_auc": ">= 0.1"})
    assert ranks(result) == [3, 1, 2]
    assert result.as_dict()["model_version_rid"] == version_rid("c1")
    assert result.as_dict()["ranking"][2]["note"] == (
        "behind candidates[1]: the same val_auc:LAST, val_loss:LAST, the earlier in the list goes first"
    )


def test_a_candidate_missing_a_ranking_metric_is_left_out_saying_which_and_what_it_has():
    foundry = FakeFoundry()
    found = candidates(
        foundry,
        {"val_auc_LAST": 0.99},
        {"val_auc_LAST": 0.90, "val_loss_LAST": 0.2},
    )
    result = best_gate(foundry, found)
    first = result.as_dict()["ranking"][0]
    assert (first["rank"], first["metrics"]) == (None, {"val_auc:LAST": 0.99, "val_loss:LAST": None})
    assert first["excluded"] == (
        "its experiment ri.models.main.experiment.c0 has no val_loss:LAST (it has: val_auc:LAST)"
    )
    assert result.as_dict()["model_version_rid"] == version_rid("c1")
    assert "left out: its experiment ri.models.main.experiment.c0 has no val_loss:LAST" in result.summary()


@pytest.mark.parametrize(
    ("value", "shown"),
    [(float("nan"), "NaN"), (float("inf"), "Infinity"), ("0.99", "the text '0.99'"), (None, "null")],
    ids=["nan", "infinity", "text", "null"],
)
def test_a_candidate_whose_ranking_metric_is_not_a_finite_number_is_left_out(value, shown):
    foundry = FakeFoundry()
    found = candidates(
        foundry, {"val_auc_LAST": value, "val_loss_LAST": 0.1}, {"val_auc_LAST": 0.8, "val_loss_LAST": 0.3}
    )
    result = best_gate(foundry, found)
    first = result.as_dict()["ranking"][0]
    assert (first["rank"], first["excluded"]) == (None, f"the candidate's val_auc:LAST is {shown}, not a finite number")
    assert result.as_dict()["model_version_rid"] == version_rid("c1")
    json.dumps(result.as_dict(), allow_nan=False)


def test_a_candidate_without_an_experiment_is_left_out():
    foundry = FakeFoundry()
    found = candidates(foundry, {"val_auc_LAST": 0.8, "val_loss_LAST": 0.3})
    bare = version_rid("bare")
    foundry.versions[(MODEL, bare)] = {"rid": bare, "source": {"type": "sdk"}}
    found.append(Candidate(1, MODEL, bare))
    row = best_gate(foundry, found).as_dict()["ranking"][1]
    assert row["rank"] is None
    assert row["excluded"].startswith(f"no experiment to read metrics from (model version {bare} of model {MODEL}")


def test_when_no_candidate_is_eligible_the_gate_fails_naming_each_and_why():
    foundry = FakeFoundry()
    found = candidates(foundry, {"val_loss_LAST": 0.2}, {"val_auc_LAST": float("nan"), "val_loss_LAST": 0.2})
    with pytest.raises(NoEligibleCandidateError) as error:
        best_gate(foundry, found)
    message = str(error.value)
    assert message.startswith("No candidate can be ranked by val_auc:LAST, then val_loss:LAST: every one was left out.")
    assert f"candidates[0] (model version {version_rid('c0')}, config version 2): its experiment" in message
    assert "has no val_auc:LAST (it has: val_loss:LAST)" in message
    assert (
        f"candidates[1] (model version {version_rid('c1')}, config version 3): the candidate's val_auc:LAST is NaN"
        in message
    )


def test_one_candidate_is_ranked_first_and_gated():
    foundry = FakeFoundry()
    found = candidates(foundry, {"val_auc_LAST": 0.4, "val_loss_LAST": 0.2})
    result = best_gate(foundry, found)
    assert ranks(result) == [1]
    assert result.passed is False
    assert result.as_dict()["rows"][0]["verdict"] == "FAIL"


def test_the_best_is_gated_against_the_champion_and_a_failure_does_not_fall_back_to_the_runner_up():
    foundry = FakeFoundry()
    champion = foundry.trained("champion", val_auc_LAST=0.9, val_loss_LAST=0.1)
    foundry.serve(TARGET, foundry.promoted("served", MODEL, champion))
    found = candidates(
        foundry,
        {"val_auc_LAST": 0.95, "val_loss_LAST": 0.3},  # best by val_auc, worse loss than the champion
        {"val_auc_LAST": 0.91, "val_loss_LAST": 0.05},  # would pass
    )
    result = best_gate(
        foundry, found, compare={"val_auc": "higher", "val_loss": "lower"}, champion_live_deployment_rid=DEPLOYMENT
    )
    outcome = result.as_dict()
    assert (outcome["passed"], outcome["model_version_rid"]) == (False, version_rid("c0"))
    assert [row["verdict"] for row in outcome["rows"]] == ["PASS", "PASS", "FAIL"]
    assert outcome["champion"]["model_version_rid"] == version_rid("served")


def test_the_ranking_table_shows_every_candidate_in_list_order():
    foundry = FakeFoundry()
    found = candidates(foundry, {"val_auc_LAST": 0.9, "val_loss_LAST": 0.2}, {"val_loss_LAST": 0.1})
    summary = best_gate(foundry, found).summary().splitlines()
    assert summary[0] == (
        f"Ranked 1 of 2 candidates by val_auc:LAST (higher), then val_loss:LAST (lower): the best is candidates[0] "
        f"(model version {version_rid('c0')}, config version 2); 1 left out."
    )
    c0, c1 = version_rid("c0"), version_rid("c1")
    width = len(c0)
    assert summary[1:4] == [
        f"CANDIDATE      {'MODEL VERSION'.ljust(width)}  CONFIG  val_auc:LAST  val_loss:LAST  RANK  NOTE",
        f"candidates[0]  {c0}  2       0.9           0.2            1",
        f"candidates[1]  {c1}  3       -             0.1            -     left out: its experiment "
        "ri.models.main.experiment.c1 has no val_auc:LAST (it has: val_loss:LAST)",
    ]
    assert summary[4].startswith(f"The gate passed model version {c0}")


def test_versions_are_read_once_per_candidate_and_the_best_is_not_read_again():
    foundry = FakeFoundry()
    found = candidates(
        foundry, {"val_auc_LAST": 0.9, "val_loss_LAST": 0.2}, {"val_auc_LAST": 0.8, "val_loss_LAST": 0.2}
    )
    best_gate(foundry, found)
    assert foundry.version_reads == 2


def test_a_promoted_candidate_is_ranked_by_the_experiment_of_the_version_it_was_promoted_from():
    foundry = FakeFoundry()
    trained = foundry.trained("trained", val_auc_LAST=0.95, val_loss_LAST=0.1)
    copy = foundry.promoted("copy", MODEL, trained)
    found = [*candidates(foundry, {"val_auc_LAST": 0.9, "val_loss_LAST": 0.2}), Candidate(1, TARGET, copy)]
    assert best_gate(foundry, found).as_dict()["model_version_rid"] == copy
