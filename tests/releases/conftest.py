"""Fixtures of the Model releases tests: Airflow's API app with the releases app mounted as the plugin mounts it,
tokens for a reader and for an outsider who may read no DAG, and a writer of provider records (DAG runs, task
instances and their XCom: :class:`tests.releases.history.Records`) into the session's SQLite metadata database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_modelstudio.releases.plugin import URL_PREFIX
from airflow_provider_modelstudio.releases.serving import ServingCache
from tests.releases.history import Records

AUTH_ENV = {
    "AIRFLOW__CORE__AUTH_MANAGER": "e2e.dag_access.DagAccessAuthManager",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "reader:viewer,outsider:viewer,only_retrain:viewer",
    "AIRFLOW__API_AUTH__JWT_SECRET": "releases-tests-jwt-secret-" + "0123456789abcdef" * 4,
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
}


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils.db import initdb

    initdb()


@pytest.fixture(autouse=True)
def _auth_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's auth manager and users, set for the test only (a subprocess of another test started by the
    same worker later must not inherit them), and the auth manager Airflow hands out made from them."""
    from airflow.api_fastapi.app import init_auth_manager

    for name, value in AUTH_ENV.items():
        monkeypatch.setenv(name, value)
    init_auth_manager()


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

    with pytest.MonkeyPatch.context() as patch:
        for name, value in AUTH_ENV.items():
            patch.setenv(name, value)
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


@pytest.fixture
def records(airflow_db: None) -> Iterator[Records]:
    """A writer of provider records; every run, task instance, XCom and DAG it wrote is deleted afterwards."""
    from airflow.models.dag import DagModel
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    writer = Records()
    writer.add_bundle()
    yield writer
    with create_session() as session:
        for model in (XComModel, TaskInstance, DagRun, DagModel):
            session.execute(delete(model))
