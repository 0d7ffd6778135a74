"""Typed exceptions for everything that can go wrong between this provider and Foundry.

Foundry answers errors in the Conjure envelope ``{"errorCode", "errorName", "errorInstanceId",
"parameters"}``. :func:`error_from_response` turns any answer (that envelope, an empty 404, a proxy's HTML
page) into one of the classes below, with a message that names the request, the status, the identifiers
Palantir support asks for, and the likely fix. Messages never contain tokens or secrets: they are built
from the method, the path, and what the server said, and every text quoted from an answer first goes
through :func:`~airflow_provider_modelstudio.foundry.answers.quoted`, which redacts secrets.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, ClassVar

from airflow_provider_modelstudio.foundry.answers import UnreadableJson, parse_json, quoted


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
    :param advice: the fix the message ends with, when it ends with one
    """

    def __init__(
        self, message: str, *, method: str, path: str, may_have_reached_server: bool, advice: str = ""
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.may_have_reached_server = may_have_reached_server
        self.advice = advice

    def advising(self, advice: str) -> FoundryTransportError:
        """The same failure with its fix replaced by ``advice`` (for a caller whose limits are not the
        connection's, where the general fix does not apply)."""
        message = str(self)
        if self.advice and message.endswith(self.advice):
            message = message[: -len(self.advice)].rstrip()
        return FoundryTransportError(
            f"{message} {advice}",
            method=self.method,
            path=self.path,
            may_have_reached_server=self.may_have_reached_server,
            advice=advice,
        )


class FoundryCertificateError(FoundryError):
    """Foundry's TLS certificate could not be verified. Not retried: trying again cannot change the answer."""


class FoundryAnswerTooLarge(FoundryError):
    """An answer larger than this provider reads. Not retried; the request itself may have been processed."""

    def __init__(self, message: str, *, method: str, path: str, limit: int) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.limit = limit


class FoundryAnswerTooDense(FoundryAnswerTooLarge):
    """An answer holding more JSON values than this provider parses (``limit`` is that count). Refused like an
    answer too large: not retried; the request itself may have been processed."""


class FoundryAnswerError(FoundryError):
    """Foundry accepted a request, but its answer holds a value that cannot be used (a RID that is not one).

    For a write, the request may have been carried out: it is reconciled like a lost answer.
    """


class FoundryPagingError(FoundryError):
    """A paged listing that would never end: a page token came back again, or there were too many pages."""


class ConfigVersionOutcomeUnknown(FoundryError):
    """Creating a configuration version failed in a way that may have made one, and whether it did could not be
    found out. Deliberately not a transient error: retrying the task could create two."""


class PromotionOutcomeUnknown(FoundryError):
    """A promotion failed in a way that may have made a copy, and whether it did could not be found out.

    Deliberately not a transient error: retrying the task could promote twice.
    """


class LaunchOutcomeUnknown(FoundryError):
    """A launch failed in a way that may have started a run, and whether it did could not be found out.

    Deliberately not a transient error: retrying the task could start a second run.
    """


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

    @property
    def from_foundry(self) -> bool:
        """Whether the answer was Foundry's own error envelope (an ``errorCode`` and an ``errorName``), as
        opposed to a proxy's page, an empty body or something unreadable."""
        return bool(self.error_code and self.error_name)

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
        """What happened, then the hint. The message itself names Foundry's ``errorName`` only when the class
        does not already (Python prints the class name before it); the summary, quoted inside other messages,
        always names one."""
        name = self.error_name or type(self).__name__
        head = "" if with_hint and name == type(self).__name__ else f"{name}: "
        facts = [f"errorInstanceId {self.error_instance_id}"] if self.error_instance_id else []
        if self.parameters:
            facts.append(", ".join(f"{k}={v}" for k, v in sorted(self.parameters.items())))
        where = f"{self.method} {self.path} -> {self.status_code}"
        if facts:
            where += f" ({'; '.join(facts)})"
        tail = " ".join(part for part in (self.detail, self.hint if with_hint else "") if part)
        return f"{head}{where}" + (f": {tail}" if tail else "")


class FoundryBadRequest(FoundryApiError):
    """400: Foundry rejected the request's arguments."""


class PreviewRequired(FoundryBadRequest):
    hint = (
        "The endpoint is in preview and needs preview=true. This provider always sends it, so a proxy "
        "between Airflow and Foundry probably dropped the query string."
    )


class BuildNotRunning(FoundryBadRequest):
    hint = "The build has already finished; there is nothing to cancel."


class UnsupportedModelSource(FoundryBadRequest):
    hint = (
        "The model version comes from a source Foundry's public API does not expose (a legacy or internal "
        "workflow); publish the model again from Model Studio or a code repository."
    )


class InvalidExperimentSearchFilter(FoundryBadRequest):
    hint = "Foundry rejected the experiment search filter; the 'reason' parameter says which part to change."


class UnsupportedLiveDeployment(FoundryBadRequest):
    hint = (
        "The live deployment is not a direct deployment, the only kind Foundry's public API serves; use a "
        "direct deployment of the model (created from the model's page in Foundry)."
    )


class InferenceFailure(FoundryBadRequest):
    hint = (
        "The deployed model failed while answering (the 'errorMessage' parameter says how), or the deployment "
        "is not ready; check the live deployment's status and logs in Foundry."
    )


class InferenceInvalidInput(FoundryBadRequest):
    hint = (
        "The inference input does not match the model's API; send {'input': {<name>: <value>}} with the "
        "input names the model version's modelApi lists."
    )


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


class StaticTokenMissingScope(MissingScope):
    """:class:`MissingScope` for a connection with a static token, whose scopes no connection field sets."""

    hint = "The connection's static token lacks the scope named in missingScope; use a token that carries it."

    @classmethod
    def of(cls, error: MissingScope) -> StaticTokenMissingScope:
        """The same refusal, with advice for a static token."""
        return cls(
            method=error.method,
            path=error.path,
            status_code=error.status_code,
            error_name=error.error_name,
            error_code=error.error_code,
            error_instance_id=error.error_instance_id,
            parameters=error.parameters,
            detail=error.detail,
            retry_after=error.retry_after,
        )


class LaunchModelStudioPermissionDenied(FoundryPermissionDenied):
    hint = (
        "The connection's user or application may not launch this Model Studio. Grant it edit access to the "
        "studio's project in Foundry."
    )


class CancelBuildPermissionDenied(FoundryPermissionDenied):
    hint = "The connection's user or application may not cancel this build; cancel it in Foundry."


class PromoteVersionModelPermissionDenied(FoundryPermissionDenied):
    hint = (
        "The connection's user or application may not promote versions into this model. Grant it edit access "
        "to the target model's project in Foundry."
    )


class SearchExperimentsPermissionDenied(FoundryPermissionDenied):
    hint = "The connection's user or application may not search this model's experiments; grant it view access."


class StartLiveDeploymentPermissionDenied(FoundryPermissionDenied):
    hint = (
        "The connection's user or application may not start this live deployment. Grant it edit access to the "
        "deployment's project in Foundry."
    )


class TransformJsonLiveDeploymentPermissionDenied(FoundryPermissionDenied):
    hint = (
        "The connection's user or application may not query this live deployment. Grant it access to the "
        "deployment and the api:models-execute scope."
    )


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


class ExperimentNotFound(FoundryNotFound):
    hint = (
        "No experiment with that RID is visible to this connection's user; check the model version's linkedExperiment."
    )


class ModelExperimentNotFound(FoundryNotFound):
    hint = (
        "The model has no such experiment, or this connection's user may not see it; check that the experiment "
        "RID belongs to the model named in the request."
    )


class LiveDeploymentNotFound(FoundryNotFound):
    hint = (
        "No live deployment with that RID is visible to this connection's user. Copy the RID from the "
        "deployment's page in Foundry and check the application has access to its project."
    )


class FoundryConflict(FoundryApiError):
    """409: the request conflicts with the resource's current state."""


class FoundryRateLimited(FoundryApiError):
    hint = (
        "Foundry rate-limited the requests (429) on every allowed attempt. Lower the number of concurrent "
        "tasks on this connection, or raise the poll interval."
    )


class FoundryRedirected(FoundryApiError):
    hint = (
        "This provider never follows redirects: one could carry the token or the client secret to another host. "
        "Set the connection's host to Foundry's API hostname (e.g. example.palantirfoundry.com), not the address "
        "of a portal, a login page or a proxy; if the target above is your Foundry, enter its hostname."
    )


class FoundryServerError(FoundryApiError):
    hint = "Foundry failed on its side; quote the errorInstanceId to Palantir support if it persists."


class FoundryUnavailable(FoundryServerError):
    hint = "Foundry is unavailable (503) or asked not to be retried; try again later."


class InferenceTimeout(FoundryServerError):
    hint = (
        "The live deployment took longer than Foundry allows (5 minutes) to answer; send a smaller input or "
        "give the deployment more replicas or resources."
    )


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
    "UnsupportedModelSource": UnsupportedModelSource,
    "PromoteVersionModelPermissionDenied": PromoteVersionModelPermissionDenied,
    "ExperimentNotFound": ExperimentNotFound,
    "ModelExperimentNotFound": ModelExperimentNotFound,
    "InvalidExperimentSearchFilter": InvalidExperimentSearchFilter,
    "SearchExperimentsPermissionDenied": SearchExperimentsPermissionDenied,
    "LiveDeploymentNotFound": LiveDeploymentNotFound,
    "UnsupportedLiveDeployment": UnsupportedLiveDeployment,
    "StartLiveDeploymentPermissionDenied": StartLiveDeploymentPermissionDenied,
    "TransformJsonLiveDeploymentPermissionDenied": TransformJsonLiveDeploymentPermissionDenied,
    "InferenceFailure": InferenceFailure,
    "InferenceInvalidInput": InferenceInvalidInput,
    "InferenceTimeout": InferenceTimeout,
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


def error_from_response(
    *,
    method: str,
    path: str,
    status_code: int,
    body: bytes,
    content_type: str = "",
    retry_after: float | None = None,
    secrets: Collection[str | None] = (),
) -> FoundryApiError:
    """Build the typed exception for an error answer.

    :param method: HTTP method of the request
    :param path: request path
    :param status_code: HTTP status of the answer
    :param body: raw body of the answer
    :param content_type: the answer's Content-Type header
    :param retry_after: parsed ``Retry-After`` seconds, if any
    :param secrets: the connection's secret and the token sent, redacted from every text quoted from the body
    """
    common: dict[str, Any] = {
        "method": method,
        "path": path,
        "status_code": status_code,
        "retry_after": retry_after,
    }
    if status_code == 404 and not body.strip():
        return EndpointNotAvailable(**common)
    try:
        envelope = parse_json(body)
    except UnreadableJson:  # also an empty body
        envelope = None
    if isinstance(envelope, dict) and ("errorName" in envelope or "errorCode" in envelope):
        name = envelope.get("errorName")
        params = envelope.get("parameters")
        cls = _BY_ERROR_NAME.get(name) if isinstance(name, str) else None
        return (cls or _status_class(status_code))(
            error_name=_field(name, secrets),
            error_code=_field(envelope.get("errorCode"), secrets),
            error_instance_id=_field(envelope.get("errorInstanceId"), secrets),
            parameters=_parameters(params, secrets),
            detail=_field(envelope.get("errorDescription"), secrets, limit=400),
            **common,
        )
    if isinstance(envelope, dict) and isinstance(envelope.get("error"), str):
        # The OAuth2 token endpoint answers errors as RFC 6749 says: {"error", "error_description"?}.
        description = envelope.get("error_description")
        detail = f"OAuth2 error {quoted(envelope['error'], secrets)}" + (
            f": {quoted(description, secrets)}" if description else ""
        )
        return _status_class(status_code)(detail=detail, **common)
    kind = "HTML page" if "html" in content_type.lower() or body.lstrip()[:1] == b"<" else "body"
    shown_type = quoted(content_type, secrets) if content_type else "no content type"
    detail = (
        f"The answer was not Foundry's JSON error envelope but a {kind} ({shown_type}): "
        f"{quoted(body.decode(errors='replace'), secrets)!r}. A proxy or load balancer in front of Foundry "
        "probably answered."
        if body.strip()
        else "The answer had no body."
    )
    return _status_class(status_code)(detail=detail, **common)


def _field(value: Any, secrets: Collection[str | None], limit: int = 120) -> str:
    return quoted(value, secrets, limit=limit) if value else ""


def _parameters(params: Any, secrets: Collection[str | None]) -> dict[str, Any]:
    """The envelope's parameters, every text redacted and shortened; numbers and booleans kept as they are."""
    if not isinstance(params, dict):
        return {}
    return {
        quoted(key, secrets, limit=60): value
        if value is None or isinstance(value, bool | int | float)
        else quoted(value, secrets)
        for key, value in list(params.items())[:20]
    }


def _status_class(status_code: int) -> type[FoundryApiError]:
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    return FoundryServerError if status_code >= 500 else FoundryApiError
