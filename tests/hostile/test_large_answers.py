"""Answers beyond a sane size are refused, not read into memory; compression cannot get round the limit
(issue 9, item 11)."""

from __future__ import annotations

import gzip
import itertools
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry import launch as launch_module
from airflow_provider_modelstudio.foundry.answers import MAX_ANSWER_BYTES
from airflow_provider_modelstudio.foundry.launch import launch_once
from airflow_provider_modelstudio.foundry.retry import RetryPolicy
from airflow_provider_modelstudio.foundry.sync_client import FoundryClient
from tests.foundry.support import FAST_RETRY
from tests.hostile.conftest import (
    BATCH_PATH,
    BUILD_RID,
    LAUNCH_PATH,
    RUNS_PATH,
    STUDIO,
    FakeClock,
    Transport,
    connection,
)
from tests.hostile.server import Exchange, HostileServer, head, reply, stream

BATCH = [{"buildRid": BUILD_RID}]
MEGABYTE = b" " * 2**20


def announced(size: int) -> Any:
    """Headers announcing ``size`` bytes, then a few of them (the client must not wait for the rest)."""

    def answer(exchange: Exchange) -> bool:
        exchange.send(head(200, {"Content-Type": "application/json", "Content-Length": str(size)}) + b'{"data": ')
        exchange.pause(30)
        return False

    return answer


def test_an_answer_announcing_200_megabytes_is_refused_without_reading_it(
    hostile: HostileServer, transport: Transport
) -> None:
    hostile.on("POST", BATCH_PATH, announced(200 * 2**20))
    with pytest.raises(errors.FoundryAnswerTooLarge) as info:
        transport.call(connection(hostile), "get_builds_batch", json_body=BATCH)
    assert len(hostile.requests_to(BATCH_PATH)) == 1  # not retried
    assert f"larger than {MAX_ANSWER_BYTES} bytes" in str(info.value)
    assert "Content-Length 209715200" in str(info.value)


def test_an_answer_of_unannounced_length_is_cut_off_at_the_limit(hostile: HostileServer, transport: Transport) -> None:
    hostile.on("POST", BATCH_PATH, stream(200, itertools.repeat(MEGABYTE, 200), {"Content-Type": "application/json"}))
    with pytest.raises(errors.FoundryAnswerTooLarge):
        transport.call(connection(hostile), "get_builds_batch", json_body=BATCH)
    assert len(hostile.requests_to(BATCH_PATH)) == 1


def test_a_gzip_bomb_is_refused_by_its_decoded_size(hostile: HostileServer, transport: Transport) -> None:
    bomb = gzip.compress(b" " * (MAX_ANSWER_BYTES + 2**20), compresslevel=9)
    assert len(bomb) < 100_000
    hostile.on("POST", BATCH_PATH, reply(200, bomb, {"Content-Encoding": "gzip", "Content-Type": "application/json"}))
    with pytest.raises(errors.FoundryAnswerTooLarge):
        transport.call(connection(hostile), "get_builds_batch", json_body=BATCH)
    assert len(hostile.requests_to(BATCH_PATH)) == 1


def test_an_oversized_error_page_is_refused_too(hostile: HostileServer, transport: Transport) -> None:
    hostile.on("POST", BATCH_PATH, stream(502, itertools.repeat(b"<p>" + MEGABYTE, 40), {"Content-Type": "text/html"}))
    with pytest.raises(errors.FoundryAnswerTooLarge):
        transport.call(connection(hostile), "get_builds_batch", json_body=BATCH)


def test_an_oversized_launch_answer_goes_through_finding_the_run(
    hostile: HostileServer, clock: FakeClock, mocker: Any
) -> None:
    created = {"runId": "r-1", "buildRid": "ri.foundry.main.build.r-1"}
    hostile.on("GET", RUNS_PATH, reply(200, {"data": []}), reply(200, {"data": [created]}))
    hostile.on("POST", LAUNCH_PATH, announced(200 * 2**20))
    mocker.patch.object(launch_module, "time", clock)
    client = FoundryClient(connection(hostile), retry=RetryPolicy(**FAST_RETRY), sleep=lambda seconds: None)
    assert launch_once(client, STUDIO, sleep=clock.sleep)["run_id"] == "r-1"
    assert len(hostile.requests_to(LAUNCH_PATH)) == 1
