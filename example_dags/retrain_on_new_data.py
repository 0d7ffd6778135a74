"""Retrain a model whenever its training data changes, then gate and deploy the new version.

Scheduled on the studio's training datasets, not on a clock: ``training_data(STUDIO)`` reads the dataset inputs
of the studio's latest configuration and watches each (its ``master`` branch) with a ``FoundryDatasetTrigger``
in the triggerer. Each new COMMITTED transaction starts one run; an OPEN or ABORTED transaction starts none.

- ``new_data`` names the commit(s) that started this run, from the asset events' extra (dataset, branch,
  transaction, type, closing time). When commits land faster than the scheduler starts runs, Airflow hands one
  run every event queued since the last, and this task lists them all.
- ``train`` -> ``gate`` -> ``deploy`` is the chain of ``retrain_then_deploy``: train with the latest
  configuration (which reads the datasets as they are now), gate on metrics against the version served today,
  deploy with a smoke test and rollback.

The watcher remembers the last commit it announced in an Airflow Variable (``modelstudio_dataset_watermark.*``),
so a triggerer restart neither repeats nor loses one. The connection needs the ``api:datasets-read`` scope.
``training_data`` reads Foundry when the DAG is parsed, at most once per ten minutes (then from a file).

The DAG is paused when it first appears: it trains and deploys on its own, so turn it on when you mean it.
Airflow runs the watchers of unpaused DAGs only, from the next parse of the file after you unpause it (the DAG
page's "Reparse Dag" starts them at once); unpaused again, the watcher announces (once) what was committed while
it was paused.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

from airflow_provider_modelstudio.datasets.watchers import training_data
from airflow_provider_modelstudio.operators.model_versions import DeployModelVersionOperator, ModelVersionGateOperator
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

STUDIO = "ri.models.main.model-studio.demo"
LIVE_DEPLOYMENT = "ri.foundry-ml-live.main.live-deployment.demo"
# Seconds between two checks of the datasets, the training build and the live deployment (make demo sets
# MODELSTUDIO_POLL_SECONDS=1; a minute suits datasets written a few times a day).
POLL_SECONDS = float(os.environ.get("MODELSTUDIO_POLL_SECONDS", "60"))
TRAINING_DATA = training_data(STUDIO, poll_interval=POLL_SECONDS)

log = logging.getLogger(__name__)


def commits_of(events_by_asset: Mapping[Any, Sequence[Any]]) -> list[dict[str, Any]]:
    """The commits announced by the asset events that started a run, oldest first.

    :param events_by_asset: the run's ``triggering_asset_events``
    """
    commits = []
    for events in events_by_asset.values():
        for event in events:
            payload = (event.extra or {}).get("payload")
            if isinstance(payload, dict) and payload.get("transaction_rid"):
                commits.append(payload)
    return sorted(commits, key=lambda commit: str(commit.get("closed_time")))


@dag(
    schedule=TRAINING_DATA,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,
    tags=["modelstudio", "example"],
)
def retrain_on_new_data():
    @task
    def new_data(triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        commits = commits_of(triggering_asset_events or {})
        for commit in commits:
            log.info(
                "New data: %s transaction %s on %s (branch %s), committed %s.",
                commit.get("transaction_type"),
                commit["transaction_rid"],
                commit.get("dataset_rid"),
                commit.get("branch"),
                commit.get("closed_time"),
            )
        if not commits:
            log.info("Started without a dataset commit (by hand): training on the data as it is.")
        return commits

    train = LaunchModelStudioOperator(
        task_id="train",
        model_studio_rid=STUDIO,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        retries=1,
        retry_delay=timedelta(seconds=10),
    )
    gate = ModelVersionGateOperator(
        task_id="gate",
        candidate=train.output,
        thresholds={"val_auc": ">= 0.85", "val_loss": "<= 0.3"},
        compare={"val_auc": "higher", "val_loss": "lower"},
        champion_live_deployment_rid=LIVE_DEPLOYMENT,
    )
    deploy = DeployModelVersionOperator(
        task_id="deploy",
        live_deployment_rid=LIVE_DEPLOYMENT,
        model_version_rid=train.output["model_version_rid"],
        smoke_test_input={"tenure_months": 14, "monthly_charges": 52.5},
        rollback_on_failure=True,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        retries=1,
        retry_delay=timedelta(seconds=10),
    )

    new_data() >> train >> gate >> deploy


retrain_on_new_data()
