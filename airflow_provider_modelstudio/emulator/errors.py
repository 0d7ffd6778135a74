"""Errors the emulator answers with, in Foundry's (Conjure) wire format, and OAuth2 token errors.

:class:`ErrorAnswer` carries an HTTP status and an ``{errorCode, errorName, errorInstanceId,
parameters}`` envelope; a fresh ``errorInstanceId`` is drawn for every answer. :class:`OAuthError` is the
token endpoint's ``{error, error_description}`` answer. Nothing here knows about HTTP frameworks.
"""

from __future__ import annotations

import uuid
from typing import Any

from airflow_provider_modelstudio.emulator.ids import is_rid
from airflow_provider_modelstudio.foundry.error_names import ERROR_NAMES


class ErrorAnswer(Exception):
    """A named Foundry error with its HTTP status.

    :param name: the errorName, a key of :data:`~airflow_provider_modelstudio.foundry.error_names.ERROR_NAMES`.
    :param parameters: the error's parameters.
    """

    def __init__(self, name: str, **parameters: Any) -> None:
        self.status, self.code = ERROR_NAMES[name]
        self.name = name
        self.parameters = parameters
        super().__init__(f"{self.status} {name} {parameters}")

    def envelope(self) -> dict[str, Any]:
        """The JSON body, with a fresh errorInstanceId."""
        return {
            "errorCode": self.code,
            "errorName": self.name,
            "errorInstanceId": str(uuid.uuid4()),
            "parameters": self.parameters,
        }


class OAuthError(Exception):
    """An RFC 6749 token endpoint error.

    :param status: HTTP status (400 or 401).
    :param error: the ``error`` code, e.g. ``invalid_client``.
    :param description: the ``error_description``.
    """

    def __init__(self, status: int, error: str, description: str) -> None:
        self.status = status
        self.error = error
        self.description = description
        super().__init__(f"{status} {error}: {description}")

    def body(self) -> dict[str, str]:
        """The JSON body."""
        return {"error": self.error, "error_description": self.description}


def require_rid(parameter: str, value: str) -> str:
    """Check a RID from a path or a body.

    :param parameter: the parameter's name, for the error.
    :param value: the candidate.
    :raises ErrorAnswer: 400 Default:InvalidArgument when it is not a well-formed RID.
    """
    if not is_rid(value):
        raise ErrorAnswer("Default:InvalidArgument", parameterName=parameter, parameterValue=value)
    return value
