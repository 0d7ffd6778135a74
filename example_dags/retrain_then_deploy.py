"""Retrain a model in Foundry Model Studio, let the new version through a quality gate, and deploy it.

train -> gate -> deploy:

- ``train`` launches a run of the studio and waits in the triggerer for the new model version.
- ``gate`` reads that version's experiment metrics and checks thresholds, and that the version beats the
  champion: the version the live deployment serves today. A failed check fails the gate (no retries) and
  nothing is deployed; the gate's table is in its log and in XCom (key ``gate``).
- ``deploy`` promotes the version onto the branch the live deployment follows, waits in the triggerer until
  the deployment serves it, asks it for one prediction (the smoke test), and when any of that fails,
  promotes the previous version back, waits until it is served again, and fails saying what serves now.

Trigger it for another studio or live deployment with DAG params:
    airflow dags trigger retrain_then_deploy -c '{"model_studio_rid": "ri.models.main.model-studio.<id>",
        "live_deployment_rid": "ri.foundry-ml-live.main.live-deployment.<id>"}'
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag

from airflow_provider_modelstudio.operators.model_versions import DeployModelVersionOperator, ModelVersionGateOperator
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

# Seconds between two status checks of the training build and of the live deployment. 30 s suits real
# training runs (minutes to hours); `make demo` sets MODELSTUDIO_POLL_SECONDS=1 because the local emulator's
# runs take 5 s. Read at parse time, so set it the same way wherever the DAG is parsed (dag-processor and
# workers).
POLL_SECONDS = float(os.environ.get("MODELSTUDIO_POLL_SECONDS", "30"))

# The new version must reach these values of its experiment's metrics (a metric name alone means the last
# value of its series)...
THRESHOLDS = {"val_auc": ">= 0.85", "val_loss": "<= 0.3"}
# ...and match or beat the champion: a higher val_auc and a lower val_loss than the version served today.
COMPARE = {"val_auc": "higher", "val_loss": "lower"}
# One inference call once the new version is served: transformJson's input, {name: value}.
SMOKE_TEST_INPUT = {"tenure_months": 14, "monthly_charges": 52.5}


def prediction_is_a_probability(output: dict[str, Any]) -> bool:
    """The smoke test's check of the deployment's answer: a prediction between 0 and 1."""
    prediction = output.get("prediction")
    return isinstance(prediction, int | float) and 0.0 <= prediction <= 1.0


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    params={
        "model_studio_rid": Param("ri.models.main.model-studio.demo", type="string"),
        "live_deployment_rid": Param("ri.foundry-ml-live.main.live-deployment.demo", type="string"),
    },
    tags=["modelstudio", "example"],
)
def retrain_then_deploy():
    # Starts a run with the studio's latest configuration. deferrable=True waits in the triggerer, so no
    # worker slot is held while the model trains. Returns the result dict (model_rid, model_version_rid, ...).
    train = LaunchModelStudioOperator(
        task_id="train",
        model_studio_rid="{{ params.model_studio_rid }}",
        deferrable=True,
        poll_interval=POLL_SECONDS,
        # A retry (a worker that died, a resume Airflow failed: docs/operability.md) reattaches to the run it
        # launched instead of launching another (Airflow 3.3+; on 3.1 and 3.2 add reattach_to_running_run=True).
        retries=1,
        retry_delay=timedelta(seconds=10),
    )

    # Reads metrics only. A failed check fails this task without retries: asking again gives the same answer.
    gate = ModelVersionGateOperator(
        task_id="gate",
        candidate=train.output,
        thresholds=THRESHOLDS,
        compare=COMPARE,
        champion_live_deployment_rid="{{ params.live_deployment_rid }}",
    )

    # Promotes once (a retry adopts the copy it already made), waits in the triggerer, smoke-tests, and
    # rolls back to the version served before when the deployment fails, is not ready in time, or the smoke
    # test fails.
    deploy = DeployModelVersionOperator(
        task_id="deploy",
        live_deployment_rid="{{ params.live_deployment_rid }}",
        model_version_rid=train.output["model_version_rid"],
        smoke_test_input=SMOKE_TEST_INPUT,
        smoke_test_check=prediction_is_a_probability,
        rollback_on_failure=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        # The same Airflow race; on 3.3+ a retry resumes the deployment without promoting again.
        retries=1,
        retry_delay=timedelta(seconds=10),
    )

    gate >> deploy


retrain_then_deploy()
