"""The asynchronous transport (``httpx``), used by triggers in the triggerer's event loop.

Same contract as :class:`~airflow_provider_modelstudio.foundry.sync_client.FoundryClient`; only the
operations a trigger needs are here. One ``httpx.AsyncClient`` per instance: create it in the event loop
that uses it, and close it there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

import httpx

from airflow_provider_modelstudio.foundry import operations
from airflow_provider_modelstudio.foundry.auth import (
    TOKEN_CACHE,
    forget_refused,
    keep_grant,
    ready_token,
    token_form,
)
from airflow_provider_modelstudio.foundry.protocol import (
    ApiCall,
    Attempts,
    Done,
    Reauthenticate,
    Wait,
    prepare,
    user_agent,
)
from airflow_provider_modelstudio.foundry.retry import FailureKind, RetryPolicy
from airflow_provider_modelstudio.foundry.settings import FoundrySettings


def classify(exc: httpx.TransportError) -> tuple[FailureKind, str]:
    """Tell a request that never left from one whose answer was lost."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return "not_sent", f"could not connect ({type(exc).__name__})"
    if isinstance(exc, httpx.ReadTimeout):
        return "no_answer", "no answer within the read timeout"
    return "no_answer", f"connection lost before the answer ({type(exc).__name__})"


class AsyncFoundryClient:
    """Calls Foundry asynchronously for one connection.

    :param settings: the checked connection
    :param retry: retry bounds
    """

    def __init__(self, settings: FoundrySettings, *, retry: RetryPolicy | None = None) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            headers={"User-Agent": user_agent()},
            verify=settings.verify,
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def call(
        self,
        name: str,
        path_params: Mapping[str, str | int] | None = None,
        query: Mapping[str, str | int | None] | None = None,
        json_body: Any = None,
    ) -> Any:
        """Call endpoint ``name`` and return its parsed JSON (None for an empty answer)."""
        return await self._send(prepare(name, path_params, query, json_body))

    async def get_builds(self, build_rids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Builds by RID, through getBatch (at most 100 a request); unknown RIDs are absent."""
        found: dict[str, dict[str, Any]] = {}
        for chunk in operations.batches(build_rids):
            answer = await self.call("get_builds_batch", json_body=operations.batch_body(chunk))
            found.update(operations.batch_builds(answer))
        return found

    async def cancel_build(self, build_rid: str) -> None:
        await self.call("cancel_build", {"buildRid": build_rid})

    async def _send(self, call: ApiCall) -> Any:
        attempts = Attempts(
            call,
            self.retry,
            conn_id=self.settings.conn_id,
            can_renew_token=self.settings.auth_type == "oauth2",
        )
        while True:
            token = await self._token() if call.authenticated else None
            attempts.begin()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                response = await self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json_body,
                    data=call.form_body,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                step = attempts.failed(*classify(exc))
            else:
                step = attempts.answered(response.status_code, response.headers, response.content)
            if isinstance(step, Done):
                return step.value
            if isinstance(step, Reauthenticate):
                forget_refused(self.settings, token)
            elif isinstance(step, Wait):
                await asyncio.sleep(step.seconds)

    async def _token(self) -> str:
        token = ready_token(self.settings)
        if token:
            return token
        async with TOKEN_CACHE.loop_lock(self.settings.token_cache_key):
            token = ready_token(self.settings)
            if token:
                return token
            answer = await self._send(prepare("oauth2_token", form_body=token_form(self.settings)))
            return keep_grant(self.settings, answer)
