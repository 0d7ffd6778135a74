"""JSON of the emulator's fixed resources: Model Studios, their config versions, model RIDs, model versions.

Everything here is derived from a studio's RID and settings, so it is the same on every start. Each
studio has exactly one config version (1, the latest). The shapes follow ``foundry_sdk``'s
``ModelStudio``, ``ModelStudioConfigVersion`` and ``ModelVersion``. Pure functions, no state.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_modelstudio.emulator.ids import derived_rid, derived_uuid
from airflow_provider_modelstudio.emulator.scenario import StudioSettings

LATEST_CONFIG_VERSION = 1
CREATED_TIME = "2025-01-15T09:30:00.000Z"
TRAINER_ID = "ri.models.main.trainer.gradient-boosted-trees-classifier"


def model_rid(studio_rid: str, alias: str) -> str:
    """The fixed model RID behind one output alias of a studio.

    :param studio_rid: the studio.
    :param alias: the output alias.
    """
    return derived_rid("models", "model", studio_rid, alias)


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
        "version": LATEST_CONFIG_VERSION,
        "trainerId": TRAINER_ID,
        "trainer": {"trainerId": TRAINER_ID, "version": "1.4.0"},
        "workerConfig": {
            "customConfig": {"learning_rate": 0.1, "max_depth": 6, "n_estimators": 200},
            "inputs": {
                "training_data": {
                    "type": "dataset",
                    "rid": derived_rid("foundry", "dataset", studio_rid, "training_data"),
                    "columnMapping": {"target": ["churned"]},
                    "ignoreColumns": ["customer_id"],
                    "selectColumns": [],
                }
            },
            "outputs": {
                alias: {"type": "model", "modelRid": model_rid(studio_rid, alias)} for alias in settings.outputs
            },
        },
        "resources": {"memory": "8G", "cpu": "2"},
        "changelog": "Initial configuration",
        "createdBy": studio_owner(studio_rid),
        "createdTime": CREATED_TIME,
    }


def model_version_json(rid: str, studio_rid: str, created_time: str) -> dict[str, Any]:
    """A ``ModelVersion`` made by a Model Studio run.

    :param rid: the model version's RID.
    :param studio_rid: the studio whose run made it.
    :param created_time: when it was made (ISO-8601).
    """
    feature = {"type": "tabular", "name": "customers", "required": True, "format": "PANDAS"}
    return {
        "rid": rid,
        "modelApi": {
            "inputs": [
                {
                    **feature,
                    "columns": [
                        {"name": "tenure_months", "required": True, "dataType": {"type": "integer"}},
                        {"name": "monthly_charges", "required": True, "dataType": {"type": "double"}},
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
        "source": {"type": "modelStudio", "modelStudioRid": studio_rid},
    }
