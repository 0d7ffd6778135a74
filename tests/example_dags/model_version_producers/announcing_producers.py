"""Producers of model versions that announce them through their ``foundry://`` outlets, for the chaining tests.

``train_and_announce`` trains the emulator's demo studio (deferred) with the asset of the model it writes to, which
``deploy_on_new_model_version`` (example_dags) is scheduled on. ``promote_and_announce`` and
``deploy_and_announce`` make versions of other models by promotion. Parsed with the emulator's connection as
``foundry_default``.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from airflow_provider_modelstudio.assets import model_asset
from airflow_provider_modelstudio.emulator import (
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
)
from airflow_provider_modelstudio.operators.model_versions import (
    DeployModelVersionOperator,
    PromoteModelVersionOperator,
)
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

PROMOTION_TARGET = "ri.models.main.model.announce-target"
POLL_SECONDS = 0.1
DEFAULTS = {"retries": 0}


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args=DEFAULTS)
def train_and_announce() -> None:
    LaunchModelStudioOperator(
        task_id="train",
        model_studio_rid=DEMO_STUDIO,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        outlets=[model_asset(DEMO_STUDIO_MODEL)],
    )


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args=DEFAULTS)
def promote_and_announce() -> None:
    PromoteModelVersionOperator(
        task_id="promote",
        model_rid=PROMOTION_TARGET,
        model_version_rid=DEMO_CHAMPION_SOURCE_VERSION,
        branch="staging",
        outlets=[model_asset(PROMOTION_TARGET, branch="staging")],
    )


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args=DEFAULTS)
def deploy_and_announce() -> None:
    DeployModelVersionOperator(
        task_id="deploy",
        live_deployment_rid=DEMO_DEPLOYMENT,
        model_version_rid=DEMO_CHAMPION_SOURCE_VERSION,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        outlets=[model_asset(DEMO_PROD_MODEL)],
    )


train_and_announce()
promote_and_announce()
deploy_and_announce()
