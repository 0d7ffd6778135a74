"""The page itself: values from Foundry stay data (JSON, inserted as text), and the plugin mounts the page where
its menu entry points."""

from __future__ import annotations

import re
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

from airflow_provider_modelstudio.releases.plugin import URL_PREFIX, ModelReleasesPlugin
from tests.releases import scenarios

HOSTILE_NAME = "<script>alert('model')</script><img src=x onerror=alert(1)>"
REPO = Path(__file__).resolve().parents[2]


def test_a_model_name_with_markup_comes_back_as_json_text(client, records):
    tasks = scenarios.worse()
    tasks["gate"]["gate_verdict"]["model_name"] = HOSTILE_NAME
    records.run("retrain_then_deploy", tasks)

    answer = client("/api/releases")

    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-content-type-options"] == "nosniff"
    (release,) = answer.json()["releases"]
    assert release["model_name"] == HOSTILE_NAME


@pytest.mark.parametrize("name", ["dom.js", "chart.js", "releases.js"])
def test_the_page_scripts_never_insert_html(name):
    script = files("airflow_provider_modelstudio.releases").joinpath("static", name).read_text()

    assert not re.findall(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", script)


def test_the_page_loads_its_script_and_style_from_its_own_files(client):
    page = client("/").text

    sources = re.findall(r"<script([^>]*)>", page)
    assert sources == [f' src="{name}" defer' for name in ("dom.js", "chart.js", "releases.js")]
    for name in ("dom.js", "chart.js", "releases.js"):
        assert client(f"/{name}").headers["content-type"].startswith("text/javascript")


def test_the_menu_entry_points_at_the_mounted_app():
    (mounted,) = ModelReleasesPlugin.fastapi_apps
    (view,) = ModelReleasesPlugin.external_views

    assert mounted["url_prefix"] == URL_PREFIX
    assert view["href"] == f"{URL_PREFIX}/"
    assert view["name"] == "Model releases"


def test_the_package_registers_the_plugin_and_ships_the_page():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())

    plugins = project["project"]["entry-points"]["airflow.plugins"]
    assert plugins["modelstudio_releases"] == "airflow_provider_modelstudio.releases.plugin:ModelReleasesPlugin"
    assert "releases/static/*" in project["tool"]["setuptools"]["package-data"]["airflow_provider_modelstudio"]


def test_airflow_mounts_the_plugin_when_the_package_is_installed(airflow_db):
    from airflow.api_fastapi.app import create_app

    from airflow_provider_modelstudio.releases.plugin import LazyReleasesApp

    mounted = [route for route in create_app().router.routes if getattr(route, "path", None) == URL_PREFIX]
    assert len(mounted) == 1, (
        "the installed metadata registers no releases plugin: reinstall the package (make test does)"
    )
    assert isinstance(mounted[0].app, LazyReleasesApp)
