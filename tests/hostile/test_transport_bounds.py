"""The bounds each transport keeps: the triggerer's client opens at most 20 connections and keeps at most 10
idle, gives up connecting after the connect timeout; the workers' client bounds https attempts too, and stops
reading an answer of unannounced length as soon as it passes the size limit."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry import settings as settings_module
from airflow_provider_modelstudio.foundry.answers import MAX_ANSWER_BYTES
from airflow_provider_modelstudio.foundry.async_client import AsyncFoundryClient
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.settings import FoundrySettings
from tests.foundry.support import settings_from
from tests.hostile.conftest import BUILD_PATH, BUILD_RID, TOKEN, Transport, connection
from tests.hostile.server import Exchange, HostileServer, head, reply, trickle

ONE_ATTEMPT = {"max_attempts": 1, "backoff_initial": 0.01, "backoff_max": 0.01, "max_elapsed": 5}
BUILD = {"rid": BUILD_RID, "status": "RUNNING"}


class HeldAnswers:
    """Answers that wait until ``target`` requests are in flight at once (or ``patience`` seconds pass),
    noting the most seen in flight."""

    def __init__(self, target: int, patience: float = 1.0) -> None:
        self.target = target
        self.patience = patience
        self.in_flight = 0
        self.most = 0
        self._changed = threading.Condition()

    def __call__(self, exchange: Exchange) -> bool:
        with self._changed:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self._changed.notify_all()
            self._changed.wait_for(lambda: self.most >= self.target, timeout=self.patience)
        try:
            return reply(200, BUILD)(exchange)
        finally:
            with self._changed:
                self.in_flight -= 1


def burst(client: AsyncFoundryClient, calls: int) -> Any:
    return asyncio.gather(*(client.call("get_build", {"buildRid": BUILD_RID}) for _ in range(calls)))


def test_the_async_client_opens_at_most_20_connections_at_once(hostile: HostileServer) -> None:
    held = HeldAnswers(target=25, patience=0.5)
    hostile.on("GET", BUILD_PATH, held)

    async def main() -> list[Any]:
        client = AsyncFoundryClient(connection(hostile), retry=RetryPolicy(**ONE_ATTEMPT))
        try:
            return list(await burst(client, 25))
        finally:
            await client.aclose()

    assert asyncio.run(main()) == [BUILD] * 25
    assert held.most == 20


def test_the_async_client_keeps_at_most_10_idle_connections(hostile: HostileServer) -> None:
    first, second = HeldAnswers(target=20), HeldAnswers(target=20)
    hostile.on("GET", BUILD_PATH, *([first] * 20), second)

    async def main() -> None:
        client = AsyncFoundryClient(connection(hostile), retry=RetryPolicy(**ONE_ATTEMPT))
        try:
            await burst(client, 20)
            await burst(client, 20)
        finally:
            await client.aclose()

    asyncio.run(main())
    assert first.most == second.most == 20
    assert hostile.connections == 30  # 10 of the first 20 kept for the second burst


@pytest.fixture
def unreachable() -> Iterator[FoundrySettings]:
    """A connection whose host never completes a TCP connect: its listener's queue is full."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=0)
    filler = socket.create_connection(listener.getsockname()[:2])
    try:
        yield settings_from(
            {
                "conn_type": "foundry",
                "host": f"http://127.0.0.1:{listener.getsockname()[1]}",
                "password": TOKEN,
                "extra": {"timeout": 5},
            }
        )
    finally:
        filler.close()
        listener.close()


def test_the_async_client_gives_up_connecting_after_the_connect_timeout(
    unreachable: FoundrySettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "CONNECT_TIMEOUT_CAP", 0.3)
    assert unreachable.connect_timeout == 0.3

    async def main() -> None:
        client = AsyncFoundryClient(unreachable, retry=RetryPolicy(**ONE_ATTEMPT))
        try:
            await client.call("get_build", {"buildRid": BUILD_RID})
        finally:
            await client.aclose()

    started = time.monotonic()
    with pytest.raises(errors.FoundryTransportError) as info:
        asyncio.run(main())
    assert time.monotonic() - started < 3
    assert str(info.value).endswith(
        f": could not connect to {urlsplit(unreachable.base_url).netloc}: timed out. Check the host, and that a "
        "firewall or proxy lets this machine reach it."
    )
    assert not info.value.may_have_reached_server


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_a_body_trickled_over_https_past_the_attempt_limit_ends_the_attempt(tls_hostile: HostileServer) -> None:
    body = b'{"rid": "' + b"x" * 30 + b'"}'  # 4 s at a byte every 0.1 s
    first = head(200, {"Content-Type": "application/json", "Content-Length": str(len(body))})
    tls_hostile.on("GET", BUILD_PATH, trickle(body, 0.1, first=first))
    settings = connection(tls_hostile, timeout=0.3, verify=False)
    started = time.monotonic()
    with pytest.raises(errors.FoundryTransportError, match=r"not complete after 0\.9 s"):
        Transport("requests").call(settings, "get_build", {"buildRid": BUILD_RID}, retry=ONE_ATTEMPT)
    assert time.monotonic() - started < 3


def test_an_answer_of_unannounced_length_is_refused_at_the_limit_though_the_server_then_stalls(
    hostile: HostileServer,
) -> None:
    def oversized_then_stalled(exchange: Exchange) -> bool:
        exchange.send(head(200, {"Content-Type": "application/json"}))  # no length: the body ends when it closes
        for _ in range(MAX_ANSWER_BYTES // 2**20 + 1):
            exchange.send(b" " * 2**20)
        exchange.pause(30)
        return False

    hostile.on("GET", BUILD_PATH, oversized_then_stalled)
    started = time.monotonic()
    with pytest.raises(errors.FoundryAnswerTooLarge):
        Transport("requests").call(
            connection(hostile, timeout=2), "get_build", {"buildRid": BUILD_RID}, retry=ONE_ATTEMPT
        )
    assert time.monotonic() - started < 2
    assert len(hostile.requests_to(BUILD_PATH)) == 1
