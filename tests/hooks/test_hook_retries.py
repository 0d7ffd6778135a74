"""Retries over HTTP: what is repeated, what is not, and how long the client waits (recorded, not slept)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import DEMO, FAST_RETRY, MISSING_STUDIO, requests_of, settings_from

Connect = Callable[..., ModelStudioHook]


class RecordingSleep:
    """Stands in for ``time.sleep``: records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


def client_for(emu: FoundryEmulator, sleep: RecordingSleep, auth: str = "token", **extra: Any) -> FoundryClient:
    conn = emu.connection(auth)
    if extra:
        conn["extra"] = {**conn.get("extra", {}), **extra}
    return FoundryClient(settings_from(conn), retry=RetryPolicy(**FAST_RETRY), sleep=sleep)


@pytest.fixture
def build_rid(emulator: FoundryEmulator) -> str:
    (run,) = emulator.create_runs(DEMO, 1)
    return str(run["buildRid"])


def get_build(client: FoundryClient, build_rid: str) -> Any:
    return client.call("get_build", {"buildRid": build_rid})


# QoS answers -------------------------------------------------------------------------------------------


def test_429_with_retry_after_waits_as_asked_then_succeeds(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str, fail_first: Any
) -> None:
    fail_first(emulator, "get_build", "rate_429", retry_after_seconds=2)
    assert get_build(client_for(emulator, sleep), build_rid)["rid"] == build_rid
    assert sleep.waits == [2.0]
    assert requests_of(emulator.counters(), "get_build") == {"429": 1, "200": 1}


def test_429_without_retry_after_backs_off_within_bounds(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str, fail_first: Any
) -> None:
    fail_first(emulator, "get_build", "rate_429")
    get_build(client_for(emulator, sleep), build_rid)
    (wait,) = sleep.waits
    assert FAST_RETRY["backoff_initial"] / 2 <= wait <= FAST_RETRY["backoff_initial"]


def test_persistent_429_gives_up_after_max_attempts(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str
) -> None:
    emulator.set_faults("get_build", rate_429=1.0, retry_after_seconds=1)
    with pytest.raises(errors.FoundryRateLimited) as info:
        get_build(client_for(emulator, sleep), build_rid)
    assert info.value.retry_after == 1.0
    assert sleep.waits == [1.0, 1.0, 1.0]
    assert requests_of(emulator.counters(), "get_build") == {"429": 4}


def test_retry_after_beyond_the_time_budget_is_not_waited_for(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str
) -> None:
    emulator.set_faults("get_build", rate_503=1.0, retry_after_seconds=60)
    with pytest.raises(errors.FoundryUnavailable):
        get_build(client_for(emulator, sleep), build_rid)
    assert sleep.waits == []
    assert requests_of(emulator.counters(), "get_build") == {"503": 1}


def test_503_is_retried(emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str, fail_first: Any) -> None:
    fail_first(emulator, "get_build", "rate_503")
    get_build(client_for(emulator, sleep), build_rid)
    assert requests_of(emulator.counters(), "get_build") == {"503": 1, "200": 1}


def test_503_with_do_not_retry_is_not_retried(emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str) -> None:
    emulator.set_faults("get_build", rate_503=1.0, do_not_retry_hint=True)
    with pytest.raises(errors.FoundryUnavailable) as info:
        get_build(client_for(emulator, sleep), build_rid)
    assert info.value.status_code == 503
    assert sleep.waits == []
    assert requests_of(emulator.counters(), "get_build") == {"503": 1}


def test_429_with_do_not_retry_is_not_retried(emulator: FoundryEmulator, sleep: RecordingSleep) -> None:
    emulator.set_faults("get_model_studio", rate_429=1.0, do_not_retry_hint=True)
    with pytest.raises(errors.FoundryRateLimited):
        client_for(emulator, sleep).call("get_model_studio", {"modelStudioRid": DEMO})
    assert requests_of(emulator.counters(), "get_model_studio") == {"429": 1}


@pytest.mark.usefixtures("launch_clock")  # the settling window and surplus watch after the 429, on a fake clock
def test_qos_answers_are_retried_on_launch_without_duplicates(
    emulator: FoundryEmulator, connect: Connect, fail_first: Any
) -> None:
    fail_first(emulator, "launch_model_studio", "rate_429")
    connect(emulator).launch_model_studio(DEMO)
    counters = emulator.counters()
    assert requests_of(counters, "launch_model_studio") == {"429": 1, "200": 1}
    assert counters["launches"] == {DEMO: 1}
    assert len(emulator.runs(DEMO)) == 1


# Server errors and lost answers on safe requests ---------------------------------------------------------


@pytest.mark.parametrize("status", ["500", "502", "504"])
def test_server_errors_are_retried_for_gets(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str, fail_first: Any, status: str
) -> None:
    fail_first(emulator, "get_build", f"rate_{status}")
    assert get_build(client_for(emulator, sleep), build_rid)["rid"] == build_rid
    assert requests_of(emulator.counters(), "get_build") == {status: 1, "200": 1}
    assert len(sleep.waits) == 1


@pytest.mark.parametrize("status", ["500", "502", "504"])
def test_server_errors_are_retried_for_get_batch(
    emulator: FoundryEmulator, connect: Connect, build_rid: str, fail_first: Any, status: str
) -> None:
    fail_first(emulator, "get_builds_batch", f"rate_{status}")
    assert list(connect(emulator).get_builds([build_rid])) == [build_rid]
    assert requests_of(emulator.counters(), "get_builds_batch") == {status: 1, "200": 1}


def test_cancel_is_retried_after_a_server_error(
    emulator: FoundryEmulator, connect: Connect, build_rid: str, fail_first: Any
) -> None:
    fail_first(emulator, "cancel_build", "rate_502")
    connect(emulator).cancel_build(build_rid)
    assert requests_of(emulator.counters(), "cancel_build") == {"502": 1, "204": 1}


def test_persistent_server_errors_give_up_with_the_last_error(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str
) -> None:
    emulator.set_faults("get_build", rate_500=1.0)
    with pytest.raises(errors.FoundryServerError) as info:
        get_build(client_for(emulator, sleep), build_rid)
    assert info.value.error_name == "Default:Internal"
    assert info.value.error_instance_id
    assert "errorInstanceId" in str(info.value)
    assert len(sleep.waits) == 3
    assert requests_of(emulator.counters(), "get_build") == {"500": 4}


def test_proxy_html_page_gives_a_readable_error_after_retries(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str
) -> None:
    emulator.set_faults("get_build", rate_html=1.0)
    with pytest.raises(errors.FoundryServerError) as info:
        get_build(client_for(emulator, sleep), build_rid)
    message = str(info.value)
    assert "-> 502" in message
    assert "HTML page" in message
    assert "502 Bad Gateway" in message
    assert "<html>" in message  # a short quote of the page, not the whole of it
    assert len(message) < 800


def test_proxy_html_page_is_retried(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str, fail_first: Any
) -> None:
    fail_first(emulator, "get_build", "rate_html")
    assert get_build(client_for(emulator, sleep), build_rid)["rid"] == build_rid


def test_dropped_connection_is_retried_for_gets(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str, fail_first: Any
) -> None:
    fail_first(emulator, "get_build", "rate_drop")
    assert get_build(client_for(emulator, sleep), build_rid)["rid"] == build_rid
    assert requests_of(emulator.counters(), "get_build") == {"dropped": 1, "200": 1}


def test_dropped_connections_give_up_with_a_transport_error(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str
) -> None:
    emulator.set_faults("get_build", rate_drop=1.0)
    with pytest.raises(errors.FoundryTransportError) as info:
        get_build(client_for(emulator, sleep), build_rid)
    assert info.value.may_have_reached_server
    assert "4 attempt(s)" in str(info.value)
    assert "connection lost" in str(info.value)
    assert requests_of(emulator.counters(), "get_build") == {"dropped": 4}


def test_truncated_json_is_retried_for_gets(
    emulator: FoundryEmulator, sleep: RecordingSleep, build_rid: str, fail_first: Any
) -> None:
    fail_first(emulator, "get_build", "rate_truncated_json")
    assert get_build(client_for(emulator, sleep), build_rid)["rid"] == build_rid
    assert emulator.counters()["faults_injected"]["get_build"] == {"truncated_json": 1}


def test_read_timeout_is_retried_for_gets(
    foundry_emulator: FoundryEmulator, sleep: RecordingSleep, fail_first: Any
) -> None:
    # A private emulator: its shutdown ends the request left hanging.
    fail_first(foundry_emulator, "get_model_studio", "rate_hang", hang_seconds=30)
    client = client_for(foundry_emulator, sleep, timeout=0.5)
    assert client.call("get_model_studio", {"modelStudioRid": DEMO})["rid"] == DEMO
    assert foundry_emulator.counters()["faults_injected"]["get_model_studio"] == {"hang": 1}
    assert len(sleep.waits) == 1


def test_read_timeouts_give_up_saying_to_raise_the_timeout(
    foundry_emulator: FoundryEmulator, sleep: RecordingSleep
) -> None:
    foundry_emulator.set_faults("get_model_studio", rate_hang=1.0, hang_seconds=30)
    client = FoundryClient(
        settings_from({**foundry_emulator.connection(), "extra": {"timeout": 0.3}}),
        retry=RetryPolicy(max_attempts=2, backoff_initial=0.01, backoff_max=0.01, max_elapsed=5),
        sleep=sleep,
    )
    with pytest.raises(errors.FoundryTransportError) as info:
        client.call("get_model_studio", {"modelStudioRid": DEMO})
    assert "no answer within the read timeout" in str(info.value)
    assert "raise the connection's timeout" in str(info.value)
    assert "2 attempt(s)" in str(info.value)


def test_hook_honours_the_connection_timeout(
    foundry_emulator: FoundryEmulator, connect: Connect, fail_first: Any
) -> None:
    fail_first(foundry_emulator, "get_model_studio", "rate_hang", hang_seconds=30)
    hook = connect(foundry_emulator, timeout=0.5)
    assert hook.get_model_studio(DEMO).rid == DEMO
    assert hook.settings.timeout == 0.5


def test_connection_refused_is_retried_then_reported(sleep: RecordingSleep) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = FoundryClient(
        settings_from({"conn_type": "foundry", "host": f"http://127.0.0.1:{port}", "password": "some-token-1"}),
        retry=RetryPolicy(**FAST_RETRY),
        sleep=sleep,
    )
    with pytest.raises(errors.FoundryTransportError) as info:
        client.call("launch_model_studio", {"modelStudioRid": DEMO})
    assert not info.value.may_have_reached_server
    assert "could not connect" in str(info.value)
    assert len(sleep.waits) == 3


# Never retried -----------------------------------------------------------------------------------------


def test_400_is_not_retried(emulator: FoundryEmulator, sleep: RecordingSleep) -> None:
    with pytest.raises(errors.FoundryBadRequest) as info:
        client_for(emulator, sleep).call("list_model_studio_runs", {"modelStudioRid": DEMO}, {"pageSize": 5000})
    assert info.value.error_name == "InvalidPageSize"
    assert info.value.parameter("pageSize") == 5000
    assert sleep.waits == []
    assert requests_of(emulator.counters(), "list_model_studio_runs") == {"400": 1}


def test_403_is_not_retried(emulator: FoundryEmulator, connect: Connect) -> None:
    emulator.set_scenario({"static_tokens": {"models-only-token": ["api:models-read"]}})
    (run,) = emulator.create_runs(DEMO, 1)
    with pytest.raises(errors.MissingScope):
        connect(emulator).get_build(run["buildRid"])
    assert requests_of(emulator.counters(), "get_build") == {"403": 1}


def test_404_is_not_retried(emulator: FoundryEmulator, connect: Connect) -> None:
    with pytest.raises(errors.ModelStudioNotFound):
        connect(emulator).get_latest_config_version(MISSING_STUDIO)
    assert requests_of(emulator.counters(), "get_latest_config_version") == {"404": 1}


def test_missing_preview_flag_is_reported_as_preview_required(
    emulator: FoundryEmulator, sleep: RecordingSleep, mocker: Any
) -> None:
    # As if a proxy dropped the query string.
    from airflow_provider_modelstudio.foundry import sync_client
    from airflow_provider_modelstudio.foundry.protocol import prepare

    def without_preview(*args: Any, **kwargs: Any) -> Any:
        call = prepare(*args, **kwargs)
        return type(call)(call.endpoint, call.path, {}, call.json_body, call.form_body)

    mocker.patch.object(sync_client, "prepare", side_effect=without_preview)
    with pytest.raises(errors.PreviewRequired, match="preview=true"):
        client_for(emulator, sleep).call("get_model_studio", {"modelStudioRid": DEMO})
    assert requests_of(emulator.counters(), "get_model_studio") == {"400": 1}


def test_requests_carry_the_bounded_timeouts(stub_foundry: Any, mocker: Any) -> None:
    stub_foundry.on("GET", f"/api/v2/models/modelStudios/{DEMO}", (200, {"rid": DEMO}, {}))
    settings = settings_from(
        {"conn_type": "foundry", "host": stub_foundry.url, "password": "some-token-1", "extra": {"timeout": 45}}
    )
    client = FoundryClient(settings, retry=RetryPolicy(**FAST_RETRY))
    spy = mocker.spy(client._session, "request")
    client.call("get_model_studio", {"modelStudioRid": DEMO})
    assert spy.call_args.kwargs["timeout"] == (10.0, 45.0)


def test_getbatch_body_is_the_documented_shape(stub_foundry: Any, set_connection: Callable[..., str]) -> None:
    rids = [f"ri.foundry.main.build.{i}" for i in range(3)]
    stub_foundry.on("POST", "/api/v2/orchestration/builds/getBatch", (200, {"data": {}}, {}))
    set_connection(host=stub_foundry.url, password="some-token-1")
    assert ModelStudioHook(retry=FAST_RETRY).get_builds(rids) == {}
    (seen,) = stub_foundry.seen
    assert seen.headers["Content-Type"] == "application/json"
    assert json.loads(seen.body) == [{"buildRid": rid} for rid in rids]
    assert seen.query == {}
