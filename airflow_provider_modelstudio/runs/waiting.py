"""One way of waiting, whichever process waits and on whatever resource: the policy and the failure count.

The worker's loop and the sensors' pokes (:mod:`airflow_provider_modelstudio.waits.worker`) and the triggers
(:mod:`airflow_provider_modelstudio.triggers.resource_wait`) all take a :class:`WaitPolicy` and count failed
checks with a :class:`FailedChecks`, so a wait gives up for the same reasons and after the same number of
failures everywhere. What this module does not do: it does not defer (see
:mod:`airflow_provider_modelstudio.waits.deferral`) and it does not decide what happens to the resource when a
wait gives up.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from airflow_provider_modelstudio.foundry.errors import FoundryConfigError, FoundryError
from airflow_provider_modelstudio.runs.errors import PollingFailedError, is_transient

MAX_CONSECUTIVE_POLL_FAILURES = 10
"""Status checks that may fail in a row (after each one's own retries) before a wait gives up."""


@dataclass(frozen=True, slots=True)
class WaitPolicy:
    """How one wait polls and when it gives up. Plain numbers, so it travels to the triggerer.

    :param poll_interval: seconds between status checks
    :param deadline: UNIX time at which to stop waiting; None waits without limit
    :param max_consecutive_failures: failed checks in a row (each after its own request retries) that end
        the wait
    :param heartbeat: seconds between "still running" log lines at first (see :mod:`.progress`); 0 for none
    """

    poll_interval: float
    deadline: float | None = None
    max_consecutive_failures: int = MAX_CONSECUTIVE_POLL_FAILURES
    heartbeat: float = 60.0

    def __post_init__(self) -> None:
        count = self.max_consecutive_failures
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise FoundryConfigError(
                f"max_consecutive_failures={count!r} must be a whole number of at least 1, e.g. 10."
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def remaining(self) -> float | None:
        """Seconds until the deadline (negative once past), None without one."""
        return None if self.deadline is None else self.deadline - time.time()


class FailedChecks:
    """Consecutive failed checks of one wait.

    :param limit: how many in a row end the wait
    :param what: what is checked, for the message (e.g. ``"build ri.foundry..."``)
    """

    __slots__ = ("count", "limit", "what")

    def __init__(self, limit: int, what: str) -> None:
        self.limit = limit
        self.what = what
        self.count = 0

    def passed(self) -> None:
        self.count = 0

    def failed(self, problem: FoundryError, *, all_transient: bool = False) -> FoundryError | None:
        """Count a failed check; return the error that ends the wait, or None to keep waiting.

        :param problem: what went wrong
        :param all_transient: treat every failure as transient (the triggerer: one bad batch answer must not
            end every wait sharing it)
        """
        self.count += 1
        if not (all_transient or is_transient(problem)):
            return problem
        if self.count >= self.limit:
            return PollingFailedError(f"Stopped waiting after {self.count} failed check(s) of {self.what}: {problem}")
        return None

    def absorb(self, problem: FoundryError) -> None:
        """Count a failed check of a wait in the worker: raise what ends the wait, or return to wait on."""
        ending = self.failed(problem)
        if ending is problem:
            raise problem
        if ending is not None:
            raise ending from problem
