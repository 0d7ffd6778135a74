"""Every public ``ModelStudioHook`` method over HTTP, against the Foundry emulator (static token)."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.shapes import VersionSource
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import DEMO, DEMO_DENIED, DEMO_FAILS, FAST_RETRY, MISSING_STUDIO, requests_of

Connect = Callable[..., ModelStudioHook]


# launch_model_studio -----------------------------------------------------------------------------------


def test_launch_returns_the_new_run(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    run = hook.launch_model_studio(DEMO)
    (served,) = emulator.runs(DEMO)
    assert run["run_id"] == served["runId"]
    assert run["build_rid"].startswith("ri.foundry-build.main.build.")
    assert run["build_status"] == "RUNNING"
    assert run["config_version"] == 1
    assert set(run["resolved_outputs"]) == {"model"}


def test_launch_sends_one_launch_request(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    hook.launch_model_studio(DEMO)
    counters = emulator.counters()
    assert counters["launches"] == {DEMO: 1}
    assert requests_of(counters, "launch_model_studio") == {"200": 1}


def test_launch_notes_existing_runs_first(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    emulator.create_runs(DEMO, 3)
    run = hook.launch_model_studio(DEMO)
    assert requests_of(emulator.counters(), "list_model_studio_runs") == {"200": 1}
    assert run["run_id"] == emulator.runs(DEMO)[0]["runId"]


def test_launch_of_a_studio_whose_runs_fail_still_returns_the_run(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    assert hook.launch_model_studio(DEMO_FAILS)["build_status"] == "RUNNING"


def test_launch_denied_raises_the_named_error_without_retrying(
    emulator: FoundryEmulator, hook: ModelStudioHook
) -> None:
    with pytest.raises(errors.LaunchModelStudioPermissionDenied) as info:
        hook.launch_model_studio(DEMO_DENIED)
    assert info.value.parameter("studioRid", "modelStudioRid") == DEMO_DENIED
    assert info.value.error_instance_id
    assert "may not launch" in str(info.value)
    assert requests_of(emulator.counters(), "launch_model_studio") == {"403": 1}
    assert emulator.runs(DEMO_DENIED) == []


def test_launch_of_unknown_studio_raises_studio_not_found(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    with pytest.raises(errors.ModelStudioNotFound) as info:
        hook.launch_model_studio(MISSING_STUDIO)
    assert MISSING_STUDIO in str(info.value)
    assert "errorInstanceId" in str(info.value)
    counters = emulator.counters()
    assert requests_of(counters, "list_model_studio_runs") == {"404": 1}
    assert "launch_model_studio" not in counters["requests"]


def test_launch_without_the_write_scope_names_the_missing_scope(emulator: FoundryEmulator, connect: Connect) -> None:
    emulator.set_scenario({"static_tokens": {"read-only-token-1": ["api:models-read"]}})
    hook = connect(emulator)
    with pytest.raises(errors.MissingScope) as info:
        hook.launch_model_studio(DEMO)
    assert info.value.parameter("missingScope") == "api:models-write"
    assert "missingScope=api:models-write" in str(info.value)
    assert emulator.runs(DEMO) == []


def test_a_static_token_without_a_scope_is_told_to_use_a_token_that_carries_it(
    emulator: FoundryEmulator, connect: Connect
) -> None:
    emulator.set_scenario({"static_tokens": {"read-only-token-1": ["api:models-read"]}})
    with pytest.raises(errors.MissingScope) as info:
        connect(emulator).launch_model_studio(DEMO)
    assert str(info.value).endswith(
        "missingScope=api:models-write): The connection's static token lacks the scope named in missingScope; use a "
        "token that carries it."
    )


def test_an_oauth2_connection_without_a_scope_is_told_to_ask_for_it_and_grant_it(
    emulator: FoundryEmulator, connect: Connect
) -> None:
    with pytest.raises(errors.MissingScope) as info:
        connect(emulator, auth="oauth2", scopes="api:models-read").launch_model_studio(DEMO)
    assert str(info.value).endswith(
        "missingScope=api:models-write): The token lacks the OAuth2 scope named in missingScope. Add it to the "
        "connection's scopes and grant it to the third-party application in Foundry's Developer Console."
    )


# get_model_studio / config versions --------------------------------------------------------------------


def test_get_model_studio(hook: ModelStudioHook) -> None:
    studio = hook.get_model_studio(DEMO)
    assert studio.rid == DEMO
    assert studio.folder_rid is not None
    assert studio.created_time is not None


def test_get_unknown_model_studio_is_not_retried(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    with pytest.raises(errors.ModelStudioNotFound):
        hook.get_model_studio(MISSING_STUDIO)
    assert requests_of(emulator.counters(), "get_model_studio") == {"404": 1}


def test_get_latest_config_version(hook: ModelStudioHook) -> None:
    config = hook.get_latest_config_version(DEMO)
    assert config is not None
    assert config.version == 1
    assert config.datasets


# list_model_studio_runs --------------------------------------------------------------------------------


def test_list_runs_of_a_studio_without_runs_is_empty(hook: ModelStudioHook) -> None:
    assert hook.list_model_studio_runs(DEMO) == []


def test_list_runs_reads_every_page(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    created = emulator.create_runs(DEMO, 250)
    runs = hook.list_model_studio_runs(DEMO)
    assert len(runs) == 250
    assert {r["run_id"] for r in runs} == {r["runId"] for r in created}
    assert requests_of(emulator.counters(), "list_model_studio_runs") == {"200": 3}


def test_list_runs_by_config_version(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    emulator.create_runs(DEMO, 2)
    assert len(hook.list_model_studio_runs(DEMO, config_version=1)) == 2


def test_list_runs_of_an_unknown_config_version_raises(hook: ModelStudioHook) -> None:
    with pytest.raises(errors.ModelStudioConfigVersionNotFound):
        hook.list_model_studio_runs(DEMO, config_version=7)


# Builds ------------------------------------------------------------------------------------------------


def test_get_build_of_a_launched_run(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    run = hook.launch_model_studio(DEMO)
    build = hook.get_build(run["build_rid"])
    assert build.rid == run["build_rid"]
    assert build.status == "RUNNING"


def test_get_build_sees_the_final_status(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    run = hook.launch_model_studio(DEMO)
    emulator.advance(6)
    assert hook.get_build(run["build_rid"]).status == "SUCCEEDED"


def test_get_unknown_build_raises_build_not_found_once(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    with pytest.raises(errors.BuildNotFound) as info:
        hook.get_build("ri.foundry.main.build.unknown")
    assert info.value.parameter("buildRid") == "ri.foundry.main.build.unknown"
    assert requests_of(emulator.counters(), "get_build") == {"404": 1}


def test_get_builds_batches_250_builds_in_three_requests(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    rids = [run["buildRid"] for run in emulator.create_runs(DEMO, 250)]
    builds = hook.get_builds(rids)
    assert set(builds) == set(rids)
    assert all(builds[rid].rid == rid for rid in rids)
    assert requests_of(emulator.counters(), "get_builds_batch") == {"200": 3}


def test_get_builds_leaves_out_unknown_builds(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    (run,) = emulator.create_runs(DEMO, 1)
    builds = hook.get_builds([run["buildRid"], "ri.foundry.main.build.unknown"])
    assert list(builds) == [run["buildRid"]]


def test_get_builds_of_nothing_sends_nothing(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    assert hook.get_builds([]) == {}
    assert emulator.counters()["requests"] == {}


def test_get_builds_asks_for_duplicates_once(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    (run,) = emulator.create_runs(DEMO, 1)
    assert list(hook.get_builds([run["buildRid"]] * 3)) == [run["buildRid"]]
    assert requests_of(emulator.counters(), "get_builds_batch") == {"200": 1}


def test_cancel_build_cancels_a_running_build(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    run = hook.launch_model_studio(DEMO)
    assert hook.cancel_build(run["build_rid"]) is None
    assert emulator.counters()["cancels"] == {run["build_rid"]: 1}
    emulator.advance(2)
    assert hook.get_build(run["build_rid"]).status == "CANCELED"


def test_cancel_of_a_finished_build_changes_nothing(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    run = hook.launch_model_studio(DEMO)
    emulator.advance(6)
    hook.cancel_build(run["build_rid"])
    emulator.advance(2)
    assert hook.get_build(run["build_rid"]).status == "SUCCEEDED"


def test_cancel_denied_raises_the_named_error(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    studio = "ri.models.main.model-studio.locked"
    emulator.add_studio(studio, cancel_denied=True)
    (run,) = emulator.create_runs(studio, 1)
    with pytest.raises(errors.CancelBuildPermissionDenied, match="may not cancel this build"):
        hook.cancel_build(run["buildRid"])
    assert requests_of(emulator.counters(), "cancel_build") == {"403": 1}


# Model versions ----------------------------------------------------------------------------------------


def test_get_model_version_of_a_run_output(hook: ModelStudioHook) -> None:
    output = hook.launch_model_studio(DEMO)["resolved_outputs"]["model"]
    version = hook.get_model_version(output["modelRid"], output["modelVersionRid"])
    assert version.rid == output["modelVersionRid"]
    assert version.source == VersionSource("modelStudio", model_studio_rid=DEMO)


def test_get_unknown_model_version_raises_model_version_not_found(hook: ModelStudioHook) -> None:
    output = hook.launch_model_studio(DEMO)["resolved_outputs"]["model"]
    with pytest.raises(errors.ModelVersionNotFound):
        hook.get_model_version(output["modelRid"], "ri.models.main.model-version.unknown")


def test_get_model_version_of_unknown_model_raises_model_not_found(hook: ModelStudioHook) -> None:
    with pytest.raises(errors.ModelNotFound):
        hook.get_model_version("ri.models.main.model.unknown", "ri.models.main.model-version.unknown")


# Input checks: nothing is sent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "args", "field"),
    [
        ("launch_model_studio", ("my-studio",), "model_studio_rid"),
        ("launch_model_studio", ("ri.models.main.model.x",), "model_studio_rid"),
        ("get_model_studio", ("",), "model_studio_rid"),
        ("list_model_studio_runs", ("ri.models.main.model-studio",), "model_studio_rid"),
        ("get_latest_config_version", (None,), "model_studio_rid"),
        ("get_build", ("ri.foundry-build.main.job.x",), "build_rid"),
        ("get_builds", (["ri.foundry.main.build.ok", "bad"],), "build_rids"),
        ("cancel_build", ("https://host/builds/ri.foundry.main.build.x",), "build_rid"),
        ("get_model_version", ("ri.models.main.model-version.x", "ri.models.main.model-version.y"), "model_rid"),
        ("get_model_version", ("ri.models.main.model.x", "ri.models.main.model.y"), "model_version_rid"),
    ],
)
def test_bad_rids_are_refused_before_any_request(
    emulator: FoundryEmulator, hook: ModelStudioHook, method: str, args: tuple[Any, ...], field: str
) -> None:
    with pytest.raises(errors.FoundryConfigError) as info:
        getattr(hook, method)(*args)
    assert f"{field}=" in str(info.value)
    assert "Expected the form ri." in str(info.value)
    assert emulator.counters()["requests"] == {}


def test_studio_rid_refusal_shows_the_expected_form(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    with pytest.raises(errors.FoundryConfigError) as info:
        hook.launch_model_studio("churn-model")
    assert "'churn-model'" in str(info.value)
    assert "ri.models.<instance>.model-studio.<locator>" in str(info.value)
    assert emulator.counters()["launches"] == {}


@pytest.mark.parametrize("build_rid", ["ri.foundry-build.main.build.x", "ri.foundry.main.build.x"])
def test_both_build_rid_forms_are_sent(emulator: FoundryEmulator, hook: ModelStudioHook, build_rid: str) -> None:
    with pytest.raises(errors.BuildNotFound):
        hook.get_build(build_rid)
    assert requests_of(emulator.counters(), "get_build") == {"404": 1}


# test_connection ---------------------------------------------------------------------------------------


def test_test_connection_succeeds_naming_host_and_auth(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    ok, message = hook.test_connection()
    assert ok
    assert message == f"Connected to {emulator.url} with token authentication."
    assert requests_of(emulator.counters(), "get_builds_batch") == {"200": 1}


def test_test_connection_with_oauth2_succeeds(emulator: FoundryEmulator, connect: Connect) -> None:
    ok, message = connect(emulator, auth="oauth2").test_connection()
    assert ok
    assert "oauth2 authentication" in message


def test_test_connection_reports_a_wrong_token(emulator: FoundryEmulator, set_connection: Callable[..., str]) -> None:
    set_connection(host=emulator.url, password="not-the-token")
    ok, message = ModelStudioHook(retry=FAST_RETRY).test_connection()
    assert not ok
    assert "refused the static token" in message
    assert "not-the-token" not in message


def test_test_connection_reports_a_wrong_client_secret(
    emulator: FoundryEmulator, set_connection: Callable[..., str]
) -> None:
    set_connection(host=emulator.url, login="emulator-client", password="wrong-secret-123")
    ok, message = ModelStudioHook(retry=FAST_RETRY).test_connection()
    assert not ok
    assert "refused the OAuth2 client credentials" in message
    assert "wrong-secret-123" not in message


def test_test_connection_reports_a_missing_scope(emulator: FoundryEmulator, connect: Connect) -> None:
    emulator.set_scenario({"static_tokens": {"models-only-token": ["api:models-read", "api:models-write"]}})
    ok, message = connect(emulator).test_connection()
    assert not ok
    assert "missingScope=api:orchestration-read" in message


def test_test_connection_reports_a_host_that_is_not_foundry(
    stub_foundry: Any, set_connection: Callable[..., str]
) -> None:
    stub_foundry.on("POST", "/api/v2/orchestration/builds/getBatch", (404, None, {}))
    set_connection(host=stub_foundry.url, password="some-token-1")
    ok, message = ModelStudioHook(retry=FAST_RETRY).test_connection()
    assert not ok
    assert "endpoint does not exist" in message


def test_test_connection_reports_an_unreachable_host(set_connection: Callable[..., str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    set_connection(host=f"http://127.0.0.1:{port}", password="some-token-1")
    ok, message = ModelStudioHook(retry=FAST_RETRY).test_connection()
    assert not ok
    assert re.fullmatch(
        rf"Not connected to http://127\.0\.0\.1:{port} with token authentication: POST "
        r"/api/v2/orchestration/builds/getBatch to connection 'foundry_default' failed after 2 attempt\(s\) in "
        rf"[0-9.]+ s: could not connect to 127\.0\.0\.1:{port}: connection refused \(nothing accepts connections "
        r"at that address and port\)\. Check the connection's host and port\.",
        message,
    ), message


def test_test_connection_reports_a_bad_connection(set_connection: Callable[..., str]) -> None:
    set_connection(host="http://foundry.example.com", password="some-token-1")
    ok, message = ModelStudioHook().test_connection()
    assert not ok
    assert "allowed only for loopback" in message


# Hook plumbing -----------------------------------------------------------------------------------------


def test_hook_uses_foundry_default_by_default(emulator: FoundryEmulator, connect: Connect) -> None:
    connect(emulator)
    hook = ModelStudioHook()
    assert hook.foundry_conn_id == "foundry_default"
    assert hook.get_model_studio(DEMO).rid == DEMO


def test_hook_takes_another_connection_id(emulator: FoundryEmulator, connect: Connect) -> None:
    hook = connect(emulator, conn_id="foundry_other")
    assert hook.settings.conn_id == "foundry_other"
    assert hook.get_model_studio(DEMO).rid == DEMO


def test_get_conn_is_the_client(hook: ModelStudioHook) -> None:
    assert hook.get_conn() is hook.client


def test_build_url_points_at_the_connection_host(emulator: FoundryEmulator, connect: Connect) -> None:
    hook = connect(emulator, build_url_template="{base_url}/b/{build_rid}")
    assert hook.build_url("ri.foundry.main.build.x") == f"{emulator.url}/b/ri.foundry.main.build.x"


def test_hook_refuses_bad_retry_settings() -> None:
    with pytest.raises(errors.FoundryConfigError, match="max_attempts"):
        ModelStudioHook(retry={"max_attempts": 0})


def test_results_are_json_safe(emulator: FoundryEmulator, hook: ModelStudioHook) -> None:
    run = hook.launch_model_studio(DEMO)
    assert json.loads(json.dumps(run)) == run
    assert json.loads(json.dumps(hook.get_build_statuses([run["build_rid"]])))


# Stored connection forms against the emulator -------------------------------------------------------------


def test_plugin_connection_fixture_reaches_the_emulator(foundry_connection: FoundryEmulator) -> None:
    run = ModelStudioHook(retry=FAST_RETRY).launch_model_studio(DEMO)
    assert run["run_id"] == foundry_connection.runs(DEMO)[0]["runId"]


def test_uri_connection_with_percent_encoded_host_reaches_the_emulator(
    emulator: FoundryEmulator, set_connection: Callable[..., str]
) -> None:
    set_connection(raw=f"foundry://:emulator-token@http%3A%2F%2F127.0.0.1%3A{emulator.port}")
    assert ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO).rid == DEMO


def test_uri_connection_with_oauth2_client_reaches_the_emulator(
    emulator: FoundryEmulator, set_connection: Callable[..., str]
) -> None:
    set_connection(raw=f"foundry://emulator-client:emulator-secret@http%3A%2F%2F127.0.0.1%3A{emulator.port}")
    assert ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO).rid == DEMO
    assert emulator.counters()["tokens_issued"] == 1


def test_uri_connection_with_nested_scheme_reaches_the_emulator(
    emulator: FoundryEmulator, set_connection: Callable[..., str]
) -> None:
    set_connection(raw=f"foundry://http://:emulator-token@127.0.0.1:{emulator.port}/?timeout=5")
    hook = ModelStudioHook(retry=FAST_RETRY)
    assert hook.get_model_studio(DEMO).rid == DEMO
    assert hook.settings.timeout == 5.0


def test_tls_verification_setting_is_sent_with_every_request_so_ca_bundle_variables_cannot_override_it(
    emulator: FoundryEmulator, set_connection: Any, mocker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import requests

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    set_connection("foundry_default", host=emulator.url, password="emulator-token", extra={"verify": False})
    spy = mocker.spy(requests.Session, "request")
    ModelStudioHook().get_model_studio(DEMO)
    assert spy.call_args.kwargs["verify"] is False
