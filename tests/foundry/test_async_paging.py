"""The async client refuses a listing that never ends, and its message never quotes the connection's token."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.errors import FoundryPagingError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from tests.foundry.support import DEMO, FAST_RETRY, settings_from

TOKEN = "async-paging-token-5e1"
RUNS = f"/api/v2/models/modelStudios/{DEMO}/runs"


def test_a_page_token_that_comes_back_is_refused_without_quoting_the_token(stub_foundry: Any) -> None:
    looping = {"data": [], "nextPageToken": f"page-{TOKEN}"}
    stub_foundry.on("GET", RUNS, (200, looping, {}))
    settings = settings_from({"conn_type": "foundry", "host": stub_foundry.url, "password": TOKEN})

    async def list_runs() -> list[Any]:
        client = AsyncFoundryClient(settings, retry=RetryPolicy(**FAST_RETRY))
        try:
            return [run async for run in client.paged("list_model_studio_runs", {"modelStudioRid": DEMO}, {})]
        finally:
            await client.aclose()

    with pytest.raises(FoundryPagingError) as info:
        asyncio.run(list_runs())
    assert "answered the page token 'page-***' a second time, after 2 page(s)" in str(info.value)
    assert TOKEN not in str(info.value)
