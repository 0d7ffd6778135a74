"""Authentication over HTTP: static tokens, OAuth2 client credentials, the shared token cache, renewal,
single-flight fetching, and secrets kept out of messages and logs."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry import auth, errors
from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.auth import TOKEN_CACHE
from airflow_provider_modelstudio.foundry.protocol import user_agent
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.hooks.modelstudio import ModelStudioHook
from tests.foundry.support import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEMO,
    FAST_RETRY,
    STATIC_TOKEN,
    requests_of,
    settings_from,
)

Connect = Callable[..., ModelStudioHook]
TOKEN_PATH = "/multipass/api/oauth2/token"
STUDIO_PATH = f"/api/v2/models/modelStudios/{DEMO}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


# What is sent ------------------------------------------------------------------------------------------


def test_static_token_is_sent_as_bearer_header(stub_foundry: Any, set_connection: Callable[..., str]) -> None:
    stub_foundry.on("GET", STUDIO_PATH, (200, {"rid": DEMO}, {}))
    set_connection(host=stub_foundry.url, password="static-token-abc")
    ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO)
    (seen,) = stub_foundry.seen
    assert seen.headers["Authorization"] == "Bearer static-token-abc"
    assert seen.query == {"preview": "true"}


def test_user_agent_names_provider_airflow_and_python(stub_foundry: Any, set_connection: Callable[..., str]) -> None:
    stub_foundry.on("GET", STUDIO_PATH, (200, {"rid": DEMO}, {}))
    set_connection(host=stub_foundry.url, password="static-token-abc")
    ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO)
    agent = stub_foundry.seen[0].headers["User-Agent"]
    assert agent == user_agent()
    provider, airflow, python = agent.split(" ")
    assert provider.startswith("airflow-provider-modelstudio/")
    assert airflow.startswith("airflow/3.")
    assert python.startswith("python/3.")


def test_oauth2_token_request_is_client_credentials_with_scopes(
    stub_foundry: Any, set_connection: Callable[..., str]
) -> None:
    stub_foundry.on("POST", TOKEN_PATH, (200, {"access_token": "issued-token-1", "expires_in": 3600}, {}))
    stub_foundry.on("GET", STUDIO_PATH, (200, {"rid": DEMO}, {}))
    set_connection(
        host=stub_foundry.url, login="my-client", password="my-secret-789", extra={"scopes": "api:models-read"}
    )
    ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO)
    token_request, api_request = stub_foundry.seen
    assert token_request.path == TOKEN_PATH
    assert "Authorization" not in token_request.headers
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(token_request.body.decode())) == {
        "grant_type": "client_credentials",
        "client_id": "my-client",
        "client_secret": "my-secret-789",
        "scope": "api:models-read",
    }
    assert api_request.headers["Authorization"] == "Bearer issued-token-1"


# Static token ------------------------------------------------------------------------------------------


def test_static_token_never_asks_for_an_oauth2_token(emulator: FoundryEmulator, connect: Connect) -> None:
    connect(emulator).get_model_studio(DEMO)
    counters = emulator.counters()
    assert counters["tokens_issued"] == 0
    assert "oauth2_token" not in counters["requests"]


def test_wrong_static_token_is_an_auth_error_without_retry(
    emulator: FoundryEmulator, set_connection: Callable[..., str]
) -> None:
    set_connection(host=emulator.url, password="revoked-token-xyz")
    with pytest.raises(errors.FoundryAuthError) as info:
        ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO)
    message = str(info.value)
    assert "refused the static token of connection 'foundry_default'" in message
    assert "revoked-token-xyz" not in message
    assert "refused twice" not in message  # a static token cannot be renewed, and was not
    assert "fresh token" not in message
    assert requests_of(emulator.counters(), "get_model_studio") == {"401": 1}


# OAuth2 ------------------------------------------------------------------------------------------------


def test_oauth2_connection_fetches_a_token_and_calls(emulator: FoundryEmulator, connect: Connect) -> None:
    run = connect(emulator, auth="oauth2").launch_model_studio(DEMO)
    assert run["run_id"] == emulator.runs(DEMO)[0]["runId"]
    counters = emulator.counters()
    assert counters["tokens_issued"] == 1
    assert requests_of(counters, "oauth2_token") == {"200": 1}


def test_oauth2_token_is_shared_by_hook_instances(emulator: FoundryEmulator, connect: Connect) -> None:
    connect(emulator, auth="oauth2").get_model_studio(DEMO)
    ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO)
    ModelStudioHook(retry=FAST_RETRY).list_model_studio_runs(DEMO)
    assert emulator.counters()["tokens_issued"] == 1


def test_oauth2_token_is_not_shared_between_different_scopes(emulator: FoundryEmulator, connect: Connect) -> None:
    connect(emulator, auth="oauth2").get_model_studio(DEMO)
    connect(emulator, auth="oauth2", conn_id="foundry_read", scopes="api:models-read").get_model_studio(DEMO)
    assert emulator.counters()["tokens_issued"] == 2


def test_oauth2_token_is_renewed_before_it_expires(
    emulator: FoundryEmulator, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(TOKEN_CACHE, "_clock", clock)
    hook = connect(emulator, auth="oauth2")
    hook.get_model_studio(DEMO)
    clock.now += 3600 - 59  # inside the 60 s renewal margin of a one-hour token
    emulator.advance(3600)
    hook.get_model_studio(DEMO)
    counters = emulator.counters()
    assert counters["tokens_issued"] == 2
    assert requests_of(counters, "get_model_studio") == {"200": 2}  # renewed ahead, never refused


def test_oauth2_token_is_kept_while_valid(
    emulator: FoundryEmulator, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(TOKEN_CACHE, "_clock", clock)
    hook = connect(emulator, auth="oauth2")
    hook.get_model_studio(DEMO)
    clock.now += 3000
    hook.get_model_studio(DEMO)
    assert emulator.counters()["tokens_issued"] == 1


def test_short_lived_tokens_follow_the_announced_lifetime(
    emulator: FoundryEmulator, connect: Connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.set_scenario({"token_lifetime_seconds": 30})
    clock = FakeClock()
    monkeypatch.setattr(TOKEN_CACHE, "_clock", clock)
    hook = connect(emulator, auth="oauth2")
    hook.get_model_studio(DEMO)
    clock.now += 16  # past half of the 30 s lifetime
    emulator.advance(31)
    hook.get_model_studio(DEMO)
    counters = emulator.counters()
    assert counters["tokens_issued"] == 2
    assert requests_of(counters, "get_model_studio") == {"200": 2}


def test_token_refused_by_foundry_is_renewed_once_and_the_call_replayed(
    emulator: FoundryEmulator, connect: Connect
) -> None:
    hook = connect(emulator, auth="oauth2")
    hook.get_model_studio(DEMO)
    emulator.advance(4000)  # Foundry expired the token; the local cache still trusts it
    assert hook.get_model_studio(DEMO).rid == DEMO
    counters = emulator.counters()
    assert counters["tokens_issued"] == 2
    assert requests_of(counters, "get_model_studio") == {"200": 2, "401": 1}


def test_launch_refused_with_401_is_replayed_once_with_a_new_token(emulator: FoundryEmulator, connect: Connect) -> None:
    hook = connect(emulator, auth="oauth2")
    hook.get_model_studio(DEMO)
    emulator.advance(4000)
    hook.launch_model_studio(DEMO)
    assert emulator.counters()["launches"] == {DEMO: 1}
    assert len(emulator.runs(DEMO)) == 1


def test_second_401_is_an_auth_error_saying_credentials_are_wrong(
    stub_foundry: Any, set_connection: Callable[..., str]
) -> None:
    stub_foundry.on(
        "POST",
        TOKEN_PATH,
        (200, {"access_token": "first-token-1", "expires_in": 3600}, {}),
        (200, {"access_token": "second-token-2", "expires_in": 3600}, {}),
    )
    stub_foundry.on("GET", STUDIO_PATH, (401, {"errorCode": "UNAUTHORIZED", "errorName": "Default:Unauthorized"}, {}))
    set_connection(host=stub_foundry.url, login="my-client", password="my-secret-789")
    with pytest.raises(errors.FoundryAuthError) as info:
        ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO)
    message = str(info.value)
    assert isinstance(info.value, errors.FoundryUnauthorized)
    assert "refused twice" in message
    assert "client id and secret" in message
    for secret in ("first-token-1", "second-token-2", "my-secret-789"):
        assert secret not in message
        assert secret not in repr(info.value)
    assert [s.headers["Authorization"] for s in stub_foundry.requests_to(STUDIO_PATH)] == [
        "Bearer first-token-1",
        "Bearer second-token-2",
    ]
    assert len(stub_foundry.requests_to(TOKEN_PATH)) == 2


def test_wrong_client_secret_is_an_auth_error(emulator: FoundryEmulator, set_connection: Callable[..., str]) -> None:
    set_connection(host=emulator.url, login=CLIENT_ID, password="wrong-secret-123")
    with pytest.raises(errors.FoundryAuthError) as info:
        ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO)
    message = str(info.value)
    assert "refused the OAuth2 client credentials of connection 'foundry_default'" in message
    assert "invalid_client" in message  # what the token endpoint said
    assert "wrong-secret-123" not in message
    assert "refused twice" not in message
    assert "proxy" not in message  # the token endpoint's own error format is not a proxy's page
    counters = emulator.counters()
    assert requests_of(counters, "oauth2_token") == {"401": 1}
    assert "get_model_studio" not in counters["requests"]


def test_scopes_not_granted_are_an_auth_error(emulator: FoundryEmulator, connect: Connect) -> None:
    hook = connect(emulator, auth="oauth2", scopes="api:models-read api:admin-write")
    with pytest.raises(errors.FoundryAuthError, match="scopes asked for are granted"):
        hook.get_model_studio(DEMO)
    assert requests_of(emulator.counters(), "oauth2_token") == {"400": 1}


def test_token_answer_without_access_token_is_an_auth_error(
    stub_foundry: Any, set_connection: Callable[..., str]
) -> None:
    stub_foundry.on("POST", TOKEN_PATH, (200, {"token_type": "bearer", "expires_in": 3600}, {}))
    set_connection(host=stub_foundry.url, login="my-client", password="my-secret-789")
    with pytest.raises(errors.FoundryAuthError, match="without an access_token"):
        ModelStudioHook(retry=FAST_RETRY).get_model_studio(DEMO)
    assert stub_foundry.requests_to(STUDIO_PATH) == []


def test_token_endpoint_outage_is_retried(emulator: FoundryEmulator, connect: Connect, fail_first: Any) -> None:
    fail_first(emulator, "oauth2_token", "rate_503")
    connect(emulator, auth="oauth2").get_model_studio(DEMO)
    counters = emulator.counters()
    assert requests_of(counters, "oauth2_token") == {"503": 1, "200": 1}
    assert counters["tokens_issued"] == 1


# Single flight -----------------------------------------------------------------------------------------


def test_twenty_threads_asking_at_once_fetch_one_token(emulator: FoundryEmulator, connect: Connect) -> None:
    emulator.set_faults("oauth2_token", latency_seconds=0.2)  # keep the first fetch in flight
    connect(emulator, auth="oauth2")
    hooks = [ModelStudioHook(retry=FAST_RETRY) for _ in range(20)]
    barrier = threading.Barrier(len(hooks))
    results: list[Any] = []

    def call(hook: ModelStudioHook) -> None:
        barrier.wait()
        results.append(hook.get_model_studio(DEMO).rid)

    threads = [threading.Thread(target=call, args=(hook,)) for hook in hooks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [DEMO] * 20
    counters = emulator.counters()
    assert counters["tokens_issued"] == 1
    assert requests_of(counters, "get_model_studio") == {"200": 20}


def test_fifty_coroutines_asking_at_once_fetch_one_token(emulator: FoundryEmulator) -> None:
    emulator.set_faults("oauth2_token", latency_seconds=0.2)
    settings = settings_from(emulator.connection("oauth2"))

    async def main() -> list[Any]:
        client = AsyncFoundryClient(settings, retry=RetryPolicy(**FAST_RETRY))
        try:
            return await asyncio.gather(*(client.call("get_model_studio", {"modelStudioRid": DEMO}) for _ in range(50)))
        finally:
            await client.aclose()

    studios = asyncio.run(main())
    assert [s["rid"] for s in studios] == [DEMO] * 50
    counters = emulator.counters()
    assert counters["tokens_issued"] == 1
    assert requests_of(counters, "get_model_studio") == {"200": 50}


def test_async_and_sync_clients_share_the_token(emulator: FoundryEmulator, connect: Connect) -> None:
    connect(emulator, auth="oauth2").get_model_studio(DEMO)
    settings = settings_from(emulator.connection("oauth2"))

    async def main() -> Any:
        client = AsyncFoundryClient(settings, retry=RetryPolicy(**FAST_RETRY))
        try:
            return await client.call("get_model_studio", {"modelStudioRid": DEMO})
        finally:
            await client.aclose()

    assert asyncio.run(main())["rid"] == DEMO
    assert emulator.counters()["tokens_issued"] == 1


# Secrets -----------------------------------------------------------------------------------------------


def test_tokens_and_secrets_never_reach_messages_or_logs(
    emulator: FoundryEmulator,
    connect: Connect,
    set_connection: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
    mocker: Any,
) -> None:
    caplog.set_level(logging.DEBUG)
    issued: list[str] = []
    original = auth.parse_token_answer

    def record(body: Any, settings: Any) -> Any:
        grant = original(body, settings)
        issued.append(grant.access_token)
        return grant

    mocker.patch.object(auth, "parse_token_answer", side_effect=record)
    emulator.set_scenario({"seed": 3, "token_lifetime_seconds": 60})
    emulator.set_faults("*", rate_429=0.15, rate_500=0.15, rate_drop=0.1, rate_html=0.1)
    emulator.set_faults("launch_model_studio", drop_after_create=0.5)
    hook = connect(emulator, auth="oauth2")
    messages: list[str] = []

    def attempt(action: Callable[[], Any]) -> None:
        try:
            action()
        except errors.FoundryError as exc:
            messages.extend([str(exc), repr(exc)])

    for _ in range(4):
        attempt(lambda: hook.launch_model_studio(DEMO))
        attempt(lambda: hook.list_model_studio_runs(DEMO))
        attempt(lambda: hook.get_model_studio("ri.models.main.model-studio.nope"))
        emulator.advance(120)  # expire the token on Foundry's side: 401, renewal, replay
    set_connection("foundry_static", host=emulator.url, password="static-secret-token-1")
    attempt(lambda: ModelStudioHook("foundry_static", retry=FAST_RETRY).get_model_studio(DEMO))
    set_connection("foundry_bad", host=emulator.url, login=CLIENT_ID, password="bad-secret-value-2")
    attempt(lambda: ModelStudioHook("foundry_bad", retry=FAST_RETRY).get_model_studio(DEMO))
    ok, reason = ModelStudioHook("foundry_bad", retry=FAST_RETRY).test_connection()
    assert not ok
    messages.append(reason)

    assert issued, "no token was fetched, so the check below would prove nothing"
    assert messages, "no failure happened, so the check below would prove nothing"
    assert "retrying" in caplog.text
    faults = emulator.counters()["faults_injected"]
    assert sum(sum(kinds.values()) for kinds in faults.values()) > 5
    secrets = [*issued, CLIENT_SECRET, "static-secret-token-1", "bad-secret-value-2", STATIC_TOKEN]
    everything = "\n".join([caplog.text, *messages])
    for secret in secrets:
        assert secret not in everything
