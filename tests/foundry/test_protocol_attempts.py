"""The transport-independent half of every call: request preparation and the decision after each attempt."""

from __future__ import annotations

import json
import platform
import random
from importlib.metadata import version

import pytest

from airflow_provider_modelstudio import __version__
from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.endpoints import BATCH_LIMIT, ENDPOINTS
from airflow_provider_modelstudio.foundry.protocol import (
    Attempts,
    Done,
    Reauthenticate,
    Wait,
    prepare,
    user_agent,
)
from airflow_provider_modelstudio.foundry.retry import RetryPolicy

STUDIO = "ri.models.main.model-studio.s1"
POLICY = RetryPolicy(max_attempts=3, backoff_initial=0.01, backoff_max=0.05, max_elapsed=5)


def attempts(name: str = "get_build", *, oauth: bool = True, policy: RetryPolicy = POLICY) -> Attempts:
    path_params = {p: "ri.foundry.main.build.b1" for p in ENDPOINTS[name].placeholders}
    a = Attempts(prepare(name, path_params), policy, conn_id="c1", can_renew_token=oauth, rng=random.Random(0))
    a.begin()
    return a


# prepare -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n, e in ENDPOINTS.items() if e.preview])
def test_preview_endpoints_always_send_preview_true(name: str) -> None:
    params = {p: "x" for p in ENDPOINTS[name].placeholders}
    assert prepare(name, params).params["preview"] == "true"


@pytest.mark.parametrize("name", ["get_build", "get_builds_batch", "cancel_build", "oauth2_token"])
def test_non_preview_endpoints_send_no_preview_flag(name: str) -> None:
    params = {p: "x" for p in ENDPOINTS[name].placeholders}
    assert "preview" not in prepare(name, params).params


def test_models_endpoints_are_all_in_preview() -> None:
    assert all(e.preview for e in ENDPOINTS.values() if e.path.startswith("/v2/models"))


def test_path_parameters_are_percent_encoded() -> None:
    call = prepare("get_model_studio", {"modelStudioRid": "ri.models.main.model-studio.a/b c?d"})
    assert call.path == "/api/v2/models/modelStudios/ri.models.main.model-studio.a%2Fb%20c%3Fd"


def test_missing_path_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="modelStudioRid"):
        prepare("launch_model_studio", {})


def test_none_query_values_are_left_out_and_others_stringified() -> None:
    call = prepare("list_model_studio_runs", {"modelStudioRid": STUDIO}, {"configVersion": 2, "pageToken": None})
    assert call.params == {"configVersion": "2", "preview": "true"}


def test_token_endpoint_is_under_multipass_and_unauthenticated() -> None:
    call = prepare("oauth2_token", form_body={"client_secret": "s3cr3t-value"})
    assert call.path == "/multipass/api/oauth2/token"
    assert not call.authenticated
    assert "s3cr3t-value" not in repr(call)
    assert str(call) == "POST /multipass/api/oauth2/token"


def test_api_endpoints_are_under_the_api_prefix() -> None:
    call = prepare("get_builds_batch")
    assert call.path == "/api/v2/orchestration/builds/getBatch"
    assert call.authenticated


@pytest.mark.parametrize(
    ("name", "scope"),
    [
        ("launch_model_studio", "api:models-write"),
        ("get_model_studio", "api:models-read"),
        ("list_model_studio_runs", "api:models-read"),
        ("get_model_version", "api:models-read"),
        ("get_build", "api:orchestration-read"),
        ("get_builds_batch", "api:orchestration-read"),
        ("cancel_build", "api:orchestration-write"),
    ],
)
def test_endpoints_declare_the_scope_they_need(name: str, scope: str) -> None:
    assert ENDPOINTS[name].scope == scope


def test_batch_limit_is_100() -> None:
    assert BATCH_LIMIT == 100


def test_user_agent_names_provider_airflow_and_python_versions() -> None:
    assert user_agent() == (
        f"airflow-provider-modelstudio/{__version__} airflow/{version('apache-airflow')} "
        f"python/{platform.python_version()}"
    )


# Attempts: answers -------------------------------------------------------------------------------------


def test_success_answer_returns_parsed_json() -> None:
    assert attempts().answered(200, {}, b'{"rid": "x"}') == Done({"rid": "x"}, 12)


def test_empty_success_answer_returns_none() -> None:
    assert attempts("cancel_build").answered(204, {}, b"") == Done(None)


def test_truncated_json_success_is_retried_on_get() -> None:
    assert isinstance(attempts().answered(200, {}, b'{"rid": "x", "sta'), Wait)


def test_truncated_json_launch_answer_is_a_transport_error_that_may_have_created_a_run() -> None:
    with pytest.raises(errors.FoundryTransportError) as info:
        attempts("launch_model_studio").answered(200, {}, b'{"runId": "r')
    assert info.value.may_have_reached_server
    assert "not complete JSON" in str(info.value)


def test_first_401_with_oauth2_asks_for_a_new_token() -> None:
    assert attempts(oauth=True).answered(401, {}, b"") == Reauthenticate()


def test_second_401_with_oauth2_is_an_auth_error_saying_the_credentials_are_wrong() -> None:
    a = attempts(oauth=True)
    a.answered(401, {}, b"")
    a.begin()
    with pytest.raises(errors.FoundryUnauthorized) as info:
        a.answered(401, {}, b"")
    assert isinstance(info.value, errors.FoundryAuthError)
    assert "refused twice" in str(info.value)
    assert "client id and secret" in str(info.value)


def test_a_401_after_a_fresh_token_went_unanswered_asks_for_a_new_token_again() -> None:
    a = attempts(oauth=True, policy=RetryPolicy(max_attempts=5, backoff_initial=0.01, backoff_max=0.01, max_elapsed=60))
    assert a.answered(401, {}, b"") == Reauthenticate()
    a.begin()
    assert isinstance(a.answered(503, {}, b""), Wait)
    a.begin()
    assert a.answered(401, {}, b"") == Reauthenticate()
    a.begin()
    with pytest.raises(errors.FoundryUnauthorized, match="refused twice"):
        a.answered(401, {}, b"")


def test_401_with_static_token_says_the_token_is_wrong() -> None:
    with pytest.raises(errors.FoundryAuthError) as info:
        attempts(oauth=False).answered(401, {}, b"")
    assert "static token of connection 'c1'" in str(info.value)
    assert "paste a new one" in str(info.value)
    assert "refused twice" not in str(info.value)


@pytest.mark.parametrize("status", [400, 401, 403])
def test_token_endpoint_refusal_is_an_auth_error_naming_client_credentials(status: int) -> None:
    a = Attempts(prepare("oauth2_token", form_body={}), POLICY, conn_id="c1", can_renew_token=True)
    a.begin()
    with pytest.raises(errors.FoundryAuthError) as info:
        a.answered(status, {}, b'{"error": "invalid_client"}')
    assert "OAuth2 client credentials of connection 'c1'" in str(info.value)
    assert "Client Secret" in str(info.value)
    assert "invalid_client" in str(info.value)
    assert "refused twice" not in str(info.value)


def test_429_waits_at_least_retry_after() -> None:
    assert attempts().answered(429, {"Retry-After": "2"}, b"") == Wait(2.0)


def test_503_with_do_not_retry_hint_raises_at_once() -> None:
    with pytest.raises(errors.FoundryUnavailable):
        attempts().answered(503, {"QoS-Retry-Hint": "do-not-retry"}, b"")


def test_do_not_retry_hint_is_read_case_insensitively() -> None:
    with pytest.raises(errors.FoundryRateLimited):
        attempts().answered(429, {"QoS-Retry-Hint": " Do-Not-Retry "}, b"")


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_wait_on_get(status: int) -> None:
    step = attempts().answered(status, {}, b"")
    assert isinstance(step, Wait)
    assert 0 < step.seconds <= POLICY.backoff_max


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_on_launch_raise_at_once(status: int) -> None:
    with pytest.raises(errors.FoundryServerError):
        attempts("launch_model_studio").answered(status, {}, b"")


@pytest.mark.parametrize("name", ["launch_model_studio", "promote_model_version"])
@pytest.mark.parametrize(("status", "error_name"), [(503, "Default:Unavailable"), (429, "Default:TooManyRequests")])
def test_foundrys_own_qos_envelope_to_a_write_is_raised_for_reconciliation_not_replayed(
    name: str, status: int, error_name: str
) -> None:
    envelope = {"errorCode": "CUSTOM_SERVER", "errorName": error_name, "errorInstanceId": "i-1", "parameters": {}}
    with pytest.raises(errors.FoundryApiError) as info:
        attempts(name).answered(status, {"Content-Type": "application/json"}, json.dumps(envelope).encode())
    assert (info.value.status_code, info.value.from_foundry) == (status, True)


def test_retries_stop_at_max_attempts_with_the_last_error() -> None:
    a = attempts()
    assert isinstance(a.answered(503, {}, b""), Wait)
    a.begin()
    assert isinstance(a.answered(503, {}, b""), Wait)
    a.begin()
    with pytest.raises(errors.FoundryUnavailable) as info:
        a.answered(503, {}, b"")
    assert info.value.status_code == 503


def test_rate_limit_exhausted_says_to_lower_concurrency() -> None:
    a = attempts(policy=RetryPolicy(max_attempts=1))
    with pytest.raises(errors.FoundryRateLimited, match="Lower the number of concurrent"):
        a.answered(429, {"Retry-After": "1"}, b"")


@pytest.mark.parametrize("status", [400, 403, 404, 409])
def test_client_errors_raise_at_once(status: int) -> None:
    with pytest.raises(errors.FoundryApiError) as info:
        attempts().answered(status, {}, json.dumps({"errorCode": "X", "errorName": "Y"}).encode())
    assert info.value.status_code == status


def test_error_carries_content_type_and_retry_after() -> None:
    a = attempts(policy=RetryPolicy(max_attempts=1))
    with pytest.raises(errors.FoundryServerError) as info:
        a.answered(502, {"Content-Type": "text/html", "Retry-After": "3"}, b"<html>bad gateway</html>")
    assert "HTML page" in str(info.value)
    assert info.value.retry_after == 3.0


# Attempts: failures without an answer ------------------------------------------------------------------


def test_connect_failure_waits_even_on_launch() -> None:
    assert isinstance(attempts("launch_model_studio").failed("not_sent", "refused"), Wait)


def test_lost_answer_on_launch_raises_saying_it_may_have_reached_foundry() -> None:
    with pytest.raises(errors.FoundryTransportError) as info:
        attempts("launch_model_studio").failed("no_answer", "read timeout")
    assert info.value.may_have_reached_server
    assert "may have reached Foundry" in str(info.value)
    assert info.value.method == "POST"


def test_lost_answer_on_get_waits() -> None:
    assert isinstance(attempts().failed("no_answer", "dropped"), Wait)


def test_exhausted_connect_failures_say_the_request_never_arrived() -> None:
    a = attempts(policy=RetryPolicy(max_attempts=1))
    with pytest.raises(errors.FoundryTransportError) as info:
        a.failed("not_sent", "could not connect")
    assert not info.value.may_have_reached_server
    message = str(info.value)
    assert "'c1'" in message
    assert "1 attempt(s)" in message
    assert "could not connect" in message
    assert "timeout" in message
