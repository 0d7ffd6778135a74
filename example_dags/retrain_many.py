"""Retrain several Model Studios in parallel (dynamic task mapping) and collect every new model version.

Replace the RIDs below with your studios'. The tests run this DAG against the emulator after adding
these studios to it (``foundry_emulator.add_studio(rid)``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag, task

from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

STUDIOS = [
    "ri.models.main.model-studio.churn",
    "ri.models.main.model-studio.fraud",
    "ri.models.main.model-studio.demand",
]

# Seconds between status checks; see retrain_then_deploy.py.
POLL_SECONDS = float(os.environ.get("MODELSTUDIO_POLL_SECONDS", "30"))


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, tags=["modelstudio", "example"])
def retrain_many():
    # One mapped task instance per studio. Deferred waits share one status poller per connection in the
    # triggerer (one getBatch request for up to 100 builds), so many parallel runs stay cheap.
    launches = LaunchModelStudioOperator.partial(
        task_id="retrain",
        deferrable=True,
        poll_interval=POLL_SECONDS,
        # A retry (a worker that died, a resume Airflow failed: docs/operability.md) reattaches to the run it
        # launched instead of launching another (Airflow 3.3+; on 3.1 and 3.2 add reattach_to_running_run=True).
        retries=1,
        retry_delay=timedelta(seconds=10),
    ).expand(model_studio_rid=STUDIOS)

    @task
    def collect(results: list[dict]) -> dict[str, str]:
        """New model version RID by studio; runs only once every studio's run succeeded."""
        versions = {r["model_studio_rid"]: r["model_version_rid"] for r in results}
        for studio, version in versions.items():
            print(f"{studio} -> {version}")
        return versions

    collect(launches.output)


retrain_many()
