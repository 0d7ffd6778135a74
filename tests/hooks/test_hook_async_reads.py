"""The hook's async side: it reads the connection without ever falling back to a blocking read, and refuses
a paged listing before sending anything rather than read only its first page."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk import BaseHook

from airflow_provider_modelstudio.foundry import api
from airflow_provider_modelstudio.foundry.errors import FoundryError
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


@pytest.mark.parametrize(
    ("request_of", "endpoint"),
    [
        (lambda: api.list_model_versions(MODEL), "list_model_versions"),
        (lambda: api.search_experiments(MODEL), "search_experiments"),
    ],
)
def test_a_paged_listing_asked_of_the_async_side_is_refused_before_any_request(
    stub_foundry: Any, set_connection: Callable[..., str], request_of: Callable[[], api.Request[Any]], endpoint: str
) -> None:
    set_connection(host=stub_foundry.url, password="async-reads-token-1")
    hook = ModelStudioHook(retry=FAST_RETRY)

    async def ask() -> Any:
        try:
            return await hook._arun(request_of())
        finally:
            await hook.aclose()

    with pytest.raises(FoundryError) as info:
        asyncio.run(ask())
    assert str(info.value) == f"{endpoint} is paged; call it through the sync hook."
    assert stub_foundry.seen == []


DEPLOYMENT = "ri.foundry-ml-live.main.live-deployment.echoing"


def test_answers_echoing_the_token_come_back_redacted_from_the_sync_and_the_async_read(
    stub_foundry: Any, set_connection: Callable[..., str]
) -> None:
    token = "echoed-token-7f3a"
    set_connection(host=stub_foundry.url, password=token)
    echoing = {"rid": DEPLOYMENT, f"x-{token}": [{"Authorization": f"Bearer {token}"}], "replicas": 2}
    stub_foundry.on("GET", f"/api/v2/models/liveDeployments/{DEPLOYMENT}", (200, echoing, {}))
    hook = ModelStudioHook(retry=FAST_RETRY)

    async def read() -> dict[str, Any]:
        try:
            return await hook.aget_live_deployment(DEPLOYMENT)
        finally:
            await hook.aclose()

    expected = {"rid": DEPLOYMENT, "x-***": [{"Authorization": "Bearer ***"}], "replicas": 2}
    assert hook.get_live_deployment(DEPLOYMENT) == expected
    assert asyncio.run(read()) == expected
