"""Every call the provider makes, as a :class:`Request`: checked inputs, the endpoint, how to read the answer.

A request is built here (RIDs are validated before anything is sent) and sent by the hook through the sync or
the async client, which know nothing of what it means. Its answer is read into the shape its endpoint declares
(see :mod:`.endpoints` and :mod:`.shapes`). Most calls need nothing but path parameters: :func:`request` builds
them from the endpoint and the parameters' names; the functions below are the calls that need more (a query, a
body, a reading of their own). Launching is not one request (see :mod:`.launch`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from airflow_provider_modelstudio.foundry import endpoints, operations, shapes
from airflow_provider_modelstudio.foundry.endpoints import Endpoint, Paging
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.rids import (
    BUILD,
    DATASET,
    EXPERIMENT,
    LIVE_DEPLOYMENT,
    MODEL,
    MODEL_STUDIO,
    MODEL_VERSION,
    TRANSACTION,
    RidKind,
    validate_rid,
)

T = TypeVar("T")

PATH_PARAMETERS: dict[str, tuple[str, RidKind]] = {
    "model_studio_rid": ("modelStudioRid", MODEL_STUDIO),
    "model_rid": ("modelRid", MODEL),
    "model_version_rid": ("modelVersionRid", MODEL_VERSION),
    "experiment_rid": ("experimentRid", EXPERIMENT),
    "live_deployment_rid": ("liveDeploymentRid", LIVE_DEPLOYMENT),
    "build_rid": ("buildRid", BUILD),
    "dataset_rid": ("datasetRid", DATASET),
    "transaction_rid": ("transactionRid", TRANSACTION),
}
"""Each RID parameter by its Python name: its placeholder in the endpoints' paths and the kind it must be."""


@dataclass(frozen=True)
class Request(Generic[T]):
    """One call, ready for either client.

    :param endpoint: the endpoint's name in :data:`~.endpoints.ENDPOINTS`
    :param read: turns the parsed JSON answer (for a listing: the list of every page's items) into the result
    :param path_params: path parameters
    :param query: query parameters (None values are left out)
    :param body: JSON body
    :param paging: how a listing pages (every page is fetched); None for one request
    """

    endpoint: str
    read: Callable[[Any], T]
    path_params: Mapping[str, str | int] = field(default_factory=dict)
    query: Mapping[str, str | int | None] = field(default_factory=dict)
    body: Any = None
    paging: Paging | None = None


def request(
    endpoint: Endpoint[T],
    *,
    query: Mapping[str, str | int | None] | None = None,
    body: Any = None,
    **params: str | int,
) -> Request[T]:
    """A request to ``endpoint``, its RID parameters checked (see :data:`PATH_PARAMETERS`), its answer read by the
    endpoint's reader.

    :param params: path parameters by their Python names (``model_rid=...``); ``config_version`` is a whole number
    """
    path_params: dict[str, str | int] = {}
    for name, value in params.items():
        if name == "config_version":
            path_params["configVersion"] = _config_version(value)
        elif name in ("branch_name", "trainer_id"):
            path_params[_PLAIN_PARAMETERS[name]] = _name(name, value)
        else:
            placeholder, kind = PATH_PARAMETERS[name]
            path_params[placeholder] = validate_rid(value, kind, field=name)
    read = endpoint.answer
    if read is None:
        raise TypeError(f"endpoint {endpoint.name} reads its answer per request; use its function in this module")
    what = f"{endpoint.method} {endpoint.render(path_params)}"
    return Request(
        endpoint.name, lambda answer: read(answer, what), path_params, query or {}, body, paging=endpoint.paging
    )


def _config_version(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FoundryConfigError(f"config_version={value!r} must be a whole number of at least 1, e.g. 3.")
    return value


_PLAIN_PARAMETERS = {"branch_name": "branchName", "trainer_id": "trainerId"}
_EXAMPLES = {"branch_name": "the name of a dataset branch, e.g. 'master'", "trainer_id": "a trainer's id"}


def _name(parameter: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise FoundryConfigError(f"{parameter}={str(value)[:100]!r} must be {_EXAMPLES[parameter]}.")
    return value.strip()


def list_model_studio_runs(model_studio_rid: str, config_version: int | None = None) -> Request[list[shapes.Run]]:
    if config_version is not None:
        _config_version(config_version)
    return request(
        endpoints.LIST_MODEL_STUDIO_RUNS, query={"configVersion": config_version}, model_studio_rid=model_studio_rid
    )


def list_model_versions(model_rid: str, branch: str | None = None) -> Request[tuple[shapes.ModelVersion, ...]]:
    return request(endpoints.LIST_MODEL_VERSIONS, query={"branch": branch}, model_rid=model_rid)


def get_builds_batch(build_rids: list[str]) -> Request[dict[str, shapes.Build]]:
    """One getBatch request (at most :data:`~.endpoints.BATCH_LIMIT` builds, already checked)."""
    return request(endpoints.GET_BUILDS_BATCH, body=operations.batch_body(build_rids))


def get_build_statuses(build_rids: list[str]) -> Request[dict[str, str | None]]:
    """One getBatch request read as statuses only (see :func:`.shapes.batch_statuses`)."""
    return Request("get_builds_batch", shapes.batch_statuses, body=operations.batch_body(build_rids))


def build_batches(build_rids: list[str]) -> list[list[str]]:
    """Checked, unique build RIDs in getBatch-sized chunks."""
    return operations.batches(validate_rid(rid, BUILD, field="build_rids") for rid in build_rids)


def promote_model_version(model_rid: str, source_version_rid: str, branch: str | None) -> Request[shapes.ModelVersion]:
    """Not idempotent: send it through :func:`airflow_provider_modelstudio.foundry.promote.promote_once`."""
    source = validate_rid(source_version_rid, MODEL_VERSION, field="model_version_rid")
    body: dict[str, Any] = {"sourceModelVersionRid": source}
    if branch:
        body["branch"] = branch
    return request(endpoints.PROMOTE_MODEL_VERSION, body=body, model_rid=model_rid)


def search_experiments(
    model_rid: str, where: dict[str, Any] | None = None, order_by: dict[str, Any] | None = None
) -> Request[tuple[shapes.Experiment, ...]]:
    body = {key: value for key, value in (("where", where), ("orderBy", order_by)) if value is not None}
    return request(endpoints.SEARCH_EXPERIMENTS, body=body, model_rid=model_rid)


def list_live_deployments(model_rid: str, branch: str | None = None) -> Request[tuple[shapes.LiveDeployment, ...]]:
    rid = validate_rid(model_rid, MODEL, field="model_rid")
    return request(endpoints.LIST_LIVE_DEPLOYMENTS, query={"modelRid": rid, "branch": branch})


def get_live_deployment(live_deployment_rid: str) -> Request[shapes.LiveDeployment]:
    """Read with the RID asked for: what a deployment is called never comes from its answer."""
    rid = validate_rid(live_deployment_rid, LIVE_DEPLOYMENT, field="live_deployment_rid")
    what = f"GET {endpoints.GET_LIVE_DEPLOYMENT.render({'liveDeploymentRid': rid})}"
    return Request(
        "get_live_deployment",
        lambda answer: shapes.LiveDeployment.from_json(answer, rid=rid, what=what),
        {"liveDeploymentRid": rid},
    )


def transform_json(live_deployment_rid: str, inputs: dict[str, Any]) -> Request[shapes.Inference]:
    return request(endpoints.TRANSFORM_JSON, body={"input": inputs}, live_deployment_rid=live_deployment_rid)
