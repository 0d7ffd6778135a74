"""Asset-triggered runs without a scheduler process, on Airflow 3.1 and 3.3 alike.

``dag.test()`` runs a producer and, when its tasks succeed, Airflow's execution API records their outlets' asset
events and queues the DAGs scheduled on those assets (``AssetDagRunQueue``). These helpers read that record,
let the scheduler's own code turn the queue into DAG runs (``SchedulerJobRunner._create_dagruns_for_dags``, as
one scheduler loop would), and run such a run's tasks in-process the way ``dag.test()`` runs its own (deferred
tasks' triggers inline).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from tests.example_dags.conftest import BUNDLE_CONFIG

PRODUCERS = Path(__file__).resolve().parent / "model_version_producers"
PRODUCERS_BUNDLE = "modelstudio-model-version-producers"
BUNDLES_WITH_PRODUCERS = json.dumps(
    [
        *BUNDLE_CONFIG,
        {
            "name": PRODUCERS_BUNDLE,
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(PRODUCERS)},
        },
    ]
)
FINISHED = {"success", "failed", "skipped", "upstream_failed", "removed"}


def sync_bundles() -> None:
    """Write every configured bundle's DAGs to the database as the dag-processor would (parsed now, with the
    connection the test has set, so that producers and consumers name the same assets)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.utils.session import create_session

    try:
        from airflow.dag_processing.dagbag import BundleDagBag, sync_bag_to_db
    except ImportError:  # Airflow < 3.2
        from airflow.models.dagbag import BundleDagBag, sync_bag_to_db  # type: ignore[no-redef,attr-defined]

    manager = DagBundlesManager()
    with create_session() as session:
        manager.sync_bundles_to_db(session=session)
    for bundle in manager.get_all_dag_bundles():
        if not bundle.is_initialized:
            bundle.initialize()
        kwargs: dict[str, Any] = {"dag_folder": bundle.path, "bundle_path": bundle.path}
        if "bundle_name" in inspect.signature(BundleDagBag).parameters:
            kwargs["bundle_name"] = bundle.name
        bag = BundleDagBag(**kwargs)
        assert not bag.import_errors, bag.import_errors
        sync_bag_to_db(bag, bundle.name, bundle.version)
    unpause_all()


def unpause_all() -> None:
    """New DAGs are paused by default; a paused consumer is never queued."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        session.execute(update(DagModel).values(is_paused=False))


def empty_queue() -> None:
    """Forget the asset events earlier tests left waiting to trigger runs."""
    from airflow.models.asset import AssetDagRunQueue
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(AssetDagRunQueue))


def asset_events(uri: str) -> list[dict[str, Any]]:
    """Every asset event of the asset with this URI, oldest first: ``{"extra", "source_dag_id", "source_run_id"}``."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.scalars(
            select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(AssetModel.uri == uri)
        ).all()
        return [
            {"extra": dict(row.extra or {}), "source_dag_id": row.source_dag_id, "source_run_id": row.source_run_id}
            for row in sorted(rows, key=lambda row: row.timestamp)
        ]


def queued_for(dag_id: str) -> int:
    """How many asset events wait to trigger a run of ``dag_id`` (rows of ``AssetDagRunQueue``)."""
    from airflow.models.asset import AssetDagRunQueue
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(AssetDagRunQueue).where(AssetDagRunQueue.target_dag_id == dag_id)
            )
            or 0
        )


def schedule_queued_runs() -> None:
    """One scheduler loop's creation of DAG runs: asset-triggered ones from the queue."""
    from airflow.jobs.job import Job
    from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
    from airflow.utils.session import create_session
    from airflow.utils.sqlalchemy import prohibit_commit

    runner = SchedulerJobRunner(job=Job())
    with create_session() as session, prohibit_commit(session) as guard:
        runner._create_dagruns_for_dags(guard, session)


def asset_triggered_runs(dag_id: str) -> list[Any]:
    """The asset-triggered runs of ``dag_id``, oldest first."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunType
    from sqlalchemy import select

    with create_session() as session:
        runs = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_type == DagRunType.ASSET_TRIGGERED)
        ).all()
        session.expunge_all()
        return sorted(runs, key=lambda run: run.id)


def consumed_versions(dag_run: Any) -> list[str]:
    """The ``model_version_rid`` of each asset event a run consumed."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.id == dag_run.id))
        return [str((event.extra or {}).get("model_version_rid")) for event in run.consumed_asset_events]


def run_tasks(dag: Any, dag_run: Any) -> str:
    """Run a queued DAG run's tasks in this process as ``dag.test()`` does; return the run's final state.

    :param dag: the parsed DAG (its tasks are run)
    :param dag_run: a run of it that the scheduler created
    """
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.sdk.definitions.dag import _run_task
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from sqlalchemy import select

    with create_session() as session:
        run = session.scalar(select(DagRun).where(DagRun.id == dag_run.id))
        run.dag = DBDagBag().get_dag_for_run(run, session=session)
        run.set_state(DagRunState.RUNNING)
        session.commit()
        while run.state == DagRunState.RUNNING:
            session.expire_all()
            schedulable, _ = run.update_state(session=session)
            for ti in schedulable:
                ti.try_number += 1
                ti.state = TaskInstanceState.SCHEDULED
            session.commit()
            scheduled = [
                ti for ti in run.get_task_instances(session=session) if ti.state == TaskInstanceState.SCHEDULED
            ]
            for ti in scheduled:
                _run_task(ti=ti, task=dag.task_dict[ti.task_id], run_triggerer=True)
            if not scheduled and all(str(ti.state) in FINISHED for ti in run.get_task_instances(session=session)):
                session.expire_all()
                run.update_state(session=session)
                session.commit()
                break
        return str(getattr(run.state, "value", run.state))
