"""Foundry's JSON read once, at the boundary, into typed shapes: nothing outside ``foundry/`` reads its camelCase.

Every endpoint in :data:`~airflow_provider_modelstudio.foundry.endpoints.ENDPOINTS` names the shape its answer
is read into. Shapes are frozen dataclasses (a run, which travels in XCom, is a ``TypedDict``), read by the
rules of :mod:`.reading`: fields Foundry adds later are ignored, optional fields it leaves out read as None,
and only what a caller cannot do without is required.
"""

from airflow_provider_modelstudio.foundry.shapes.builds import Build, batch_builds, batch_statuses, build_status
from airflow_provider_modelstudio.foundry.shapes.datasets import DatasetBranch, Transaction
from airflow_provider_modelstudio.foundry.shapes.deployments import Inference, LiveDeployment
from airflow_provider_modelstudio.foundry.shapes.models import (
    Experiment,
    Model,
    ModelVersion,
    SummaryMetric,
    VersionSource,
)
from airflow_provider_modelstudio.foundry.shapes.runs import (
    RUN_KEYS,
    ModelOutput,
    Run,
    epoch_seconds,
    model_outputs,
    read_run,
    read_runs,
    run_of,
)
from airflow_provider_modelstudio.foundry.shapes.studios import ConfigInput, ConfigVersion, ModelStudio, Trainer

__all__ = [
    "RUN_KEYS",
    "Build",
    "ConfigInput",
    "ConfigVersion",
    "DatasetBranch",
    "Experiment",
    "Inference",
    "LiveDeployment",
    "Model",
    "ModelOutput",
    "ModelStudio",
    "ModelVersion",
    "Run",
    "SummaryMetric",
    "Trainer",
    "Transaction",
    "VersionSource",
    "batch_builds",
    "batch_statuses",
    "build_status",
    "epoch_seconds",
    "model_outputs",
    "read_run",
    "read_runs",
    "run_of",
]
