"""The asynchronous transport (``httpx``), used by triggers in the triggerer's event loop.

Same contract as :class:`~airflow_provider_modelstudio.foundry.sync_client.FoundryClient`; only the
operations a trigger needs are here. One ``httpx.AsyncClient`` per instance: create it in the event loop
that uses it, and close it there. Redirects are never followed; each attempt (connect, send, the whole
answer) is bounded by ``asyncio.timeout``; answers are read raw through the shared
:class:`~airflow_provider_modelstudio.foundry.answers.AnswerReader`. Only a small answer is decoded and parsed
in the event loop; a larger or compressed one is decoded and parsed in a thread (``asyncio.to_thread``), so
that the loop goes on serving every other trigger meanwhile. Connections are kept alive across poll rounds
(see :data:`KEEPALIVE_SECONDS`).
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Mapping
from functools import cache
from typing import Any

import httpx

from airflow_provider_modelstudio.foundry import operations
from airflow_provider_modelstudio.foundry.answers import ACCEPT_ENCODING, AnswerReader
from airflow_provider_modelstudio.foundry.auth import (
    TOKEN_CACHE,
    forget_refused,
    keep_grant,
    known_secrets,
    ready_token,
    token_form,
)
from airflow_provider_modelstudio.foundry.protocol import (
    ApiCall,
    Attempts,
    AttemptTooLong,
    Done,
    Reauthenticate,
    Step,
    Wait,
    prepare,
    user_agent,
    warn_if_unverified,
)
from airflow_provider_modelstudio.foundry.retry import FailureKind, RetryPolicy
from airflow_provider_modelstudio.foundry.settings import FoundrySettings

KEEPALIVE_SECONDS = 120.0
"""How long an idle connection is kept for the next request: longer than a poll interval (30 s by default), so
that poll rounds reuse one connection instead of opening one (a TLS handshake) each round. ``httpx``'s default, 5 s,
is shorter than any poll interval. A connection the server closed meanwhile is noticed and replaced."""


async def wait_between_attempts(seconds: float) -> None:
    """How the client waits before another attempt: ``asyncio.sleep``. Looked up when waiting, so tests can replace
    it for clients made elsewhere (by the hook)."""
    await asyncio.sleep(seconds)


def classify(exc: Exception) -> tuple[FailureKind, str]:
    """Tell a request that never left from one whose answer was lost."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return "not_sent", f"could not connect ({type(exc).__name__})"
    if isinstance(exc, httpx.ReadTimeout):
        return "no_answer", "no answer within the read timeout"
    if isinstance(exc, httpx.TransportError):
        return "no_answer", f"connection lost before the answer ({type(exc).__name__})"
    return "no_answer", f"unexpected {type(exc).__name__} while sending or reading ({exc})"


def tls_context(verify: bool) -> ssl.SSLContext:
    """The process's one TLS context for ``verify`` (and ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` as they are now),
    shared by every client: loading the CA bundle costs each new client about 0.6 MB and 20 ms of the event loop
    (every poller, every ``on_kill``, every deployment watch)."""
    return _tls_context(verify, os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@cache
def _tls_context(verify: bool, cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=verify)


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
            headers={"User-Agent": user_agent(), "Accept-Encoding": ACCEPT_ENCODING},
            verify=tls_context(settings.verify),
            timeout=httpx.Timeout(settings.timeout, connect=settings.connect_timeout),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10, keepalive_expiry=KEEPALIVE_SECONDS),
            follow_redirects=False,
        )
        warn_if_unverified(settings)

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
        return (await self.answer(name, path_params, query, json_body)).value

    async def answer(
        self,
        name: str,
        path_params: Mapping[str, str | int] | None = None,
        query: Mapping[str, str | int | None] | None = None,
        json_body: Any = None,
    ) -> Done:
        """Call endpoint ``name`` and return its parsed JSON and size."""
        return await self._send(prepare(name, path_params, query, json_body))

    async def paged(
        self,
        name: str,
        path_params: Mapping[str, str | int],
        query: Mapping[str, Any],
        body: Mapping[str, Any] | None = None,
        *,
        in_body: bool = False,
    ) -> AsyncIterator[Any]:
        """Every item of a paged endpoint, page after page (a listing that never ends is refused).

        :param in_body: the endpoint pages through its JSON ``body`` (``pageSize``, ``pageToken``), not its query
        """
        pages = operations.Pages(
            str(prepare(name, path_params)), (body or {}) if in_body else query, known_secrets(self.settings)
        )
        while pages.query is not None:
            parts = (query, pages.query) if in_body else (pages.query, None)
            page = await self.answer(name, path_params, *parts)
            for item in pages.after(page.value, page.size):
                yield item

    async def _send(self, call: ApiCall) -> Done:
        attempts = Attempts(
            call,
            self.retry,
            conn_id=self.settings.conn_id,
            can_renew_token=self.settings.auth_type == "oauth2",
            base_url=self.settings.base_url,
            secrets=(self.settings.secret,),
        )
        while True:
            token = await self._token() if call.authenticated else None
            attempts.begin(token)
            try:
                status, headers, reader = await self._attempt(call, token)
            except Exception as exc:
                step = attempts.failed_on(exc, *classify(exc))
            else:
                if reader.small:
                    step = _judge(attempts, status, headers, reader)
                else:
                    step = await asyncio.to_thread(_judge, attempts, status, headers, reader)
            if isinstance(step, Done):
                return step
            if isinstance(step, Reauthenticate):
                forget_refused(self.settings, token)
            elif isinstance(step, Wait):
                await wait_between_attempts(step.seconds)

    async def _attempt(self, call: ApiCall, token: str | None) -> tuple[int, Mapping[str, str], AnswerReader]:
        """Send ``call`` once and receive the whole answer, within the attempt's time bound (not decoded yet)."""
        limit = self.settings.attempt_limit
        deadline = asyncio.timeout(limit)
        try:
            async with (
                deadline,
                self._http.stream(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json_body,
                    data=call.form_body,
                    headers={"Authorization": f"Bearer {token}"} if token else {},
                ) as response,
            ):
                reader = AnswerReader(response.headers)
                async for chunk in response.aiter_raw():
                    reader.hold(chunk)
                return response.status_code, response.headers, reader
        except TimeoutError as exc:
            if deadline.expired():
                raise AttemptTooLong(limit) from exc
            raise

    async def _token(self) -> str:
        token = ready_token(self.settings)
        if token:
            return token
        async with TOKEN_CACHE.loop_lock(self.settings.token_cache_key):
            token = ready_token(self.settings)
            if token:
                return token
            answer = await self._send(prepare("oauth2_token", form_body=token_form(self.settings)))
            return keep_grant(self.settings, answer.value)


def _judge(attempts: Attempts, status: int, headers: Mapping[str, str], reader: AnswerReader) -> Step:
    """Decode and parse a received answer, and decide what follows (in the loop for a small answer, else in a
    thread)."""
    try:
        body = reader.body()
    except Exception as exc:
        return attempts.failed_on(exc, *classify(exc))
    return attempts.answered(status, headers, body)
