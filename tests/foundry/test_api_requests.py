"""Every call the provider makes, as described before anything is sent: the endpoint, its path, query and body,
how it pages, the RIDs checked (naming the argument), and how its answer is read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import api
from airflow_provider_modelstudio.foundry.api import request
from airflow_provider_modelstudio.foundry.endpoints import (
    CANCEL_BUILD,
    ENDPOINTS,
    GET_BUILD,
    GET_CONFIG_VERSION,
    GET_DATASET_BRANCH,
    GET_EXPERIMENT,
    GET_LATEST_CONFIG_VERSION,
    GET_MODEL,
    GET_MODEL_STUDIO,
    GET_MODEL_VERSION,
    GET_TRAINER,
    START_LIVE_DEPLOYMENT,
)
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError
from airflow_provider_modelstudio.foundry.shapes import ConfigVersion, LiveDeployment, ModelVersion

STUDIO = "ri.models.main.model-studio.s"
MODEL = "ri.models.main.model.m"
VERSION = "ri.models.main.model-version.v"
EXPERIMENT = "ri.models.main.experiment.e"
DEPLOYMENT = "ri.foundry-ml-live.main.live-deployment.d"
BUILD = "ri.foundry.main.build.b"
WHERE = {"type": "eq", "field": "BRANCH", "value": "master"}
ORDER = {"field": "CREATED_TIME", "direction": "ASC"}

REQUESTS: dict[str, tuple[Callable[[], api.Request[Any]], dict[str, Any]]] = {
    "get_model_studio": (
        lambda: request(GET_MODEL_STUDIO, model_studio_rid=STUDIO),
        {"path_params": {"modelStudioRid": STUDIO}},
    ),
    "list_model_studio_runs": (
        lambda: api.list_model_studio_runs(STUDIO, 3),
        {"path_params": {"modelStudioRid": STUDIO}, "query": {"configVersion": 3}, "paging": "query"},
    ),
    "get_latest_config_version": (
        lambda: request(GET_LATEST_CONFIG_VERSION, model_studio_rid=STUDIO),
        {"path_params": {"modelStudioRid": STUDIO}},
    ),
    "get_config_version": (
        lambda: request(GET_CONFIG_VERSION, model_studio_rid=STUDIO, config_version=2),
        {"path_params": {"modelStudioRid": STUDIO, "configVersion": 2}},
    ),
    "get_model_version": (
        lambda: request(GET_MODEL_VERSION, model_rid=MODEL, model_version_rid=VERSION),
        {"path_params": {"modelRid": MODEL, "modelVersionRid": VERSION}},
    ),
    "get_build": (lambda: request(GET_BUILD, build_rid=BUILD), {"path_params": {"buildRid": BUILD}}),
    "cancel_build": (
        lambda: request(CANCEL_BUILD, build_rid=BUILD),
        {"path_params": {"buildRid": BUILD}},
    ),
    "get_builds_batch": (lambda: api.get_builds_batch([BUILD]), {"body": [{"buildRid": BUILD}]}),
    "get_model": (lambda: request(GET_MODEL, model_rid=MODEL), {"path_params": {"modelRid": MODEL}}),
    "list_model_versions": (
        lambda: api.list_model_versions(MODEL, "staging"),
        {"path_params": {"modelRid": MODEL}, "query": {"branch": "staging"}, "paging": "query"},
    ),
    "promote_model_version": (
        lambda: api.promote_model_version(MODEL, VERSION, "staging"),
        {"path_params": {"modelRid": MODEL}, "body": {"sourceModelVersionRid": VERSION, "branch": "staging"}},
    ),
    "get_experiment": (
        lambda: request(GET_EXPERIMENT, model_rid=MODEL, experiment_rid=EXPERIMENT),
        {"path_params": {"modelRid": MODEL, "experimentRid": EXPERIMENT}},
    ),
    "search_experiments": (
        lambda: api.search_experiments(MODEL, WHERE, ORDER),
        {"path_params": {"modelRid": MODEL}, "body": {"where": WHERE, "orderBy": ORDER}, "paging": "body"},
    ),
    "list_live_deployments": (
        lambda: api.list_live_deployments(MODEL, "staging"),
        {"query": {"modelRid": MODEL, "branch": "staging"}},
    ),
    "get_live_deployment": (
        lambda: api.get_live_deployment(DEPLOYMENT),
        {"path_params": {"liveDeploymentRid": DEPLOYMENT}},
    ),
    "start_live_deployment": (
        lambda: request(START_LIVE_DEPLOYMENT, live_deployment_rid=DEPLOYMENT),
        {"path_params": {"liveDeploymentRid": DEPLOYMENT}},
    ),
    "transform_json": (
        lambda: api.transform_json(DEPLOYMENT, {"x": 1}),
        {"path_params": {"liveDeploymentRid": DEPLOYMENT}, "body": {"input": {"x": 1}}},
    ),
}


@pytest.mark.parametrize("endpoint", list(REQUESTS))
def test_each_call_names_its_endpoint_and_sends_its_arguments(endpoint: str) -> None:
    build, expected = REQUESTS[endpoint]
    request = build()
    assert request.endpoint == endpoint
    assert {
        "path_params": dict(request.path_params),
        "query": dict(request.query),
        "body": request.body,
        "paging": request.paging,
    } == {"path_params": {}, "query": {}, "body": None, "paging": None, **expected}
    assert set(request.path_params) == set(ENDPOINTS[endpoint].placeholders)


def test_a_promotion_without_a_branch_sends_none() -> None:
    assert api.promote_model_version(MODEL, VERSION, None).body == {"sourceModelVersionRid": VERSION}


def test_a_search_without_filter_or_order_sends_an_empty_body() -> None:
    assert api.search_experiments(MODEL).body == {}


BAD_RIDS: dict[str, tuple[Callable[[], Any], str]] = {
    "studio": (lambda: request(GET_MODEL_STUDIO, model_studio_rid="x"), "model_studio_rid"),
    "runs": (lambda: api.list_model_studio_runs("x"), "model_studio_rid"),
    "latest config": (
        lambda: request(GET_LATEST_CONFIG_VERSION, model_studio_rid="x"),
        "model_studio_rid",
    ),
    "config": (
        lambda: request(GET_CONFIG_VERSION, model_studio_rid="x", config_version=1),
        "model_studio_rid",
    ),
    "version's model": (
        lambda: request(GET_MODEL_VERSION, model_rid="x", model_version_rid=VERSION),
        "model_rid",
    ),
    "version": (
        lambda: request(GET_MODEL_VERSION, model_rid=MODEL, model_version_rid="x"),
        "model_version_rid",
    ),
    "build": (lambda: request(GET_BUILD, build_rid="x"), "build_rid"),
    "batch": (lambda: api.build_batches(["x"]), "build_rids"),
    "cancel": (lambda: request(CANCEL_BUILD, build_rid="x"), "build_rid"),
    "model": (lambda: request(GET_MODEL, model_rid="x"), "model_rid"),
    "versions": (lambda: api.list_model_versions("x"), "model_rid"),
    "promote into": (lambda: api.promote_model_version("x", VERSION, None), "model_rid"),
    "promote from": (lambda: api.promote_model_version(MODEL, "x", None), "model_version_rid"),
    "experiment's model": (
        lambda: request(GET_EXPERIMENT, model_rid="x", experiment_rid=EXPERIMENT),
        "model_rid",
    ),
    "experiment": (
        lambda: request(GET_EXPERIMENT, model_rid=MODEL, experiment_rid="x"),
        "experiment_rid",
    ),
    "search": (lambda: api.search_experiments("x"), "model_rid"),
    "deployments": (lambda: api.list_live_deployments("x"), "model_rid"),
    "deployment": (lambda: api.get_live_deployment("x"), "live_deployment_rid"),
    "start": (lambda: request(START_LIVE_DEPLOYMENT, live_deployment_rid="x"), "live_deployment_rid"),
    "transform": (lambda: api.transform_json("x", {}), "live_deployment_rid"),
}


@pytest.mark.parametrize("case", list(BAD_RIDS))
def test_a_bad_rid_is_refused_before_sending_naming_the_argument(case: str) -> None:
    build, field = BAD_RIDS[case]
    with pytest.raises(FoundryConfigError, match=re.escape(f"{field}='x' is not a")):
        build()


# Reading answers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "kind"), [(None, "nothing"), ([1], "a JSON list"), ("page", "a JSON str"), (3, "a JSON int")]
)
def test_an_answer_that_is_not_an_object_is_refused_saying_what_it_was(answer: Any, kind: str) -> None:
    with pytest.raises(FoundryError) as info:
        request(GET_MODEL, model_rid=MODEL).read(answer)
    assert str(info.value) == (
        f"GET /api/v2/models/{MODEL} answered {kind} instead of a JSON object. Check that the host is your "
        "Foundry's API gateway, not a proxy's page."
    )


@pytest.mark.parametrize(
    ("build", "what"),
    [
        (lambda: request(GET_MODEL_STUDIO, model_studio_rid=STUDIO), f"GET /api/v2/models/modelStudios/{STUDIO}"),
        (
            lambda: request(GET_CONFIG_VERSION, model_studio_rid=STUDIO, config_version=2),
            f"GET /api/v2/models/modelStudios/{STUDIO}/configVersions/2",
        ),
        (
            lambda: request(GET_MODEL_VERSION, model_rid=MODEL, model_version_rid=VERSION),
            f"GET /api/v2/models/{MODEL}/versions/{VERSION}",
        ),
        (lambda: request(GET_BUILD, build_rid=BUILD), f"GET /api/v2/orchestration/builds/{BUILD}"),
        (lambda: api.promote_model_version(MODEL, VERSION, None), f"POST /api/v2/models/{MODEL}/promoteVersion"),
        (
            lambda: request(GET_EXPERIMENT, model_rid=MODEL, experiment_rid=EXPERIMENT),
            f"GET /api/v2/models/{MODEL}/experiments/{EXPERIMENT}",
        ),
        (lambda: api.get_live_deployment(DEPLOYMENT), f"GET /api/v2/models/liveDeployments/{DEPLOYMENT}"),
        (lambda: api.transform_json(DEPLOYMENT, {}), f"POST /api/v2/models/liveDeployments/{DEPLOYMENT}/transformJson"),
    ],
    ids=lambda value: "" if callable(value) else value.split(" ", 1)[0],
)
def test_a_refused_answer_names_the_call(build: Callable[[], api.Request[Any]], what: str) -> None:
    request_ = build()
    with pytest.raises(FoundryError, match=re.escape(f"{what} answered a JSON list instead of a JSON object")):
        request_.read([])
    request_.read({"a": 1})


def test_a_missing_latest_config_version_reads_as_none() -> None:
    read = request(GET_LATEST_CONFIG_VERSION, model_studio_rid=STUDIO).read
    assert read(None) is None
    assert read({"version": 1}) == ConfigVersion(1)


def test_listed_items_that_are_not_objects_are_left_out() -> None:
    assert api.list_model_versions(MODEL).read([{"rid": "a"}, "b", None]) == (ModelVersion("a"),)


@pytest.mark.parametrize(
    ("answer", "read"),
    [
        ({"data": [{"rid": "d"}, 1, {"status": {}}]}, (LiveDeployment("d", None, False, None, None, None),)),
        ({"data": None}, ()),
        ([{"rid": "d"}], ()),
        (None, ()),
    ],
)
def test_live_deployments_are_read_from_the_answers_data_each_naming_itself(answer: Any, read: Any) -> None:
    assert api.list_live_deployments(MODEL).read(answer) == read


def test_cancel_and_start_read_nothing() -> None:
    assert request(CANCEL_BUILD, build_rid=BUILD).read({"ignored": True}) is None
    assert request(START_LIVE_DEPLOYMENT, live_deployment_rid=DEPLOYMENT).read({"ignored": True}) is None


def test_build_statuses_are_read_from_a_batch_answer() -> None:
    answer = {"data": {BUILD: {"status": "RUNNING"}, "ri.foundry.main.build.c": {"status": ""}}}
    assert api.get_build_statuses([BUILD]).read(answer) == {BUILD: "RUNNING", "ri.foundry.main.build.c": None}
    assert api.get_build_statuses([BUILD]).body == [{"buildRid": BUILD}]


@pytest.mark.parametrize("value", [0, -1, True, "2", 1.5])
def test_a_config_version_that_is_not_a_whole_number_of_at_least_one_is_refused_before_sending(value: Any) -> None:
    with pytest.raises(FoundryConfigError, match=re.escape(f"config_version={value!r} must be a whole number")):
        request(GET_CONFIG_VERSION, model_studio_rid=STUDIO, config_version=value)
    with pytest.raises(FoundryConfigError, match="config_version"):
        api.list_model_studio_runs(STUDIO, value)


def test_every_endpoint_but_the_token_and_the_deployment_read_declares_how_its_answer_is_read() -> None:
    unread = {name for name, endpoint in ENDPOINTS.items() if endpoint.answer is None}
    assert unread == {"oauth2_token", "get_live_deployment"}


def test_every_error_an_endpoint_declares_is_one_foundry_names() -> None:
    from airflow_provider_modelstudio.foundry.error_names import ERROR_NAMES

    declared = {name for endpoint in ENDPOINTS.values() for name in endpoint.errors}
    assert declared <= set(ERROR_NAMES)
    assert all(endpoint.errors for name, endpoint in ENDPOINTS.items() if name != "oauth2_token")


@pytest.mark.parametrize(
    ("parameter", "example"),
    [("branch_name", "the name of a dataset branch, e.g. 'master'"), ("trainer_id", "a trainer's id")],
)
def test_a_name_parameter_is_refused_unless_a_non_blank_string_of_at_most_256_characters(
    parameter: str, example: str
) -> None:
    endpoint = GET_DATASET_BRANCH if parameter == "branch_name" else GET_TRAINER
    extra = {"dataset_rid": "ri.foundry.main.dataset.d"} if parameter == "branch_name" else {}
    assert request(endpoint, **extra, **{parameter: " x" * 128}).path_params[_placeholder(parameter)] == "x x" + (
        " x" * 126
    )
    for bad in ("", "   ", "y" * 257, 7):
        with pytest.raises(FoundryConfigError) as info:
            request(endpoint, **extra, **{parameter: bad})
        assert str(info.value) == f"{parameter}={str(bad)[:100]!r} must be {example}."


def _placeholder(parameter: str) -> str:
    return {"branch_name": "branchName", "trainer_id": "trainerId"}[parameter]
