"""When to retry a request, and how long to wait first.

A :class:`RetryPolicy` is plain numbers, so it survives trigger serialisation. :func:`plan_retry` is the
single decision both transports ask after every failed attempt.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from time import time
from typing import Any, Literal

from airflow_provider_modelstudio.foundry.endpoints import Endpoint
from airflow_provider_modelstudio.foundry.errors import FoundryConfigError

QOS_STATUSES = frozenset({429, 503})
"""Foundry's quality-of-service answers: worth repeating on idempotent endpoints, after a backoff."""

SERVER_STATUSES = frozenset({500, 502, 504})
"""Server failures after which a request may or may not have been processed."""

FailureKind = Literal["status", "not_sent", "no_answer"]
"""``status``: an HTTP error status; ``not_sent``: the request never left (connect failure or connect
timeout); ``no_answer``: sent, but the answer was lost (read timeout, dropped connection)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying one request.

    :param max_attempts: attempts in total, the first included
    :param backoff_initial: seconds; the ceiling of the first random backoff
    :param backoff_max: seconds; the ceiling of any single wait
    :param max_elapsed: seconds; no retry starts after this much time has passed since the first attempt
    """

    max_attempts: int = 5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_elapsed: float = 120.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise FoundryConfigError(f"retry setting {name}={value!r} must be a positive number")
        if not isinstance(self.max_attempts, int):
            raise FoundryConfigError(f"retry setting max_attempts={self.max_attempts!r} must be a whole number")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_value(cls, value: RetryPolicy | dict[str, Any] | None) -> RetryPolicy:
        """Accept a policy, a dict of its fields (unknown keys refused), or None for the defaults."""
        if value is None:
            return cls()
        if isinstance(value, RetryPolicy):
            return value
        if isinstance(value, dict):
            unknown = set(value) - set(cls.__dataclass_fields__)
            if unknown:
                raise FoundryConfigError(
                    f"unknown retry setting(s) {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}"
                )
            return cls(**value)
        raise FoundryConfigError(f"retry={value!r} must be a dict of retry settings or a RetryPolicy")

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff with jitter before attempt ``attempt + 1``: between half and all of the ceiling."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** (attempt - 1))
        return (rng or random).uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def is_retryable(endpoint: Endpoint[Any], kind: FailureKind, status: int | None, do_not_retry: bool) -> bool:
    """Whether a failure of this kind may be retried on this endpoint at all.

    Requests that never left are always safe to repeat. A non-idempotent endpoint (a write Foundry cannot
    deduplicate) is repeated for nothing else: every other failure, a QoS answer in Foundry's own envelope
    included, may have come after the write, and the caller reconciles it (see :mod:`.writes`). On
    idempotent endpoints QoS answers (429, 503) are repeated unless the server asks not to, and so are
    server errors and lost answers.
    """
    if kind == "not_sent":
        return True
    if not endpoint.idempotent:
        return False
    if kind == "no_answer":
        return True
    if status in QOS_STATUSES:
        return not do_not_retry
    return status in SERVER_STATUSES


def plan_retry(
    policy: RetryPolicy,
    *,
    attempt: int,
    elapsed: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next attempt, or None when the budget is spent.

    :param policy: the bounds
    :param attempt: how many attempts were made so far (1 after the first)
    :param elapsed: seconds since the first attempt started
    :param retry_after: the server's ``Retry-After``, honoured when present
    """
    if attempt >= policy.max_attempts:
        return None
    delay = policy.backoff(attempt, rng)
    if retry_after is not None:
        delay = max(delay, retry_after)
    if elapsed + delay > policy.max_elapsed:
        return None
    return delay
