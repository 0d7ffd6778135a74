"""The Airflow plugin that adds the Model releases page: the app of :mod:`.app` mounted in the API server under
:data:`URL_PREFIX`, and an external view (the menu entry) that shows it inside Airflow's UI.

Registered through the ``airflow.plugins`` entry point, so installing the provider is enough. Importing this
module is cheap: the FastAPI app is built on its first request, so other processes that load plugins (scheduler,
workers, DAG parsing) never import it.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/modelstudio-releases"
PAGE_NAME = "Model releases"


class LazyReleasesApp:
    """An ASGI app that builds :func:`.app.create_app` on its first request and hands every request to it."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if self._app is None:
            from airflow_provider_modelstudio.releases.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class ModelReleasesPlugin(AirflowPlugin):
    """Mounts the Model releases app and adds its menu entry (see docs/releases-view.md for where Airflow shows it)."""

    name = "modelstudio_releases"
    fastapi_apps = [{"app": LazyReleasesApp(), "url_prefix": URL_PREFIX, "name": PAGE_NAME}]
    external_views = [
        {
            "name": PAGE_NAME,
            "href": f"{URL_PREFIX}/",
            "url_route": "model-releases",
            "destination": "nav",
            "nav_top_level": True,
        }
    ]
