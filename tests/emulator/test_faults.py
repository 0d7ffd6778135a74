"""Injected faults: each happens at its configured rate, repeatably, and looks like the real failure."""

from __future__ import annotations

import time
from collections import Counter

import httpx
import pytest
import requests

from airflow_provider_modelstudio.emulator import (
    ADMIN_HEADERS,
    DEMO_CHAMPION_SOURCE_VERSION,
    DEMO_CHAMPION_VERSION,
    DEMO_DEPLOYMENT,
    DEMO_PROD_MODEL,
    DEMO_STUDIO,
    STATIC_TOKEN,
    FoundryEmulator,
    ScenarioError,
)
from tests.conftest import StartEmulator
from tests.emulator.helpers import BUILDS, LIVE, MODELS, PREVIEW, STUDIOS, api_client

STUDIO_PATH = f"{STUDIOS}/{DEMO_STUDIO}"


def statuses(client: httpx.Client, count: int, path: str = STUDIO_PATH) -> list[int]:
    return [client.get(path, params=PREVIEW).status_code for _ in range(count)]


@pytest.mark.parametrize(
    ("setting", "status"),
    [("rate_429", 429), ("rate_503", 503), ("rate_500", 500), ("rate_502", 502), ("rate_504", 504), ("rate_html", 502)],
)
def test_fault_happens_at_its_configured_rate(
    emu: FoundryEmulator, client: httpx.Client, setting: str, status: int
) -> None:
    emu.set_faults("get_model_studio", **{setting: 0.3})

    seen = Counter(statuses(client, 200))

    assert 40 <= seen[status] <= 80
    assert seen[status] + seen[200] == 200
    assert emu.counters()["faults_injected"] == {"get_model_studio": {setting.removeprefix("rate_"): seen[status]}}


def test_dropped_connections_happen_at_their_configured_rate(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("get_model_studio", rate_drop=0.3)
    dropped = 0
    for _ in range(200):
        try:
            client.get(STUDIO_PATH, params=PREVIEW)
        except httpx.RemoteProtocolError:
            dropped += 1

    assert 40 <= dropped <= 80
    assert emu.counters()["requests"]["get_model_studio"] == {"200": 200 - dropped, "dropped": dropped}


def test_fault_at_rate_1_always_happens(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("get_model_studio", rate_500=1.0)

    answers = [client.get(STUDIO_PATH, params=PREVIEW) for _ in range(20)]

    assert {(answer.status_code, answer.json()["errorCode"]) for answer in answers} == {(500, "INTERNAL")}


def test_same_seed_gives_the_same_fault_sequence(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("get_model_studio", rate_503=0.2, rate_429=0.2)
    first = statuses(client, 50)
    emu.reset()
    emu.set_faults("get_model_studio", rate_503=0.2, rate_429=0.2)

    assert statuses(client, 50) == first


def test_wildcard_faults_apply_to_endpoints_without_their_own(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("*", rate_502=1.0)
    emu.set_faults("get_build", rate_504=1.0)

    assert statuses(client, 1) == [502]
    assert statuses(client, 1, f"{BUILDS}/ri.foundry.main.build.x") == [504]


def test_faults_come_before_authentication(emu: FoundryEmulator) -> None:
    emu.set_faults("get_model_studio", rate_503=1.0)

    with api_client(emu, token=None) as anonymous:
        assert statuses(anonymous, 1) == [503]


def test_clear_faults_stops_every_fault(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("*", rate_500=1.0)

    emu.clear_faults()

    assert statuses(client, 3) == [200, 200, 200]


def test_dropped_connection_raises_remote_protocol_error_in_httpx(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("get_model_studio", rate_drop=1.0)

    with pytest.raises(httpx.RemoteProtocolError):
        client.get(STUDIO_PATH, params=PREVIEW)


def test_dropped_connection_raises_connection_error_in_requests(emu: FoundryEmulator) -> None:
    emu.set_faults("get_model_studio", rate_drop=1.0)

    with pytest.raises(requests.ConnectionError):
        requests.get(
            emu.url + STUDIO_PATH, params=PREVIEW, headers={"Authorization": f"Bearer {STATIC_TOKEN}"}, timeout=5
        )


def test_dropped_request_is_counted_as_dropped(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("get_model_studio", rate_drop=1.0)

    with pytest.raises(httpx.RemoteProtocolError):
        client.get(STUDIO_PATH, params=PREVIEW)

    counters = emu.counters()
    assert counters["requests"]["get_model_studio"] == {"dropped": 1}
    assert counters["faults_injected"]["get_model_studio"] == {"drop": 1}


def test_launch_answer_dropped_after_create_still_creates_the_run(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("launch_model_studio", drop_after_create=1.0)

    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"{STUDIO_PATH}/launch", params=PREVIEW)

    assert len(emu.runs(DEMO_STUDIO)) == 1
    assert emu.counters()["launches"] == {DEMO_STUDIO: 1}


def test_promote_answer_dropped_after_create_still_promotes_once(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("promote_model_version", drop_after_create=1.0)

    with pytest.raises(httpx.RemoteProtocolError):
        client.post(
            f"{MODELS}/{DEMO_PROD_MODEL}/promoteVersion",
            params=PREVIEW,
            json={"sourceModelVersionRid": DEMO_CHAMPION_SOURCE_VERSION},
        )

    [promoted, champion] = emu.model_versions(DEMO_PROD_MODEL)
    assert promoted["source"]["previousModelVersionRid"] == DEMO_CHAMPION_SOURCE_VERSION
    assert champion["rid"] == DEMO_CHAMPION_VERSION
    assert emu.counters()["promotions"] == {DEMO_PROD_MODEL: 1}


DEPLOY_FAULTS = [
    ("get_live_deployment", f"GET {LIVE}/{DEMO_DEPLOYMENT}", "rate_503", 503),
    ("transform_json", f"POST {LIVE}/{DEMO_DEPLOYMENT}/transformJson", "rate_500", 500),
    ("list_model_versions", f"GET {MODELS}/{DEMO_PROD_MODEL}/versions", "rate_429", 429),
    ("promote_model_version", f"POST {MODELS}/{DEMO_PROD_MODEL}/promoteVersion", "rate_502", 502),
]


@pytest.mark.parametrize("case", DEPLOY_FAULTS, ids=[case[0] for case in DEPLOY_FAULTS])
def test_faults_apply_to_the_deploy_half_endpoints(
    emu: FoundryEmulator, client: httpx.Client, case: tuple[str, str, str, int]
) -> None:
    endpoint, request, setting, status = case
    method, path = request.split(" ")
    emu.set_faults(endpoint, **{setting: 1.0})

    answer = client.request(method, path, params=PREVIEW, json={"input": {}})

    assert answer.status_code == status
    assert emu.counters()["faults_injected"] == {endpoint: {setting.removeprefix("rate_"): 1}}


def test_a_fault_answered_instead_of_a_promote_promotes_nothing(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("promote_model_version", rate_503=1.0)

    client.post(
        f"{MODELS}/{DEMO_PROD_MODEL}/promoteVersion",
        params=PREVIEW,
        json={"sourceModelVersionRid": DEMO_CHAMPION_SOURCE_VERSION},
    )

    assert [version["rid"] for version in emu.model_versions(DEMO_PROD_MODEL)] == [DEMO_CHAMPION_VERSION]


def test_a_truncated_experiment_search_answer_is_cut_json(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("search_experiments", rate_truncated_json=1.0)

    answer = client.post(f"{MODELS}/{DEMO_PROD_MODEL}/experiments/search", params=PREVIEW, json={})

    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()


def test_drop_after_create_is_refused_outside_the_creating_endpoints(emu: FoundryEmulator) -> None:
    with pytest.raises(
        ScenarioError,
        match=(
            "drop_after_create applies to create_config_version and launch_model_studio and promote_model_version only"
        ),
    ):
        emu.set_faults("get_build", drop_after_create=0.5)


def test_hang_outlasts_a_short_client_timeout(start_emulator: StartEmulator) -> None:
    emulator = start_emulator()
    emulator.set_faults("get_model_studio", rate_hang=1.0, hang_seconds=5)

    with api_client(emulator, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get(STUDIO_PATH, params=PREVIEW)


def test_stopping_the_emulator_ends_pending_hangs_at_once(start_emulator: StartEmulator) -> None:
    emulator = start_emulator()
    emulator.set_faults("get_model_studio", rate_hang=1.0, hang_seconds=30)
    with api_client(emulator, timeout=0.2) as impatient, pytest.raises(httpx.ReadTimeout):
        impatient.get(STUDIO_PATH, params=PREVIEW)

    started = time.monotonic()
    emulator.stop()

    assert time.monotonic() - started < 2


def test_latency_delays_every_answer(start_emulator: StartEmulator) -> None:
    emulator = start_emulator()
    emulator.set_faults("get_model_studio", latency_seconds=0.3)

    with api_client(emulator) as client:
        started = time.monotonic()
        answer = client.get(STUDIO_PATH, params=PREVIEW)

    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.3
    assert emulator.counters()["faults_injected"]["get_model_studio"] == {"latency": 1}


def test_html_fault_is_a_502_html_page_like_a_proxy(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("get_model_studio", rate_html=1.0)

    answer = client.get(STUDIO_PATH, params=PREVIEW)

    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("text/html")
    assert b"<html>" in answer.content


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_faults_have_an_empty_body(emu: FoundryEmulator, client: httpx.Client, status: int) -> None:
    emu.set_faults("get_model_studio", **{f"rate_{status}": 1.0})

    answer = client.get(STUDIO_PATH, params=PREVIEW)

    assert (answer.status_code, answer.content) == (status, b"")


def test_429_carries_retry_after_when_configured(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("get_model_studio", rate_429=1.0, retry_after_seconds=2)

    answer = client.get(STUDIO_PATH, params=PREVIEW)

    assert (answer.status_code, answer.headers.get("retry-after")) == (429, "2")


def test_429_has_no_retry_after_by_default(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("get_model_studio", rate_429=1.0)

    answer = client.get(STUDIO_PATH, params=PREVIEW)

    assert answer.status_code == 429
    assert "retry-after" not in answer.headers
    assert "qos-retry-hint" not in answer.headers


@pytest.mark.parametrize("status", [429, 503])
def test_qos_answer_carries_the_do_not_retry_hint_when_configured(
    emu: FoundryEmulator, client: httpx.Client, status: int
) -> None:
    emu.set_faults("get_model_studio", **{f"rate_{status}": 1.0}, do_not_retry_hint=True)

    answer = client.get(STUDIO_PATH, params=PREVIEW)

    assert (answer.status_code, answer.headers.get("qos-retry-hint")) == (status, "do-not-retry")


def test_truncated_json_is_a_200_with_half_the_body(emu: FoundryEmulator, client: httpx.Client) -> None:
    whole = client.get(STUDIO_PATH, params=PREVIEW).content
    emu.set_faults("get_model_studio", rate_truncated_json=1.0)

    answer = client.get(STUDIO_PATH, params=PREVIEW)

    assert answer.status_code == 200
    assert answer.content == whole[: len(whole) // 2]


def test_truncated_launch_answer_still_creates_the_run(emu: FoundryEmulator, client: httpx.Client) -> None:
    emu.set_faults("launch_model_studio", rate_truncated_json=1.0)

    answer = client.post(f"{STUDIO_PATH}/launch", params=PREVIEW)

    with pytest.raises(ValueError):
        answer.json()
    assert len(emu.runs(DEMO_STUDIO)) == 1


def test_faults_do_not_touch_the_admin_api(emu: FoundryEmulator) -> None:
    emu.set_faults("*", rate_500=1.0)

    assert httpx.get(emu.url + "/_emulator/counters", headers=ADMIN_HEADERS).status_code == 200


def test_faults_from_the_scenario_apply_from_the_start(start_emulator: StartEmulator) -> None:
    emulator = start_emulator(scenario={"faults": {"get_build": {"rate_503": 1.0}}})

    with api_client(emulator) as client:
        assert statuses(client, 1, f"{BUILDS}/ri.foundry.main.build.x") == [503]
