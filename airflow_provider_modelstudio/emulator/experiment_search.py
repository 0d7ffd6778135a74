"""Experiment search: the filters of ``SearchExperimentsRequest.where`` and its ``orderBy``, evaluated.

Supported, as ``foundry_sdk`` sends them: ``eq`` (fields STATUS, BRANCH, EXPERIMENT_NAME, EXPERIMENT_RID,
JOB_RID, TAG, PARAMETER_NAME, SERIES_NAME), ``contains`` and ``startsWith`` (EXPERIMENT_NAME,
PARAMETER_NAME, SERIES_NAME), ``and``, ``or``, ``not``, ``summaryMetricFilter``, ``seriesFilter`` and
``parameterFilter`` (operators EQ, GT, LT; CONTAINS for string parameters). Anything else answers 400
InvalidExperimentSearchFilter with a ``reason``. There is no filter on the linked model version: Foundry
has none (read the version's ``linkedExperiment`` instead). Pure functions over experiment JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_modelstudio.emulator.errors import ErrorAnswer

_EQ_FIELDS = frozenset(
    {"STATUS", "BRANCH", "EXPERIMENT_NAME", "EXPERIMENT_RID", "JOB_RID", "TAG", "PARAMETER_NAME", "SERIES_NAME"}
)
_TEXT_FIELDS = frozenset({"EXPERIMENT_NAME", "PARAMETER_NAME", "SERIES_NAME"})
_SERIES_FIELDS = {"LENGTH": "length", "AGGREGATION_MIN": "min", "AGGREGATION_MAX": "max", "AGGREGATION_LAST": "last"}
ORDER_FIELDS = frozenset({"EXPERIMENT_NAME", "CREATED_TIME"})

Predicate = Callable[[str, Mapping[str, Any]], bool]
"""Whether an experiment (its name and its JSON) matches."""


def invalid(reason: str) -> ErrorAnswer:
    """The 400 InvalidExperimentSearchFilter answer.

    :param reason: why the filter is invalid.
    """
    return ErrorAnswer("InvalidExperimentSearchFilter", reason=reason)


def compile_filter(where: object) -> Predicate:
    """Turn a ``where`` filter into a predicate.

    :param where: the filter as sent (None: every experiment matches).
    :raises ErrorAnswer: 400 InvalidExperimentSearchFilter for a filter this emulator cannot evaluate.
    """
    if where is None:
        return lambda name, experiment: True
    if not isinstance(where, Mapping):
        raise invalid(f"a filter must be a JSON object, got {where!r}")
    kind = where.get("type")
    if kind in ("and", "or"):
        filters = where.get("filters")
        if not isinstance(filters, list):
            raise invalid(f"an {kind!r} filter needs a list of filters")
        parts = [compile_filter(part) for part in filters]
        combine = all if kind == "and" else any
        return lambda name, experiment: combine(part(name, experiment) for part in parts)
    if kind == "not":
        inner = compile_filter(where.get("value"))
        return lambda name, experiment: not inner(name, experiment)
    if kind == "eq":
        return _equals(_field(where, _EQ_FIELDS), where.get("value"))
    if kind in ("contains", "startsWith"):
        return _text(kind, _field(where, _TEXT_FIELDS), where.get("value"))
    if kind == "summaryMetricFilter":
        return _summary_metric(where)
    if kind == "seriesFilter":
        return _series(where)
    if kind == "parameterFilter":
        return _parameter(where)
    raise invalid(f"unknown filter type {kind!r}")


def _field(where: Mapping[str, Any], allowed: frozenset[str]) -> str:
    field = where.get("field")
    if field not in allowed:
        kind = where.get("type")
        raise invalid(f"field {field!r} is not supported by a {kind!r} filter; use one of {sorted(allowed)}")
    return str(field)


def _values(field: str, name: str, experiment: Mapping[str, Any]) -> list[Any]:
    """The values of ``field`` in one experiment (a list: an experiment has many tags, parameters...)."""
    if field == "EXPERIMENT_NAME":
        return [name]
    if field == "PARAMETER_NAME":
        return [parameter["name"] for parameter in experiment["parameters"]]
    if field == "SERIES_NAME":
        return [series["name"] for series in experiment["series"]]
    if field == "TAG":
        return list(experiment["tags"])
    key = {"STATUS": "status", "BRANCH": "branch", "EXPERIMENT_RID": "rid", "JOB_RID": "jobRid"}[field]
    return [experiment.get(key)]


def _equals(field: str, value: object) -> Predicate:
    return lambda name, experiment: value in _values(field, name, experiment)


def _text(kind: str, field: str, value: object) -> Predicate:
    if not isinstance(value, str):
        raise invalid(f"a {kind!r} filter compares text; got {value!r}")
    if kind == "contains":
        return lambda name, experiment: any(value in text for text in _values(field, name, experiment))
    return lambda name, experiment: any(text.startswith(value) for text in _values(field, name, experiment))


def _compare(operator: object, value: object, allowed: tuple[str, ...] = ("EQ", "GT", "LT")) -> Callable[[Any], bool]:
    if operator not in allowed:
        raise invalid(f"operator {operator!r} is not one of {list(allowed)}")
    if operator == "CONTAINS":
        if not isinstance(value, str):
            raise invalid(f"CONTAINS compares text; got {value!r}")
        return lambda actual: isinstance(actual, str) and value in actual
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        if operator != "EQ":
            raise invalid(f"{operator} compares numbers; got {value!r}")
        return lambda actual: actual == value
    if operator == "EQ":
        return lambda actual: actual == value
    if operator == "GT":
        return lambda actual: isinstance(actual, (int, float)) and actual > value
    return lambda actual: isinstance(actual, (int, float)) and actual < value


def _summary_metric(where: Mapping[str, Any]) -> Predicate:
    series_name, aggregation = where.get("seriesName"), where.get("aggregation")
    if aggregation not in ("MIN", "MAX", "LAST"):
        raise invalid(f"aggregation {aggregation!r} is not one of MIN, MAX, LAST")
    matches = _compare(where.get("operator"), where.get("value"))
    return lambda name, experiment: any(
        metric["seriesName"] == series_name and metric["aggregation"] == aggregation and matches(metric["value"])
        for metric in experiment["summaryMetrics"]
    )


def _series(where: Mapping[str, Any]) -> Predicate:
    series_name, field = where.get("seriesName"), where.get("field")
    if field not in _SERIES_FIELDS:
        raise invalid(f"series field {field!r} is not one of {sorted(_SERIES_FIELDS)}")
    matches = _compare(where.get("operator"), where.get("value"))

    def value_of(series: Mapping[str, Any]) -> Any:
        return series.get("length") if field == "LENGTH" else series["value"].get(_SERIES_FIELDS[str(field)])

    return lambda name, experiment: any(
        series["name"] == series_name and matches(value_of(series)) for series in experiment["series"]
    )


def _parameter(where: Mapping[str, Any]) -> Predicate:
    parameter_name = where.get("parameterName")
    matches = _compare(where.get("operator"), where.get("value"), ("EQ", "GT", "LT", "CONTAINS"))
    return lambda name, experiment: any(
        parameter["name"] == parameter_name and matches(parameter["value"]["value"])
        for parameter in experiment["parameters"]
    )


def order_key(order_by: object) -> tuple[str, bool]:
    """The field and direction of ``orderBy``: ``("CREATED_TIME", True)`` (newest first) when absent.

    :param order_by: ``{"field", "direction"}`` as sent, or None.
    :returns: the field and whether the order is descending.
    """
    if order_by is None:
        return "CREATED_TIME", True
    if not isinstance(order_by, Mapping) or order_by.get("field") not in ORDER_FIELDS:
        raise invalid(f"orderBy must be {{'field': one of {sorted(ORDER_FIELDS)}, 'direction': ASC|DESC}}")
    direction = order_by.get("direction")
    if direction not in ("ASC", "DESC"):
        raise invalid(f"orderBy direction must be ASC or DESC, got {direction!r}")
    return str(order_by["field"]), direction == "DESC"
