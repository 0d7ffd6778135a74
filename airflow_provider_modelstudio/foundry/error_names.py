"""Foundry's named errors, as data: the HTTP status and ``errorCode`` each ``errorName`` comes with.

One table for the whole package: the emulator answers with these names, and the client's error mapping
(:mod:`.errors`) maps some of them to exception classes. This module holds no behaviour and does not say
which exception a name becomes.
"""

from __future__ import annotations

from typing import NamedTuple


class NamedError(NamedTuple):
    """How Foundry answers one named error.

    :param status: the HTTP status
    :param code: the ``errorCode`` of the envelope (Conjure's error category)
    """

    status: int
    code: str


_INVALID_ARGUMENT = NamedError(400, "INVALID_ARGUMENT")
_PERMISSION_DENIED = NamedError(403, "PERMISSION_DENIED")
_NOT_FOUND = NamedError(404, "NOT_FOUND")

ERROR_NAMES: dict[str, NamedError] = {
    "Default:InvalidArgument": _INVALID_ARGUMENT,
    "Default:Unauthorized": NamedError(401, "UNAUTHORIZED"),
    "Default:Internal": NamedError(500, "INTERNAL"),
    "ApiFeaturePreviewUsageOnly": _INVALID_ARGUMENT,
    "ApiUsageDenied": _PERMISSION_DENIED,
    "InvalidPageSize": _INVALID_ARGUMENT,
    "InvalidPageToken": _INVALID_ARGUMENT,
    "MissingPostBody": _INVALID_ARGUMENT,
    "MissingBatchRequest": _INVALID_ARGUMENT,
    "BatchRequestSizeExceededLimit": _INVALID_ARGUMENT,
    "ModelStudioNotFound": _NOT_FOUND,
    "LaunchModelStudioPermissionDenied": _PERMISSION_DENIED,
    "ModelStudioConfigVersionNotFound": _NOT_FOUND,
    "ModelNotFound": _NOT_FOUND,
    "ModelVersionNotFound": _NOT_FOUND,
    "BuildNotFound": _NOT_FOUND,
    "BuildNotRunning": _INVALID_ARGUMENT,
    "CancelBuildPermissionDenied": _PERMISSION_DENIED,
}
"""Every errorName this package knows, with how Foundry answers it."""
