"""Train several configurations of a Model Studio side by side, let the gate pick the best, and deploy only it.

train[0], train[1], train[2] -> gate -> deploy:

- ``train`` is one mapped task per entry of CONFIGURATIONS (dynamic task mapping). Each creates the studio's
  next configuration version with its custom configuration, launches a run of it, and waits in the triggerer.
- ``gate`` receives every run's result, ranks them by BEST_BY, and gates the best one exactly as
  retrain_then_deploy.py gates its single candidate: thresholds, and beat the version the live deployment
  serves. A run without the ranking metrics is left out, saying why. The ranking (one row per configuration:
  its config version, metric values, rank) is in the gate's log and in XCom (key ``ranking``).
- ``deploy`` promotes that one version, waits until the live deployment serves it, smoke-tests it, and rolls
  back when any of that fails. The other configurations' versions stay in the studio's model, undeployed.

Trigger it for another studio or live deployment with DAG params:
    airflow dags trigger sweep_then_deploy -c '{"model_studio_rid": "ri.models.main.model-studio.<id>",
        "live_deployment_rid": "ri.foundry-ml-live.main.live-deployment.<id>"}'
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from airflow_provider_modelstudio.operators.model_versions import DeployModelVersionOperator, ModelVersionGateOperator
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

# Seconds between two status checks of the training builds and of the live deployment; see retrain_then_deploy.py.
POLL_SECONDS = float(os.environ.get("MODELSTUDIO_POLL_SECONDS", "30"))

# One training run per entry: the trainer's custom configuration (checked against its schema before anything is
# created). Set every key in every entry: a launch starts from the studio's latest configuration version, and in
# a sweep that is whichever configuration the previous launch created, so a key left out would be inherited from
# a sibling instead of the studio's usual value.
CONFIGURATIONS = [
    {"learning_rate": 0.05, "max_depth": 6, "n_estimators": 200},
    {"learning_rate": 0.1, "max_depth": 8, "n_estimators": 400},
    {"learning_rate": 0.2, "max_depth": 10, "n_estimators": 200},
]
# How the gate picks: the highest val_auc; between equal val_auc values, the lowest val_loss; between runs equal
# on both, the first in CONFIGURATIONS.
BEST_BY = {"val_auc": "higher", "val_loss": "lower"}
# Then the best run must reach these values and beat the version the live deployment serves today.
THRESHOLDS = {"val_auc": ">= 0.85", "val_loss": "<= 0.3"}
COMPARE = {"val_auc": "higher", "val_loss": "lower"}
SMOKE_TEST_INPUT = {"tenure_months": 14, "monthly_charges": 52.5}


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
def sweep_then_deploy():
    # partial() holds what every run shares, expand() what differs: one task instance per configuration. Launches
    # of one studio take turns (an Airflow Variable per studio) only for the seconds between creating a
    # configuration version and launching it, so the runs then train side by side, each waiting in the triggerer.
    train = LaunchModelStudioOperator.partial(
        task_id="train",
        model_studio_rid="{{ params.model_studio_rid }}",
        deferrable=True,
        poll_interval=POLL_SECONDS,
        # The Airflow race described in retrain_then_deploy.py; on 3.3+ a retry reattaches to the same run.
        retries=1,
        retry_delay=timedelta(seconds=10),
    ).expand(custom_config=CONFIGURATIONS)

    # train.output is every run's result, in the order of CONFIGURATIONS. The gate runs once all of them
    # succeeded, ranks them, and checks only the best; its result names that run's model version (and
    # config_version), so the deploy below reads it from there.
    gate = ModelVersionGateOperator(
        task_id="gate",
        candidates=train.output,
        best_by=BEST_BY,
        thresholds=THRESHOLDS,
        compare=COMPARE,
        champion_live_deployment_rid="{{ params.live_deployment_rid }}",
    )

    DeployModelVersionOperator(
        task_id="deploy",
        live_deployment_rid="{{ params.live_deployment_rid }}",
        model_version_rid=gate.output["model_version_rid"],
        smoke_test_input=SMOKE_TEST_INPUT,
        rollback_on_failure=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        retries=1,
        retry_delay=timedelta(seconds=10),
    )


sweep_then_deploy()
