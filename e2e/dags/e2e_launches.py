"""DAGs of the deployment test (``make e2e``): deferred launches of studios the test names through DAG params.

``e2e_one_launch`` launches one run; ``e2e_ten_launches`` launches ten, of ``<studio_prefix>-0`` to ``-9``.
Both check the build every second (the emulator's clock decides when it ends) and never retry a task, so a
failure shows as it happened. They deploy nothing.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag

from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator

POLL_SECONDS = 1.0
LAUNCHES = 10
DEFAULTS = {"retries": 0}


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    default_args=DEFAULTS,
    params={"model_studio_rid": Param("ri.models.main.model-studio.demo", type="string")},
    tags=["modelstudio", "e2e"],
)
def e2e_one_launch() -> None:
    LaunchModelStudioOperator(
        task_id="launch",
        model_studio_rid="{{ params.model_studio_rid }}",
        deferrable=True,
        poll_interval=POLL_SECONDS,
    )


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    default_args=DEFAULTS,
    params={"studio_prefix": Param("ri.models.main.model-studio.demo", type="string")},
    tags=["modelstudio", "e2e"],
)
def e2e_ten_launches() -> None:
    for index in range(LAUNCHES):
        LaunchModelStudioOperator(
            task_id=f"launch_{index}",
            model_studio_rid="{{ params.studio_prefix }}-" + str(index),
            deferrable=True,
            poll_interval=POLL_SECONDS,
        )


e2e_one_launch()
e2e_ten_launches()
