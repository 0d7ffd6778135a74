"""The emulator serves the contract of ``airflow_provider_modelstudio.foundry``: every endpoint at its method
and path under its name, with its scope; the named errors it answers with are the contract's, with the
status the client maps them to."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

import airflow_provider_modelstudio.emulator
from airflow_provider_modelstudio.emulator import FoundryEmulator, Scenario
from airflow_provider_modelstudio.emulator import app as emulator_app
from airflow_provider_modelstudio.emulator.app import EmulatorApp
from airflow_provider_modelstudio.emulator.routing import routing_order
from airflow_provider_modelstudio.emulator.state import EmulatorState
from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS, Endpoint
from airflow_provider_modelstudio.foundry.error_names import ERROR_NAMES
from airflow_provider_modelstudio.foundry.errors import _BY_ERROR_NAME, error_from_response
from tests.emulator.helpers import PREVIEW, api_client

SCOPED = sorted(name for name, endpoint in ENDPOINTS.items() if endpoint.scope)
EMULATOR_SOURCES = sorted(Path(airflow_provider_modelstudio.emulator.__file__).parent.glob("*.py"))


def sample_path(endpoint: Endpoint) -> str:
    """The endpoint's path with every placeholder filled in (a value no literal segment has)."""
    return endpoint.render(dict.fromkeys(endpoint.placeholders, "7"))


def served_routes(app: EmulatorApp) -> set[tuple[str, str, str]]:
    return {
        (route.name, method, route.path)
        for route in app.api.routes
        if isinstance(route, APIRoute) and not route.name.startswith("admin_")
        for method in route.methods
    }


# Endpoints ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_contract_endpoint_is_answered_under_its_name(emu: FoundryEmulator, name: str) -> None:
    endpoint = ENDPOINTS[name]

    with httpx.Client(base_url=emu.url, timeout=5) as anonymous:
        anonymous.request(endpoint.method, sample_path(endpoint))

    assert list(emu.counters()["requests"]) == [name]


def test_emulator_routes_are_exactly_the_contract_endpoints() -> None:
    app = EmulatorApp(EmulatorState(Scenario.default(), 1.0))

    assert served_routes(app) == {(e.name, e.method, e.prefix + e.path) for e in ENDPOINTS.values()}


def test_a_contract_endpoint_without_a_handler_stops_the_emulator_app_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = Endpoint("disable_live_deployment", "POST", "/v2/models/liveDeployments/{rid}/disable", scope="x")
    monkeypatch.setattr(emulator_app, "ENDPOINTS", {**ENDPOINTS, extra.name: extra})

    with pytest.raises(RuntimeError, match="'disable_live_deployment'"):
        EmulatorApp(EmulatorState(Scenario.default(), 1.0))


@pytest.mark.parametrize("reverse", [False, True], ids=["placeholder-first", "literal-first"])
def test_routing_tries_a_literal_segment_before_a_placeholder(reverse: bool) -> None:
    by_rid = Endpoint("get_model", "GET", "/v2/models/{modelRid}", scope="api:models-read")
    live = Endpoint("list_live_deployments", "GET", "/v2/models/liveDeployments", scope="api:models-read")
    given = [live, by_rid] if reverse else [by_rid, live]

    assert [endpoint.name for endpoint in routing_order(given)] == ["list_live_deployments", "get_model"]


@pytest.mark.parametrize("name", SCOPED)
def test_a_token_without_the_endpoints_contract_scope_is_403_naming_it(emu: FoundryEmulator, name: str) -> None:
    endpoint = ENDPOINTS[name]
    other_scopes = sorted({e.scope for e in ENDPOINTS.values() if e.scope} - {endpoint.scope})
    emu.set_scenario({"static_tokens": {"narrow-token": other_scopes}})

    with api_client(emu, token="narrow-token") as narrow:
        answer = narrow.request(endpoint.method, sample_path(endpoint), params=PREVIEW)

    assert answer.status_code == 403
    assert answer.json()["parameters"] == {"missingScope": endpoint.scope}


# Named errors ---------------------------------------------------------------------------------------------


def test_every_error_name_the_client_maps_is_in_the_error_table() -> None:
    assert set(_BY_ERROR_NAME) - set(ERROR_NAMES) == set()


@pytest.mark.parametrize("name", sorted(_BY_ERROR_NAME))
def test_error_table_status_is_the_status_of_the_class_the_client_maps_the_name_to(name: str) -> None:
    status, code = ERROR_NAMES[name]

    def answer(error_name: str) -> Exception:
        body = f'{{"errorCode": "{code}", "errorName": "{error_name}", "errorInstanceId": "1", "parameters": {{}}}}'
        return error_from_response(method="GET", path="/api/x", status_code=status, body=body.encode())

    named, unnamed = answer(name), answer("SomethingElse")

    assert type(named) is _BY_ERROR_NAME[name]
    assert isinstance(named, type(unnamed))


def test_every_error_name_the_emulator_answers_with_is_in_the_error_table() -> None:
    answered = {
        node.args[0].value
        for source in EMULATOR_SOURCES
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "ErrorAnswer"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }

    assert answered
    assert answered - set(ERROR_NAMES) == set()
