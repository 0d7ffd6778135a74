"""Retry decisions: what may be retried on which endpoint, how long to wait, and when to give up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError
from airflow_provider_modelstudio.foundry.retry import RetryPolicy, is_retryable, parse_retry_after, plan_retry

LAUNCH = ENDPOINTS["launch_model_studio"]
GET_BUILD = ENDPOINTS["get_build"]
CANCEL = ENDPOINTS["cancel_build"]
GET_BATCH = ENDPOINTS["get_builds_batch"]
TOKEN = ENDPOINTS["oauth2_token"]


def test_launch_config_version_creation_and_promote_are_the_only_endpoints_that_are_not_idempotent() -> None:
    assert [e.name for e in ENDPOINTS.values() if not e.idempotent] == [
        "launch_model_studio",
        "create_config_version",
        "promote_model_version",
    ]


WRITES = [e for e in ENDPOINTS.values() if not e.idempotent]


@pytest.mark.parametrize("endpoint", WRITES, ids=lambda e: e.name)
@pytest.mark.parametrize("status", [429, 503])
def test_qos_answers_to_a_write_are_never_retried_blindly(endpoint: Any, status: int) -> None:
    assert not is_retryable(endpoint, "status", status, do_not_retry=False)


@pytest.mark.parametrize("endpoint", [GET_BUILD, GET_BATCH, CANCEL, TOKEN], ids=lambda e: e.name)
@pytest.mark.parametrize("status", [429, 503])
def test_qos_answers_are_retried_on_idempotent_endpoints(endpoint: Any, status: int) -> None:
    assert is_retryable(endpoint, "status", status, do_not_retry=False)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS.values()), ids=list(ENDPOINTS))
@pytest.mark.parametrize("status", [429, 503])
def test_qos_answers_with_do_not_retry_hint_are_not_retried(endpoint: Any, status: int) -> None:
    assert not is_retryable(endpoint, "status", status, do_not_retry=True)


@pytest.mark.parametrize("endpoint", [GET_BUILD, GET_BATCH, CANCEL, TOKEN], ids=lambda e: e.name)
@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_retried_on_idempotent_endpoints(endpoint: Any, status: int) -> None:
    assert is_retryable(endpoint, "status", status, do_not_retry=False)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_not_retried_blindly_on_launch(status: int) -> None:
    assert not is_retryable(LAUNCH, "status", status, do_not_retry=False)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS.values()), ids=list(ENDPOINTS))
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 501])
def test_client_errors_are_never_retried(endpoint: Any, status: int) -> None:
    assert not is_retryable(endpoint, "status", status, do_not_retry=False)


@pytest.mark.parametrize("endpoint", list(ENDPOINTS.values()), ids=list(ENDPOINTS))
def test_requests_that_never_left_are_always_retried(endpoint: Any) -> None:
    assert is_retryable(endpoint, "not_sent", None, do_not_retry=False)


def test_lost_answers_are_retried_on_idempotent_endpoints_only() -> None:
    assert is_retryable(GET_BUILD, "no_answer", None, do_not_retry=False)
    assert is_retryable(CANCEL, "no_answer", None, do_not_retry=False)
    assert not any(is_retryable(write, "no_answer", None, do_not_retry=False) for write in WRITES)


# Retry-After -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), (" 2.5 ", 2.5), ("0", 0.0), ("-3", 0.0)])
def test_retry_after_in_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_as_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    seconds = parse_retry_after(format_datetime(when, usegmt=True))
    assert seconds is not None
    assert 100 < seconds <= 120


def test_retry_after_date_in_the_past_means_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "Someday, 99 Foo 2015"])
def test_retry_after_absent_or_unreadable_is_none(value: str | None) -> None:
    assert parse_retry_after(value) is None


# Bounds and backoff ------------------------------------------------------------------------------------


def test_plan_stops_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3, backoff_initial=0.1, backoff_max=1, max_elapsed=100)
    assert plan_retry(policy, attempt=1, elapsed=0) is not None
    assert plan_retry(policy, attempt=2, elapsed=0) is not None
    assert plan_retry(policy, attempt=3, elapsed=0) is None


def test_plan_stops_when_the_wait_would_pass_max_elapsed() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_initial=1, backoff_max=1, max_elapsed=10)
    assert plan_retry(policy, attempt=1, elapsed=8.0) is not None
    assert plan_retry(policy, attempt=1, elapsed=9.6) is None


def test_plan_honours_retry_after_longer_than_the_backoff() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_initial=0.01, backoff_max=0.05, max_elapsed=100)
    assert plan_retry(policy, attempt=1, elapsed=0, retry_after=3.0) == 3.0


def test_plan_keeps_the_backoff_when_retry_after_is_shorter() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_initial=2, backoff_max=2, max_elapsed=100)
    delay = plan_retry(policy, attempt=1, elapsed=0, retry_after=0.0)
    assert delay is not None and 1.0 <= delay <= 2.0


def test_plan_gives_up_when_retry_after_passes_max_elapsed() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_initial=0.01, backoff_max=0.05, max_elapsed=5)
    assert plan_retry(policy, attempt=1, elapsed=0, retry_after=60.0) is None


def test_backoff_ceiling_doubles_per_attempt_up_to_backoff_max() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_initial=1, backoff_max=5, max_elapsed=1000)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 5), (5, 5), (9, 5)]:
        for _ in range(50):
            delay = policy.backoff(attempt, rng)
            assert ceiling / 2 <= delay <= ceiling


def test_backoff_grows_on_average() -> None:
    policy = RetryPolicy(max_attempts=10, backoff_initial=1, backoff_max=100, max_elapsed=1000)
    rng = random.Random(1)
    means = [sum(policy.backoff(a, rng) for _ in range(200)) / 200 for a in (1, 2, 3, 4)]
    assert means == sorted(means)


def test_backoff_is_jittered() -> None:
    policy = RetryPolicy()
    rng = random.Random(3)
    assert len({policy.backoff(2, rng) for _ in range(20)}) > 1


def test_backoff_is_reproducible_with_a_seed() -> None:
    policy = RetryPolicy()
    assert policy.backoff(3, random.Random(42)) == policy.backoff(3, random.Random(42))


# Policy values -----------------------------------------------------------------------------------------


def test_policy_from_dict_round_trips() -> None:
    fields = {"max_attempts": 4, "backoff_initial": 0.01, "backoff_max": 0.05, "max_elapsed": 5}
    policy = RetryPolicy.from_value(fields)
    assert policy.to_dict() == fields
    assert RetryPolicy.from_value(policy.to_dict()) == policy


def test_policy_from_none_is_the_default_and_a_policy_is_kept() -> None:
    assert RetryPolicy.from_value(None) == RetryPolicy()
    policy = RetryPolicy(max_attempts=2)
    assert RetryPolicy.from_value(policy) is policy


def test_policy_refuses_unknown_settings_naming_them() -> None:
    with pytest.raises(FoundryConfigError, match="max_retries"):
        RetryPolicy.from_value({"max_retries": 3})


@pytest.mark.parametrize(
    "fields",
    [
        {"max_attempts": 0},
        {"max_attempts": 2.5},
        {"max_attempts": True},
        {"backoff_initial": -1},
        {"backoff_max": "1"},
        {"max_elapsed": 0},
    ],
)
def test_policy_refuses_non_positive_or_non_numeric_values(fields: dict[str, Any]) -> None:
    with pytest.raises(FoundryConfigError, match=next(iter(fields))):
        RetryPolicy.from_value(fields)


def test_policy_refuses_other_types() -> None:
    with pytest.raises(FoundryConfigError, match="must be a dict"):
        RetryPolicy.from_value(lambda: 3)  # type: ignore[arg-type]
