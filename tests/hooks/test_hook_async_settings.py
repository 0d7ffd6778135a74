"""The hook reads its connection once, in the event loop too: the async read is kept for the sync side, and the
async client follows the hook's retry bounds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk import BaseHook

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.conftest import emulator_connection


def test_the_connection_is_read_once_without_blocking_and_shared_with_the_sync_side(
    emulator: FoundryEmulator, set_connection: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(raw=json.dumps(emulator_connection(emulator)))
    reads: list[str] = []
    real = BaseHook.aget_connection

    async def counting(conn_id: str) -> Any:
        reads.append(conn_id)
        return await real(conn_id)

    monkeypatch.setattr(BaseHook, "aget_connection", counting)
    hook = ModelStudioHook()

    async def read_twice() -> tuple[Any, Any]:
        return await hook.asettings(), await hook.asettings()

    first, second = asyncio.run(read_twice())
    assert reads == ["foundry_default"]
    assert first is second is hook.settings


def test_the_async_client_follows_the_hooks_retry_bounds(
    emulator: FoundryEmulator, set_connection: Callable[..., str]
) -> None:
    set_connection(raw=json.dumps(emulator_connection(emulator)))
    retry = {"max_attempts": 2, "backoff_initial": 0.1, "backoff_max": 0.2, "max_elapsed": 3}
    hook = ModelStudioHook(retry=retry)

    async def client_retry() -> RetryPolicy:
        try:
            return (await hook.aget_conn()).retry
        finally:
            await hook.aclose()

    assert asyncio.run(client_retry()) == RetryPolicy(**retry)
