"""``AsyncFoundryClient`` (httpx, used by triggers) against the emulator: same contract as the sync client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from airflow_provider_modelstudio.emulator import FoundryEmulator
from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.operations import batch_body
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from tests.foundry.support import DEMO, FAST_RETRY, MISSING_STUDIO, requests_of, settings_from

T = TypeVar("T")


def run_with_client(
    emu: FoundryEmulator, work: Callable[[AsyncFoundryClient], Awaitable[T]], auth: str = "token", **extra: Any
) -> T:
    """Run ``work`` in a fresh event loop with a client created (and closed) in that loop."""
    conn = emu.connection(auth)
    if extra:
        conn["extra"] = {**conn.get("extra", {}), **extra}
    settings = settings_from(conn)

    async def main() -> T:
        client = AsyncFoundryClient(settings, retry=RetryPolicy(**FAST_RETRY))
        try:
            return await work(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


async def get_builds(client: AsyncFoundryClient, build_rids: list[str]) -> dict[str, Any]:
    """One getBatch request, its answer's builds by RID."""
    answer = await client.call("get_builds_batch", json_body=batch_body(build_rids))
    return dict(answer["data"])


async def cancel_build(client: AsyncFoundryClient, build_rid: str) -> None:
    await client.call("cancel_build", {"buildRid": build_rid})


def test_cancel_build(emulator: FoundryEmulator) -> None:
    (run,) = emulator.create_runs(DEMO, 1)
    assert run_with_client(emulator, lambda c: cancel_build(c, run["buildRid"])) is None
    assert emulator.counters()["cancels"] == {run["buildRid"]: 1}
    emulator.advance(2)
    assert emulator.builds()[run["buildRid"]]["status"] == "CANCELED"


def test_cancel_unknown_build_raises_build_not_found(emulator: FoundryEmulator) -> None:
    with pytest.raises(errors.BuildNotFound):
        run_with_client(emulator, lambda c: cancel_build(c, "ri.foundry.main.build.unknown"))
    assert requests_of(emulator.counters(), "cancel_build") == {"404": 1}


def test_call_with_path_and_query(emulator: FoundryEmulator) -> None:
    emulator.create_runs(DEMO, 3)
    page = run_with_client(
        emulator, lambda c: c.call("list_model_studio_runs", {"modelStudioRid": DEMO}, {"pageSize": 2})
    )
    assert len(page["data"]) == 2
    assert page["nextPageToken"]


@pytest.mark.parametrize("rate", ["rate_429", "rate_503", "rate_500", "rate_502", "rate_504", "rate_drop", "rate_html"])
def test_transient_faults_are_retried(emulator: FoundryEmulator, fail_first: Any, rate: str) -> None:
    (run,) = emulator.create_runs(DEMO, 1)
    fail_first(emulator, "get_builds_batch", rate)
    builds = run_with_client(emulator, lambda c: get_builds(c, [run["buildRid"]]))
    assert list(builds) == [run["buildRid"]]
    counters = emulator.counters()
    assert sum(counters["faults_injected"]["get_builds_batch"].values()) == 1
    assert requests_of(counters, "get_builds_batch")["200"] == 1
    assert sum(requests_of(counters, "get_builds_batch").values()) == 2


def test_truncated_json_is_retried(emulator: FoundryEmulator, fail_first: Any) -> None:
    fail_first(emulator, "get_model_studio", "rate_truncated_json")
    studio = run_with_client(emulator, lambda c: c.call("get_model_studio", {"modelStudioRid": DEMO}))
    assert studio["rid"] == DEMO
    assert requests_of(emulator.counters(), "get_model_studio") == {"200": 2}


def test_cancel_is_retried_after_a_dropped_connection(emulator: FoundryEmulator, fail_first: Any) -> None:
    (run,) = emulator.create_runs(DEMO, 1)
    fail_first(emulator, "cancel_build", "rate_drop")
    run_with_client(emulator, lambda c: cancel_build(c, run["buildRid"]))
    assert requests_of(emulator.counters(), "cancel_build") == {"dropped": 1, "204": 1}


def test_do_not_retry_hint_is_respected(emulator: FoundryEmulator) -> None:
    emulator.set_faults("get_builds_batch", rate_503=1.0, do_not_retry_hint=True)
    with pytest.raises(errors.FoundryUnavailable):
        run_with_client(emulator, lambda c: get_builds(c, ["ri.foundry.main.build.x"]))
    assert requests_of(emulator.counters(), "get_builds_batch") == {"503": 1}


def test_persistent_faults_give_up_after_max_attempts(emulator: FoundryEmulator) -> None:
    emulator.set_faults("get_builds_batch", rate_504=1.0)
    with pytest.raises(errors.FoundryServerError):
        run_with_client(emulator, lambda c: get_builds(c, ["ri.foundry.main.build.x"]))
    assert requests_of(emulator.counters(), "get_builds_batch") == {"504": 4}


def test_not_found_is_not_retried(emulator: FoundryEmulator) -> None:
    with pytest.raises(errors.ModelStudioNotFound):
        run_with_client(emulator, lambda c: c.call("get_model_studio", {"modelStudioRid": MISSING_STUDIO}))
    assert requests_of(emulator.counters(), "get_model_studio") == {"404": 1}


def test_read_timeout_is_retried(foundry_emulator: FoundryEmulator, fail_first: Any) -> None:
    fail_first(foundry_emulator, "get_builds_batch", "rate_hang", hang_seconds=30)
    run_with_client(foundry_emulator, lambda c: get_builds(c, ["ri.foundry.main.build.x"]), timeout=0.5)
    assert foundry_emulator.counters()["faults_injected"]["get_builds_batch"] == {"hang": 1}


def test_connection_refused_is_reported_as_not_sent() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = settings_from({"conn_type": "foundry", "host": f"http://127.0.0.1:{port}", "password": "tok-12345"})

    async def main() -> None:
        client = AsyncFoundryClient(settings, retry=RetryPolicy(**FAST_RETRY))
        try:
            await cancel_build(client, "ri.foundry.main.build.x")
        finally:
            await client.aclose()

    with pytest.raises(errors.FoundryTransportError) as info:
        asyncio.run(main())
    assert not info.value.may_have_reached_server
    assert "could not connect" in str(info.value)


# Authentication ----------------------------------------------------------------------------------------


def test_oauth2_fetches_one_token(emulator: FoundryEmulator) -> None:
    (run,) = emulator.create_runs(DEMO, 1)
    run_with_client(emulator, lambda c: get_builds(c, [run["buildRid"]]), auth="oauth2")
    counters = emulator.counters()
    assert counters["tokens_issued"] == 1
    assert requests_of(counters, "get_builds_batch") == {"200": 1}


def test_token_refused_by_foundry_is_renewed_once_and_the_call_replayed(emulator: FoundryEmulator) -> None:
    (run,) = emulator.create_runs(DEMO, 1)

    async def work(client: AsyncFoundryClient) -> Any:
        await get_builds(client, [run["buildRid"]])
        emulator.advance(4000)  # Foundry expires the token; the local cache still trusts it
        return await get_builds(client, [run["buildRid"]])

    assert list(run_with_client(emulator, work, auth="oauth2")) == [run["buildRid"]]
    counters = emulator.counters()
    assert counters["tokens_issued"] == 2
    assert requests_of(counters, "get_builds_batch") == {"200": 2, "401": 1}


def test_wrong_static_token_is_an_auth_error(emulator: FoundryEmulator) -> None:
    settings = settings_from({**emulator.connection(), "password": "wrong-token-123"})

    async def main() -> None:
        client = AsyncFoundryClient(settings, retry=RetryPolicy(**FAST_RETRY))
        try:
            await cancel_build(client, "ri.foundry.main.build.x")
        finally:
            await client.aclose()

    with pytest.raises(errors.FoundryAuthError) as info:
        asyncio.run(main())
    assert "wrong-token-123" not in str(info.value)
    assert requests_of(emulator.counters(), "cancel_build") == {"401": 1}


def test_wrong_client_secret_is_an_auth_error(emulator: FoundryEmulator) -> None:
    settings = settings_from({**emulator.connection("oauth2"), "password": "wrong-secret-123"})

    async def main() -> None:
        client = AsyncFoundryClient(settings, retry=RetryPolicy(**FAST_RETRY))
        try:
            await get_builds(client, ["ri.foundry.main.build.x"])
        finally:
            await client.aclose()

    with pytest.raises(errors.FoundryAuthError) as info:
        asyncio.run(main())
    assert "wrong-secret-123" not in str(info.value)
    assert requests_of(emulator.counters(), "oauth2_token") == {"401": 1}


def test_clients_in_successive_event_loops_share_the_token(emulator: FoundryEmulator) -> None:
    for _ in range(3):
        run_with_client(emulator, lambda c: c.call("get_model_studio", {"modelStudioRid": DEMO}), auth="oauth2")
    assert emulator.counters()["tokens_issued"] == 1


def test_requests_carry_the_user_agent_and_bearer_token(stub_foundry: Any) -> None:
    from airflow_provider_modelstudio.foundry.protocol import user_agent

    stub_foundry.on("POST", "/api/v2/orchestration/builds/getBatch", (200, {"data": {}}, {}))
    settings = settings_from({"conn_type": "foundry", "host": stub_foundry.url, "password": "static-token-abc"})

    async def main() -> Any:
        client = AsyncFoundryClient(settings, retry=RetryPolicy(**FAST_RETRY))
        try:
            return await get_builds(client, ["ri.foundry.main.build.a", "ri.foundry.main.build.b"])
        finally:
            await client.aclose()

    assert asyncio.run(main()) == {}
    (seen,) = stub_foundry.seen
    assert seen.headers["Authorization"] == "Bearer static-token-abc"
    assert seen.headers["User-Agent"] == user_agent()
    assert seen.json() == [{"buildRid": "ri.foundry.main.build.a"}, {"buildRid": "ri.foundry.main.build.b"}]
