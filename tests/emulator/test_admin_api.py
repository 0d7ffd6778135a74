"""The admin HTTP API under /_emulator/: the handle's controls for other processes, uncounted and
unauthenticated, but out of reach of a web page (a custom header and JSON bodies are required)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from airflow_provider_modelstudio.emulator import ADMIN_HEADERS, DEMO_STUDIO, FoundryEmulator
from tests.emulator.helpers import BUILDS, PREVIEW, STUDIOS, launch


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
