"""Models, model versions and experiments, read from ``Model``, ``ModelVersion`` and ``Experiment`` answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_modelstudio.foundry.shapes.reading import json_object, text


@dataclass(frozen=True, slots=True)
class Model:
    """A ``Model``.

    :param rid: its RID as answered
    :param name: its name, when Foundry gives one
    """

    rid: str | None
    name: str | None = None

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "GET model") -> Model:
        body = json_object(answer, what)
        return cls(text(body.get("rid")), text(body.get("name")))


@dataclass(frozen=True, slots=True)
class VersionSource:
    """Where a model version came from (``source``, a union on ``type``).

    :param type: ``modelStudio``, ``promoted`` or another (future) kind; None when absent
    :param model_studio_rid: the studio that trained it (``modelStudio``)
    :param previous_model_rid: the model it was promoted from (``promoted``)
    :param previous_model_version_rid: the version it was promoted from (``promoted``)
    """

    type: str | None
    model_studio_rid: str | None = None
    previous_model_rid: str | None = None
    previous_model_version_rid: str | None = None

    @classmethod
    def from_json(cls, answer: Any) -> VersionSource | None:
        if not isinstance(answer, dict):
            return None
        return cls(
            text(answer.get("type")),
            text(answer.get("modelStudioRid")),
            text(answer.get("previousModelRid")),
            text(answer.get("previousModelVersionRid")),
        )


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """A ``ModelVersion``.

    :param rid: its RID as answered (checked where it is used: see :mod:`..promote`)
    :param created_time: ISO-8601, when Foundry gives one
    :param linked_experiment: the RID of the experiment it links, if any
    :param source: where it came from, if Foundry says
    """

    rid: str | None
    created_time: str | None = None
    linked_experiment: str | None = None
    source: VersionSource | None = None

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "GET model version") -> ModelVersion:
        body = json_object(answer, what)
        return cls(
            text(body.get("rid")),
            text(body.get("createdTime")),
            text(body.get("linkedExperiment")),
            VersionSource.from_json(body.get("source")),
        )

    def promoted_from(self, source_version_rid: str) -> bool:
        """Whether this version is a promoted copy of ``source_version_rid``."""
        source = self.source
        return (
            source is not None and source.type == "promoted" and source.previous_model_version_rid == source_version_rid
        )


@dataclass(frozen=True, slots=True)
class SummaryMetric:
    """One entry of an experiment's ``summaryMetrics``.

    :param series_name: the series
    :param aggregation: ``MIN``, ``MAX`` or ``LAST`` (upper-cased)
    :param value: as Foundry sent it (a number, or anything else, which a gate judges unusable)
    """

    series_name: str
    aggregation: str
    value: Any


@dataclass(frozen=True, slots=True)
class Experiment:
    """An ``Experiment``: what a quality gate reads.

    :param rid: its RID as answered
    :param status: ``RUNNING``, ``SUCCEEDED``, ``FAILED`` or a later one; None when absent
    :param summary_metrics: its summary metrics in Foundry's order; entries without a series name or aggregation
        are left out
    :param branch: the branch it was logged on
    :param created_time: ISO-8601
    """

    rid: str | None
    status: str | None = None
    summary_metrics: tuple[SummaryMetric, ...] = ()
    branch: str | None = None
    created_time: str | None = None

    @classmethod
    def from_json(cls, answer: Any, *, what: str = "GET experiment") -> Experiment:
        body = json_object(answer, what)
        entries = body.get("summaryMetrics")
        metrics = tuple(
            SummaryMetric(entry["seriesName"], entry["aggregation"].upper(), entry.get("value"))
            for entry in (entries if isinstance(entries, list) else ())
            if isinstance(entry, dict)
            and isinstance(entry.get("seriesName"), str)
            and isinstance(entry.get("aggregation"), str)
        )
        return cls(
            text(body.get("rid")),
            text(body.get("status")),
            metrics,
            text(body.get("branch")),
            text(body.get("createdTime")),
        )
