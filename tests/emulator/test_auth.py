"""Bearer tokens, OAuth2 client credentials, scopes and the preview flag."""

from __future__ import annotations

import base64

import httpx
import pytest

from airflow_provider_modelstudio.emulator import CLIENT_ID, CLIENT_SECRET, DEMO_STUDIO, FoundryEmulator
from tests.conftest import StartEmulator
from tests.emulator.helpers import (
    BUILDS,
    PREVIEW,
    STUDIOS,
    TOKEN_PATH,
    api_client,
    assert_error,
    launch,
)

ALL_SCOPES = (
    "api:datasets-read api:models-execute api:models-read api:models-write api:orchestration-read "
    "api:orchestration-write"
)


def fetch_token(emulator: FoundryEmulator, **fields: str) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **fields}
    return httpx.post(emulator.url + TOKEN_PATH, data=form)


def test_request_without_token_is_401_unauthorized(emu: FoundryEmulator) -> None:
    with api_client(emu, token=None) as anonymous:
        answer = anonymous.get(f"{STUDIOS}/{DEMO_STUDIO}", params=PREVIEW)

    assert_error(answer, 401, "Default:Unauthorized")
    assert answer.json()["errorCode"] == "UNAUTHORIZED"


def test_request_with_unknown_token_is_401_unauthorized(emu: FoundryEmulator) -> None:
    with api_client(emu, token="not-a-token") as stranger:
        answer = stranger.get(f"{BUILDS}/ri.foundry.main.build.x")

    assert_error(answer, 401, "Default:Unauthorized", error="INVALID")


def test_oauth2_token_expires_on_the_emulator_clock(emu: FoundryEmulator) -> None:
    token = fetch_token(emu).json()["access_token"]
    emu.advance(3600)

    with api_client(emu, token=token) as expired:
        answer = expired.get(f"{STUDIOS}/{DEMO_STUDIO}", params=PREVIEW)

    assert_error(answer, 401, "Default:Unauthorized", error="EXPIRED")


def test_oauth2_token_answer_has_the_standard_fields_and_all_granted_scopes(emu: FoundryEmulator) -> None:
    answer = fetch_token(emu)

    assert answer.status_code == 200
    body = answer.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("bearer", 3600, ALL_SCOPES)
    assert emu.counters()["tokens_issued"] == 1


def test_oauth2_token_works_for_api_calls(emu: FoundryEmulator) -> None:
    token = fetch_token(emu).json()["access_token"]

    with api_client(emu, token=token) as client:
        assert launch(client)["buildStatus"] == "RUNNING"


def test_oauth2_expires_in_is_announced_in_real_seconds(start_emulator: StartEmulator) -> None:
    emulator = start_emulator(time_scale=10.0)

    assert fetch_token(emulator).json()["expires_in"] == 360


def test_oauth2_client_credentials_may_come_in_a_basic_header(emu: FoundryEmulator) -> None:
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    answer = httpx.post(
        emu.url + TOKEN_PATH, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )

    assert answer.status_code == 200


def test_oauth2_wrong_secret_is_401_invalid_client(emu: FoundryEmulator) -> None:
    answer = fetch_token(emu, client_secret="wrong")

    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")
    assert emu.counters()["tokens_issued"] == 0


def test_oauth2_unknown_client_is_401_invalid_client(emu: FoundryEmulator) -> None:
    answer = fetch_token(emu, client_id="someone-else")

    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_client")


def test_oauth2_other_grant_type_is_400_unsupported_grant_type(emu: FoundryEmulator) -> None:
    answer = fetch_token(emu, grant_type="password")

    assert (answer.status_code, answer.json()["error"]) == (400, "unsupported_grant_type")


def test_oauth2_scope_subset_gives_a_token_with_only_those_scopes(emu: FoundryEmulator) -> None:
    answer = fetch_token(emu, scope="api:models-read offline_access")

    assert answer.json()["scope"] == "api:models-read"


def test_oauth2_scope_not_granted_is_400_invalid_scope(emu: FoundryEmulator) -> None:
    answer = fetch_token(emu, scope="api:models-read api:admin-write")

    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_scope")


@pytest.mark.parametrize(
    ("method", "path", "missing_scope"),
    [
        ("POST", f"{STUDIOS}/{DEMO_STUDIO}/launch", "api:models-write"),
        ("GET", f"{BUILDS}/ri.foundry.main.build.x", "api:orchestration-read"),
        ("POST", f"{BUILDS}/ri.foundry.main.build.x/cancel", "api:orchestration-write"),
    ],
)
def test_token_without_the_endpoints_scope_is_403_api_usage_denied(
    emu: FoundryEmulator, method: str, path: str, missing_scope: str
) -> None:
    token = fetch_token(emu, scope="api:models-read").json()["access_token"]

    with api_client(emu, token=token) as reader:
        answer = reader.request(method, path, params=PREVIEW)

    assert_error(answer, 403, "ApiUsageDenied", missingScope=missing_scope)


def test_models_endpoint_without_preview_is_400_api_feature_preview_usage_only(client: httpx.Client) -> None:
    answer = client.get(f"{STUDIOS}/{DEMO_STUDIO}")

    assert_error(answer, 400, "ApiFeaturePreviewUsageOnly")


def test_orchestration_endpoints_need_no_preview_flag(client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]

    assert client.get(f"{BUILDS}/{build_rid}").status_code == 200
