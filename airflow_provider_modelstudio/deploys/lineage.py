"""A model version's history: where its metrics are, and which version is the newest on a branch.

A promoted version is a copy: its ``source`` is ``{"type": "promoted", "previousModelRid",
"previousModelVersionRid"}`` and its experiment, if any, is linked from the version it was copied from.
:func:`find_experiment` follows those sources back, at most :data:`MAX_HOPS` versions and never around a
cycle, to the first version that links an experiment. It reads versions only: it does not read the
experiment (see :mod:`.metrics`) and does not judge anything (see :mod:`.gate`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.shapes import ModelVersion, epoch_seconds

MAX_HOPS = 20
"""How many promoted sources are followed before giving up (a promotion chain is rarely longer than 3)."""


class VersionReader(Protocol):
    """What the walk needs from Foundry (``ModelStudioHook`` has it)."""

    def get_model_version(self, model_rid: str, model_version_rid: str) -> ModelVersion: ...


@dataclass(frozen=True)
class VersionRef:
    """A model version and the model it belongs to."""

    model_rid: str
    model_version_rid: str

    def __str__(self) -> str:
        return f"model version {self.model_version_rid} of model {self.model_rid}"


@dataclass(frozen=True)
class Lineage:
    """Where a version's experiment was found.

    :param experiment_rid: the linked experiment
    :param path: the versions read, from the one asked about to the one linking the experiment (its last)
    """

    experiment_rid: str
    path: tuple[VersionRef, ...]

    @property
    def holder(self) -> VersionRef:
        """The version that links the experiment."""
        return self.path[-1]

    def describe(self) -> str:
        """``"experiment X"``, plus how it was reached when that took promoted sources."""
        if len(self.path) == 1:
            return f"experiment {self.experiment_rid}"
        hops = " <- ".join(ref.model_version_rid for ref in self.path)
        return f"experiment {self.experiment_rid}, linked from {self.holder} (promoted: {hops})"


class MissingExperimentError(FoundryError):
    """No version along a version's promoted sources links an experiment, so there are no metrics to judge."""


def find_experiment(reader: VersionReader, start: VersionRef, *, max_hops: int = MAX_HOPS) -> Lineage:
    """The experiment linked from ``start`` or, for a promoted copy, from the version it was promoted from.

    :param reader: reads model versions
    :param start: the version asked about
    :param max_hops: how many promoted sources to follow at most
    :raises MissingExperimentError: the walk ends at a version that links no experiment and was not promoted,
        goes around a cycle, or is longer than ``max_hops``
    """
    path = [start]
    while True:
        ref = path[-1]
        version = reader.get_model_version(ref.model_rid, ref.model_version_rid)
        if version.linked_experiment is not None:
            return Lineage(version.linked_experiment, tuple(path))
        previous = _promoted_from(version, ref, start)
        if previous in path:
            raise MissingExperimentError(
                f"{start} links no experiment, and its promoted sources go round in a circle back to {previous} "
                f"({_hops(path)}). Foundry's versions are inconsistent: check the model's versions in Foundry."
            )
        if len(path) > max_hops:
            raise MissingExperimentError(
                f"{start} links no experiment, and no version within {max_hops} promotions back links one "
                f"({_hops(path)}). Point the gate at the version the training run made."
            )
        path.append(previous)


def _promoted_from(version: ModelVersion, ref: VersionRef, start: VersionRef) -> VersionRef:
    source = version.source
    kind = source.type if source is not None else None
    if source is None or kind != "promoted":
        made_by = f"its source is {kind!r}" if kind else "it has no source"
        where = "it" if ref == start else f"{ref}, which it was promoted from,"
        raise MissingExperimentError(
            f"{start} has no linked experiment, so it has no metrics to judge: {where} links none and {made_by}, "
            "not a promotion to follow back. Gate the version a Model Studio run made (its run links an "
            "experiment), or log an experiment for this version."
        )
    model_rid, version_rid = source.previous_model_rid, source.previous_model_version_rid
    if model_rid is None or version_rid is None:
        raise MissingExperimentError(
            f"{ref} links no experiment and was promoted, but its source names no previous version to follow "
            f"(previous model: {model_rid or 'none'}, previous version: {version_rid or 'none'}). Check the version "
            "in Foundry."
        )
    return VersionRef(model_rid, version_rid)


def _hops(path: list[VersionRef]) -> str:
    return " <- ".join(ref.model_version_rid for ref in path)


def latest_version(versions: Sequence[ModelVersion]) -> ModelVersion | None:
    """The newest of a branch's versions: by ``createdTime`` when every version has a readable one (the first
    listed wins a tie), else the first listed (Foundry lists newest first). None for no versions."""
    if not versions:
        return None
    times = [epoch_seconds(v.created_time) for v in versions]
    known = [(t, -i) for i, t in enumerate(times) if t is not None]
    if len(known) < len(versions):
        return versions[0]
    return versions[-max(known)[1]]
