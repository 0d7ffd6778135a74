"""The connection test says "Connected" only when every probe was answered as Foundry answers it: a server that
rate-limits every probe, refuses a fresh token, or answers success to everything is reported, quickly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS
from airflow_provider_modelstudio.hooks.connection_check import PROBES
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.conftest import StubFoundry

TOKEN_PATH = "/multipass/api/oauth2/token"
TOKEN = "static-token-value"


def probe_routes() -> list[tuple[str, str]]:
    """``(method, path)`` of every probe, as the stub server sees it."""
    routes = []
    for probe in PROBES:
        endpoint = ENDPOINTS[probe.endpoint]
        routes.append((endpoint.method, "/api" + endpoint.path.format(**probe.path_params)))
    return routes


def answer_every_probe(stub: StubFoundry, *answers: Any) -> None:
    for method, path in probe_routes():
        stub.on(method, path, *answers)


def envelope(status: int, code: str, name: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    return (status, {"errorCode": code, "errorName": name, "errorInstanceId": "e-1", "parameters": {}}, {})


@pytest.fixture
def stub_hook(stub_foundry: StubFoundry, set_connection: Callable[..., str]) -> Callable[..., ModelStudioHook]:
    def _hook(auth: str = "token") -> ModelStudioHook:
        if auth == "oauth2":
            set_connection(host=stub_foundry.url, login="client", password="secret", extra={"auth_type": "oauth2"})
        else:
            set_connection(host=stub_foundry.url, password=TOKEN)
        return ModelStudioHook()

    return _hook


def test_a_host_that_answers_success_to_everything_is_not_foundry(
    stub_foundry: StubFoundry, stub_hook: Callable[..., ModelStudioHook]
) -> None:
    answer_every_probe(stub_foundry, (200, {}, {}))

    ok, message = stub_hook().test_connection()

    assert not ok
    assert message == (
        f"Not connected: {stub_foundry.url} answered an empty JSON object to a build batch read of a build that does "
        'not exist, where Foundry answers {"data": {}}; it does not answer as Foundry\'s API. Set the host to your '
        "Foundry's hostname (e.g. example.palantirfoundry.com), not a proxy's or a portal's."
    )


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        ({"status": "ok", "b": 1, "a": 2, "g": 3, "f": 4, "e": 5, "d": 6}, "a JSON object with keys [a, b, d, e, f]"),
        ({"data": ["ri.foundry.main.build.00000000-0000-0000-0000-000000000000"]}, "a JSON object with keys [data]"),
        ([1, 2], "a JSON list"),
        (b"", "nothing"),
        ("up", "a JSON str"),
    ],
    ids=["first five keys in order", "data not an object", "list", "empty body", "string"],
)
def test_what_a_host_that_is_not_foundry_answered_is_described_without_quoting_it(
    stub_foundry: StubFoundry, stub_hook: Callable[..., ModelStudioHook], answer: Any, shown: str
) -> None:
    answer_every_probe(stub_foundry, (200, answer, {}))

    ok, message = stub_hook().test_connection()

    assert not ok
    assert message.startswith(
        f"Not connected: {stub_foundry.url} answered {shown} to a build batch read of a build that does not exist, "
    )


def test_a_host_that_answers_a_missing_studio_with_success_is_not_foundry(
    stub_foundry: StubFoundry, stub_hook: Callable[..., ModelStudioHook]
) -> None:
    answer_every_probe(stub_foundry, (200, {"data": {}}, {}))

    ok, message = stub_hook().test_connection()

    studio_path = probe_routes()[1][1]
    assert not ok
    assert message.startswith(
        f"Not connected: {stub_foundry.url} answered success to GET {studio_path}, a resource that cannot exist, "
        "where Foundry answers 404; it does not answer as Foundry's API."
    )


def test_a_host_that_rate_limits_every_probe_is_reported_without_waiting(
    stub_foundry: StubFoundry, stub_hook: Callable[..., ModelStudioHook]
) -> None:
    limited = envelope(429, "TOO_MANY_REQUESTS", "Default:TooManyRequests")
    answer_every_probe(stub_foundry, (429, limited[1], {"Retry-After": "3600"}))

    ok, message = stub_hook().test_connection()

    assert not ok
    assert message == (
        f"Not connected: {stub_foundry.url} with token authentication is rate-limited (429; it asks to wait 3600 s), "
        "so nothing could be checked. Test again later; if it persists, fewer concurrent tasks on this connection "
        "or a longer poll interval help."
    )
    assert len(stub_foundry.seen) == 1  # the first probe's answer says enough; nothing was retried


def test_a_rate_limit_without_retry_after_says_no_wait(
    stub_foundry: StubFoundry, stub_hook: Callable[..., ModelStudioHook]
) -> None:
    limited = envelope(429, "TOO_MANY_REQUESTS", "Default:TooManyRequests")
    answer_every_probe(stub_foundry, (429, limited[1], {}))

    ok, message = stub_hook().test_connection()

    assert not ok
    assert message.startswith(
        f"Not connected: {stub_foundry.url} with token authentication is rate-limited (429), so nothing could be "
        "checked."
    )


def test_an_api_that_refuses_a_fresh_oauth2_token_is_not_connected(
    stub_foundry: StubFoundry, stub_hook: Callable[..., ModelStudioHook]
) -> None:
    stub_foundry.on(
        "POST", TOKEN_PATH, (200, {"access_token": "tok-4f9a", "token_type": "bearer", "expires_in": 3600}, {})
    )
    answer_every_probe(stub_foundry, envelope(401, "UNAUTHORIZED", "Default:Unauthorized"))

    ok, message = stub_hook("oauth2").test_connection()

    assert not ok
    assert message == (
        f"Not connected to {stub_foundry.url} with oauth2 authentication: Default:Unauthorized: POST "
        "/api/v2/orchestration/builds/getBatch -> 401 (errorInstanceId e-1): The credentials were refused twice (a "
        "fresh token was fetched and also refused). Check the token, or the OAuth2 client id and secret, in the "
        "Airflow connection."
    )
    assert "tok-4f9a" not in message
    assert len(stub_foundry.requests_to(TOKEN_PATH)) == 2  # a new token once, then the refusal is believed


def test_foundrys_own_answers_to_every_probe_mean_connected(
    stub_foundry: StubFoundry, stub_hook: Callable[..., ModelStudioHook]
) -> None:
    batch, *missing = probe_routes()
    stub_foundry.on(*batch, (200, {"data": {}}, {}))
    for method, path in missing:
        stub_foundry.on(method, path, envelope(404, "NOT_FOUND", "ModelStudioNotFound"))

    assert stub_hook().test_connection() == (True, f"Connected to {stub_foundry.url} with token authentication.")
