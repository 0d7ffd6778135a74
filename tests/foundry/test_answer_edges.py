"""Answers at the edges of what is read: a 300 is a redirect, not a result; a cut-off body says so in full;
JSON nested too deep is refused whether it nests objects or hides behind a plain value."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.answers import MAX_JSON_DEPTH, UnreadableJson, parse_json
from airflow_provider_modelstudio.foundry.errors import FoundryRedirected, FoundryTransportError
from airflow_provider_modelstudio.foundry.protocol import Attempts, prepare
from airflow_provider_modelstudio.foundry.retry import RetryPolicy

BUILD = "ri.foundry.main.build.b1"
CALL = f"GET /api/v2/orchestration/builds/{BUILD}"


pytestmark = pytest.mark.usefixtures("clock")


def one_attempt() -> Attempts:
    attempts = Attempts(
        prepare("get_build", {"buildRid": BUILD}), RetryPolicy(max_attempts=1), conn_id="c1", can_renew_token=False
    )
    attempts.begin()
    return attempts


def nested_objects(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def nested_lists(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth - 1):
        value = [value]
    return value


def test_a_300_answer_with_a_body_is_refused_as_a_redirect() -> None:
    with pytest.raises(FoundryRedirected) as info:
        one_attempt().answered(300, {"Location": "https://elsewhere.example/x"}, b'{"rid": "other"}')
    assert str(info.value) == (
        f"{CALL} -> 300: redirected to 'https://elsewhere.example/x'. This provider never follows redirects: one "
        "could carry the token or the client secret to another host. Set the connection's host to Foundry's API "
        "hostname (e.g. example.palantirfoundry.com), not the address of a portal, a login page or a proxy; if the "
        "target above is your Foundry, enter its hostname."
    )


def test_a_success_answer_cut_off_mid_json_says_so() -> None:
    with pytest.raises(FoundryTransportError) as info:
        one_attempt().answered(200, {}, b'{"rid": "b1", "sta')
    assert str(info.value) == (
        f"{CALL} to connection 'c1' failed after 1 attempt(s) in 0.0 s: 200 with a body that is not complete JSON. "
        "Check the host and the network path to Foundry, or raise the connection's timeout."
    )


def test_objects_nested_deeper_than_the_limit_are_refused() -> None:
    assert parse_json(json.dumps(nested_objects(MAX_JSON_DEPTH))) == nested_objects(MAX_JSON_DEPTH)
    with pytest.raises(UnreadableJson, match=f"^JSON nested more than {MAX_JSON_DEPTH} levels deep$"):
        parse_json(json.dumps(nested_objects(MAX_JSON_DEPTH + 2)))


@pytest.mark.parametrize("after", [1, "text", None, {}])
def test_nesting_too_deep_is_found_behind_a_plain_value_that_follows_it(after: Any) -> None:
    with pytest.raises(UnreadableJson, match="nested more than"):
        parse_json(json.dumps([nested_lists(MAX_JSON_DEPTH + 2), after]))
    with pytest.raises(UnreadableJson, match="nested more than"):
        parse_json(json.dumps({"deep": nested_objects(MAX_JSON_DEPTH + 2), "after": after}))
