"""Planning a retry: the jitter comes from the caller's random generator, and a retry that would end exactly at
``max_elapsed`` still happens."""

from __future__ import annotations

import random

import pytest

from airflow_provider_modelstudio.foundry import protocol
from airflow_provider_modelstudio.foundry.endpoints import ENDPOINTS
from airflow_provider_modelstudio.foundry.protocol import Attempts, Wait, prepare
from airflow_provider_modelstudio.foundry.retry import RetryPolicy, is_retryable, plan_retry

POLICY = RetryPolicy(max_attempts=5, backoff_initial=1.0, backoff_max=8.0, max_elapsed=10.0)


def test_the_backoff_is_drawn_from_the_generator_given() -> None:
    assert plan_retry(POLICY, attempt=2, elapsed=0, rng=random.Random(7)) == POLICY.backoff(2, random.Random(7))


def test_a_retry_ending_exactly_at_max_elapsed_still_happens() -> None:
    assert plan_retry(POLICY, attempt=1, elapsed=6.0, retry_after=4.0, rng=random.Random(1)) == 4.0


def test_attempts_draw_their_backoff_from_their_own_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    class Clock:
        @staticmethod
        def monotonic() -> float:
            return 0.0

    monkeypatch.setattr(protocol, "time", Clock)
    attempts = Attempts(
        prepare("get_build", {"buildRid": "ri.foundry.main.build.b"}),
        POLICY,
        conn_id="c1",
        can_renew_token=False,
        rng=random.Random(3),
    )
    attempts.begin()
    assert attempts.failed("no_answer", "dropped") == Wait(POLICY.backoff(1, random.Random(3)))


def test_an_error_answer_is_not_taken_for_foundrys_own_unless_said() -> None:
    assert not is_retryable(ENDPOINTS["launch_model_studio"], "status", 503, False)
