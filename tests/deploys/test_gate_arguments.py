"""The gate's arguments: threshold and compare specs, the champion, the candidate, and how a check passes."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.deploys.gate_arguments import (
    BEST_BY_EXAMPLE,
    COMPARE_EXAMPLE,
    THRESHOLDS_EXAMPLE,
    Candidate,
    ChampionSpec,
    Comparison,
    RankBy,
    Threshold,
    candidate_version,
    candidate_versions,
    check_on_failure,
    check_sweep,
    gate_spec,
    parse_best_by,
    parse_comparisons,
    parse_thresholds,
)
from airflow_provider_modelstudio.deploys.metrics import Metric
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from tests.deploys.fakes import DEPLOYMENT, MODEL, TARGET, version_rid

AUC = Metric("val_auc", "LAST")


def spec(thresholds=None, compare=None, margin=0.0, **champion):
    return gate_spec(thresholds=thresholds, compare=compare, margin=margin, rendered=True, **champion)


# Thresholds -------------------------------------------------------------------------------------------------


def test_thresholds_read_the_metric_the_operator_and_the_bound():
    assert parse_thresholds({"val_auc": ">= 0.85", "val_loss:MIN": "<1e-1"}, rendered=True) == (
        Threshold(AUC, ">=", 0.85),
        Threshold(Metric("val_loss", "MIN"), "<", 0.1),
    )


@pytest.mark.parametrize("value", ["0.85", ">= high", "=> 0.85", ">= nan", ">= inf", 0.85, None])
def test_a_threshold_that_is_no_comparison_is_refused_naming_the_entry_the_value_and_an_example(value):
    with pytest.raises(FoundryConfigError) as error:
        parse_thresholds({"val_auc": value}, rendered=False)
    message = str(error.value)
    assert f"thresholds['val_auc']={value!r}" in message
    assert THRESHOLDS_EXAMPLE in message


def test_a_templated_threshold_is_checked_only_once_rendered():
    unrendered = {"val_auc": ">= {{ params.min_auc }}", "val_loss": "<= 0.3"}
    assert parse_thresholds(unrendered, rendered=False) is None
    with pytest.raises(FoundryConfigError, match="is not a comparison"):
        parse_thresholds(unrendered, rendered=True)


def test_the_literal_entries_next_to_a_templated_one_are_checked_before_rendering():
    with pytest.raises(FoundryConfigError, match=r"thresholds\['val_loss'\]='0.3'"):
        parse_thresholds({"val_auc": ">= {{ params.min_auc }}", "val_loss": "0.3"}, rendered=False)


def test_a_templated_thresholds_argument_is_checked_only_once_rendered():
    assert parse_thresholds("{{ params.thresholds | tojson }}", rendered=False) is None


def test_rendered_thresholds_may_be_a_json_object():
    assert parse_thresholds('{"val_auc": ">= 0.85"}', rendered=True) == (Threshold(AUC, ">=", 0.85),)


@pytest.mark.parametrize("value", ["{'val_auc': '>= 0.85'}", "[1]", "val_auc >= 0.85"])
def test_rendered_thresholds_that_are_no_json_object_are_refused(value):
    with pytest.raises(FoundryConfigError, match="not a JSON object"):
        parse_thresholds(value, rendered=True)


def test_thresholds_that_are_no_dict_are_refused():
    with pytest.raises(FoundryConfigError, match="must be a dict of metric -> check"):
        parse_thresholds([("val_auc", ">= 0.85")], rendered=False)


@pytest.mark.parametrize(
    ("operator", "value", "passes"),
    [
        (">=", 0.85, True),
        (">=", 0.84, False),
        (">", 0.85, False),
        (">", 0.86, True),
        ("<=", 0.85, True),
        ("<=", 0.86, False),
        ("<", 0.85, False),
        ("<", 0.84, True),
        ("==", 0.85, True),
        ("==", 0.86, False),
    ],
)
def test_a_threshold_passes_by_its_operator(operator, value, passes):
    assert Threshold(AUC, operator, 0.85).passes(value) is passes


def test_threshold_boundaries_tolerate_float_rounding():
    assert Threshold(AUC, "==", 0.3).passes(0.1 + 0.2)
    assert Threshold(AUC, "<=", 0.3).passes(0.1 + 0.2)
    assert not Threshold(AUC, ">", 0.3).passes(0.1 + 0.2)


# Comparisons ------------------------------------------------------------------------------------------------


def test_compare_reads_the_direction_and_an_own_margin_or_the_default_one():
    assert parse_comparisons({"val_auc": "Higher", "val_loss:MIN": "lower by 0.02"}, 0.01, rendered=True) == (
        Comparison(AUC, "higher", 0.01),
        Comparison(Metric("val_loss", "MIN"), "lower", 0.02),
    )


@pytest.mark.parametrize("value", ["better", "higher by a lot", "higher 0.1", "lower by inf", 1])
def test_a_compare_entry_without_a_direction_is_refused_naming_the_entry_and_an_example(value):
    with pytest.raises(FoundryConfigError) as error:
        parse_comparisons({"val_auc": value}, 0.0, rendered=False)
    assert f"compare['val_auc']={value!r}" in str(error.value)
    assert COMPARE_EXAMPLE in str(error.value)


@pytest.mark.parametrize(
    ("direction", "margin", "candidate", "passes"),
    [
        ("higher", 0.0, 0.90, True),
        ("higher", 0.0, 0.89, False),
        ("higher", 0.01, 0.905, False),
        ("higher", 0.01, 0.91, True),
        ("lower", 0.0, 0.90, True),
        ("lower", 0.0, 0.91, False),
        ("lower", 0.05, 0.85, True),
        ("lower", 0.05, 0.86, False),
    ],
)
def test_the_candidate_must_beat_the_champion_by_the_margin(direction, margin, candidate, passes):
    assert Comparison(AUC, direction, margin).passes(candidate, 0.90) is passes


def test_a_negative_margin_tolerates_a_candidate_that_much_worse():
    tolerant = Comparison(AUC, "higher", -0.01)
    assert tolerant.passes(0.89, 0.90)
    assert not tolerant.passes(0.88, 0.90)
    assert tolerant.requirement == ">= champion - 0.01"


def test_a_comparison_states_its_requirement_relative_to_the_champion():
    assert Comparison(AUC, "higher", 0.0).requirement == ">= champion"
    assert Comparison(AUC, "lower", 0.02).requirement == "<= champion - 0.02"


# The whole spec ---------------------------------------------------------------------------------------------


def test_a_non_finite_margin_is_refused():
    with pytest.raises(FoundryConfigError, match=r"margin=nan must be a finite number"):
        spec(compare={"val_auc": "higher"}, margin=float("nan"), champion_live_deployment_rid=DEPLOYMENT)


def test_compare_without_a_champion_is_refused_saying_how_to_name_one():
    with pytest.raises(FoundryConfigError, match="needs a champion to compare with"):
        spec(compare={"val_auc": "higher"})


def test_a_champion_compared_on_nothing_is_refused():
    with pytest.raises(FoundryConfigError, match="compared on nothing"):
        spec(thresholds={"val_auc": ">= 0.8"}, champion_live_deployment_rid=DEPLOYMENT)


def test_a_deployment_and_a_branch_champion_together_are_refused():
    with pytest.raises(FoundryConfigError, match="name two champions"):
        spec(
            compare={"val_auc": "higher"},
            champion_live_deployment_rid=DEPLOYMENT,
            champion_model_rid=TARGET,
            champion_branch="master",
        )


@pytest.mark.parametrize(("model", "branch"), [(TARGET, None), (None, "master"), (TARGET, " ")])
def test_a_branch_champion_needs_a_model_and_a_branch(model, branch):
    with pytest.raises(FoundryConfigError, match="a branch champion needs both"):
        spec(compare={"val_auc": "higher"}, champion_model_rid=model, champion_branch=branch)


def test_a_malformed_champion_deployment_rid_is_refused_unless_templated():
    with pytest.raises(FoundryConfigError, match="champion_live_deployment_rid='live' is not a live deployment RID"):
        spec(compare={"val_auc": "higher"}, champion_live_deployment_rid="live")
    templated = gate_spec(
        thresholds=None,
        compare={"val_auc": "higher"},
        margin=0.0,
        champion_live_deployment_rid="{{ params.deployment }}",
        rendered=False,
    )
    assert templated.champion == ChampionSpec(live_deployment_rid="{{ params.deployment }}")


def test_a_gate_that_checks_nothing_is_refused():
    with pytest.raises(FoundryConfigError, match="The gate checks nothing"):
        spec(thresholds={})


@pytest.mark.parametrize("thresholds", ["{{ params.thresholds }}", {"val_auc": ">= {{ params.min_auc }}"}])
def test_a_gate_whose_checks_are_templated_is_accepted_before_rendering(thresholds):
    assert gate_spec(thresholds=thresholds, compare=None, margin=0, rendered=False).thresholds == ()


def test_a_templated_compare_without_a_champion_is_refused_before_rendering():
    with pytest.raises(FoundryConfigError, match="needs a champion"):
        gate_spec(thresholds=None, compare="{{ params.compare }}", margin=0, rendered=False)


@pytest.mark.parametrize("value", ["fail", "skip"])
def test_on_failure_is_fail_or_skip(value):
    assert check_on_failure(value) == value


def test_any_other_on_failure_is_refused():
    with pytest.raises(FoundryConfigError, match="on_failure='warn' must be 'fail'"):
        check_on_failure("warn")


# The candidate ----------------------------------------------------------------------------------------------


def test_the_candidate_may_be_a_launch_result():
    result = {"model_rid": MODEL, "model_version_rid": version_rid("v1"), "build_status": "SUCCEEDED"}
    assert candidate_version(None, None, result, rendered=True) == (MODEL, version_rid("v1"))


def test_a_candidate_result_and_explicit_rids_together_are_refused():
    with pytest.raises(FoundryConfigError, match="not both"):
        candidate_version(MODEL, None, {"model_rid": MODEL}, rendered=False)


def test_without_a_candidate_both_rids_are_needed():
    with pytest.raises(FoundryConfigError, match="the gate needs both"):
        candidate_version(None, version_rid("v1"), None, rendered=False)


def test_explicit_rids_are_checked_unless_templated():
    with pytest.raises(FoundryConfigError, match="model_version_rid='v1' is not a model version RID"):
        candidate_version(MODEL, "v1", None, rendered=False)
    templated = "{{ ti.xcom_pull('train')['model_version_rid'] }}"
    assert candidate_version(MODEL, templated, None, rendered=False) == (MODEL, templated)


def test_a_candidate_with_several_model_outputs_asks_which_output_to_gate():
    result = {"model_rid": {"a": MODEL, "b": TARGET}, "model_version_rid": {"a": "x", "b": "y"}}
    with pytest.raises(FoundryConfigError, match=r"several model outputs \(a, b\)"):
        candidate_version(None, None, result, rendered=True)


@pytest.mark.parametrize("rendered", [False, True])
def test_a_candidate_that_is_a_plain_string_is_refused_saying_how_to_pass_a_result(rendered):
    with pytest.raises(FoundryConfigError, match=r"candidate=train\.output"):
        candidate_version(None, None, "{'model_rid': 'x'}", rendered=rendered)


def test_a_candidate_result_with_a_malformed_rid_names_the_key():
    with pytest.raises(FoundryConfigError, match=r"candidate\['model_version_rid'\]=None"):
        candidate_version(None, None, {"model_rid": MODEL}, rendered=True)


# Several candidates ------------------------------------------------------------------------------------------


def launch_result(name, config_version=2):
    return {"model_rid": MODEL, "model_version_rid": version_rid(name), "config_version": config_version}


def test_best_by_reads_each_metric_and_direction_in_order():
    assert parse_best_by({"val_auc": "Higher", "val_loss:MIN": " lower "}) == (
        RankBy(AUC, "higher"),
        RankBy(Metric("val_loss", "MIN"), "lower"),
    )


@pytest.mark.parametrize("value", ["better", "higher by 0.01", 1, None])
def test_a_best_by_entry_that_is_no_direction_is_refused_naming_the_entry_and_an_example(value):
    with pytest.raises(FoundryConfigError) as error:
        parse_best_by({"val_auc": value})
    message = str(error.value)
    assert f"best_by['val_auc']={value!r} must be 'higher' or 'lower'" in message
    assert BEST_BY_EXAMPLE in message


@pytest.mark.parametrize("value", [{}, ["val_auc"], "val_auc"])
def test_best_by_that_is_no_dict_of_metrics_is_refused(value):
    with pytest.raises(FoundryConfigError, match=r"best_by=.* must be a non-empty dict of metric -> 'higher' or"):
        parse_best_by(value)


def test_candidates_need_best_by_to_choose():
    with pytest.raises(FoundryConfigError, match=r"candidates=.* needs best_by to choose one"):
        check_sweep(None, None, None, [launch_result("a")], None)


def test_best_by_without_candidates_is_refused():
    with pytest.raises(FoundryConfigError, match=r"best_by=.* ranks several candidates, but no candidates were given"):
        check_sweep(launch_result("a"), None, None, None, {"val_auc": "higher"})


@pytest.mark.parametrize(
    "single",
    [
        {"candidate": launch_result("a")},
        {"model_rid": MODEL},
        {"model_version_rid": version_rid("a")},
    ],
)
def test_candidates_next_to_a_single_candidate_are_refused(single):
    arguments = {"candidate": None, "model_rid": None, "model_version_rid": None, **single}
    with pytest.raises(FoundryConfigError, match="Pass either candidates=<several launch results> or one candidate"):
        check_sweep(candidates=[launch_result("b")], best_by={"val_auc": "higher"}, **arguments)


def test_a_bad_best_by_is_refused_when_candidates_are_checked():
    with pytest.raises(FoundryConfigError, match=r"best_by\['val_auc'\]='up'"):
        check_sweep(None, None, None, "{{ ti.xcom_pull('train') }}", {"val_auc": "up"})


def test_candidates_are_the_launch_results_versions_in_list_order():
    found = candidate_versions((launch_result("a", 3), launch_result("b", 4)), rendered=True)
    assert found == (Candidate(0, MODEL, version_rid("a"), 3), Candidate(1, MODEL, version_rid("b"), 4))


@pytest.mark.parametrize("rendered", [False, True])
def test_empty_candidates_are_refused(rendered):
    with pytest.raises(FoundryConfigError, match=r"candidates=\[\] is empty: there is nothing to choose from"):
        candidate_versions([], rendered=rendered)


@pytest.mark.parametrize("rendered", [False, True])
def test_candidates_that_are_a_plain_string_are_refused_saying_how_to_pass_them(rendered):
    with pytest.raises(FoundryConfigError, match="is not a list of launch results"):
        candidate_versions("[{'model_rid': 'x'}]", rendered=rendered)


def test_templated_or_lazy_candidates_are_checked_once_rendered():
    assert candidate_versions("{{ ti.xcom_pull('train') }}", rendered=False) is None
    assert candidate_versions(object(), rendered=False) is None


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (None, r"candidates\[1\]: candidate=None is not a launch result"),
        ({"model_rid": MODEL}, r"candidates\[1\]: candidate\['model_version_rid'\]"),
        (launch_result("a") | {"model_rid": "x"}, r"candidates\[1\]: candidate\['model_rid'\]"),
    ],
)
def test_a_candidate_that_is_no_launch_result_is_refused_naming_its_place(bad, message):
    with pytest.raises(FoundryConfigError, match=message):
        candidate_versions([launch_result("a"), bad], rendered=True)


def test_a_mapping_is_not_a_list_of_candidates():
    with pytest.raises(FoundryConfigError, match="is not a list of launch results"):
        candidate_versions(launch_result("a"), rendered=True)
