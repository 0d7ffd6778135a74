"""An answer that cannot be decoded, or any unexpected failure while reading one, is one typed transient
error on both transports (issue 9, item 8: the transport part)."""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry import answers, errors
from tests.hostile.conftest import BATCH_PATH, BUILD_RID, Transport, connection
from tests.hostile.server import HostileServer, gzipped, reply

BATCH = [{"buildRid": BUILD_RID}]
ANSWER = {"data": {BUILD_RID: {"rid": BUILD_RID, "status": "RUNNING"}}}

UNDECODABLE = {
    "gzip that is not gzip": {"Content-Encoding": "gzip"},
    "deflate that is not deflate": {"Content-Encoding": "deflate"},
    "a coding never asked for": {"Content-Encoding": "br"},
    "two codings": {"Content-Encoding": "gzip, gzip"},
}


@pytest.mark.parametrize("headers", list(UNDECODABLE.values()), ids=list(UNDECODABLE))
def test_an_undecodable_answer_is_retried_like_a_lost_answer(
    hostile: HostileServer, transport: Transport, headers: dict[str, str]
) -> None:
    hostile.on("POST", BATCH_PATH, reply(200, b"\x00garbage\xff" * 20, headers), reply(200, ANSWER))
    assert transport.call(connection(hostile), "get_builds_batch", json_body=BATCH) == ANSWER
    assert len(hostile.requests_to(BATCH_PATH)) == 2


def test_an_answer_undecodable_every_time_ends_as_a_transport_error(
    hostile: HostileServer, transport: Transport
) -> None:
    hostile.on("POST", BATCH_PATH, reply(200, b"not gzip at all", {"Content-Encoding": "gzip"}))
    with pytest.raises(errors.FoundryTransportError) as info:
        transport.call(connection(hostile), "get_builds_batch", json_body=BATCH)
    assert info.value.may_have_reached_server
    assert "gzip answer is corrupt" in str(info.value)
    assert "4 attempt(s)" in str(info.value)


def test_a_gzip_answer_cut_short_is_retried(hostile: HostileServer, transport: Transport) -> None:
    import gzip
    import json

    whole = gzip.compress(json.dumps(ANSWER).encode())
    hostile.on(
        "POST",
        BATCH_PATH,
        reply(200, whole[: len(whole) // 2], {"Content-Encoding": "gzip"}),
        reply(200, ANSWER),
    )
    assert transport.call(connection(hostile), "get_builds_batch", json_body=BATCH) == ANSWER
    assert len(hostile.requests_to(BATCH_PATH)) == 2


def test_compressed_answers_are_decoded(hostile: HostileServer, transport: Transport) -> None:
    import json

    body = json.dumps(ANSWER).encode()
    hostile.on(
        "POST",
        BATCH_PATH,
        gzipped(200, ANSWER),
        reply(200, zlib.compress(body), {"Content-Encoding": "deflate"}),
        reply(200, zlib.compress(body)[2:-4], {"Content-Encoding": "deflate"}),  # raw deflate, no zlib wrapper
    )
    settings = connection(hostile)
    for _ in range(3):
        assert transport.call(settings, "get_builds_batch", json_body=BATCH) == ANSWER
    assert len(hostile.requests_to(BATCH_PATH)) == 3
    assert hostile.seen[0].headers["accept-encoding"] == answers.ACCEPT_ENCODING


def test_an_unexpected_failure_while_reading_is_a_transient_transport_error(
    hostile: HostileServer, transport: Transport, mocker: Any
) -> None:
    hostile.on("POST", BATCH_PATH, reply(200, ANSWER))
    mocker.patch.object(answers.AnswerReader, "feed", side_effect=RuntimeError("surprise"))
    with pytest.raises(errors.FoundryTransportError) as info:
        transport.call(connection(hostile), "get_builds_batch", json_body=BATCH)
    assert "unexpected RuntimeError" in str(info.value)
    assert info.value.may_have_reached_server
    assert len(hostile.requests_to(BATCH_PATH)) == 4
