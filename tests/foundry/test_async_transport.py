"""The async transport over the wire: it stops waiting for a silent server at the read timeout (well before the
attempt's bound), its token request carries no bearer header, a large answer is parsed while the event loop
serves other coroutines, requests a poll interval apart reuse one connection, and clients share one TLS context."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from httpcore._async import http11 as httpcore_http11

from airflow_provider_modelstudio.foundry import protocol
from airflow_provider_modelstudio.foundry.answers import SMALL_ANSWER_BYTES, parse_json
from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.errors import FoundryTransportError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from tests.foundry.support import settings_from
from tests.hostile.server import Exchange, HostileServer, reply

BUILD = "ri.foundry.main.build.b1"
BUILD_PATH = f"/api/v2/orchestration/builds/{BUILD}"
TOKEN_PATH = "/multipass/api/oauth2/token"
ONE_ATTEMPT = RetryPolicy(max_attempts=1)


@pytest.fixture
def server() -> Iterator[HostileServer]:
    started = HostileServer().start()
    yield started
    started.stop()


def get_build(server: HostileServer, **conn: Any) -> Any:
    settings = settings_from({"conn_type": "foundry", "host": server.url, "password": "secret-1", **conn})

    async def call() -> Any:
        client = AsyncFoundryClient(settings, retry=ONE_ATTEMPT)
        try:
            return await client.call("get_build", {"buildRid": BUILD})
        finally:
            await client.aclose()

    return asyncio.run(call())


def test_a_server_silent_past_the_read_timeout_is_given_up_on_before_the_attempts_bound(server: HostileServer) -> None:
    answer = reply(200, {"rid": BUILD, "status": "RUNNING"})

    def late(exchange: Exchange) -> bool:
        return exchange.pause(0.5) and answer(exchange)

    server.on("GET", BUILD_PATH, late)
    with pytest.raises(FoundryTransportError, match="no answer within the read timeout"):
        get_build(server, extra={"timeout": 0.2})


def test_the_token_request_carries_no_bearer_header(server: HostileServer) -> None:
    server.on("POST", TOKEN_PATH, reply(200, {"access_token": "fetched-token", "expires_in": 600}))
    server.on("GET", BUILD_PATH, reply(200, {"rid": BUILD, "status": "RUNNING"}))
    assert get_build(server, login="client-1")["rid"] == BUILD
    (token_request,) = server.requests_to(TOKEN_PATH)
    assert "authorization" not in token_request.headers
    (build_request,) = server.requests_to(BUILD_PATH)
    assert build_request.headers["authorization"] == "Bearer fetched-token"


def test_the_event_loop_serves_other_coroutines_while_a_large_answer_is_parsed(
    server: HostileServer, mocker: Any
) -> None:
    large = {"rid": BUILD, "status": "RUNNING", "padding": "x" * SMALL_ANSWER_BYTES}
    server.on("GET", BUILD_PATH, reply(200, large))
    other_coroutine_ran = threading.Event()
    seen_while_parsing: list[bool] = []

    def parse_when_the_loop_has_moved_on(body: bytes) -> Any:
        other_coroutine_ran.clear()
        seen_while_parsing.append(other_coroutine_ran.wait(timeout=5))
        return parse_json(body)

    mocker.patch.object(protocol, "parse_json", parse_when_the_loop_has_moved_on)

    async def other_coroutine() -> None:
        while not seen_while_parsing:
            other_coroutine_ran.set()
            await asyncio.sleep(0)

    async def both() -> Any:
        other = asyncio.create_task(other_coroutine())
        client = AsyncFoundryClient(settings_from({"conn_type": "foundry", "host": server.url, "password": "s-1"}))
        try:
            return await client.call("get_build", {"buildRid": BUILD})
        finally:
            await client.aclose()
            await other

    assert asyncio.run(both()) == large
    assert seen_while_parsing == [True]


def test_requests_a_poll_interval_apart_reuse_one_connection(server: HostileServer, mocker: Any) -> None:
    server.on("GET", BUILD_PATH, reply(200, {"rid": BUILD, "status": "RUNNING"}))
    clock = mocker.patch.object(httpcore_http11, "time")
    clock.monotonic.return_value = 1000.0

    async def two_rounds() -> None:
        client = AsyncFoundryClient(settings_from({"conn_type": "foundry", "host": server.url, "password": "s-1"}))
        try:
            await client.call("get_build", {"buildRid": BUILD})
            clock.monotonic.return_value += 30.0  # the default poll interval
            await client.call("get_build", {"buildRid": BUILD})
        finally:
            await client.aclose()

    asyncio.run(two_rounds())
    assert len(server.requests_to(BUILD_PATH)) == 2
    assert server.connections == 1


def test_clients_share_one_tls_context_and_load_the_ca_bundle_once(mocker: Any, tmp_path: Any) -> None:
    cert_file = tmp_path / "ca.pem"
    cert_file.write_text("unused")
    mocker.patch.dict("os.environ", {"SSL_CERT_FILE": str(cert_file)})
    loads = mocker.patch(
        "ssl.create_default_context", side_effect=lambda **kwargs: ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    )
    settings = settings_from({"conn_type": "foundry", "host": "foundry.example", "password": "s-1"})

    async def three_clients() -> None:
        for client in [AsyncFoundryClient(settings) for _ in range(3)]:
            await client.aclose()

    asyncio.run(three_clients())
    loads.assert_called_once_with(cafile=str(cert_file))
