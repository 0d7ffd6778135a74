"""The connection test checks every scope the provider needs with harmless requests, and names what is missing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS, OPTIONAL_SCOPES, REQUIRED_SCOPES
from airflow_provider_modelstudio.hooks.connection_check import PROBES, scope_of
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import FAST_RETRY, requests_of

LIMITED = "limited-token-1"


@pytest.fixture
def token_with(emulator: FoundryEmulator, set_connection: Callable[..., str]) -> Callable[..., ModelStudioHook]:
    """``token_with(*scopes)``: a hook whose static token carries only those scopes."""

    def _token_with(*scopes: str) -> ModelStudioHook:
        emulator.set_scenario({"static_tokens": {LIMITED: list(scopes)}})
        set_connection(host=emulator.url, password=LIMITED)
        return ModelStudioHook(retry=FAST_RETRY)

    return _token_with


def test_the_probes_cover_every_scope_the_provider_needs() -> None:
    assert sorted(scope_of(probe) for probe in PROBES) == sorted(REQUIRED_SCOPES + OPTIONAL_SCOPES)


def test_a_full_token_passes_with_one_harmless_request_per_scope(
    emulator: FoundryEmulator, token_with: Callable[..., ModelStudioHook]
) -> None:
    ok, message = token_with(*REQUIRED_SCOPES, *OPTIONAL_SCOPES).test_connection()
    counters = emulator.counters()
    assert ok, message
    assert message == f"Connected to {emulator.url} with token authentication."
    assert {probe.endpoint: requests_of(counters, probe.endpoint) for probe in PROBES} == {
        "get_builds_batch": {"200": 1},
        "get_model_studio": {"404": 1},
        "start_live_deployment": {"404": 1},
        "transform_json": {"404": 1},
        "cancel_build": {"404": 1},
        "get_dataset_branch": {"404": 1},
    }
    assert (counters["launches"], counters["cancels"]) == ({}, {})


def test_a_token_without_the_datasets_scope_passes_saying_only_dataset_watchers_need_it(
    emulator: FoundryEmulator, token_with: Callable[..., ModelStudioHook]
) -> None:
    ok, message = token_with(*REQUIRED_SCOPES).test_connection()
    assert ok, message
    assert message == (
        f"Connected to {emulator.url} with token authentication. The token lacks api:datasets-read, which only "
        "dataset watchers need (to watch datasets, use a token that carries it)."
    )


def test_an_oauth2_connection_without_the_datasets_scope_is_told_where_to_add_it(
    emulator: FoundryEmulator, connect: Callable[..., ModelStudioHook]
) -> None:
    ok, message = connect(emulator, auth="oauth2", scopes=" ".join(REQUIRED_SCOPES)).test_connection()
    assert ok, message
    assert message.endswith(
        "(to watch datasets, add it to the connection's OAuth2 scopes field and grant it to the application in "
        "Foundry)."
    )


def test_a_token_that_may_read_builds_but_not_launch_fails_naming_what_it_lacks(
    token_with: Callable[..., ModelStudioHook],
) -> None:
    ok, message = token_with("api:orchestration-read", "api:orchestration-write").test_connection()
    assert not ok
    assert "lacks 3 of the scopes this provider needs" in message
    assert (
        "missingScope=api:models-write (needed to launch model studio, create config version, promote model version"
        in message
    )
    assert "missingScope=api:models-read" in message
    assert "missingScope=api:models-execute (needed to transform json)" in message
    assert "api:orchestration-read" not in message


def test_a_static_token_missing_a_scope_is_told_to_use_one_that_carries_it(
    token_with: Callable[..., ModelStudioHook],
) -> None:
    scopes = [scope for scope in REQUIRED_SCOPES if scope != "api:orchestration-write"]
    ok, message = token_with(*scopes, *OPTIONAL_SCOPES).test_connection()
    assert not ok
    assert message.endswith(
        "missingScope=api:orchestration-write (needed to cancel build). Use a token that carries them."
    )


def test_an_oauth2_connection_asking_for_too_few_scopes_is_told_to_ask_for_them(
    emulator: FoundryEmulator, connect: Callable[..., ModelStudioHook]
) -> None:
    asked = " ".join(scope for scope in REQUIRED_SCOPES if scope != "api:models-execute")
    ok, message = connect(emulator, auth="oauth2", scopes=asked).test_connection()
    assert not ok
    assert "missingScope=api:models-execute" in message
    assert "OAuth2 scopes field does not ask for them" in message


def test_a_probe_answered_by_something_other_than_foundry_fails_the_test(
    stub_foundry: Any, set_connection: Callable[..., str]
) -> None:
    stub_foundry.on("POST", ENDPOINTS["get_builds_batch"].render({}), (200, {"data": {}}, {}))
    stub_foundry.on(
        "GET",
        ENDPOINTS["get_model_studio"].render({"modelStudioRid": PROBES[1].path_params["modelStudioRid"]}),
        (403, b"<html>Forbidden by the firewall</html>", {"Content-Type": "text/html"}),
    )
    set_connection(host=stub_foundry.url, password="some-token-1")
    ok, message = ModelStudioHook(retry=FAST_RETRY).test_connection()
    assert not ok
    assert "Forbidden by the firewall" in message
