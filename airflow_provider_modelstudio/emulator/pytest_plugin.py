"""pytest fixtures for testing DAGs that use this provider: a Foundry emulator, and Airflow ready for ``dag.test()``.

Opt in with ``pytest_plugins = ["airflow_provider_modelstudio.emulator.pytest_plugin"]`` in the root
``conftest.py`` (or ``pytest -p airflow_provider_modelstudio.emulator.pytest_plugin``).

- ``foundry_emulator``: a :class:`FoundryEmulator` with the default scenario on fast time
  (:data:`FAST_TIME_SCALE`: the demo studio's 5 s runs finish in 0.5 s), started for one test.
- ``foundry_connection``: the same emulator, with ``AIRFLOW_CONN_FOUNDRY_DEFAULT`` pointing at it
  (static token) for the test's duration.
- ``airflow_dags_folder``: the folder of the DAGs under test, ``dags/`` under pytest's rootdir; override this
  fixture in ``conftest.py`` to point elsewhere.
- ``airflow_db``: Airflow's metadata database, created once per session (``airflow.utils.db.initdb()``).
- ``airflow_dags``: ``{dag_id: DAG}`` of that folder, parsed once per session (an import error fails the test
  that asks for them), with the folder configured as Airflow's DAG bundle and the database created, so that
  ``airflow_dags["my_dag"].test()`` runs. ``dag.test()`` writes the bundle's DAGs to the database before it
  creates a run and refuses a DAG it did not find there ("the dag is not serialized").
- ``airflow_xcom``: ``airflow_xcom(dag_run, task_id, key="return_value", map_index=-1)`` reads an XCom value of a
  finished run.

When the plugin is loaded and ``AIRFLOW_HOME`` is unset, it points ``AIRFLOW_HOME`` at a throw-away directory
for the session (removed at the end) and turns off Airflow's example DAGs there; it must happen before Airflow
is first imported, which reads ``AIRFLOW_HOME`` once. A set ``AIRFLOW_HOME`` is used as it is: its database gets
the test runs. Importing this module imports neither Airflow, FastAPI nor uvicorn.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_provider_modelstudio.emulator.server import FoundryEmulator

FAST_TIME_SCALE = 10.0
"""Emulator seconds per real second in the fixtures."""
BUNDLE_NAME = "dags-folder"
"""The name of the DAG bundle ``airflow_dags`` configures (Airflow's own name for the DAGs folder)."""
_BUNDLE_CONFIG = "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"
_THROWAWAY_HOME = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Point an unset ``AIRFLOW_HOME`` at a throw-away directory, if Airflow was not imported yet."""
    if os.environ.get("AIRFLOW_HOME") or "airflow.configuration" in sys.modules:
        return
    home = tempfile.mkdtemp(prefix="modelstudio-pytest-airflow-home-")
    os.environ["AIRFLOW_HOME"] = home
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    config.stash[_THROWAWAY_HOME] = home


def pytest_unconfigure(config: pytest.Config) -> None:
    home = config.stash.get(_THROWAWAY_HOME, None)
    if home is not None:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def foundry_emulator() -> Iterator[FoundryEmulator]:
    """A running emulator with the default scenario on fast time, stopped after the test."""
    from airflow_provider_modelstudio.emulator.server import FoundryEmulator

    with FoundryEmulator(time_scale=FAST_TIME_SCALE) as emulator:
        yield emulator


@pytest.fixture
def foundry_connection(foundry_emulator: FoundryEmulator, monkeypatch: pytest.MonkeyPatch) -> FoundryEmulator:
    """The ``foundry_emulator``, with ``AIRFLOW_CONN_FOUNDRY_DEFAULT`` set to its static-token connection."""
    monkeypatch.setenv("AIRFLOW_CONN_FOUNDRY_DEFAULT", foundry_emulator.connection_env())
    return foundry_emulator


@pytest.fixture(scope="session")
def airflow_dags_folder(pytestconfig: pytest.Config) -> Path:
    """The folder holding the DAGs under test: ``dags/`` under pytest's rootdir. Override it to change it."""
    return pytestconfig.rootpath / "dags"


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database in ``AIRFLOW_HOME``, created once per session.

    Fails the test when Airflow was imported before ``AIRFLOW_HOME`` was set (it would use ``~/airflow``).
    """
    from airflow.configuration import AIRFLOW_HOME

    home = os.environ.get("AIRFLOW_HOME")
    if not home or Path(AIRFLOW_HOME).resolve() != Path(home).resolve():
        pytest.fail(
            f"Airflow was imported before AIRFLOW_HOME was set, so it uses {AIRFLOW_HOME}; the plugin will not "
            "create tables and DAG runs there. Load the plugin before anything imports Airflow (pytest_plugins in "
            "the root conftest.py, with no Airflow import above it, or pytest -p "
            "airflow_provider_modelstudio.emulator.pytest_plugin), or set AIRFLOW_HOME yourself.",
            pytrace=False,
        )
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(scope="session")
def airflow_dags(airflow_db: None, airflow_dags_folder: Path) -> Iterator[dict[str, Any]]:
    """``{dag_id: DAG}`` of ``airflow_dags_folder``, which is Airflow's DAG bundle for the session."""
    folder = Path(airflow_dags_folder).resolve()
    if not folder.is_dir():
        pytest.fail(
            f"No DAGs folder at {folder}. Put the DAGs under test in dags/ under the project root, or override "
            "the fixture in conftest.py:\n\n@pytest.fixture(scope='session')\ndef airflow_dags_folder():\n"
            "    return Path(__file__).parent / 'my_dags'",
            pytrace=False,
        )
    bundle = {
        "name": BUNDLE_NAME,
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(folder)},
    }
    saved = os.environ.get(_BUNDLE_CONFIG)
    os.environ[_BUNDLE_CONFIG] = json.dumps([bundle])
    try:
        bag = _dag_bag(folder)
        if bag.import_errors:
            errors = "\n".join(f"{path}:\n{error}" for path, error in bag.import_errors.items())
            pytest.fail(f"The DAGs in {folder} do not import:\n{errors}", pytrace=False)
        yield dict(bag.dags)
    finally:
        if saved is None:
            os.environ.pop(_BUNDLE_CONFIG, None)
        else:
            os.environ[_BUNDLE_CONFIG] = saved


@pytest.fixture
def airflow_xcom() -> Callable[..., Any]:
    """``airflow_xcom(dag_run, task_id, key="return_value", map_index=-1)``: an XCom value of a finished run, as
    the task pushed it; fails the test when there is none."""

    def read(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            query = XComModel.get_many(
                run_id=dag_run.run_id, dag_ids=dag_run.dag_id, task_ids=task_id, key=key, map_indexes=map_index
            )
            row = session.scalars(query).first()
            if row is None:
                pytest.fail(f"No XCom {key!r} of {task_id}[{map_index}] in {dag_run.run_id}.", pytrace=False)
            return XComModel.deserialize_value(row)

    return read


def _dag_bag(folder: Path) -> Any:
    """A DagBag of ``folder`` without Airflow's own examples (Airflow 3.3 removed ``include_examples``)."""
    from airflow.models import DagBag

    if "include_examples" in inspect.signature(DagBag).parameters:
        return DagBag(dag_folder=str(folder), include_examples=False)  # type: ignore[call-arg]  # Airflow < 3.3
    return DagBag(dag_folder=str(folder))
