"""Metric names in the gate's specs, and reading their values from an experiment's summary metrics."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.deploys.metrics import (
    Metric,
    MissingMetricError,
    metric_value,
    parse_metric,
    summary_metrics,
)
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.shapes import Experiment
from tests.deploys.fakes import summary

EXAMPLE = "thresholds={'val_auc': '>= 0.85'}"


def parse(text):
    return parse_metric(text, field="thresholds", example=EXAMPLE)


def test_a_metric_without_aggregation_is_its_last_value():
    assert parse("val_auc") == Metric("val_auc", "LAST")


def test_the_aggregation_after_the_last_colon_is_read_in_any_case():
    assert parse("val_loss:min") == Metric("val_loss", "MIN")


def test_a_series_with_a_colon_in_its_name_is_written_with_its_aggregation():
    assert parse("eval:auc:LAST") == Metric("eval:auc", "LAST")


@pytest.mark.parametrize("key", ["val_loss:MEAN", "eval:auc", ":MIN", "", 3])
def test_a_key_that_is_no_metric_is_refused_naming_it_and_an_example(key):
    with pytest.raises(FoundryConfigError) as error:
        parse(key)
    assert repr(key) in str(error.value)
    assert EXAMPLE in str(error.value)


def test_a_templated_key_is_refused_because_airflow_renders_only_values():
    with pytest.raises(FoundryConfigError, match="not its keys"):
        parse("{{ params.metric }}")


def test_summary_metrics_are_read_by_series_and_aggregation():
    metrics = summary_metrics(Experiment.from_json({"summaryMetrics": summary(val_auc_LAST=0.9, val_auc_MAX=0.93)}))
    assert metric_value(metrics, Metric("val_auc", "MAX"), whose="candidate") == 0.93


def test_a_missing_metric_names_the_version_the_metric_and_the_metrics_available():
    metrics = summary_metrics(Experiment.from_json({"summaryMetrics": summary(val_auc_LAST=0.9, train_loss_MIN=0.1)}))
    with pytest.raises(MissingMetricError) as error:
        metric_value(metrics, Metric("val_loss", "LAST"), whose="candidate model version V")
    message = str(error.value)
    assert "candidate model version V has no metric val_loss:LAST" in message
    assert "train_loss:MIN, val_auc:LAST" in message


def test_a_missing_aggregation_says_which_aggregations_the_series_has():
    metrics = summary_metrics(Experiment.from_json({"summaryMetrics": summary(val_loss_LAST=0.2)}))
    with pytest.raises(MissingMetricError, match=r"'val_loss' is summarised as val_loss:LAST"):
        metric_value(metrics, Metric("val_loss", "MIN"), whose="candidate")


@pytest.mark.parametrize("value", [None, "0.9", float("nan"), float("inf"), 10**400, True])
def test_a_metric_whose_value_is_not_a_finite_number_has_no_value(value):
    metrics = summary_metrics(
        Experiment.from_json({"summaryMetrics": [{"seriesName": "val_auc", "aggregation": "LAST", "value": value}]})
    )
    assert metric_value(metrics, Metric("val_auc", "LAST"), whose="candidate") is None


def test_an_experiment_without_summary_metrics_has_none_available():
    with pytest.raises(MissingMetricError, match="Its summary metrics: none"):
        metric_value(summary_metrics(Experiment.from_json({})), Metric("val_auc", "LAST"), whose="candidate")
