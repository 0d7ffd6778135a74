"""What one attempt's error answer leads to: a 401 replayed with a new token says so in the log, and an answer
that is not Foundry's envelope is described with the content type it came with."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_modelstudio.foundry import protocol
from airflow_provider_modelstudio.foundry.errors import FoundryServerError
from airflow_provider_modelstudio.foundry.protocol import Attempts, Reauthenticate, prepare
from airflow_provider_modelstudio.foundry.retry import RetryPolicy

BUILD = "ri.foundry.main.build.b1"
CALL = f"GET /api/v2/orchestration/builds/{BUILD}"


def one_attempt(*, oauth: bool = False) -> Attempts:
    attempts = Attempts(
        prepare("get_build", {"buildRid": BUILD}), RetryPolicy(max_attempts=1), conn_id="c1", can_renew_token=oauth
    )
    attempts.begin("a-token")
    return attempts


def test_a_401_replayed_with_a_new_token_is_logged_with_the_call(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=protocol.__name__)
    assert one_attempt(oauth=True).answered(401, {}, b"") == Reauthenticate()
    assert caplog.messages == [f"{CALL} answered 401; fetching a new token and replaying once"]


def test_an_error_page_is_described_with_its_content_type() -> None:
    with pytest.raises(FoundryServerError) as info:
        one_attempt().answered(502, {"Content-Type": "text/plain; charset=utf-8"}, b"upstream down")
    assert info.value.detail == (
        "The answer was not Foundry's JSON error envelope but a body (text/plain; charset=utf-8): 'upstream down'. "
        "A proxy or load balancer in front of Foundry probably answered."
    )


def test_an_error_page_without_a_content_type_says_it_had_none() -> None:
    with pytest.raises(FoundryServerError) as info:
        one_attempt().answered(502, {}, b"upstream down")
    assert info.value.detail.startswith(
        "The answer was not Foundry's JSON error envelope but a body (no content type): 'upstream down'."
    )
