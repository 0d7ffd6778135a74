"""Stand-ins for Foundry's web pages that the provider links to, so that a link clicked in Airflow's UI opens.

The build, model version and live deployment links a connection makes by default
(:data:`~airflow_provider_modelstudio.foundry.settings.DEFAULT_BUILD_URL_TEMPLATE` and its siblings) lead to
these routes on the emulator: a small HTML page showing the object as the API serves it now. They need no
token (a browser sends none), change nothing, and are not counted or faulted; a web page elsewhere cannot read
them (no CORS). They are not Foundry's pages and show nothing the API does not.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.responses import HTMLResponse

from airflow_provider_modelstudio.emulator.errors import ErrorAnswer
from airflow_provider_modelstudio.emulator.state import EmulatorState
from airflow_provider_modelstudio.foundry.settings import (
    DEFAULT_BUILD_URL_TEMPLATE,
    DEFAULT_LIVE_DEPLOYMENT_URL_TEMPLATE,
    DEFAULT_MODEL_VERSION_URL_TEMPLATE,
)

PAGES_PREFIX = "/workspace"
"""Where Foundry's web pages start; the pages are an app of their own mounted there, apart from the API."""


def page_path(template: str) -> str:
    """The route of a default link template below :data:`PAGES_PREFIX`, placeholders kept."""
    path = template.removeprefix("{base_url}")
    if not path.startswith(PAGES_PREFIX + "/"):
        raise ValueError(f"link template {template!r} does not lead under {PAGES_PREFIX}/")
    return path.removeprefix(PAGES_PREFIX)


def add_page_routes(api: FastAPI, state: EmulatorState) -> None:
    """Mount a page for each kind of link the provider makes under :data:`PAGES_PREFIX`.

    :param api: the FastAPI app.
    :param state: the state they show.
    """
    pages = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    async def build(build_rid: str) -> HTMLResponse:
        return _page("Build", build_rid, lambda: state.get_build(build_rid))

    async def model_version(model_rid: str, model_version_rid: str) -> HTMLResponse:
        return _page("Model version", model_version_rid, lambda: state.get_model_version(model_rid, model_version_rid))

    async def live_deployment(live_deployment_rid: str) -> HTMLResponse:
        return _page("Live deployment", live_deployment_rid, lambda: state.get_live_deployment(live_deployment_rid))

    pages.add_api_route(page_path(DEFAULT_BUILD_URL_TEMPLATE), build, methods=["GET"])
    pages.add_api_route(page_path(DEFAULT_MODEL_VERSION_URL_TEMPLATE), model_version, methods=["GET"])
    pages.add_api_route(page_path(DEFAULT_LIVE_DEPLOYMENT_URL_TEMPLATE), live_deployment, methods=["GET"])
    api.mount(PAGES_PREFIX, pages)


def _page(kind: str, rid: str, read: Callable[[], dict[str, Any]]) -> HTMLResponse:
    try:
        shown, status = json.dumps(read(), indent=2, sort_keys=True), 200
    except ErrorAnswer as error:
        shown, status = f"{error.name}: no such {kind.lower()} in this emulator.", 404
    title = html.escape(f"{kind} {rid}")
    body = (
        f"<!doctype html><meta charset='utf-8'><title>{title}</title><h1>{title}</h1>"
        "<p>The local Foundry emulator's stand-in for Foundry's page: the object as its API serves it now.</p>"
        f"<pre>{html.escape(shown)}</pre>"
    )
    return HTMLResponse(body, status_code=status)
