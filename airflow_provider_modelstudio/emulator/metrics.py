"""Deterministic numbers of the deploy half: an experiment's summary metrics, and a deployment's predictions.

A metric given as one value ``v`` is the series' LAST value. The rest of the series follows the usual
shape of a training curve, derived from ``v`` alone so every run with the same settings reports the same
numbers: a metric whose name contains ``loss`` or ``error`` falls during training (MAX = 2 v at the start,
MIN = 0.95 v at the best epoch), any other metric rises (MIN = 0.5 v at the start, MAX = 1.02 v at the
best epoch); for negative values the offsets apply to ``|v|`` in the same direction, so always
MIN <= LAST <= MAX. A prediction is a number in [0, 1) hashed from the served version and the input.
Pure functions; nothing here is random.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

AGGREGATIONS = ("MIN", "MAX", "LAST")
SERIES_LENGTH = 20
"""Values per series: one per epoch."""
_DIGITS = 6


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
