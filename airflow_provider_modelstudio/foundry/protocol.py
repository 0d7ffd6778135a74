"""What both transports share: how a call is prepared, and what to do after each attempt.

A transport (``requests`` or ``httpx``) only sends an :class:`ApiCall`, reads the answer through an
:class:`~airflow_provider_modelstudio.foundry.answers.AnswerReader` within the attempt's time bound, and reports
back what happened, an answer or a failure, to :class:`Attempts`, which returns the next :data:`Step`: the
parsed result, wait and try again, or fetch a fresh token and replay. Every decision (retry or not, how long
to wait, which exception, what a message may quote) is made here, once.
"""

from __future__ import annotations

import logging
import platform
import random
import socket
import ssl
import threading
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_modelstudio.foundry.answers import (
    AnswerTooLarge,
    TooManyValues,
    UnreadableAnswer,
    UnreadableJson,
    parse_json,
    quoted,
)
from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS, Endpoint
from airflow_provider_modelstudio.foundry.errors import (
    FoundryAnswerTooDense,
    FoundryAnswerTooLarge,
    FoundryApiError,
    FoundryAuthError,
    FoundryCertificateError,
    FoundryRedirected,
    FoundryTransportError,
    MissingScope,
    StaticTokenMissingScope,
    error_from_response,
)
from airflow_provider_modelstudio.foundry.retry import (
    FailureKind,
    RetryPolicy,
    is_retryable,
    parse_retry_after,
    plan_retry,
)
from airflow_provider_modelstudio.foundry.settings import FoundrySettings

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

    endpoint: Endpoint[Any]
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
    """The call's result: the answer's parsed JSON (None for an empty answer) and its size in bytes (decoded)."""

    value: Any
    size: int = 0


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class Reauthenticate:
    pass


Step = Done | Wait | Reauthenticate


class AttemptTooLong(Exception):
    """Raised by a transport when one attempt outlasted :attr:`FoundrySettings.attempt_limit
    <airflow_provider_modelstudio.foundry.settings.FoundrySettings.attempt_limit>`."""

    def __init__(self, limit: float) -> None:
        super().__init__(f"the attempt took longer than {limit:g} s")
        self.limit = limit


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps (``requests`` nests urllib3's errors in args and ``reason``)."""
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


_ADVICE = "Check the host and the network path to Foundry, or raise the connection's timeout."


def _connect_failure(exc: BaseException) -> tuple[str, str]:
    """Why connecting failed, in words (refused, timed out, or the operating system's reason), and the fix."""
    for cause in causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return (
                "connection refused (nothing accepts connections at that address and port)",
                "Check the connection's host and port.",
            )
        if isinstance(cause, TimeoutError) or "timeout" in type(cause).__name__.lower():
            return "timed out", "Check the host, and that a firewall or proxy lets this machine reach it."
    reason = next((c.strerror for c in causes(exc) if isinstance(c, OSError) and c.strerror), type(exc).__name__)
    return reason, _ADVICE


class Attempts:
    """The decisions for one call across its attempts.

    :param call: the call being made
    :param policy: retry bounds
    :param conn_id: the connection id, for messages
    :param can_renew_token: whether a 401 can be answered by fetching a new token (OAuth2)
    :param base_url: the connection's base URL, for messages
    :param secrets: the connection's secret; never quoted back from an answer (nor is any token sent)
    """

    def __init__(
        self,
        call: ApiCall,
        policy: RetryPolicy,
        *,
        conn_id: str,
        can_renew_token: bool,
        base_url: str = "",
        secrets: Collection[str] = (),
        rng: random.Random | None = None,
    ) -> None:
        self.call = call
        self.policy = policy
        self.conn_id = conn_id
        self.can_renew_token = can_renew_token
        self.base_url = base_url
        self.secrets: list[str] = [s for s in secrets if s]
        self.rng = rng
        self.attempt = 0
        self.started = time.monotonic()
        self.renewed_on: int | None = None

    def begin(self, token: str | None = None) -> None:
        """Count an attempt; call before each send, with the token it sends."""
        self.attempt += 1
        if token and token not in self.secrets:
            self.secrets.append(token)

    def answered(self, status: int, headers: Mapping[str, str], body: bytes) -> Step:
        """Decide after Foundry answered ``status`` with ``body`` (read whole, within the size limit)."""
        if 200 <= status < 300:
            if not body.strip():
                return Done(None)
            try:
                return Done(parse_json(body), len(body))
            except TooManyValues as exc:
                raise self._too_dense(exc, len(body)) from None
            except UnreadableJson as exc:
                return self.failed("no_answer", f"{status} with a body that is {exc}")
        if 300 <= status < 400:
            raise self._redirected(status, headers)
        if status == 401 and self.call.authenticated and self.can_renew_token and self._may_renew():
            self.renewed_on = self.attempt
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
            secrets=self.secrets,
        )
        do_not_retry = headers.get("QoS-Retry-Hint", "").strip().lower() == "do-not-retry"
        if is_retryable(self.call.endpoint, "status", status, do_not_retry):
            delay = self._delay(retry_after)
            if delay is not None:
                self._log_retry(f"answered {status}", delay, retry_after)
                return Wait(delay)
        raise self._final(error)

    def failed_on(self, exc: BaseException, kind: FailureKind, detail: str) -> Step:
        """Decide after an attempt raised ``exc`` instead of producing an answer.

        The transport classified ``exc`` as ``kind`` with ``detail``; what every transport shares is found
        here: an answer too large, an untrusted certificate (both final), an attempt over its time bound, an
        undecodable answer, a hostname that does not resolve.
        """
        for cause in causes(exc):
            if isinstance(cause, AttemptTooLong):
                return self.failed(
                    "no_answer",
                    f"the answer was not complete after {cause.limit:g} s, this client's bound on one attempt "
                    "(the connect timeout plus twice the connection's timeout)",
                )
            if isinstance(cause, AnswerTooLarge):
                raise self._too_large(cause)
            if isinstance(cause, ssl.SSLCertVerificationError):
                raise self._untrusted(cause)
            if isinstance(cause, UnreadableAnswer):
                return self.failed("no_answer", quoted(str(cause), self.secrets, limit=300))
            if isinstance(cause, socket.gaierror):
                host = urlsplit(self.base_url).hostname or self.base_url
                return self.failed(
                    "not_sent",
                    f"the hostname {host} does not resolve ({cause.strerror or cause})",
                    advice=(
                        f"Check the connection's host field: {host} must be your Foundry's hostname, and this "
                        "machine's DNS must know it."
                    ),
                )
        if kind == "not_sent":
            reason, advice = _connect_failure(exc)
            return self.failed(kind, f"could not connect to {self._address()}: {reason}", advice)
        return self.failed(kind, quoted(detail, self.secrets, limit=300))

    def _may_renew(self) -> bool:
        """Whether a 401 may be answered by a new token: not when the attempt right after a renewal was refused
        (the fresh token itself is refused: the credentials are wrong); again when attempts without an answer
        came between (a token with a short life can expire while a call retries)."""
        return self.renewed_on is None or self.attempt > self.renewed_on + 1

    def _address(self) -> str:
        """``host:port`` the connection's base URL reaches (the scheme's port when none is written)."""
        parts = urlsplit(self.base_url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        host = parts.hostname or self.base_url
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def failed(self, kind: FailureKind, detail: str, advice: str = _ADVICE) -> Step:
        """Decide after an attempt got no usable answer.

        :param kind: ``not_sent`` (connect failure) or ``no_answer`` (sent; answer lost or unreadable)
        :param detail: what happened, for logs and the final message (no secrets)
        :param advice: the likely fix, for the final message
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
            f"{elapsed:.1f} s: {detail}.{note} {advice}",
            method=self.call.method,
            path=self.call.path,
            may_have_reached_server=reached,
            advice=advice,
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

    def _redirected(self, status: int, headers: Mapping[str, str]) -> FoundryRedirected:
        location = headers.get("Location")
        target = f"redirected to {quoted(location, self.secrets)!r}" if location else "redirected without a Location"
        return FoundryRedirected(method=self.call.method, path=self.call.path, status_code=status, detail=target + ".")

    def _too_large(self, cause: AnswerTooLarge) -> FoundryAnswerTooLarge:
        size = f" (Content-Length {cause.declared})" if cause.declared is not None else ""
        return FoundryAnswerTooLarge(
            f"{self.call} to connection {self.conn_id!r}: the answer is larger than {cause.limit} bytes{size}, more "
            "than any Foundry answer this provider reads, so it was not read and the call is not retried. A proxy "
            "or a server that is not Foundry probably answered: check the connection's host.",
            method=self.call.method,
            path=self.call.path,
            limit=cause.limit,
        )

    def _too_dense(self, cause: TooManyValues, size: int) -> FoundryAnswerTooDense:
        return FoundryAnswerTooDense(
            f"{self.call} to connection {self.conn_id!r}: the answer ({size} bytes) holds more than {cause.limit} "
            "JSON values, more than any Foundry answer this provider reads, so it was not parsed and the call is not "
            "retried. A proxy or a server that is not Foundry probably answered: check the connection's host.",
            method=self.call.method,
            path=self.call.path,
            limit=cause.limit,
        )

    def _untrusted(self, cause: ssl.SSLCertVerificationError) -> FoundryCertificateError:
        return FoundryCertificateError(
            f"{self.call} to connection {self.conn_id!r}: the TLS certificate of {self.base_url} could not be "
            f"verified ({cause.verify_message or cause.reason}), so nothing was sent. If Foundry's certificate "
            "comes from a private CA, trust that CA: point REQUESTS_CA_BUNDLE (read by requests, in the workers) "
            "and SSL_CERT_FILE (read by httpx, in the triggerer) at a PEM bundle that contains it, on every "
            "Airflow host. The connection's verify setting turns verification off; do that only for a test "
            "installation. Not retried: trying again cannot change the certificate."
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
        if isinstance(error, MissingScope) and not self.can_renew_token:
            return StaticTokenMissingScope.of(error)
        return error


_warned_unverified: set[tuple[str, str]] = set()
_warned_lock = threading.Lock()


def warn_if_unverified(settings: FoundrySettings) -> None:
    """Log one warning per connection and process when TLS verification is turned off for an https host."""
    if settings.verify or not settings.base_url.startswith("https://"):
        return
    with _warned_lock:
        key = (settings.conn_id, settings.base_url)
        if key in _warned_unverified:
            return
        _warned_unverified.add(key)
    log.warning(
        "Connection %r turns TLS certificate verification off (verify=false). Anyone on the network path to %s "
        "can pose as Foundry: read the token or client secret sent, and forge answers (a build's status, a "
        "launched run). Trust Foundry's CA instead (REQUESTS_CA_BUNDLE for the workers, SSL_CERT_FILE for the "
        "triggerer) and set verify back to true.",
        settings.conn_id,
        settings.base_url,
    )
