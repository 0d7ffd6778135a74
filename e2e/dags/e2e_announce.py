"""DAG of the chaining test (``make e2e``): trains the emulator's demo studio and announces the version it made.

``e2e_train_and_announce`` names the asset of the model the demo studio writes to among its outlets, which the
example ``deploy_on_new_model_version`` (linked into this folder) is scheduled on. The wait is deferred and checks
the build every second; the task is never retried, so a failure shows as it happened.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import dag

from airflow_provider_modelstudio.assets import model_asset
from airflow_provider_modelstudio.emulator import DEMO_STUDIO, DEMO_STUDIO_MODEL
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

POLL_SECONDS = 1.0


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args={"retries": 0}, tags=["e2e"])
def e2e_train_and_announce() -> None:
    LaunchModelStudioOperator(
        task_id="train",
        model_studio_rid=DEMO_STUDIO,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        outlets=[model_asset(DEMO_STUDIO_MODEL)],
    )


e2e_train_and_announce()
