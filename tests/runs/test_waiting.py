"""One wait policy and one failure count for every way of waiting."""

from __future__ import annotations

import pytest

from airflow_provider_modelstudio.foundry.errors import (
    BuildNotFound,
    FoundryConfigError,
    FoundryTransportError,
)
from airflow_provider_modelstudio.runs.errors import PollingFailedError
from airflow_provider_modelstudio.runs.waiting import FailedChecks, WaitPolicy

TRANSIENT = FoundryTransportError("lost", method="GET", path="/p", may_have_reached_server=True)
PERMANENT = BuildNotFound(method="GET", path="/p", status_code=404)


def test_transient_failures_end_the_wait_only_at_the_limit():
    checks = FailedChecks(3, "build b")
    assert checks.failed(TRANSIENT) is None
    assert checks.failed(TRANSIENT) is None
    ending = checks.failed(TRANSIENT)
    assert isinstance(ending, PollingFailedError)
    assert "3 failed check(s) of build b" in str(ending)


def test_a_passed_check_resets_the_count():
    checks = FailedChecks(2, "build b")
    checks.failed(TRANSIENT)
    checks.passed()
    assert checks.failed(TRANSIENT) is None


def test_a_permanent_failure_ends_the_wait_at_once():
    assert FailedChecks(10, "build b").failed(PERMANENT) is PERMANENT


def test_in_the_triggerer_every_failure_counts_against_the_limit_instead():
    checks = FailedChecks(2, "build b")
    assert checks.failed(PERMANENT, all_transient=True) is None
    assert isinstance(checks.failed(PERMANENT, all_transient=True), PollingFailedError)


@pytest.mark.parametrize("value", [0, -1, 2.5, True, "3"])
def test_the_failure_limit_must_be_a_whole_number(value):
    with pytest.raises(FoundryConfigError, match="max_consecutive_failures="):
        WaitPolicy(30, max_consecutive_failures=value)


def test_a_policy_round_trips_through_plain_values():
    policy = WaitPolicy(5, 123.0, 4, 0)
    assert WaitPolicy(**policy.to_dict()) == policy
