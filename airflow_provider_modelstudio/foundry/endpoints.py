"""Every Foundry endpoint this provider calls, as data: the one place of the API contract.

Each :class:`Endpoint` says how to reach it, what it needs, how it may be retried, what shape its answer is
read into and which named errors it answers. Both transports, the hook and the emulator read this table; adding
an endpoint is one entry here (plus the emulator's handler and a one-line hook method per transport; see
``docs/design.md``). The emulator counts requests under the same names.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from airflow_provider_modelstudio.foundry import shapes
from airflow_provider_modelstudio.foundry.shapes.reading import readable

T = TypeVar("T")

API_PREFIX = "/api"
MULTIPASS_PREFIX = "/multipass/api"


Reader = Callable[[Any, str], T]
"""Reads an answer (for a listing: every page's items) into its shape; the ``str`` names the request for
messages."""

Paging = Literal["query", "body"]


@dataclass(frozen=True)
class Endpoint(Generic[T]):
    """One Foundry endpoint.

    :param name: stable name, shared with the emulator's counters and fault settings
    :param method: HTTP method
    :param path: path template below the prefix, with ``{placeholders}``
    :param scope: the OAuth2 scope it needs; ``""`` for the token endpoint, which takes no bearer token
    :param preview: whether ``preview=true`` must be sent
    :param idempotent: whether repeating it after an answer-less failure is harmless
    :param prefix: :data:`API_PREFIX` or :data:`MULTIPASS_PREFIX`
    :param build_read: whether it counts against Foundry's build read rate limit (stated for get build and
        getBatch)
    :param answer: reads the answer into its shape (the items of every page, for a listing)
    :param paging: ``"query"`` or ``"body"`` for a listing paged through its query or its JSON body
    :param errors: the ``errorName`` values Foundry documents for it (see :mod:`.error_names`)
    """

    name: str
    method: str
    path: str
    scope: str
    preview: bool = False
    idempotent: bool = True
    prefix: str = API_PREFIX
    build_read: bool = False
    answer: Reader[T] | None = None
    paging: Paging | None = None
    errors: tuple[str, ...] = ()

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(f for _, f, _, _ in string.Formatter().parse(self.path) if f)

    def render(self, path_params: dict[str, str | int]) -> str:
        """The full request path, every path parameter percent-encoded."""
        missing = set(self.placeholders) - set(path_params)
        if missing:
            raise ValueError(f"endpoint {self.name} needs path parameters {sorted(missing)}")
        encoded = {k: quote(str(v), safe="") for k, v in path_params.items()}
        return self.prefix + self.path.format(**encoded)


_STUDIO = "/v2/models/modelStudios/{modelStudioRid}"
_MODEL = "/v2/models/{modelRid}"
_LIVE = "/v2/models/liveDeployments"
_BUILD = "/v2/orchestration/builds"
_DATASET = "/v2/datasets/{datasetRid}"
_MODELS_READ = "api:models-read"
_MODELS_WRITE = "api:models-write"


def _nothing(answer: Any, what: str) -> None:
    return None


def _latest_config_version(answer: Any, what: str) -> shapes.ConfigVersion | None:
    """The latest configuration version; None for the empty answer (204) of a studio without one."""
    return None if answer is None else shapes.ConfigVersion.from_json(answer, what=what)


def _model_versions(items: Any, what: str) -> tuple[shapes.ModelVersion, ...]:
    return readable(items, shapes.ModelVersion.from_json)


def _experiments(items: Any, what: str) -> tuple[shapes.Experiment, ...]:
    return readable(items, shapes.Experiment.from_json)


def _config_versions(items: Any, what: str) -> tuple[shapes.ConfigVersion, ...]:
    return readable(items, shapes.ConfigVersion.from_json)


def _runs(items: list[Any], what: str) -> list[shapes.Run]:
    """Every page's runs (a listing's items are always a list; see :class:`.operations.Pages`)."""
    return shapes.read_runs(items, what=what)


def _live_deployments(answer: Any, what: str) -> tuple[shapes.LiveDeployment, ...]:
    data = answer.get("data") if isinstance(answer, dict) else None
    return readable(data, shapes.LiveDeployment.listed)


OAUTH2_TOKEN: Endpoint[Any] = Endpoint("oauth2_token", "POST", "/oauth2/token", scope="", prefix=MULTIPASS_PREFIX)
LAUNCH_MODEL_STUDIO: Endpoint[shapes.Run] = Endpoint(
    "launch_model_studio",
    "POST",
    _STUDIO + "/launch",
    scope=_MODELS_WRITE,
    preview=True,
    idempotent=False,
    answer=lambda answer, what: shapes.read_run(answer, what=what),
    errors=("ModelStudioNotFound", "LaunchModelStudioPermissionDenied"),
)
GET_MODEL_STUDIO: Endpoint[shapes.ModelStudio] = Endpoint(
    "get_model_studio",
    "GET",
    _STUDIO,
    scope=_MODELS_READ,
    preview=True,
    answer=lambda answer, what: shapes.ModelStudio.from_json(answer, what=what),
    errors=("ModelStudioNotFound",),
)
LIST_MODEL_STUDIO_RUNS: Endpoint[list[shapes.Run]] = Endpoint(
    "list_model_studio_runs",
    "GET",
    _STUDIO + "/runs",
    scope=_MODELS_READ,
    preview=True,
    answer=_runs,
    paging="query",
    errors=("ModelStudioNotFound", "InvalidPageSize", "InvalidPageToken"),
)
GET_LATEST_CONFIG_VERSION: Endpoint[shapes.ConfigVersion | None] = Endpoint(
    "get_latest_config_version",
    "GET",
    _STUDIO + "/configVersions/latest",
    scope=_MODELS_READ,
    preview=True,
    answer=_latest_config_version,
    errors=("ModelStudioNotFound",),
)
GET_CONFIG_VERSION: Endpoint[shapes.ConfigVersion] = Endpoint(
    "get_config_version",
    "GET",
    _STUDIO + "/configVersions/{configVersion}",
    scope=_MODELS_READ,
    preview=True,
    answer=lambda answer, what: shapes.ConfigVersion.from_json(answer, what=what),
    errors=("ModelStudioNotFound", "ModelStudioConfigVersionNotFound"),
)
LIST_CONFIG_VERSIONS: Endpoint[tuple[shapes.ConfigVersion, ...]] = Endpoint(
    "list_config_versions",
    "GET",
    _STUDIO + "/configVersions",
    scope=_MODELS_READ,
    preview=True,
    answer=_config_versions,
    paging="query",
    errors=("ModelStudioNotFound", "InvalidPageSize", "InvalidPageToken"),
)
CREATE_CONFIG_VERSION: Endpoint[shapes.ConfigVersion] = Endpoint(
    "create_config_version",
    "POST",
    _STUDIO + "/configVersions",
    scope=_MODELS_WRITE,
    preview=True,
    idempotent=False,
    answer=lambda answer, what: shapes.ConfigVersion.from_json(answer, what=what),
    errors=(
        "CreateConfigValidationError",
        "CreateModelStudioConfigVersionPermissionDenied",
        "ModelStudioNotFound",
        "ModelStudioTrainerNotFound",
    ),
)
GET_TRAINER: Endpoint[shapes.Trainer] = Endpoint(
    "get_trainer",
    "GET",
    "/v2/models/modelStudioTrainers/{trainerId}",
    scope=_MODELS_READ,
    preview=True,
    answer=lambda answer, what: shapes.Trainer.from_json(answer, what=what),
    errors=("ModelStudioTrainerNotFound",),
)
GET_MODEL: Endpoint[shapes.Model] = Endpoint(
    "get_model",
    "GET",
    _MODEL,
    scope=_MODELS_READ,
    preview=True,
    answer=lambda answer, what: shapes.Model.from_json(answer, what=what),
    errors=("ModelNotFound",),
)
LIST_MODEL_VERSIONS: Endpoint[tuple[shapes.ModelVersion, ...]] = Endpoint(
    "list_model_versions",
    "GET",
    _MODEL + "/versions",
    scope=_MODELS_READ,
    preview=True,
    answer=_model_versions,
    paging="query",
    errors=("ModelNotFound", "UnsupportedModelSource", "InvalidPageSize", "InvalidPageToken"),
)
GET_MODEL_VERSION: Endpoint[shapes.ModelVersion] = Endpoint(
    "get_model_version",
    "GET",
    _MODEL + "/versions/{modelVersionRid}",
    scope=_MODELS_READ,
    preview=True,
    answer=lambda answer, what: shapes.ModelVersion.from_json(answer, what=what),
    errors=("ModelVersionNotFound", "UnsupportedModelSource"),
)
PROMOTE_MODEL_VERSION: Endpoint[shapes.ModelVersion] = Endpoint(
    "promote_model_version",
    "POST",
    _MODEL + "/promoteVersion",
    scope=_MODELS_WRITE,
    preview=True,
    idempotent=False,
    answer=lambda answer, what: shapes.ModelVersion.from_json(answer, what=what),
    errors=("ModelNotFound", "ModelVersionNotFound", "PromoteVersionModelPermissionDenied", "UnsupportedModelSource"),
)
GET_EXPERIMENT: Endpoint[shapes.Experiment] = Endpoint(
    "get_experiment",
    "GET",
    _MODEL + "/experiments/{experimentRid}",
    scope=_MODELS_READ,
    preview=True,
    answer=lambda answer, what: shapes.Experiment.from_json(answer, what=what),
    errors=("ExperimentNotFound", "ModelExperimentNotFound"),
)
SEARCH_EXPERIMENTS: Endpoint[tuple[shapes.Experiment, ...]] = Endpoint(
    "search_experiments",
    "POST",
    _MODEL + "/experiments/search",
    scope=_MODELS_READ,
    preview=True,
    answer=_experiments,
    paging="body",
    errors=("InvalidExperimentSearchFilter", "SearchExperimentsPermissionDenied", "InvalidPageSize"),
)
LIST_LIVE_DEPLOYMENTS: Endpoint[tuple[shapes.LiveDeployment, ...]] = Endpoint(
    "list_live_deployments",
    "GET",
    _LIVE,
    scope=_MODELS_READ,
    preview=True,
    answer=_live_deployments,
    errors=("ModelNotFound",),
)
GET_LIVE_DEPLOYMENT: Endpoint[shapes.LiveDeployment] = Endpoint(
    "get_live_deployment",
    "GET",
    _LIVE + "/{liveDeploymentRid}",
    scope=_MODELS_READ,
    preview=True,
    errors=("LiveDeploymentNotFound", "UnsupportedLiveDeployment"),
)
"""Its answer is read with the RID asked for (see :meth:`.shapes.LiveDeployment.from_json`), by the request."""
START_LIVE_DEPLOYMENT: Endpoint[None] = Endpoint(
    "start_live_deployment",
    "POST",
    _LIVE + "/{liveDeploymentRid}/start",
    scope=_MODELS_WRITE,
    preview=True,
    answer=_nothing,
    errors=("LiveDeploymentNotFound", "StartLiveDeploymentPermissionDenied"),
)
TRANSFORM_JSON: Endpoint[shapes.Inference] = Endpoint(
    "transform_json",
    "POST",
    _LIVE + "/{liveDeploymentRid}/transformJson",
    scope="api:models-execute",
    preview=True,
    answer=lambda answer, what: shapes.Inference.from_json(answer, what=what),
    errors=(
        "InferenceFailure",
        "InferenceInvalidInput",
        "InferenceTimeout",
        "LiveDeploymentNotFound",
        "TransformJsonLiveDeploymentPermissionDenied",
    ),
)
GET_BUILD: Endpoint[shapes.Build] = Endpoint(
    "get_build",
    "GET",
    _BUILD + "/{buildRid}",
    scope="api:orchestration-read",
    build_read=True,
    answer=lambda answer, what: shapes.Build.from_json(answer, what=what),
    errors=("BuildNotFound",),
)
GET_BUILDS_BATCH: Endpoint[dict[str, shapes.Build]] = Endpoint(
    "get_builds_batch",
    "POST",
    _BUILD + "/getBatch",
    scope="api:orchestration-read",
    build_read=True,
    answer=lambda answer, what: shapes.batch_builds(answer),
    errors=("MissingBatchRequest", "BatchRequestSizeExceededLimit"),
)
CANCEL_BUILD: Endpoint[None] = Endpoint(
    "cancel_build",
    "POST",
    _BUILD + "/{buildRid}/cancel",
    scope="api:orchestration-write",
    answer=_nothing,
    errors=("BuildNotFound", "BuildNotRunning", "CancelBuildPermissionDenied"),
)
GET_DATASET_BRANCH: Endpoint[shapes.DatasetBranch] = Endpoint(
    "get_dataset_branch",
    "GET",
    _DATASET + "/branches/{branchName}",
    scope="api:datasets-read",
    answer=lambda answer, what: shapes.DatasetBranch.from_json(answer, what=what),
    errors=("DatasetNotFound", "BranchNotFound"),
)
GET_DATASET_TRANSACTION: Endpoint[shapes.Transaction] = Endpoint(
    "get_dataset_transaction",
    "GET",
    _DATASET + "/transactions/{transactionRid}",
    scope="api:datasets-read",
    answer=lambda answer, what: shapes.Transaction.from_json(answer, what=what),
    errors=("DatasetNotFound", "TransactionNotFound"),
)

ENDPOINTS: dict[str, Endpoint[Any]] = {
    e.name: e
    for e in (
        OAUTH2_TOKEN,
        LAUNCH_MODEL_STUDIO,
        GET_MODEL_STUDIO,
        LIST_MODEL_STUDIO_RUNS,
        GET_LATEST_CONFIG_VERSION,
        GET_CONFIG_VERSION,
        LIST_CONFIG_VERSIONS,
        CREATE_CONFIG_VERSION,
        GET_TRAINER,
        GET_MODEL,
        LIST_MODEL_VERSIONS,
        GET_MODEL_VERSION,
        PROMOTE_MODEL_VERSION,
        GET_EXPERIMENT,
        SEARCH_EXPERIMENTS,
        LIST_LIVE_DEPLOYMENTS,
        GET_LIVE_DEPLOYMENT,
        START_LIVE_DEPLOYMENT,
        TRANSFORM_JSON,
        GET_BUILD,
        GET_BUILDS_BATCH,
        CANCEL_BUILD,
        GET_DATASET_BRANCH,
        GET_DATASET_TRANSACTION,
    )
}

REQUIRED_SCOPES: tuple[str, ...] = (
    "api:models-read",
    "api:models-write",
    "api:models-execute",
    "api:orchestration-read",
    "api:orchestration-write",
)
"""The scopes this provider's operations need, the default for OAuth2 connections."""

OPTIONAL_SCOPES: tuple[str, ...] = ("api:datasets-read",)
"""Scopes only some features need (dataset watchers): the connection test reports them missing without failing,
and OAuth2 connections ask for them only when their scopes field names them (an application not granted a scope
asked for gets no token at all)."""

BATCH_LIMIT = 100
"""At most this many builds per getBatch request."""
