"""Fixtures to run the example DAGs with ``dag.test()`` against the Foundry emulator.

- ``airflow_db``: the session's metadata database (SQLite in the ``AIRFLOW_HOME`` the root conftest made),
  created once. ``dag.test()`` needs it; ``initdb()`` creates the tables directly (no migration files) on
  Airflow 3.1 and 3.3 alike.
- ``example_dags``: the example DAGs, parsed once with a short poll interval, and the ``example_dags``
  folder configured as a DAG bundle: ``dag.test()`` writes the DAGs of the configured bundles to the
  database before it creates a run, and refuses a DAG it did not find there.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
WAIT_MODE_DAGS = Path(__file__).resolve().parent / "wait_modes"
POLL_SECONDS = "0.1"

# "example_dags" is a name Airflow reserves for its own examples.
BUNDLE_CONFIG = [
    {
        "name": "modelstudio-examples",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(EXAMPLE_DAGS)},
    },
    {
        "name": "modelstudio-wait-modes",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(WAIT_MODE_DAGS)},
    },
]
PARSE_CONNECTION_VAR = "AIRFLOW_CONN_FOUNDRY_DEFAULT"
PARSE_CONNECTION: dict[str, str] = {}
"""The connection DAG files are parsed with: the session's emulator (set by the ``_example_env`` fixture)."""
ENV = {
    "MODELSTUDIO_POLL_SECONDS": POLL_SECONDS,
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(BUNDLE_CONFIG),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
}


def dag_bag(folder: Path | str = EXAMPLE_DAGS) -> Any:
    """A DagBag of ``folder`` without Airflow's own examples (3.3 removed ``include_examples``).

    ``foundry_default`` is defined while parsing (the session's emulator, unless the test set one): a DAG naming
    a model's asset reads its host when parsed, and one watching a studio's training data reads its configuration.
    """
    from airflow.models import DagBag

    connection = os.environ.get(PARSE_CONNECTION_VAR, PARSE_CONNECTION["value"])
    with mock.patch.dict(os.environ, {PARSE_CONNECTION_VAR: connection}):
        if "include_examples" in inspect.signature(DagBag).parameters:
            return DagBag(dag_folder=str(folder), include_examples=False)  # type: ignore[call-arg]  # Airflow < 3.3
        return DagBag(dag_folder=str(folder))


@pytest.fixture(scope="session")
def _example_env(_session_emulator: Any) -> Iterator[None]:
    PARSE_CONNECTION["value"] = _session_emulator.connection_env()
    saved = {name: os.environ.get(name) for name in ENV}
    os.environ.update(ENV)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def airflow_db(_example_env: None) -> None:
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="session")
def example_dags(_example_env: None) -> dict[str, Any]:
    bag = dag_bag()
    assert not bag.import_errors, bag.import_errors
    return dict(bag.dags)


@pytest.fixture(scope="session")
def wait_mode_dags(_example_env: None) -> dict[str, Any]:
    bag = dag_bag(WAIT_MODE_DAGS)
    assert not bag.import_errors, bag.import_errors
    return dict(bag.dags)


def xcom(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    """One XCom value of a finished run, read from the metadata database."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        query = XComModel.get_many(
            run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id, key=key, map_indexes=map_index
        )
        row = session.scalars(query).first()
        assert row is not None, f"no XCom {key!r} of {task_id}[{map_index}] in {dag_run.run_id}"
        return XComModel.deserialize_value(row)


def task_states(dag_run: Any) -> dict[str, str]:
    """``{task_id or task_id[map_index]: state}`` of a finished run."""
    states = {}
    for ti in dag_run.get_task_instances():
        name = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        states[name] = str(getattr(ti.state, "value", ti.state))
    return states
