"""The in-process handle: where it listens, the Airflow connections it hands out, starting and stopping."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import httpx
import pytest

from airflow_provider_modelstudio.emulator import ADMIN_HEADERS, FoundryEmulator
from airflow_provider_modelstudio.emulator.scenario import ALL_SCOPES
from tests.emulator.helpers import TOKEN_PATH


def test_url_is_loopback_with_the_bound_port(emu: FoundryEmulator) -> None:
    assert emu.url == f"http://127.0.0.1:{emu.port}"
    assert emu.host == "127.0.0.1"


def test_token_connection_uses_the_static_token(emu: FoundryEmulator) -> None:
    assert emu.connection() == {"conn_type": "foundry", "host": emu.url, "password": "emulator-token"}


def test_oauth2_connection_uses_the_client_credentials(emu: FoundryEmulator) -> None:
    assert emu.connection(auth="oauth2") == {
        "conn_type": "foundry",
        "host": emu.url,
        "login": "emulator-client",
        "password": "emulator-secret",
        "extra": {"auth_type": "oauth2", "scopes": " ".join(ALL_SCOPES)},
    }


def test_connection_env_is_the_connection_as_json(emu: FoundryEmulator) -> None:
    assert json.loads(emu.connection_env(auth="oauth2")) == emu.connection(auth="oauth2")


def test_connection_with_an_unknown_auth_kind_is_refused(emu: FoundryEmulator) -> None:
    with pytest.raises(ValueError, match="'basic'"):
        emu.connection(auth="basic")


def test_oauth2_connection_credentials_get_a_token(emu: FoundryEmulator) -> None:
    connection = emu.connection(auth="oauth2")
    form = {
        "grant_type": "client_credentials",
        "client_id": connection["login"],
        "client_secret": connection["password"],
    }

    assert httpx.post(emu.url + TOKEN_PATH, data=form).status_code == 200


def test_stopped_emulator_refuses_connections() -> None:
    emulator = FoundryEmulator().start()
    port = emulator.port

    emulator.stop()

    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_emulator_can_listen_on_a_chosen_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with FoundryEmulator(port=port) as emulator:
        assert httpx.get(f"http://127.0.0.1:{port}/_emulator/counters", headers=ADMIN_HEADERS).status_code == 200
        assert emulator.port == port


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.10", "example.com"])
def test_emulator_refuses_a_non_loopback_host_without_allow_remote(host: str) -> None:
    with pytest.raises(ValueError, match=r"is not a loopback address.*allow_remote=True"):
        FoundryEmulator(host=host)


def test_url_is_the_address_the_emulator_serves_not_the_name_it_was_given() -> None:
    with FoundryEmulator(host="localhost") as emulator:
        assert emulator.url == f"http://127.0.0.1:{emulator.port}"
        assert httpx.get(emulator.url + "/_emulator/counters", headers=ADMIN_HEADERS).status_code == 200


def test_emulator_on_ipv6_loopback_serves_at_a_bracketed_url() -> None:
    with FoundryEmulator(host="::1") as emulator:
        assert emulator.url == f"http://[::1]:{emulator.port}"
        assert httpx.get(emulator.url + "/_emulator/counters", headers=ADMIN_HEADERS).status_code == 200


def test_starting_on_a_taken_port_raises(emu: FoundryEmulator) -> None:
    with pytest.raises(OSError):
        FoundryEmulator(port=emu.port).start()


def test_port_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not been started"):
        _ = FoundryEmulator().port


def test_importing_the_package_and_plugin_does_not_import_fastapi_or_uvicorn() -> None:
    code = (
        "import sys, airflow_provider_modelstudio.emulator, airflow_provider_modelstudio.emulator.pytest_plugin;"
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))"
    )

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)

    assert result.stdout.strip() == "[]"
