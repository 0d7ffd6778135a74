"""Answers small in bytes but holding millions of JSON values are refused before parsing, like answers too large
(issue 17, item 6)."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry import launch as launch_module
from airflow_provider_modelstudio.foundry.answers import MAX_JSON_VALUES
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
from tests.hostile.server import HostileServer, reply

EMPTY_OBJECTS = b"[" + b",".join([b"{}"] * 2_500_000) + b"]"
"""2.5 million empty objects: 7.5 MB, under the size limit; about 7 KB gzipped."""

GZIPPED_JSON = {"Content-Encoding": "gzip", "Content-Type": "application/json"}


def test_an_answer_of_millions_of_empty_objects_is_refused_as_too_dense_and_not_retried(
    hostile: HostileServer, transport: Transport
) -> None:
    bomb = gzip.compress(EMPTY_OBJECTS, compresslevel=9)
    assert len(bomb) < 40_000
    hostile.on("POST", BATCH_PATH, reply(200, bomb, GZIPPED_JSON))
    with pytest.raises(errors.FoundryAnswerTooDense) as info:
        transport.call(connection(hostile), "get_builds_batch", json_body=[{"buildRid": BUILD_RID}])
    assert str(info.value) == (
        f"POST {BATCH_PATH} to connection 'foundry_default': the answer ({len(EMPTY_OBJECTS)} bytes) holds more "
        f"than {MAX_JSON_VALUES} JSON values, more than any Foundry answer this provider reads, so it was not parsed "
        "and the call is not retried. A proxy or a server that is not Foundry probably answered: check the "
        "connection's host."
    )
    assert len(hostile.requests_to(BATCH_PATH)) == 1


def test_an_answer_too_dense_is_an_answer_too_large_for_every_caller(hostile: HostileServer) -> None:
    hostile.on("POST", BATCH_PATH, reply(200, EMPTY_OBJECTS, {"Content-Type": "application/json"}))
    with pytest.raises(errors.FoundryAnswerTooLarge) as info:
        Transport("requests").call(connection(hostile), "get_builds_batch", json_body=[{"buildRid": BUILD_RID}])
    assert info.value.limit == MAX_JSON_VALUES


def test_a_dense_launch_answer_goes_through_finding_the_run(
    hostile: HostileServer, clock: FakeClock, mocker: Any
) -> None:
    created = {"runId": "r-1", "buildRid": "ri.foundry.main.build.r-1"}
    hostile.on("GET", RUNS_PATH, reply(200, {"data": []}), reply(200, {"data": [created]}))
    hostile.on("POST", LAUNCH_PATH, reply(200, gzip.compress(EMPTY_OBJECTS), GZIPPED_JSON))
    mocker.patch.object(launch_module, "time", clock)
    client = FoundryClient(connection(hostile), retry=RetryPolicy(**FAST_RETRY), sleep=lambda seconds: None)
    assert launch_once(client, STUDIO, sleep=clock.sleep)["run_id"] == "r-1"
    assert len(hostile.requests_to(LAUNCH_PATH)) == 1
