"""Read what the provider's tasks recorded (XCom) from Airflow's metadata database, for the page's API.

Three queries, whatever the history's size: the newest DAG runs (of the readable DAGs) in which a provider task
pushed one of :data:`MARKER_KEYS`, the XCom rows of those runs' provider tasks (their marker keys and their
``return_value``), and those tasks' states. A DAG run without provider tasks matches no marker key, so it is
never read. Only columns are selected (no ORM objects), and values are decoded as Airflow decodes XCom.

It reads and never writes; access control is the caller's: pass only the DAG ids the user may read.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.deploys.gate import GATE_VERDICT_XCOM_KEY, GATE_XCOM_KEY
from airflow_provider_modelstudio.links.foundry import (
    BUILD_URL_XCOM_KEY,
    LIVE_DEPLOYMENT_URL_XCOM_KEY,
    MODEL_VERSION_URL_XCOM_KEY,
)
from airflow_provider_modelstudio.operators.model_versions import DEPLOY_STATE_KEY, DEPLOY_TARGET_KEY

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

RETURN_VALUE = "return_value"
DEPLOY_RESULT_KEY = "deploy_result"
PROMOTED_KEY = "promoted_version_rid"
PREVIOUS_KEY = "previous_version_rid"
BUILD_RID_KEY = "build_rid"

MARKER_KEYS = (
    BUILD_URL_XCOM_KEY,
    GATE_XCOM_KEY,
    GATE_VERDICT_XCOM_KEY,
    DEPLOY_STATE_KEY,
    DEPLOY_TARGET_KEY,
    DEPLOY_RESULT_KEY,
    PROMOTED_KEY,
)
"""Keys only the provider's tasks push: a task that pushed one is a launch, gate, promote or deploy task."""
_SERDE_MARKERS = ("__classname__", "__type", "__var", "__data__", "__version__")
"""What Airflow's XCom serialisation writes into a value that is not plain JSON (tuples, dates, objects)."""
READ_KEYS = (*MARKER_KEYS, PREVIOUS_KEY, BUILD_RID_KEY, MODEL_VERSION_URL_XCOM_KEY, LIVE_DEPLOYMENT_URL_XCOM_KEY)
"""Keys read besides those tasks' ``return_value``."""


@dataclass(frozen=True)
class RunInfo:
    """A DAG run with provider tasks.

    :param dag_id: the DAG
    :param run_id: the run
    :param when: when it was due to run (``run_after``), ISO 8601
    :param state: the run's state
    """

    dag_id: str
    run_id: str
    when: str
    state: str | None


@dataclass
class TaskRecord:
    """What one provider task instance pushed, by key, and its state.

    :param run: the DAG run's database id
    :param task_id: the task
    :param map_index: -1 unless mapped
    """

    run: int
    task_id: str
    map_index: int
    state: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class History:
    """The runs and their provider tasks, as recorded."""

    runs: dict[int, RunInfo]
    tasks: list[TaskRecord]


def load_history(session: Session, dag_ids: Collection[str], limit: int) -> History:
    """The newest ``limit`` DAG runs of ``dag_ids`` with provider tasks, and what those tasks pushed.

    :param session: a metadata database session
    :param dag_ids: the DAGs the user may read; nothing else is read
    :param limit: the most DAG runs to read, newest first
    """
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import and_, exists, or_, select
    from sqlalchemy.orm import aliased

    if not dag_ids or limit <= 0:
        return History({}, [])
    xcom = XComModel
    newest = (
        select(xcom.dag_run_id)
        .where(xcom.key.in_(MARKER_KEYS), xcom.dag_id.in_(list(dag_ids)))
        .group_by(xcom.dag_run_id)
        .order_by(xcom.dag_run_id.desc())
        .limit(limit)
    )
    run_ids = list(session.scalars(newest))
    if not run_ids:
        return History({}, [])
    runs = {
        row.id: RunInfo(row.dag_id, row.run_id, _iso(row.run_after), _text(row.state))
        for row in session.execute(
            select(DagRun.id, DagRun.dag_id, DagRun.run_id, DagRun.run_after, DagRun.state).where(
                DagRun.id.in_(run_ids)
            )
        )
    }
    marker = aliased(XComModel)
    marked = exists().where(
        marker.dag_run_id == xcom.dag_run_id,
        marker.task_id == xcom.task_id,
        marker.map_index == xcom.map_index,
        marker.key.in_(MARKER_KEYS),
    )
    rows = session.execute(
        select(xcom.dag_run_id, xcom.task_id, xcom.map_index, xcom.key, xcom.value).where(
            xcom.dag_run_id.in_(run_ids),
            or_(xcom.key.in_(READ_KEYS), and_(xcom.key == RETURN_VALUE, marked)),
        )
    )
    tasks: dict[tuple[int, str, int], TaskRecord] = {}
    for row in rows:
        where = (row.dag_run_id, row.task_id, row.map_index)
        record = tasks.setdefault(where, TaskRecord(*where))
        record.values[row.key] = _decoded(row.value)
    _add_states(session, runs, tasks, TaskInstance, DagRun)
    return History(runs, [task for task in tasks.values() if task.run in runs])


def _add_states(
    session: Session, runs: dict[int, RunInfo], tasks: dict[tuple[int, str, int], TaskRecord], ti: Any, dag_run: Any
) -> None:
    """Set each record's task instance state (one query for all of them)."""
    from sqlalchemy import and_, select

    if not tasks:
        return
    query = (
        select(dag_run.id, ti.task_id, ti.map_index, ti.state)
        .join(dag_run, and_(dag_run.dag_id == ti.dag_id, dag_run.run_id == ti.run_id))
        .where(dag_run.id.in_(list(runs)), ti.task_id.in_({task_id for _, task_id, _ in tasks}))
    )
    for row in session.execute(query):
        record = tasks.get((row[0], row[1], row[2]))
        if record is not None:
            record.state = _text(row[3])


def _decoded(value: Any) -> Any:
    """An XCom value as Airflow's own readers decode it (``XComModel.deserialize_value``).

    Values the provider pushes are plain JSON (dicts, lists, strings, numbers): text without any of Airflow's
    serialisation markers is read with ``json.loads`` alone, which gives the same result several times faster;
    anything else goes through Airflow's decoder.
    """
    if isinstance(value, str) and not any(marker in value for marker in _SERDE_MARKERS):
        try:
            return json.loads(value)
        except ValueError:
            return value
    from airflow.models.xcom import XComModel

    try:
        return XComModel.deserialize_value(SimpleNamespace(value=value))
    except (ValueError, TypeError):
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""
