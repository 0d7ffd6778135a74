"""The "Foundry build" extra link."""

from __future__ import annotations

import subprocess
import sys

from airflow_provider_modelstudio.links.foundry import BUILD_URL_XCOM_KEY, FoundryBuildLink
from airflow_provider_modelstudio.operators.modelstudio import LaunchModelStudioOperator
from airflow_provider_modelstudio.sensors.modelstudio import ModelStudioRunSensor


def test_the_link_is_the_build_url_the_task_pushed(mocker):
    get_value = mocker.patch(
        "airflow.sdk.execution_time.xcom.XCom.get_value", return_value="https://foundry.example/builds/ri.x"
    )
    key = object()
    assert FoundryBuildLink().get_link(operator=None, ti_key=key) == "https://foundry.example/builds/ri.x"
    get_value.assert_called_once_with(ti_key=key, key=BUILD_URL_XCOM_KEY)


def test_no_pushed_url_gives_an_empty_link(mocker):
    mocker.patch("airflow.sdk.execution_time.xcom.XCom.get_value", return_value=None)
    assert FoundryBuildLink().get_link(operator=None, ti_key=object()) == ""


def test_operator_and_sensor_show_the_link():
    for cls in (LaunchModelStudioOperator, ModelStudioRunSensor):
        assert [link.name for link in cls.operator_extra_links] == ["Foundry build"]


def test_airflow_lists_the_link():
    listing = subprocess.run(
        [
            sys.executable,
            "-c",
            "from airflow.providers_manager import ProvidersManager as P; print(sorted(P().extra_links_class_names))",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "airflow_provider_modelstudio.links.foundry.FoundryBuildLink" in listing
