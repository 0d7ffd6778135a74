"""The hook's async side reads the connection without ever falling back to a blocking read, and redacts what an
answer echoes as the sync side does."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk import BaseHook

from airflow_provider_modelstudio.foundry.shapes import LiveDeployment
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import FAST_RETRY

MODEL = "ri.models.main.model.async-reads"


def test_the_async_connection_read_never_falls_back_to_a_blocking_read(
    stub_foundry: Any, set_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(host=stub_foundry.url, password="async-reads-token-1")

    def blocking(conn_id: str) -> Any:
        raise AssertionError(f"blocking read of {conn_id} in the event loop")

    monkeypatch.setattr(BaseHook, "get_connection", blocking)
    hook = ModelStudioHook(retry=FAST_RETRY)
    settings = asyncio.run(hook.asettings())
    assert settings.base_url == stub_foundry.url
    assert hook.settings is settings


DEPLOYMENT = "ri.foundry-ml-live.main.live-deployment.echoing"


def test_answers_echoing_the_token_come_back_redacted_from_the_sync_and_the_async_read(
    stub_foundry: Any, set_connection: Callable[..., str]
) -> None:
    token = "echoed-token-7f3a"
    set_connection(host=stub_foundry.url, password=token)
    echoing = {
        "rid": DEPLOYMENT,
        "branch": f"x-{token}",
        "modelVersion": {"modelRid": "m", "modelVersionRid": f"Bearer {token}"},
        "status": {"state": f"{token}-ACTIVE", "isReady": True},
    }
    stub_foundry.on("GET", f"/api/v2/models/liveDeployments/{DEPLOYMENT}", (200, echoing, {}))
    hook = ModelStudioHook(retry=FAST_RETRY)

    async def read() -> LiveDeployment:
        try:
            return await hook.aget_live_deployment(DEPLOYMENT)
        finally:
            await hook.aclose()

    expected = LiveDeployment(DEPLOYMENT, "***-ACTIVE", True, "m", "Bearer ***", "x-***")
    assert hook.get_live_deployment(DEPLOYMENT) == expected
    assert asyncio.run(read()) == expected
