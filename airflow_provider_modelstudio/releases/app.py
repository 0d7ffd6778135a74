"""The Model releases page and its JSON API: a FastAPI app that Airflow's API server mounts (see :mod:`.plugin`).

Routes, relative to where it is mounted (``/modelstudio-releases``):

- ``GET /``, ``/dom.js``, ``/chart.js``, ``/releases.js``, ``/releases.css``: the page (static; it fetches the
  two below).
- ``GET /api/releases?limit=500``: the releases of the newest ``limit`` DAG runs with provider tasks, newest
  first, and their groups per live deployment and per studio with the gate's metric series
  (:mod:`.timeline`).
- ``GET /api/serving?limit=500``: what each live deployment of those releases serves now (:mod:`.serving`).

Every route asks Airflow who the caller is, as Airflow's own API does (``get_user``: the ``Authorization:
Bearer`` header, else the ``_token`` cookie the UI's login sets), and answers 401 or 403 without one. The data
routes read only the DAGs the auth manager lets that user read (``get_authorized_dag_ids``). No secret, token or
password reaches a response: of a connection, only its id and links built from its host and link templates. The page
inserts every value as text (never as HTML), and its Content-Security-Policy allows no inline script.
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from airflow_provider_modelstudio.foundry.settings import DEFAULT_CONN_ID
from airflow_provider_modelstudio.releases import records, timeline
from airflow_provider_modelstudio.releases.serving import ServingCache

if TYPE_CHECKING:
    from fastapi import FastAPI

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
STATIC = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/dom.js": ("dom.js", "text/javascript; charset=utf-8"),
    "/chart.js": ("chart.js", "text/javascript; charset=utf-8"),
    "/releases.js": ("releases.js", "text/javascript; charset=utf-8"),
    "/releases.css": ("releases.css", "text/css; charset=utf-8"),
}


def page_data(dag_ids: set[str], limit: int) -> dict[str, Any]:
    """The ``/api/releases`` answer for these DAGs.

    :param dag_ids: the DAGs the user may read
    :param limit: the most DAG runs to read
    """
    from airflow.utils.session import create_session

    with create_session() as session:
        history = records.load_history(session, dag_ids, limit)
    releases = timeline.assemble(history)
    return {"releases": releases, "groups": timeline.groups(releases), "runs_read": len(history.runs), "limit": limit}


def create_app(cache: ServingCache | None = None) -> FastAPI:
    """The app the plugin mounts. FastAPI and Airflow's API modules are imported here, in the API server only.

    :param cache: the live deployment reads' cache (one per app; a test passes its own)
    """
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends, FastAPI, Query
    from fastapi.concurrency import run_in_threadpool

    serving_cache = cache or ServingCache()
    user_dependency = Depends(get_user)
    limit_query = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="the most DAG runs to read, newest first")
    app = FastAPI(title="Model releases", docs_url=None, redoc_url=None, openapi_url=None)

    async def readable(user: Any) -> set[str]:
        """The DAG ids the auth manager lets ``user`` read (it may query the database: run in a thread)."""
        manager = get_auth_manager()
        dag_ids: set[str] = await run_in_threadpool(manager.get_authorized_dag_ids, user=user, method="GET")
        return dag_ids

    for path, (name, media_type) in STATIC.items():
        body = files("airflow_provider_modelstudio.releases").joinpath("static", name).read_bytes()
        app.add_api_route(
            path, _static(body, media_type), methods=["GET"], dependencies=[user_dependency], response_model=None
        )

    @app.get("/api/releases", response_model=None)
    async def releases(limit: int = limit_query, user: Any = user_dependency) -> Any:
        data = await run_in_threadpool(page_data, await readable(user), limit)
        return _json(data)

    @app.get("/api/serving", response_model=None)
    async def serving(limit: int = limit_query, user: Any = user_dependency) -> Any:
        data = await run_in_threadpool(page_data, await readable(user), limit)
        wanted = [
            (group["foundry_conn_id"] or DEFAULT_CONN_ID, group["rid"])
            for group in data["groups"]
            if group["kind"] == "deployment"
        ]
        return _json({"deployments": await serving_cache.read_all(wanted)})

    return app


def _static(body: bytes, media_type: str) -> Any:
    from starlette.responses import Response

    async def serve() -> Response:
        return Response(body, media_type=media_type, headers=SECURITY_HEADERS)

    return serve


def _json(data: Any) -> Any:
    from starlette.responses import Response

    return Response(json.dumps(data, allow_nan=False), media_type="application/json", headers=SECURITY_HEADERS)
