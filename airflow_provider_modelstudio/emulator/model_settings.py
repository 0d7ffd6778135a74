"""Scenario settings of the deploy half: seeded models and their versions, and direct live deployments.

Read from JSON with the same strictness as the rest of the scenario (:mod:`.parsing`). A seeded version
lands on its branch when the scenario is loaded; one with ``metrics`` gets a linked experiment holding
them. A live deployment follows the latest version on a branch of a seeded model. This module checks each
setting on its own; :class:`~.scenario.Scenario` checks how they refer to each other. It runs nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelstudio.emulator.ids import is_rid, new_rid
from airflow_provider_modelstudio.emulator.parsing import (
    ScenarioError,
    mapping,
    number_at_least,
    parse_flat,
)

DEFAULT_BRANCH = "master"
DEFAULT_READY_SECONDS = 3.0


def check_metrics(metrics: Mapping[str, float], where: str) -> None:
    """Refuse empty metric names.

    :param metrics: metric name to value.
    :param where: where they come from, for the message.
    """
    if any(not name for name in metrics):
        raise ScenarioError(f"{where}: metric names must not be empty")


@dataclass(frozen=True)
class ModelVersionSettings:
    """One seeded model version (it lands on its branch when the scenario is loaded).

    :param rid: the version's RID.
    :param branch: the branch it lands on.
    :param studio: its source is this Model Studio (``{"type": "modelStudio"}``).
    :param promoted_from: its source is this earlier seeded version (``{"type": "promoted"}``); a promoted
        copy has no experiment of its own.
    :param metrics: the metrics of its linked experiment (none given: no linked experiment).
    :param breaks_deployments: a live deployment that rolls it out goes FAILED.

    A version with neither ``studio`` nor ``promoted_from`` has the source ``{"type": "sdk"}``.
    """

    rid: str
    branch: str = DEFAULT_BRANCH
    studio: str | None = None
    promoted_from: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    breaks_deployments: bool = False

    def __post_init__(self) -> None:
        for name, rid in (("rid", self.rid), ("studio", self.studio), ("promoted_from", self.promoted_from)):
            if rid is not None and not is_rid(rid):
                raise ScenarioError(f"{name} {rid!r} is not a well-formed RID")
        if not self.branch:
            raise ScenarioError("branch must not be empty")
        if self.studio is not None and self.promoted_from is not None:
            raise ScenarioError("give studio or promoted_from, not both: a version has one source")
        if self.promoted_from is not None and self.metrics:
            raise ScenarioError("a promoted version has no experiment of its own: leave its metrics out")
        check_metrics(self.metrics, "metrics")


@dataclass(frozen=True)
class ModelSettings:
    """One seeded model.

    :param versions: its versions, oldest first.
    :param promote_denied: promoting into it answers 403 PromoteVersionModelPermissionDenied.
    """

    versions: tuple[ModelVersionSettings, ...] = ()
    promote_denied: bool = False

    @classmethod
    def from_dict(cls, data: object, where: str) -> ModelSettings:
        """Read model settings, rejecting unknown keys.

        :param data: the settings as a JSON object.
        :param where: where they come from, for error messages.
        """
        values = dict(mapping(data, where))
        raw_versions = values.pop("versions", [])
        if not isinstance(raw_versions, list):
            raise ScenarioError(f"{where}.versions must be a list of objects, got {raw_versions!r}")
        versions = tuple(
            parse_flat(ModelVersionSettings, item, f"{where}.versions[{index}]")
            for index, item in enumerate(raw_versions)
        )
        return dataclasses.replace(parse_flat(cls, values, where), versions=versions)

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON, as :meth:`from_dict` reads them."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class LiveDeploymentSettings:
    """One direct live deployment.

    :param model: the model it deploys (a seeded model with a version on ``branch``).
    :param branch: it follows the latest version on this branch.
    :param ready_seconds: emulator seconds from a new version landing (or a start) to ACTIVE and ready.
    :param inference_timeout: transformJson answers 500 InferenceTimeout.
    :param start_denied: starting it answers 403 StartLiveDeploymentPermissionDenied.
    :param transform_denied: transformJson answers 403 TransformJsonLiveDeploymentPermissionDenied.
    """

    model: str
    branch: str = DEFAULT_BRANCH
    ready_seconds: float = DEFAULT_READY_SECONDS
    inference_timeout: bool = False
    start_denied: bool = False
    transform_denied: bool = False

    def __post_init__(self) -> None:
        if not is_rid(self.model):
            raise ScenarioError(f"model {self.model!r} is not a well-formed RID")
        if not self.branch:
            raise ScenarioError("branch must not be empty")
        number_at_least(self.ready_seconds, 0, "ready_seconds")


def new_version_settings(data: Mapping[str, Any], where: str) -> ModelVersionSettings:
    """Version settings from a handle or admin request, with a fresh RID when none is given.

    :param data: :class:`ModelVersionSettings` fields (``rid`` optional).
    :param where: where they come from, for error messages.
    """
    return parse_flat(ModelVersionSettings, {"rid": new_rid("models", "model-version"), **data}, where)
