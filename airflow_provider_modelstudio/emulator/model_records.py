"""Models, model versions, experiments and live deployments, and their JSON as served at a given moment.

Like builds, they change only with the emulator time they are read at: a version made by a run lands on
its branch when the run's build succeeds (never if it fails or is cancelled), and its experiment is
RUNNING until then. A live deployment's state is computed by the registry from the versions on its
branch. The JSON follows ``foundry_sdk``'s ``ModelVersion``, ``Experiment`` and ``LiveDeployment``.
Not thread-safe by itself: the state's lock guards it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_modelstudio.emulator import catalog, metrics
from airflow_provider_modelstudio.emulator.clock import iso
from airflow_provider_modelstudio.emulator.model_settings import LiveDeploymentSettings
from airflow_provider_modelstudio.emulator.records import BuildRecord

SUCCEEDED = "SUCCEEDED"
RUNNING = "RUNNING"
FAILED = "FAILED"
PROMOTED = "promoted"


@dataclass(frozen=True)
class ModelVersionRecord:
    """One model version.

    :param rid: its RID.
    :param model_rid: its model.
    :param branch: the branch it lands on.
    :param created_at: emulator time it was made.
    :param seq: a number unique across the registry, increasing with creation (orders equal times).
    :param source: its ``source`` JSON.
    :param experiment_rid: its linked experiment, if it has one.
    :param build: the build of the run that made it; None: it landed when it was made.
    :param breaks_deployments: a live deployment that rolls it out goes FAILED.
    """

    rid: str
    model_rid: str
    branch: str
    created_at: float
    seq: int
    source: dict[str, str]
    experiment_rid: str | None = None
    build: BuildRecord | None = None
    breaks_deployments: bool = False

    def landed_at(self) -> float | None:
        """Emulator time it is (or will be) on its branch; None when it never will (its run did not succeed)."""
        if self.build is None:
            return self.created_at
        status, finished_at = self.build.final()
        return finished_at if status == SUCCEEDED else None

    def has_landed(self, now: float) -> bool:
        """Whether it is on its branch at emulator time ``now``.

        :param now: emulator time.
        """
        landed_at = self.landed_at()
        return landed_at is not None and landed_at <= now

    def promoted_from(self) -> str | None:
        """The version it was promoted from, if it is a promoted copy."""
        return self.source["previousModelVersionRid"] if self.source.get("type") == PROMOTED else None

    def to_json(self) -> dict[str, Any]:
        """The ``ModelVersion`` JSON."""
        return catalog.model_version_json(self.rid, self.source, iso(self.created_at), self.experiment_rid)


@dataclass
class ModelRecord:
    """One model and its versions.

    :param rid: its RID.
    :param promote_denied: promoting into it answers 403.
    :param versions: its versions in the order they were made.
    :param name: its name in ``get_model`` answers; None leaves ``name`` out.
    """

    rid: str
    promote_denied: bool = False
    versions: list[ModelVersionRecord] = field(default_factory=list)
    name: str | None = None

    def landed(self, now: float, branch: str | None) -> list[ModelVersionRecord]:
        """Its versions on ``branch`` (every branch: None) at emulator time ``now``, in landing order.

        :param now: emulator time.
        :param branch: the branch, or None.
        """
        on_branch = [v for v in self.versions if v.has_landed(now) and branch in (None, v.branch)]
        return sorted(on_branch, key=lambda version: (version.landed_at() or 0.0, version.seq))


@dataclass(frozen=True)
class ExperimentRecord:
    """One experiment.

    :param rid: its RID.
    :param model_rid: its model.
    :param name: its name (searchable; Foundry's ``Experiment`` JSON has no name field).
    :param branch: its branch.
    :param created_at: emulator time it was made.
    :param created_by: the user id who made it.
    :param seq: a number unique across the registry, increasing with creation.
    :param metrics: metric name to last value (see :mod:`.metrics`); reported once it SUCCEEDED.
    :param parameters: its parameters.
    :param build: the build of the run it records; None: SUCCEEDED from the start.
    :param linked_model_version: the version it produced, if any.
    :param tags: its tags.
    """

    rid: str
    model_rid: str
    name: str
    branch: str
    created_at: float
    created_by: str
    seq: int
    metrics: dict[str, float]
    parameters: dict[str, float | int] = field(default_factory=dict)
    build: BuildRecord | None = None
    linked_model_version: str | None = None
    tags: tuple[str, ...] = ()

    def status_at(self, now: float) -> str:
        """RUNNING, SUCCEEDED or FAILED at emulator time ``now`` (FAILED also for a cancelled run).

        :param now: emulator time.
        """
        if self.build is None:
            return SUCCEEDED
        status, finished_at = self.build.status_at(now)
        if finished_at is None:
            return RUNNING
        return SUCCEEDED if status == SUCCEEDED else FAILED

    def to_json(self, now: float) -> dict[str, Any]:
        """The ``Experiment`` JSON at emulator time ``now``.

        :param now: emulator time.
        """
        status = self.status_at(now)
        reported = self.metrics if status == SUCCEEDED else {}
        experiment: dict[str, Any] = {
            "rid": self.rid,
            "modelRid": self.model_rid,
            "createdTime": iso(self.created_at),
            "createdBy": self.created_by,
            "source": {"type": "sdk"},
            "status": status,
            "branch": self.branch,
            "parameters": [_parameter(name, value) for name, value in sorted(self.parameters.items())],
            "series": metrics.series(reported),
            "summaryMetrics": metrics.summary_metrics(reported),
            "artifacts": {},
            "tags": list(self.tags),
        }
        if status == FAILED:
            experiment["statusMessage"] = "The training run did not succeed."
        if self.linked_model_version is not None:
            experiment["linkedModelVersion"] = self.linked_model_version
        if self.build is not None:
            experiment["jobRid"] = self.build.job_rid
        return experiment


def _parameter(name: str, value: float | int) -> dict[str, Any]:
    kind = "integer" if isinstance(value, int) else "double"
    return {"name": name, "value": {"type": kind, "value": value}}


@dataclass
class LiveDeploymentRecord:
    """One direct live deployment.

    :param rid: its RID.
    :param settings: how it behaves (its model and branch among them).
    :param created_at: emulator time it was made; versions that landed before are deployed already.
    :param restarted_at: emulator time of the last start that began a new rollout, if any.
    :param forced: a status forced by a test: ``(state, is_ready, emulator time)``; it holds until the next
        version lands or the next start.
    """

    rid: str
    settings: LiveDeploymentSettings
    created_at: float
    restarted_at: float | None = None
    forced: tuple[str, bool, float] | None = None


def live_deployment_json(
    record: LiveDeploymentRecord, served: ModelVersionRecord, state: str, is_ready: bool
) -> dict[str, Any]:
    """The ``LiveDeployment`` JSON.

    :param record: the deployment.
    :param served: the version it serves (``modelVersion``).
    :param state: its state.
    :param is_ready: whether it is ready.
    """
    return {
        "rid": record.rid,
        "modelVersion": {"modelRid": served.model_rid, "modelVersionRid": served.rid},
        "branch": record.settings.branch,
        "runtimeConfiguration": copy.deepcopy(catalog.RUNTIME_CONFIGURATION),
        "status": {"state": state, "isReady": is_ready},
    }
