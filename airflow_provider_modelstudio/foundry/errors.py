"""Typed exceptions for everything that can go wrong between this provider and Foundry.

Foundry answers errors in the Conjure envelope ``{"errorCode", "errorName", "errorInstanceId",
"parameters"}``. :func:`error_from_response` turns any answer (that envelope, an empty 404, a proxy's HTML
page) into one of the classes below, with a message that names the request, the status, the identifiers
Palantir support asks for, and the likely fix. Messages never contain tokens or secrets: they are built
only from the method, the path, and what the server said.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar


class FoundryError(Exception):
    """Base class of every error raised by this provider."""


class FoundryConfigError(FoundryError, ValueError):
    """Bad input or configuration, found before any request was sent."""


class FoundryAuthError(FoundryError):
    """Foundry refused the connection's credentials (wrong token, client id or secret)."""


class FoundryTransportError(FoundryError):
    """No usable answer: the connection failed, dropped, or timed out after every allowed attempt.

    :param may_have_reached_server: False when the request provably never left (connection refused,
        connect timeout); True when Foundry may have received and acted on it.
    """

    def __init__(self, message: str, *, method: str, path: str, may_have_reached_server: bool) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.may_have_reached_server = may_have_reached_server


class DuplicateRunsError(FoundryError):
    """A launch's answer was lost and several new runs appeared meanwhile: which one is ours is unknown."""

    def __init__(self, message: str, run_ids: list[str]) -> None:
        super().__init__(message)
        self.run_ids = run_ids


class FoundryApiError(FoundryError):
    """Foundry answered with an error status.

    :param method: HTTP method of the request
    :param path: request path (no query string, no host)
    :param status_code: HTTP status of the answer
    :param error_name: Foundry's ``errorName`` (empty when the body was not Foundry's envelope)
    :param error_code: Foundry's ``errorCode``
    :param error_instance_id: Foundry's ``errorInstanceId``, what Palantir support asks for
    :param parameters: Foundry's ``parameters``
    :param detail: a description of an answer that was not Foundry's envelope
    :param retry_after: seconds from a ``Retry-After`` header, when one was sent
    """

    hint: ClassVar[str] = ""

    def __init__(
        self,
        *,
        method: str,
        path: str,
        status_code: int,
        error_name: str = "",
        error_code: str = "",
        error_instance_id: str = "",
        parameters: Mapping[str, Any] | None = None,
        detail: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.status_code = status_code
        self.error_name = error_name
        self.error_code = error_code
        self.error_instance_id = error_instance_id
        self.parameters = dict(parameters or {})
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(self._message())

    def parameter(self, *names: str) -> Any:
        """The first of ``names`` present in the error's parameters (Foundry spells some two ways)."""
        for name in names:
            if name in self.parameters:
                return self.parameters[name]
        return None

    @property
    def summary(self) -> str:
        """The message without the hint: what happened, for quoting inside another error's message."""
        return self._message(with_hint=False)

    def _message(self, *, with_hint: bool = True) -> str:
        head = self.error_name or type(self).__name__
        facts = [f"errorInstanceId {self.error_instance_id}"] if self.error_instance_id else []
        if self.parameters:
            facts.append(", ".join(f"{k}={v}" for k, v in sorted(self.parameters.items())))
        where = f"{self.method} {self.path} -> {self.status_code}"
        if facts:
            where += f" ({'; '.join(facts)})"
        tail = " ".join(part for part in (self.detail, self.hint if with_hint else "") if part)
        return f"{head}: {where}" + (f": {tail}" if tail else "")


class FoundryBadRequest(FoundryApiError):
    """400: Foundry rejected the request's arguments."""


class PreviewRequired(FoundryBadRequest):
    hint = (
        "The endpoint is in preview and needs preview=true. This provider always sends it, so a proxy "
        "between Airflow and Foundry probably dropped the query string."
    )


class BuildNotRunning(FoundryBadRequest):
    hint = "The build has already finished; there is nothing to cancel."


class FoundryUnauthorized(FoundryApiError, FoundryAuthError):
    hint = (
        "The credentials were refused twice (a fresh token was fetched and also refused). Check the token, "
        "or the OAuth2 client id and secret, in the Airflow connection."
    )


class FoundryPermissionDenied(FoundryApiError):
    hint = "The connection's user or application lacks permission on this resource."


class MissingScope(FoundryPermissionDenied):
    hint = (
        "The token lacks the OAuth2 scope named in missingScope. Add it to the connection's scopes and grant "
        "it to the third-party application in Foundry's Developer Console."
    )


class LaunchModelStudioPermissionDenied(FoundryPermissionDenied):
    hint = (
        "The connection's user or application may not launch this Model Studio. Grant it edit access to the "
        "studio's project in Foundry."
    )


class CancelBuildPermissionDenied(FoundryPermissionDenied):
    hint = "The connection's user or application may not cancel this build; cancel it in Foundry."


class FoundryNotFound(FoundryApiError):
    """404: the resource does not exist or is not visible to the connection's user."""


class EndpointNotAvailable(FoundryNotFound):
    hint = (
        "Foundry answered 404 with no body: this endpoint does not exist on this Foundry (an older "
        "enrollment, or the host is not a Foundry API gateway). Check the hostname; ask Palantir whether "
        "Model Studio's API is enabled."
    )


class ModelStudioNotFound(FoundryNotFound):
    hint = (
        "No Model Studio with that RID is visible to this connection's user. Check the RID in the studio's "
        "URL and that the application has access to its project."
    )


class ModelStudioConfigVersionNotFound(FoundryNotFound):
    hint = "The studio has no such configuration version."


class ModelNotFound(FoundryNotFound):
    hint = "No model with that RID is visible to this connection's user."


class ModelVersionNotFound(FoundryNotFound):
    hint = "No model version with that RID is visible to this connection's user."


class BuildNotFound(FoundryNotFound):
    hint = "No build with that RID is visible to this connection's user."


class FoundryConflict(FoundryApiError):
    """409: the request conflicts with the resource's current state."""


class FoundryRateLimited(FoundryApiError):
    hint = (
        "Foundry rate-limited the requests (429) on every allowed attempt. Lower the number of concurrent "
        "tasks on this connection, or raise the poll interval."
    )


class FoundryServerError(FoundryApiError):
    hint = "Foundry failed on its side; quote the errorInstanceId to Palantir support if it persists."


class FoundryUnavailable(FoundryServerError):
    hint = "Foundry is unavailable (503) or asked not to be retried; try again later."


_BY_ERROR_NAME: dict[str, type[FoundryApiError]] = {
    "ApiFeaturePreviewUsageOnly": PreviewRequired,
    "ApiUsageDenied": MissingScope,
    "BuildNotRunning": BuildNotRunning,
    "LaunchModelStudioPermissionDenied": LaunchModelStudioPermissionDenied,
    "CancelBuildPermissionDenied": CancelBuildPermissionDenied,
    "ModelStudioNotFound": ModelStudioNotFound,
    "ModelStudioConfigVersionNotFound": ModelStudioConfigVersionNotFound,
    "ModelNotFound": ModelNotFound,
    "ModelVersionNotFound": ModelVersionNotFound,
    "BuildNotFound": BuildNotFound,
}

_BY_STATUS: dict[int, type[FoundryApiError]] = {
    400: FoundryBadRequest,
    401: FoundryUnauthorized,
    403: FoundryPermissionDenied,
    404: FoundryNotFound,
    409: FoundryConflict,
    429: FoundryRateLimited,
    503: FoundryUnavailable,
}


def _snippet(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def error_from_response(
    *,
    method: str,
    path: str,
    status_code: int,
    body: bytes,
    content_type: str = "",
    retry_after: float | None = None,
) -> FoundryApiError:
    """Build the typed exception for an error answer.

    :param method: HTTP method of the request
    :param path: request path
    :param status_code: HTTP status of the answer
    :param body: raw body of the answer
    :param content_type: the answer's Content-Type header
    :param retry_after: parsed ``Retry-After`` seconds, if any
    """
    common: dict[str, Any] = {
        "method": method,
        "path": path,
        "status_code": status_code,
        "retry_after": retry_after,
    }
    if status_code == 404 and not body.strip():
        return EndpointNotAvailable(**common)
    envelope: Any = None
    if body.strip():
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = None
    if isinstance(envelope, dict) and ("errorName" in envelope or "errorCode" in envelope):
        name = str(envelope.get("errorName") or "")
        params = envelope.get("parameters")
        cls = _BY_ERROR_NAME.get(name) or _status_class(status_code)
        return cls(
            error_name=name,
            error_code=str(envelope.get("errorCode") or ""),
            error_instance_id=str(envelope.get("errorInstanceId") or ""),
            parameters=params if isinstance(params, dict) else {},
            detail=str(envelope.get("errorDescription") or ""),
            **common,
        )
    if isinstance(envelope, dict) and isinstance(envelope.get("error"), str):
        # The OAuth2 token endpoint answers errors as RFC 6749 says: {"error", "error_description"?}.
        description = envelope.get("error_description")
        detail = f"OAuth2 error {envelope['error']}" + (f": {description}" if description else "")
        return _status_class(status_code)(detail=detail, **common)
    kind = "HTML page" if "html" in content_type.lower() or body.lstrip()[:1] == b"<" else "body"
    detail = (
        f"The answer was not Foundry's JSON error envelope but a {kind} ({content_type or 'no content type'}): "
        f"{_snippet(body)!r}. A proxy or load balancer in front of Foundry probably answered."
        if body.strip()
        else "The answer had no body."
    )
    return _status_class(status_code)(detail=detail, **common)


def _status_class(status_code: int) -> type[FoundryApiError]:
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    return FoundryServerError if status_code >= 500 else FoundryApiError
