"""Deeply nested JSON, in success and error answers, is read defensively: a typed error, never a raw
RecursionError (issue 9, item 12; the launch case is in test_launch_answers)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_modelstudio.foundry import errors
from airflow_provider_modelstudio.foundry.answers import MAX_JSON_DEPTH
from tests.hostile.conftest import BUILD_PATH, BUILD_RID, TOKEN_PATH, Transport, connection
from tests.hostile.server import HostileServer, reply

TOO_DEEP_TO_PARSE = b"[" * 100_000 + b"]" * 100_000
JSON = {"Content-Type": "application/json"}


def nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def test_an_error_answer_nested_too_deep_to_parse_is_a_typed_error(
    hostile: HostileServer, transport: Transport
) -> None:
    hostile.on("GET", BUILD_PATH, reply(400, TOO_DEEP_TO_PARSE, JSON))
    with pytest.raises(errors.FoundryBadRequest) as info:
        transport.call(connection(hostile), "get_build", {"buildRid": BUILD_RID})
    assert "not Foundry's JSON error envelope" in str(info.value)


def test_an_error_envelope_with_parameters_nested_too_deep_to_print_is_a_typed_error(
    hostile: HostileServer, transport: Transport
) -> None:
    body = {"errorCode": "NOT_FOUND", "errorName": "BuildNotFound", "parameters": {"buildRid": nested(900)}}
    hostile.on("GET", BUILD_PATH, reply(404, json.dumps(body).encode(), JSON))
    with pytest.raises(errors.FoundryNotFound) as info:
        transport.call(connection(hostile), "get_build", {"buildRid": BUILD_RID})
    assert len(str(info.value)) < 1000


def test_a_success_answer_nested_too_deep_is_retried_as_unreadable(
    hostile: HostileServer, transport: Transport
) -> None:
    hostile.on("GET", BUILD_PATH, reply(200, TOO_DEEP_TO_PARSE, JSON), reply(200, {"rid": BUILD_RID}))
    assert transport.call(connection(hostile), "get_build", {"buildRid": BUILD_RID}) == {"rid": BUILD_RID}
    assert len(hostile.requests_to(BUILD_PATH)) == 2


def test_a_success_answer_nested_deeper_than_the_limit_is_refused_every_time(
    hostile: HostileServer, transport: Transport
) -> None:
    hostile.on("GET", BUILD_PATH, reply(200, json.dumps(nested(MAX_JSON_DEPTH + 1)).encode(), JSON))
    with pytest.raises(errors.FoundryTransportError, match=f"nested more than {MAX_JSON_DEPTH} levels deep"):
        transport.call(connection(hostile), "get_build", {"buildRid": BUILD_RID})


def test_a_token_answer_nested_too_deep_is_an_unreadable_answer(hostile: HostileServer, transport: Transport) -> None:
    hostile.on("POST", TOKEN_PATH, reply(200, TOO_DEEP_TO_PARSE, JSON))
    with pytest.raises(errors.FoundryTransportError, match="not complete JSON"):
        transport.call(connection(hostile, oauth2=True), "get_build", {"buildRid": BUILD_RID})
    assert hostile.requests_to(BUILD_PATH) == []
