"""The synchronous transport (``requests``), used by the hook in workers."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

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


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps (requests nests urllib3's errors in args and ``reason``)."""
    stack: list[BaseException] = [exc]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        stack.extend(x for x in linked if isinstance(x, BaseException))


def classify(exc: requests.RequestException) -> tuple[FailureKind, str]:
    """Tell a request that never left from one whose answer was lost."""
    if isinstance(exc, requests.ConnectTimeout):
        return "not_sent", "connect timeout"
    if isinstance(exc, requests.ReadTimeout):
        return "no_answer", "no answer within the read timeout"
    for cause in _causes(exc):
        if isinstance(cause, NewConnectionError | ConnectTimeoutError):
            return "not_sent", f"could not connect ({type(cause).__name__})"
    return "no_answer", f"connection lost before the answer ({type(exc).__name__})"


class FoundryClient:
    """Calls Foundry for one connection: retries, token renewal and error mapping included.

    :param settings: the checked connection
    :param retry: retry bounds
    :param sleep: how to wait between attempts (tests pass a fake)
    """

    def __init__(
        self,
        settings: FoundrySettings,
        *,
        retry: RetryPolicy | None = None,
        sleep: Any = time.sleep,
    ) -> None:
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers["User-Agent"] = user_agent()

    def close(self) -> None:
        self._session.close()

    def call(
        self,
        name: str,
        path_params: Mapping[str, str | int] | None = None,
        query: Mapping[str, str | int | None] | None = None,
        json_body: Any = None,
    ) -> Any:
        """Call endpoint ``name`` and return its parsed JSON (None for an empty answer)."""
        return self._send(prepare(name, path_params, query, json_body))

    def paged(self, name: str, path_params: Mapping[str, str], query: Mapping[str, Any]) -> Iterator[Any]:
        """Every item of a paged endpoint, page after page."""
        return operations.iterate_pages(lambda q: self.call(name, path_params, q), query)

    def _send(self, call: ApiCall) -> Any:
        attempts = Attempts(
            call,
            self.retry,
            conn_id=self.settings.conn_id,
            can_renew_token=self.settings.auth_type == "oauth2",
        )
        while True:
            token = self._token() if call.authenticated else None
            attempts.begin()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            try:
                response = self._session.request(
                    call.method,
                    self.settings.base_url + call.path,
                    params=call.params,
                    json=call.json_body,
                    data=call.form_body,
                    headers=headers,
                    timeout=(self.settings.connect_timeout, self.settings.timeout),
                    verify=self.settings.verify,
                )
                body = response.content
            except requests.RequestException as exc:
                step = attempts.failed(*classify(exc))
            else:
                step = attempts.answered(response.status_code, response.headers, body)
            if isinstance(step, Done):
                return step.value
            if isinstance(step, Reauthenticate):
                forget_refused(self.settings, token)
            elif isinstance(step, Wait):
                self._sleep(step.seconds)

    def _token(self) -> str:
        token = ready_token(self.settings)
        if token:
            return token
        with TOKEN_CACHE.thread_lock(self.settings.token_cache_key):
            token = ready_token(self.settings)
            if token:
                return token
            answer = self._send(prepare("oauth2_token", form_body=token_form(self.settings)))
            return keep_grant(self.settings, answer)
