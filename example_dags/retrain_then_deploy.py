"""Retrain a model in Foundry Model Studio, check the new model version, then hand it to deployment.

Trigger it for another studio with a DAG param:
    airflow dags trigger retrain_then_deploy -c '{"model_studio_rid": "ri.models.main.model-studio.<id>"}'
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import Param, dag, task

from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

# Seconds between two status checks of the training build. 30 s suits real training runs (minutes to
# hours); `make demo` sets MODELSTUDIO_POLL_SECONDS=1 because the local emulator's runs take 5 s. Read at
# parse time, so set it the same way wherever the DAG is parsed (dag-processor and workers).
POLL_SECONDS = float(os.environ.get("MODELSTUDIO_POLL_SECONDS", "30"))


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    params={"model_studio_rid": Param("ri.models.main.model-studio.demo", type="string")},
    tags=["modelstudio", "example"],
)
def retrain_then_deploy():
    # Starts a run with the studio's latest configuration. deferrable=True waits in the triggerer, so no
    # worker slot is held while the model trains. Returns the result dict (model_version_rid, ...).
    launch = LaunchModelStudioOperator(
        task_id="launch_training",
        model_studio_rid="{{ params.model_studio_rid }}",
        deferrable=True,
        poll_interval=POLL_SECONDS,
    )

    # A failed gate stops the pipeline; retries=0 because asking again gives the same answer.
    @task(retries=0)
    def quality_gate(result: dict) -> str:
        from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook  # at run time, not parse

        if not isinstance(result["model_version_rid"], str):
            raise ValueError(f"Expected one model output, got {result['model_outputs']!r}")
        version = ModelStudioHook().get_model_version(result["model_rid"], result["model_version_rid"])
        source = (version.get("source") or {}).get("modelStudioRid")
        if source != result["model_studio_rid"]:
            raise ValueError(f"Model version {version['rid']} comes from {source!r}, not the studio we launched")
        if not version.get("modelApi", {}).get("outputs"):
            raise ValueError(f"Model version {version['rid']} declares no outputs in its model API")
        return result["model_version_rid"]

    @task
    def deploy(model_version_rid: str) -> str:
        # This example deploys nothing: this provider does not wrap Foundry's deployment APIs. A real DAG
        # would now point your live deployment (or modeling objective) in Foundry at this model version.
        print(f"Would deploy model version {model_version_rid} (no deployment call is made in this example).")
        return model_version_rid

    deploy(quality_gate(launch.output))


retrain_then_deploy()
