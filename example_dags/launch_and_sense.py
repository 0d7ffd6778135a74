"""Launch a Model Studio run in one task and wait for it in another.

Splitting launch and wait lets you put work between them, give the wait its own timeout, or wait for a
run some other task (or another DAG) launched. The sensor never launches or cancels anything.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag, task

from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from airflow_provider_modelstudio.sensors.modelstudio import ModelStudioRunSensor

# Seconds between status checks; see retrain_then_deploy.py.
POLL_SECONDS = float(os.environ.get("MODELSTUDIO_POLL_SECONDS", "30"))


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, tags=["modelstudio", "example"])
def launch_and_sense():
    # Returns right after Foundry accepted the run; its result already names the future model version.
    launch = LaunchModelStudioOperator(
        task_id="launch_training",
        model_studio_rid="ri.models.main.model-studio.demo",
        wait_for_completion=False,
    )

    # Waits in the triggerer (no worker slot held). Its timeout fails the sensor but leaves the build
    # running: the sensor does not own the run.
    wait = ModelStudioRunSensor(
        task_id="wait_for_training",
        run=launch.output,
        deferrable=True,
        poke_interval=POLL_SECONDS,
        timeout=timedelta(hours=12),
    )

    @task
    def report(result: dict) -> str:
        print(f"Run {result['run_id']} ended {result['build_status']}: new model version {result['model_version_rid']}")
        return result["model_version_rid"]

    report(wait.output)


launch_and_sense()
