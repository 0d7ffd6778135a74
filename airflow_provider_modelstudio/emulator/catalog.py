"""JSON of the emulator's fixed resources: Model Studios, their config versions, model versions' bodies.

Everything here is derived from its arguments, so it is the same on every start. Each studio starts with one
config version (1); :mod:`.config_versions` adds the others. The shapes follow ``foundry_sdk``'s ``ModelStudio``,
``ModelStudioConfigVersion`` and ``ModelVersion``. Pure functions, no state.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.emulator.ids import derived_rid, derived_uuid, studio_output_model_rid
from airflow_provider_modelstudio.emulator.scenario import StudioSettings

FIRST_CONFIG_VERSION = 1
CREATED_TIME = "2025-01-15T09:30:00.000Z"
TRAINER_ID = "ri.models.main.trainer.gradient-boosted-trees-classifier"
CUSTOM_CONFIG: dict[str, float | int] = {"learning_rate": 0.1, "max_depth": 6, "n_estimators": 200}
"""The trainer parameters of every studio's config version, and of its runs' experiments."""
RUNTIME_CONFIGURATION: dict[str, Any] = {
    "minReplicas": 1,
    "maxReplicas": 2,
    "cpu": 1.0,
    "memory": "2GiB",
    "threadCount": 32,
    "sources": [],
    "environmentVariables": {},
}
"""The runtime configuration of every live deployment."""


TRAINER_VERSION = "1.4.0"


def trainer_json() -> dict[str, Any]:
    """The ``ModelStudioTrainer`` every studio uses: its ``customConfigSchema`` is a JSON Schema of
    :data:`CUSTOM_CONFIG`."""
    return {
        "trainerId": TRAINER_ID,
        "version": TRAINER_VERSION,
        "name": "Gradient boosted trees classifier",
        "type": "TABULAR_CLASSIFICATION",
        "description": "Gradient boosted decision trees for tabular classification.",
        "customConfigSchema": {
            "type": "object",
            "properties": {
                "learning_rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "max_depth": {"type": "integer", "minimum": 1, "maximum": 32},
                "n_estimators": {"type": "integer", "minimum": 1, "maximum": 5000},
            },
            "additionalProperties": False,
        },
        "inputs": {"training_data": {"type": "dataset", "required": True}},
        "outputs": {"model": {"type": "model"}},
        "experimental": False,
    }


def training_dataset_rid(studio_rid: str) -> str:
    """The dataset a studio's first configuration trains on (it exists, with a committed SNAPSHOT on master)."""
    return derived_rid("foundry", "dataset", studio_rid, "training_data")


def studio_owner(studio_rid: str) -> str:
    """The user who created a studio and its config versions.

    :param studio_rid: the studio.
    """
    return derived_uuid("studio-owner", studio_rid)


def studio_json(studio_rid: str) -> dict[str, Any]:
    """A ``ModelStudio``.

    :param studio_rid: the studio.
    """
    return {
        "rid": studio_rid,
        "folderRid": derived_rid("compass", "folder", studio_rid),
        "createdTime": CREATED_TIME,
    }


def config_version_json(studio_rid: str, settings: StudioSettings) -> dict[str, Any]:
    """A ``ModelStudioConfigVersion`` (version 1).

    :param studio_rid: the studio.
    :param settings: the studio's settings (its output aliases).
    """
    return {
        "name": f"{studio_rid.rsplit('.', 1)[-1]} churn classifier",
        "version": FIRST_CONFIG_VERSION,
        "trainerId": TRAINER_ID,
        "trainer": {"trainerId": TRAINER_ID, "version": TRAINER_VERSION},
        "workerConfig": {
            "customConfig": dict(CUSTOM_CONFIG),
            "inputs": {
                "training_data": {
                    "type": "dataset",
                    "rid": training_dataset_rid(studio_rid),
                    "columnMapping": {"target": ["churned"]},
                    "ignoreColumns": ["customer_id"],
                    "selectColumns": [],
                }
            },
            "outputs": {
                alias: {"type": "model", "modelRid": studio_output_model_rid(studio_rid, alias)}
                for alias in settings.outputs
            },
        },
        "resources": {"memory": "8G", "cpu": "2"},
        "changelog": "Initial configuration",
        "createdBy": studio_owner(studio_rid),
        "createdTime": CREATED_TIME,
    }


MODEL_INPUT_COLUMNS = {"tenure_months": "integer", "monthly_charges": "double"}
"""The required columns of every version's input (a churn classifier); transformJson refuses an input without one."""


def model_version_json(
    rid: str, source: dict[str, str], created_time: str, linked_experiment: str | None
) -> dict[str, Any]:
    """A ``ModelVersion`` (every version has the same model API: a churn classifier).

    :param rid: the model version's RID.
    :param source: its ``source`` (``modelStudio``, ``promoted`` or ``sdk``).
    :param created_time: when it was made (ISO-8601).
    :param linked_experiment: the RID of its experiment; None: no ``linkedExperiment``.
    """
    feature = {"type": "tabular", "name": "customers", "required": True, "format": "PANDAS"}
    version: dict[str, Any] = {
        "rid": rid,
        "modelApi": {
            "inputs": [
                {
                    **feature,
                    "columns": [
                        {"name": name, "required": True, "dataType": {"type": data_type}}
                        for name, data_type in MODEL_INPUT_COLUMNS.items()
                    ],
                }
            ],
            "outputs": [
                {
                    **feature,
                    "name": "predictions",
                    "columns": [{"name": "churn_probability", "required": True, "dataType": {"type": "double"}}],
                }
            ],
        },
        "condaRequirements": ["python=3.11", "scikit-learn=1.5.1", "pandas=2.2.2"],
        "backingRepositories": [],
        "createdTime": created_time,
        "source": source,
    }
    if linked_experiment is not None:
        version["linkedExperiment"] = linked_experiment
    return version
