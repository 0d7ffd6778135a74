"""Fixtures of the Model releases tests: Airflow's API app with the releases app mounted as the plugin mounts it,
tokens for a reader and for an outsider who may read no DAG, and a writer of provider records (DAG runs, task
instances and their XCom, stored the way Airflow stores them) into the session's SQLite metadata database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from airflow_provider_modelstudio.releases.plugin import URL_PREFIX
from airflow_provider_modelstudio.releases.serving import ServingCache

AUTH_ENV = {
    "AIRFLOW__CORE__AUTH_MANAGER": "e2e.dag_access.DagAccessAuthManager",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "reader:viewer,outsider:viewer",
    "AIRFLOW__API_AUTH__JWT_SECRET": "releases-tests-jwt-secret-" + "0123456789abcdef" * 4,
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
}
BUNDLE = "releases-tests"
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils.db import initdb

    for name, value in AUTH_ENV.items():
        os.environ[name] = value
    initdb()


class Mounted:
    """The ASGI app mounted at the plugin's prefix: hands each request to this test's releases app."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="session")
def _airflow_app(airflow_db: None) -> tuple[Any, Mounted]:
    """Airflow's own API app (auth manager, middlewares) with a releases app mounted as the plugin mounts it."""
    from airflow.api_fastapi.app import create_app
    from starlette.routing import Mount

    app = create_app()
    mounted = Mounted()
    # Where Airflow mounts plugins (before its UI's catch-all route), replacing the plugin's own mount when the
    # installed package registers it.
    routes = app.router.routes
    plugin = [i for i, route in enumerate(routes) if getattr(route, "path", None) == URL_PREFIX]
    where = (
        plugin[0]
        if plugin
        else next(i for i, route in enumerate(routes) if "{rest_of_path" in getattr(route, "path", ""))
    )
    routes[where : where + len(plugin)] = [Mount(URL_PREFIX, app=mounted)]
    return app, mounted


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def serving_cache(clock: FakeClock) -> ServingCache:
    """This test's cache of live deployment reads: 15 s on the fake clock, reads given 2 s."""
    return ServingCache(ttl=15.0, timeout=2.0, clock=clock)


@pytest.fixture
def api_app(_airflow_app: tuple[Any, Mounted], serving_cache: ServingCache) -> Any:
    """Airflow's API app, whose releases app is new for this test (with this test's cache)."""
    from airflow_provider_modelstudio.releases.app import create_app as create_releases_app

    app, mounted = _airflow_app
    mounted.app = create_releases_app(serving_cache)
    return app


def token_for(username: str) -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return str(get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=username, role="viewer")))


@pytest.fixture
def client(api_app: Any) -> Iterator[Callable[..., Any]]:
    """``client(path, user="reader")``: GET a releases route as that user (None: no credentials)."""
    from fastapi.testclient import TestClient

    with TestClient(api_app) as http:

        def get(path: str, user: str | None = "reader", **kwargs: Any) -> Any:
            headers = {"Authorization": f"Bearer {token_for(user)}"} if user else {}
            return http.get(URL_PREFIX + path, headers=headers, **kwargs)

        yield get


@dataclass
class Records:
    """Writes DAG runs with provider tasks; each test starts from empty tables."""

    runs: int = 0
    dags: set[str] = field(default_factory=set)

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


@pytest.fixture
def records(airflow_db: None) -> Iterator[Records]:
    """A writer of provider records; every run, task instance, XCom and DAG it wrote is deleted afterwards."""
    from airflow.models.dag import DagModel
    from airflow.models.dagbundle import DagBundleModel
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete, select

    with create_session() as session:
        if session.scalar(select(DagBundleModel.name).where(DagBundleModel.name == BUNDLE)) is None:
            session.add(DagBundleModel(name=BUNDLE))
    writer = Records()
    yield writer
    with create_session() as session:
        for model in (XComModel, TaskInstance, DagRun, DagModel):
            session.execute(delete(model))
