"""Metric names as the gate's specs write them, and the values an experiment's summary holds for them.

A metric is a series name and an aggregation, ``MIN``, ``MAX`` or ``LAST`` (Foundry's ``summaryMetrics``
keep those three per series): ``"val_loss:MIN"``, or ``"val_auc"`` for ``val_auc:LAST``. A series whose
name contains ``:`` must be written with its aggregation (``"a:b:LAST"``). This module reads values; it
does not judge them (see :mod:`.gate`) and does not find the experiment (see :mod:`.lineage`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError

if TYPE_CHECKING:
    from airflow_provider_modelstudio.foundry.shapes import Experiment

AGGREGATIONS = ("MIN", "MAX", "LAST")
DEFAULT_AGGREGATION = "LAST"


class Metric(NamedTuple):
    """One summary metric: a series and its aggregation."""

    series: str
    aggregation: str

    def __str__(self) -> str:
        return f"{self.series}:{self.aggregation}"


class MissingMetricError(FoundryError):
    """An experiment has no usable value for a metric the gate checks."""


def parse_metric(text: Any, *, field: str, example: str) -> Metric:
    """The metric a spec's key names.

    :param text: the key, e.g. ``"val_loss:MIN"``
    :param field: the argument it comes from, for the message
    :param example: a whole valid argument, for the message
    """
    if not isinstance(text, str) or not text.strip():
        raise FoundryConfigError(f"{field} has the key {text!r}, which is not a metric name. Example: {example}.")
    if "{{" in text or "{%" in text:
        raise FoundryConfigError(
            f"{field} has the key {text!r}: Airflow renders the values of a dict, not its keys. Write the metric name "
            f"as it is, e.g. {example}."
        )
    series, colon, aggregation = text.strip().rpartition(":")
    if not colon:
        return Metric(text.strip(), DEFAULT_AGGREGATION)
    if aggregation.strip().upper() not in AGGREGATIONS or not series.strip():
        raise FoundryConfigError(
            f"{field} has the key {text!r}: after the last ':' comes the aggregation, one of "
            f"{', '.join(AGGREGATIONS)} (none means {DEFAULT_AGGREGATION}), and before it the series name. "
            f"Example: {example}."
        )
    return Metric(series.strip(), aggregation.strip().upper())


def summary_metrics(experiment: Experiment) -> dict[Metric, Any]:
    """An experiment's summary metrics by metric, values as Foundry sent them (the first of duplicates)."""
    found: dict[Metric, Any] = {}
    for entry in experiment.summary_metrics:
        found.setdefault(Metric(entry.series_name, entry.aggregation), entry.value)
    return found


def metric_value(metrics: dict[Metric, Any], metric: Metric, *, whose: str) -> float | None:
    """The number ``metrics`` hold for ``metric``; None when the value is there but is not a finite number (NaN,
    an infinity, a number too large for a float, a string, a boolean, null), which the gate judges a failed check.

    :param metrics: what :func:`summary_metrics` read
    :param metric: the metric wanted
    :param whose: the version and experiment, for the message
    :raises MissingMetricError: the metric is absent
    """
    if metric in metrics:
        return finite_number(metrics[metric])
    available = ", ".join(sorted(str(m) for m in metrics)) or "none"
    problem = f"has no metric {metric}"
    same_series = [str(m) for m in metrics if m.series == metric.series]
    if same_series:
        problem += f" (the series {metric.series!r} is summarised as {', '.join(sorted(same_series))})"
    raise MissingMetricError(
        f"The {whose} {problem}. Its summary metrics: {available}. Check the metric's name and aggregation "
        f"({', '.join(AGGREGATIONS)}; {DEFAULT_AGGREGATION} when none is given) in the gate's thresholds and compare."
    )


def finite_number(value: Any) -> float | None:
    """``value`` as a float when it is a finite number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
