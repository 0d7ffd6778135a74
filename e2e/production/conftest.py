"""The production-shaped deployment: Airflow's services on PostgreSQL with the CeleryExecutor (Redis broker),
two triggerers and one Celery worker, against the session's emulator. It replaces the SQLite deployment of the
other e2e tests for the tests in this folder; ``make e2e`` runs this folder in a pytest run of its own, so that
only one deployment runs at a time on the 2-core machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from airflow_deployment import CELERY_WORKER, SERVICES, AirflowDeployment, stop_signals_interrupt

from airflow_provider_modelstudio.emulator import FoundryEmulator
from e2e.production.servers import postgres, redis

DAGS_FOLDER = Path(__file__).resolve().parent / "dags"
DAG_IDS = ["prod_launches", "prod_deploy"]
SECOND_TRIGGERER = "triggerer-2"
# A task whose worker died is noticed once its heartbeat is this old (Airflow's default is 300 s).
TASK_HEARTBEAT_TIMEOUT_SECONDS = "15"


@pytest.fixture(scope="session")
def airflow(emulator: FoundryEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowDeployment]:
    """PostgreSQL, Redis, and Airflow's api-server, scheduler, dag-processor, two triggerers and a Celery worker."""
    servers = Path(tmp_path_factory.mktemp("servers"))
    with stop_signals_interrupt(), postgres() as database, redis(servers / "redis") as broker:
        deployment = AirflowDeployment(
            home=tmp_path_factory.mktemp("airflow-home"),
            dags_folder=DAGS_FOLDER,
            connection=emulator.connection("oauth2"),
            services=(*SERVICES, SECOND_TRIGGERER, CELERY_WORKER),
            database_url=database,
            celery_broker_url=broker,
            extra_env={
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": TASK_HEARTBEAT_TIMEOUT_SECONDS,
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            },
        )
        with deployment:
            deployment.wait_for_dags(DAG_IDS)
            yield deployment
