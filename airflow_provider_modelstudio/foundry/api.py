"""Every call the provider makes, as a description: checked inputs, the endpoint, how to read the answer.

A :class:`Request` is built here (RIDs are validated before anything is sent) and sent by the hook through
the sync or the async client, which know nothing of what it means; its ``read`` checks the answer's shape.
Answers stay Foundry's JSON (the hook's public contract), except where a caller needs only a part of it
(build statuses). Launching is not here: it is not one request (see :mod:`.launch`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from airflow_provider_modelstudio.foundry import operations, shapes
from airflow_provider_modelstudio.foundry.errors import FoundryError
from airflow_provider_modelstudio.foundry.rids import (
    BUILD,
    EXPERIMENT,
    LIVE_DEPLOYMENT,
    MODEL,
    MODEL_STUDIO,
    MODEL_VERSION,
    validate_rid,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Request(Generic[T]):
    """One call, ready for either client.

    :param endpoint: the endpoint's name in :data:`~.endpoints.ENDPOINTS`
    :param read: turns the parsed JSON answer (for a paged endpoint: the list of every page's items) into
        the result
    :param path_params: path parameters
    :param query: query parameters (None values are left out)
    :param body: JSON body
    :param paged: the endpoint is paged through its query; every page is fetched
    :param paged_in_body: the endpoint is paged through its JSON body (``pageSize``, ``pageToken``)
    """

    endpoint: str
    read: Callable[[Any], T]
    path_params: Mapping[str, str | int] = field(default_factory=dict)
    query: Mapping[str, str | int | None] = field(default_factory=dict)
    body: Any = None
    paged: bool = False
    paged_in_body: bool = False


def _json_object(what: str) -> Callable[[Any], dict[str, Any]]:
    def read(answer: Any) -> dict[str, Any]:
        if not isinstance(answer, dict):
            raise FoundryError(
                f"{what} answered {_kind_of(answer)} instead of a JSON object. Check that the host is your Foundry's "
                "API gateway, not a proxy's page."
            )
        return answer

    return read


def _kind_of(answer: Any) -> str:
    """What an answer is, without quoting it (an answer may echo a secret)."""
    if answer is None:
        return "nothing"
    return f"a JSON {type(answer).__name__}"


def _optional_object(answer: Any) -> dict[str, Any] | None:
    return answer if isinstance(answer, dict) else None


def _objects(items: Any) -> list[dict[str, Any]]:
    return [item for item in items if isinstance(item, dict)]


def _nothing(answer: Any) -> None:
    return None


def get_model_studio(model_studio_rid: str) -> Request[dict[str, Any]]:
    rid = validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
    return Request("get_model_studio", _json_object(f"GET Model Studio {rid}"), {"modelStudioRid": rid})


def list_model_studio_runs(model_studio_rid: str, config_version: int | None = None) -> Request[list[dict[str, Any]]]:
    rid = validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
    return Request(
        "list_model_studio_runs",
        _objects,
        {"modelStudioRid": rid},
        {"configVersion": config_version},
        paged=True,
    )


def get_latest_config_version(model_studio_rid: str) -> Request[dict[str, Any] | None]:
    rid = validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
    return Request("get_latest_config_version", _optional_object, {"modelStudioRid": rid})


def get_config_version(model_studio_rid: str, config_version: int) -> Request[dict[str, Any]]:
    rid = validate_rid(model_studio_rid, MODEL_STUDIO, field="model_studio_rid")
    return Request(
        "get_config_version",
        _json_object(f"GET config version {config_version} of {rid}"),
        {"modelStudioRid": rid, "configVersion": config_version},
    )


def get_model_version(model_rid: str, model_version_rid: str) -> Request[dict[str, Any]]:
    model = validate_rid(model_rid, MODEL, field="model_rid")
    version = validate_rid(model_version_rid, MODEL_VERSION, field="model_version_rid")
    return Request(
        "get_model_version",
        _json_object(f"GET model version {version}"),
        {"modelRid": model, "modelVersionRid": version},
    )


def get_build(build_rid: str) -> Request[dict[str, Any]]:
    rid = validate_rid(build_rid, BUILD, field="build_rid")
    return Request("get_build", _json_object(f"GET build {rid}"), {"buildRid": rid})


def get_builds_batch(build_rids: list[str]) -> Request[dict[str, dict[str, Any]]]:
    """One getBatch request (at most :data:`~.endpoints.BATCH_LIMIT` builds, already checked)."""
    return Request("get_builds_batch", operations.batch_builds, body=operations.batch_body(build_rids))


def get_build_statuses(build_rids: list[str]) -> Request[dict[str, str | None]]:
    """One getBatch request read as statuses only (see :func:`.shapes.batch_statuses`)."""
    return Request("get_builds_batch", shapes.batch_statuses, body=operations.batch_body(build_rids))


def build_batches(build_rids: list[str]) -> list[list[str]]:
    """Checked, unique build RIDs in getBatch-sized chunks."""
    return operations.batches(validate_rid(rid, BUILD, field="build_rids") for rid in build_rids)


def cancel_build(build_rid: str) -> Request[None]:
    rid = validate_rid(build_rid, BUILD, field="build_rid")
    return Request("cancel_build", _nothing, {"buildRid": rid})


# Models, experiments, live deployments ----------------------------------------------------------------------


def get_model(model_rid: str) -> Request[dict[str, Any]]:
    rid = validate_rid(model_rid, MODEL, field="model_rid")
    return Request("get_model", _json_object(f"GET model {rid}"), {"modelRid": rid})


def list_model_versions(model_rid: str, branch: str | None = None) -> Request[list[dict[str, Any]]]:
    rid = validate_rid(model_rid, MODEL, field="model_rid")
    return Request("list_model_versions", _objects, {"modelRid": rid}, {"branch": branch}, paged=True)


def promote_model_version(model_rid: str, source_version_rid: str, branch: str | None) -> Request[dict[str, Any]]:
    """Not idempotent: send it through :func:`airflow_provider_modelstudio.foundry.promote.promote_once`."""
    rid = validate_rid(model_rid, MODEL, field="model_rid")
    source = validate_rid(source_version_rid, MODEL_VERSION, field="model_version_rid")
    body: dict[str, Any] = {"sourceModelVersionRid": source}
    if branch:
        body["branch"] = branch
    return Request(
        "promote_model_version", _json_object(f"promoteVersion of {source} into {rid}"), {"modelRid": rid}, body=body
    )


def get_experiment(model_rid: str, experiment_rid: str) -> Request[dict[str, Any]]:
    rid = validate_rid(model_rid, MODEL, field="model_rid")
    experiment = validate_rid(experiment_rid, EXPERIMENT, field="experiment_rid")
    return Request(
        "get_experiment",
        _json_object(f"GET experiment {experiment}"),
        {"modelRid": rid, "experimentRid": experiment},
    )


def search_experiments(
    model_rid: str, where: dict[str, Any] | None = None, order_by: dict[str, Any] | None = None
) -> Request[list[dict[str, Any]]]:
    rid = validate_rid(model_rid, MODEL, field="model_rid")
    body = {key: value for key, value in (("where", where), ("orderBy", order_by)) if value is not None}
    return Request("search_experiments", _objects, {"modelRid": rid}, body=body, paged_in_body=True)


def list_live_deployments(model_rid: str, branch: str | None = None) -> Request[list[dict[str, Any]]]:
    rid = validate_rid(model_rid, MODEL, field="model_rid")
    return Request(
        "list_live_deployments",
        lambda answer: _objects(
            answer.get("data") if isinstance(answer, dict) and isinstance(answer.get("data"), list) else []
        ),
        query={"modelRid": rid, "branch": branch},
    )


def get_live_deployment(live_deployment_rid: str) -> Request[dict[str, Any]]:
    rid = validate_rid(live_deployment_rid, LIVE_DEPLOYMENT, field="live_deployment_rid")
    return Request("get_live_deployment", _json_object(f"GET live deployment {rid}"), {"liveDeploymentRid": rid})


def start_live_deployment(live_deployment_rid: str) -> Request[None]:
    rid = validate_rid(live_deployment_rid, LIVE_DEPLOYMENT, field="live_deployment_rid")
    return Request("start_live_deployment", _nothing, {"liveDeploymentRid": rid})


def transform_json(live_deployment_rid: str, inputs: dict[str, Any]) -> Request[dict[str, Any]]:
    rid = validate_rid(live_deployment_rid, LIVE_DEPLOYMENT, field="live_deployment_rid")
    return Request(
        "transform_json",
        _json_object(f"transformJson on {rid}"),
        {"liveDeploymentRid": rid},
        body={"input": inputs},
    )
