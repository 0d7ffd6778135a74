"""The admin HTTP API under /_emulator/: the handle's controls for other processes, uncounted and
unauthenticated, but out of reach of a web page (a custom header and JSON bodies are required)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_modelstudio.emulator import (
    ADMIN_HEADERS,
    DEMO_CHAMPION_VERSION,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    FoundryEmulator,
)
from tests.emulator.helpers import BUILDS, MODELS, PREVIEW, STUDIOS, launch, live_deployment


@pytest.fixture
def admin(emu: FoundryEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emu.url + "/_emulator", headers=ADMIN_HEADERS, timeout=5) as http:
        yield http


@pytest.fixture
def web_page(emu: FoundryEmulator) -> Iterator[httpx.Client]:
    """What a browser may send cross-origin without a preflight: no custom header, a text/plain body."""
    with httpx.Client(base_url=emu.url + "/_emulator", timeout=5) as http:
        yield http


def test_admin_reset_forgets_runs(emu: FoundryEmulator, client: httpx.Client, admin: httpx.Client) -> None:
    launch(client)

    assert admin.post("/reset").status_code == 204
    assert emu.runs() == []


def test_admin_scenario_replaces_the_scenario(client: httpx.Client, admin: httpx.Client) -> None:
    assert admin.put("/scenario", json={"studios": {}}).status_code == 204

    assert client.get(f"{STUDIOS}/{DEMO_STUDIO}", params=PREVIEW).status_code == 404


def test_admin_scenario_with_an_unknown_key_is_400_naming_it(admin: httpx.Client) -> None:
    answer = admin.put("/scenario", json={"studioz": {}})

    assert answer.status_code == 400
    assert "'studioz'" in answer.json()["error"]


def test_admin_faults_set_and_clear(client: httpx.Client, admin: httpx.Client) -> None:
    admin.post("/faults/get_model_studio", json={"rate_503": 1.0})
    faulty = client.get(f"{STUDIOS}/{DEMO_STUDIO}", params=PREVIEW).status_code
    admin.delete("/faults")

    assert (faulty, client.get(f"{STUDIOS}/{DEMO_STUDIO}", params=PREVIEW).status_code) == (503, 200)


def test_admin_faults_for_an_unknown_endpoint_are_400(admin: httpx.Client) -> None:
    assert admin.post("/faults/get_everything", json={"rate_503": 1.0}).status_code == 400


def test_admin_clock_advance_finishes_builds(client: httpx.Client, admin: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]

    answer = admin.post("/clock/advance", json={"seconds": 5})

    assert answer.status_code == 200
    assert admin.get("/builds").json()[build_rid]["status"] == "SUCCEEDED"


def test_admin_clock_advance_needs_seconds(admin: httpx.Client) -> None:
    assert admin.post("/clock/advance", json={"minutes": 5}).status_code == 400


def test_admin_counters_do_not_count_admin_calls(client: httpx.Client, admin: httpx.Client) -> None:
    launch(client)
    admin.get("/runs")

    assert admin.get("/counters").json()["requests"] == {"launch_model_studio": {"200": 1}}


def test_admin_runs_lists_runs_of_one_studio(client: httpx.Client, admin: httpx.Client) -> None:
    run = launch(client)

    assert [listed["runId"] for listed in admin.get("/runs", params={"studioRid": DEMO_STUDIO}).json()] == [
        run["runId"]
    ]


def test_admin_build_status_forces_a_status(client: httpx.Client, admin: httpx.Client) -> None:
    build_rid = launch(client)["buildRid"]

    assert admin.post(f"/builds/{build_rid}/status", json={"status": "QUEUED"}).status_code == 204
    assert client.get(f"{BUILDS}/{build_rid}").json()["status"] == "QUEUED"


def test_admin_build_status_of_an_unknown_build_is_404(admin: httpx.Client) -> None:
    assert admin.post("/builds/ri.foundry.main.build.missing/status", json={"status": "FAILED"}).status_code == 404


def test_admin_text_plain_post_without_the_header_is_403_and_changes_nothing(
    emu: FoundryEmulator, client: httpx.Client, web_page: httpx.Client
) -> None:
    launch(client)

    answer = web_page.post("/reset", content=b"{}", headers={"Content-Type": "text/plain"})

    assert answer.status_code == 403
    assert len(emu.runs()) == 1


def test_admin_request_without_the_header_is_403_naming_the_header_to_send(web_page: httpx.Client) -> None:
    answer = web_page.get("/counters")

    assert answer.status_code == 403
    assert "'X-Foundry-Emulator-Admin: 1'" in answer.json()["error"]


def test_admin_fault_injection_with_a_text_plain_body_is_403_naming_the_content_type(
    client: httpx.Client, admin: httpx.Client
) -> None:
    answer = admin.post("/faults/get_build", content=b'{"rate_503": 1.0}', headers={"Content-Type": "text/plain"})

    assert answer.status_code == 403
    assert "'Content-Type: application/json'" in answer.json()["error"]
    assert client.get(f"{BUILDS}/{launch(client)['buildRid']}").status_code == 200


def test_admin_cors_preflight_is_not_approved(web_page: httpx.Client) -> None:
    answer = web_page.options(
        "/reset",
        headers={
            "Origin": "https://example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-foundry-emulator-admin",
        },
    )

    assert answer.status_code >= 400
    assert "access-control-allow-origin" not in answer.headers


def test_admin_adds_a_model_and_a_version_with_metrics_and_reads_them_back(
    client: httpx.Client, admin: httpx.Client
) -> None:
    model = admin.post("/models", json={}).json()["rid"]
    version = admin.post(f"/models/{model}/versions", json={"metrics": {"val_auc": 0.8}, "branch": "prod"}).json()

    assert admin.get(f"/models/{model}/versions", params={"branch": "prod"}).json() == [version]
    assert [e["rid"] for e in admin.get(f"/models/{model}/experiments").json()] == [version["linkedExperiment"]]
    assert client.get(f"{MODELS}/{model}/versions/{version['rid']}", params=PREVIEW).json() == version


def test_admin_adds_an_experiment_linked_to_a_version(admin: httpx.Client) -> None:
    body = {"metrics": {"f1": 0.6}, "linked_model_version": DEMO_CHAMPION_VERSION}

    experiment = admin.post(f"/models/{DEMO_PROD_MODEL}/experiments", json=body).json()

    assert experiment["linkedModelVersion"] == DEMO_CHAMPION_VERSION
    assert admin.get(f"/models/{DEMO_PROD_MODEL}/experiments").json() == [experiment]


def test_admin_adds_a_live_deployment_and_lists_it(admin: httpx.Client) -> None:
    rid = "ri.foundry-ml-live.main.live-deployment.admin"

    added = admin.post("/liveDeployments", json={"rid": rid, "model": DEMO_PROD_MODEL, "ready_seconds": 1}).json()

    assert added["modelVersion"]["modelVersionRid"] == DEMO_CHAMPION_VERSION
    assert set(admin.get("/liveDeployments").json()) == {DEMO_DEPLOYMENT, rid}


def test_admin_forces_a_live_deployment_status(client: httpx.Client, admin: httpx.Client) -> None:
    answer = admin.post(f"/liveDeployments/{DEMO_DEPLOYMENT}/status", json={"state": "DISABLED", "is_ready": False})

    assert answer.status_code == 204
    assert live_deployment(client, DEMO_DEPLOYMENT)["status"] == {"state": "DISABLED", "isReady": False}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/models/ri.models.main.model.missing/versions", {}),
        ("GET", "/models/ri.models.main.model.missing/experiments", None),
        (
            "POST",
            "/liveDeployments/ri.foundry-ml-live.main.live-deployment.missing/status",
            {"state": "ACTIVE", "is_ready": True},
        ),
    ],
    ids=["version of an unknown model", "experiments of an unknown model", "status of an unknown deployment"],
)
def test_admin_answers_404_for_something_unknown(
    admin: httpx.Client, method: str, path: str, body: dict[str, object] | None
) -> None:
    assert admin.request(method, path, json=body).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (f"/models/{DEMO_PROD_MODEL}/versions", {"metrics": {"f1": "good"}}, "object of numbers"),
        (f"/models/{DEMO_PROD_MODEL}/experiments", {"metrics": [0.5]}, "object of numbers"),
        ("/liveDeployments", {"model": DEMO_PROD_MODEL, "branch": "nightly"}, "no version on branch"),
        (
            f"/liveDeployments/{DEMO_DEPLOYMENT}/status",
            {"state": "SLEEPING", "is_ready": False},
            "state must be one of",
        ),
        ("/models", {"rid": "not-a-rid"}, "not a well-formed RID"),
    ],
)
def test_admin_refuses_bad_input_with_400_saying_why(
    admin: httpx.Client, path: str, body: dict[str, object], message: str
) -> None:
    answer = admin.post(path, json=body)

    assert answer.status_code == 400
    assert message in answer.json()["error"]
