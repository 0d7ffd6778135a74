"""Deterministic numbers of the deploy half: an experiment's summary metrics, and a deployment's predictions.

A metric given as one value ``v`` is the series' LAST value. The rest of the series follows the usual
shape of a training curve, derived from ``v`` alone so every run with the same settings reports the same
numbers: a metric whose name contains ``loss`` or ``error`` falls during training (MAX = 2 v at the start,
MIN = 0.95 v at the best epoch), any other metric rises (MIN = 0.5 v at the start, MAX = 1.02 v at the
best epoch); for negative values the offsets apply to ``|v|`` in the same direction, so always
MIN <= LAST <= MAX. A prediction is a number in [0, 1) hashed from the served version and the input.
Pure functions; nothing here is random.

A run's metrics depend on the custom configuration it trained with (:func:`trained_metrics`), so a sweep has a
best configuration. With the trainer's parameters (a key the configuration lacks takes its default of
:data:`.catalog.CUSTOM_CONFIG`, 0.1, 6 and 200)::

    gain = 0.004 * (max_depth - 6) + 0.01 * log2(n_estimators / 200) - 0.05 * |log10(learning_rate / 0.1)|

clamped to [-0.05, 0.05]: deeper trees and more of them help, a learning rate away from 0.1 either way hurts.
A metric that falls during training (``loss``, ``error``) becomes ``v * (1 - gain)``, any other ``v * (1 +
gain)``, rounded to 6 decimals. The default configuration has a gain of 0, and its runs report the studio's
``metrics`` exactly as given. E.g. for val_auc 0.91: ``max_depth=8, n_estimators=400`` gains 0.018 (0.92638),
``learning_rate=0.05`` loses 0.01505 (0.896303).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from airflow_provider_modelstudio.emulator.catalog import CUSTOM_CONFIG

AGGREGATIONS = ("MIN", "MAX", "LAST")
SERIES_LENGTH = 20
"""Values per series: one per epoch."""
_DIGITS = 6
MAX_GAIN = 0.05
"""The most a configuration moves a metric, as a fraction of the studio's value, either way."""


def _falls(name: str) -> bool:
    lowered = name.lower()
    return "loss" in lowered or "error" in lowered


def aggregations(name: str, last: float) -> dict[str, float]:
    """MIN, MAX and LAST of the series of metric ``name`` whose last value is ``last``.

    :param name: the metric (series) name.
    :param last: its last value.
    """
    size = abs(last)
    low, high = (last - 0.05 * size, last + size) if _falls(name) else (last - 0.5 * size, last + 0.02 * size)
    return {"MIN": round(low, _DIGITS), "MAX": round(high, _DIGITS), "LAST": last}


def config_gain(custom_config: Mapping[str, Any]) -> float:
    """How much better (positive) or worse than the studio's metrics a run with ``custom_config`` trains, as a
    fraction (see the module's docstring); 0 for the default configuration.

    :param custom_config: the run's config version's ``customConfig`` (missing keys take their defaults).
    """
    config = {**CUSTOM_CONFIG, **custom_config}
    gain: float = (
        0.004 * (config["max_depth"] - CUSTOM_CONFIG["max_depth"])
        + 0.01 * math.log2(config["n_estimators"] / CUSTOM_CONFIG["n_estimators"])
        - 0.05 * abs(math.log10(config["learning_rate"] / CUSTOM_CONFIG["learning_rate"]))
    )
    return min(MAX_GAIN, max(-MAX_GAIN, gain))


def trained_metrics(metrics: Mapping[str, float], custom_config: Mapping[str, Any]) -> dict[str, float]:
    """The last values a run reports: the studio's ``metrics`` moved by :func:`config_gain` of its configuration.

    :param metrics: the studio's metrics, name to last value.
    :param custom_config: the run's custom configuration.
    """
    gain = config_gain(custom_config)
    if gain == 0:
        return dict(metrics)
    return {name: round(value * (1 - gain if _falls(name) else 1 + gain), _DIGITS) for name, value in metrics.items()}


def summary_metrics(metrics: Mapping[str, float]) -> list[dict[str, Any]]:
    """``summaryMetrics``: a ``{seriesName, aggregation, value}`` entry per metric and aggregation.

    :param metrics: metric name to last value.
    """
    return [
        {"seriesName": name, "aggregation": aggregation, "value": value}
        for name, last in sorted(metrics.items())
        for aggregation, value in aggregations(name, last).items()
    ]


def series(metrics: Mapping[str, float]) -> list[dict[str, Any]]:
    """``series``: one ``SeriesAggregations`` per metric, agreeing with :func:`summary_metrics`.

    :param metrics: metric name to last value.
    """
    answer = []
    for name, last in sorted(metrics.items()):
        values = aggregations(name, last)
        answer.append(
            {
                "name": name,
                "length": SERIES_LENGTH,
                "value": {"type": "double", "min": values["MIN"], "max": values["MAX"], "last": values["LAST"]},
            }
        )
    return answer


def prediction(model_version_rid: str, model_input: Mapping[str, Any]) -> float:
    """The prediction a deployment serving ``model_version_rid`` answers for ``model_input``.

    :param model_version_rid: the version served.
    :param model_input: the ``input`` of the transformJson request.
    """
    canonical = json.dumps(model_input, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{model_version_rid}\n{canonical}".encode()).digest()
    return round(int.from_bytes(digest[:8], "big") / 2**64, _DIGITS)
