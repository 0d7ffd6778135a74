"""DAGs of the production-shaped deployment test: deferred launches and a deferred deploy, each with one retry.

``prod_launches`` launches ``<studio_prefix>-0`` to ``-3``; ``prod_deploy`` deploys a version onto a live
deployment, both named through DAG params. Builds and rollouts last as long as the test's emulator clock says.
The retry is what a platform team gives its tasks: a task whose worker died is retried and must reattach to its
run (Airflow 3.3's task state store), never launch a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag

from airflow_provider_modelstudio.operators.model_versions import DeployModelVersionOperator
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

POLL_SECONDS = 1.0
LAUNCHES = 4
DEFAULTS = {"retries": 1, "retry_delay": timedelta(seconds=2)}


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    default_args=DEFAULTS,
    params={"studio_prefix": Param("ri.models.main.model-studio.demo", type="string")},
    tags=["modelstudio", "e2e"],
)
def prod_launches() -> None:
    for index in range(LAUNCHES):
        LaunchModelStudioOperator(
            task_id=f"launch_{index}",
            model_studio_rid="{{ params.studio_prefix }}-" + str(index),
            deferrable=True,
            poll_interval=POLL_SECONDS,
        )


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    default_args=DEFAULTS,
    params={
        "live_deployment_rid": Param("ri.foundry-ml-live.main.live-deployment.demo", type="string"),
        "model_version_rid": Param("ri.models.main.model-version.demo", type="string"),
    },
    tags=["modelstudio", "e2e"],
)
def prod_deploy() -> None:
    DeployModelVersionOperator(
        task_id="deploy",
        live_deployment_rid="{{ params.live_deployment_rid }}",
        model_version_rid="{{ params.model_version_rid }}",
        deferrable=True,
        poll_interval=POLL_SECONDS,
    )


prod_launches()
prod_deploy()
