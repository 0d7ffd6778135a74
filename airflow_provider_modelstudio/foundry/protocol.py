"""What both transports share: how a call is prepared, and what to do after each attempt.

A transport (``requests`` or ``httpx``) only sends an :class:`ApiCall` and reports back what happened, an
answer or a failure, to :class:`Attempts`, which returns the next :data:`Step`: the parsed result, wait
and try again, or fetch a fresh token and replay. Every decision (retry or not, how long to wait, which
exception) is made here, once.
"""

from __future__ import annotations

import json
import logging
import platform
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS, Endpoint
from airflow_provider_modelstudio.foundry.errors import (
    FoundryApiError,
    FoundryAuthError,
    FoundryTransportError,
    error_from_response,
)
from airflow_provider_modelstudio.foundry.retry import (
    FailureKind,
    RetryPolicy,
    is_retryable,
    parse_retry_after,
    plan_retry,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiCall:
    """One request, ready for any transport. Its repr never shows the form body (it holds the secret).

    :param endpoint: the endpoint description
    :param path: the rendered path
    :param params: query parameters
    :param json_body: JSON body, if any
    :param form_body: form-encoded body, if any (the token request)
    """

    endpoint: Endpoint
    path: str
    params: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    form_body: dict[str, str] | None = field(default=None, repr=False)

    @property
    def method(self) -> str:
        return self.endpoint.method

    @property
    def authenticated(self) -> bool:
        return self.endpoint.name != "oauth2_token"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def prepare(
    name: str,
    path_params: Mapping[str, str | int] | None = None,
    query: Mapping[str, str | int | None] | None = None,
    json_body: Any = None,
    form_body: dict[str, str] | None = None,
) -> ApiCall:
    """Build the :class:`ApiCall` for endpoint ``name``; ``None`` query values are left out."""
    endpoint = ENDPOINTS[name]
    params = {k: str(v) for k, v in (query or {}).items() if v is not None}
    if endpoint.preview:
        params["preview"] = "true"
    return ApiCall(endpoint, endpoint.render(dict(path_params or {})), params, json_body, form_body)


@cache
def user_agent() -> str:
    """``airflow-provider-modelstudio/<ver> airflow/<ver> python/<ver>``."""
    from importlib.metadata import PackageNotFoundError, version

    from airflow_provider_modelstudio import __version__

    try:
        airflow_version = version("apache-airflow")
    except PackageNotFoundError:
        airflow_version = "unknown"
    return f"airflow-provider-modelstudio/{__version__} airflow/{airflow_version} python/{platform.python_version()}"


@dataclass(frozen=True)
class Done:
    value: Any


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class Reauthenticate:
    pass


Step = Done | Wait | Reauthenticate


class Attempts:
    """The decisions for one call across its attempts.

    :param call: the call being made
    :param policy: retry bounds
    :param conn_id: the connection id, for messages
    :param can_renew_token: whether a 401 can be answered by fetching a new token (OAuth2)
    """

    def __init__(
        self,
        call: ApiCall,
        policy: RetryPolicy,
        *,
        conn_id: str,
        can_renew_token: bool,
        rng: random.Random | None = None,
    ) -> None:
        self.call = call
        self.policy = policy
        self.conn_id = conn_id
        self.can_renew_token = can_renew_token
        self.rng = rng
        self.attempt = 0
        self.started = time.monotonic()
        self.renewed_token = False

    def begin(self) -> None:
        """Count an attempt; call before each send."""
        self.attempt += 1

    def answered(self, status: int, headers: Mapping[str, str], body: bytes) -> Step:
        """Decide after Foundry answered ``status``."""
        if 200 <= status < 300:
            if not body.strip():
                return Done(None)
            try:
                return Done(json.loads(body))
            except (ValueError, RecursionError):
                return self.failed("no_answer", f"{status} with a body that is not complete JSON")
        if status == 401 and self.call.authenticated and self.can_renew_token and not self.renewed_token:
            self.renewed_token = True
            log.info("%s answered 401; fetching a new token and replaying once", self.call)
            return Reauthenticate()
        retry_after = parse_retry_after(headers.get("Retry-After"))
        error = error_from_response(
            method=self.call.method,
            path=self.call.path,
            status_code=status,
            body=body,
            content_type=headers.get("Content-Type", ""),
            retry_after=retry_after,
        )
        do_not_retry = headers.get("QoS-Retry-Hint", "").strip().lower() == "do-not-retry"
        if is_retryable(self.call.endpoint, "status", status, do_not_retry):
            delay = self._delay(retry_after)
            if delay is not None:
                self._log_retry(f"answered {status}", delay, retry_after)
                return Wait(delay)
        raise self._final(error)

    def failed(self, kind: FailureKind, detail: str) -> Step:
        """Decide after an attempt got no usable answer.

        :param kind: ``not_sent`` (connect failure) or ``no_answer`` (sent; answer lost or unreadable)
        :param detail: what happened, for logs and the final message (no secrets)
        """
        if is_retryable(self.call.endpoint, kind, None, False):
            delay = self._delay(None)
            if delay is not None:
                self._log_retry(f"failed ({detail})", delay, None)
                return Wait(delay)
        elapsed = time.monotonic() - self.started
        reached = kind != "not_sent"
        note = " The request may have reached Foundry." if reached and not self.call.endpoint.idempotent else ""
        raise FoundryTransportError(
            f"{self.call} to connection {self.conn_id!r} failed after {self.attempt} attempt(s) in "
            f"{elapsed:.1f} s: {detail}.{note} Check the host and the network path to Foundry, or raise the "
            "connection's timeout.",
            method=self.call.method,
            path=self.call.path,
            may_have_reached_server=reached,
        )

    def _delay(self, retry_after: float | None) -> float | None:
        return plan_retry(
            self.policy,
            attempt=self.attempt,
            elapsed=time.monotonic() - self.started,
            retry_after=retry_after,
            rng=self.rng,
        )

    def _log_retry(self, what: str, delay: float, retry_after: float | None) -> None:
        hint = " (as Retry-After asked)" if retry_after is not None and delay <= retry_after else ""
        log.warning(
            "%s %s on attempt %d/%d; retrying in %.1f s%s",
            self.call,
            what,
            self.attempt,
            self.policy.max_attempts,
            delay,
            hint,
        )

    def _final(self, error: FoundryApiError) -> Exception:
        if not self.call.authenticated and error.status_code in (400, 401, 403):
            return FoundryAuthError(
                f"Foundry refused the OAuth2 client credentials of connection {self.conn_id!r} ({error.summary}). "
                "Check Client ID and Client Secret, and that the scopes asked for are granted to the "
                "application in Foundry's Developer Console."
            )
        if error.status_code == 401 and not self.can_renew_token:
            return FoundryAuthError(
                f"Foundry refused the static token of connection {self.conn_id!r} ({error.summary}). The token is "
                "wrong, expired or revoked: paste a new one, or switch the connection to OAuth2 client "
                "credentials, which renew themselves."
            )
        return error
