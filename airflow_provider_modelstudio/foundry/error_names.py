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
_CONFLICT = NamedError(409, "CONFLICT")

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
    "ModelStudioTrainerNotFound": _NOT_FOUND,
    "CreateConfigValidationError": _INVALID_ARGUMENT,
    "CreateModelStudioConfigVersionPermissionDenied": _PERMISSION_DENIED,
    "ModelNotFound": _NOT_FOUND,
    "ModelVersionNotFound": _NOT_FOUND,
    "BuildNotFound": _NOT_FOUND,
    "BuildNotRunning": _INVALID_ARGUMENT,
    "CancelBuildPermissionDenied": _PERMISSION_DENIED,
    "UnsupportedModelSource": _INVALID_ARGUMENT,
    "PromoteVersionModelPermissionDenied": _PERMISSION_DENIED,
    "ExperimentNotFound": _NOT_FOUND,
    "ModelExperimentNotFound": _NOT_FOUND,
    "InvalidExperimentSearchFilter": _INVALID_ARGUMENT,
    "SearchExperimentsPermissionDenied": _PERMISSION_DENIED,
    "LiveDeploymentNotFound": _NOT_FOUND,
    "UnsupportedLiveDeployment": _INVALID_ARGUMENT,
    "CreateLiveDeploymentPermissionDenied": _PERMISSION_DENIED,
    "GpuTypeNotAvailable": _INVALID_ARGUMENT,
    "InvalidGpuCount": _INVALID_ARGUMENT,
    "ThreadCountTooHigh": _INVALID_ARGUMENT,
    "LiveDeploymentSourcesCannotBeUpdatedWhileRunning": _CONFLICT,
    "ReplaceLiveDeploymentPermissionDenied": _PERMISSION_DENIED,
    "StartLiveDeploymentPermissionDenied": _PERMISSION_DENIED,
    "DisableLiveDeploymentPermissionDenied": _PERMISSION_DENIED,
    "InferenceFailure": _INVALID_ARGUMENT,
    "InferenceInvalidInput": _INVALID_ARGUMENT,
    "InferenceTimeout": NamedError(500, "TIMEOUT"),
    "TransformJsonLiveDeploymentPermissionDenied": _PERMISSION_DENIED,
    "DatasetNotFound": _NOT_FOUND,
    "BranchNotFound": _NOT_FOUND,
    "TransactionNotFound": _NOT_FOUND,
}
"""Every errorName this package knows, with how Foundry answers it."""
