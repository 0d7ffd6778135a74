"""Deploy every new version of a model that another DAG trains: scheduled on the model's asset, not on a clock.

The training side (another DAG, maybe another team's) announces each version its run made by naming the
model's asset among the launch task's outlets:

    LaunchModelStudioOperator(task_id="train", model_studio_rid=..., outlets=[model_asset(TRAINED_MODEL)])

When that task succeeds, Airflow records an asset event whose ``extra`` names the version
(``model_version_rid``, ``model_rid``, ``run_id``, ``build_rid``, ``config_version``, ...) and runs this DAG.
A failed training run records no event, so nothing is deployed.

- ``version_in_the_event`` reads the version from the event that triggered this run, so the deploy is of
  exactly the version that was trained, not of whatever happens to be the model's latest. When several versions
  were announced before this run started, it deploys the newest and logs the others.
- ``deploy`` promotes it onto the branch the live deployment follows, waits in the triggerer until it is served,
  smoke-tests it and rolls back when any of that fails (see ``retrain_then_deploy``).

``model_asset`` reads the ``foundry_default`` connection's host when the DAG is parsed: define the connection
for the dag-processor too, as for the producer, so that both name the same asset.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_provider_modelstudio.assets import model_asset
from airflow_provider_modelstudio.operators.model_versions import DeployModelVersionOperator

# The model the training DAG's Model Studio writes to (the output model of ri.models.main.model-studio.demo in
# the local emulator).
TRAINED_MODEL = "ri.models.main.model.1aacc211-bc2a-5cdf-928e-ff67c1ed8eaa"
NEW_VERSIONS = model_asset(TRAINED_MODEL)
# Seconds between two checks of the live deployment (make demo sets MODELSTUDIO_POLL_SECONDS=1).
POLL_SECONDS = float(os.environ.get("MODELSTUDIO_POLL_SECONDS", "30"))
SMOKE_TEST_INPUT = {"tenure_months": 14, "monthly_charges": 52.5}

log = logging.getLogger(__name__)


def newest_version(events: Sequence[Any]) -> str:
    """The ``model_version_rid`` of the newest of the asset events that triggered this run.

    :param events: the run's events of the model's asset, oldest first (``triggering_asset_events[asset]``)
    :raises ValueError: when there is no event, or the newest names no version (an event not made by this
        provider's operators, e.g. one created by hand)
    """
    if not events:
        raise ValueError(
            f"This run was not triggered by an event of {NEW_VERSIONS.uri}: trigger it through the training DAG, "
            "not by hand."
        )
    newest = events[-1]
    version = (newest.extra or {}).get("model_version_rid")
    if not isinstance(version, str) or not version:
        raise ValueError(f"The asset event {newest.extra!r} names no model_version_rid; it was not made by a task.")
    for older in events[:-1]:
        log.info("Not deploying %s: a newer version was announced since.", (older.extra or {}).get("model_version_rid"))
    return version


@dag(
    schedule=[NEW_VERSIONS],
    start_date=datetime(2025, 1, 1),
    catchup=False,
    # Asset events can start runs while one still deploys; the deploy lock would refuse the second run's
    # deploy, so runs wait their turn instead.
    max_active_runs=1,
    params={"live_deployment_rid": Param("ri.foundry-ml-live.main.live-deployment.demo", type="string")},
    tags=["modelstudio", "example"],
)
def deploy_on_new_model_version():
    @task
    def version_in_the_event(*, triggering_asset_events: Any = None) -> str:
        return newest_version(list(triggering_asset_events[NEW_VERSIONS]))

    DeployModelVersionOperator(
        task_id="deploy",
        live_deployment_rid="{{ params.live_deployment_rid }}",
        model_version_rid=version_in_the_event(),
        smoke_test_input=SMOKE_TEST_INPUT,
        deferrable=True,
        poll_interval=POLL_SECONDS,
        # A retry (a worker that died, a resume Airflow failed: docs/operability.md) resumes the deployment
        # without promoting again (Airflow 3.3+).
        retries=1,
        retry_delay=timedelta(seconds=10),
    )


deploy_on_new_model_version()
