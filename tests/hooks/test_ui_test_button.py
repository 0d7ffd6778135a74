"""The UI's Test button, through Airflow's own API server app, sending what the UI sends."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.hooks.ui_test_button import FoundryTestButtonMiddleware, ModelStudioPlugin

PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A TestClient on Airflow's API server (connection test enabled); ``request.param``: with our plugin."""
    from airflow import plugins_manager
    from airflow.api_fastapi.app import create_app
    from airflow.utils import db
    from fastapi.testclient import TestClient

    monkeypatch.setenv("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    middlewares = ModelStudioPlugin.fastapi_root_middlewares if request.param else []
    if hasattr(plugins_manager, "get_fastapi_plugins"):  # Airflow 3.2+
        monkeypatch.setattr(plugins_manager, "get_fastapi_plugins", lambda: ([], middlewares))
    else:
        monkeypatch.setattr(plugins_manager, "fastapi_apps", [])
        monkeypatch.setattr(plugins_manager, "fastapi_root_middlewares", middlewares)
    db.initdb()
    with TestClient(create_app("core")) as client:
        token = client.get("/auth/token")  # Airflow 3.1 wants a JWT even when every user is admin
        if token.status_code in (200, 201):
            client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield client
        client.delete("/api/v2/connections/foundry_ui")


def save_and_press_test(client: Any, host: str, password: str) -> Any:
    """Save a connection as the Add form does, then press Test in the list as the UI does."""
    saved = client.post(
        "/api/v2/connections",
        json={
            "connection_id": "foundry_ui",
            "conn_type": "foundry",
            "host": host,
            "password": password,
            "extra": json.dumps({"auth_type": "token", "scopes": None}),
        },
    )
    assert saved.status_code == 201, saved.text
    listed = client.get("/api/v2/connections/foundry_ui").json()
    ui_body = {  # the list row's Test button: Number(port) and the masked password, as the API listed them
        "conn_type": listed["conn_type"],
        "connection_id": listed["connection_id"],
        "description": listed["description"] or "",
        "extra": listed["extra"] or "{}",
        "host": listed["host"] or "",
        "login": listed["login"] or "",
        "password": listed["password"] or "",
        "port": 0 if listed["port"] is None else listed["port"],
        "schema": listed["schema"] or "",
    }
    assert ui_body["password"] == "***"
    return client.post("/api/v2/connections/test", json=ui_body)


@pytest.mark.parametrize("api", [True], indirect=True)
def test_the_ui_test_button_connects_a_saved_foundry_connection(api: Any, emulator: FoundryEmulator) -> None:
    answer = save_and_press_test(api, emulator.url, "emulator-token")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": True, "message": f"Connected to {emulator.url} with token authentication."}


@pytest.mark.parametrize("api", [False], indirect=True)
def test_without_the_plugin_airflow_3_3_refuses_the_ui_test_button(api: Any, emulator: FoundryEmulator) -> None:
    from airflow.api_fastapi.core_api.routes.public import connections

    answer = save_and_press_test(api, emulator.url, "emulator-token")
    if hasattr(connections, "_same_endpoint"):  # Airflow 3.3 compares the posted port 0 with the stored NULL
        assert (answer.status_code, answer.json()["detail"]) == (
            400,
            "The host or port to test differs from the stored connection. Include the credentials to test in "
            "the request body.",
        )
    else:  # Airflow 3.1 reuses the stored secret whatever the port
        assert answer.json()["status"] is True


def test_the_middleware_leaves_other_connection_types_and_real_ports_alone() -> None:
    from airflow_provider_modelstudio.hooks.ui_test_button import without_zero_port

    http_body = json.dumps({"conn_type": "http", "port": 0}).encode()
    port_body = json.dumps({"conn_type": "foundry", "port": 8443}).encode()
    assert without_zero_port(http_body) == http_body
    assert without_zero_port(port_body) == port_body
    assert json.loads(without_zero_port(json.dumps({"conn_type": "foundry", "port": 0}).encode())) == {
        "conn_type": "foundry"
    }


def test_the_plugin_is_registered_for_the_api_server() -> None:
    entry_points = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]["airflow.plugins"]
    assert (
        entry_points["modelstudio_test_button"] == "airflow_provider_modelstudio.hooks.ui_test_button:ModelStudioPlugin"
    )
    assert ModelStudioPlugin.fastapi_root_middlewares[0]["middleware"] is FoundryTestButtonMiddleware
