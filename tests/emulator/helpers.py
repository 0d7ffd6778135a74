"""Helpers for the emulator's tests: clients, launching, error checks, strict foundry_sdk validation."""

from __future__ import annotations

from typing import Any

import httpx
import pydantic

from airflow_provider_modelstudio.emulator import DEMO_STUDIO, STATIC_TOKEN, FoundryEmulator

PREVIEW = {"preview": "true"}
STUDIOS = "/api/v2/models/modelStudios"
MODELS = "/api/v2/models"
LIVE = "/api/v2/models/liveDeployments"
BUILDS = "/api/v2/orchestration/builds"
TOKEN_PATH = "/multipass/api/oauth2/token"
RUN_SECONDS = 5
"""How long the default scenario's runs take, in emulator seconds."""
READY_SECONDS = 3
"""How long the default scenario's deployment takes to serve a new version, in emulator seconds."""


def api_client(emulator: FoundryEmulator, token: str | None = STATIC_TOKEN, timeout: float = 5.0) -> httpx.Client:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=emulator.url, headers=headers, timeout=timeout)


def launch(http: httpx.Client, studio: str = DEMO_STUDIO) -> dict[str, Any]:
    answer = http.post(f"{STUDIOS}/{studio}/launch", params=PREVIEW)
    assert answer.status_code == 200, answer.text
    run: dict[str, Any] = answer.json()
    return run


def trained_version(emulator: FoundryEmulator, http: httpx.Client, studio: str = DEMO_STUDIO) -> dict[str, Any]:
    """Launch a run, let it finish, and return its model output (``modelRid``, ``modelVersionRid``)."""
    output: dict[str, Any] = launch(http, studio)["resolvedOutputs"]["model"]
    emulator.advance(RUN_SECONDS + 1)
    return output


def promote(http: httpx.Client, model_rid: str, version_rid: str, branch: str | None = None) -> dict[str, Any]:
    body = {"sourceModelVersionRid": version_rid} | ({"branch": branch} if branch else {})
    answer = http.post(f"{MODELS}/{model_rid}/promoteVersion", params=PREVIEW, json=body)
    assert answer.status_code == 200, answer.text
    version: dict[str, Any] = answer.json()
    return version


def live_deployment(http: httpx.Client, rid: str) -> dict[str, Any]:
    answer = http.get(f"{LIVE}/{rid}", params=PREVIEW)
    assert answer.status_code == 200, answer.text
    deployment: dict[str, Any] = answer.json()
    return deployment


def build_status(http: httpx.Client, build_rid: str) -> str:
    answer = http.get(f"{BUILDS}/{build_rid}")
    assert answer.status_code == 200, answer.text
    status: str = answer.json()["status"]
    return status


def assert_error(answer: httpx.Response, status: int, name: str, **parameters: Any) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["errorName"] == name
    for key, value in parameters.items():
        assert body["parameters"][key] == value


def no_unknown_fields(value: object) -> list[str]:
    """Paths of fields that a foundry_sdk model kept as extras (i.e. fields the SDK does not know)."""
    if isinstance(value, pydantic.BaseModel):
        extras = [f".{name}" for name in (value.model_extra or {})]
        for name in type(value).model_fields:
            extras += [f".{name}{path}" for path in no_unknown_fields(getattr(value, name))]
        return extras
    if isinstance(value, dict):
        return [f"[{key!r}]{path}" for key, item in value.items() for path in no_unknown_fields(item)]
    if isinstance(value, list):
        return [f"[{index}]{path}" for index, item in enumerate(value) for path in no_unknown_fields(item)]
    return []
