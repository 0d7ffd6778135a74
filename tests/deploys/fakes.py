"""An in-memory stand-in for the hook's model reads, for unit tests of the deploy logic."""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.foundry.shapes import Experiment, LiveDeployment, ModelVersion

MODEL = "ri.models.main.model.output"
TARGET = "ri.models.main.model.target"
DEPLOYMENT = "ri.foundry-ml-live.main.live-deployment.live"


def version_rid(name: str) -> str:
    return f"ri.models.main.model-version.{name}"


def experiment_rid(name: str) -> str:
    return f"ri.models.main.experiment.{name}"


def summary(**metrics: float) -> list[dict[str, Any]]:
    """``summaryMetrics`` from ``name_AGGREGATION=value`` keywords, e.g. ``val_auc_LAST=0.9``."""
    entries = []
    for key, value in metrics.items():
        series, _, aggregation = key.rpartition("_")
        entries.append({"seriesName": series, "aggregation": aggregation, "value": value})
    return entries


class FakeFoundry:
    """Versions, experiments, branches and live deployments in dicts; counts the versions read."""

    def __init__(self) -> None:
        self.versions: dict[tuple[str, str], dict[str, Any]] = {}
        self.experiments: dict[str, dict[str, Any]] = {}
        self.branches: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
        self.deployments: dict[str, dict[str, Any]] = {}
        self.version_reads = 0

    def trained(self, name: str, model: str = MODEL, **metrics: float) -> str:
        """A version a studio run made, with an experiment holding ``metrics``; returns its RID."""
        rid = version_rid(name)
        self.experiments[experiment_rid(name)] = {
            "rid": experiment_rid(name),
            "status": "SUCCEEDED",
            "summaryMetrics": summary(**metrics),
        }
        self.versions[(model, rid)] = {
            "rid": rid,
            "source": {"type": "modelStudio", "modelStudioRid": "ri.models.main.model-studio.s"},
            "linkedExperiment": experiment_rid(name),
        }
        return rid

    def promoted(self, name: str, source_model: str, source_rid: str, model: str = TARGET) -> str:
        rid = version_rid(name)
        self.versions[(model, rid)] = {
            "rid": rid,
            "source": {"type": "promoted", "previousModelRid": source_model, "previousModelVersionRid": source_rid},
        }
        return rid

    def serve(self, model: str | None, rid: str | None) -> None:
        self.deployments[DEPLOYMENT] = {
            "rid": DEPLOYMENT,
            "modelVersion": None if rid is None else {"modelRid": model, "modelVersionRid": rid},
        }

    def get_model_version(self, model_rid: str, model_version_rid: str) -> ModelVersion:
        self.version_reads += 1
        return ModelVersion.from_json(self.versions[(model_rid, model_version_rid)])

    def get_experiment(self, model_rid: str, experiment_rid: str) -> Experiment:
        return Experiment.from_json(self.experiments[experiment_rid])

    def get_live_deployment(self, live_deployment_rid: str) -> LiveDeployment:
        return LiveDeployment.from_json(self.deployments[live_deployment_rid], rid=live_deployment_rid)

    def list_model_versions(self, model_rid: str, branch: str | None = None) -> tuple[ModelVersion, ...]:
        return tuple(ModelVersion.from_json(v) for v in self.branches.get((model_rid, branch), []))
