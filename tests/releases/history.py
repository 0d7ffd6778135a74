"""A writer of provider records for the Model releases tests and benchmark: DAG runs, their task instances and
the XCom those tasks pushed, stored the way Airflow stores them (``XComModel.set``) in the metadata database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BUNDLE = "releases-tests"
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Records:
    """Writes DAG runs with provider tasks; each test starts from empty tables."""

    runs: int = 0
    dags: set[str] = field(default_factory=set)

    def add_bundle(self) -> None:
        """The DAG bundle the DAGs belong to (Airflow 3.3's auth manager lists only DAGs of a bundle)."""
        from airflow.models.dagbundle import DagBundleModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        with create_session() as session:
            if session.scalar(select(DagBundleModel.name).where(DagBundleModel.name == BUNDLE)) is None:
                session.add(DagBundleModel(name=BUNDLE))

    def run(self, dag_id: str, tasks: dict[str, dict[str, Any]], states: dict[str, str] | None = None) -> str:
        """One DAG run whose tasks pushed ``{task_id: {key: value}}``; returns its run id.

        :param dag_id: the DAG (created when new)
        :param tasks: each task's XCom, by key
        :param states: task states (default: success)
        """
        from airflow.models.dag import DagModel
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import TaskInstance
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import insert

        self.runs += 1
        run_id = f"manual__{self.runs:04d}"
        when = START + timedelta(hours=self.runs)
        with create_session() as session:
            if dag_id not in self.dags:
                session.add(DagModel(dag_id=dag_id, bundle_name=BUNDLE))
                self.dags.add(dag_id)
            session.execute(
                insert(DagRun.__table__).values(
                    dag_id=dag_id, run_id=run_id, run_type="manual", run_after=when, state="success"
                )
            )
            for task_id in tasks:
                state = (states or {}).get(task_id, "success")
                session.execute(
                    insert(TaskInstance.__table__).values(
                        dag_id=dag_id, task_id=task_id, run_id=run_id, map_index=-1, pool="default_pool", state=state
                    )
                )
            session.flush()
            for task_id, pushed in tasks.items():
                for key, value in pushed.items():
                    XComModel.set(key, value, dag_id=dag_id, task_id=task_id, run_id=run_id, session=session)
        return run_id
