"""Every answer has Foundry's wire shape: it validates against foundry_sdk's models with no unknown fields."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

import httpx
import pydantic
import pytest
from foundry_sdk.v2.core import errors as core_errors
from foundry_sdk.v2.models import errors as models_errors
from foundry_sdk.v2.models import models as models_models
from foundry_sdk.v2.orchestration import errors as orchestration_errors
from foundry_sdk.v2.orchestration import models as orchestration_models

from airflow_provider_modelstudio.emulator import (
    DEMO_BREAKS_STUDIO,
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_CHAMPION_VERSION,
    DEMO_DENIED_STUDIO,
    DEMO_DEPLOYMENT,
    DEMO_FAILS_STUDIO,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    DEMO_STUDIO_MODEL,
    FoundryEmulator,
)
from airflow_provider_modelstudio.foundry.error_names import ERROR_NAMES
from tests.emulator.helpers import (
    BUILDS,
    LIVE,
    MODELS,
    PREVIEW,
    READY_SECONDS,
    STUDIOS,
    launch,
    no_unknown_fields,
    promote,
    trained_version,
)

SEED_EXAMPLE = {
    "runId": "a1b2c3d4e5f6",
    "buildRid": "ri.foundry-build.main.build.a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "jobRid": "ri.foundry-build.main.job.a1b2c3d4-e5f6-7890-abcd-ef1234567890",
    "configVersion": 1,
    "startedBy": "f05f8da4-b84c-4fca-9c77-8af0b13d11de",
    "startedTime": "2003-05-06T12:34:56.789Z",
    "buildStatus": "RUNNING",
    "resolvedOutputs": {
        "model": {
            "type": "model",
            "modelRid": "ri.models.main.model.a1b2c3d4-e5f6-7890-abcd-ef1234567890",
            "modelVersionRid": "ri.models.main.model-version.a1b2c3d4-e5f6-7890-abcd-ef1234567890",
        }
    },
}
ISO_MILLIS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def strictly(model: type[pydantic.BaseModel], data: Any) -> Any:
    parsed = model.model_validate(data)
    assert no_unknown_fields(parsed) == []
    return parsed


def key_shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: key_shape(item) for key, item in value.items()}
    return type(value).__name__


def test_launch_answer_validates_as_model_studio_run(client: httpx.Client) -> None:
    run = strictly(models_models.ModelStudioRun, launch(client))

    assert run.build_status == "RUNNING"
    assert run.config_version == 1


def test_launch_answer_has_the_fields_and_types_of_the_seed_example(client: httpx.Client) -> None:
    assert key_shape(launch(client)) == key_shape(SEED_EXAMPLE)


def test_launch_answer_uses_the_documented_id_and_time_formats(client: httpx.Client) -> None:
    run = launch(client)

    assert re.fullmatch(r"[0-9a-f]{12}", run["runId"])
    assert re.fullmatch(r"ri\.foundry-build\.main\.build\.[0-9a-f-]{36}", run["buildRid"])
    assert re.fullmatch(r"ri\.foundry-build\.main\.job\.[0-9a-f-]{36}", run["jobRid"])
    assert re.fullmatch(
        r"ri\.models\.main\.model-version\.[0-9a-f-]{36}", run["resolvedOutputs"]["model"]["modelVersionRid"]
    )
    assert uuid.UUID(run["startedBy"])
    assert ISO_MILLIS_Z.match(run["startedTime"])


def test_get_model_studio_answer_validates_as_model_studio(client: httpx.Client) -> None:
    answer = client.get(f"{STUDIOS}/{DEMO_STUDIO}", params=PREVIEW)

    assert strictly(models_models.ModelStudio, answer.json()).rid == DEMO_STUDIO


def test_runs_page_validates_as_list_model_studio_runs_response(client: httpx.Client) -> None:
    launch(client)
    answer = client.get(f"{STUDIOS}/{DEMO_STUDIO}/runs", params=PREVIEW)

    assert len(strictly(models_models.ListModelStudioRunsResponse, answer.json()).data) == 1


@pytest.mark.parametrize("version", ["latest", "1"])
def test_config_version_answer_validates_as_model_studio_config_version(client: httpx.Client, version: str) -> None:
    answer = client.get(f"{STUDIOS}/{DEMO_STUDIO}/configVersions/{version}", params=PREVIEW)

    config = strictly(models_models.ModelStudioConfigVersion, answer.json())
    assert config.version == 1


def test_config_version_outputs_name_the_model_that_runs_write(client: httpx.Client) -> None:
    run = launch(client)
    config = client.get(f"{STUDIOS}/{DEMO_STUDIO}/configVersions/latest", params=PREVIEW).json()

    assert config["workerConfig"]["outputs"]["model"]["modelRid"] == run["resolvedOutputs"]["model"]["modelRid"]


def test_model_version_of_a_run_validates_as_model_version_from_model_studio(client: httpx.Client) -> None:
    output = launch(client)["resolvedOutputs"]["model"]
    answer = client.get(f"/api/v2/models/{output['modelRid']}/versions/{output['modelVersionRid']}", params=PREVIEW)

    version = strictly(models_models.ModelVersion, answer.json())
    assert version.rid == output["modelVersionRid"]
    assert version.source == models_models.ModelVersionModelStudioSource(model_studio_rid=DEMO_STUDIO)


def test_running_build_validates_as_build_without_finished_time(client: httpx.Client) -> None:
    build = strictly(orchestration_models.Build, client.get(f"{BUILDS}/{launch(client)['buildRid']}").json())

    assert (build.status, build.finished_time) == ("RUNNING", None)


def test_finished_build_validates_as_build_with_finished_time(emu: FoundryEmulator, client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]
    emu.advance(6)
    answer = client.get(f"{BUILDS}/{build_rid}").json()

    assert strictly(orchestration_models.Build, answer).status == "SUCCEEDED"
    assert ISO_MILLIS_Z.match(answer["finishedTime"])


def test_builds_batch_answer_validates_as_get_builds_batch_response(client: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]
    answer = client.post(f"{BUILDS}/getBatch", json=[{"buildRid": build_rid}])

    assert list(strictly(orchestration_models.GetBuildsBatchResponse, answer.json()).data) == [build_rid]


@dataclass(frozen=True)
class ErrorCase:
    method: str
    path: str
    error_class: Any
    query: dict[str, str] = field(default_factory=dict)


ERROR_CASES = [
    ErrorCase("GET", f"{STUDIOS}/ri.models.main.model-studio.missing", models_errors.ModelStudioNotFound),
    ErrorCase("POST", f"{STUDIOS}/{DEMO_DENIED_STUDIO}/launch", models_errors.LaunchModelStudioPermissionDenied),
    ErrorCase("GET", f"{STUDIOS}/{DEMO_STUDIO}/configVersions/7", models_errors.ModelStudioConfigVersionNotFound),
    ErrorCase(
        "GET",
        "/api/v2/models/ri.models.main.model.missing/versions/ri.models.main.model-version.missing",
        models_errors.ModelNotFound,
    ),
    ErrorCase("GET", f"{BUILDS}/ri.foundry.main.build.missing", orchestration_errors.BuildNotFound),
    ErrorCase("GET", f"{STUDIOS}/{DEMO_STUDIO}/runs", core_errors.InvalidPageSize, {"pageSize": "101"}),
    ErrorCase("GET", f"{STUDIOS}/{DEMO_STUDIO}/runs", core_errors.InvalidPageToken, {"pageToken": "nope"}),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[case.error_class.__name__ for case in ERROR_CASES])
def test_error_answers_parse_as_the_sdks_named_errors(client: httpx.Client, case: ErrorCase) -> None:
    answer = client.request(case.method, case.path, params={**PREVIEW, **case.query})
    body = answer.json()

    assert (
        answer.status_code == {"NOT_FOUND": 404, "PERMISSION_DENIED": 403, "INVALID_ARGUMENT": 400}[body["errorCode"]]
    )
    assert body["errorName"] == case.error_class.__name__
    assert uuid.UUID(body["errorInstanceId"])
    pydantic.TypeAdapter(get_type_hints(case.error_class)["parameters"]).validate_python(body["parameters"])


def test_unknown_model_version_of_a_known_model_is_model_version_not_found(client: httpx.Client) -> None:
    model_rid = launch(client)["resolvedOutputs"]["model"]["modelRid"]
    answer = client.get(f"/api/v2/models/{model_rid}/versions/ri.models.main.model-version.missing", params=PREVIEW)

    assert answer.json()["errorName"] == "ModelVersionNotFound"
    pydantic.TypeAdapter(models_errors.ModelVersionNotFoundParameters).validate_python(answer.json()["parameters"])


def test_every_error_answer_has_a_fresh_error_instance_id(client: httpx.Client) -> None:
    path = f"{STUDIOS}/ri.models.main.model-studio.missing"
    first, second = (client.get(path, params=PREVIEW).json()["errorInstanceId"] for _ in range(2))

    assert first != second


def test_unknown_route_answers_404_with_an_empty_body(client: httpx.Client) -> None:
    answer = client.get("/api/v2/models/modelStudios/ri.models.main.model-studio.demo/trainers", params=PREVIEW)

    assert (answer.status_code, answer.content) == (404, b"")


# The deploy half ------------------------------------------------------------------------------------------


def test_get_model_answer_validates_as_model(client: httpx.Client) -> None:
    answer = client.get(f"{MODELS}/{DEMO_PROD_MODEL}", params=PREVIEW)

    assert strictly(models_models.Model, answer.json()).rid == DEMO_PROD_MODEL


def test_model_versions_page_validates_as_list_model_versions_response(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    trained_version(emu, client)
    answer = client.get(f"{MODELS}/{DEMO_STUDIO_MODEL}/versions", params={**PREVIEW, "pageSize": "1"})

    page = strictly(models_models.ListModelVersionsResponse, answer.json())
    assert (len(page.data), page.next_page_token is not None) == (1, True)


def test_promote_answer_validates_as_model_version_from_a_promoted_source(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    output = trained_version(emu, client)

    version = strictly(models_models.ModelVersion, promote(client, DEMO_PROD_MODEL, output["modelVersionRid"]))

    assert version.source == models_models.ModelVersionPromotedSource(
        previous_model_rid=output["modelRid"], previous_model_version_rid=output["modelVersionRid"]
    )
    assert ISO_MILLIS_Z.match(promote(client, DEMO_PROD_MODEL, output["modelVersionRid"])["createdTime"])


def test_seeded_version_with_metrics_validates_as_model_version_with_a_linked_experiment(client: httpx.Client) -> None:
    answer = client.get(f"{MODELS}/{DEMO_STUDIO_MODEL}/versions/{DEMO_CHAMPION_SOURCE_VERSION}", params=PREVIEW)

    assert strictly(models_models.ModelVersion, answer.json()).linked_experiment is not None


@pytest.mark.parametrize(
    ("studio", "advance", "status"),
    [(DEMO_STUDIO, 0, "RUNNING"), (DEMO_STUDIO, 6, "SUCCEEDED"), (DEMO_FAILS_STUDIO, 6, "FAILED")],
)
def test_experiment_answer_validates_as_experiment(
    emu: FoundryEmulator, client: httpx.Client, studio: str, advance: int, status: str
) -> None:
    output = launch(client, studio)["resolvedOutputs"]["model"]
    emu.advance(advance)
    version = client.get(f"{MODELS}/{output['modelRid']}/versions/{output['modelVersionRid']}", params=PREVIEW).json()
    answer = client.get(f"{MODELS}/{output['modelRid']}/experiments/{version['linkedExperiment']}", params=PREVIEW)

    experiment = strictly(models_models.Experiment, answer.json())
    assert (experiment.status, experiment.linked_model_version) == (status, output["modelVersionRid"])
    assert ISO_MILLIS_Z.match(answer.json()["createdTime"])


def test_experiment_search_answer_validates_as_search_experiments_response(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    trained_version(emu, client)
    body = {"where": {"type": "eq", "field": "STATUS", "value": "SUCCEEDED"}, "pageSize": 1}
    answer = client.post(f"{MODELS}/{DEMO_STUDIO_MODEL}/experiments/search", params=PREVIEW, json=body)

    page = strictly(models_models.SearchExperimentsResponse, answer.json())
    assert (len(page.data), page.next_page_token is not None) == (1, True)


def test_live_deployments_answer_validates_as_list_live_deployments_response(client: httpx.Client) -> None:
    answer = client.get(LIVE, params={**PREVIEW, "modelRid": DEMO_PROD_MODEL})

    assert [d.rid for d in strictly(models_models.ListLiveDeploymentsResponse, answer.json()).data] == [DEMO_DEPLOYMENT]


@pytest.mark.parametrize("advance", [0, READY_SECONDS], ids=["starting", "active"])
def test_live_deployment_answer_validates_as_live_deployment(
    emu: FoundryEmulator, client: httpx.Client, advance: int
) -> None:
    promote(client, DEMO_PROD_MODEL, DEMO_CHAMPION_SOURCE_VERSION)
    emu.advance(advance)
    answer = client.get(f"{LIVE}/{DEMO_DEPLOYMENT}", params=PREVIEW)

    deployment = strictly(models_models.LiveDeployment, answer.json())
    assert deployment.status.state == ("STARTING" if advance == 0 else "ACTIVE")


def test_start_answers_no_content(client: httpx.Client) -> None:
    answer = client.post(f"{LIVE}/{DEMO_DEPLOYMENT}/start", params=PREVIEW)

    assert (answer.status_code, answer.content) == (204, b"")


def test_transform_json_answer_validates_as_transform_live_deployment_response(client: httpx.Client) -> None:
    answer = client.post(
        f"{LIVE}/{DEMO_DEPLOYMENT}/transformJson",
        params=PREVIEW,
        json={"input": {"tenure_months": 1, "monthly_charges": 9.5}},
    )

    assert set(strictly(models_models.TransformLiveDeploymentResponse, answer.json()).output) == {"prediction"}


Call = Callable[[FoundryEmulator, httpx.Client], httpx.Response]
MISSING_DEPLOYMENT = f"{LIVE}/ri.foundry-ml-live.main.live-deployment.missing"


def _promote_denied(emu: FoundryEmulator, http: httpx.Client) -> httpx.Response:
    model = emu.add_model(promote_denied=True)
    body = {"sourceModelVersionRid": DEMO_CHAMPION_SOURCE_VERSION}
    return http.post(f"{MODELS}/{model}/promoteVersion", params=PREVIEW, json=body)


def _failing_inference(emu: FoundryEmulator, http: httpx.Client) -> httpx.Response:
    promote(http, DEMO_PROD_MODEL, trained_version(emu, http, DEMO_BREAKS_STUDIO)["modelVersionRid"])
    emu.advance(READY_SECONDS)
    return http.post(f"{LIVE}/{DEMO_DEPLOYMENT}/transformJson", params=PREVIEW, json={"input": {}})


def _denied_deployment_call(setting: str, path: str) -> Call:
    def call(emu: FoundryEmulator, http: httpx.Client) -> httpx.Response:
        settings: dict[str, Any] = {setting: True}
        rid = emu.add_live_deployment(DEMO_PROD_MODEL, **settings)["rid"]
        return http.post(f"{LIVE}/{rid}/{path}", params=PREVIEW, json={"input": {}})

    return call


def _timing_out_inference(emu: FoundryEmulator, http: httpx.Client) -> httpx.Response:
    rid = emu.add_live_deployment(DEMO_PROD_MODEL, inference_timeout=True)["rid"]
    model_input = {"tenure_months": 3, "monthly_charges": 20.0}
    return http.post(f"{LIVE}/{rid}/transformJson", params=PREVIEW, json={"input": model_input})


def _model_experiment_elsewhere(emu: FoundryEmulator, http: httpx.Client) -> httpx.Response:
    experiment = emu.experiments(DEMO_STUDIO_MODEL)[0]["rid"]
    return http.get(f"{MODELS}/{DEMO_PROD_MODEL}/experiments/{experiment}", params=PREVIEW)


DEPLOY_ERROR_CASES: list[tuple[Any, Call]] = [
    (models_errors.ModelNotFound, lambda emu, http: http.get(f"{MODELS}/ri.models.main.model.missing", params=PREVIEW)),
    (
        models_errors.ModelVersionNotFound,
        lambda emu, http: http.post(
            f"{MODELS}/{DEMO_PROD_MODEL}/promoteVersion",
            params=PREVIEW,
            json={"sourceModelVersionRid": "ri.models.main.model-version.missing"},
        ),
    ),
    (models_errors.PromoteVersionModelPermissionDenied, _promote_denied),
    (
        models_errors.ExperimentNotFound,
        lambda emu, http: http.get(
            f"{MODELS}/{DEMO_PROD_MODEL}/experiments/ri.models.main.experiment.missing", params=PREVIEW
        ),
    ),
    (models_errors.ModelExperimentNotFound, _model_experiment_elsewhere),
    (
        models_errors.InvalidExperimentSearchFilter,
        lambda emu, http: http.post(
            f"{MODELS}/{DEMO_PROD_MODEL}/experiments/search", params=PREVIEW, json={"where": {"type": "nope"}}
        ),
    ),
    (models_errors.LiveDeploymentNotFound, lambda emu, http: http.get(MISSING_DEPLOYMENT, params=PREVIEW)),
    (
        models_errors.StartLiveDeploymentPermissionDenied,
        _denied_deployment_call("start_denied", "start"),
    ),
    (
        models_errors.TransformJsonLiveDeploymentPermissionDenied,
        _denied_deployment_call("transform_denied", "transformJson"),
    ),
    (models_errors.InferenceFailure, _failing_inference),
    (
        models_errors.InferenceInvalidInput,
        lambda emu, http: http.post(f"{LIVE}/{DEMO_DEPLOYMENT}/transformJson", params=PREVIEW, json={}),
    ),
    (models_errors.InferenceTimeout, _timing_out_inference),
]


@pytest.mark.parametrize(
    ("error_class", "call"), DEPLOY_ERROR_CASES, ids=[case[0].__name__ for case in DEPLOY_ERROR_CASES]
)
def test_deploy_error_answers_parse_as_the_sdks_named_errors(
    emu: FoundryEmulator, client: httpx.Client, error_class: Any, call: Call
) -> None:
    answer = call(emu, client)
    body = answer.json()

    assert (answer.status_code, body["errorCode"]) == ERROR_NAMES[error_class.__name__]
    assert body["errorName"] == error_class.__name__
    pydantic.TypeAdapter(get_type_hints(error_class)["parameters"]).validate_python(body["parameters"])


def test_champion_version_answer_validates_as_model_version(client: httpx.Client) -> None:
    answer = client.get(f"{MODELS}/{DEMO_PROD_MODEL}/versions/{DEMO_CHAMPION_VERSION}", params=PREVIEW)

    assert strictly(models_models.ModelVersion, answer.json()).linked_experiment is None
