"""The links the provider makes open in a browser against the emulator: build, model version, live deployment."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.emulator.scenario import DEMO_CHAMPION_VERSION, DEMO_DEPLOYMENT, DEMO_PROD_MODEL
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.emulator.helpers import api_client, launch

Connect = Callable[..., ModelStudioHook]


def opened(url: str) -> httpx.Response:
    """What a browser gets: a GET without a token."""
    return httpx.get(url, timeout=5.0)


LONG_STUDIO = "ri.models.main.model-studio.pages-long"
"""A studio whose builds run for an hour: the page is read while the build still runs, however slow the machine."""


def test_a_build_link_opens_a_page_showing_the_build(emulator: FoundryEmulator, connect: Connect) -> None:
    emulator.add_studio(LONG_STUDIO, duration_seconds=3600)
    run = launch(api_client(emulator), LONG_STUDIO)
    page = opened(connect(emulator).build_url(run["buildRid"]))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert run["buildRid"] in page.text
    assert "RUNNING" in page.text


def test_a_model_version_link_opens_a_page_showing_the_version(emulator: FoundryEmulator, connect: Connect) -> None:
    page = opened(connect(emulator).settings.model_version_url(DEMO_PROD_MODEL, DEMO_CHAMPION_VERSION))
    assert page.status_code == 200
    assert DEMO_CHAMPION_VERSION in page.text


def test_a_live_deployment_link_opens_a_page_showing_the_deployment(
    emulator: FoundryEmulator, connect: Connect
) -> None:
    page = opened(connect(emulator).settings.live_deployment_url(DEMO_DEPLOYMENT))
    assert page.status_code == 200
    assert DEMO_DEPLOYMENT in page.text


def test_a_link_to_something_the_emulator_does_not_hold_says_so(emulator: FoundryEmulator, connect: Connect) -> None:
    page = opened(connect(emulator).build_url("ri.foundry-build.main.build.<script>"))
    assert page.status_code == 404
    assert "no such build" in page.text
    assert "<script>" not in page.text


def test_opening_a_page_is_not_a_request_to_foundry(emulator: FoundryEmulator, connect: Connect) -> None:
    run = launch(api_client(emulator))
    before = emulator.counters()["requests"]
    opened(connect(emulator).build_url(run["buildRid"]))
    assert emulator.counters()["requests"] == before
