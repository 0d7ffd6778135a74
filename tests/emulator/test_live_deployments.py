"""Direct live deployments: they follow the latest version on their branch (STARTING, then ACTIVE and ready or
FAILED), start again when told, and answer transformJson deterministically per version served."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from airflow_provider_modelstudio.emulator import (
    DEMO_BREAKS_STUDIO,
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_CHAMPION_VERSION,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    FoundryEmulator,
)
from tests.conftest import StartEmulator
from tests.emulator.helpers import (
    LIVE,
    PREVIEW,
    READY_SECONDS,
    api_client,
    assert_error,
    live_deployment,
    promote,
    trained_version,
)

INPUT = {"input": {"tenure_months": 12, "monthly_charges": 70.5}}


def serving(deployment: dict[str, Any]) -> tuple[str, str, bool]:
    """The version served, the state and whether it is ready."""
    status = deployment["status"]
    return deployment["modelVersion"]["modelVersionRid"], status["state"], status["isReady"]


def transform(http: httpx.Client, rid: str = DEMO_DEPLOYMENT, body: object = INPUT) -> httpx.Response:
    return http.post(f"{LIVE}/{rid}/transformJson", params=PREVIEW, json=body)


def promote_trained(emu: FoundryEmulator, http: httpx.Client, studio: str | None = None) -> str:
    output = trained_version(emu, http) if studio is None else trained_version(emu, http, studio)
    rid: str = promote(http, DEMO_PROD_MODEL, output["modelVersionRid"])["rid"]
    return rid


def test_a_new_version_on_the_branch_makes_the_deployment_start_while_the_previous_one_serves(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    promote_trained(emu, client)

    assert serving(live_deployment(client, DEMO_DEPLOYMENT)) == (DEMO_CHAMPION_VERSION, "STARTING", False)


def test_the_new_version_is_served_active_and_ready_after_the_ready_delay(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    promoted = promote_trained(emu, client)
    emu.advance(READY_SECONDS)

    assert serving(live_deployment(client, DEMO_DEPLOYMENT)) == (promoted, "ACTIVE", True)


def test_the_ready_delay_runs_on_the_emulator_clock_at_its_time_scale(start_emulator: StartEmulator) -> None:
    fast = start_emulator(time_scale=1e6)
    with api_client(fast) as http:
        promoted = promote(http, DEMO_PROD_MODEL, DEMO_CHAMPION_SOURCE_VERSION)["rid"]

        assert serving(live_deployment(http, DEMO_DEPLOYMENT)) == (promoted, "ACTIVE", True)


def test_a_version_from_a_studio_that_breaks_deployments_makes_the_deployment_fail(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    promoted = promote_trained(emu, client, DEMO_BREAKS_STUDIO)
    emu.advance(READY_SECONDS)

    assert serving(live_deployment(client, DEMO_DEPLOYMENT)) == (promoted, "FAILED", False)


def test_promoting_the_previous_version_back_serves_it_again(emu: FoundryEmulator, client: httpx.Client) -> None:
    promote_trained(emu, client, DEMO_BREAKS_STUDIO)
    emu.advance(READY_SECONDS)
    rolled_back = promote(client, DEMO_PROD_MODEL, DEMO_CHAMPION_VERSION)["rid"]
    emu.advance(READY_SECONDS)

    assert serving(live_deployment(client, DEMO_DEPLOYMENT)) == (rolled_back, "ACTIVE", True)


def test_a_version_listed_in_failing_model_versions_makes_the_deployment_fail(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    output = trained_version(emu, client)
    emu.set_scenario({"failing_model_versions": [output["modelVersionRid"]]})
    promoted = promote(client, DEMO_PROD_MODEL, output["modelVersionRid"])["rid"]
    emu.advance(READY_SECONDS)

    assert serving(live_deployment(client, DEMO_DEPLOYMENT)) == (promoted, "FAILED", False)


def test_a_version_landing_on_another_branch_leaves_the_deployment_alone(
    emu: FoundryEmulator, client: httpx.Client
) -> None:
    promote(client, DEMO_PROD_MODEL, DEMO_CHAMPION_SOURCE_VERSION, branch="staging")

    assert serving(live_deployment(client, DEMO_DEPLOYMENT)) == (DEMO_CHAMPION_VERSION, "ACTIVE", True)


def test_start_changes_nothing_while_the_deployment_runs(emu: FoundryEmulator, client: httpx.Client) -> None:
    answer = client.post(f"{LIVE}/{DEMO_DEPLOYMENT}/start", params=PREVIEW)

    assert answer.status_code == 204
    assert serving(live_deployment(client, DEMO_DEPLOYMENT)) == (DEMO_CHAMPION_VERSION, "ACTIVE", True)
    assert emu.counters()["live_deployment_starts"] == {DEMO_DEPLOYMENT: 1}


def test_start_rolls_a_failed_deployment_out_again(emu: FoundryEmulator, client: httpx.Client) -> None:
    promoted = promote_trained(emu, client, DEMO_BREAKS_STUDIO)
    emu.advance(READY_SECONDS)
    client.post(f"{LIVE}/{DEMO_DEPLOYMENT}/start", params=PREVIEW)
    starting = serving(live_deployment(client, DEMO_DEPLOYMENT))
    emu.advance(READY_SECONDS)

    assert (starting, serving(live_deployment(client, DEMO_DEPLOYMENT))) == (
        (promoted, "STARTING", False),
        (promoted, "FAILED", False),
    )


def test_a_forced_status_holds_until_the_next_version_lands(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_live_deployment_status(DEMO_DEPLOYMENT, "DEGRADED", True)
    degraded = serving(live_deployment(client, DEMO_DEPLOYMENT))
    promoted = promote_trained(emu, client)
    emu.advance(READY_SECONDS)

    assert degraded == (DEMO_CHAMPION_VERSION, "DEGRADED", True)
    assert serving(live_deployment(client, DEMO_DEPLOYMENT)) == (promoted, "ACTIVE", True)


def test_transform_json_answers_the_same_prediction_for_the_same_input_and_version(client: httpx.Client) -> None:
    first, second = transform(client), transform(client)

    assert first.status_code == 200, first.text
    assert first.json() == second.json()
    assert 0 <= first.json()["output"]["prediction"] < 1


def test_transform_json_answers_per_version_served(emu: FoundryEmulator, client: httpx.Client) -> None:
    before = transform(client).json()
    promote_trained(emu, client)
    emu.advance(READY_SECONDS)

    assert transform(client).json() != before


def test_transform_json_fails_while_the_deployment_is_not_ready(emu: FoundryEmulator, client: httpx.Client) -> None:
    promote_trained(emu, client)

    assert_error(transform(client), 400, "InferenceFailure", liveDeploymentRid=DEMO_DEPLOYMENT)


def test_transform_json_fails_on_a_failed_deployment(emu: FoundryEmulator, client: httpx.Client) -> None:
    promote_trained(emu, client, DEMO_BREAKS_STUDIO)
    emu.advance(READY_SECONDS)

    assert_error(transform(client), 400, "InferenceFailure")


@pytest.mark.parametrize("column", ["tenure_months", "monthly_charges"])
def test_transform_json_without_a_column_of_the_model_api_is_invalid_input(client: httpx.Client, column: str) -> None:
    model_input = {name: value for name, value in INPUT["input"].items() if name != column}

    answer = transform(client, body={"input": model_input})

    assert_error(answer, 400, "InferenceInvalidInput", errorType={"type": "requiredValueMissing", "fieldName": column})


@pytest.mark.parametrize("body", [None, {}, {"input": [1, 2]}], ids=["no body", "no input", "input not an object"])
def test_transform_json_without_an_input_object_is_invalid_input(client: httpx.Client, body: object) -> None:
    answer = transform(client, body=body)

    assert_error(answer, 400, "InferenceInvalidInput", errorType={"type": "requiredValueMissing", "fieldName": "input"})


def test_a_deployment_set_to_time_out_answers_inference_timeout(emu: FoundryEmulator, client: httpx.Client) -> None:
    rid = emu.add_live_deployment(DEMO_PROD_MODEL, inference_timeout=True)["rid"]

    assert_error(transform(client, rid), 500, "InferenceTimeout", liveDeploymentRid=rid)


@pytest.mark.parametrize(
    ("setting", "path", "error"),
    [
        ("start_denied", "start", "StartLiveDeploymentPermissionDenied"),
        ("transform_denied", "transformJson", "TransformJsonLiveDeploymentPermissionDenied"),
    ],
)
def test_a_deployment_can_deny_starts_and_inference(
    emu: FoundryEmulator, client: httpx.Client, setting: str, path: str, error: str
) -> None:
    settings: dict[str, Any] = {setting: True}
    rid = emu.add_live_deployment(DEMO_PROD_MODEL, **settings)["rid"]

    answer = client.post(f"{LIVE}/{rid}/{path}", params=PREVIEW, json=INPUT)

    assert_error(answer, 403, error, liveDeploymentRid=rid)


def test_list_live_deployments_answers_a_models_deployments_on_a_branch(client: httpx.Client) -> None:
    on_master = client.get(LIVE, params={**PREVIEW, "modelRid": DEMO_PROD_MODEL, "branch": "master"}).json()
    on_staging = client.get(LIVE, params={**PREVIEW, "modelRid": DEMO_PROD_MODEL, "branch": "staging"}).json()

    assert ([d["rid"] for d in on_master["data"]], on_staging["data"]) == ([DEMO_DEPLOYMENT], [])


def test_list_live_deployments_needs_a_model(client: httpx.Client) -> None:
    assert_error(client.get(LIVE, params=PREVIEW), 400, "Default:InvalidArgument", parameterName="modelRid")


def test_list_live_deployments_of_an_unknown_model_is_model_not_found(client: httpx.Client) -> None:
    answer = client.get(LIVE, params={**PREVIEW, "modelRid": "ri.models.main.model.missing"})

    assert_error(answer, 404, "ModelNotFound")


@pytest.mark.parametrize("path", ["", "/start", "/transformJson"], ids=["get", "start", "transformJson"])
def test_an_unknown_live_deployment_is_live_deployment_not_found(client: httpx.Client, path: str) -> None:
    missing = "ri.foundry-ml-live.main.live-deployment.missing"
    method = "GET" if not path else "POST"

    answer = client.request(method, f"{LIVE}/{missing}{path}", params=PREVIEW, json=INPUT)

    assert_error(answer, 404, "LiveDeploymentNotFound", liveDeploymentRid=missing)


def test_handle_adds_a_deployment_serving_the_latest_version_of_its_branch(emu: FoundryEmulator) -> None:
    model = emu.add_model()
    version = emu.add_model_version(model, branch="prod")["rid"]

    added = emu.add_live_deployment(model, branch="prod", ready_seconds=1)

    assert serving(added) == (version, "ACTIVE", True)
    assert emu.live_deployments()[added["rid"]] == added


def test_handle_refuses_a_deployment_of_a_branch_without_versions(emu: FoundryEmulator) -> None:
    with pytest.raises(ValueError, match="no version on branch 'nightly'"):
        emu.add_live_deployment(DEMO_PROD_MODEL, branch="nightly")
